"""``ganzoo plot``: a metric against the budget; a sweep's best-of-k figure."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli.common import InputError, report_errors, sweep_manifest


@click.command("plot")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--metric", default="fid", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("fig.png"), show_default=True)
@click.option(
    "--sweep",
    "sweep_figure",
    is_flag=True,
    help="For a sweep: the best score among k sampled settings against k (Lucic et al.'s figure) and a box plot of the samples.",
)
@report_errors
def plot_cmd(results, metric, out, sweep_figure) -> None:
    """A metric against device seconds and images seen: one line per variant, seeds as a band."""
    from ganzoo import report

    df = report.load_many(list(results))
    if sweep_figure:
        manifest = sweep_manifest(results)
        if manifest is None:
            raise InputError(f"--sweep: {results[0]} is not a sweep's results folder (ganzoo bench --sweep SPACE)")
        report.plot_sweep(df, manifest, out, metric if metric in set(df["metric"]) else None)
        click.echo(str(out))
        return
    for note in report.notes(df[df["metric"] == metric]):
        click.echo(f"note: {note}", err=True)
    click.echo(str(report.plot(df, metric, out)))
