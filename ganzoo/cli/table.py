"""``ganzoo table``: final, best and equal-budget values; a sweep's best settings; the published rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ganzoo.cli.common import metric_list_arg, report_errors, rich_table, sweep_display, sweep_judged_by, sweep_manifest

if TYPE_CHECKING:
    import pandas as pd


@click.command("table")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--metrics", callback=metric_list_arg, help="Comma-separated metrics. [default: every score in the results]"
)
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
@click.option(
    "--select",
    type=click.Choice(["best", "final"]),
    default="best",
    show_default=True,
    help="For a sweep: judge each sample by its best value over its evaluation points (Lucic et al., as "
    "compare_gan ran them) or by its final value.",
)
@report_errors
def table_cmd(results, metrics, fmt, measure, published, every, select) -> None:
    """Final, best and equal-budget values per dataset x variant x divergence (mean ± std over seeds); for a sweep,
    the best setting of each variant x divergence (--all: every sample)."""
    from ganzoo import report

    sweep = sweep_manifest(results)
    if sweep is not None and not every and not published:
        t = report.sweep_best(report.load_many(list(results)), sweep, (metrics or [None])[0], select)
        shown = sweep_display(t)
        title = f"sweep: best of the sampled settings by {sweep_judged_by(t)} (--all: every sample)"
        show_rich = lambda: rich_table(shown, title)  # noqa: E731
    elif published:
        t = report.published(list(results))
        shown = report.published_display(t)
        show_rich = lambda: rich_table(shown, "ganzoo beside the published numbers")  # noqa: E731
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


def _print_table(t: pd.DataFrame) -> None:
    import pandas as pd

    from ganzoo import report

    w = report.display(t)
    m, reached = t.attrs["equal_budget"]
    budget = "no run finished" if pd.isna(reached) else f"{reached:g} {m}"
    rich_table(w, f"mean ± std over finished runs; * best final per dataset and metric; equal budget: {budget}")
