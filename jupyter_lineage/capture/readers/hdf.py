"""HDF5 through h5py: arrays in a file are data, whatever the extension (Keras's ``.h5``
models are noted as models by the Keras spec, which wraps the outer call)."""

from __future__ import annotations

import os
from typing import Any

from .spec import Spec, Target, path_of


def _file(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    name = args[1] if len(args) > 1 else kwargs.get("name")
    mode = args[2] if len(args) > 2 else kwargs.get("mode") or "r"
    path = path_of(name)
    if path is None:
        return []
    found: list[Target] = []
    if mode in ("r", "r+", "a") and os.path.exists(path):
        found.append((path, "read", "dataset"))
    if mode != "r":
        found.append((path, "write", "dataset"))
    return found


SPECS = (Spec("h5py", "h5py", "File.__init__", targets=_file),)
