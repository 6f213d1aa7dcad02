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

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_local = threading.local()  # .busy: what this thread opens now is ours, never the user's
_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audit event in the process: return as early as possible.
    tracker = _registry._current or _registry._child
    if tracker is None:
        return
    accesses = tracker.accesses
    if not accesses.active:
        return
    if event == "open" or event == "sqlite3.connect" or event == "urllib.Request":
        if getattr(_local, "busy", False):
            return
        _local.busy = True
        try:
            _dispatch(accesses, event, args)
        except Exception as exc:  # never let the user's open() fail because of us...
            accesses.errors.append(exc)  # ...but a Ctrl-C (KeyboardInterrupt) goes through
        finally:
            _local.busy = False


def _dispatch(accesses: Any, event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        if isinstance(mode, str):
            write = "w" in mode or "a" in mode or "x" in mode or "+" in mode
        else:
            write = bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else False
        accesses.note_path(path, "write" if write else "read", None)
    elif event == "sqlite3.connect":
        database = args[0]
        if isinstance(database, str | bytes | os.PathLike):
            name = os.fsdecode(database)
            if name and name != ":memory:" and not name.startswith("file:"):
                accesses.note_database(os.path.abspath(name))
    else:  # urllib.Request
        url = args[0]
        if isinstance(url, str) and url.startswith(("http://", "https://", "ftp://")):
            accesses.note_url(clean_url(url))


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
    busy = getattr(_local, "busy", False)
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = busy
