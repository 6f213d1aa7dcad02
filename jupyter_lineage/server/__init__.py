"""The jupyter_server extension: a small, authenticated, read-only REST API over the store."""

from __future__ import annotations

from typing import Any

from .handlers import setup_handlers


def load(serverapp: Any) -> None:
    setup_handlers(serverapp)
    serverapp.log.info("jupyter-lineage: REST API at /lineage/api/")


__all__ = ["load", "setup_handlers"]
