"""The write-behind queue: finished cells' records go to the store from a writer thread.

The notebook's thread only appends to a deque (no lock). The writer thread, and explicit flushes
(a pipeline's cell end, ``%track``, the Python API), write under ``_write_lock``, which may be held
through SQLite's busy waits and which the per-cell hot path never takes. A failed write keeps the
records for the next try; a failure in the background is left in :attr:`Outbox.failure` for the
notebook's thread to report at its next cell end, so the warning lands under a cell.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import writes
from ..store.db import Store
from . import hook
from .failures import Warner

MAX_PENDING = 100_000
RETRY_SECONDS = 5.0
# A cell's record is written once the kernel has been idle this long (between cells typed by a
# person: at once), or when the oldest unwritten record is this old (cells running back to back,
# e.g. a pipeline): one commit then carries many cells, which is what keeps the per-cell cost low.
FLUSH_IDLE_SECONDS = 0.02
FLUSH_MAX_AGE_SECONDS = 0.5
FLUSH_MAX_PENDING = 200

# What the tracker asks the store to do besides recording executions: a call of the
# ``store.writes`` function of that name with these keyword arguments (data, not closures).
OPS: dict[str, Callable[..., object]] = {
    "begin_run": writes.begin_run,
    "set_params": writes.set_params,
    "log_metric": writes.log_metric,
    "set_run_environment": writes.set_run_environment,
    "set_run_git": writes.set_run_git,
    "add_accesses": writes.add_accesses,
    "end_run": writes.end_run,
}


@dataclass(slots=True)
class Op:
    name: str
    args: dict[str, Any]

    def apply(self, store: Store) -> None:
        OPS[self.name](store, **self.args)


@dataclass(slots=True)
class _Pending:
    record: writes.ExecutionRecord | None = None
    op: Op | None = None


class Outbox:
    def __init__(
        self,
        db_path: Path,
        warn: Warner,
        new_hashes: deque[tuple[str, int, int, int, str]],
        *,
        on_open: Callable[[Path], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.store: Store | None = None
        self.failure: BaseException | None = None  # the last background failure, unreported
        self.cell_running = False  # set by the tracker: no idle write while a cell runs
        self.last_end = 0.0  # monotonic time the last cell ended
        self.refused = 0  # records the store refused (integrity): never written
        self.dropped = 0  # records dropped from memory past MAX_PENDING
        self._warn = warn
        self._new_hashes = new_hashes
        self._on_open = on_open
        self._pending: deque[_Pending] = deque()
        self._in_flight = 0  # taken off the queue by a write still under way
        self._oldest = 0.0  # monotonic time the oldest unwritten record was queued
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._failed_at = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._pending) + self._in_flight

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="jupyter-lineage-writer"
        )
        self._thread.start()

    # -- the notebook's side: never waits ---------------------------------------------------------
    def put(self, *, record: writes.ExecutionRecord | None = None, op: Op | None = None) -> None:
        pending = self._pending
        if len(pending) >= MAX_PENDING:
            with contextlib.suppress(IndexError):
                pending.popleft()
                self.dropped += 1
            self._warn("overflow", "too many unwritten records; the oldest are being dropped.")
        if not pending:
            self._oldest = time.monotonic()
        pending.append(_Pending(record, op))
        self._wake.set()

    # -- the writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        hook.mark_thread_ours()
        while True:
            self._wake.wait()
            self._wake.clear()  # before looking: a put() after this wakes us again
            while self._pending and not self._closed:
                clock = time.monotonic()
                idle = 0.0 if self.cell_running else clock - self.last_end
                age = clock - self._oldest
                if (
                    idle >= FLUSH_IDLE_SECONDS
                    or age >= FLUSH_MAX_AGE_SECONDS
                    or len(self._pending) >= FLUSH_MAX_PENDING
                ):
                    if not self.flush(background=True):
                        # retried at the next cell end, or after a pause when none comes
                        self._wake.wait(RETRY_SECONDS)
                        self._wake.clear()
                    continue
                time.sleep(
                    min(
                        FLUSH_MAX_AGE_SECONDS - age,
                        FLUSH_IDLE_SECONDS - idle if idle else FLUSH_IDLE_SECONDS,
                    )
                )
            if self._closed:
                return

    # -- writing --------------------------------------------------------------------------------
    def retry_now(self) -> None:
        """Forget the pause after a failed open: the next write tries the store again."""
        self._failed_at = 0.0

    def flush(self, *, background: bool = False, force: bool = False) -> bool:
        """Write what is pending; on failure keep it for the next try. True when all written.

        In the background nothing is said: the failure waits in :attr:`failure` for the notebook's
        thread. ``force`` ignores the pause after a failed open (the last write, at close).
        """
        with self._write_lock:
            if self._closed and background:
                return False
            if not self._pending:
                return True
            store = self._open_store(background=background, force=force)
            if store is None:
                return False
            with hook.ours():
                try:
                    self._write_pending(store)
                    self._remember_hashes(store)
                except Exception as exc:
                    if background:
                        self.failure = exc
                    else:
                        self._warn.failed(exc, self.db_path)
                    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
                        store.close()
                        self.store = None
                    return False
            self.failure = None
            return True

    def _open_store(self, *, background: bool, force: bool) -> Store | None:
        if self.store is not None:
            return self.store
        if not force and self._failed_at and time.monotonic() - self._failed_at < RETRY_SECONDS:
            return None
        try:
            with hook.ours():
                self.store = Store(self.db_path)
        except Exception as exc:
            self._failed_at = time.monotonic()
            if background:
                self.failure = exc
            else:
                self._warn.failed(exc, self.db_path)
            return None
        if self._on_open is not None:
            self._on_open(self.db_path)
        return self.store

    def _write_pending(self, store: Store) -> None:
        """Runs of records in one transaction each; other operations one by one, in order."""
        pending = self._pending
        while True:
            batch: list[_Pending] = []
            op: _Pending | None = None
            while True:
                try:
                    item = pending.popleft()
                except IndexError:
                    break
                if item.record is not None:
                    batch.append(item)
                else:
                    op = item
                    break
            if not batch and op is None:
                return
            self._in_flight = len(batch) + (op is not None)
            try:
                if batch:
                    self._write_records(store, batch)
                    self._in_flight = int(op is not None)
                    batch = []
                if op is not None:
                    assert op.op is not None
                    try:
                        op.op.apply(store)
                    except sqlite3.IntegrityError as exc:
                        self.refused += 1
                        self._warn("integrity", f"a record was refused by the store ({exc}).")
                    op = None
            except BaseException:
                pending.extendleft(reversed([*batch, *([op] if op is not None else [])]))
                raise
            finally:
                self._in_flight = 0
            if pending:
                self._oldest = time.monotonic()

    def _write_records(self, store: Store, batch: list[_Pending]) -> None:
        records = [p.record for p in batch if p.record is not None]
        try:
            writes.record_executions(store, records)
        except sqlite3.IntegrityError:
            # A record the store can never take must not block the ones behind it.
            for record in records:
                try:
                    writes.record_executions(store, [record])
                except sqlite3.IntegrityError as exc:
                    self.refused += 1
                    self._warn("integrity", f"an execution was refused by the store ({exc}).")

    def _remember_hashes(self, store: Store) -> None:
        entries = []
        with contextlib.suppress(IndexError):
            while True:
                entries.append(self._new_hashes.popleft())
        if entries:
            with contextlib.suppress(sqlite3.Error):
                writes.remember_hashes(store, entries)

    def read(self, query: Callable[[Store], Any]) -> Any:
        """A query on the writer's connection (``%track`` status): None if there is no store."""
        with self._write_lock:
            store = self._open_store(background=False, force=False)
            return None if store is None else query(store)

    def close(self) -> bool:
        """Write everything (trying the store once more), stop the writer, close the store."""
        written = self.flush(force=True)
        with self._write_lock:
            self._closed = True
            self._wake.set()
            if self.store is not None:
                self.store.close()
                self.store = None
        return written
