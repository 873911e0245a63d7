"""Wall time of the same bench with 1 and 2 local workers and with Ray on a local instance: the ratio to
1 worker is the figure (goal: >= 1.6x with 2 workers on 2 cores), and the fixed cost per trial of the pool
and of Ray (worker start-up, data and metric loading, shipping files back), from a 1-step bench.

Two baselines, because "1 worker" means two things on a machine with few cores: the same pool with one
worker (1 thread per trial, as its 2 workers have: the executor's own scaling, identical results) and
the default in-process executor, whose one trial uses every core (2 threads: what a user gains by
switching).

    python benchmarks/scaling.py --budget 3000steps
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from ganzoo.config import BenchConfig
from ganzoo.runner import run_bench

SETUPS = {
    "in-process, 1 trial at a time, 2 threads": {"workers": 1, "threads": 2},
    "local pool, 1 worker, 1 thread": {"workers": 1, "threads": 1, "executor": "pool"},
    "local pool, 2 workers, 1 thread each": {"workers": 2, "threads": 1},
    "Ray, 2 tasks in flight, 1 thread each": {"executor": "ray", "workers": 2, "threads": 1},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="3000steps")
    ap.add_argument("--variants", default="gan,dcgan")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true", help="leave out the Ray row (its start-up is Ray's own)")
    ap.add_argument(
        "--cold",
        type=int,
        default=0,
        metavar="N",
        help="only time a 1-step bench with 2 workers on an empty cache, N times (the driver trains the classifier)",
    )
    args = ap.parse_args()
    setups = {
        k: v
        for k, v in SETUPS.items()
        if v.get("executor") != "ray" or (importlib.util.find_spec("ray") and not args.no_ray)
    }
    if args.cold:
        base = dict(variants=args.variants.split(","), seeds=list(range(args.seeds)), budget="1steps", workers=2)
        for i in range(args.cold):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                run_bench(BenchConfig(**base, out=Path(tmp) / "out", cache_dir=Path(tmp) / "cache"))
                print(f"cold cache, 1-step bench, 2 workers, run {i + 1}: {time.perf_counter() - t0:.1f} s")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(variants=args.variants.split(","), seeds=list(range(args.seeds)))
        run_bench(BenchConfig(**base, budget="2steps", out=Path(tmp) / "warm"))  # classifier and features cached
        for label, extra in setups.items():
            times = {}
            for budget in ("1steps", args.budget):
                t0 = time.perf_counter()
                run_bench(
                    BenchConfig(**base, budget=budget, out=Path(tmp) / f"{label}-{budget}".replace(" ", "_"), **extra)
                )
                times[budget] = time.perf_counter() - t0
            rows.append((label, times["1steps"], times[args.budget]))
    trials = len(args.variants.split(",")) * args.seeds
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; "
        f"{trials} trials ({args.variants} x {args.seeds} seeds), {args.budget} each\n"
    )
    print(
        f"| executor | wall s, {args.budget} | vs in-process | vs pool with 1 worker | wall s, 1-step bench (fixed cost) |\n"
        "| --- | --- | --- | --- | --- |"
    )
    for label, fixed, wall in rows:
        print(f"| {label} | {wall:.1f} | {rows[0][2] / wall:.2f}x | {rows[1][2] / wall:.2f}x | {fixed:.1f} |")


if __name__ == "__main__":
    main()
