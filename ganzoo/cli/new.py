"""``ganzoo new``: a plugin package that installs and passes the conformance kit as generated."""

from __future__ import annotations

from pathlib import Path

import click

from ganzoo.cli.common import InputError


@click.command("new")
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
