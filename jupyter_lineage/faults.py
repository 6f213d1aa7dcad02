"""Why a write to the store failed, said as what it is.

SQLite reports a read-only filesystem, a read-only folder and a full disk with overlapping
words ("unable to open database file", "disk I/O error", "database or disk is full"); the
filesystem itself says which it is.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# Words of SQLite and OS errors that mean "the write did not reach the disk".
_WRITE_FAILED = (
    "readonly",
    "read-only",
    "Read-only",
    "Permission denied",
    "full",
    "No space",
    "File too large",
    "disk I/O error",
    "unable to open database file",
)
_LOW_SPACE = 1024 * 1024


def is_write_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
    ):
        return True
    text = str(exc)
    return any(word in text for word in _WRITE_FAILED)


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def _file_size_limit() -> int | None:
    """The process's file-size limit (RLIMIT_FSIZE), when it has one."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else int(soft)


def diagnose(db_path: Path, exc: BaseException) -> tuple[str, str]:
    """``(reason, what is wrong)`` for a failed write to ``db_path``.

    ``reason`` is ``read_only``, ``disk_full`` or ``""`` (the error's own words, when the
    filesystem shows nothing wrong).
    """
    db_path = Path(db_path)
    folder = db_path.parent
    try:
        st = os.statvfs(_existing(db_path))
    except OSError:
        st = None
    if st is not None and st.f_flag & os.ST_RDONLY:
        return "read_only", f"the lineage database {db_path} is on a read-only filesystem"
    if db_path.exists() and not os.access(db_path, os.W_OK):
        return "read_only", f"the lineage database {db_path} is read-only"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return "read_only", (
            f"the folder {folder} is read-only (SQLite writes its -wal and -shm files next to "
            "the database)"
        )
    text = str(exc)
    no_space = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    free = st.f_bavail * st.f_frsize if st is not None else None
    if no_space or (free is not None and free < _LOW_SPACE and "full" in text):
        left = f", {_size(free)} left" if free is not None else ""
        return "disk_full", f"the disk holding {db_path} is full{left}"
    limit = _file_size_limit()
    if limit is not None:
        return "disk_full", (
            f"writing to the disk holding {db_path} failed: this process may not write files "
            f"larger than {_size(limit)} (its file-size limit, `ulimit -f`)"
        )
    if "full" in text or "File too large" in text or "No space" in text:
        return "disk_full", (
            f"writing to the disk holding {db_path} failed ({text}: the disk is full or the "
            "file may not grow)"
        )
    return "", f"writing the lineage database {db_path} failed ({text})"
