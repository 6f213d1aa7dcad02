"""The write-behind queue: every record is journaled at once, and put in the store from a thread.

``put`` (the notebook's thread, at a cell's end) appends the record's line to the process's
journal with one ``write()`` (store/journal.py) and the record to a deque, under
``_journal_lock``: held for that one syscall, never across SQLite. From then on a SIGKILL loses
nothing. The writer thread, and explicit flushes (a pipeline's cell end, ``%track``, the Python
API), write to SQLite under ``_write_lock``, which may be held through busy waits and which the
per-cell hot path never takes; the journal is emptied once all it holds is in the store.

Nothing here prints: failures (:attr:`Outbox.failure`, :attr:`Outbox.journal_failure`) and
notices wait for the notebook's thread to report them at its next cell end, so a warning lands
under a cell.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NotAStoreError, RecordRefusedError, StoreError
from ..store import journal, writes
from ..store.db import Store
from . import hook

MAX_PENDING = 100_000
RETRY_SECONDS = 5.0
# A cell's record is written once the kernel has been idle this long (between cells typed by a
# person: at once), or when the oldest unwritten record is this old (cells running back to back,
# e.g. a pipeline): one commit then carries many cells, which is what keeps the per-cell cost low.
# Its durability does not wait for that: it is in the journal when the cell ends.
FLUSH_IDLE_SECONDS = 0.02
FLUSH_MAX_AGE_SECONDS = 0.5
FLUSH_MAX_PENDING = 200
# What a store made anew (the old one deleted under a running kernel) needs to hold this run.
_HEADER = frozenset({"begin_run", "set_params", "set_run_environment", "set_run_git"})
# A fork (a multiprocessing or DataLoader worker) waits this long for a write under way: what
# SQLite holds in the writer thread at fork() (its allocator's and file locks' mutexes) stays
# held for ever in the child, whose first SQLite call would hang.
FORK_WAIT_SECONDS = 1.0
# In a forked child: the fork did not wait for a write to end, so this process opens no store
# (what it records stays in its journal for the next process that opens the store).
forked_mid_write = False
_writing: weakref.WeakSet[Outbox] = weakref.WeakSet()  # outboxes with a writer thread
_fork_hooked = False


@dataclass(slots=True)
class Op:
    """A ``store.journal`` operation (a ``store.writes`` call) with its keyword arguments."""

    name: str
    args: dict[str, Any]


@dataclass(slots=True)
class _Pending:
    record: writes.ExecutionRecord | None
    op: Op | None
    line: bytes  # its journal line
    journaled: bool = False


class Outbox:
    def __init__(
        self,
        db_path: Path,
        run_id: str,
        new_hashes: deque[tuple[str, int, int, int, str]],
        *,
        on_open: Callable[[Path], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.journal = journal.Journal(db_path, run_id)
        self.store: Store | None = None
        self.failure: BaseException | None = None  # the last failed write, for the notebook
        self.journal_failure: BaseException | None = None  # the last failed journal append
        self.notices: deque[tuple[str, str]] = deque()  # (kind, message) for the notebook
        self.cell_running = False  # set by the tracker: no idle write while a cell runs
        self.last_end = 0.0  # monotonic time the last cell ended
        self.refused = 0  # records the store refused (integrity): never written
        self.dropped = 0  # records dropped from memory past MAX_PENDING (kept in the journal)
        self.unjournaled = 0  # unwritten records only in memory: the journal could not take them
        self._new_hashes = new_hashes
        self._on_open = on_open
        self._pending: deque[_Pending] = deque()
        self._header: list[_Pending] = []
        self._in_flight = 0  # taken off the queue by a write still under way
        self._oldest = 0.0  # monotonic time the oldest unwritten record was queued
        self._journal_lock = threading.Lock()
        self._unsettled = 0  # journaled records not yet in the store (under _journal_lock)
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._store_id: tuple[int, int] | None = None  # (device, inode) of the store we opened
        self._failed_at = 0.0
        self._ingest_due = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._held_for_fork = False

    @property
    def pending(self) -> int:
        return len(self._pending) + self._in_flight

    def start(self) -> None:
        global _fork_hooked
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="jupyter-lineage-writer"
        )
        self._thread.start()
        _writing.add(self)
        if not _fork_hooked:
            os.register_at_fork(
                before=_before_fork,
                after_in_parent=_after_fork_in_parent,
                after_in_child=_after_fork_in_child,
            )
            _fork_hooked = True

    # -- the notebook's side: one write(), never a wait on SQLite ---------------------------------
    def put(self, *, record: writes.ExecutionRecord | None = None, op: Op | None = None) -> None:
        try:
            if record is not None:
                line = journal.encode("execution", journal.execution_args(record))
            else:
                assert op is not None
                line = journal.encode(op.name, op.args)
        except (TypeError, ValueError) as exc:  # e.g. a parameter JSON cannot hold
            line, self.journal_failure = b"", exc
        item = _Pending(record, op, line)
        pending = self._pending
        with self._journal_lock:
            if len(pending) >= MAX_PENDING:
                with contextlib.suppress(IndexError):
                    oldest = pending.popleft()
                    self.dropped += 1
                    self.unjournaled -= not oldest.journaled
                    self.notices.append(
                        (
                            "overflow",
                            "too many unwritten records; the oldest are dropped from memory "
                            f"(what {self.journal.path} holds is written by the next process "
                            "that opens the database).",
                        )
                    )
            if line:
                try:
                    self.journal.append(line)
                except OSError as exc:
                    self.journal_failure = exc
                else:
                    item.journaled = True
                    self._unsettled += 1
            if not item.journaled:
                self.unjournaled += 1
            if not pending:
                self._oldest = time.monotonic()
            pending.append(item)
            if op is not None and op.name in _HEADER:
                self._header.append(item)
        self._wake.set()

    # -- the writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        hook.mark_thread_ours()
        self._ingest_leftovers()
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

    def _ingest_leftovers(self) -> None:
        """Journals of processes that died before writing them: into the store, in the
        background (a kernel's start never waits for them)."""
        with self._write_lock:
            if self._closed:
                return
            store = self._open_store(background=True, force=False)
            if store is not None:
                self._ingest(store)

    def _ingest(self, store: Store) -> None:
        self._ingest_due = False
        with hook.ours(), contextlib.suppress(Exception):
            journal.ingest(store)

    # -- writing --------------------------------------------------------------------------------
    def retry_now(self) -> None:
        """Forget the pause after a failed open: the next write tries the store again."""
        self._failed_at = 0.0

    def flush(self, *, background: bool = False, force: bool = False) -> bool:
        """Write what is pending; on failure keep it for the next try. True when all written.

        A failure is left in :attr:`failure`. ``force`` ignores the pause after a failed open
        (the last write, at close).
        """
        with self._write_lock:
            if self._closed and background:
                return False
            for _attempt in range(3):  # a store deleted under us is made again, then written
                if not self._pending:
                    return True
                store = self._open_store(background=background, force=force)
                if store is None:
                    return False
                with hook.ours():
                    try:
                        written = self._write_pending(store)
                        self._remember_hashes(store)
                    except Exception as exc:
                        self.failure = exc
                        if isinstance(exc, NotAStoreError):
                            self._close_store()
                        return False
                    if self._still_the_store():
                        self._settled()
                        self.failure = None
                        if background and self._ingest_due:
                            self._ingest(store)
                        return True
                    self._store_deleted(written)
            return False

    def _open_store(self, *, background: bool, force: bool) -> Store | None:
        if self.store is not None:
            return self.store
        if not force and self._failed_at and time.monotonic() - self._failed_at < RETRY_SECONDS:
            return None
        try:
            with hook.ours():
                store = Store(self.db_path)
                st = os.stat(self.db_path)
        except Exception as exc:
            self._failed_at = time.monotonic()
            self.failure = exc
            return None
        self.store, self._store_id = store, (st.st_dev, st.st_ino)
        self._ingest_due = True
        if self._on_open is not None:
            self._on_open(self.db_path)
        return store

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = None
        self._store_id = None

    def _write_pending(self, store: Store) -> list[_Pending]:
        """Runs of records a chunk per transaction, other operations one by one, in order.
        Returns what was written."""
        pending = self._pending
        written: list[_Pending] = []
        while True:
            batch: list[_Pending] = []
            op: _Pending | None = None
            while len(batch) < journal.CHUNK:
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
                return written
            self._in_flight = len(batch) + (op is not None)
            try:
                if batch:
                    self._write_records(store, batch)
                    written += batch
                    self._settle(batch)
                    self._in_flight = int(op is not None)
                    batch = []
                if op is not None:
                    self._apply(store, op)
                    written.append(op)
                    self._settle([op])
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
        refused = journal.record_once(store, records)
        if refused:
            self.refused += refused
            self.notices.append(
                ("integrity", f"{refused} execution record(s) refused by the store.")
            )

    def _apply(self, store: Store, item: _Pending) -> None:
        assert item.op is not None
        try:
            journal.apply(store, item.op.name, item.op.args)
        except RecordRefusedError as exc:
            self.refused += 1
            self.notices.append(
                ("integrity", f"a record was refused by the store ({exc.__cause__ or exc}).")
            )

    def _settle(self, items: list[_Pending]) -> None:
        done = sum(p.journaled for p in items)
        with self._journal_lock:
            self._unsettled -= done
            self.unjournaled -= len(items) - done

    def _settled(self) -> None:
        """All written: the journal holds nothing the store lacks, unless a put came meanwhile."""
        with self._journal_lock:
            if self._unsettled == 0:
                try:
                    self.journal.truncate()
                except OSError as exc:
                    self.journal_failure = exc

    def _still_the_store(self) -> bool:
        """One stat per write, on this thread: was the store deleted (``rm -rf .lineage``) or
        replaced under us? Then what was just written went into a file no one can open."""
        try:
            st = os.stat(self.db_path)
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != self._store_id:
            return False
        if self.journal.removed():
            self._rejournal()  # the store is fine but the journal file is gone: start a new one
        return True

    def _store_deleted(self, written: list[_Pending]) -> None:
        """Make the store again: this run's header, what was just written, then the rest."""
        self._close_store()
        self.notices.append(
            (
                "recreated",
                f"the lineage database {self.db_path} was deleted while this kernel ran; a new "
                "one was made, holding this run from now on.",
            )
        )
        skip = {id(p) for p in self._pending}
        redo = [p for p in self._header if id(p) not in skip]
        skip.update(id(p) for p in redo)
        redo += [p for p in written if id(p) not in skip]
        self._pending.extendleft(reversed(redo))
        self._rejournal()

    def _rejournal(self) -> None:
        """The journal file was removed: everything still to write goes into a new one."""
        with self._journal_lock:
            self.journal.forget()
            self._unsettled = self.unjournaled = 0
            for item in self._pending:
                item.journaled = False
                if item.line:
                    try:
                        self.journal.append(item.line)
                    except OSError as exc:
                        self.journal_failure = exc
                    else:
                        item.journaled = True
                        self._unsettled += 1
                self.unjournaled += not item.journaled

    def _remember_hashes(self, store: Store) -> None:
        entries = []
        with contextlib.suppress(IndexError):
            while True:
                entries.append(self._new_hashes.popleft())
        if entries:
            with contextlib.suppress(StoreError):
                writes.remember_hashes(store, entries)

    def read(self, query: Callable[[Store], Any]) -> Any:
        """A query on the writer's connection (``%track`` status): None if there is no store."""
        with self._write_lock:
            store = self._open_store(background=False, force=False)
            return None if store is None else query(store)

    def close(self) -> bool:
        """Write everything (trying the store once more), stop the writer, close the store.
        The journal is removed when all it held is in the store; else it stays for the next
        process that opens the store."""
        written = self.flush(force=True)
        with self._write_lock:
            self._closed = True
            self._wake.set()
            with self._journal_lock:
                self.journal.close(remove=written and self._unsettled == 0)
            self._close_store()
        _writing.discard(self)
        return written


def _before_fork() -> None:
    for box in list(_writing):
        box._held_for_fork = box._write_lock.acquire(timeout=FORK_WAIT_SECONDS)


def _after_fork_in_parent() -> None:
    for box in list(_writing):
        if box._held_for_fork:
            box._held_for_fork = False
            box._write_lock.release()


def _after_fork_in_child() -> None:
    global forked_mid_write
    for box in list(_writing):
        forked_mid_write = forked_mid_write or not box._held_for_fork
        box._held_for_fork = False
        box._write_lock = threading.Lock()  # the writer thread is not here: nothing to guard
        box._journal_lock = threading.Lock()
    _writing.clear()
