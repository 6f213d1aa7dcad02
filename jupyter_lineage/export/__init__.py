"""Exports of the lineage graph. One registry serves the built-in formats and plugins alike:
a plugin registers ``name = "pkg.module:render"`` in the entry-point group
``jupyter_lineage.exporters``; ``render(bundle) -> str``."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from ..errors import UsageError
from .bundle import Bundle, collect

Renderer = Callable[[Bundle], str]
GROUP = "jupyter_lineage.exporters"


def formats() -> dict[str, Renderer]:
    found: dict[str, Renderer] = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def renderer(name: str) -> Renderer:
    available = formats()
    if name not in available:
        raise UsageError(f"Unknown export format '{name}'; choose one of: {', '.join(available)}.")
    return available[name]


__all__ = ["Bundle", "collect", "formats", "renderer"]
