"""Owner-only folders and files: everything under ``.lineage/`` is 0700 / 0600.

Made private when created (never world-readable for an instant), not chmod-ed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from .errors import StoreError


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents as 0700 folders; a file in the way is a clear
    error, not ``NotADirectoryError``."""
    path = Path(path)
    missing: list[Path] = []
    for folder in (path, *path.parents):
        try:
            st = os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            missing.append(folder)
            continue
        except OSError as exc:
            raise StoreError(
                f"Cannot use the folder {folder}: {exc.strerror}. Pass --db (or set "
                "$JUPYTER_LINEAGE_DB) to a writable location.",
                str(path),
            ) from None
        if not stat.S_ISDIR(st.st_mode):
            raise StoreError(
                f"{folder} is a file, not a folder, so {path} cannot be made there. Move the "
                "file aside, or pass --db (or set $JUPYTER_LINEAGE_DB) to another location.",
                str(path),
            )
        break
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # another process made it meanwhile
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder {folder}: {exc.strerror}. Pass --db (or set "
                "$JUPYTER_LINEAGE_DB) to a writable location.",
                str(path),
            ) from None
    # A .lineage/ made by an older jupyter-lineage (or by hand) is made private too.
    for folder in (path, *path.parents):
        if ".lineage" not in folder.parts:
            break
        with contextlib.suppress(OSError):
            st = os.stat(folder)
            if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
                os.chmod(folder, 0o700)
        if folder.name == ".lineage":
            break
    return path


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty as 0600 if it is not there (a writer that opens it later with
    ``open(path, "w")`` keeps that mode)."""
    path = Path(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    os.close(fd)
    return path


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
