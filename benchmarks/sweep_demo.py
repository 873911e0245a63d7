"""A Lucic-style sweep that runs here: variants x N settings sampled from ``lucic-wide`` on an offline dataset, on the
local pool, then the best setting of each variant, the best-among-k figure and the box plot (benchmarks/figures/).

    python benchmarks/sweep_demo.py --variants gan,fgan,ebgan --samples 20 --budget 1000steps --workers 2 --out results/sweep-ring8

It prints the machine it ran on, the wall time, the best setting of each variant by each of ``--table-metrics``
(``ganzoo table --metrics M``) and where the figure went: every number in benchmarks/README.md's sweep section.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def ganzoo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], text=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="gan,fgan,ebgan")
    ap.add_argument("--dataset", default="ring8")
    ap.add_argument("--metrics", default="modes")
    ap.add_argument("--space", default="lucic-wide")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--budget", default="1000steps")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("results/sweep-ring8"))
    ap.add_argument("--figure", type=Path, default=HERE / "figures" / "sweep-ring8.png")
    ap.add_argument("--table-metrics", default="modes,hq_share", help="print the best setting by each of these metrics")
    ap.add_argument("--resume", action="store_true", help="continue a sweep the command was stopped in")
    args = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, python {platform.python_version()}")
    start = time.time()
    if args.resume:
        run = ganzoo("bench", "--resume", str(args.out))
    else:
        run = ganzoo(
            "bench",
            "--sweep",
            args.space,
            "--samples",
            str(args.samples),
            "--sweep-seed",
            str(args.seed),
            "--variants",
            args.variants,
            "--dataset",
            args.dataset,
            "--metrics",
            args.metrics,
            "--budget",
            args.budget,
            "--executor",
            "pool",
            "--workers",
            str(args.workers),
            "--threads",
            "1",
            "--out",
            str(args.out),
        )
    print(f"sweep: exit {run.returncode} in {time.time() - start:.0f} s")
    if run.returncode not in (0, 1):
        sys.exit(run.stderr[-3000:])
    for metric in args.table_metrics.split(","):  # the best setting by each metric: they need not agree
        print(f"best by final {metric}:")
        print(ganzoo("table", str(args.out), "--metrics", metric, "--format", "markdown").stdout)
    figure = ganzoo("plot", str(args.out), "--sweep", "--out", str(args.figure))
    print(figure.stdout.strip() or figure.stderr[-2000:])


if __name__ == "__main__":
    main()
