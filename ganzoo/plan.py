"""A bench, resolved and checked before anything is trained or written: what ``ganzoo bench`` asks for
(:class:`BenchConfig`), the trials it expands to (:class:`TrialSpec`: one variant x divergence x seed x
settings each) and everything a trial needs to know about them (:class:`Plan`).

Every way the input can be wrong (names, budget, data kind, settings a variant refuses or cannot train
with, an output or cache folder that cannot be written) is a :class:`BenchInputError` raised here, so a
bad bench fails in a second with one line, not after metric preparation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from ganzoo import registry
from ganzoo.budget import Budget
from ganzoo.data import BatchSampler, Data, DatasetInfo, describe_dataset
from ganzoo.device import resolve_device
from ganzoo.lock import live_holder
from ganzoo.metrics.base import EvalOptions, NotApplicable
from ganzoo.metrics.features import FEATURE_SPACES
from ganzoo.params import typed
from ganzoo.results import MANIFEST
from ganzoo.variant import TRAINING_PARAMS, IncompatibleData, Variant

NO_DIVERGENCE = "none"
EVAL_POINTS = 4  # default: evaluate at the start and after each quarter of the budget


class BenchInputError(ValueError):
    """Bad input found before anything was trained or written."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("GANZOO_CACHE", Path.home() / ".cache" / "ganzoo"))


@dataclass
class BenchConfig:
    variants: list[str] | None = None  # None: every installed variant that can run on the dataset; LABEL=VARIANT names a setting
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
    checkpoint_every: str | None = None  # besides every evaluation point; None: at evaluation points only
    keep_checkpoints: bool = False  # a finished trial keeps its last checkpoint (else only its weights)
    executor: str = "local"  # "local": this machine (in-process with 1 worker, else a process pool); "pool"; "ray"
    workers: int = 1  # local: trials at a time; ray: trials in flight
    devices: list[str] | None = None  # None: the one --device; else trials spread over these
    workers_per_device: int | None = None  # with devices: how many trials share each device
    threads: int | None = None  # torch CPU threads per trial; None: the machine's cores / trials at a time
    allow_shared_device: bool = False  # let a seconds budget run with several trials on one device
    ray_address: str | None = None  # ray.init(address=...); None starts a local instance
    max_retries: int = 2  # a trial whose worker died is started again from its checkpoint this many times
    cache_dir: Path | None = None
    features: str = "classifier"
    inception_weights: Path | None = None
    hparams: dict[str, dict[str, str]] = field(default_factory=dict)  # variant label, divergence or metric -> {parameter: value as text}
    # a preset's own values per variant label: below a divergence's recipe and the user's --set (see build_variant)
    preset_hparams: dict[str, dict[str, str]] = field(default_factory=dict)
    metrics: list[str] | None = None  # metric plugins to compute; None: every installed one that applies to the dataset
    preset: str | None = None  # the preset this bench started from (see ganzoo.presets), recorded with its overrides
    preset_overrides: list[str] = field(default_factory=list)  # the options given beside --preset

    def to_json(self) -> dict[str, Any]:
        """As written into bench.json, which is all ``ganzoo bench --resume`` needs."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> BenchConfig:
        """The config a bench.json records, each value checked for its type first (a results folder may be
        copied or crafted): raises :class:`BenchInputError` naming the field. The values themselves get the
        command line's checks in :func:`plan`."""
        known = {f.name: f for f in fields(cls)}
        kw = {k: v for k, v in obj.items() if k in known}
        for key, value in kw.items():
            why = _json_type_error(key, value, cls.__dataclass_fields__[key].default)
            if why:
                raise BenchInputError(f"bench.json: {key} = {json.dumps(value)[:80]}: {why}")
        for k in ("out", "data_dir", "cache_dir", "inception_weights"):
            if kw.get(k) is not None:
                kw[k] = Path(kw[k])
        return cls(**kw)


_INT_LISTS = ("seeds",)
_STR_LISTS = ("variants", "divergences", "devices", "metrics", "preset_overrides")
_SETTINGS = ("hparams", "preset_hparams")
_INTS = {"batch_size": 1, "workers_per_device": 1, "threads": 1, "workers": 1, "max_retries": 0}  # the least each may be


def _json_type_error(key: str, value: Any, default: Any) -> str | None:
    """Why ``value`` cannot be BenchConfig's ``key`` as read from JSON, or None."""
    if key in _INT_LISTS:
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        return None if ok else "expected a list of non-negative integers"
    if key in _STR_LISTS:
        ok = value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        return None if ok else "expected a list of strings"
    if key in _SETTINGS:
        ok = isinstance(value, dict) and all(isinstance(n, str) and isinstance(kv, dict) and
                                             all(isinstance(k, str) and isinstance(v, str) for k, v in kv.items())
                                             for n, kv in value.items())
        return None if ok else "expected {name: {parameter: value as text}}"
    if key in _INTS:
        if value is None and default is None:
            return None
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= _INTS[key]
        return None if ok else f"expected an integer of at least {_INTS[key]}"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(default, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an integer"
    if value is None:
        return None
    if isinstance(default, (str, Path)) or default is None:
        return None if isinstance(value, (str, int)) and not isinstance(value, bool) else "expected text"
    return None


@dataclass(frozen=True)
class TrialSpec:
    """One trial: a variant x divergence x seed; its settings (``--set``) come from the plan. It is run,
    checkpointed and resumed on its own, in ``runs/<run_id>/``."""

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
    runs: list[TrialSpec]
    budget: Budget
    eval_every: Budget
    device: torch.device
    info: DatasetInfo
    cache_dir: Path
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)  # checked and typed overrides per variant
    checkpoint_every: Budget | None = None
    devices: list[torch.device] = field(default_factory=list)  # one entry per worker slot
    threads: int = 1  # torch CPU threads per trial
    executor_note: dict[str, Any] = field(default_factory=dict)  # recorded in each trial's config.json
    plugins: dict[str, str] = field(default_factory=dict)  # variant label -> installed variant it runs
    left_out: dict[str, str] = field(default_factory=dict)  # default bench: installed variants it does not run, and why
    metrics: list[str] = field(default_factory=list)  # the metric plugins it computes
    metrics_left_out: dict[str, str] = field(default_factory=dict)  # installed metrics it does not compute, and why
    divergence_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # --set on a divergence, typed
    metric_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # --set on a metric, typed
    code: dict[str, Any] = field(default_factory=dict)  # the runner's code fingerprint: versions and source hashes
    preset_hparams: dict[str, dict[str, Any]] = field(default_factory=dict)  # a preset's values per variant, typed

    @property
    def workers(self) -> int:
        return len(self.devices)

    def plugin(self, variant: str) -> str:
        """The installed variant a bench's variant (or label) runs."""
        return self.plugins.get(variant, variant)


def _get(reg: registry.Registry, name: str) -> Any:
    try:
        return reg.get(name)
    except registry.PluginError as exc:
        raise BenchInputError(str(exc)) from None


def split_variant(item: str) -> tuple[str, str]:
    """``VARIANT`` or ``LABEL=VARIANT`` (``pacgan4=gan``, with ``--set pacgan4.pack=4``) -> (label, variant):
    one installed variant benched under several settings, each its own rows in the tables."""
    label, eq, name = item.partition("=")
    return (label.strip(), name.strip()) if eq else (item.strip(), item.strip())


def _labels(items: list[str]) -> dict[str, str]:
    """Labels of ``--variants`` -> installed variants, checked: a label is a safe folder name, given once,
    and never the name of another installed variant (``gan=dcgan`` would put DCGAN's rows under GAN)."""
    out: dict[str, str] = {}
    for item in items:
        label, name = split_variant(item)
        _get(registry.variants, name)
        if not registry.SAFE_NAME.match(label):
            raise BenchInputError(f"variant label {label!r} in {item!r}: labels are letters, digits and . _ + - (not first)")
        if label != name and label in registry.variants.names():
            raise BenchInputError(f"variant label {label!r} in {item!r} is the name of another installed variant; choose another label")
        if label in out:
            raise BenchInputError(f"variant {label!r} is given twice in --variants")
        out[label] = name
    return out


def split_dataset(spec: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME:ARGUMENT`` (``celeba:Blond_Hair,Black_Hair``) -> (name, argument or None)."""
    name, sep, argument = spec.partition(":")
    return name, (argument if sep else None)


def dataset_info(spec: str, data_dir: Path | None = None) -> DatasetInfo:
    """The info of a dataset spec with ``--data-dir``, checked: an unknown name, a bad argument or a
    folder the dataset cannot describe is a BenchInputError."""
    name, argument = split_dataset(spec)
    cls = _get(registry.datasets, name)
    try:
        return describe_dataset(cls, argument, data_dir)
    except ValueError as exc:
        what = f" (it takes {cls.argument})" if cls.argument else ""
        raise BenchInputError(f"dataset {spec!r}: {exc}{what}") from None


def plan(config: BenchConfig, *, resuming: bool = False) -> Plan:
    """Resolve and check a bench config; raises :class:`BenchInputError` naming the bad value.
    ``resuming``: the output folder holds this bench already."""
    dataset_cls = _get(registry.datasets, split_dataset(config.dataset)[0])
    info = dataset_info(config.dataset, config.data_dir)
    if config.split != "auto" and config.split not in dataset_cls.splits:
        raise BenchInputError(f"dataset {config.dataset!r} has no split {config.split!r} (splits: auto, {', '.join(dataset_cls.splits)})")
    try:
        budget = Budget.parse(config.budget)
        eval_every = Budget.parse(config.eval_every) if config.eval_every else budget.split(EVAL_POINTS)
        checkpoint_every = Budget.parse(config.checkpoint_every) if config.checkpoint_every else None
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
    metrics, metrics_left_out = choose_metrics(config, info)
    if config.preset is not None:
        from ganzoo.presets import get as get_preset

        get_preset(config.preset)

    left_out: dict[str, str] = {}
    if config.variants is None:  # the default bench: whatever can run here, and why the others are left out
        for n in registry.variants.names():
            entry = registry.variants.entry(n)
            starved = [] if entry.error else _starved_of_real_scores(entry.obj, config.divergences or [])
            why = entry.error or _incompatible(entry.obj, config.dataset, info) or (
                f"its G loss gets no scores on real data, which {', '.join(starved)} needs" if starved else None)
            if why:
                left_out[n] = why
        names = [n for n in registry.variants.names() if n not in left_out]
        if not names:
            raise BenchInputError(f"no installed variant can run on dataset {config.dataset!r}: "
                                  + "; ".join(f"{n}: {why}" for n, why in left_out.items()))
        plugins = {n: n for n in names}
    else:
        plugins = _labels(config.variants)
        names = list(plugins)
        for name, plugin in plugins.items():
            why = _incompatible(_get(registry.variants, plugin), config.dataset, info)
            if why:
                raise BenchInputError(f"variant {name!r} cannot run on dataset {config.dataset!r}: {why}")
    for div in config.divergences or []:
        _get(registry.divergences, div)
    def divergences_of(v: str) -> list[str]:
        cls = _get(registry.variants, plugins[v])
        if not cls.adversarial:
            return [NO_DIVERGENCE]  # a baseline without D: one run, whatever --divergences says
        return config.divergences or [cls.default_divergence]

    if config.divergences and not any(_get(registry.variants, plugins[v]).adversarial for v in names):
        raise BenchInputError(f"--divergences {','.join(config.divergences)}: no variant of this bench has a discriminator "
                              f"({', '.join(names)}), so no divergence applies; leave --divergences out")
    runs = [TrialSpec(v, d, s) for v in names for d in divergences_of(v) for s in config.seeds]
    for v in names:
        starved = _starved_of_real_scores(_get(registry.variants, plugins[v]), divergences_of(v))
        if starved:
            raise BenchInputError(f"divergence {starved[0]!r} needs D's scores on real data in G's loss, and variant "
                                  f"{v!r} does not pass them (a variant passes them with Variant.adversarial_g "
                                  "and declares real_scores_for_g = True)")
    used_divergences = sorted({r.divergence for r in runs} - {NO_DIVERGENCE})
    hparams, divergence_params, metric_params = _route_settings(config.hparams, names, plugins, used_divergences, metrics)
    preset_hparams = _route_settings({v: s for v, s in config.preset_hparams.items() if v in names}, names, plugins, [], [])[0]
    for v, d in sorted({(r.variant, r.divergence) for r in runs}):  # what a variant refuses fails here, not mid-bench
        given = {**preset_hparams.get(v, {}), **user_settings(hparams.get(v, {}), config.batch_size)}
        where = f"variant {v!r} with " + " ".join(f"{k}={val!r}" for k, val in given.items()) if given else f"variant {v!r}"
        try:
            with warnings.catch_warnings():  # one line per bad value: torch's own warnings about it are noise here
                warnings.simplefilter("ignore")
                variant, _ = build_variant(v, d, info, hparams.get(v, {}), config.batch_size, plugin=plugins[v],
                                           divergence_params=divergence_params.get(d, {}), preset=preset_hparams.get(v, {}))
        except Exception as exc:  # a plugin may refuse a value with any exception (z_dim=-5: RuntimeError)
            raise BenchInputError(f"{where} with divergence {d!r}: {type(exc).__name__}: {exc}") from None
        if given:  # values it accepts but cannot train with (hidden=0) fail here too
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    smoke_step(variant, info)
            except Exception as exc:
                raise BenchInputError(f"{where} with divergence {d!r}: one training step on stand-in data fails: "
                                      f"{type(exc).__name__}: {exc}") from None
    cache_dir = config.cache_dir or default_cache_dir()
    slots, threads, note = _placement(config, device, budget)
    if not resuming:
        _check_out(config.out, config.force)
    for what, folder in (("--out", Path(config.out)), ("--cache-dir", cache_dir)):
        check_writable(what, folder)
    return Plan(config, runs, budget, eval_every, device, info, cache_dir, hparams, checkpoint_every, slots, threads, note,
                {v: n for v, n in plugins.items() if v != n}, left_out, metrics, metrics_left_out, divergence_params, metric_params,
                preset_hparams=preset_hparams)


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


def choose_metrics(config: BenchConfig, info: DatasetInfo) -> tuple[list[str], dict[str, str]]:
    """(the metrics a bench computes, the installed ones it leaves out and why). ``--metrics`` naming one
    that cannot score the dataset is refused with the reason; by default every one that can is chosen."""
    options = EvalOptions(config.features, config.inception_weights)
    if config.metrics is not None and not config.metrics:
        raise BenchInputError("--metrics names no metric")
    for m in config.metrics or []:
        _get(registry.metrics, m)
    why = {n: metric_unsuitable(n, info, options) for n in registry.metrics.names()}
    for m in config.metrics or []:
        if why[m]:
            can = ", ".join(n for n, w in why.items() if w is None) or "none"
            raise BenchInputError(f"metric {m!r} cannot score dataset {config.dataset!r}: {why[m]} (metrics that can: {can})")
    chosen = list(config.metrics) if config.metrics is not None else [n for n, w in why.items() if w is None]
    left_out = {} if config.metrics is not None else {n: w for n, w in why.items() if w}
    return chosen, left_out


def _route_settings(given: dict[str, dict[str, str]], variants: list[str], plugins: dict[str, str], divergences: list[str],
                    metrics: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """``--set NAME.PARAM=VALUE`` to (variant, divergence, metric) parameters, typed: NAME is a variant (or
    label), a divergence or a metric this bench uses; anything else, or a name two of them share, is refused."""
    out: tuple[dict, dict, dict] = ({}, {}, {})
    for name, values in given.items():
        kinds = [i for i, names in enumerate((variants, divergences, metrics)) if name in names]
        if not kinds:
            raise BenchInputError(f"--set names {name!r}, which this bench does not use (variants: {', '.join(variants)}; divergences: "
                                  f"{', '.join(divergences) or 'none'}; metrics: {', '.join(metrics) or 'none'})")
        if len(kinds) > 1:
            raise BenchInputError(f"--set {name}.*: {name!r} names both a {' and a '.join(('variant', 'divergence', 'metric')[k] for k in kinds)} "
                                  "in this bench; give the variant another label (LABEL=VARIANT)")
        kind = kinds[0]
        try:
            if kind == 0:
                cls = _get(registry.variants, plugins[name])
                out[0][name] = typed(values, cls.constructor_params(), f"variant {name!r}", also=TRAINING_PARAMS)
            elif kind == 1:
                cls = _get(registry.divergences, name)
                out[1][name] = typed(values, cls.constructor_params(), f"divergence {name!r}")
            else:
                out[2][name] = typed(values, _get(registry.metrics, name).constructor_params(), f"metric {name!r}")
        except ValueError as exc:
            raise BenchInputError(f"--set: {exc}") from None
    return out


def _placement(config: BenchConfig, device: torch.device, budget: Budget) -> tuple[list[torch.device], int, dict[str, Any]]:
    """One device per worker slot, the CPU threads each trial gets, and what to record about both.

    Trials that share a device slow each other down, so their device seconds are not those of a trial
    run alone: a seconds budget with several trials per device is refused unless allowed."""
    if config.executor not in ("local", "pool", "ray"):
        raise BenchInputError(f"unknown executor {config.executor!r} (known: local, pool, ray)")
    if config.executor == "ray" and importlib.util.find_spec("ray") is None:  # before anything is written
        raise BenchInputError('--executor ray needs Ray, which is not installed: pip install "ganzoo[ray]"')
    if config.workers < 1:
        raise BenchInputError(f"--workers must be at least 1, got {config.workers}")
    try:
        devices = [resolve_device(d) for d in config.devices] if config.devices else [device]
    except ValueError as exc:
        raise BenchInputError(f"--devices: {exc}") from None
    per_device = config.workers_per_device or max(1, -(-config.workers // len(devices)))
    if config.workers_per_device is not None and config.workers_per_device < 1:
        raise BenchInputError(f"--workers-per-device must be at least 1, got {config.workers_per_device}")
    slots = [d for d in devices for _ in range(per_device)] if config.devices else [device] * config.workers
    sharing = max(sum(1 for s in slots if s == d) for d in slots)
    if budget.is_time and sharing > 1 and not config.allow_shared_device:
        raise BenchInputError(f"a seconds budget ({budget.text}) with {sharing} trials at a time on {slots[0]}: trials sharing a device "
                              "slow each other, so their device seconds are not comparable; use a steps or images budget, one "
                              "worker per device, or --allow-shared-device (recorded)")
    if config.threads is not None and config.threads < 1:
        raise BenchInputError(f"--threads must be at least 1, got {config.threads}")
    cores = os.cpu_count() or 1
    threads = config.threads or max(1, cores // len(slots))
    note = {"executor": config.executor, "workers": len(slots), "threads_per_trial": threads, "trials_per_device": sharing,
            "shared_device_allowed": bool(sharing > 1 and budget.is_time)}
    return slots, threads, note


def check_writable(what: str, folder: Path) -> None:
    """Create ``folder`` and write a file in it, then remove what this check created (a refused bench
    leaves nothing behind); raises BenchInputError naming the folder."""
    folder = Path(folder).absolute()
    missing = []
    parent = folder
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ganzoo-write-test-"):
            pass
    except OSError as exc:
        raise BenchInputError(f"{what} {str(folder)!r} cannot be written: {exc.strerror or exc}") from None
    finally:
        for made in missing:  # deepest first
            try:
                made.rmdir()
            except OSError:
                break


def smoke_step(variant: Variant, info: DatasetInfo, n: int = 8) -> None:
    """One training step of ``variant`` on random stand-in data of the dataset's shape, on the CPU, with
    the RNG untouched: a value the variant accepts but cannot train with fails here, before any data loads."""
    from ganzoo.trainer import Trainer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        k = max(info.num_classes, 1)
        y = (torch.arange(max(n, 2 * k)) % k) if info.num_classes else None
        x = torch.rand(len(y) if y is not None else n, *info.shape) * 2 - 1
        stand_in = Data(name="stand-in", info=info, x=x, y=y, split="stand-in", source="random",
                        content=(torch.arange(len(x)) % info.content_classes) if info.content_classes else None)
        variant.batch_size = min(variant.batch_size, len(x))
        Trainer(variant, BatchSampler(stand_in, seed=0, device=torch.device("cpu")), amp=False).step()


def build_variant(name: str, divergence_name: str, info: DatasetInfo, overrides: dict[str, Any],
                  batch_size: int | None = None, plugin: str | None = None,
                  divergence_params: dict[str, Any] | None = None,
                  preset: dict[str, Any] | None = None) -> tuple[Variant, dict[str, Any]]:
    """The variant ``name`` with its divergence and hyper-parameters resolved, and the record of how.

    Precedence, highest first (:func:`resolve_settings`): the user's ``--set`` values (and
    ``--batch-size``), the divergence's paper recipe (unless the variant fixes its own recipe and runs
    with its own default divergence), the preset's values (``preset``), the variant's defaults. A recipe
    value the variant has no knob for is recorded as not applied. Raises ValueError for a value the
    variant refuses, and for a per-sample divergence (WGAN-GP) with a BatchNorm critic. ``name`` is the
    bench's label for ``plugin``, the installed variant (the same unless ``--variants LABEL=VARIANT``);
    ``divergence_params`` are the divergence's constructor arguments (``--set wasserstein-gp.gp_weight=5``)."""
    cls = _get(registry.variants, plugin or name)
    divergence = None if divergence_name == NO_DIVERGENCE else _get(registry.divergences, divergence_name)(**(divergence_params or {}))
    chosen, won, applied, skipped, follows = resolve_settings(cls, divergence_name, overrides, preset or {}, batch_size)
    ctor = cls.constructor_params()
    variant: Variant = cls(info=info, divergence=divergence, **{k: v for k, v in chosen.items() if k in ctor})
    variant.set_training(**{k: v for k, v in chosen.items() if k in TRAINING_PARAMS})  # checks them, constructor ones too
    recipe = getattr(divergence, "recipe", None)
    if recipe is not None and recipe.per_sample_critic:
        batchnorm = [net_name for net_name, net in variant.discriminators().items()
                     if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())]
        if batchnorm:
            knob = f" (--set {name}.d_norm=layer, as the paper advises)" if "d_norm" in ctor else ""
            raise ValueError(f"divergence {divergence_name!r} needs a critic that scores each sample on its own (its penalty "
                             f"is per sample), but {name}'s {', '.join(batchnorm)} uses BatchNorm; switch it off{knob}")
    record = {
        "source": (f"{divergence_name} ({type(divergence).paper})" if follows
                   else f"{name}'s own ({cls.paper})" if recipe is not None else None),
        "applied": applied, "not_applicable": skipped, "user_set": dict(overrides), "divergence_params": dict(divergence_params or {}),
        "preset_set": dict(preset or {}), "won": won,
        "d_steps": variant.d_steps, "optimizer": variant.optimizer, "update": variant.update,
    }
    return variant, record


def resolve_settings(cls: type[Variant], divergence_name: str, overrides: dict[str, Any], preset: dict[str, Any],
                     batch_size: int | None) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], list[str], bool]:
    """One variant's settings from its layers, highest first: ``--set`` (then ``--batch-size``), the
    divergence's recipe, the preset, the variant's defaults (left to the constructor). Returns (the chosen
    values, which layer each came from: ``set``, ``batch-size``, ``recipe`` or ``preset``; the recipe's
    applied values, the recipe's keys the variant has no knob for, whether the recipe applies)."""
    recipe = None
    if divergence_name != NO_DIVERGENCE:
        recipe = getattr(_get(registry.divergences, divergence_name), "recipe", None)
    follows = recipe is not None and not (cls.own_recipe and divergence_name == cls.default_divergence)
    ctor = cls.constructor_params()
    applied, skipped = {}, []
    if follows:
        for key, value in recipe.settings().items():  # type: ignore[union-attr]
            if key in overrides:
                continue
            if key in ctor or key in TRAINING_PARAMS:
                applied[key] = value
            else:
                skipped.append(key)
    layers = [("preset", preset), ("recipe", applied),
              ("batch-size", {"batch_size": batch_size} if batch_size and "batch_size" in ctor else {}), ("set", overrides)]
    chosen: dict[str, Any] = {}
    won: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            chosen[key], won[key] = value, source
    return chosen, won, applied, skipped, follows


def user_settings(overrides: dict[str, Any], batch_size: int | None) -> dict[str, Any]:
    """What the user set for one variant: its ``--set`` values and ``--batch-size`` (which ``--set`` beats)."""
    return {**({"batch_size": batch_size} if batch_size else {}), **overrides}


def settings_text(p: Plan, variant: str, divergence: str = NO_DIVERGENCE) -> str:
    """What this variant x divergence was told beyond its defaults and its divergence's recipe, as
    ``key=value;...`` (sorted; a divergence's own as ``divergence.key=value``): the user's values and the
    preset's where they won. It is the ``settings`` column, which tables group by, so runs that differ only in
    a ``--set`` value are never averaged together."""
    cls = _get(registry.variants, p.plugin(variant))
    _, won, _, _, _ = resolve_settings(cls, divergence, p.hparams.get(variant, {}), p.preset_hparams.get(variant, {}), None)
    given = {k: v for k, v in p.preset_hparams.get(variant, {}).items() if won.get(k) == "preset"}
    given.update(user_settings(p.hparams.get(variant, {}), p.config.batch_size))
    given.update({f"{divergence}.{k}": v for k, v in p.divergence_params.get(divergence, {}).items()})
    return ";".join(f"{k}={v}" for k, v in sorted(given.items()))


def eval_options(p: Plan) -> EvalOptions:
    """What every process that prepares this bench's metrics must be told: the chosen metrics and their parameters."""
    return EvalOptions(p.config.features, p.config.inception_weights, tuple(p.metrics), p.metric_params)


def _starved_of_real_scores(cls: type[Variant], divergences: list[str]) -> list[str]:
    """The divergences among ``divergences`` whose G loss needs D's scores on real data, which the
    adversarial variant ``cls`` does not pass (relativistic losses)."""
    if not cls.adversarial or cls.real_scores_for_g:
        return []
    return [d for d in divergences if d != NO_DIVERGENCE and _get(registry.divergences, d).needs_real_scores]


def _incompatible(cls: type[Variant], name: str, info: DatasetInfo) -> str | None:
    """Why the variant cannot run on the dataset, or None when it can."""
    try:
        cls.check_data(name, info)
        return None
    except IncompatibleData as exc:
        return str(exc)


def _check_out(out: Path, force: bool) -> None:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BenchInputError(f"--out {str(out)!r} is a file, not a folder")
    held = live_holder(out)
    if held:
        raise BenchInputError(held)
    holds = [p.name for p in (out / "results.csv", out / MANIFEST, out / "runs") if p.exists()]
    if holds and not force:
        raise BenchInputError(f"--out {str(out)!r} already holds another bench's results ({', '.join(holds)}); choose a new "
                              f"folder, continue it with --resume {out}, or pass --force to replace it")


def clear_out(out: Path) -> None:
    """Remove an old bench's files from ``out``: called only by a bench that planned and holds the lock."""
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


