"""Evaluation: the metrics a bench computes, set up once on the real data, then computed on generated
samples from fixed noise at every evaluation point of every trial, with a sample picture beside them.

Evaluation runs under a forked RNG, so it never changes a trial's training trajectory: the numbers do
not depend on the schedule, on cache hits, or on where a trial was resumed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ganzoo import registry
from ganzoo.config import BenchInputError
from ganzoo.data import Data, DatasetInfo
from ganzoo.metrics.base import EvalOptions, Metric, NotApplicable, Samples
from ganzoo.metrics.features import FeatureSpaceError, pretrained_space
from ganzoo.samples import save_image_grid, save_point_scatter
from ganzoo.translation import translate_sources, translation_sheet
from ganzoo.variant import SampleSheet, Variant

METRIC_ERROR = "error_"  # a metric that raised: row ``error_<metric>`` with NaN and the error in ``detail``
# the evaluation noise (or translated sources) and the sample sheet of a trial with seed s draw from
# generators seeded NOISE_SEED + s and SHEET_SEED + s: the same at every evaluation point, apart from training's
NOISE_SEED, SHEET_SEED = 10_000, 20_000


def metric_unsuitable(name: str, info: DatasetInfo, options: EvalOptions) -> str | None:
    """Why the installed metric ``name`` cannot score the dataset with these options (None: it can)."""
    entry = registry.metrics.entry(name)
    if entry.error:
        return entry.error
    try:
        entry.obj.check_data(info, options)
    except NotApplicable as exc:
        return str(exc)
    return None


def metric_failure(plugin: str, exc: BaseException) -> str:
    entry = registry.metrics.entry(plugin) if plugin in registry.metrics.names() else None
    package = f" ({entry.target} from {entry.package})" if entry else ""
    return f"metric {plugin!r}{package} failed{registry.where(exc)}: {type(exc).__name__}: {exc}"


def prepare_metrics(
    data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None
) -> dict[str, Metric]:
    """The metrics ``options.metrics`` names (the plan's choice; None: every installed one that can score the
    data), each with its ``--set`` parameters, set up: classifiers trained, real features cached. Runs before
    anything is written, so a metric that cannot be set up stops the bench early."""
    out = {}
    if (
        options is not None and options.features != "classifier"
    ):  # missing weights stop the bench before any classifier trains
        try:
            pretrained_space(options.features, options.inception_weights, cache_dir)
        except FeatureSpaceError as exc:
            raise BenchInputError(str(exc)) from None
    options = options or EvalOptions()
    if options.metrics is None:  # library use without a plan: every metric that can score the data
        chosen = [n for n in registry.metrics.names() if metric_unsuitable(n, data.info, options) is None]
    else:
        chosen = list(options.metrics)
    for entry in [registry.metrics.entry(n) for n in chosen]:
        if entry.error is None:
            try:
                out[entry.name] = entry.obj(
                    data=data, device=device, cache_dir=cache_dir, options=options, **options.params.get(entry.name, {})
                )
            except FeatureSpaceError as exc:
                raise BenchInputError(str(exc)) from None
            except Exception as exc:  # a plugin's bug: name it and its package, in one line
                raise BenchInputError(
                    f"metric {entry.name!r} ({entry.target} from {entry.package}) could not be set up on "
                    f"{data.name!r}{registry.where(exc)}: {type(exc).__name__}: {exc}"
                ) from None
    return out


def evaluate(
    variant: Variant, data: Data, metrics: dict[str, Metric], seed: int, run_dir: Path, step: int, title: str
) -> dict[str, tuple[float, dict]]:
    """Metrics on generated samples from fixed noise (the same z at every point of a run).

    Runs under a forked RNG: evaluation (and whatever torch-fidelity seeds inside) must not change
    the training trajectory, or the numbers would depend on the schedule and on cache hits."""
    devices = [variant.device] if variant.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        return _evaluate_now(variant, data, metrics, seed, run_dir, step, title)


def _evaluate_now(
    variant: Variant, data: Data, metrics: dict[str, Metric], seed: int, run_dir: Path, step: int, title: str
) -> dict[str, tuple[float, dict]]:
    gen = torch.Generator().manual_seed(NOISE_SEED + seed)
    picture = run_dir / "samples" / f"step-{step:07d}.png"
    if variant.translates:
        variant.train(False)
        translated = translate_sources(variant, data, max([m.num_samples for m in metrics.values()] + [256]), gen)
        variant.train(True)
        values = score(metrics, lambda metric: translated)
        sheet, nrow, labels = translation_sheet(translated, data.info.domains)
        save_image_grid(sheet, picture, nrow=nrow, row_labels=labels)
        return values
    n = max([m.num_samples for m in metrics.values()] + [64])
    y = None
    if variant.conditional and data.y is not None:
        y = data.y[torch.randint(len(data), (n,), generator=gen)]
    variant.train(False)
    fake = generate(variant, n, gen, y)
    variant.train(True)
    values = score(
        metrics, lambda metric: Samples(fake[: metric.num_samples], None if y is None else y[: metric.num_samples])
    )
    sheet_gen = torch.Generator().manual_seed(SHEET_SEED + seed)
    variant.train(False)
    with torch.no_grad():
        sheet = variant.sample_sheet(generator=sheet_gen) or _default_sheet(variant, data, fake, sheet_gen)
    variant.train(True)
    if data.info.is_image:
        save_image_grid(
            sheet.x.float().cpu(),
            picture,
            nrow=sheet.nrow,
            row_labels=sheet.row_labels,
            value_range=data.info.value_range,
        )
    else:
        save_point_scatter(sheet.x.float().cpu(), data.floats(), picture, title=f"{title} step {step}")
    return values


def generate(
    variant: Variant, n: int, generator: torch.Generator, y: torch.Tensor | None = None, chunk: int = 500
) -> torch.Tensor:
    """``n`` samples of ``variant``'s generator on the CPU, drawn in chunks from ``generator`` (``y``: each sample's
    condition): how every evaluation draws, so a run folder scored later (``ganzoo score``) draws the same."""
    chunks = []
    for i in range(0, n, chunk):
        cond = None if y is None else y[i : i + chunk].to(variant.device)
        chunks.append(variant.generate(min(chunk, n - i), generator=generator, y=cond).float().cpu())
    return torch.cat(chunks)


def score(metrics: dict[str, Metric], samples_for: Callable[[Metric], Samples]) -> dict[str, tuple[float, dict]]:
    """Every metric on its samples (generated or translated alike), each value with its provenance. A metric
    that raises is its own row, ``error_<metric>`` with NaN and the error in ``detail``; the trial and the
    other metrics go on."""
    values: dict[str, tuple[float, dict]] = {}
    for plugin, metric in metrics.items():
        try:
            provenance = metric.provenance()
            computed = metric.compute(samples_for(metric))
        except Exception as exc:  # one metric's failure is its own row
            values[f"{METRIC_ERROR}{plugin}"] = (float("nan"), {"detail": metric_failure(plugin, exc)})
            continue
        for name, value in computed.items():
            values[name] = (value, provenance)
    return values


def _default_sheet(variant: Variant, data: Data, fake: torch.Tensor, generator: torch.Generator) -> SampleSheet:
    """ganzoo's own picture: a row of 8 per class for a conditional variant on images (up to 20 classes),
    else the first 64 evaluation samples (2,500 points for a scatter)."""
    if data.info.is_image and variant.conditional and data.info.num_classes <= 20:
        rows = torch.arange(data.info.num_classes).repeat_interleave(8)
        return SampleSheet(variant.generate(len(rows), generator=generator, y=rows.to(variant.device)), nrow=8)
    return SampleSheet(fake[:64] if data.info.is_image else fake[:2500])
