"""``ganzoo compare``: the change from one result set to another, with Welch intervals."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ganzoo.cli.common import metric_list_arg, report_errors


@click.command("compare")
@click.argument("a", type=click.Path(exists=True, path_type=Path))
@click.argument("b", type=click.Path(exists=True, path_type=Path))
@click.option("--metrics", callback=metric_list_arg, help="Comma-separated metrics. [default: every score in both]")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--format", "fmt", type=click.Choice(["rich", "csv"]), default="rich", show_default=True)
@report_errors
def compare_cmd(a, b, metrics, alpha, fmt) -> None:
    """Change from result set A to B per variant x metric: 95% Welch interval and t-test p-value."""
    import pandas as pd

    from ganzoo import report

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
