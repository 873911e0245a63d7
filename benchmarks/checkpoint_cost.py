"""What resumability costs: seconds and megabytes per checkpoint for each trial of the default bench
(every built-in variant that fits ``digits``, 2000 steps, a checkpoint at each of the 5 evaluation points),
next to the bench's wall time.

    python benchmarks/checkpoint_cost.py

Checkpoint time is measured by wrapping the trial's atomic save (``torch.save`` to memory, write, fsync,
rename), so it includes the disk; the driver then copies the file into ``--out`` (not counted here, one
more write of the same size); the share is of the whole bench's wall time, caches warm.
"""

from __future__ import annotations

import argparse
import platform
import re
import tempfile
import time
from pathlib import Path

import torch

from ganzoo import trial
from ganzoo.config import BenchConfig
from ganzoo.runner import run_bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="2000steps")
    args = ap.parse_args()
    saves: list[tuple[str, float, int]] = []
    original = trial.atomic_torch_save

    def timed_save(obj, path):
        t0 = time.perf_counter()
        original(obj, path)
        if Path(path).name == trial.CHECKPOINT:  # the trial's own folder is ganzoo-<run_id>-<random>
            run = re.sub(r"^ganzoo-(.*)-[^-]+$", r"\1", Path(path).parent.name)
            saves.append((run, time.perf_counter() - t0, Path(path).stat().st_size))

    trial.atomic_torch_save = timed_save
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_bench(BenchConfig(out=Path(tmp) / "warm", budget="2steps"))  # classifier and features cached
            saves.clear()
            t0 = time.perf_counter()
            run_bench(BenchConfig(out=Path(tmp) / "b", budget=args.budget))
            wall = time.perf_counter() - t0
    finally:
        trial.atomic_torch_save = original
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}\n"
    )
    print("| trial | checkpoints | MB each | ms each (mean) |\n| --- | --- | --- | --- |")
    for run in dict.fromkeys(r for r, _, _ in saves):
        mine = [(s, b) for r, s, b in saves if r == run]
        print(f"| {run} | {len(mine)} | {mine[-1][1] / 1e6:.2f} | {1000 * sum(s for s, _ in mine) / len(mine):.0f} |")
    total = sum(s for _, s, _ in saves)
    print(
        f"\nbench wall time {wall:.1f} s; all {len(saves)} checkpoints {total:.2f} s ({100 * total / wall:.1f}%), "
        f"{sum(b for _, _, b in saves) / 1e6:.1f} MB written"
    )


if __name__ == "__main__":
    main()
