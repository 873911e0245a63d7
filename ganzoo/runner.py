"""``ganzoo bench`` as a library function: every (variant, divergence, seed) trains under the same
budget on the same data, is evaluated at the same points, and lands in one tidy results table.

Everything that can be wrong with the input (names, budget, data kind, output folder) is checked
before the first step. A run that fails mid-way is recorded as failed and the others go on.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ganzoo import registry
from ganzoo.budget import Budget, EvalSchedule, Spent
from ganzoo.data import BatchSampler, Data, DatasetInfo
from ganzoo.device import DeviceClock, resolve_device
from ganzoo.metrics.base import EvalOptions, Metric, Samples
from ganzoo.metrics.features import FEATURE_SPACES, FeatureSpaceError
from ganzoo.results import (
    MANIFEST,
    ResultsWriter,
    Row,
    atomic_torch_save,
    atomic_write_json,
    atomic_write_text,
    environment,
)
from ganzoo.samples import save_image_grid, save_point_scatter
from ganzoo.trainer import Trainer
from ganzoo.translation import evaluate_translation
from ganzoo.variant import TRAINING_PARAMS, IncompatibleData, StepOutput, Variant

NO_DIVERGENCE = "none"
EVAL_POINTS = 4  # default: evaluate at the start and after each quarter of the budget


class BenchInputError(ValueError):
    """Bad input found before anything was trained or written."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("GANZOO_CACHE", Path.home() / ".cache" / "ganzoo"))


@dataclass
class BenchConfig:
    variants: list[str] | None = None  # None: every installed variant that can run on the dataset
    divergences: list[str] | None = None  # None: each variant's default
    dataset: str = "digits"
    data_dir: Path | None = None
    split: str = "auto"
    download: bool = True
    budget: str = "2000steps"
    eval_every: str | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    batch_size: int | None = None
    device: str = "auto"
    amp: bool = False
    out: Path = Path("results/bench")
    force: bool = False
    cache_dir: Path | None = None
    features: str = "classifier"
    inception_weights: Path | None = None
    hparams: dict[str, dict[str, str]] = field(default_factory=dict)  # variant -> {parameter: value as text}


@dataclass
class RunSpec:
    variant: str
    divergence: str
    seed: int

    @property
    def run_id(self) -> str:
        return f"{self.variant}-{self.divergence}-s{self.seed}"


@dataclass
class Plan:
    """A checked bench: everything resolved, nothing trained or written yet."""

    config: BenchConfig
    runs: list[RunSpec]
    budget: Budget
    eval_every: Budget
    device: torch.device
    info: DatasetInfo
    cache_dir: Path
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)  # checked and typed overrides per variant


def _get(reg: registry.Registry, name: str) -> Any:
    try:
        return reg.get(name)
    except registry.PluginError as exc:
        raise BenchInputError(str(exc)) from None


def split_dataset(spec: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME:ARGUMENT`` (``celeba:Blond_Hair,Black_Hair``) -> (name, argument or None)."""
    name, sep, argument = spec.partition(":")
    return name, (argument if sep else None)


def dataset_info(spec: str) -> DatasetInfo:
    """The info of a dataset spec, checked: an unknown name or a bad argument is a BenchInputError."""
    name, argument = split_dataset(spec)
    cls = _get(registry.datasets, name)
    try:
        return cls.info_for(argument)
    except ValueError as exc:
        what = f" (it takes {cls.argument})" if cls.argument else ""
        raise BenchInputError(f"dataset {spec!r}: {exc}{what}") from None


def plan(config: BenchConfig) -> Plan:
    """Resolve and check a bench config; raises :class:`BenchInputError` naming the bad value."""
    dataset_cls = _get(registry.datasets, split_dataset(config.dataset)[0])
    info = dataset_info(config.dataset)
    if config.split != "auto" and config.split not in dataset_cls.splits:
        raise BenchInputError(f"dataset {config.dataset!r} has no split {config.split!r} (splits: auto, {', '.join(dataset_cls.splits)})")
    try:
        budget = Budget.parse(config.budget)
        eval_every = Budget.parse(config.eval_every) if config.eval_every else budget.split(EVAL_POINTS)
        device = resolve_device(config.device)
    except ValueError as exc:
        raise BenchInputError(str(exc)) from None
    if config.amp and device.type != "cuda":
        raise BenchInputError(f"--amp needs a CUDA device, but the device is {device}")
    if config.features not in FEATURE_SPACES:
        raise BenchInputError(f"unknown feature space {config.features!r} (known: {', '.join(FEATURE_SPACES)})")
    if config.features == "inception" and not info.is_image:
        raise BenchInputError(f"--features inception needs images; dataset {config.dataset!r} holds {info.describe()}")
    if not config.seeds or any(s < 0 for s in config.seeds):
        raise BenchInputError(f"seeds must be non-negative integers, got {config.seeds}")
    if config.batch_size is not None and config.batch_size < 1:
        raise BenchInputError(f"batch size must be at least 1, got {config.batch_size}")

    if config.variants is None:  # the default bench: whatever can run here
        names = [n for n in registry.variants.names() if registry.variants.entry(n).error is None]
        names = [n for n in names if _compatible(registry.variants.get(n), config.dataset, info)]
        if not names:
            raise BenchInputError(f"no installed variant can run on dataset {config.dataset!r}")
    else:
        names = list(config.variants)
        for name in names:
            cls = _get(registry.variants, name)
            try:
                cls.check_data(config.dataset, info)
            except IncompatibleData as exc:
                raise BenchInputError(f"variant {name!r} cannot run on dataset {config.dataset!r}: {exc}") from None
    for div in config.divergences or []:
        _get(registry.divergences, div)
    def divergences_of(v: str) -> list[str]:
        cls = _get(registry.variants, v)
        if not cls.adversarial:
            return [NO_DIVERGENCE]  # a baseline without D: one run, whatever --divergences says
        return config.divergences or [cls.default_divergence]

    runs = [RunSpec(v, d, s) for v in names for d in divergences_of(v) for s in config.seeds]
    for r in runs:
        if r.divergence != NO_DIVERGENCE:
            _get(registry.divergences, r.divergence)
    hparams = {v: typed_hparams(_get(registry.variants, v), v, given) for v, given in config.hparams.items()}
    unused = sorted(set(hparams) - set(names))
    if unused:
        raise BenchInputError(f"--set names variant(s) {', '.join(unused)}, which this bench does not run (it runs {', '.join(names)})")
    for v, d in sorted({(r.variant, r.divergence) for r in runs}):  # what a variant refuses fails here, not mid-bench
        try:
            build_variant(v, d, info, hparams.get(v, {}), config.batch_size)
        except (ValueError, TypeError) as exc:
            where = f"--set for {v!r}" if hparams.get(v) else f"variant {v!r}"
            raise BenchInputError(f"{where} with divergence {d!r}: {exc}") from None
    _check_out(config.out, config.force)
    return Plan(config, runs, budget, eval_every, device, info, config.cache_dir or default_cache_dir(), hparams)


def typed_hparams(cls: type[Variant], name: str, given: dict[str, str]) -> dict[str, Any]:
    """``--set`` values converted to the type of each parameter's default; unknown names and
    unconvertible values are refused with what the variant accepts."""
    defaults = {**{k: t() for k, t in TRAINING_PARAMS.items()}, **cls.constructor_params()}
    out: dict[str, Any] = {}
    for key, text in given.items():
        if key not in defaults:
            accepted = ", ".join(f"{k}={v!r}" for k, v in cls.constructor_params().items())
            raise BenchInputError(f"variant {name!r} has no hyper-parameter {key!r}; it accepts {accepted}, and {', '.join(TRAINING_PARAMS)}")
        default = defaults[key]
        try:
            if isinstance(default, bool):
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError("expected true or false")
                out[key] = text.lower() in ("true", "1", "yes")
            elif isinstance(default, (int, float)):
                out[key] = type(default)(text)
            else:
                out[key] = text
        except ValueError as exc:
            raise BenchInputError(f"--set {name}.{key}={text}: not a {type(default).__name__} ({exc})") from None
    return out


def build_variant(name: str, divergence_name: str, info: DatasetInfo, overrides: dict[str, Any],
                  batch_size: int | None = None) -> tuple[Variant, dict[str, Any]]:
    """The variant ``name`` with its divergence and hyper-parameters resolved, and the record of how.

    Precedence, lowest first: the variant's defaults, the divergence's paper recipe (unless the variant
    fixes its own recipe and runs with its own default divergence), the user's ``--set`` values. A
    recipe value the variant has no knob for is recorded as not applied. Raises ValueError for a value
    the variant refuses, and for a per-sample divergence (WGAN-GP) with a BatchNorm critic."""
    cls = _get(registry.variants, name)
    divergence = None if divergence_name == NO_DIVERGENCE else _get(registry.divergences, divergence_name)()
    recipe = getattr(divergence, "recipe", None)
    follows = recipe is not None and not (cls.own_recipe and divergence_name == cls.default_divergence)
    ctor = cls.constructor_params()
    applied, skipped = {}, []
    if follows:
        for key, value in recipe.settings().items():
            if key in overrides:
                continue
            if key in ctor or key in TRAINING_PARAMS:
                applied[key] = value
            else:
                skipped.append(key)
    chosen = {**applied, **overrides}
    kwargs = {k: v for k, v in chosen.items() if k in ctor}
    if batch_size and "batch_size" not in overrides:
        kwargs["batch_size"] = batch_size
    variant: Variant = cls(info=info, divergence=divergence, **kwargs)
    variant.set_training(**{k: v for k, v in chosen.items() if k in TRAINING_PARAMS})  # checks them, constructor ones too
    if recipe is not None and recipe.per_sample_critic:
        batchnorm = [f"{net_name}" for net_name, net in variant.discriminators().items()
                     if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())]
        if batchnorm:
            knob = f" (--set {name}.d_norm=layer, as the paper advises)" if "d_norm" in ctor else ""
            raise ValueError(f"divergence {divergence_name!r} needs a critic that scores each sample on its own (its penalty "
                             f"is per sample), but {name}'s {', '.join(batchnorm)} uses BatchNorm; switch it off{knob}")
    record = {
        "source": (f"{divergence_name} ({type(divergence).paper})" if follows
                   else f"{name}'s own ({cls.paper})" if recipe is not None else None),
        "applied": applied, "not_applicable": skipped, "user_set": dict(overrides),
        "d_steps": variant.d_steps, "optimizer": variant.optimizer,
    }
    return variant, record


def settings_text(p: Plan, variant: str) -> str:
    """The user's overrides for one variant's runs as ``key=value;...`` (sorted): the ``settings`` column,
    which tables group by, so runs that differ only in a ``--set`` value are never averaged together."""
    given = dict(p.hparams.get(variant, {}))
    if p.config.batch_size and "batch_size" not in given:
        given["batch_size"] = p.config.batch_size
    return ";".join(f"{k}={v}" for k, v in sorted(given.items()))


def _compatible(cls: type[Variant], name: str, info: DatasetInfo) -> bool:
    try:
        cls.check_data(name, info)
        return True
    except IncompatibleData:
        return False


def _check_out(out: Path, force: bool) -> None:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BenchInputError(f"--out {str(out)!r} is a file, not a folder")
    holds = [p.name for p in (out / "results.csv", out / MANIFEST, out / "runs") if p.exists()]
    if holds and not force:
        raise BenchInputError(f"--out {str(out)!r} already holds another bench's results ({', '.join(holds)}); choose a new folder or pass --force to replace them")


def _clear_out(out: Path) -> None:
    for name in ("results.csv", MANIFEST):
        (out / name).unlink(missing_ok=True)
    if (out / "runs").exists():
        shutil.rmtree(out / "runs")


def load_data(config: BenchConfig) -> Data:
    """Load the dataset; its name in the results is the whole spec, so different arguments never compare."""
    name, argument = split_dataset(config.dataset)
    cls = _get(registry.datasets, name)
    extra = {} if argument is None else {"argument": argument}
    return cls.load(name=config.dataset, data_dir=config.data_dir, split=config.split, download=config.download, **extra)


def prepare_metrics(data: Data, device: torch.device, cache_dir: Path, options: EvalOptions | None = None) -> dict[str, Metric]:
    """Every installed metric that applies to the dataset, set up (classifiers trained, real features
    cached). Runs before anything is written, so a metric that cannot be set up stops the bench early."""
    out = {}
    for entry in registry.metrics.entries():
        if entry.error is None and entry.obj.applies_to(data.info):
            try:
                out[entry.name] = entry.obj(data=data, device=device, cache_dir=cache_dir, options=options)
            except FeatureSpaceError as exc:
                raise BenchInputError(str(exc)) from None
    return out


class _LossMeter:
    """Mean of each logged loss since the last evaluation, summed on the device in one stacked add per
    step (no per-step sync). Per-term losses are logged only when a player has several terms."""

    def __init__(self) -> None:
        self.keys: list[str] | None = None
        self.sums: torch.Tensor | None = None
        self.count = 0

    def add(self, d: StepOutput | None, g: StepOutput) -> None:
        values: dict[str, torch.Tensor] = {}
        for prefix, out in (("d", d), ("g", g)):
            if out is None:
                continue
            values[f"loss_{prefix}"] = out.total
            if len(out.losses) > 1:
                values.update({f"loss_{prefix}_{k}": v for k, v in out.losses.items()})
            values.update(out.stats)
        stacked = torch.stack([v.detach().float() for v in values.values()])
        if self.keys is not None and list(values) != self.keys:
            raise ValueError(f"logged losses changed between steps: {self.keys} then {list(values)}")
        self.keys = list(values)
        self.sums = stacked if self.sums is None else self.sums + stacked
        self.count += 1

    def pop(self) -> dict[str, float]:
        if self.sums is None or self.keys is None:
            return {}
        out = dict(zip(self.keys, (self.sums / self.count).tolist()))
        self.sums, self.count = None, 0
        return out


def _evaluate(variant: Variant, data: Data, metrics: dict[str, Metric], seed: int, run_dir: Path, step: int, title: str) -> dict[str, tuple[float, dict]]:
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


def run_one(p: Plan, spec: RunSpec, data: Data, metrics: dict[str, Metric], writer: ResultsWriter, progress: Progress | None, task: TaskID | None) -> Spent:
    """Train one run until the budget is spent, evaluating on schedule; rows go to ``writer``."""
    run_dir = Path(p.config.out) / "runs" / spec.run_id
    torch.manual_seed(spec.seed)
    variant, recipe = build_variant(spec.variant, spec.divergence, data.info, p.hparams.get(spec.variant, {}), p.config.batch_size)
    variant = variant.to(p.device)
    divergence = variant.divergence
    variant.train(True)
    trainer = Trainer(variant, BatchSampler(data, seed=spec.seed, device=p.device), amp=p.config.amp)

    config = {
        "run_id": spec.run_id, "variant": spec.variant, "divergence": spec.divergence, "seed": spec.seed,
        "variant_package": registry.variants.entry(spec.variant).package,
        "divergence_package": None if divergence is None else registry.divergences.entry(spec.divergence).package,
        "hparams": variant.hparams(), "d_steps": variant.d_steps, "recipe": recipe,
        "dataset": {"name": data.name, "split": data.split, "source": data.source, "size": len(data),
                    "content_sha256": data.content_hash, "info": data.info.describe()},
        "budget": p.budget.text, "budget_measure": p.budget.measure, "eval_every": p.eval_every.text,
        "amp": p.config.amp, "metrics": {k: m.provenance() for k, m in metrics.items()},
        "environment": environment(p.device), "started": datetime.now(timezone.utc).isoformat(), "status": "running",
    }
    atomic_write_json(run_dir / "config.json", config)

    base = dict(run_id=spec.run_id, variant=spec.variant, divergence=spec.divergence, dataset=data.name, split=data.split, seed=spec.seed)
    tags = dict(budget=p.budget.text, settings=settings_text(p, spec.variant))
    clock, meter, schedule = DeviceClock(p.device), _LossMeter(), EvalSchedule(p.eval_every)
    spent = Spent()

    def record(values: dict[str, tuple[float, dict]]) -> None:
        writer.add([Row(**base, step=spent.steps, images_seen=spent.images, device_seconds=round(spent.seconds, 4), metric=k, value=v, **prov, **tags)
                    for k, (v, prov) in values.items()])

    record(_evaluate(variant, data, metrics, spec.seed, run_dir, 0, spec.run_id))
    needs_clock = p.budget.is_time or p.eval_every.is_time
    clock.start()
    while not p.budget.spent(spent):
        d_out, g_out, images = trainer.step()
        meter.add(d_out, g_out)
        spent = Spent(spent.steps + 1, spent.images + images, clock.read() if needs_clock else spent.seconds)
        last = p.budget.spent(spent)
        if schedule.due(spent) or last:
            spent = Spent(spent.steps, spent.images, clock.stop())
            losses = meter.pop()
            if not all(map(math.isfinite, losses.values())):
                raise FloatingPointError(f"non-finite loss at step {spent.steps}: {losses}")
            record({**{k: (v, {}) for k, v in losses.items()}, **_evaluate(variant, data, metrics, spec.seed, run_dir, spent.steps, spec.run_id)})
            if not last:
                clock.start()
        if progress is not None and (spent.steps % 10 == 0 or last):
            progress.update(task, completed=p.budget.fraction(spent), step=spent.steps, left=p.budget.left(spent),
                            losses=("" if d_out is None else f"D {d_out.total.item():.3f} ") + f"G {g_out.total.item():.3f}")

    weights = {"generators": {k: m.state_dict() for k, m in variant.generators().items()},
               "discriminators": {k: m.state_dict() for k, m in variant.discriminators().items()}}
    atomic_torch_save(weights, run_dir / "weights.pt")
    config.update(status="ok", finished=datetime.now(timezone.utc).isoformat(),
                  spent={"steps": spent.steps, "images": spent.images, "device_seconds": spent.seconds})
    atomic_write_json(run_dir / "config.json", config)
    writer.add([Row(**base, step=spent.steps, images_seen=spent.images, device_seconds=round(spent.seconds, 4), metric="status", value=1.0,
                    detail="ok", **tags)])
    return spent


def run_bench(config: BenchConfig, *, console: Console | None = None) -> pd.DataFrame:
    """Plan, load, train and evaluate every run; returns the tidy results table (also on disk)."""
    p = plan(config)
    try:
        data = load_data(config)
    except (FileNotFoundError, ValueError) as exc:
        raise BenchInputError(f"dataset {config.dataset!r} could not be loaded: {exc}") from None
    p.cache_dir.mkdir(parents=True, exist_ok=True)
    if console is not None:
        console.print(f"[bold]ganzoo bench[/]: {len(p.runs)} run(s) on {data.name} ({data.split} split, {len(data)} samples, {data.info.describe()}), "
                      f"budget {p.budget.text} each, device {p.device}")
        console.print("preparing metrics (the dataset classifier is trained once and cached)...")
    metrics = prepare_metrics(data, p.device, p.cache_dir, EvalOptions(config.features, config.inception_weights))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    if config.force:
        _clear_out(out)
    atomic_write_json(out / MANIFEST, {
        "ganzoo_bench": 1, "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(config).items()},
        "runs": [r.run_id for r in p.runs], "dataset": {"name": data.name, "split": data.split, "source": data.source},
        "metric_directions": {k: v for m in metrics.values() for k, v in type(m).directions.items()},
        "environment": environment(p.device), "started": datetime.now(timezone.utc).isoformat(),
    })
    writer = ResultsWriter(out)
    writer.flush()
    progress = None
    if console is not None:
        progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("step {task.fields[step]}"),
                            TextColumn("{task.fields[losses]}"), TextColumn("{task.fields[left]}"), TimeElapsedColumn(),
                            console=console)
        progress.start()
    try:
        for spec in p.runs:
            task = None
            if progress is not None:
                task = progress.add_task(f"{spec.variant}/{spec.divergence} seed {spec.seed}", total=1.0, step=0, losses="", left=p.budget.left(Spent()))
            try:
                run_one(p, spec, data, metrics, writer, progress, task)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                run_dir = out / "runs" / spec.run_id
                run_dir.mkdir(parents=True, exist_ok=True)
                atomic_write_text(run_dir / "error.txt", traceback.format_exc())
                if (run_dir / "config.json").exists():
                    config_json = json.loads((run_dir / "config.json").read_text())
                    config_json.update(status="failed", error=error, finished=datetime.now(timezone.utc).isoformat())
                    atomic_write_json(run_dir / "config.json", config_json)
                done = [r for r in writer.rows if r.run_id == spec.run_id]
                last = done[-1] if done else None
                writer.add([Row(spec.run_id, spec.variant, spec.divergence, data.name, data.split, spec.seed,
                                last.step if last else 0, last.images_seen if last else 0, last.device_seconds if last else 0.0,
                                "status", 0.0, error, budget=p.budget.text, settings=settings_text(p, spec.variant))])
                if progress is not None:
                    progress.update(task, description=f"[red]{spec.variant}/{spec.divergence} seed {spec.seed} failed", left=error[:60])
    finally:
        if progress is not None:
            progress.stop()
    return writer.frame()
