"""The extension ``jupyter lineage enable`` names in IPython's kernel config: tracking as the
kernel starts. Where the notebook is not known yet (VS Code names it in the namespace after
start-up), the run begins at the first cell instead of without its notebook."""

from __future__ import annotations

from typing import Any

from .extension import load_ipython_extension as _load
from .extension import unload_ipython_extension


def load_ipython_extension(shell: Any) -> None:
    _load(shell, at_start=True)


__all__ = ["load_ipython_extension", "unload_ipython_extension"]
