"""``ganzoo bench``: parse the options into a :class:`~ganzoo.config.BenchConfig` and hand it to the runner;
print what it did."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ganzoo import config as configuration
from ganzoo import registry
from ganzoo.cli.common import (
    CACHE_DIR_OPTION,
    DEVICE_OPTION,
    FEATURES_OPTION,
    FEATURES_WEIGHTS_OPTION,
    InputError,
    data_source_options,
    dataset_arg,
    names_arg,
    rich_table,
    seeds_arg,
    settings_arg,
    sweep_display,
    sweep_judged_by,
    sweep_manifest,
)
from ganzoo.config import MACHINE_OPTIONS, BenchConfig, BenchInputError, split_variant

if TYPE_CHECKING:
    import pandas as pd


@click.command()
@click.option(
    "--variants",
    callback=names_arg("variants"),
    help="Comma-separated variants; LABEL=VARIANT benches a variant under a label of its own (pacgan4=gan with "
    "--set pacgan4.pack=4). [default: every variant that can run on the dataset]",
)
@click.option(
    "--divergence",
    "--divergences",
    "divergences",
    callback=names_arg("divergences"),
    help="Comma-separated divergences, overriding each variant's default; one run per variant x divergence.",
)
@click.option(
    "--dataset",
    default="digits",
    show_default=True,
    callback=dataset_arg,
    help="A dataset, or NAME:ARGUMENT for datasets that take one (celeba:Black_Hair,Blond_Hair).",
)
@data_source_options("a dataset's")
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
    callback=seeds_arg,
    help="A count N (seeds 0..N-1), a list (0,3,7) or a range (10-19), or both (0,5-7): "
    "split a study by hand and merge with `ganzoo table`.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Override every variant's batch size.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    callback=settings_arg,
    metavar="NAME.PARAM=VALUE",
    help="Set a parameter of a variant (or label), divergence or metric in this bench, e.g. --set cyclegan.identity_weight=0.5, "
    "--set wasserstein-gp.gp_weight=5, --set fidelity.max_samples=2000 (repeatable; recorded in config.json).",
)
@DEVICE_OPTION
@click.option("--amp/--no-amp", default=False, show_default=True, help="fp16 mixed precision (CUDA only).")
@click.option(
    "--channels-last/--no-channels-last",
    default=False,
    show_default=True,
    help="Networks in channels-last memory order (faster convolutions on recent GPUs; benchmarks/gpu.py measures it).",
)
@click.option(
    "--compile/--no-compile",
    default=False,
    show_default=True,
    help="torch.compile every network; the first step's warm-up is timed apart (config.json: compile_warmup_seconds).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Results folder. [default: results/bench-<date>-<time>]")
@click.option("--force", is_flag=True, help="Replace the results an existing --out holds.")
@FEATURES_OPTION
@FEATURES_WEIGHTS_OPTION
@CACHE_DIR_OPTION
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
    callback=names_arg("metrics"),
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
    callback=lambda ctx, p, v: None if v is None else seeds_arg(ctx, p, v),
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
    settings,
    device,
    amp,
    channels_last,
    compile,
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
            if name not in ("resume", "allow_code_change", *machine) and _given(ctx, name)
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
            from ganzoo.search import preset_sweep

            sweep_space, samples = preset_sweep(preset, sweep_space, samples, _given(ctx, "samples"))
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
                channels_last=channels_last,
                compile=compile,
                out=out,
                force=force,
                cache_dir=cache_dir,
                features=features,
                inception_weights=inception_weights,
                settings=settings,
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
    for flag, name in (("--samples", "samples"), ("--sweep-seed", "sweep_seed"), ("--param", "params")):
        if sweep_space is None and _given(ctx, name):
            raise InputError(f"{flag} goes with --sweep SPACE")
    from ganzoo import search

    try:
        if rerun_best is not None:
            if config is None or sweep_space is not None:
                raise InputError(
                    "--rerun-best starts a new bench from a finished sweep: leave out --resume and --sweep"
                )
            fields = set(BenchConfig.__dataclass_fields__)
            given = {k: v for k, v in ctx.params.items() if k in fields and _given(ctx, k)}
            config = search.rerun_config(from_sweep, rerun_best, {**given, "out": out})
        if config is not None:
            _check_fast(config)
        if sweep_space is not None and config is not None:
            config = search.sweep_config(config, sweep_space, samples, sweep_seed, params, _all_variants)
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
    sweep = sweep_manifest((out,))
    if sweep is not None:
        from ganzoo import report

        try:
            best = report.sweep_best(df, sweep)
            rich_table(sweep_display(best), f"sweep: best of the sampled settings by {sweep_judged_by(best)}", width=80)
            Console(width=80).print(
                f"every sample: ganzoo table {out} --all; the figure: ganzoo plot {out} --sweep{_rerun_hint(sweep, out)}",
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


def _preset_config(ctx: click.Context, name: str, out: Path) -> BenchConfig:
    """The preset's bench with the options the user gave on top, each recorded as an override."""
    from ganzoo import presets

    try:
        pr = presets.get(name)
    except BenchInputError as exc:
        raise InputError(str(exc), ctx=ctx) from None
    fields = set(BenchConfig.__dataclass_fields__)
    given = {k: v for k, v in ctx.params.items() if k in fields and k not in ("out", "preset") and _given(ctx, k)}
    written_for = pr.options["dataset"]
    if "dataset" in given and given["dataset"].split(":")[0] != written_for.split(":")[0]:
        raise InputError(
            f"--preset {name} is written for --dataset {written_for} (its networks, protocol and published rows), "
            f"not {given['dataset']}; for {given['dataset']} run a plain bench (--dataset {given['dataset']} --variants ...)"
        )
    return pr.config(**given, out=out)


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


def _all_variants(config: BenchConfig) -> list[str]:
    """The variants a sweep without --variants samples: those the default bench would run on the dataset."""
    from ganzoo.factory import check_source
    from ganzoo.plan import default_variants

    try:
        return default_variants(config, check_source(config.source))[0]
    except BenchInputError as exc:
        raise InputError(str(exc)) from None


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
            rt.add_column(escape(wide.attrs.get("shown", {}).get(col, col)), justify="right", no_wrap=True)
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


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the user gave option ``name`` (not left to its default)."""
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def _rerun_hint(manifest: dict, out: Path) -> str:
    """The command that reruns a preset sweep's best settings over the preset's seeds (Lucic et al.: 50)."""
    name = (manifest.get("config") or {}).get("preset")
    if not name:
        return ""
    from ganzoo import presets

    seeds = presets.PRESETS[name].rerun_seeds if name in presets.PRESETS else 0
    return f"\nthen, as the paper did: ganzoo bench --rerun-best 0-{seeds - 1} --from-sweep {out}" if seeds else ""
