"""Hyper-parameter studies as Lucic et al. 2018 ("Are GANs Created Equal?") ran them: per variant and divergence,
N settings sampled from a search space, each a trial of an ordinary bench, then the best setting rerun over more
seeds, and the minimum score reached with k samples as k grows.

A sweep is a plan of sampled settings: sample i of variant V under divergence D becomes the bench label
``V-D-sNNN=V@D`` with its values as ``--set`` values, so it runs through the executors, resumes, and lands in the
same results folder format as any bench, its values in the ``settings`` column. bench.json keeps the sweep's
record (space, sampler, seed, each sample's values and the values a variant refused).

Sampling is Optuna's (``RandomSampler`` for the paper's protocol, seeded, so a sweep is reproducible); a value a
variant refuses (``d_norm=batch`` under WGAN-GP, say) is recorded and drawn again.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo import registry
from ganzoo.config import NO_DIVERGENCE, BenchConfig, BenchInputError

# torch and the plugins load only where a sweep is expanded, so a bad space or range answers at once

MAX_REDRAWS = 50  # a sample a variant refuses is drawn again, up to this many times


class SweepInputError(BenchInputError):
    """A search space, parameter or range that cannot be sampled; the message names it."""


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: ``log`` (log-uniform in [low, high]), ``uniform``, ``int`` (uniform
    integers, inclusive), ``choice`` (one of ``choices``) or ``fixed`` (always ``low``)."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def check(self, name: str) -> None:
        if self.kind not in ("log", "uniform", "int", "choice", "fixed"):
            raise SweepInputError(f"parameter {name!r}: unknown kind {self.kind!r} (log, uniform, int, choice, fixed)")
        if self.kind == "choice" and not self.choices:
            raise SweepInputError(f"parameter {name!r}: a choice needs at least one value")
        if self.kind in ("log", "uniform", "int") and not (
            self.low < self.high or (self.kind == "int" and self.low == self.high)
        ):
            raise SweepInputError(f"parameter {name!r}: the range [{self.low}, {self.high}] is empty or inverted")
        if self.kind == "log" and self.low <= 0:
            raise SweepInputError(f"parameter {name!r}: a log-uniform range needs a positive low end, got {self.low}")

    def distribution(self) -> Any:
        import optuna

        if self.kind == "log":
            return optuna.distributions.FloatDistribution(self.low, self.high, log=True)
        if self.kind == "uniform":
            return optuna.distributions.FloatDistribution(self.low, self.high)
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high))
        return optuna.distributions.CategoricalDistribution(self.choices)

    def text(self) -> str:
        if self.kind == "fixed":
            return f"{self.low}"
        if self.kind == "choice":
            return f"one of {', '.join(map(str, self.choices))}"
        if self.kind == "int":
            return f"integers {int(self.low)}..{int(self.high)}"
        return f"{'log-uniform' if self.kind == 'log' else 'uniform'} [{self.low:g}, {self.high:g}]"


# Lucic et al. 2018, as google/compare_gan v1 (the study's code, src/params.py) ran it. Every loss trains with
# Adam(lr, (beta1, 0.999)): a sample's values replace a divergence's whole optimizer recipe (WGAN's RMSProp,
# WGAN-GP's beta2 = 0.9 and layer norm). "BatchNorm in D on or off" is DCGAN's d_norm (batch or none); a variant
# without the knob leaves it out, and says so.
SPACES: dict[str, dict[str, Param]] = {
    "lucic-wide": {
        "lr": Param("log", 1e-5, 1e-2),
        "beta1": Param("uniform", 0.0, 1.0),
        "d_steps": Param("int", 1, 5),
        "d_norm": Param("choice", choices=("batch", "none")),
        "optimizer": Param("fixed", "adam"),
        "beta2": Param("fixed", 0.999),
    },
    "lucic-narrow": {
        "lr": Param("log", 1e-4, 1e-3),
        "beta1": Param("fixed", 0.5),
        "d_steps": Param("fixed", 1),
        "d_norm": Param("choice", choices=("batch", "none")),
        "optimizer": Param("fixed", "adam"),
        "beta2": Param("fixed", 0.999),
    },
}
# the study's own ranges for a loss's parameters, per space (they replace the divergence plugin's search_space)
STUDY_RANGES: dict[str, dict[str, dict[str, Param]]] = {
    "lucic-wide": {
        "wasserstein": {"wasserstein.clip": Param("log", 1e-3, 1.0)},
        "wasserstein-gp": {"wasserstein-gp.gp_weight": Param("log", 0.1, 100.0)},
    },
    "lucic-narrow": {
        "wasserstein": {"wasserstein.clip": Param("log", 1e-2, 1.0)},
        # "from the barplot, clearly False is better": the narrow space fixes BatchNorm off under WGAN-GP
        "wasserstein-gp": {"wasserstein-gp.gp_weight": Param("log", 0.1, 10.0), "d_norm": Param("fixed", "none")},
    },
}
# each loss's default setting, the study's sample 0 (the values its authors used); other losses take the space's
GENERIC_DEFAULT: dict[str, Any] = {"lr": 1e-4, "beta1": 0.5, "d_steps": 1, "d_norm": "batch"}
STUDY_DEFAULTS: dict[str, dict[str, Any]] = {
    "minimax": {"lr": 5e-5, "beta1": 0.0, "d_steps": 1, "d_norm": "batch"},
    "nonsaturating": {"lr": 5e-5, "beta1": 0.0, "d_steps": 1, "d_norm": "batch"},
    "least-squares": {"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "d_norm": "batch"},
    "wasserstein": {"lr": 5e-5, "beta1": 0.5, "d_steps": 5, "d_norm": "batch", "wasserstein.clip": 0.01},
    "wasserstein-gp": {"lr": 1e-4, "beta1": 0.5, "d_steps": 5, "d_norm": "none", "wasserstein-gp.gp_weight": 10.0},
    NO_DIVERGENCE: {"lr": 5e-5, "beta1": 0.5},  # the VAE
}


def default_sample(space: dict[str, Param], divergence: str) -> dict[str, Any]:
    """Sample 0 of a study: each parameter at the loss's default setting, as compare_gan includes it, even where the
    space's range leaves it out (its narrow range fixes beta1 at 0.5, GAN's default is 0); a fixed parameter without
    a default at its value, and any other at its range's low end or first choice."""
    defaults = {**GENERIC_DEFAULT, **STUDY_DEFAULTS.get(divergence, {})}
    out = {}
    for name, p in space.items():
        if name in defaults:
            out[name] = defaults[name]
        elif p.kind == "fixed":
            out[name] = p.low
        else:
            out[name] = p.choices[0] if p.kind == "choice" else (int(p.low) if p.kind == "int" else p.low)
    return out


def space_for(
    space: str, variant: str, divergence: str, extra: dict[str, Param] | None = None
) -> tuple[dict[str, Param], list[str]]:
    """The space one (variant, divergence) is sampled in: the named space's parameters the variant has, each
    plugin's own ranges (a variant's or divergence's ``search_space``; a divergence's as ``DIVERGENCE.PARAM``),
    and ``extra`` (the command line's). Returns it and the parameters left out because the variant lacks them."""
    from ganzoo.factory import get_plugin
    from ganzoo.training import TRAINING_PARAMS

    check_space(space)
    cls = get_plugin(registry.variants, variant)
    knobs = set(cls.constructor_params()) | set(TRAINING_PARAMS)
    chosen = {k: p for k, p in SPACES[space].items() if k in knobs}
    left_out = sorted(set(SPACES[space]) - set(chosen))
    chosen.update({k: declared(cls, k, p) for k, p in (getattr(cls, "search_space", {}) or {}).items()})
    if divergence != NO_DIVERGENCE:
        dcls = get_plugin(registry.divergences, divergence)
        chosen.update(
            {f"{divergence}.{k}": declared(dcls, k, p) for k, p in (getattr(dcls, "search_space", {}) or {}).items()}
        )
    for name, p in STUDY_RANGES.get(space, {}).get(divergence, {}).items():
        if "." in name or name in knobs:
            chosen[name] = p
    for name, p in (extra or {}).items():  # PARAM for the variant, DIVERGENCE.PARAM for a divergence
        owner, dot, param = name.rpartition(".")
        if dot and owner != divergence:
            continue  # another divergence's parameter
        params = get_plugin(registry.divergences, divergence).constructor_params() if dot else knobs
        if param not in params:
            raise SweepInputError(f"--param {name}: {owner if dot else variant} has no parameter {param!r}")
        p.check(name)
        chosen[name] = p
    return chosen, left_out


def check_space(space: str, samples: int = 1) -> None:
    """The checks of a sweep that need no plugin: a known space and at least one sample."""
    if space not in SPACES:
        raise SweepInputError(f"unknown search space {space!r} (known: {', '.join(SPACES)})")
    if samples < 1:
        raise SweepInputError(f"--samples {samples}: a sweep needs at least one sample")


def declared(plugin: type, name: str, spec: Any) -> Param:
    """A plugin's own range for one of its parameters, as its class declares it in ``search_space``:
    ``("log", 0.1, 1000.0)``, ``("uniform", 0, 1)``, ``("int", 1, 5)``, ``("choice", ("a", "b"))``; a plugin needs
    nothing of ganzoo's to say it."""
    if isinstance(spec, Param):
        return spec
    try:
        kind, *args = spec
        param = Param("choice", choices=tuple(args[0])) if kind == "choice" else Param(kind, *map(float, args))
    except (TypeError, ValueError):
        raise SweepInputError(
            f"{plugin.__name__}.search_space[{name!r}] = {spec!r} is not (KIND, LOW, HIGH) or ('choice', VALUES)"
        ) from None
    param.check(name)
    return param


def parse_param(text: str) -> tuple[str, Param]:
    """``NAME=log:1e-5:1e-2``, ``NAME=uniform:0:1``, ``NAME=int:1:5``, ``NAME=choice:a,b``, ``NAME=fixed:0.5``."""
    name, eq, spec = text.partition("=")
    kind, _, rest = spec.partition(":")
    if not (eq and name and kind):
        raise SweepInputError(
            f"--param {text!r} is not NAME=KIND:ARGS (log:1e-5:1e-2, uniform:0:1, int:1:5, choice:a,b, fixed:0.5)"
        )
    try:
        if kind in ("log", "uniform", "int"):
            low, high = (float(v) for v in rest.split(":"))
            param = Param(kind, low, high)
        elif kind == "choice":
            param = Param("choice", choices=tuple(_value(v) for v in rest.split(",") if v))
        elif kind == "fixed":
            param = Param("fixed", _value(rest))
        else:
            param = Param(kind)
    except ValueError:
        raise SweepInputError(f"--param {text!r}: {kind} takes LOW:HIGH numbers") from None
    param.check(name)
    return name, param


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _render(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class Sweep:
    """What to sample: variants x divergences x ``samples`` settings, each over ``seeds``."""

    variants: list[str]
    divergences: list[str] | None
    space: str = "lucic-wide"
    samples: int = 20
    seed: int = 0
    extra: dict[str, Param] | None = None

    # recorded beside the samples: Lucic et al.'s protocol is random search, drawn before any sample is scored
    # (TPE would need each score before its next draw)
    sampler = "random"


def expand(sweep: Sweep, base: BenchConfig) -> BenchConfig:
    """The bench that runs ``sweep``: one label per (variant, divergence, sample), bound to its divergence, with
    its sampled values as ``--set`` values; bench.json records the sweep (``BenchConfig.sweep``). Raises
    SweepInputError for bad input, before anything is written."""
    try:
        import optuna
    except ImportError:
        raise SweepInputError('--sweep needs Optuna, which is not installed: pip install "ganzoo[sweep]"') from None
    from ganzoo.factory import dataset_info, get_plugin

    check_space(sweep.space, sweep.samples)
    info = dataset_info(base.dataset, base.data_dir)
    labels: list[str] = []
    hparams: dict[str, dict[str, str]] = {}
    record: dict[str, Any] = {
        "space": sweep.space,
        "sampler": sweep.sampler,
        "seed": sweep.seed,
        "samples": sweep.samples,
        "parameters": {},
        "runs": {},
        "refused": [],
        "left_out": {},
        "sample_0": "each loss's default setting (compare_gan's)",
    }
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    built: dict[tuple, str | None] = {}  # what each distinct build said (see _refused)
    for v_index, variant in enumerate(sweep.variants):
        cls = get_plugin(registry.variants, variant)
        divergences = [NO_DIVERGENCE] if not cls.adversarial else (sweep.divergences or [cls.default_divergence])
        for d_index, divergence in enumerate(divergences):
            if divergence != NO_DIVERGENCE:
                get_plugin(registry.divergences, divergence)
            space, left_out = space_for(sweep.space, variant, divergence, sweep.extra)
            if left_out:
                record["left_out"][variant] = left_out
            record["parameters"][f"{variant}/{divergence}"] = {k: p.text() for k, p in space.items()}
            seed = (
                sweep.seed * 1_000_003 + v_index * 1_009 + d_index
            )  # each pair its own stream, the same for any other pairs
            study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
            sampled = {k: p for k, p in space.items() if p.kind != "fixed"}

            def refused(entry: dict[str, Any], variant: str = variant, divergence: str = divergence) -> None:
                values = {k: _render(v) for k, v in entry["values"].items()}
                record["refused"].append({"variant": variant, "divergence": divergence, **entry, "values": values})

            for i in range(sweep.samples):
                values = default_sample(space, divergence) if i == 0 else None  # compare_gan's sample 0
                why = (
                    _refused(variant, divergence, info, values, base.batch_size, built) if values is not None else None
                )
                if why is not None:
                    refused({"sample": i, "values": values, "why": f"the default setting: {why}"})
                    values = None
                tries = 0
                while values is None:
                    trial = study.ask({k: p.distribution() for k, p in sampled.items()})
                    values = {**{k: p.low for k, p in space.items() if p.kind == "fixed"}, **trial.params}
                    why = _refused(variant, divergence, info, values, base.batch_size, built)
                    study.tell(trial, state=optuna.trial.TrialState.FAIL if why else optuna.trial.TrialState.PRUNED)
                    if why is not None:
                        refused({"sample": i, "values": values, "why": why})
                        values, tries = None, tries + 1
                    if tries == MAX_REDRAWS:
                        raise SweepInputError(
                            f"{variant} with {divergence} refused {MAX_REDRAWS} draws from {sweep.space} in a row "
                            f"(last: {why}); narrow the space with --param"
                        )
                label = f"{variant}-{divergence}-s{i:03d}"
                labels.append(
                    f"{label}={variant}@{divergence}" if divergence != NO_DIVERGENCE else f"{label}={variant}"
                )
                hparams[label] = {k: _render(v) for k, v in values.items()}
                record["runs"][label] = {
                    "variant": variant,
                    "divergence": divergence,
                    "sample": i,
                    "values": hparams[label],
                }
    return BenchConfig(
        **{
            **base.__dict__,
            "variants": labels,
            "divergences": None,
            "settings": {**base.settings, **hparams},
            "sweep": record,
        }
    )


def _refused(
    variant: str,
    divergence: str,
    info: Any,
    values: dict[str, Any],
    batch_size: int | None,
    built: dict[tuple, str | None],
) -> str | None:
    """Why ``variant`` refuses ``values`` (or cannot take one training step with them), None when it takes them.

    ``built`` remembers what the build and one training step said per :meth:`VariantSpec.structure`; the values
    outside it (learning rate, betas, step counts, the divergence's parameters) are checked for every draw."""
    from ganzoo.factory import VariantSpec, create_variant, smoke_step, training_of

    own = {k: v for k, v in values.items() if "." not in k}
    div = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(f"{divergence}.")}
    spec = VariantSpec(variant, variant, divergence, own, batch_size, div)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # never remembered: they are this draw's own
            training_of(spec)
        except Exception as exc:
            return _why(exc)
        key = spec.structure()
        if key in built:
            return built[key]
        try:
            smoke_step(create_variant(spec, info), info)
            why = None
        except Exception as exc:
            why = _why(exc)
    built[key] = why
    return why


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


# options a --rerun-best bench takes beside it: where and how it runs, never what it trains (the sweep's protocol)
RERUN_OPTIONS = (
    "out",
    "force",
    "executor",
    "workers",
    "devices",
    "workers_per_device",
    "threads",
    "device",
    "cache_dir",
    "data_dir",
    "ray_address",
    "max_retries",
    "tensorboard",
    "keep_checkpoints",
)


def rerun_config(sweep: Path, seeds: list[int], given: dict[str, Any]) -> BenchConfig:
    """The ``--rerun-best SEEDS --from-sweep SWEEP`` bench: :func:`rerun_best`, with the options ``given`` beside it
    (BenchConfig fields, only those of :data:`RERUN_OPTIONS`; anything else is refused in one line)."""
    protocol = sorted(k for k in given if k not in RERUN_OPTIONS)
    if protocol:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in protocol)
        raise SweepInputError(
            f"--rerun-best keeps the sweep's protocol (its dataset, budget, metrics and settings come from "
            f"{sweep}/bench.json); leave out {flags}"
        )
    config = rerun_best(sweep, seeds, given["out"])
    return BenchConfig(**{**config.__dict__, **given})


def preset_sweep(preset: str, space: str | None, samples: int, samples_given: bool) -> tuple[str | None, int]:
    """The sweep a bench from ``preset`` runs, as (space or None, samples): the preset's own (``lucic-mnist``:
    ``lucic-wide`` x 100) unless ``--sweep`` names another; a ``--samples`` the user gave stays theirs."""
    from ganzoo import presets

    planned = presets.get(preset).sweep
    if space is not None or planned is None:
        return space, samples
    return planned[0], samples if samples_given else planned[1]


def sweep_config(
    base: BenchConfig, space: str, samples: int, seed: int, params: tuple[str, ...], all_variants: Any
) -> BenchConfig:
    """``base`` expanded into a sweep of ``samples`` settings from ``space`` per variant x divergence (``--param``
    adding or replacing ranges); ``all_variants(base)`` gives the variants when ``base`` names none."""
    check_space(space, samples)  # what needs no torch, first
    extra = dict(parse_param(p) for p in params)
    sweep = Sweep(
        variants=base.variants or all_variants(base),
        divergences=base.divergences,
        space=space,
        samples=samples,
        seed=seed,
        extra=extra,
    )
    return expand(sweep, base)


def rerun_best(sweep: Path, seeds: list[int], out: Path) -> BenchConfig:
    """A new bench of the best setting of each variant x divergence of the finished sweep in ``sweep``, over ``seeds``,
    with the sweep's own protocol (dataset, budget, metrics); SweepInputError when ``sweep`` holds no sweep or no
    sample finished with a score."""
    from ganzoo import report
    from ganzoo.results import ResultsFileError, read_manifest

    try:
        manifest = read_manifest(sweep)
    except ResultsFileError as exc:
        raise SweepInputError(str(exc)) from None
    record = report.sweep_record(manifest)
    if record is None:
        raise SweepInputError(
            f"--from-sweep {sweep}: not a sweep's results (its bench.json records no sampled settings)"
        )
    try:
        best = report.sweep_best(report.load_many([sweep]), manifest)
        base = BenchConfig.from_json(
            {
                **manifest["config"],
                "out": str(out),
                "force": False,
                "cache_dir": None,
                "data_dir": None,
                "ray_address": None,
            }
        )
    except (ValueError, ResultsFileError) as exc:
        raise SweepInputError(f"--from-sweep {sweep}: {exc}") from None
    if best.empty:
        raise SweepInputError(
            f"--from-sweep {sweep}: no sample finished with a score, so there is no best setting to rerun"
        )
    labels, hparams, chosen = [], {}, {}
    for r in best.to_dict("records"):
        label = f"{r['variant']}-{r['divergence']}-best"
        labels.append(
            f"{label}={r['variant']}@{r['divergence']}"
            if r["divergence"] != NO_DIVERGENCE
            else f"{label}={r['variant']}"
        )
        hparams[label] = record["runs"][r["best sample"]]["values"]
        chosen[label] = {"sample": r["best sample"], r["metric"]: float(r["best"])}
    return BenchConfig(
        **{
            **base.__dict__,
            "variants": labels,
            "divergences": None,
            "settings": hparams,
            "seeds": seeds,
            "sweep": {
                "rerun_best_of": str(sweep),
                "space": record["space"],
                "chosen": chosen,
                "select": "each sample's best value over its evaluation points",
            },
        }
    )
