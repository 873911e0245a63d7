"""Fixed-seed equality across a code change: the same benches run by two checkouts give the same
``results.csv`` values.

    python benchmarks/fixed_seed.py run OUT            # run every bench below with the ganzoo on sys.path
    python benchmarks/fixed_seed.py compare OLD NEW    # every (run, step, metric) value equal, or the differences

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
# two G updates from the D update's z (PacGAN's Stacked MNIST update)
BENCHES: dict[str, list[str]] = {
    "default": [],
    "pacgan-ring": ["--preset", "pacgan-ring", "--budget", "300steps", "--seeds", "2"],
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
}
KEYS = ["run_id", "step", "metric"]
IGNORED = {"device_seconds"}


def run(out: Path) -> None:
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
        for name, rc in pool.map(one, BENCHES):
            print(f"{name}: exit {rc}", flush=True)


def compare(old: Path, new: Path) -> int:
    bad = 0
    for name in BENCHES:
        a, b = (pd.read_csv(d / name / "results.csv").sort_values(KEYS).reset_index(drop=True) for d in (old, new))
        cols = [c for c in a.columns if c not in IGNORED]
        a, b = a[cols], b[[c for c in cols if c in b.columns]]
        if a.shape != b.shape:
            print(f"{name}: {a.shape} rows x columns before, {b.shape} after")
            bad += 1
            continue
        diff = ~((a == b) | (a.isna() & b.isna()))
        n = int(diff.any(axis=1).sum())
        values = a[a.metric != "status"]
        print(f"{name}: {len(a)} rows ({len(values)} values), {n} differ")
        if n:
            bad += 1
            rows = diff.any(axis=1)
            print(
                pd.concat([a[rows][KEYS + ["value"]], b[rows][["value"]].add_suffix("_new")], axis=1)
                .head(20)
                .to_string()
            )
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        run(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
