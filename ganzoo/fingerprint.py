"""What code produced a bench's numbers: ganzoo's version and source hash, and each plugin in use with its
package and the sha256 of its source. An editable or VCS install keeps its version while its code changes,
so versions alone cannot tell a resumed bench that its code moved under it; the hashes can.

The planner fingerprints the plugins a bench uses once; each trial records its own part (:func:`narrow`).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

from ganzoo import __version__, registry
from ganzoo.results import source_sha256


def plugin_source(obj: type) -> Path | None:
    """The code a plugin class runs: its top-level package's folder (so helpers in sibling modules count,
    as the shared networks beside the built-in variants do), or its module file; None when it was
    defined where there is no file (a notebook, exec'd code)."""
    top = sys.modules.get(obj.__module__.split(".")[0])
    if top is not None and getattr(top, "__path__", None):
        return Path(list(top.__path__)[0])
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return None
    return Path(source) if source else None


def key(kind: str, name: str) -> str:
    """A plugin's key in a fingerprint: ``variant:gan``, ``metric:fidelity`` (``kind`` a registry's plural)."""
    return f"{kind[:-1]}:{name}"


def code_fingerprint(used: list[tuple[str, str]]) -> dict[str, Any]:
    """The fingerprint of ganzoo and the plugins ``used`` (``(registry kind, name)`` pairs)."""
    import ganzoo
    import ganzoo_plugins

    plugins, hashed = {}, {}  # built-ins share a package: each folder is read once
    for kind, name in used:
        entry = registry.REGISTRIES[kind].entry(name)
        source = plugin_source(registry.REGISTRIES[kind].get(name))
        if source is not None and source not in hashed:
            hashed[source] = source_sha256([source])
        plugins[key(kind, name)] = {"package": entry.package, "source_sha256": hashed.get(source)}
    roots = [Path(ganzoo.__file__).parent, Path(ganzoo_plugins.__file__).parent]
    return {"ganzoo": __version__, "ganzoo_source_sha256": source_sha256(roots), "plugins": plugins}


def narrow(fingerprint: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """The part of a bench's fingerprint one trial ran: ganzoo's, and its own plugins'."""
    if not fingerprint:
        return {}
    return {
        "ganzoo": fingerprint["ganzoo"],
        "ganzoo_source_sha256": fingerprint["ganzoo_source_sha256"],
        "plugins": {k: fingerprint["plugins"][k] for k in keys if k in fingerprint["plugins"]},
    }


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between a recorded fingerprint and this one, one phrase each."""
    out = []
    if old.get("ganzoo") != new["ganzoo"]:
        out.append(f"ganzoo {old.get('ganzoo')} -> {new['ganzoo']}")
    elif old.get("ganzoo_source_sha256") != new["ganzoo_source_sha256"]:
        out.append("ganzoo's source code changed")
    for k in sorted(set(old.get("plugins", {})) | set(new["plugins"])):
        a, b = old.get("plugins", {}).get(k), new["plugins"].get(k)
        if a is None or b is None:
            out.append(f"{k} {'added' if a is None else 'removed'}")
        elif a["package"] != b["package"]:
            out.append(f"{k}: {a['package']} -> {b['package']}")
        elif a["source_sha256"] != b["source_sha256"]:
            out.append(f"{k}: source code changed")
    return out
