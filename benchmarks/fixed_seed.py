"""Fixed-seed equality across a code change: the same benches run by two checkouts give the same
``results.csv`` values.

    python benchmarks/fixed_seed.py run OUT [NAME ...]          # the benches below (or those named), with the ganzoo on sys.path
    python benchmarks/fixed_seed.py compare OLD NEW [NAME ...]  # every (run, step, metric) value equal, or the differences

Run it once from a frozen checkout of the old commit (``git worktree add``) and once from the new, at one
torch thread per trial (values depend on the thread count). ``compare`` ignores the columns that are not
results (device seconds, the code fingerprint in ``features_sha256`` is a feature digest and is kept).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

# name -> bench options: the default bench, PacGAN's 2-D preset (pack 1 to 4, simultaneous update), WGAN-GP on an
# MLP and a layer-norm DCGAN, the translation variants, and DCGAN with packing, G per noise batch, U[-1, 1] noise,
# two G updates from the D update's z (PacGAN's Stacked MNIST update), DCGAN on MNIST's idx files
BENCHES: dict[str, list[str]] = {
    "default": [],
    # evaluated at the two ends, as a shortened preset was before it kept the preset's number of evaluation points
    "pacgan-ring": ["--preset", "pacgan-ring", "--budget", "300steps", "--eval-every", "300steps", "--seeds", "2"],
    "wgan-gp": [
        "--variants",
        "gan,dcgan",
        "--divergence",
        "wasserstein-gp",
        "--set",
        "dcgan.d_norm=layer",
        "--budget",
        "300steps",
    ],
    "translation": ["--variants", "cyclegan,stargan", "--dataset", "digits-domains", "--budget", "150steps"],
    "same-z": [
        "--variants",
        "pacdcgan2=dcgan",
        "--budget",
        "200steps",
        "--set",
        "pacdcgan2.pack=2",
        "--set",
        "pacdcgan2.g_per_noise_batch=true",
        "--set",
        "pacdcgan2.z_dist=uniform",
        "--set",
        "pacdcgan2.same_z=true",
        "--set",
        "pacdcgan2.g_steps=2",
        "--set",
        "pacdcgan2.g_bn_momentum=0.05",
    ],
    # MNIST read from its idx files (held as uint8 pixels since 95b80b2, as float32 before): the shared test split
    "mnist": [
        "--dataset",
        "mnist",
        "--data-dir",
        str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"),
        "--variants",
        "dcgan",
        "--budget",
        "100steps",
    ],
}
KEYS = ["run_id", "step", "metric"]
IGNORED = {"device_seconds"}


def run(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def one(name: str) -> tuple[str, int]:
        cmd = [
            sys.executable,
            "-c",
            "from ganzoo.cli import main; main()",
            "bench",
            *BENCHES[name],
            "--threads",
            "1",
            "--out",
            str(out / name),
            "--force",
        ]
        with open(out / f"{name}.log", "w") as log:
            return name, subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)

    with ThreadPoolExecutor(2) as pool:
        for name, rc in pool.map(one, names):
            print(f"{name}: exit {rc}", flush=True)


def compare(old: Path, new: Path, names: list[str]) -> int:
    """Rows matched by run, step and metric: values that differ, and rows only one side has."""
    bad = 0
    for name in names:
        a, b = (pd.read_csv(d / name / "results.csv") for d in (old, new))
        cols = [c for c in a.columns if c not in IGNORED and c not in KEYS and c in b.columns]
        both = a.merge(b, on=KEYS, how="outer", suffixes=("", "_new"), indicator=True)
        only = both[both["_merge"] != "both"]
        shared = both[both["_merge"] == "both"]
        differ = pd.Series(False, index=shared.index)
        for c in cols:
            x, y = shared[c], shared[f"{c}_new"]
            differ |= ~((x == y) | (x.isna() & y.isna()))
        print(f"{name}: {len(shared)} rows on both sides, {int(differ.sum())} differ, {len(only)} on one side only")
        if differ.any() or len(only):
            bad += 1
            print(shared[differ][[*KEYS, "value", "value_new"]].head(20).to_string())
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        run(Path(sys.argv[2]), sys.argv[3:] or list(BENCHES))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:] or list(BENCHES)))
    else:
        sys.exit(__doc__)
