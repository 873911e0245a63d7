"""ganzoo's metrics, each a plugin of the ``ganzoo.metrics`` entry-point group, and their base class.

``Metric`` and ``Samples`` load on first use, so finding a metric module (to read its declared
directions) imports no torch."""

from __future__ import annotations

from typing import Any

__all__ = ["Metric", "Samples"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'ganzoo.metrics' has no attribute {name!r}")
    from ganzoo.metrics import base

    return getattr(base, name)
