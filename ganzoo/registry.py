"""Plugin registries filled from ``importlib.metadata`` entry points.

One registry per plugin kind; ganzoo's own variants, divergences, datasets and metrics come in
through the same entry-point groups a third-party package uses::

    [project.entry-points."ganzoo.variants"]
    mygan = "mypkg.mygan:MyGAN"

Entry points are listed eagerly (cheap) but imported lazily, one at a time, so a plugin that fails to
import is reported with its error and does not break the others. Contracts (the base class) are
checked at load time, not halfway through training. Listing names reads entry-point metadata only: this
module imports neither torch nor a plugin, so ``ganzoo list --names`` and a misspelt name answer at once.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import re
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ganzoo.data import Dataset
    from ganzoo.divergence import Divergence
    from ganzoo.metrics.base import Metric
    from ganzoo.variant import Variant

T = TypeVar("T")
# plugin names become file and folder names (run ids, cache files): no separators, no leading dot
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class PluginError(Exception):
    """A plugin could not be used: unknown name, failed import, wrong type or a name clash."""


@dataclass
class PluginEntry:
    kind: str
    name: str
    target: str  # "module:attr" as the entry point names it, or "<registered>" for in-process ones
    package: str  # distribution that provides it, with version
    obj: Any = None
    error: str | None = None
    loaded: bool = False


class Registry(Generic[T]):
    """The plugins of one kind: ``names()``, ``get(name)``, ``entries()`` and ``register()``."""

    def __init__(self, kind: str, group: str, base: str) -> None:
        self.kind, self.group, self._base = kind, group, base  # base: "module:Class", imported when a plugin is
        self._entries: dict[str, PluginEntry] | None = None

    @property
    def base(self) -> type:
        """The class every plugin of this kind subclasses (imported on first use: it imports torch)."""
        module, _, name = self._base.partition(":")
        return getattr(importlib.import_module(module), name)

    def _discover(self) -> dict[str, PluginEntry]:
        if self._entries is not None:
            return self._entries
        found: dict[str, list[tuple[metadata.EntryPoint, str]]] = {}
        for ep in metadata.entry_points(group=self.group):
            dist = ep.dist
            package = f"{dist.metadata['Name']} {dist.version}" if dist is not None else "unknown"
            seen = found.setdefault(ep.name, [])
            if all((e.value, p) != (ep.value, package) for e, p in seen):  # same dist found twice on sys.path
                seen.append((ep, package))
        entries: dict[str, PluginEntry] = {}
        for name, eps in sorted(found.items()):
            ep, package = eps[0]
            entry = PluginEntry(self.kind, name, ep.value, package)
            if not SAFE_NAME.match(name):  # it would become a path: ../../x must not write outside --out
                entry.error = (
                    f"unsafe name {name!r} in entry-point group {self.group!r} ({ep.value} from {package}): "
                    "names are letters, digits and . _ + - (not first)"
                )
                entry.loaded = True
            elif len(eps) > 1:
                clash = "; ".join(f"{e.value} from {p}" for e, p in eps)
                entry.error = f"name clash in entry-point group {self.group!r}: {name!r} is provided by {clash}"
                entry.loaded = True
            else:
                entry.obj = ep  # imported on first use
            entries[name] = entry
        self._entries = entries
        return entries

    def _load(self, entry: PluginEntry) -> None:
        if entry.loaded:
            return
        entry.loaded = True
        try:
            obj = entry.obj.load()
        except Exception as exc:  # a broken plugin must not take the others down
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            entry.obj, entry.error = None, f"failed to import {entry.target} from {entry.package}{where(exc)}: {last}"
            return
        if not (isinstance(obj, type) and issubclass(obj, self.base)):
            entry.obj = None
            entry.error = (
                f"{entry.target} from {entry.package} is not a subclass of {self.base.__module__}.{self.base.__name__}"
            )
            return
        entry.obj = obj

    def register(self, name: str, obj: type, *, package: str = "<registered in-process>") -> type:
        """Register a plugin from code (notebooks, tests); the same checks as an entry point."""
        entries = self._discover()
        if not isinstance(name, str) or not SAFE_NAME.match(name):
            raise PluginError(f"{self.kind[:-1]} name must be letters, digits and . _ + - (not first), got {name!r}")
        if name in entries:
            raise PluginError(f"{self.kind[:-1]} {name!r} is already provided by {entries[name].package}")
        if not (isinstance(obj, type) and issubclass(obj, self.base)):
            raise PluginError(f"{obj!r} is not a subclass of {self.base.__name__}")
        entries[name] = PluginEntry(self.kind, name, f"{obj.__module__}:{obj.__qualname__}", package, obj, None, True)
        return obj

    def unregister(self, name: str) -> None:
        self._discover().pop(name, None)

    def names(self, package: str | None = None) -> list[str]:
        """Every name of this kind, or those a distribution provides (``package``: its name, without
        version), without importing any."""
        entries = self._discover()
        return sorted(n for n, e in entries.items() if package is None or e.package.split(" ")[0] == package)

    def package(self, name: str) -> str:
        """The distribution (with version) that provides ``name``, without importing it."""
        return self._discover()[name].package

    def declared(self, name: str, attr: str) -> Any:
        """A plugin class's attribute as its source spells it (a literal assigned in the class body), read
        without importing the plugin: how ``ganzoo table`` learns the metrics' directions without loading
        torch. Where the source does not say it as a literal (inherited, computed), the plugin is imported."""
        entry = self._discover()[name]
        if not entry.loaded:
            value = _literal_attribute(entry.target, attr)
            if value is not _MISSING:
                return value
        entry = self.entry(name)
        return None if entry.error else getattr(entry.obj, attr, None)

    def entries(self) -> list[PluginEntry]:
        """Every plugin of this kind, each imported; failures carry their error instead of raising."""
        entries = self._discover()
        for entry in entries.values():
            self._load(entry)
        return [entries[n] for n in sorted(entries)]

    def entry(self, name: str) -> PluginEntry:
        entries = self._discover()
        if name not in entries:
            raise PluginError(unknown_message(self.kind[:-1], name, list(entries)))
        entry = entries[name]
        self._load(entry)
        return entry

    def get(self, name: str) -> type[T]:
        entry = self.entry(name)
        if entry.error:
            raise PluginError(f"{self.kind[:-1]} {name!r} cannot be used: {entry.error}")
        return entry.obj


_MISSING = object()


def _literal_attribute(target: str, attr: str) -> Any:
    """``attr`` of the class ``module:Class`` evaluated as a literal from the module's source (parsed, never
    run; finding the module imports its parent packages only), or _MISSING."""
    module, _, qualname = target.partition(":")
    try:
        spec = importlib.util.find_spec(module)
        tree = ast.parse(Path(spec.origin).read_text()) if spec is not None and spec.origin else None
    except Exception:  # noqa: BLE001 (any failure means: import it the usual way, which reports it properly)
        return _MISSING
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.ClassDef) and node.name == qualname:
            for stmt in node.body:
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                    if isinstance(stmt, ast.AnnAssign)
                    else []
                )
                if any(isinstance(t, ast.Name) and t.id == attr for t in targets) and stmt.value is not None:
                    try:
                        return ast.literal_eval(stmt.value)
                    except ValueError:
                        return _MISSING
    return _MISSING


def where(exc: BaseException) -> str:
    """`` at FILE:LINE``: the plugin's own line that raised (a syntax error's line; else the innermost
    frame outside Python's import machinery), so an author sees where to look."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" at {exc.filename}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def unknown_message(what: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r} (known: {', '.join(sorted(known)) or 'none installed'}){hint}"


variants: Registry[Variant] = Registry("variants", "ganzoo.variants", "ganzoo.variant:Variant")
divergences: Registry[Divergence] = Registry("divergences", "ganzoo.divergences", "ganzoo.divergence:Divergence")
datasets: Registry[Dataset] = Registry("datasets", "ganzoo.datasets", "ganzoo.data:Dataset")
metrics: Registry[Metric] = Registry("metrics", "ganzoo.metrics", "ganzoo.metrics.base:Metric")

REGISTRIES: dict[str, Registry[Any]] = {r.kind: r for r in (variants, datasets, divergences, metrics)}
