"""``ganzoo list``: the installed plugins and the presets."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from ganzoo import registry


@click.command("list")
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
