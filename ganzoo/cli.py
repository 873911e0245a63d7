"""The ``ganzoo`` command: one click group, thin commands over the library.

Progress and diagnostics go to stderr; tables go to stdout; results go to files. This module imports
only what parsing needs (click, rich, the configuration, entry-point names); torch, pandas and the
plugins load inside the command that uses them, so help, names and input errors answer at once.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ganzoo import __version__
from ganzoo import config as configuration
from ganzoo import registry
from ganzoo.config import MACHINE_OPTIONS, BenchConfig, BenchInputError, Settings, split_variant

if TYPE_CHECKING:
    import pandas as pd


class InputError(click.BadParameter):
    """A bad value: one line naming it, exit code 2, nothing trained or written."""

    def show(self, file=None) -> None:  # type: ignore[override]
        click.echo(f"Error: {self.format_message() if self.param is not None else self.message}", err=True)


def _names(kind: str):
    reg = registry.REGISTRIES[kind]

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
        if value is None:
            return None
        names = [v.strip() for v in value.split(",") if v.strip()]
        if not names:
            raise InputError(f"give at least one {kind[:-1]} name", ctx=ctx, param=param)
        if kind == "variants":  # LABEL=VARIANT, or a preset's label: plan() checks them
            return names
        for name in names:
            if name not in reg.names():
                raise InputError(registry.unknown_message(kind[:-1], name, reg.names()), ctx=ctx, param=param)
        return names

    return callback


def _one_name(kind: str):
    many = _names(kind)

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
        names = many(ctx, param, value)
        if len(names) != 1:
            raise InputError(f"give one {kind[:-1]} name, got {value!r}", ctx=ctx, param=param)
        return names[0]

    return callback


def _dataset(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``NAME`` or ``NAME:ARGUMENT``; the name must be installed, the argument is checked by the dataset."""
    name, sep, argument = value.partition(":")
    _one_name("datasets")(ctx, param, name)
    if sep and not argument.strip():
        raise InputError(f"nothing after ':' in {value!r}; give NAME or NAME:ARGUMENT", ctx=ctx, param=param)
    return value


def _seeds(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    """``5`` -> 0..4; ``0,3,7``; ``10-19`` (inclusive); mixed ``0,5-7``."""
    text = str(value).strip()
    if text.isdigit() and "," not in text:
        if int(text) < 1:
            raise InputError(f"--seeds {text}: a count must be at least 1", ctx=ctx, param=param)
        return list(range(int(text)))
    seeds: list[int] = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()) or (dash and int(hi) < int(lo)):
            raise InputError(
                f"--seeds {value!r}: {part.strip()!r} is not a seed or a range A-B with A <= B "
                "(give a count 5, a list 0,3,7 or a range 10-19)",
                ctx=ctx,
                param=param,
            )
        seeds += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    duplicates = sorted({s for s in seeds if seeds.count(s) > 1})
    if duplicates:
        raise InputError(
            f"--seeds {value!r}: seed(s) {', '.join(map(str, duplicates))} given twice", ctx=ctx, param=param
        )
    return seeds


def _hparams(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    try:
        return Settings.parse(values)
    except ValueError as exc:
        raise InputError(str(exc), ctx=ctx, param=param) from None


class _OneLineUsageError(click.UsageError):
    """Click's own usage errors (a value out of range, an unknown choice or option, a file for a folder) in
    the one-line form the rest of the CLI uses, naming where help is."""

    def show(self, file=None) -> None:  # type: ignore[override]
        where = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"Error: {self.format_message()}{where}", err=True)


FEATURES_OPTION = click.option(
    "--features",
    type=click.Choice(configuration.FEATURE_SPACES),
    default="classifier",
    show_default=True,
    help="Feature space of fid/kid/precision/recall/density/coverage: the dataset classifier (offline), inception (comparable with "
    "papers), or torch-fidelity's CLIP and DINOv2 extractors (dinov2-vit-l-14 as dgm-eval reports). Input rules: docs/metrics.md.",
)
FEATURES_WEIGHTS_OPTION = click.option(
    "--features-weights",
    "--inception-weights",
    "inception_weights",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Local weights of the --features extractor (Inception: torch-fidelity's file; CLIP: OpenAI's file), for offline use.",
)


def _one_line(fn):  # noqa: ANN001, ANN202
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except click.UsageError as exc:
            if isinstance(exc, (InputError, _OneLineUsageError)):
                raise
            raise _OneLineUsageError(exc.format_message(), ctx=exc.ctx) from None

    return wrapped


class _Group(click.Group):
    """A group whose subcommands' parse errors print one line."""

    def make_context(self, *args, **kwargs) -> click.Context:  # noqa: ANN002, ANN003
        return _one_line(super().make_context)(*args, **kwargs)

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        return _one_line(super().invoke)(ctx)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="ganzoo")
def main() -> None:
    """ganzoo: train GAN variants under one budget and compare them."""


@main.command("list")
@click.option(
    "--kind",
    type=click.Choice([*sorted(registry.REGISTRIES), "presets"]),
    help="Only this plugin kind, or the presets.",
)
@click.option(
    "--names",
    is_flag=True,
    help="Only kind, name and package, one per line, from the installed metadata (imports no plugin).",
)
def list_cmd(kind: str | None, names: bool) -> None:
    """Installed variants, datasets, divergences and metrics, with the package providing each; and the presets."""
    if names:
        for reg in registry.REGISTRIES.values():
            if kind in (None, reg.kind):
                for name in reg.names():
                    click.echo(f"{reg.kind[:-1]}\t{name}\t{reg.package(name)}")
        if kind in (None, "presets"):
            from ganzoo import presets

            for name in presets.PRESETS:
                click.echo(f"preset\t{name}\tganzoo")
        return
    table = Table(title="ganzoo plugins")
    for col in ("kind", "name", "package", "description"):
        table.add_column(col)
    for reg in registry.REGISTRIES.values():
        if kind and reg.kind != kind:
            continue
        for e in reg.entries():
            text = (
                f"[red]error: {e.error}[/]"
                if e.error
                else (getattr(e.obj, "description", "") or (e.obj.__doc__ or "").strip().splitlines()[0])
            )
            if not e.error and reg.kind == "datasets":
                text += f" [dim]({e.obj.info.describe()})[/]"
                if e.obj.argument:
                    text += f" [dim]{e.name}:ARGUMENT, where ARGUMENT is {e.obj.argument}[/]"
            if not e.error and reg.kind == "variants":
                text += f" [dim](default divergence: {e.obj.default_divergence})[/]"
            if not e.error and reg.kind == "divergences":
                unit = getattr(e.obj, "estimate_unit", None)
                recipe = getattr(e.obj, "recipe", None)
                text += f" [dim](estimate: {unit or 'none'}"
                text += (
                    f"; recipe: {', '.join(f'{k}={v}' for k, v in recipe.settings().items())})[/]" if recipe else ")[/]"
                )
            if not e.error and reg.kind == "metrics" and getattr(e.obj, "directions", None):
                text += f" [dim](better: {', '.join(f'{k} {v}' for k, v in e.obj.directions.items())})[/]"
            params = e.obj.constructor_params() if not e.error and reg.kind in ("divergences", "metrics") else {}
            if params:
                text += f" [dim](--set {e.name}.PARAM: {', '.join(f'{k}={v!r}' for k, v in params.items())})[/]"
            table.add_row(reg.kind[:-1], e.name, e.package, text)
    if kind in (None, "presets"):
        from ganzoo import presets

        for pr in presets.PRESETS.values():
            text = f"{pr.description} [dim]({pr.paper}; {pr.protocol}"
            text += (
                (f"; departs: {pr.deviations}" if pr.deviations else "")
                + (f"; needs {pr.needs}" if pr.needs else "")
                + ")[/]"
            )
            table.add_row("preset", pr.name, "ganzoo", text)
    Console(width=200 if not sys.stdout.isatty() else None).print(table)


@main.command()
@click.option(
    "--variants",
    callback=_names("variants"),
    help="Comma-separated variants; LABEL=VARIANT benches a variant under a label of its own (pacgan4=gan with "
    "--set pacgan4.pack=4). [default: every variant that can run on the dataset]",
)
@click.option(
    "--divergence",
    "--divergences",
    "divergences",
    callback=_names("divergences"),
    help="Comma-separated divergences, overriding each variant's default; one run per variant x divergence.",
)
@click.option(
    "--dataset",
    default="digits",
    show_default=True,
    callback=_dataset,
    help="A dataset, or NAME:ARGUMENT for datasets that take one (celeba:Black_Hair,Blond_Hair).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where a dataset's files are (e.g. MNIST idx files).",
)
@click.option("--split", default="auto", show_default=True, help="Dataset split; auto uses what is there.")
@click.option(
    "--download/--no-download",
    default=True,
    show_default=True,
    help="Let datasets download when their files are missing.",
)
@click.option(
    "--budget",
    default="2000steps",
    show_default=True,
    help="Per run: 2000steps, 50kimg, or device seconds 300s / 5m / 1h.",
)
@click.option("--eval-every", help="Evaluation interval in any budget unit. [default: a quarter of the budget]")
@click.option(
    "--seeds",
    default="1",
    show_default=True,
    callback=_seeds,
    help="A count N (seeds 0..N-1), a list (0,3,7) or a range (10-19), or both (0,5-7): split a study by hand and merge with `ganzoo table`.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Override every variant's batch size.")
@click.option(
    "--set",
    "hparams",
    multiple=True,
    callback=_hparams,
    metavar="NAME.PARAM=VALUE",
    help="Set a parameter of a variant (or label), divergence or metric in this bench, e.g. --set cyclegan.identity_weight=0.5, "
    "--set wasserstein-gp.gp_weight=5, --set fidelity.max_samples=2000 (repeatable; recorded in config.json).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--amp/--no-amp", default=False, show_default=True, help="fp16 mixed precision (CUDA only).")
@click.option("--out", type=click.Path(path_type=Path), help="Results folder. [default: results/bench-<date>-<time>]")
@click.option("--force", is_flag=True, help="Replace the results an existing --out holds.")
@FEATURES_OPTION
@FEATURES_WEIGHTS_OPTION
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache of classifiers and statistics. [default: $GANZOO_CACHE or ~/.cache/ganzoo]",
)
@click.option(
    "--checkpoint-every",
    help="Checkpoint trials this often too, in any budget unit (they are checkpointed at every evaluation point).",
)
@click.option(
    "--keep-checkpoints",
    is_flag=True,
    help="Keep a finished trial's last checkpoint (by default only its final weights).",
)
@click.option(
    "--resume",
    "resume",
    type=click.Path(file_okay=False, path_type=Path),
    help="Continue the bench in this folder after a kill or Ctrl-C, with the config it recorded (no other bench options).",
)
@click.option(
    "--allow-code-change",
    is_flag=True,
    help="With --resume: resume although ganzoo's or a plugin's code changed since.",
)
@click.option(
    "--metrics",
    "metrics",
    callback=_names("metrics"),
    help="Comma-separated metric plugins to compute. [default: every installed one that applies to the dataset]",
)
@click.option(
    "--preset",
    help="Run a paper's protocol (ganzoo list --kind presets); options given beside it override it, and are recorded.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "pool", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine (a process pool with --workers > 1); pool: worker processes even for one worker "
    '(a crashing plugin cannot take the bench down); ray: Ray tasks (pip install "ganzoo[ray]").',
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Trials at a time.")
@click.option(
    "--devices",
    callback=lambda ctx, param, v: [d.strip() for d in v.split(",") if d.strip()] if v else None,
    help="Spread trials over these devices, e.g. cuda:0,cuda:1. [default: --device]",
)
@click.option("--workers-per-device", type=click.IntRange(min=1), help="With --devices: trials sharing each device.")
@click.option(
    "--threads", type=click.IntRange(min=1), help="torch CPU threads per trial. [default: cores / trials at a time]"
)
@click.option(
    "--allow-shared-device", is_flag=True, help="Let a seconds budget run with several trials on one device (recorded)."
)
@click.option(
    "--ray-address", help="With --executor ray: the cluster (ray.init address, e.g. auto). [default: a local instance]"
)
@click.option(
    "--sweep",
    "sweep_space",
    metavar="SPACE",
    help="Sample settings instead of running one per variant: lucic-wide or lucic-narrow (Lucic et al. 2018), plus --param.",
)
@click.option(
    "--samples",
    default=20,
    show_default=True,
    type=int,
    help="With --sweep: settings sampled per variant x divergence.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=KIND:ARGS",
    help="With --sweep: add or replace a dimension, e.g. lr=log:1e-5:1e-2, beta1=uniform:0:1, d_steps=int:1:5, "
    "d_norm=choice:batch,none, wasserstein-gp.gp_weight=log:0.1:1000 (repeatable).",
)
@click.option(
    "--sweep-seed", default=0, show_default=True, type=click.IntRange(min=0), help="With --sweep: the sampler's seed."
)
@click.option(
    "--rerun-best",
    "rerun_best",
    callback=lambda ctx, p, v: None if v is None else _seeds(ctx, p, v),
    metavar="SEEDS",
    help="Run the best setting of each variant x divergence of the sweep in --from-sweep over these seeds (e.g. 50).",
)
@click.option(
    "--from-sweep",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="With --rerun-best: the sweep's results.",
)
@click.option(
    "--tensorboard",
    is_flag=True,
    help='Write TensorBoard event files per run under the results folder (pip install "ganzoo[tensorboard]").',
)
@click.option(
    "--max-retries",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Start a trial whose worker died again from its checkpoint this many times, then record it failed.",
)
@click.pass_context
def bench(
    ctx,
    variants,
    divergences,
    dataset,
    data_dir,
    split,
    download,
    budget,
    eval_every,
    seeds,
    batch_size,
    hparams,
    device,
    amp,
    out,
    force,
    features,
    inception_weights,
    cache_dir,
    checkpoint_every,
    keep_checkpoints,
    resume,
    allow_code_change,
    metrics,
    preset,
    executor,
    workers,
    devices,
    workers_per_device,
    threads,
    allow_shared_device,
    ray_address,
    max_retries,
    sweep_space,
    samples,
    params,
    sweep_seed,
    rerun_best,
    from_sweep,
    tensorboard,
) -> None:
    """Train each variant under the same budget and report FID tables."""

    err = Console(stderr=True)
    machine = {k: ctx.params[k] for k in MACHINE_OPTIONS}  # where this machine reads, caches and connects
    if resume is not None:
        given = [
            f"--{name.replace('_', '-')}"
            for name in ctx.params
            if name not in ("resume", "allow_code_change", *machine)
            and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise InputError(
                f"--resume takes no other bench options than --cache-dir, --data-dir and --ray-address (the bench's "
                f"config is in {resume}/bench.json), got {', '.join(given)}"
            )
        config = None
    elif allow_code_change:
        raise InputError("--allow-code-change goes with --resume (it lets a resumed bench continue under changed code)")
    else:
        out = out or Path("results") / f"bench-{datetime.now():%Y%m%d-%H%M%S}"
        if preset is not None:
            config = _preset_config(ctx, preset, out)
            from ganzoo import presets as known

            planned = known.get(preset).sweep
            if (
                planned is not None and sweep_space is None
            ):  # the preset's own sweep, --samples still the user's to change
                sweep_space = planned[0]
                if ctx.get_parameter_source("samples") is click.core.ParameterSource.DEFAULT:
                    samples = planned[1]
        else:
            config = BenchConfig(
                variants=variants,
                divergences=divergences,
                dataset=dataset,
                data_dir=data_dir,
                split=split,
                download=download,
                budget=budget,
                eval_every=eval_every,
                seeds=seeds,
                batch_size=batch_size,
                device=device,
                amp=amp,
                out=out,
                force=force,
                cache_dir=cache_dir,
                features=features,
                inception_weights=inception_weights,
                hparams=hparams,
                checkpoint_every=checkpoint_every,
                keep_checkpoints=keep_checkpoints,
                executor=executor,
                workers=workers,
                devices=devices,
                workers_per_device=workers_per_device,
                threads=threads,
                allow_shared_device=allow_shared_device,
                ray_address=ray_address,
                max_retries=max_retries,
                metrics=metrics,
                tensorboard=tensorboard,
            )
    if (rerun_best is None) != (from_sweep is None):
        raise InputError("--rerun-best SEEDS and --from-sweep RESULTS go together")
    if rerun_best is not None:
        if config is None or sweep_space is not None:
            raise InputError("--rerun-best starts a new bench from a finished sweep: leave out --resume and --sweep")
        where = (
            "rerun_best",
            "from_sweep",
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
        given = [
            f"--{name.replace('_', '-')}"
            for name in ctx.params
            if name not in where and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise InputError(
                f"--rerun-best keeps the sweep's protocol (its dataset, budget, metrics and settings come from "
                f"{from_sweep}/bench.json); leave out {', '.join(given)}"
            )
        from ganzoo.search import rerun_best as best_of_sweep

        try:
            config = best_of_sweep(from_sweep, rerun_best, out)
        except BenchInputError as exc:
            raise InputError(str(exc)) from None
        config = BenchConfig(
            **{
                **config.__dict__,
                **{
                    k: ctx.params[k]
                    for k in where[2:]
                    if k in ctx.params and ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT
                },
            }
        )
    for flag, name in (("--samples", "samples"), ("--sweep-seed", "sweep_seed"), ("--param", "params")):
        if sweep_space is None and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            raise InputError(f"{flag} goes with --sweep SPACE")
    if config is not None:
        _check_fast(config)
    if sweep_space is not None and config is not None:
        from ganzoo.search import Sweep, check_space, expand, parse_param

        try:
            check_space(sweep_space, samples)  # what needs no torch, first
            extra = dict(parse_param(p) for p in params)
            config = expand(
                Sweep(
                    variants=config.variants or _all_variants(config),
                    divergences=config.divergences,
                    space=sweep_space,
                    samples=samples,
                    seed=sweep_seed,
                    extra=extra,
                ),
                config,
            )
        except BenchInputError as exc:
            raise InputError(str(exc)) from None
    from ganzoo.display import BenchDisplay
    from ganzoo.runner import BenchInterrupted, run_bench  # torch and the plugins load from here on

    display = BenchDisplay(err)
    try:
        outcome = run_bench(
            config, on_event=display, resume=resume, allow_code_change=allow_code_change, machine=machine
        )
    except BenchInputError as exc:
        raise InputError(str(exc)) from None
    except BenchInterrupted as exc:
        err.print(
            f"[yellow]{exc}[/]: the trial in progress is checkpointed and everything finished is saved. "
            f"Continue with:\n  ganzoo bench --resume {exc.out}"
        )
        sys.exit(exc.exit_code)
    finally:
        display.close()
    df, out, failed = outcome.frame, outcome.out, outcome.failed
    sweep = _sweep_manifest((out,))
    if sweep is not None:
        from ganzoo import report

        try:
            best = report.sweep_best(df, sweep)
            _rich_table(
                _sweep_display(best), f"sweep: best of the sampled settings by final {best['metric'].iloc[0]}", width=80
            )
            Console(width=80).print(
                f"every sample: ganzoo table {out} --all; the figure: ganzoo plot {out} --sweep",
                highlight=False,
                soft_wrap=True,
            )
        except (ValueError, IndexError, KeyError) as exc:
            err.print(f"[yellow]no best setting to show: {exc}[/]")
    else:
        _print_summary(df, outcome.measure, outcome.summary_metrics, out)
    err.print(f"results: {out / 'results.csv'}  (runs, configs, samples and weights under {out / 'runs'})")
    broken = df[df["metric"].str.startswith("error_")].drop_duplicates("detail")
    for _, row in broken.iterrows():
        err.print(
            f"[yellow]{row.detail}[/] (its rows are {row.metric}, value NaN; the runs and the other metrics went on)"
        )
    if len(failed):
        for _, row in failed.iterrows():
            err.print(
                f"[red]run {row.run_id} failed: {row.detail}[/] (traceback in {out / 'runs' / row.run_id / 'error.txt'})"
            )
        sys.exit(1)


def _all_variants(config: BenchConfig) -> list[str]:
    """The variants a sweep without --variants samples: those the default bench would run on the dataset."""
    from ganzoo.factory import check_source
    from ganzoo.plan import default_variants

    try:
        return default_variants(config, check_source(config.source))[0]
    except BenchInputError as exc:
        raise InputError(str(exc)) from None


def _sweep_manifest(results: tuple[Path, ...]) -> dict | None:
    """The bench.json of a single sweep folder, or None."""
    from ganzoo.report import sweep_record
    from ganzoo.results import read_manifest

    if len(results) != 1 or not Path(results[0]).is_dir():
        return None
    manifest = read_manifest(Path(results[0]))
    return manifest if sweep_record(manifest) is not None else None


def _sweep_display(best: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "variant/divergence": best["variant"] + "/" + best["divergence"],
            "samples": best["samples"],
            "best": [f"{v:.4g}" for v in best["best"]],
            "median": [f"{v:.4g}" for v in best["median"]],
            "best settings": best["best settings"],
        }
    )


def _check_fast(config: BenchConfig) -> None:
    """The bench's checks that need no torch, plugin code or data, before those load (the planner runs
    them again, with the rest): a bad budget, seed list, executor or variant name answers in a moment."""
    try:
        configuration.check(config)
    except BenchInputError as exc:
        raise InputError(str(exc)) from None
    if config.preset is None:  # a preset's labels (pacgan4) are its own; the planner checks those
        known = registry.variants.names()
        for item in config.variants or []:
            name = split_variant(item)[1]
            if name not in known:
                raise InputError(f"--variants: {registry.unknown_message('variant', name, known)}")


def _print_summary(df: pd.DataFrame, measure: str, summary: list[str], out: Path) -> None:
    """The headline values of a finished bench (those its metrics declare as their summary), one row per
    variant, narrow enough for an 80-column terminal; the long table and the page say the rest."""
    from rich import box

    from ganzoo import report

    present = [m for m in summary if m in set(df["metric"])]
    if not present:
        return
    wide = report.summary_wide(report.table(df.assign(source=""), present, measure))

    def table(metrics: list[str]) -> Table:
        left = len(present) - len(metrics)
        rt = Table(
            title="final values, mean over finished runs; * best" + (f" (+{left} more)" if left else ""),
            box=box.SIMPLE,
            padding=(0, 1),
        )
        rt.add_column("variant/divergence", overflow="fold")  # long settings wrap; the numbers never do
        for col in ["runs", *metrics]:
            rt.add_column(escape(col), justify="right", no_wrap=True)
        for row in wide[["variant/divergence", "runs", *metrics]].itertuples(index=False):
            rt.add_row(*[escape(str(v)) for v in row])
        return rt

    shown: list[str] = []
    for metric in present:  # as many metrics as fit in 80 columns, in the order the bench's metrics declare them
        if (
            Console(width=1000).measure(table([*shown, metric])).minimum > 80
        ):  # names fold to their longest word; numbers never wrap
            break
        shown.append(metric)
    console = Console(width=80)
    console.print(table(shown))
    console.print(
        f"every value and the best and equal-budget columns: ganzoo table {out}\nthe page: {out / 'report.html'}",
        highlight=False,
        soft_wrap=True,
    )


def _print_table(t: pd.DataFrame) -> None:
    import pandas as pd

    from ganzoo import report

    w = report.display(t)
    m, reached = t.attrs["equal_budget"]
    budget = "no run finished" if pd.isna(reached) else f"{reached:g} {m}"
    _rich_table(w, f"mean ± std over finished runs; * best final per dataset and metric; equal budget: {budget}")


def _rich_table(w: pd.DataFrame, title: str, width: int | None = None) -> None:
    rt = Table(title=title)
    for col in w.columns:
        rt.add_column(str(col), overflow="fold")  # a narrow terminal wraps a value, never cuts it
    for row in w.itertuples(index=False):
        rt.add_row(*[str(v) for v in row])
    Console(width=width or (250 if not sys.stdout.isatty() else None)).print(rt)


def _metric_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    return [m.strip() for m in value.split(",") if m.strip()] if value else None


def _report_errors(fn):
    """Errors in result files or metric names: one line, exit code 2."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from ganzoo.report import NotComparable  # here: the decorator runs at import, and report imports pandas
        from ganzoo.results import ResultsFileError

        try:
            return fn(*args, **kwargs)
        except (ResultsFileError, NotComparable, ValueError) as exc:
            raise InputError(str(exc)) from None

    return wrapper


def _preset_config(ctx: click.Context, name: str, out: Path) -> BenchConfig:
    """The preset's bench with the options the user gave on top, each recorded as an override."""
    from ganzoo import presets

    try:
        pr = presets.get(name)
    except BenchInputError as exc:
        raise InputError(str(exc), ctx=ctx) from None
    fields = set(BenchConfig.__dataclass_fields__)
    given = {
        k: v
        for k, v in ctx.params.items()
        if k in fields
        and k not in ("out", "preset")
        and ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT
    }
    return pr.config(**given, out=out)


@main.command("new")
@click.argument("kind", type=click.Choice(["variant", "divergence", "dataset", "metric"]))
@click.argument("name")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="The package folder. [default: ./ganzoo-NAME]"
)
def new_cmd(kind: str, name: str, out: Path | None) -> None:
    """A plugin package that installs and passes the conformance kit as generated; change what is marked CHANGE."""
    from ganzoo.scaffold import new_plugin

    out = out or Path(f"ganzoo-{name}")
    try:
        files = new_plugin(kind, name, out)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    click.echo("\n".join(str(f) for f in files))
    click.echo(f'next: pip install -e "{out}[test]" && pytest {out} && ganzoo check {name}')


@main.command("check")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice(sorted(registry.REGISTRIES)), help="The plugin's kind, where a name is used by two."
)
@click.option(
    "--set",
    "given",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Check the plugin built with this parameter, e.g. ganzoo check gan --set pack=4 (repeatable).",
)
def check_cmd(name: str, kind: str | None, given: tuple[str, ...]) -> None:
    """Run the conformance kit (ganzoo.testing) on an installed plugin and report each rule; exit 1 if one fails."""
    from ganzoo import testing

    try:
        kind = kind or testing.kind_of(name)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if name not in registry.REGISTRIES[kind].names():
        raise InputError(registry.unknown_message(kind[:-1], name, registry.REGISTRIES[kind].names()))
    if given:
        from ganzoo.params import typed
        from ganzoo.training import TRAINING_PARAMS

        try:
            values = Settings.parse([f"{name}.{item}" for item in given])[name]
            cls = registry.REGISTRIES[kind].get(name)
            params = typed(
                values,
                cls.constructor_params(),
                f"{kind[:-1]} {name!r}",
                also=TRAINING_PARAMS if kind == "variants" else None,
            )
        except (ValueError, registry.PluginError) as exc:
            raise InputError(f"--set: {exc}") from None
        name = testing.Configured(name, **params)
    results = testing.run_checks(name, kind)
    colour = {"passed": "green", "failed": "red", "skipped": "yellow"}
    shown = escape(repr(name)) if isinstance(name, testing.Configured) else name  # its [...] is not rich markup
    rt = Table(title=f"ganzoo check {shown} ({kind[:-1]}, {registry.REGISTRIES[kind].entry(name).package})")
    for col in ("check", "result", "message"):
        rt.add_column(col)
    for r in results:
        rt.add_row(r.check, f"[{colour[r.status]}]{r.status}[/]", r.message)
    Console(width=200 if not sys.stdout.isatty() else None).print(rt)
    failed = [r for r in results if r.status == "failed"]
    click.echo(
        f"{len(results) - len(failed)} of {len(results)} checks passed or skipped"
        + (f"; {len(failed)} failed" if failed else "")
    )
    if failed:
        sys.exit(1)


@main.command("table")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--metrics", callback=_metric_list, help="Comma-separated metrics. [default: every score in the results]")
@click.option(
    "--format", "fmt", type=click.Choice(["rich", "markdown", "csv", "latex"]), default="rich", show_default=True
)
@click.option(
    "--equal-budget",
    "measure",
    type=click.Choice(["auto", "images", "seconds", "steps"]),
    default="auto",
    show_default=True,
    help="Measure of the 'equal budget' point, the largest one every run reached; auto: the benches' own budget measure.",
)
@click.option(
    "--published",
    is_flag=True,
    help="For benches run from a --preset: ganzoo's final values (mean ± s.e.) beside the paper's.",
)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="For a sweep: every sample's rows, not the best setting per variant x divergence.",
)
@_report_errors
def table_cmd(results, metrics, fmt, measure, published, every) -> None:
    """Final, best and equal-budget values per dataset x variant x divergence (mean ± std over seeds); for a sweep,
    the best setting of each variant x divergence (--all: every sample)."""
    from ganzoo import report

    sweep = _sweep_manifest(results)
    if sweep is not None and not every and not published:
        t = report.sweep_best(report.load_many(list(results)), sweep, (metrics or [None])[0])
        shown = _sweep_display(t)
        title = f"sweep: best of the sampled settings by final {t['metric'].iloc[0] if len(t) else '-'} (--all: every sample)"
        show_rich = lambda: _rich_table(shown, title)  # noqa: E731
    elif published:
        t = report.published(list(results))
        shown = report.published_display(t)
        show_rich = lambda: _rich_table(shown, "ganzoo beside the published numbers")  # noqa: E731
    else:
        df = report.load_many(list(results))
        for note in report.notes(df):
            click.echo(f"note: {note}", err=True)
        t = report.table(df, metrics, measure)
        shown = report.display(t)
        show_rich = lambda: _print_table(t)  # noqa: E731
    if fmt == "csv":
        click.echo(t.to_csv(index=False), nl=False)
    elif fmt == "markdown":
        click.echo(report.to_markdown(shown), nl=False)
    elif fmt == "latex":
        click.echo(report.to_latex(shown), nl=False)
    else:
        show_rich()


@main.command("compare")
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--metrics", callback=_metric_list, help="Comma-separated metrics. [default: every score in both]")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--format", "fmt", type=click.Choice(["rich", "csv"]), default="rich", show_default=True)
@_report_errors
def compare_cmd(a, b, metrics, alpha, fmt) -> None:
    """Change from result set A to B per variant x metric: 95% Welch interval and t-test p-value."""
    from ganzoo import report

    import pandas as pd

    c = report.compare(a, b, metrics, alpha)
    for note in report.unfinished([a, b]):
        click.echo(f"note: {note}", err=True)
    if fmt == "csv":
        click.echo(c.to_csv(index=False), nl=False)
        return
    rt = Table(title=f"B - A on final values ({a} -> {b}); significant at p < {alpha} marked !")
    settings = (c["setting"] != "").any()
    for col in (
        "dataset",
        "variant",
        "divergence",
        *(["setting"] if settings else []),
        "metric",
        "A",
        "B",
        "change",
        "95% CI",
        "p",
        "",
    ):
        rt.add_column(col)
    for r in c.itertuples(index=False):
        first = [r.dataset, r.variant, r.divergence, *([r.setting] if settings else []), r.metric]
        if r.note.startswith("refused"):
            rt.add_row(*first, "-", "-", "-", "-", "-", f"[yellow]{r.note}[/]")
            continue
        ci = "-" if pd.isna(r.ci_low) else f"[{r.ci_low:.4g}, {r.ci_high:.4g}]"
        p = r.note or "-" if pd.isna(r.p_value) else f"{r.p_value:.3g}"
        rt.add_row(
            *first,
            f"{r.a_mean:.4g} (n={r.n_a})",
            f"{r.b_mean:.4g} (n={r.n_b})",
            f"{r.change:+.4g}",
            ci,
            p,
            "!" if r.significant else "",
        )
    Console(width=250 if not sys.stdout.isatty() else None).print(rt)


@main.command("plot")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--metric", default="fid", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("fig.png"), show_default=True)
@click.option(
    "--sweep",
    "sweep_figure",
    is_flag=True,
    help="For a sweep: the best score among k sampled settings against k (Lucic et al.'s figure) and a box plot of the samples.",
)
@_report_errors
def plot_cmd(results, metric, out, sweep_figure) -> None:
    """A metric against device seconds and images seen: one line per variant, seeds as a band."""
    from ganzoo import report

    df = report.load_many(list(results))
    if sweep_figure:
        manifest = _sweep_manifest(results)
        if manifest is None:
            raise InputError(f"--sweep: {results[0]} is not a sweep's results folder (ganzoo bench --sweep SPACE)")
        report.plot_sweep(df, manifest, out, metric if metric in set(df["metric"]) else None)
        click.echo(str(out))
        return
    for note in report.notes(df[df["metric"] == metric]):
        click.echo(f"note: {note}", err=True)
    click.echo(str(report.plot(df, metric, out)))


@main.command("score")
@click.argument("samples")
@click.option(
    "--reference",
    required=True,
    metavar="REF",
    help="A dataset (digits, mnist, image-folder with --data-dir, any installed one, NAME:ARG), a folder or .npy/.npz of "
    "images, or reference statistics saved by --save-reference.",
)
@FEATURES_OPTION
@FEATURES_WEIGHTS_OPTION
@click.option(
    "--metrics",
    callback=_names("metrics"),
    help="Comma-separated metric plugins. [default: every one that can score the reference]",
)
@click.option(
    "--n",
    "n",
    default=10_000,
    show_default=True,
    type=int,
    help="Samples to draw from a run folder or MODULE:CALLABLE.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seed of the samples a run folder draws, and of the bootstrap.",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the reference dataset's files are."
)
@click.option("--split", default="auto", show_default=True, help="The reference dataset's split.")
@click.option(
    "--download/--no-download", default=True, show_default=True, help="Let a dataset plugin download missing files."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache of classifiers and reference features. [default: $GANZOO_CACHE or ~/.cache/ganzoo]",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--bootstrap",
    "rounds",
    default=50,
    show_default=True,
    type=int,
    help="Rounds of the bootstrap over the generated samples behind FID's and KID's 95% interval (0: none).",
)
@click.option(
    "--fid-infinity",
    is_flag=True,
    help="Also FID∞ (Chong & Forsyth 2020): FID at 10 sample counts, extrapolated to infinitely many.",
)
@click.option(
    "--save-reference",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the reference's statistics (and features) to this .npz, to score against it later without its images.",
)
@click.option(
    "--reference-features/--no-reference-features",
    default=True,
    show_default=True,
    help="With --save-reference: keep the features too (KID, precision/recall, density/coverage need them; FID does not).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the rows to this CSV.")
@click.option("--format", "fmt", type=click.Choice(["rich", "csv", "markdown"]), default="rich", show_default=True)
def score_cmd(
    samples,
    reference,
    features,
    inception_weights,
    metrics,
    n,
    seed,
    data_dir,
    split,
    download,
    cache_dir,
    device,
    rounds,
    fid_infinity,
    save_reference,
    reference_features,
    out,
    fmt,
) -> None:
    """Score SAMPLES (a folder or .npy/.npz of images, a ganzoo run folder, or MODULE:CALLABLE) against a reference,
    with the bench's metrics, provenance and a bootstrap interval."""
    if out is not None and Path(out).suffix != ".csv":
        raise InputError(f"--out {out}: the rows are written as CSV; give a .csv path")
    from ganzoo.scoring import COLUMNS, ScoreRequest, run_score  # torch and the plugins load from here on

    req = ScoreRequest(
        samples,
        reference,
        features,
        inception_weights,
        metrics,
        n,
        seed,
        data_dir,
        split,
        download,
        cache_dir,
        device,
        rounds,
        fid_infinity,
        save_reference,
        reference_features,
    )
    try:
        rows, record = run_score(req)
    except BenchInputError as exc:
        raise InputError(str(exc)) from None
    import pandas as pd

    from ganzoo import report
    from ganzoo.results import atomic_write_text

    df = pd.DataFrame(rows, columns=COLUMNS)
    if out is not None:
        atomic_write_text(Path(out), df.to_csv(index=False))
    err = Console(stderr=True)
    err.print(
        f"{escape(record['samples'])} ({record['generated']} samples) against {escape(reference)} in {escape(features)} features, "
        f"device {record['device']}",
        highlight=False,
    )
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
        return
    shown = pd.DataFrame(
        {
            "metric": df["metric"],
            "value": [f"{v:.5g}" for v in df["value"]],
            "95% interval": [
                "" if pd.isna(lo) else f"[{lo:.5g}, {hi:.5g}]" for lo, hi in zip(df["ci_low"], df["ci_high"])
            ],
            "features": df["features"],
            "reference": df["reference"],
            "n ref": df["reference_images"],
            "n gen": df["generated_images"],
        }
    )
    if fmt == "markdown":
        click.echo(report.to_markdown(shown), nl=False)
    else:
        _rich_table(shown, "ganzoo score: " + (f"rows in {out}" if out else "--out FILE.csv keeps the rows"))
        for _, row in df[df["metric"].str.startswith("error_")].iterrows():
            err.print(f"[yellow]{escape(str(row.detail))}[/]")


@main.command("report")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The page to write. [default: report.html in the first folder]",
)
@_report_errors
def report_cmd(results, out) -> None:
    """One static page for one or several results folders: what ran, the table, curves, sample sheets and failures."""
    from ganzoo.page import write_page

    if out is not None and Path(out).suffix not in (".html", ".htm"):
        raise InputError(f"--out {out}: the report is an HTML page; give a .html path")
    click.echo(str(write_page(list(results), out)))
