"""What evaluation costs: seconds per metric on 10,000 generated samples, and the share of a default
`ganzoo bench`'s wall time spent evaluating (goal: under 10%).

    python benchmarks/metrics_cost.py                                  # digits (1,797 real images)
    python benchmarks/metrics_cost.py --data-dir ../shared/data/mnist  # MNIST test split (10,000 real)
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from ganzoo import Samples, registry, trial
from ganzoo.config import BenchConfig, default_cache_dir
from ganzoo.device import resolve_device
from ganzoo.metrics import fidelity as F
from ganzoo.runner import run_bench


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def metric_costs(dataset: str, data_dir: Path | None, n: int, device: torch.device) -> dict[str, float]:
    data = registry.datasets.get(dataset).load(name=dataset, data_dir=data_dir, split="auto", download=False)
    cache = default_cache_dir()
    fid_metric, setup = timed(
        lambda: registry.metrics.get("fidelity")(data=data, device=device, cache_dir=cache, max_samples=n)
    )
    classes = registry.metrics.get("classes")(data=data, device=device, cache_dir=cache)
    fake = torch.tanh(torch.randn(n, *data.info.shape, generator=torch.Generator().manual_seed(0)))
    feats, t_extract = timed(lambda: fid_metric.space.extract(fake, device))
    real, feats = fid_metric.ref.features32, feats.float()  # as FidelityMetrics.compute does for all but FID
    costs = {
        "setup (classifier + real features, cached afterwards)": setup,
        "feature extraction": t_extract,
        "fid": timed(
            lambda: F.fid_statistics_to_metric(
                F.fid_features_to_statistics(feats.double()), fid_metric.ref.stats, False
            )
        )[1],
        "kid": timed(
            lambda: F.kid_features_to_metric(
                feats,
                real,
                kid_subset_size=min(1000, len(real)),
                kid_subsets=F.KID_SUBSETS,
                verbose=False,
                rng_seed=2020,
            )
        )[1],
        "precision/recall": timed(
            lambda: F.prc_features_to_metric(
                feats.to(device), real.to(device), save_cpu_ram=len(feats) > 5000, verbose=False
            )
        )[1],
        "density/coverage": timed(
            lambda: F.density_coverage(
                fid_metric.real.to(device), feats.double().to(device), real_radii=fid_metric.ref.radii
            )
        )[1],
        "fidelity metric, all of the above per evaluation": timed(lambda: fid_metric.compute(Samples(fake)))[1],
        "classes (covered, KL, class score)": timed(lambda: classes.compute(Samples(fake)))[1],
    }
    ring = registry.datasets.get("ring8").load(name="ring8", data_dir=None, split="auto", download=False)
    modes = registry.metrics.get("modes")(data=ring, device=device, cache_dir=cache)
    costs["modes (ring8, 10k points)"] = timed(lambda: modes.compute(Samples(torch.randn(n, 2))))[1]
    return {
        "dataset": f"{data.name}/{data.split} ({min(len(data), n)} real)",
        "generated": n,
        **{k: round(v, 3) for k, v in costs.items()},
    }


def bench_share(device: str) -> dict[str, float]:
    """Wall time of the default bench, split into evaluation, training and the rest."""
    spent = {"evaluation": 0.0}
    original = trial.evaluate

    def counting(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["evaluation"] += time.perf_counter() - t0

    trial.evaluate = counting
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_bench(BenchConfig(out=Path(tmp) / "b", device=device))  # warm the caches
            spent["evaluation"] = 0.0
            df, wall = timed(lambda: run_bench(BenchConfig(out=Path(tmp) / "c", device=device)).frame)
    finally:
        trial.evaluate = original
    training = float(df[df.metric == "status"]["device_seconds"].sum())
    return {
        "wall_s": round(wall, 1),
        "training_s": round(training, 1),
        "evaluation_s": round(spent["evaluation"], 1),
        "evaluation_share": round(spent["evaluation"] / wall, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default=None, help="digits, or mnist when --data-dir is given")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = resolve_device(args.device)
    dataset = args.dataset or ("mnist" if args.data_dir else "digits")
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
        if device.type == "cpu"
        else torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "seconds_per_evaluation": metric_costs(dataset, args.data_dir, args.samples, device),
        "default_bench": bench_share(str(device)),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
