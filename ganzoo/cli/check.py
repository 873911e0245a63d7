"""``ganzoo check``: the conformance kit on an installed plugin, each rule passed, failed or skipped."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ganzoo import registry
from ganzoo.cli.common import InputError
from ganzoo.config import Settings


@click.command("check")
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
