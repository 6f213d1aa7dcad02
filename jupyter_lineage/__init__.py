"""jupyter-lineage: what data and code made this model? Notebook-first lineage tracking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import (
        LineageWarning,
        ignore,
        log_input,
        log_metric,
        log_output,
        log_param,
        log_params,
        runs,
        show,
        sources,
        start,
        stop,
        trace,
        tracking,
    )
    from .errors import LineageError
    from .extension import load_ipython_extension, unload_ipython_extension

# Imported on first use (PEP 562): a Python child of a tracked cell starts capture through
# jupyter_lineage.capture.child without paying for the API, IPython and the server.
_LAZY = {
    **dict.fromkeys(
        (
            "LineageWarning",
            "ignore",
            "log_input",
            "log_metric",
            "log_output",
            "log_param",
            "log_params",
            "runs",
            "show",
            "sources",
            "start",
            "stop",
            "trace",
            "tracking",
        ),
        ".api",
    ),
    "LineageError": ".errors",
    "load_ipython_extension": ".extension",
    "unload_ipython_extension": ".extension",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_lineage' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-lineage"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_lineage"}]


def _load_jupyter_server_extension(serverapp: object) -> None:
    from .server import load  # jupyter_server/tornado: only in the server (start-up cost)

    load(serverapp)


__all__ = [
    "LineageError",
    "LineageWarning",
    "__version__",
    "ignore",
    "load_ipython_extension",
    "log_input",
    "log_metric",
    "log_output",
    "log_param",
    "log_params",
    "runs",
    "show",
    "sources",
    "start",
    "stop",
    "trace",
    "tracking",
    "unload_ipython_extension",
]
