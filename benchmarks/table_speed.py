"""``ganzoo table`` on a large results file: a synthetic CSV (7,700 runs, about 100 MB: 5 evaluation
points x 12 metrics each, plus status rows), timed as the user runs it (``ganzoo table FILE`` in a fresh
process: interpreter, imports, checks, reading and tabling) with its peak memory, and the library's read
and table steps alone beside it. Target: under 10 s and 500 MB.

    python benchmarks/table_speed.py --runs 7700
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo import report
from ganzoo.results import COLUMNS, read_results

METRICS = [
    "fid",
    "kid",
    "precision",
    "recall",
    "density",
    "coverage",
    "classes_covered",
    "class_kl",
    "class_score",
    "loss_d",
    "loss_g",
    "divergence",
]


def synthetic(runs: int, points: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    variants = [f"v{i}" for i in range(20)]
    run_ids = np.repeat(np.arange(runs), points * len(METRICS))
    df = pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in run_ids],
            "variant": [variants[i % 20] for i in run_ids],
            "divergence": "nonsaturating",
            "dataset": "digits",
            "split": "all",
            "seed": run_ids // 20,
            "step": np.tile(np.repeat(np.arange(points) * 500, len(METRICS)), runs),
            "images_seen": 0,
            "device_seconds": 0.0,
            "metric": np.tile(METRICS, runs * points),
            "value": rng.random(len(run_ids)),
            "detail": "",
            "features": "classifier",
            "features_sha256": "0123456789abcdef",
            "reference": "digits/all, 898 held out from the feature classifier (trained on the other 899)",
            "reference_images": 898,
            "generated_images": 898,
            "resize": "none",
            "budget": "2000steps",
            "settings": "",
        }
    )
    df["images_seen"] = df["step"] * 64
    df["device_seconds"] = df["step"] * 0.01
    status = df.groupby("run_id", sort=False).tail(1).assign(metric="status", value=1.0, detail="ok")
    return pd.concat([df, status], ignore_index=True)[COLUMNS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7_700)
    args = ap.parse_args()
    ganzoo = shutil.which("ganzoo") or os.path.join(os.path.dirname(sys.executable), "ganzoo")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.csv"
        synthetic(args.runs).to_csv(path, index=False)
        size = path.stat().st_size / 1e6
        c0 = time.perf_counter()
        rc = subprocess.run([ganzoo, "table", str(path), "--format", "csv"], stdout=subprocess.DEVNULL).returncode
        command_s = time.perf_counter() - c0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the only child: that command
        t0 = time.perf_counter()
        df = read_results(path)
        t1 = time.perf_counter()
        t = report.table(df)
        t2 = time.perf_counter()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, pandas {pd.__version__}")
    print(f"{args.runs} runs, {len(df)} rows, {size:.0f} MB")
    print(f"the command, `ganzoo table FILE --format csv`: {command_s:.1f} s, peak {peak_mb:.0f} MB, exit {rc}")
    print(f"in-process: read {t1 - t0:.1f} s, table {t2 - t1:.1f} s, total {t2 - t0:.1f} s ({len(t)} table rows)")


if __name__ == "__main__":
    main()
