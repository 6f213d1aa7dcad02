"""The audit hook: sees every ``open``, ``sqlite3.connect`` and ``urllib.Request`` in the process.

Installed once, on the first tracker, and never removed (Python cannot remove an audit hook): with
no tracker current, or outside a cell, it returns after two attribute reads. What it sees goes to
the current tracker's :class:`~jupyter_lineage.capture.accesses.Accesses`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..urls import clean_url
from . import registry as _registry
from .readers.install import _kinds_running

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _Local(threading.local):
    busy = False  # what this thread opens now is ours (the store, a file being hashed)


_local = local = _Local()  # `local.busy`: set directly where a context manager costs too much
_installed = False
# Events after which a queued read may no longer be the version the cell read: the queue is
# looked at first (the files hashed) — a file removed, renamed, truncated, a process started
# that may write it, the working directory that relative names hang from changed.
_SETTLE_FIRST = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.truncate",
        "os.chdir",
        "os.link",
        "os.symlink",
        "os.utime",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "shutil.rmtree",
        "shutil.move",
        "shutil.unpack_archive",
    }
)
_OTHER = _SETTLE_FIRST | {"sqlite3.connect", "urllib.Request"}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audit event in the process: return as early as possible. A read is only
    # queued (its raw arguments, one append); `Accesses.settle` makes records of the queue at
    # the cell's end or before anything that could change a queued file (an open for writing,
    # a removal, a child process: `_SETTLE_FIRST`).
    tracker = _registry._current or _registry._child
    if tracker is None:
        return
    accesses = tracker.accesses
    if not accesses.active:
        return
    if event == "open":
        if _local.busy:
            return
        mode = args[1]
        if (mode == "r" or mode == "rb") and not _kinds_running[0]:
            accesses.queued.append(args)
            return
    elif event not in _OTHER or _local.busy:
        return
    _local.busy = True
    try:
        _dispatch(accesses, event, args)
    except Exception as exc:  # never let the user's open() fail because of us...
        accesses.errors.append(exc)  # ...but a Ctrl-C (KeyboardInterrupt) goes through
    finally:
        _local.busy = False


def _is_read(args: tuple[Any, ...]) -> bool:
    mode, flags = args[1], args[2]
    if isinstance(mode, str):
        return not ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
    return not (flags & _WRITE_FLAGS) if isinstance(flags, int) else True


def _dispatch(accesses: Any, event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        path = args[0]
        if isinstance(path, int) or path is None:
            return
        read = _is_read(args)
        if read and not _kinds_running[0]:
            accesses.queued.append(args)  # os.open(), a text mode: queued like open(p, "rb")
            return
        # a write (what was queued is settled first), or a read inside a wrapped call (the call
        # gives its kind)
        accesses.note_path(path, "read" if read else "write", None)
        return
    if accesses.queued:
        accesses.settle()  # what was read before this event, as it was read
    if event == "sqlite3.connect":
        database = args[0]
        if isinstance(database, str | bytes | os.PathLike):
            name = os.fsdecode(database)
            if name and name != ":memory:" and not name.startswith("file:"):
                accesses.note_database(os.path.abspath(name))
    elif event == "urllib.Request":
        url = args[0]
        if isinstance(url, str) and url.startswith(("http://", "https://", "ftp://")):
            method = str(args[3] or "GET").upper() if len(args) > 3 else "GET"
            if method == "GET":
                accesses.note_url(clean_url(url))
            elif method in ("POST", "PUT", "PATCH"):  # an upload: the URL written
                from .http import note_sent

                note_sent(accesses, clean_url(url), args[1])


def install() -> None:
    global _installed
    if not _installed:
        sys.addaudithook(_audit)  # cannot be removed: it stays, idle, after unload
        _installed = True


def mark_thread_ours() -> None:
    """For our own threads (the writer, the context capture): nothing they open is the user's."""
    _local.busy = True


@contextlib.contextmanager
def ours() -> Iterator[None]:
    """What this thread opens inside the block is ours (the store, a file being hashed)."""
    busy = _local.busy
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = busy
