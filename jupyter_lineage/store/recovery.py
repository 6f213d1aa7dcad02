"""Opening the store for a reading tool: first put in what dead processes left behind.

Every CLI command (through the Python API) and a pipeline's final read open the store here: the
journals of processes that died (a kernel killed by the OOM killer) are ingested, then runs whose
process is gone are marked ``interrupted``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

from ..errors import StoreError
from . import journal
from .db import Store
from .location import locate


def open_store(
    db: str | os.PathLike[str] | None = None,
    *,
    notebook: str | None = None,
    create: bool = False,
) -> Store:
    """Open the store for reading tools (CLI, server): never creates one unless asked."""
    store = Store(locate(db, then=notebook), create=create)
    # A read must still work when the leftovers cannot be written now (a read-only store, a
    # busy one): they stay in their journal for the next process.
    with contextlib.suppress(sqlite3.Error, OSError, StoreError):
        journal.ingest(store)
    with contextlib.suppress(sqlite3.Error):
        store.mark_interrupted()
    return store
