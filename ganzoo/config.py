"""What ``ganzoo bench`` is asked for, before anything is resolved: :class:`BenchConfig` (the schema
bench.json records and ``--resume`` reads back), its one error type, and the checks that need neither
torch nor a plugin's code, so a mistyped budget or seed list is refused before torch loads.

This module imports nothing of ganzoo but :mod:`ganzoo.budget`; presets, the planner and the CLI read it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ganzoo.budget import Budget

NO_DIVERGENCE = "none"  # the divergence column of a variant without a discriminator
EVAL_POINTS = 4  # default: evaluate at the start and after each quarter of the budget
EXECUTORS = ("local", "pool", "ray")
# ganzoo's dataset classifier, and torch-fidelity's extractors by their own names (DINOv2 as dgm-eval uses it)
FEATURE_SPACES = (
    "classifier",
    "inception",
    "vgg16",
    "clip-vit-b-32",
    "clip-vit-b-16",
    "clip-vit-l-14",
    "dinov2-vit-s-14",
    "dinov2-vit-b-14",
    "dinov2-vit-l-14",
    "dinov2-vit-g-14",
)
MACHINE_OPTIONS = ("cache_dir", "data_dir", "ray_address")  # where a resumed bench reads, writes and connects


class Settings:
    """``--set NAME.PARAM=VALUE``, in its one place: parsed from the command line into ``{name: {param:
    text}}`` (what BenchConfig.settings and bench.json hold), rendered back as the flags that give it (a
    preset's recorded overrides), rendered as the ``settings`` column of the results (``key=value;...``,
    sorted) and read back from that column by the tables. Typing a value is the plugin's business
    (:func:`ganzoo.params.typed`, where the planner routes each name to its plugin)."""

    FORM = "NAME.PARAM=VALUE, NAME a variant, divergence or metric (e.g. cyclegan.identity_weight=0.5)"

    @staticmethod
    def parse(items: list[str] | tuple[str, ...]) -> dict[str, dict[str, str]]:
        """``["cyclegan.identity_weight=0.5", ...]`` -> ``{"cyclegan": {"identity_weight": "0.5"}}``; raises
        ValueError naming an item not of the form."""
        out: dict[str, dict[str, str]] = {}
        for item in items:
            key, eq, value = item.partition("=")
            name, dot, param = key.partition(".")
            if not (eq and dot and name and param):
                raise ValueError(f"{item!r} is not {Settings.FORM}")
            out.setdefault(name, {})[param] = value
        return out

    @staticmethod
    def flags(values: dict[str, dict[str, Any]]) -> list[str]:
        """The ``--set`` options that give ``values``."""
        return [f"--set {name}.{param}={value}" for name, kv in values.items() for param, value in kv.items()]

    @staticmethod
    def column(values: dict[str, Any]) -> str:
        """One run's settings as the ``settings`` column spells them: ``key=value;...``, sorted."""
        return ";".join(f"{k}={v}" for k, v in sorted(values.items()))

    @staticmethod
    def read_column(text: Any) -> dict[str, str]:
        """The ``settings`` column read back: ``key=value;...`` -> {key: value as text}."""
        return dict(kv.partition("=")[::2] for kv in str(text).split(";") if kv)


class BenchInputError(ValueError):
    """Bad input found before anything was trained or written."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("GANZOO_CACHE", Path.home() / ".cache" / "ganzoo"))


@dataclass(frozen=True)
class DataSource:
    """Where a bench's data comes from: what a worker needs to load it again, and nothing else."""

    dataset: str = "digits"
    data_dir: Path | None = None
    split: str = "auto"
    download: bool = True


@dataclass
class BenchConfig:
    variants: list[str] | None = (
        None  # None: every installed variant that can run on the dataset; LABEL=VARIANT names a setting
    )
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
    channels_last: bool = False  # measured speed options (benchmarks/gpu.py): they leave the maths as it is, up to
    compile: bool = False  # rounding (torch.compile's fused kernels round differently)
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
    settings: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # variant label, divergence or metric -> {parameter: value as text}
    # a preset's own values per variant label: below a divergence's recipe and the user's --set (see factory.create_variant)
    preset_settings: dict[str, dict[str, str]] = field(default_factory=dict)
    metrics: list[str] | None = None  # metric plugins to compute; None: every installed one that applies to the dataset
    preset: str | None = None  # the preset this bench started from (see ganzoo.presets), recorded with its overrides
    preset_overrides: list[str] = field(default_factory=list)  # the options given beside --preset
    tensorboard: bool = False  # event files per run under RESULTS/tensorboard (ganzoo.board)
    sweep: dict[str, Any] | None = None  # a sweep's record (ganzoo.search): space, sampler, seed, each sample's values

    @property
    def source(self) -> DataSource:
        return DataSource(self.dataset, self.data_dir, self.split, self.download)

    def to_json(self) -> dict[str, Any]:
        """As written into bench.json, which is all ``ganzoo bench --resume`` needs."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> BenchConfig:
        """The config a bench.json records, each value checked for its type first (a results folder may be
        copied or crafted): raises :class:`BenchInputError` naming the field. The values themselves get the
        command line's checks in :func:`plan`."""
        known = {f.name: f for f in fields(cls)}
        obj = {_RENAMED.get(k, k): v for k, v in obj.items()}  # a bench.json written before a field's rename
        kw = {k: v for k, v in obj.items() if k in known}
        for key, value in kw.items():
            why = _json_type_error(key, value, cls.__dataclass_fields__[key].default)
            if why:
                raise BenchInputError(f"bench.json: {key} = {json.dumps(value)[:80]}: {why}")
        for k in ("out", "data_dir", "cache_dir", "inception_weights"):
            if kw.get(k) is not None:
                kw[k] = Path(kw[k])
        return cls(**kw)


_RENAMED = {"hparams": "settings", "preset_hparams": "preset_settings"}  # old bench.json name -> field
_INT_LISTS = ("seeds",)
_STR_LISTS = ("variants", "divergences", "devices", "metrics", "preset_overrides")
_SETTINGS = ("settings", "preset_settings")
_INTS = {
    "batch_size": 1,
    "workers_per_device": 1,
    "threads": 1,
    "workers": 1,
    "max_retries": 0,
}  # the least each may be


def _json_type_error(key: str, value: Any, default: Any) -> str | None:
    """Why ``value`` cannot be BenchConfig's ``key`` as read from JSON, or None."""
    if key in _INT_LISTS:
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        return None if ok else "expected a list of non-negative integers"
    if key in _STR_LISTS:
        ok = value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        return None if ok else "expected a list of strings"
    if key in _SETTINGS:
        ok = isinstance(value, dict) and all(
            isinstance(n, str)
            and isinstance(kv, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in kv.items())
            for n, kv in value.items()
        )
        return None if ok else "expected {name: {parameter: value as text}}"
    if key == "sweep":  # only read back into tables and the page; its samples' values are in settings, checked there
        return None if value is None or isinstance(value, dict) else "expected a sweep record"
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


def split_variant(item: str) -> tuple[str, str]:
    """``VARIANT`` or ``LABEL=VARIANT`` (``pacgan4=gan``, with ``--set pacgan4.pack=4``) -> (label, variant):
    one installed variant benched under several settings, each its own rows in the tables. A label bound to
    one divergence (``LABEL=VARIANT@DIVERGENCE``, as a sweep's samples are) gives its variant here."""
    label, name, _ = split_bound(item)
    return label, name


def split_bound(item: str) -> tuple[str, str, str | None]:
    """``LABEL=VARIANT@DIVERGENCE`` -> (label, variant, divergence): a label that runs only that divergence,
    whatever ``--divergences`` says (a sweep samples settings per variant and divergence); None when unbound."""
    label, eq, name = item.partition("=")
    if not eq:
        return item.strip(), item.strip(), None
    name, at, divergence = name.partition("@")
    return label.strip(), name.strip(), (divergence.strip() if at else None)


def split_dataset(spec: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME:ARGUMENT`` (``celeba:Blond_Hair,Black_Hair``) -> (name, argument or None)."""
    name, sep, argument = spec.partition(":")
    return name, (argument if sep else None)


def check(config: BenchConfig) -> tuple[Budget, Budget, Budget | None]:
    """The checks of a bench config that need no plugin code, torch or data, so the CLI can refuse a bad
    value before either loads (the planner runs them first too). Returns the parsed budget, evaluation
    interval and checkpoint interval; raises :class:`BenchInputError` naming the value."""
    try:
        budget = Budget.parse(config.budget)
        eval_every = Budget.parse(config.eval_every) if config.eval_every else budget.split(EVAL_POINTS)
        checkpoint_every = Budget.parse(config.checkpoint_every) if config.checkpoint_every else None
    except ValueError as exc:
        raise BenchInputError(str(exc)) from None
    if config.features not in FEATURE_SPACES:
        raise BenchInputError(f"unknown feature space {config.features!r} (known: {', '.join(FEATURE_SPACES)})")
    if not config.seeds or any(s < 0 for s in config.seeds):
        raise BenchInputError(f"seeds must be non-negative integers, got {config.seeds}")
    if config.metrics is not None and not config.metrics:
        raise BenchInputError("--metrics names no metric")
    for flag, value in (
        ("--batch-size", config.batch_size),
        ("--workers", config.workers),
        ("--workers-per-device", config.workers_per_device),
        ("--threads", config.threads),
    ):
        if value is not None and value < 1:
            raise BenchInputError(f"{flag} must be at least 1, got {value}")
    if config.executor not in EXECUTORS:
        raise BenchInputError(f"unknown executor {config.executor!r} (known: {', '.join(EXECUTORS)})")
    if config.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise BenchInputError(
            '--tensorboard needs TensorBoard, which is not installed: pip install "ganzoo[tensorboard]"'
        )
    if config.executor == "ray" and importlib.util.find_spec("ray") is None:  # before anything is written
        raise BenchInputError('--executor ray needs Ray, which is not installed: pip install "ganzoo[ray]"')
    return budget, eval_every, checkpoint_every


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
