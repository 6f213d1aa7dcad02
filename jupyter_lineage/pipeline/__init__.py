"""papermill pipelines: tracked runs, the ``lineage`` engine, reproduce, sweeps.

Names are loaded on first use: papermill imports ``pipeline.engine`` (so this package) in every
process that imports papermill, and that must stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reproduce import reproduce
    from .run import RunResult, run_notebook
    from .sweep import sweep

_LAZY = {"reproduce": "reproduce", "RunResult": "run", "run_notebook": "run", "sweep": "sweep"}

__all__ = ["RunResult", "reproduce", "run_notebook", "sweep"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
