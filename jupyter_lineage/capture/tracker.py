"""The tracker: brackets each execution, sees the files it touches, writes them to the store.

Tracking must never hurt the notebook: every entry point catches everything, keeps what it
could not write in memory for the next try, and tells the user once per kind of failure.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LineageError
from ..hashing import hash_file, stat_key
from ..ids import uuid7
from ..store import writes
from ..store.db import Store, default_db_path, now
from .environment import PackageWatch, capture_environment
from .failures import describe_failure
from .gitstate import capture_git
from .kinds import kind_of
from .libs import LibraryWrappers
from .noise import NoiseFilter, store_paths
from .urls import clean_url, scrub_text

ENV_RUN_ID = "JUPYTER_LINEAGE_RUN_ID"
ENV_NOTEBOOK = "JUPYTER_LINEAGE_NOTEBOOK"
MAX_PENDING = 100_000
_RETRY_SECONDS = 5.0
# A cell's record is written once the kernel has been idle this long (between cells typed by a
# person: at once), or when the oldest unwritten record is this old (cells running back to back,
# e.g. a pipeline): one commit then carries many cells, which is what keeps the per-cell cost low.
FLUSH_IDLE_SECONDS = 0.02
FLUSH_MAX_AGE_SECONDS = 0.5
FLUSH_MAX_PENDING = 200
# ...and before a cell that may read the store from another process (`!jupyter lineage runs`).
_MAY_READ_STORE = re.compile(
    r"^\s*!|%%(?:bash|sh|script|system)|%sx|%system|subprocess|os\.system|lineage", re.M
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

_local = threading.local()
_current: Tracker | None = None
_hook_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audit event in the process: return as early as possible.
    tracker = _current
    if tracker is None or not tracker.active:
        return
    if event == "open" or event == "sqlite3.connect" or event == "urllib.Request":
        if getattr(_local, "busy", False):
            return
        _local.busy = True
        try:
            tracker.on_audit(event, args)
        except BaseException as exc:  # never let the user's open() fail because of us
            tracker.hook_errors.append(exc)
        finally:
            _local.busy = False


def _install_hook() -> None:
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # cannot be removed: it stays, idle, after unload
        _hook_installed = True


def current() -> Tracker | None:
    return _current


@dataclass
class _Pending:
    record: writes.ExecutionRecord | None = None
    op: Callable[[Store], object] | None = None


class Tracker:
    """One run: an interactive kernel session, a papermill run (attached) or a script."""

    def __init__(
        self,
        *,
        kind: str = "interactive",
        notebook: str | None = None,
        db: str | None = None,
        run_id: str | None = None,
        attach: bool = False,
        parameters: dict[str, Any] | None = None,
        parent_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.notebook = str(Path(notebook).expanduser().absolute()) if notebook else None
        self.db_path = default_db_path(self.notebook, db)
        self.run_id = run_id or uuid7()
        self.attached = attach
        self.enabled = True
        self.active = False
        self.seq = 0
        self.filter = NoiseFilter(store_paths(self.db_path))
        self.wrappers = LibraryWrappers(self.note_path)
        self.hook_errors: list[BaseException] = []
        self.store: Store | None = None
        self._store_failed_at = 0.0
        self._pending: list[_Pending] = []
        self._warned: set[str] = set()
        self._lock = threading.RLock()
        self._hashes: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._new_hashes: list[tuple[str, int, int, int, str]] = []
        self._reads: dict[str, writes.Access] = {}
        self._writes: dict[str, str | None] = {}
        self._databases: dict[str, tuple[int, int, int] | None] = {}
        self._declared: list[writes.Access] = []
        self._exec_id: str | None = None
        self._last_exec_id: str | None = None
        self._cell_id: str | None = None
        self._source = ""
        self._t0 = 0.0
        self._started = ""
        self._packages: PackageWatch | None = None
        self._ended = False
        self._oldest_pending = 0.0  # monotonic time the oldest unwritten record was queued
        self._last_end = 0.0  # monotonic time the last cell ended
        self._paused_before = 0.0  # how long the kernel idled before this cell
        self._sync = False  # write at every cell end (after a failed background write)
        self._wake = threading.Event()
        self._closing = False
        self.executions = 0
        self._start(parameters or {}, parent_id)

    # -- lifecycle ---------------------------------------------------------------------------
    def _start(self, parameters: dict[str, Any], parent_id: str | None) -> None:
        global _current
        if not self.attached:
            kind, notebook, cwd, run_id = self.kind, self.notebook, os.getcwd(), self.run_id

            def begin(store: Store) -> None:
                writes.begin_run(
                    store,
                    kind=kind,
                    notebook=notebook,
                    parameters=parameters,
                    parent_id=parent_id,
                    cwd=cwd,
                    run_id=run_id,
                )

            self._queue(op=begin)
        self.flush()
        self._packages = PackageWatch()  # a few stats: the baseline for %pip install
        # Environment and git take a few hundred ms (package metadata, git subprocesses):
        # captured in the background so the notebook never waits for them.
        self._context = threading.Thread(
            target=self._capture_context, daemon=True, name="jupyter-lineage-context"
        )
        self._context.start()
        self._flusher = threading.Thread(
            target=self._flush_loop, daemon=True, name="jupyter-lineage-writer"
        )
        self._flusher.start()
        _install_hook()
        _current = self
        self.wrappers.poll()
        atexit.register(self._atexit)

    def _capture_context(self) -> None:
        _local.busy = True  # what this thread opens is ours, never the user's
        run_id = self.run_id
        try:
            environment = capture_environment()
            self._queue(op=lambda store: writes.set_run_environment(store, run_id, 0, environment))
        except Exception as exc:
            self._warn("environment", f"could not read the environment ({exc}); continuing.")
        try:
            folder = os.path.dirname(self.notebook) if self.notebook else os.getcwd()
            git = capture_git(folder)
            self._queue(op=lambda store: writes.set_run_git(store, run_id, git))
        except Exception as exc:
            self._warn("git", f"could not read the git state ({exc}); continuing.")

    def _wait_for_context(self) -> None:
        context = getattr(self, "_context", None)
        if context is not None and context.is_alive():
            context.join(timeout=30)

    def close(self, status: str = "succeeded") -> None:
        """End the run (unless a pipeline owns it) and detach every hook we installed."""
        global _current
        if _current is self:
            _current = None
        self.active = False
        with contextlib.suppress(Exception):
            self.wrappers.remove()
        self._wait_for_context()
        self._closing = True
        self._wake.set()
        if not self._ended:
            self._ended = True
            if not self.attached:
                run_id = self.run_id
                self._queue(op=lambda store: writes.end_run(store, run_id, status))
            self.flush()
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)
        if self.store is not None:
            self.store.close()
            self.store = None

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- executions --------------------------------------------------------------------------
    def begin_execution(self, source: str, cell_id: str | None = None) -> None:
        if not self.enabled:
            return
        self._reads = {}
        self._writes = {}
        self._databases = {}
        self._declared = []
        self.hook_errors = []
        self._source = scrub_text(source)
        if self._pending and _MAY_READ_STORE.search(source):
            self.flush()
        self._cell_id = cell_id
        self._exec_id = uuid7()
        self._started = now()
        self._t0 = time.perf_counter()
        self._paused_before = time.monotonic() - self._last_end
        self.active = True

    def end_execution(
        self, *, execution_count: int | None = None, error: BaseException | None = None
    ) -> None:
        if not self.active:
            return
        self.active = False
        duration_ms = (time.perf_counter() - self._t0) * 1000.0
        try:
            accesses = list(self._reads.values())
            if self._declared:
                accesses += self._declared
            if self._databases:
                for path in self._changed_databases():
                    self._writes.setdefault(path, "dataset")
            for path, api_kind in self._writes.items():
                access = self._hashed_access(path, "write", api_kind)
                if access is not None:
                    accesses.append(access)
            record = writes.ExecutionRecord(
                id=self._exec_id or uuid7(),
                run_id=self.run_id,
                seq=self.seq,
                source=self._source,
                started=self._started,
                duration_ms=round(duration_ms, 3),
                cell_id=self._cell_id,
                execution_count=execution_count,
                error_name=type(error).__name__ if error is not None else None,
                error_value=str(error)[:4000] if error is not None else None,
                accesses=accesses,
            )
            self.seq += 1
            self.executions += 1
            self._last_exec_id = record.id
            self._last_end = time.monotonic()
            self._queue(record=record)
            if self.attached or self._sync or len(self._pending) >= FLUSH_MAX_PENDING:
                # a pipeline's engine reads the store as soon as the last cell ends
                self.flush()
            if self.hook_errors:
                exc = self.hook_errors[0]
                self._warn("hook", f"a file access could not be recorded ({exc!r}).")
            self._check_environment(self._source)
            self.wrappers.poll()
        except Exception as exc:
            self._warn("capture", f"this execution could not be recorded ({exc!r}).")
        finally:
            self._exec_id = None

    # -- what the audit hook and wrappers see -------------------------------------------------
    def on_audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or path is None:
                return
            if isinstance(mode, str):
                write = "w" in mode or "a" in mode or "x" in mode or "+" in mode
            else:
                write = bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else False
            self.note_path(path, "write" if write else "read", None)
        elif event == "sqlite3.connect":
            database = args[0]
            if isinstance(database, str | bytes | os.PathLike):
                name = os.fsdecode(database)
                if name and name != ":memory:" and not name.startswith("file:"):
                    self._note_database(os.path.abspath(name))
        else:  # urllib.Request
            url = args[0]
            if isinstance(url, str) and url.startswith(("http://", "https://", "ftp://")):
                uri = clean_url(url)
                self._reads.setdefault(
                    uri, writes.Access(uri=uri, hash="", role="read", kind=kind_of(uri, "dataset"))
                )

    def note_path(self, path: Any, role: str, api_kind: str | None) -> None:
        """Called by the audit hook, the library wrappers and ``%track input/output``."""
        if not self.active:
            return
        try:
            name = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        write = role == "write"
        if self.filter.is_noise(name, write):
            return
        if write:
            if name not in self._writes or api_kind:
                self._writes[name] = api_kind
        elif name not in self._reads and name not in self._writes:
            access = self._hashed_access(name, "read", api_kind)
            if access is not None:
                self._reads[name] = access

    def _note_database(self, path: str) -> None:
        """A SQLite file is read when opened, and written only if its bytes changed by cell end."""
        if self.filter.is_noise(path, True) or path in self._databases:
            return
        try:
            before: tuple[int, int, int] | None = stat_key(os.stat(path))
        except OSError:
            before = None
        self._databases[path] = before
        if before is not None:
            self.note_path(path, "read", "dataset")

    def _changed_databases(self) -> list[str]:
        changed = []
        for path, before in self._databases.items():
            try:
                now_key = stat_key(os.stat(path))
            except OSError:
                continue
            if now_key != before:
                changed.append(path)
        return changed

    def _hashed_access(self, path: str, role: str, api_kind: str | None) -> writes.Access | None:
        try:
            st = os.stat(path)
        except OSError:
            return None  # never created, or deleted before the cell ended: a temporary file
        if not stat.S_ISREG(st.st_mode):
            return None
        key = stat_key(st)
        cached = self._hashes.get(path)
        if cached is not None and cached[0] == key:
            digest = cached[1]
        else:
            digest = self._stored_hash(path, key) or ""
            if not digest:
                try:
                    digest, st = hash_file(path)
                except OSError as exc:
                    self._warn("hash", f"could not hash {path} ({exc}); recorded without a hash.")
                    digest = ""
                else:
                    key = stat_key(st)
                    self._new_hashes.append((path, *key, digest))
            if digest:
                self._hashes[path] = (key, digest)
        return writes.Access(
            uri=path, hash=digest, role=role, kind=kind_of(path, api_kind), size=key[0]
        )

    def _stored_hash(self, path: str, key: tuple[int, int, int]) -> str | None:
        store = self.store
        if store is None:
            return None
        try:
            with self._lock:
                return writes.cached_hash(store, path, *key)
        except sqlite3.Error:
            return None

    # -- declared by the user ----------------------------------------------------------------
    def declare(self, path: str, role: str) -> writes.Access:
        """``%track input/output``: what capture cannot see (a file written by a subprocess)."""
        if "://" in path:
            uri = clean_url(path)
            url = writes.Access(uri=uri, hash="", role=role, kind=kind_of(uri, "dataset"))
            return self._declare_access(uri, url)
        name = os.path.abspath(os.path.expanduser(path))
        if not os.path.exists(name):
            raise LineageError(f"{path} does not exist; declare a file that is there.")
        access = self._hashed_access(name, role, None)
        if access is None:
            raise LineageError(f"{path} is not a regular file; declare files, not folders.")
        return self._declare_access(name, access)

    def _declare_access(self, name: str, access: writes.Access) -> writes.Access:
        if self.active:
            self._declared.append(access)
        else:
            exec_id = self._last_exec_id
            if exec_id is None:
                raise LineageError("Nothing has run yet in this run: declare files inside a cell.")
            self._queue(op=lambda store: writes.add_accesses(store, exec_id, [access]))
            self.flush()
        return access

    def log_params(self, params: dict[str, Any]) -> None:
        run_id = self.run_id
        self._queue(op=lambda store: writes.set_params(store, run_id, params))
        self.flush()

    def log_metric(self, name: str, value: Any, step: int | None = None) -> None:
        run_id, exec_id = self.run_id, self._exec_id or self._last_exec_id
        self._queue(
            op=lambda store: writes.log_metric(
                store, run_id, name, value, step=step, execution_id=exec_id
            )
        )
        self.flush()

    # -- writing -----------------------------------------------------------------------------
    def _queue(
        self,
        *,
        record: writes.ExecutionRecord | None = None,
        op: Callable[[Store], object] | None = None,
    ) -> None:
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(0)
                self._warn("overflow", "too many unwritten records; the oldest are being dropped.")
            if not self._pending:
                self._oldest_pending = time.monotonic()
            self._pending.append(_Pending(record, op))
            self._wake.set()

    def _open_store(self, *, quiet: bool = False) -> Store | None:
        if self.store is not None:
            return self.store
        if time.monotonic() - self._store_failed_at < _RETRY_SECONDS and self._store_failed_at:
            return None
        try:
            self.store = Store(self.db_path)
        except Exception as exc:
            if quiet:
                return None
            self._store_failed_at = time.monotonic()
            self._failed(exc)
            return None
        return self.store

    def _flush_loop(self) -> None:
        """The writer thread: pending records go to the store when the kernel is idle."""
        _local.busy = True  # what this thread opens is ours, never the user's
        while True:
            self._wake.wait()
            if self._closing:
                return
            with self._lock:
                if not self._pending or self._sync:
                    self._wake.clear()
                    continue
            clock = time.monotonic()
            idle = 0.0 if self.active else clock - self._last_end
            age = clock - self._oldest_pending
            if idle >= FLUSH_IDLE_SECONDS or age >= FLUSH_MAX_AGE_SECONDS:
                if not self.flush(background=True):
                    self._sync = True  # the next cell writes, and warns, itself
                continue
            time.sleep(
                min(
                    FLUSH_MAX_AGE_SECONDS - age,
                    FLUSH_IDLE_SECONDS - idle if idle else FLUSH_IDLE_SECONDS,
                )
            )

    def flush(self, *, background: bool = False) -> bool:
        """Write what is pending; on failure keep it for the next try. True when all written.

        In the background nothing is said: a failure makes the next cell write (and warn) itself.
        """
        with self._lock:
            if not self._pending:
                return True
            store = self._open_store(quiet=background)
            if store is None:
                return False
            busy = getattr(_local, "busy", False)
            _local.busy = True
            try:
                while self._pending:
                    batch: list[writes.ExecutionRecord] = []
                    while self._pending and self._pending[0].record is not None:
                        batch.append(self._pending.pop(0).record)  # type: ignore[arg-type]
                    if batch:
                        try:
                            writes.record_executions(store, batch)
                        except sqlite3.IntegrityError:
                            self._write_one_by_one(store, batch)
                        except BaseException:
                            self._pending[0:0] = [_Pending(record=r) for r in batch]
                            raise
                        continue
                    op = self._pending[0].op
                    assert op is not None
                    try:
                        op(store)
                    except sqlite3.IntegrityError as exc:
                        self._warn("integrity", f"a record was refused by the store ({exc}).")
                    self._pending.pop(0)
                if self._new_hashes:
                    entries, self._new_hashes = self._new_hashes, []
                    with contextlib.suppress(sqlite3.Error):
                        writes.remember_hashes(store, entries)
                self._sync = False
                return True
            except Exception as exc:
                if background:
                    return False
                self._failed(exc)
                if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
                    store.close()
                    self.store = None
                return False
            finally:
                _local.busy = busy

    def _write_one_by_one(self, store: Store, batch: list[writes.ExecutionRecord]) -> None:
        """A record the store can never take must not block the ones behind it."""
        for record in batch:
            try:
                writes.record_executions(store, [record])
            except sqlite3.IntegrityError as exc:
                self._warn("integrity", f"an execution was refused by the store ({exc}).")

    # -- telling the user --------------------------------------------------------------------
    def _failed(self, exc: BaseException) -> None:
        self._warn(*describe_failure(exc, self.db_path))

    def _warn(self, kind: str, message: str) -> None:
        if kind in self._warned:
            return
        self._warned.add(kind)
        with contextlib.suppress(Exception):
            sys.stderr.write(f"jupyter-lineage warning: {message} Your code is unaffected.\n")
            sys.stderr.flush()

    # -- environment changes (e.g. %pip install) ---------------------------------------------
    def _check_environment(self, source: str = "", *, force: bool = False) -> None:
        watch = self._packages
        if watch is None or not watch.changed(source, self._paused_before, force=force):
            return
        environment = capture_environment()
        run_id, seq = self.run_id, self.seq
        self._queue(op=lambda store: writes.set_run_environment(store, run_id, seq, environment))
        self.flush()

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        from ..store import queries

        self._wait_for_context()  # what %track reports includes the environment and git
        self._check_environment(force=True)
        self.flush()
        info: dict[str, Any] = {
            "run_id": self.run_id,
            "db": str(self.db_path),
            "notebook": self.notebook,
            "kind": self.kind,
            "enabled": self.enabled,
            "executions": self.executions,
            "pending": len(self._pending),
        }
        with self._lock:
            store = self._open_store()
            if store is not None and not self._pending:
                with contextlib.suppress(Exception):
                    info.update(queries.counts(store, self.run_id))
        return info
