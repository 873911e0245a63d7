"""Steps per second of the two update schemes on PacGAN's 2-D networks (``pacgan-ring``'s GAN and PacGAN4):
``alternating`` (D update, then G update, each with its own forward pass) against ``simultaneous`` (one
forward pass, both gradients, both steps), trials interleaved in one process so the machine's swings hit
both alike; the ratio is of the medians.

    python benchmarks/update_schemes.py --steps 200 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ganzoo import presets
from ganzoo.data import BatchSampler
from ganzoo.factory import create_variant, load_data
from ganzoo.plan import plan
from ganzoo.trainer import Trainer


def steps_per_second(label: str, update: str, steps: int, folder: Path) -> float:
    cfg = presets.get("pacgan-ring").config(
        out=folder, variants=[label], seeds=[0], settings={label: {"update": update}}, force=True
    )
    p = plan(cfg)
    torch.manual_seed(0)
    built = create_variant(p.runs[0].build, p.info)
    trainer = Trainer(built.variant, BatchSampler(load_data(cfg), seed=0, device=torch.device("cpu")), built.training)
    for _ in range(10):  # warm-up
        trainer.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} torch thread(s), "
        f"torch {torch.__version__}\n"
    )
    folder = Path(tempfile.mkdtemp(prefix="ganzoo-updates-"))
    print("| variant | alternating steps/s | simultaneous steps/s | ratio (medians) |\n| --- | --- | --- | --- |")
    for label in ("gan", "pacgan4"):
        rates: dict[str, list[float]] = {"alternating": [], "simultaneous": []}
        for _ in range(args.repeats):
            for update in rates:
                rates[update].append(steps_per_second(label, update, args.steps, folder / label))
        alt, sim = (statistics.median(rates[u]) for u in ("alternating", "simultaneous"))
        cells = [", ".join(f"{r:.1f}" for r in rates[u]) for u in ("alternating", "simultaneous")]
        print(f"| {label} | {cells[0]} | {cells[1]} | **{sim / alt:.2f}** |")


if __name__ == "__main__":
    main()
