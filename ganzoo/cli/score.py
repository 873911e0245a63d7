"""``ganzoo score``: samples from anywhere scored as a bench scores them."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ganzoo.cli.common import (
    CACHE_DIR_OPTION,
    DEVICE_OPTION,
    FEATURES_OPTION,
    FEATURES_WEIGHTS_OPTION,
    InputError,
    data_source_options,
    names_arg,
    rich_table,
)
from ganzoo.config import BenchInputError


@click.command("score")
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
    callback=names_arg("metrics"),
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
@data_source_options("the reference dataset's")
@CACHE_DIR_OPTION
@DEVICE_OPTION
@click.option(
    "--bootstrap",
    default=50,
    show_default=True,
    type=int,
    help="Half-samples (of the generated and, where it is a sample, the reference set) behind FID's and KID's 95% "
    "interval for E[FID_n] (0: none).",
)
@click.option(
    "--fid-infinity",
    is_flag=True,
    help="Also FID∞ (Chong & Forsyth 2020): FID at 15 sample counts from 2.4 x the feature dimension up, "
    "extrapolated to infinitely many (needs about 5 x the dimension in samples).",
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
def score_cmd(out, fmt, **given) -> None:
    """Score SAMPLES (a folder or .npy/.npz of images, a ganzoo run folder, or MODULE:CALLABLE) against a reference,
    with the bench's metrics, provenance and a bootstrap interval."""
    from ganzoo.score_request import ScoreRequest, check_request

    given["features_weights"] = given.pop("inception_weights")  # the option's name in bench's config
    req = ScoreRequest(**given)
    reference, features = req.reference, req.features
    try:
        check_request(req, out)  # everything that needs no torch, in a fraction of a second
        from ganzoo.scoring import COLUMNS, run_score  # torch and the plugins load from here on

        with warnings.catch_warnings(record=True) as caught:  # held back: on a bad input the one line says it all
            warnings.simplefilter("always")
            rows, record = run_score(req)
    except BenchInputError as exc:
        raise InputError(str(exc)) from None
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
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
    k = pd.Series([report.shown_scale(m, f) for m, f in zip(df["metric"], df["features"])], index=df.index)
    shown = pd.DataFrame(
        {
            "metric": [report.shown_name(m, f) for m, f in zip(df["metric"], df["features"])],
            "value": [f"{v:.5g}" for v in df["value"] * k],
            "95% interval": [
                "" if pd.isna(lo) else f"[{lo:.5g}, {hi:.5g}]" for lo, hi in zip(df["ci_low"] * k, df["ci_high"] * k)
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
        rich_table(shown, "ganzoo score: " + (f"rows in {out}" if out else "--out FILE.csv keeps the rows"))
        for _, row in df[df["metric"].str.startswith("error_")].iterrows():
            err.print(f"[yellow]{escape(str(row.detail))}[/]")
