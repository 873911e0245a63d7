"""``ganzoo new KIND NAME``: a plugin package that installs, registers through its entry point and
passes ganzoo's conformance kit as generated; the places to change are marked ``CHANGE``."""

from __future__ import annotations

from pathlib import Path

from ganzoo import registry

KINDS = {"variant": "variants", "divergence": "divergences", "dataset": "datasets", "metric": "metrics"}
TEMPLATES = Path(__file__).parent / "templates"


def new_plugin(kind: str, name: str, out: Path) -> list[Path]:
    """Write the package for a ``kind`` plugin called ``name`` into ``out`` (which must not hold files);
    raises ValueError naming a bad kind, name or folder. Returns the files written."""
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r} (known: {', '.join(KINDS)})")
    if not registry.SAFE_NAME.match(name) or not name[0].isalpha():
        raise ValueError(f"plugin name {name!r}: use letters, digits and . _ + - , starting with a letter")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {str(out)!r} already holds files; choose a new folder")
    ident = "".join(c if c.isalnum() else "_" for c in name.lower())
    values = {
        "name": name,
        "kind": kind,
        "group": KINDS[kind],
        "module": f"ganzoo_{ident}",
        "cls": "".join(part.capitalize() for part in ident.split("_")) or "Plugin",
        "title": name,
    }
    files = {
        out / f"{values['module']}.py": f"{kind}.py.tmpl",
        out / "pyproject.toml": "pyproject.toml.tmpl",
        out / "README.md": "README.md.tmpl",
        out / "tests" / "test_conformance.py": "test_conformance.py.tmpl",
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((TEMPLATES / template).read_text().format(**values))
    return list(files)
