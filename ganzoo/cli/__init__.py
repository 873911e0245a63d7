"""The ``ganzoo`` command: one click group, one module per command, thin over the library.

Progress and diagnostics go to stderr; tables go to stdout; results go to files. The command modules import
only what parsing needs (click, rich, the configuration, entry-point names); torch, pandas and the plugins
load inside the command that uses them, so help, names and input errors answer at once.
"""

from __future__ import annotations

import click

from ganzoo import __version__
from ganzoo.cli import bench, check, compare, listing, new, plot, report, score, table
from ganzoo.cli.common import InputError


class OneLineUsageError(click.UsageError):
    """Click's own usage errors (a value out of range, an unknown choice or option, a file for a folder) in
    the one-line form the rest of the CLI uses, naming where help is."""

    def show(self, file=None) -> None:  # type: ignore[override]
        where = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"Error: {self.format_message()}{where}", err=True)


def one_line(fn):  # noqa: ANN001, ANN202
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return fn(*args, **kwargs)
        except click.UsageError as exc:
            if isinstance(exc, (InputError, OneLineUsageError)):
                raise
            raise OneLineUsageError(exc.format_message(), ctx=exc.ctx) from None

    return wrapped


class Group(click.Group):
    """A group whose subcommands' parse errors print one line."""

    def make_context(self, *args, **kwargs) -> click.Context:  # noqa: ANN002, ANN003
        return one_line(super().make_context)(*args, **kwargs)

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        return one_line(super().invoke)(ctx)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="ganzoo")
def main() -> None:
    """ganzoo: train GAN variants under one budget and compare them."""


for command in (
    listing.list_cmd,
    bench.bench,
    new.new_cmd,
    check.check_cmd,
    table.table_cmd,
    compare.compare_cmd,
    plot.plot_cmd,
    score.score_cmd,
    report.report_cmd,
):
    main.add_command(command)
