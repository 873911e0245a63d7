"""Evaluation: the metrics a bench computes, set up once on the real data, then computed on generated
samples from fixed noise at every evaluation point of every trial, with a sample picture beside them.

Evaluation runs under a forked RNG, so it never changes a trial's training trajectory: the numbers do
not depend on the schedule, on cache hits, or on where a trial was resumed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import registry
from ganzoo.data import Data
from ganzoo.metrics.base import EvalOptions, Metric, Samples
from ganzoo.metrics.features import FeatureSpaceError, inception_space
from ganzoo.plan import BenchInputError
from ganzoo.samples import save_image_grid, save_point_scatter
from ganzoo.translation import evaluate_translation
from ganzoo.variant import Variant


def prepare_metrics(data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None) -> dict[str, Metric]:
    """Every installed metric that applies to the dataset, set up (classifiers trained, real features
    cached). Runs before anything is written, so a metric that cannot be set up stops the bench early."""
    out = {}
    if options is not None and options.features == "inception":  # missing weights stop the bench before any classifier trains
        try:
            inception_space(options.inception_weights, cache_dir)
        except FeatureSpaceError as exc:
            raise BenchInputError(str(exc)) from None
    for entry in registry.metrics.entries():
        if entry.error is None and entry.obj.applies_to(data.info):
            try:
                out[entry.name] = entry.obj(data=data, device=device, cache_dir=cache_dir, options=options)
            except FeatureSpaceError as exc:
                raise BenchInputError(str(exc)) from None
    return out



def evaluate(variant: Variant, data: Data, metrics: dict[str, Metric], seed: int, run_dir: Path, step: int, title: str) -> dict[str, tuple[float, dict]]:
    """Metrics on generated samples from fixed noise (the same z at every point of a run).

    Runs under a forked RNG: evaluation (and whatever torch-fidelity seeds inside) must not change
    the training trajectory, or the numbers would depend on the schedule and on cache hits."""
    devices = [variant.device] if variant.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        return _evaluate_now(variant, data, metrics, seed, run_dir, step, title)


def _evaluate_now(variant: Variant, data: Data, metrics: dict[str, Metric], seed: int, run_dir: Path, step: int, title: str) -> dict[str, tuple[float, dict]]:
    if variant.translates:
        return evaluate_translation(variant, data, metrics, seed, run_dir, step)
    n = max([m.num_samples for m in metrics.values()] + [64])
    gen = torch.Generator().manual_seed(10_000 + seed)
    y = None
    if variant.conditional and data.y is not None:
        y = data.y[torch.randint(len(data), (n,), generator=gen)]
    variant.train(False)
    chunks = []
    for i in range(0, n, 500):
        cond = None if y is None else y[i : i + 500].to(variant.device)
        chunks.append(variant.generate(min(500, n - i), generator=gen, y=cond).float().cpu())
    variant.train(True)
    fake = torch.cat(chunks)
    values: dict[str, tuple[float, dict]] = {}
    for metric in metrics.values():
        k = metric.num_samples
        provenance = metric.provenance()
        for name, value in metric.compute(Samples(fake[:k], None if y is None else y[:k])).items():
            values[name] = (value, provenance)
    picture = run_dir / "samples" / f"step-{step:07d}.png"
    if data.info.is_image and variant.conditional and data.info.num_classes <= 20:
        rows = torch.arange(data.info.num_classes).repeat_interleave(8)  # one row of 8 per class
        variant.train(False)
        grid = variant.generate(len(rows), generator=torch.Generator().manual_seed(20_000 + seed), y=rows.to(variant.device)).cpu()
        variant.train(True)
        save_image_grid(grid, picture, nrow=8)
    elif data.info.is_image:
        save_image_grid(fake[:64], picture)
    else:
        save_point_scatter(fake[:2500], data.x, picture, title=f"{title} step {step}")
    return values


