"""What ``--set NAME.PARAM=VALUE`` can reach: a plugin's keyword-only constructor arguments (a variant's
``z_dim``, a divergence's ``gp_weight``, a metric's ``max_samples``), each converted to the type of its
default. One conversion for every kind, so ``--set`` means the same thing wherever it points."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any


def keyword_params(init: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword-only parameters of ``init`` with their defaults, less those the bench itself passes."""
    skipped = set(skip)
    return {
        k: p.default
        for k, p in inspect.signature(init).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and k not in skipped
    }


def convert(text: str, default: Any) -> Any:
    """``text`` as the type of ``default`` (bool: true/false/1/0/yes/no); raises ValueError saying what was expected."""
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError("not a bool (expected true or false)")
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            kind = type(default).__name__
            raise ValueError(f"not {'an' if kind[0] in 'aeiou' else 'a'} {kind}") from None
    return text


def typed(
    given: dict[str, str], defaults: dict[str, Any], what: str, also: dict[str, type] | None = None
) -> dict[str, Any]:
    """``given`` (parameter -> text) converted to the types of ``defaults`` (or of ``also``: parameters every
    plugin of a kind takes, named by type); raises ValueError naming an unknown parameter with what ``what``
    accepts, or a value that does not convert."""
    also = also or {}
    out: dict[str, Any] = {}
    for key, text in given.items():
        if key not in defaults and key not in also:
            accepted = ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "no parameters"
            shared = [k for k in also if k not in defaults]
            and_shared = f"; and {', '.join(shared)}" if shared else ""
            raise ValueError(f"{what} has no parameter {key!r}; it accepts {accepted}{and_shared}")
        try:
            out[key] = convert(text, defaults[key] if key in defaults else also[key]())
        except ValueError as exc:
            raise ValueError(f"{what}: {key}={text}: {exc}") from None
    return out
