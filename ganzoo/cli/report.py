"""``ganzoo report``: one static page for one or several results folders."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli.common import InputError, report_errors


@click.command("report")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The page to write. [default: report.html in the first folder]",
)
@report_errors
def report_cmd(results, out) -> None:
    """One static page for one or several results folders: what ran, the table, curves, sample sheets and failures."""
    from ganzoo.page import write_page

    if out is not None and Path(out).suffix not in (".html", ".htm"):
        raise InputError(f"--out {out}: the report is an HTML page; give a .html path")
    click.echo(str(write_page(list(results), out)))
