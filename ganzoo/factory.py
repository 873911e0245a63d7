"""Plugin objects built by name: the one place a variant, divergence or dataset named in a bench (or a
check) becomes an object, with the settings of every layer resolved in one order and the record of which
layer won. The planner, a trial and the conformance kit all build through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch.nn.utils import parametrize

from ganzoo import registry
from ganzoo.config import NO_DIVERGENCE, BenchConfig, BenchInputError, DataSource, Settings, split_dataset
from ganzoo.data import BatchSampler, Data, DatasetInfo, describe_dataset, in_range, read_in, split_range
from ganzoo.divergence import Divergence
from ganzoo.training import TRAINING_PARAMS, Training, check_z_dist
from ganzoo.variant import Variant


def get_plugin(reg: registry.Registry, name: str) -> Any:
    """The plugin class ``name`` of a registry; an unknown or broken one is a :class:`BenchInputError`."""
    try:
        return reg.get(name)
    except registry.PluginError as exc:
        raise BenchInputError(str(exc)) from None


def dataset_info(spec: str, data_dir: Path | None = None) -> DatasetInfo:
    """The info of a dataset spec with ``--data-dir``, checked: an unknown name, a bad argument or a
    folder the dataset cannot describe is a BenchInputError. The argument's ``unit-range`` token is the
    core's (see :func:`ganzoo.data.split_range`)."""
    name, argument = split_dataset(spec)
    cls = get_plugin(registry.datasets, name)
    argument, value_range = split_range(argument)
    try:
        return in_range(describe_dataset(cls, argument, data_dir), value_range)
    except ValueError as exc:
        what = f" (it takes {cls.argument})" if cls.argument else ""
        raise BenchInputError(f"dataset {spec!r}: {exc}{what}") from None


def check_source(source: DataSource) -> DatasetInfo:
    """The info of the dataset a bench or a score reads, checked before anything loads: a known dataset, its
    argument and ``--data-dir``, and a split it has."""
    cls = get_plugin(registry.datasets, split_dataset(source.dataset)[0])
    info = dataset_info(source.dataset, source.data_dir)
    if source.split != "auto" and source.split not in cls.splits:
        raise BenchInputError(
            f"dataset {source.dataset!r} has no split {source.split!r} (splits: auto, {', '.join(cls.splits)})"
        )
    return info


def load_checked(source: DataSource) -> Data:
    """:func:`load_data`, with what goes wrong as one BenchInputError: the dataset's own account of what is missing
    or wrong, or a plugin's bug named with its package."""
    try:
        return load_data(source)
    except (FileNotFoundError, ValueError) as exc:
        raise BenchInputError(f"dataset {source.dataset!r} could not be loaded: {exc}") from None
    except Exception as exc:
        entry = registry.datasets.entry(split_dataset(source.dataset)[0])
        raise BenchInputError(
            f"dataset {source.dataset!r} ({entry.target} from {entry.package}) failed to load"
            f"{registry.where(exc)}: {type(exc).__name__}: {exc}"
        ) from None


def smoke_step(built: Built, info: DatasetInfo, n: int = 8, device: torch.device | None = None) -> None:
    """One training step of a built variant on random stand-in data of the dataset's shape, on the CPU (or
    ``device``, where the planner measures a trial's footprint), with the RNG untouched: a value the variant accepts
    but cannot train with fails here, before any data loads."""
    device = device or torch.device("cpu")
    from ganzoo.trainer import Trainer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        k = max(info.num_classes, 1)
        y = (torch.arange(max(n, 2 * k)) % k) if info.num_classes else None
        x = torch.rand(len(y) if y is not None else n, *info.shape) * 2 - 1
        stand_in = Data(
            name="stand-in",
            info=info,
            x=x,
            y=y,
            split="stand-in",
            source="random",
            content=(torch.arange(len(x)) % info.content_classes) if info.content_classes else None,
        )
        variant = built.variant.to(device)
        variant.batch_size = min(variant.batch_size, len(x))
        Trainer(variant, BatchSampler(stand_in, seed=0, device=device), built.training, amp=False).step()


# settings that reach only the optimizer and the trainer's loop: specs that differ only in these (and in their
# divergence's parameters) build the same networks, so the planner and a sweep check each distinct build once
LOOP_ONLY = ("lr", "beta1", "beta2", "d_steps", "g_steps")


@dataclass(frozen=True)
class VariantSpec:
    """What one trial builds: a variant (by its bench label and the installed plugin it runs) with a
    divergence, and every layer of settings, typed: the user's ``--set`` values, ``--batch-size``, the
    divergence's constructor arguments and the preset's values. Built the same way by the planner (to
    check it), the trial (to train it), ``score``, the conformance kit and the tests: :func:`create_variant`."""

    label: str
    plugin: str
    divergence: str
    settings: dict[str, Any] = field(default_factory=dict)
    batch_size: int | None = None
    divergence_params: dict[str, Any] = field(default_factory=dict)
    preset: dict[str, Any] = field(default_factory=dict)
    # the preset's values beat a divergence's recipe: the paper trained every loss with its own recipe (Mimicry's
    # WGAN-GP row: Adam(2e-4, (0, 0.9)), not WGAN-GP's 1e-4)
    preset_over_recipe: bool = False

    def given(self) -> dict[str, Any]:
        """The settings this variant was given beyond its defaults: the preset's values and the user's
        (``--set`` beats ``--batch-size`` beats the preset)."""
        return {**self.preset, **user_settings(self.settings, self.batch_size)}

    def column(self) -> str:
        """The ``settings`` column: what the variant was told beyond its defaults and its divergence's
        recipe (the user's values and the preset's where they won; a divergence's own as
        ``divergence.key=value``). Tables group by it, so runs that differ only in a ``--set`` value are never
        averaged together."""
        cls = get_plugin(registry.variants, self.plugin)
        won = resolve_settings(cls, self.divergence, self.settings, self.preset, None, self.preset_over_recipe).won
        given = {k: v for k, v in self.preset.items() if won.get(k) == "preset"}
        given.update(user_settings(self.settings, self.batch_size))
        given.update({f"{self.divergence}.{k}": v for k, v in self.divergence_params.items()})
        return Settings.column(given)

    def structure(self) -> tuple:
        """What decides the networks this spec builds: everything but :data:`LOOP_ONLY` and the divergence's
        parameters (Lucic et al.'s 100 draws per loss differ mostly in those; compare_gan's CelebA networks hold
        67M parameters and take a second to build)."""

        def kept(values: dict[str, Any]) -> tuple:
            return tuple(sorted((k, repr(v)) for k, v in values.items() if k not in LOOP_ONLY))

        return (
            self.plugin,
            self.divergence,
            self.batch_size,
            self.preset_over_recipe,
            kept(self.settings),
            kept(self.preset),
        )


@dataclass(frozen=True)
class Resolved:
    """One variant's settings from their layers (:func:`resolve_settings`)."""

    values: dict[str, Any]  # the chosen values of every layer above the variant's defaults
    won: dict[str, str]  # which layer each came from: set, batch-size, recipe or preset
    recipe_applied: dict[str, Any]  # the divergence recipe's values that apply
    recipe_skipped: list[str]  # the recipe's keys this variant has no knob for
    follows_recipe: bool  # whether the divergence's recipe applies at all


@dataclass
class Built:
    """A variant object, the training settings its trainer runs with, and the record of which layer each
    setting came from (config.json's ``recipe``)."""

    variant: Variant
    training: Training
    record: dict[str, Any]

    def settings(self) -> dict[str, Any]:
        """Every resolved setting as config.json records them: the constructor's, the noise's and the trainer's."""
        return {**self.variant.hparams(), **self.training.record()}


def create_variant(spec: VariantSpec, info: DatasetInfo) -> Built:
    """The variant of ``spec`` with its divergence and settings resolved, its training settings, and the record of how.

    Precedence, highest first (:func:`resolve_settings`): the user's ``--set`` values (and
    ``--batch-size``), the divergence's paper recipe (unless the variant fixes its own recipe and runs
    with its own default divergence), the preset's values, the variant's defaults. A recipe value the
    variant has no knob for is recorded as not applied. Raises ValueError for a value the variant refuses,
    and for a per-sample divergence (WGAN-GP) with a BatchNorm critic."""
    name = spec.label
    cls = get_plugin(registry.variants, spec.plugin)
    divergence = (
        None
        if spec.divergence == NO_DIVERGENCE
        else get_plugin(registry.divergences, spec.divergence)(**spec.divergence_params)
    )
    resolved = resolve_settings(
        cls, spec.divergence, spec.settings, spec.preset, spec.batch_size, spec.preset_over_recipe
    )
    chosen = resolved.values
    ctor = cls.constructor_params()
    variant: Variant = cls(info=info, divergence=divergence, **{k: v for k, v in chosen.items() if k in ctor})
    if "z_dist" in chosen:
        variant.z_dist = check_z_dist(chosen["z_dist"])
    training = training_settings(cls, chosen, getattr(variant, "declared_training", {}))
    recipe = getattr(divergence, "recipe", None)
    if recipe is not None and recipe.per_sample_critic:
        batchnorm = [
            net_name
            for net_name, net in variant.discriminators().items()
            if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())
        ]
        if batchnorm:
            knob = f" (--set {name}.d_norm=layer, as the paper advises)" if "d_norm" in ctor else ""
            raise ValueError(
                f"divergence {spec.divergence!r} needs a critic that scores each sample on its own (its penalty "
                f"is per sample), but {name}'s {', '.join(batchnorm)} uses BatchNorm; switch it off{knob}"
            )
    if divergence is not None and type(divergence).after_d_step is not Divergence.after_d_step:
        normalised = [
            net_name
            for net_name, net in variant.discriminators().items()
            if any(parametrize.is_parametrized(m, "weight") for m in net.modules())
        ]
        if normalised:
            knob = f" (--set {name}.spectral_norm=false)" if "spectral_norm" in ctor else ""
            raise ValueError(
                f"divergence {spec.divergence!r} edits the critic's weights after every step (WGAN's clipping), and "
                f"{name}'s {', '.join(normalised)} is spectrally normalised, a reparametrisation those edits would "
                f"bypass; switch one off{knob} or use another divergence (hinge, wasserstein-gp)"
            )
    record = {
        "source": (
            f"{spec.divergence} ({type(divergence).paper})"
            if resolved.follows_recipe
            else f"{name}'s own ({cls.paper})"
            if recipe is not None
            else None
        ),
        "applied": resolved.recipe_applied,
        "not_applicable": resolved.recipe_skipped,
        "user_set": dict(spec.settings),
        "divergence_params": dict(spec.divergence_params),
        "preset_set": dict(spec.preset),
        "won": resolved.won,
        "d_steps": training.d_steps,
        "optimizer": training.optimizer,
        "update": training.update,
    }
    return Built(variant, training, record)


def training_of(spec: VariantSpec, like: Built | None = None) -> Training:
    """``spec``'s training settings and divergence, checked without building its networks (a bad value is a
    ValueError, as :func:`create_variant` raises it); ``like``: a built variant of the same :meth:`VariantSpec.structure`."""
    cls = get_plugin(registry.variants, spec.plugin)
    if spec.divergence != NO_DIVERGENCE:
        get_plugin(registry.divergences, spec.divergence)(**spec.divergence_params)
    chosen = resolve_settings(
        cls, spec.divergence, spec.settings, spec.preset, spec.batch_size, spec.preset_over_recipe
    ).values
    return training_settings(cls, chosen, getattr(like.variant, "declared_training", {}) if like else {})


def training_settings(cls: type[Variant], chosen: dict[str, Any], declared: dict[str, Any] | None = None) -> Training:
    """The trainer's settings: each chosen value, else the variant's declared default (a constructor argument or
    class attribute of that name; ``declared``: what a plugin written before the trainer owned them set with the
    deprecated ``Variant.set_training``), else ganzoo's (:class:`~ganzoo.training.Training`)."""
    ctor = cls.constructor_params()
    declared = declared or {}
    values = {}
    for f in fields(Training):
        if f.name == "adversarial":
            continue
        if f.name in chosen:
            values[f.name] = chosen[f.name]
        elif f.name in declared:
            values[f.name] = declared[f.name]
        elif f.name in ctor:
            values[f.name] = ctor[f.name]
        else:  # a class attribute of that name (StarGAN's d_steps = 5), never a method that happens to share it
            declared_value = getattr(cls, f.name, f.default)
            values[f.name] = f.default if callable(declared_value) else declared_value
    return Training(**values, adversarial=cls.adversarial)


def resolve_settings(
    cls: type[Variant],
    divergence_name: str,
    settings: dict[str, Any],
    preset: dict[str, Any],
    batch_size: int | None,
    preset_over_recipe: bool = False,
) -> Resolved:
    """One variant's settings from their layers, highest first: ``--set`` (then ``--batch-size``), the
    divergence's recipe, the preset, the variant's defaults (left to the constructor and :func:`training_settings`).
    ``preset_over_recipe``: the preset's values beat the recipe's (a study that trained every loss its own way)."""
    recipe = None
    if divergence_name != NO_DIVERGENCE:
        recipe = getattr(get_plugin(registry.divergences, divergence_name), "recipe", None)
    follows = recipe is not None and not (cls.own_recipe and divergence_name == cls.default_divergence)
    ctor = cls.constructor_params()
    applied, skipped = {}, []
    if follows:
        for key, value in recipe.settings().items():  # type: ignore[union-attr]
            if key in settings or (preset_over_recipe and key in preset):
                continue
            if key in ctor or key in TRAINING_PARAMS:
                applied[key] = value
            else:
                skipped.append(key)
    layers = [
        *(
            [("recipe", applied), ("preset", preset)]
            if preset_over_recipe
            else [("preset", preset), ("recipe", applied)]
        ),
        ("batch-size", {"batch_size": batch_size} if batch_size and "batch_size" in ctor else {}),
        ("set", settings),
    ]
    chosen: dict[str, Any] = {}
    won: dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            chosen[key], won[key] = value, source
    return Resolved(chosen, won, applied, skipped, follows)


def user_settings(settings: dict[str, Any], batch_size: int | None) -> dict[str, Any]:
    """What the user set for one variant: its ``--set`` values and ``--batch-size`` (which ``--set`` beats)."""
    return {**({"batch_size": batch_size} if batch_size else {}), **settings}


def load_data(source: DataSource | BenchConfig) -> Data:
    """Load the dataset; its name in the results is the whole spec, so different arguments never compare."""
    if isinstance(source, BenchConfig):
        source = source.source
    name, argument = split_dataset(source.dataset)
    cls = get_plugin(registry.datasets, name)
    argument, value_range = split_range(argument)
    extra = {} if argument is None else {"argument": argument}
    data = cls.load(
        name=source.dataset, data_dir=source.data_dir, split=source.split, download=source.download, **extra
    )
    return read_in(data, value_range)
