"""Files replaced whole: small state files (caches beside the store, gathered notebooks)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def replace_whole(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Written beside ``path`` then renamed over it: a reader sees the old file or the new one,
    never half of one; nothing is left behind when writing fails (the error is raised)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
