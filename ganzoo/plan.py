"""A bench, resolved and checked before anything is trained or written: the trials a
:class:`~ganzoo.config.BenchConfig` expands to (:class:`TrialSpec`: one variant x divergence x seed x
settings each) and everything a trial needs to know about them (:class:`Plan`).

Every way the input can be wrong (names, budget, data kind, settings a variant refuses or cannot train
with, an output or cache folder that cannot be written) is a :class:`BenchInputError` raised here, so a
bad bench fails in a second with one line, not after metric preparation.
"""

from __future__ import annotations

import functools
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganzoo import config as configuration
from ganzoo import fingerprint, presets, registry
from ganzoo.budget import Budget
from ganzoo.config import (
    NO_DIVERGENCE,
    BenchConfig,
    BenchInputError,
    DataSource,
    check_writable,
    default_cache_dir,
    split_bound,
    split_dataset,
)
from ganzoo.data import DatasetInfo
from ganzoo.device import resolve_device, step_footprint, trials_per_device
from ganzoo.evaluation import metric_unsuitable
from ganzoo.factory import VariantSpec, check_source, create_variant, get_plugin, smoke_step, training_of
from ganzoo.fingerprint import code_fingerprint
from ganzoo.lock import live_holder
from ganzoo.metrics.base import EvalOptions
from ganzoo.params import typed
from ganzoo.results import MANIFEST
from ganzoo.training import TRAINING_PARAMS
from ganzoo.trial_spec import TrialKey, TrialSpec
from ganzoo.variant import IncompatibleData, Variant


@dataclass(frozen=True)
class Plan:
    """A checked bench: everything resolved, nothing trained or written yet. ``runs`` are self-contained;
    the rest is what the runner and the executors need for the bench as a whole (its folder, where its
    workers run, what it left out and why, and the config bench.json records)."""

    config: BenchConfig  # as asked for: bench.json records it, and ``--resume`` plans it again
    runs: list[TrialSpec]
    budget: Budget
    device: torch.device
    info: DatasetInfo
    source: DataSource
    out: Path
    cache_dir: Path
    evaluation: EvalOptions
    executor: str  # "local", "pool" or "ray"
    devices: list[torch.device]  # one entry per worker slot
    threads: int  # torch CPU threads per trial
    max_retries: int
    ray_address: str | None
    executor_note: dict[str, Any]
    code: dict[str, Any]  # the code fingerprint: ganzoo's and each plugin's version and source hash
    plugins: dict[str, str] = field(default_factory=dict)  # variant label -> installed variant it runs
    left_out: dict[str, str] = field(default_factory=dict)  # default bench: installed variants it does not run, and why
    metrics: list[str] = field(default_factory=list)  # the metric plugins it computes
    metrics_left_out: dict[str, str] = field(default_factory=dict)  # installed metrics it does not compute, and why
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # --set on a variant, typed
    divergence_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # --set on a divergence, typed
    preset_settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # a preset's values per variant, typed

    @property
    def workers(self) -> int:
        return len(self.devices)

    def plugin(self, variant: str) -> str:
        """The installed variant a bench's variant (or label) runs."""
        return self.plugins.get(variant, variant)


def _labels(items: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Labels of ``--variants`` -> installed variants, and -> the divergence a label is bound to
    (``LABEL=VARIANT@DIVERGENCE``), checked: a label is a safe folder name, given once, and never the name of
    another installed variant (``gan=dcgan`` would put DCGAN's rows under GAN)."""
    out: dict[str, str] = {}
    bound_to: dict[str, str] = {}
    for item in items:
        label, name, bound = split_bound(item)
        get_plugin(registry.variants, name)
        if bound is not None:
            get_plugin(registry.divergences, bound)
        if not registry.SAFE_NAME.match(label):
            raise BenchInputError(
                f"variant label {label!r} in {item!r}: labels are letters, digits and . _ + - (not first)"
            )
        if label != name and label in registry.variants.names():
            raise BenchInputError(
                f"variant label {label!r} in {item!r} is the name of another installed variant; choose another label"
            )
        if label in out:
            raise BenchInputError(f"variant {label!r} is given twice in --variants")
        out[label] = name
        if bound is not None:
            bound_to[label] = bound
    return out, bound_to


def default_variants(config: BenchConfig, info: DatasetInfo) -> tuple[list[str], dict[str, str]]:
    """The default bench's variants (``--variants`` left out): every installed one that can run on the dataset
    with the bench's divergences, and the others with why each is left out."""
    left_out: dict[str, str] = {}
    for n in registry.variants.names():
        entry = registry.variants.entry(n)
        starved = [] if entry.error else _starved_of_real_scores(entry.obj, config.divergences or [])
        why = (
            entry.error
            or _incompatible(entry.obj, config.dataset, info)
            or (f"its G loss gets no scores on real data, which {', '.join(starved)} needs" if starved else None)
        )
        if why:
            left_out[n] = why
    names = [n for n in registry.variants.names() if n not in left_out]
    if not names:
        raise BenchInputError(
            f"no installed variant can run on dataset {config.dataset!r}: "
            + "; ".join(f"{n}: {why}" for n, why in left_out.items())
        )
    return names, left_out


def plan(config: BenchConfig, *, resuming: bool = False) -> Plan:
    """Resolve and check a bench config; raises :class:`BenchInputError` naming the bad value.
    ``resuming``: the output folder holds this bench already."""
    budget, eval_every, checkpoint_every = configuration.check(config)
    info = check_source(config.source)
    try:
        device = resolve_device(config.device)
    except ValueError as exc:
        raise BenchInputError(str(exc)) from None
    if config.amp and device.type != "cuda":
        raise BenchInputError(f"--amp needs a CUDA device, but the device is {device}")
    if config.features != "classifier" and not info.is_image:
        raise BenchInputError(
            f"--features {config.features} needs images; dataset {config.dataset!r} holds {info.describe()}"
        )
    metrics, metrics_left_out = choose_metrics(config, info)
    if config.preset is not None:
        presets.get(config.preset)

    left_out: dict[str, str] = {}
    bound: dict[str, str] = {}
    if config.variants is None:  # the default bench: whatever can run here, and why the others are left out
        names, left_out = default_variants(config, info)
        plugins = {n: n for n in names}
    else:
        plugins, bound = _labels(config.variants)
        names = list(plugins)
        for name, plugin in plugins.items():
            why = _incompatible(get_plugin(registry.variants, plugin), config.dataset, info)
            if why:
                raise BenchInputError(f"variant {name!r} cannot run on dataset {config.dataset!r}: {why}")
    for div in config.divergences or []:
        get_plugin(registry.divergences, div)

    def divergences_of(v: str) -> list[str]:
        cls = get_plugin(registry.variants, plugins[v])
        if not cls.adversarial:
            return [NO_DIVERGENCE]  # a baseline without D: one run, whatever --divergences says
        if bound.get(v):
            return [bound[v]]  # LABEL=VARIANT@DIVERGENCE
        return config.divergences or [cls.default_divergence]

    if config.divergences and not any(get_plugin(registry.variants, plugins[v]).adversarial for v in names):
        raise BenchInputError(
            f"--divergences {','.join(config.divergences)}: no variant of this bench has a discriminator "
            f"({', '.join(names)}), so no divergence applies; leave --divergences out"
        )
    runs = [TrialKey(v, d, s) for v in names for d in divergences_of(v) for s in config.seeds]
    for v in names:
        starved = _starved_of_real_scores(get_plugin(registry.variants, plugins[v]), divergences_of(v))
        if starved:
            raise BenchInputError(
                f"divergence {starved[0]!r} needs D's scores on real data in G's loss, and variant "
                f"{v!r} does not pass them (a variant passes them with Variant.adversarial_g "
                "and declares real_scores_for_g = True)"
            )
    used_divergences = sorted({r.divergence for r in runs} - {NO_DIVERGENCE})
    routed = _route_settings(config.settings, names, plugins, used_divergences, metrics)
    preset_settings = _route_settings(
        {v: s for v, s in config.preset_settings.items() if v in names}, names, plugins, [], []
    ).variants

    def variant_spec(v: str, d: str) -> VariantSpec:
        div = {
            **routed.divergences.get(d, {}),
            **routed.label_divergences.get(v, {}).get(d, {}),
        }  # a label's own beat the divergence's
        return VariantSpec(
            v,
            plugins[v],
            d,
            routed.variants.get(v, {}),
            config.batch_size,
            div,
            preset_settings.get(v, {}),
            config.preset is not None and presets.get(config.preset).over_recipe,
        )

    # a GPU left to ganzoo (no --devices, --workers or --workers-per-device) under a steps or images budget is shared:
    # as many trials as fit by their measured footprint (see device.trials_per_device)
    sharing_gpu = (
        device.type == "cuda"
        and not budget.is_time
        and not config.devices
        and config.workers == 1
        and config.workers_per_device is None
        and config.executor == "local"
        and len(runs) > 1
    )
    footprints: list[int] = []
    checked: dict[tuple, Any] = {}  # one build (and step) per distinct network: a sweep's draws share a few
    for v, d in sorted({(r.variant, r.divergence) for r in runs}):  # what a variant refuses fails here, not mid-bench
        vspec = variant_spec(v, d)
        given = vspec.given()
        where = (
            f"variant {v!r} with " + " ".join(f"{k}={val!r}" for k, val in given.items()) if given else f"variant {v!r}"
        )
        structure = vspec.structure()
        like = checked.get(structure)
        try:
            with warnings.catch_warnings():  # one line per bad value: torch's own warnings about it are noise here
                warnings.simplefilter("ignore")
                training = training_of(vspec, like) if like is not None else None
                built = like if like is not None else create_variant(vspec, info)
        except Exception as exc:  # a plugin may refuse a value with any exception (z_dim=-5: RuntimeError)
            raise BenchInputError(f"{where} with divergence {d!r}: {type(exc).__name__}: {exc}") from None
        training = training or built.training
        if training.lr_decay != "none" and budget.is_time:
            raise BenchInputError(
                f"{where}: lr_decay={training.lr_decay} decays over the budget, and a seconds budget "
                f"({budget.text}) would tie it to the machine's speed; give steps or images (--budget 100000steps), "
                f"or --set {v}.lr_decay=none"
            )
        if like is not None:  # its networks were built, stepped and measured under another label
            continue
        checked[structure] = built
        if sharing_gpu:
            fresh = create_variant(vspec, info)
            footprints.append(
                step_footprint(functools.partial(smoke_step, fresh, info, fresh.variant.batch_size, device), device)
            )
        if given:  # values it accepts but cannot train with (hidden=0) fail here too
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    smoke_step(built, info)
            except Exception as exc:
                raise BenchInputError(
                    f"{where} with divergence {d!r}: one training step on stand-in data fails: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
    cache_dir = config.cache_dir or default_cache_dir()
    share = None
    if footprints:
        free = torch.cuda.mem_get_info(device)[0]
        share = (trials_per_device(free, max(footprints), len(runs)), max(footprints), free)
    slots, threads, note = _placement(config, device, budget, share)
    if not resuming:
        _check_out(config.out, config.force)
    for what, folder in (("--out", Path(config.out)), ("--cache-dir", cache_dir)):
        check_writable(what, folder)

    dataset_name = split_dataset(config.dataset)[0]
    used = [("variants", n) for n in sorted({plugins[r.variant] for r in runs})]
    used += (
        [("divergences", d) for d in used_divergences]
        + [("datasets", dataset_name)]
        + [("metrics", m) for m in metrics]
    )
    code = code_fingerprint(used)
    evaluation = EvalOptions(config.features, config.inception_weights, tuple(metrics), routed.metrics)
    packages = {
        "dataset": registry.datasets.entry(dataset_name).package,
        "metrics": {m: registry.metrics.entry(m).package for m in metrics},
    }

    def spec(r: TrialKey) -> TrialSpec:
        build = variant_spec(r.variant, r.divergence)
        ran = [
            ("variants", build.plugin),
            ("divergences", r.divergence),
            ("datasets", dataset_name),
            *(("metrics", m) for m in metrics),
        ]
        return TrialSpec(
            r.variant,
            r.divergence,
            r.seed,
            build,
            build.column(),
            config.source,
            budget,
            eval_every,
            checkpoint_every,
            slots[0],
            threads,
            config.amp,
            Path(config.out) / "runs" / r.run_id,
            config.keep_checkpoints,
            evaluation,
            {
                **packages,
                "variant": registry.variants.entry(build.plugin).package,
                "divergence": None
                if r.divergence == NO_DIVERGENCE
                else registry.divergences.entry(r.divergence).package,
            },
            note,
            fingerprint.narrow(code, [fingerprint.key(*k) for k in ran]),
            channels_last=config.channels_last,
            compile=config.compile,
        )

    return Plan(
        config=config,
        runs=[spec(r) for r in runs],
        budget=budget,
        device=device,
        info=info,
        source=config.source,
        out=Path(config.out),
        cache_dir=cache_dir,
        evaluation=evaluation,
        executor=config.executor,
        devices=slots,
        threads=threads,
        max_retries=config.max_retries,
        ray_address=config.ray_address,
        executor_note=note,
        code=code,
        plugins={v: n for v, n in plugins.items() if v != n},
        left_out=left_out,
        metrics=metrics,
        metrics_left_out=metrics_left_out,
        settings=routed.variants,
        divergence_params=routed.divergences,
        preset_settings=preset_settings,
    )


def choose_metrics(config: BenchConfig, info: DatasetInfo) -> tuple[list[str], dict[str, str]]:
    """(the metrics a bench computes, the installed ones it leaves out and why). ``--metrics`` naming one
    that cannot score the dataset is refused with the reason; by default every one that can is chosen."""
    options = EvalOptions(config.features, config.inception_weights)
    for m in config.metrics or []:
        get_plugin(registry.metrics, m)
    why = {n: metric_unsuitable(n, info, options) for n in registry.metrics.names()}
    for m in config.metrics or []:
        if why[m]:
            can = ", ".join(n for n, w in why.items() if w is None) or "none"
            raise BenchInputError(
                f"metric {m!r} cannot score dataset {config.dataset!r}: {why[m]} (metrics that can: {can})"
            )
    chosen = list(config.metrics) if config.metrics is not None else [n for n, w in why.items() if w is None]
    left_out = {} if config.metrics is not None else {n: w for n, w in why.items() if w}
    return chosen, left_out


@dataclass(frozen=True)
class _Routed:
    """``--set`` values by what they set, typed: variant (or label) -> settings, divergence -> parameters,
    metric -> parameters, and a label's own divergence parameters (label -> divergence -> parameters)."""

    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    divergences: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_divergences: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _route_settings(
    given: dict[str, dict[str, str]],
    variants: list[str],
    plugins: dict[str, str],
    divergences: list[str],
    metrics: list[str],
) -> _Routed:
    """``--set NAME.PARAM=VALUE`` to (variant, divergence, metric, a variant label's divergence) parameters, typed:
    NAME is a variant (or label), a divergence or a metric this bench uses, and ``LABEL.DIVERGENCE.PARAM`` sets
    a divergence's parameter for that label's runs only (a sweep's samples); anything else, or a name two of
    them share, is refused."""
    out = _Routed()
    for name, values in given.items():
        kinds = [i for i, names in enumerate((variants, divergences, metrics)) if name in names]
        if not kinds:
            raise BenchInputError(
                f"--set names {name!r}, which this bench does not use (variants: {', '.join(variants)}; divergences: "
                f"{', '.join(divergences) or 'none'}; metrics: {', '.join(metrics) or 'none'})"
            )
        if len(kinds) > 1:
            raise BenchInputError(
                f"--set {name}.*: {name!r} names both a {' and a '.join(('variant', 'divergence', 'metric')[k] for k in kinds)} "
                "in this bench; give the variant another label (LABEL=VARIANT)"
            )
        kind = kinds[0]
        try:
            if kind == 0:
                own = {k: v for k, v in values.items() if "." not in k}
                cls = get_plugin(registry.variants, plugins[name])
                out.variants[name] = typed(own, cls.constructor_params(), f"variant {name!r}", also=TRAINING_PARAMS)
                for key, value in values.items():  # LABEL.DIVERGENCE.PARAM
                    div, dot, param = key.rpartition(".")
                    if not dot:
                        continue
                    if div not in divergences:
                        raise ValueError(
                            f"{name}.{key}: {div!r} is not a divergence of this bench ({', '.join(divergences) or 'none'})"
                        )
                    params = get_plugin(registry.divergences, div).constructor_params()
                    out.label_divergences.setdefault(name, {}).setdefault(div, {}).update(
                        typed({param: value}, params, f"divergence {div!r}")
                    )
            elif kind == 1:
                cls = get_plugin(registry.divergences, name)
                out.divergences[name] = typed(values, cls.constructor_params(), f"divergence {name!r}")
            else:
                out.metrics[name] = typed(
                    values, get_plugin(registry.metrics, name).constructor_params(), f"metric {name!r}"
                )
        except ValueError as exc:
            raise BenchInputError(f"--set: {exc}") from None
    return out


def _placement(
    config: BenchConfig, device: torch.device, budget: Budget, share: tuple[int, int, int] | None = None
) -> tuple[list[torch.device], int, dict[str, Any]]:
    """One device per worker slot, the CPU threads each trial gets, and what to record about both.

    Trials that share a device slow each other down, so their device seconds are not those of a trial
    run alone: a seconds budget with several trials per device is refused unless allowed. ``share``: (trials,
    measured peak bytes per trial, free bytes) where the planner chose to share a GPU, each trial its own process."""
    try:
        devices = [resolve_device(d) for d in config.devices] if config.devices else [device]
    except ValueError as exc:
        raise BenchInputError(f"--devices: {exc}") from None
    per_device = config.workers_per_device or max(1, -(-config.workers // len(devices)))
    slots = [d for d in devices for _ in range(per_device)] if config.devices else [device] * config.workers
    if share is not None:
        slots = [device] * share[0]
    sharing = max(sum(1 for s in slots if s == d) for d in slots)
    if budget.is_time and sharing > 1 and not config.allow_shared_device:
        raise BenchInputError(
            f"a seconds budget ({budget.text}) with {sharing} trials at a time on {slots[0]}: trials sharing a device "
            "slow each other, so their device seconds are not comparable; use a steps or images budget, one "
            "worker per device, or --allow-shared-device (recorded)"
        )
    cores = os.cpu_count() or 1
    threads = config.threads or max(1, cores // len(slots))
    note = {
        "executor": config.executor,
        "workers": len(slots),
        "threads_per_trial": threads,
        "trials_per_device": sharing,
        "shared_device_allowed": bool(sharing > 1 and budget.is_time),
        **(
            {
                "trials_per_device_chosen": f"{share[0]}: {share[1] / 2**20:.0f} MiB peak per trial measured, "
                f"{share[2] / 2**30:.1f} GiB free (--workers-per-device N sets it)"
            }
            if share is not None
            else {}
        ),
    }
    return slots, threads, note


def _starved_of_real_scores(cls: type[Variant], divergences: list[str]) -> list[str]:
    """The divergences among ``divergences`` whose G loss needs D's scores on real data, which the
    adversarial variant ``cls`` does not pass (relativistic losses)."""
    if not cls.adversarial or cls.real_scores_for_g:
        return []
    return [d for d in divergences if d != NO_DIVERGENCE and get_plugin(registry.divergences, d).needs_real_scores]


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
        raise BenchInputError(
            f"--out {str(out)!r} already holds another bench's results ({', '.join(holds)}); choose a new "
            f"folder, continue it with --resume {out}, or pass --force to replace it"
        )


def clear_out(out: Path) -> None:
    """Remove an old bench's files from ``out``: called only by a bench that planned and holds the lock."""
    for name in ("results.csv", MANIFEST):
        (out / name).unlink(missing_ok=True)
    if (out / "runs").exists():
        shutil.rmtree(out / "runs")
