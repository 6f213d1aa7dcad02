"""The tracker: one run; brackets each execution and hands its record to the outbox.

It composes the parts, each in its own module: the audit hook (``hook``), what a cell read and
wrote (``accesses``), the journal, queue and writer thread (``outbox``), the one current tracker
(``registry``) and telling the user (``failures``). Tracking must never hurt the notebook: every
entry point catches everything and tells the user once per kind of failure, from the notebook's
own thread (what the writer thread meets is reported at the next cell end).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import LineageError
from ..ids import uuid7
from ..redaction import redact
from ..store import queries, writes
from ..store.db import now, process_identity
from ..store.location import for_notebook
from ..urls import scrub_text
from . import child, hook, params_cell, registry
from .accesses import Accesses
from .dependencies import Dataflow
from .environment import PackageWatch, capture_environment, environment_cache
from .failures import Warner
from .gitstate import capture_git
from .hashcache import HashCache
from .noise import NoiseFilter, store_paths
from .outbox import Op, Outbox
from .readers.catalog import BUILTIN, all_specs, readers_cache
from .readers.install import Installer
from .remote import RemoteWrappers

# Pending records are written before a cell that may read the store from another process
# (`!jupyter lineage runs`).
_MAY_READ_STORE = re.compile(
    r"^\s*!|%%(?:bash|sh|script|system)|%sx|%system|subprocess|os\.system|lineage", re.M
)


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
        self.db_path = for_notebook(self.notebook, db)
        self.run_id = run_id or uuid7()
        self.attached = attach
        self.enabled = True
        self.seq = 0
        self.executions = 0
        self.filter = NoiseFilter(store_paths(self.db_path))
        self.warn = Warner()
        self.hashes = HashCache()
        self.accesses = Accesses(self.filter, self.hashes, self.warn)
        specs = all_specs(self.warn, readers_cache(self.db_path))
        self.wrappers = Installer(specs, self.accesses, self.warn)
        self.remote = RemoteWrappers(self.accesses, self.warn)
        # which names each cell defines and uses; a kernel gives it its namespace (extension.py)
        self.dataflow = Dataflow()
        self.outbox = Outbox(
            self.db_path, self.run_id, self.hashes.new, on_open=self.hashes.open_reader
        )
        self._reported: tuple[BaseException | None, BaseException | None] = (None, None)
        self._pid = os.getpid()  # a forked child inherits this object, never the run
        self._exec_id: str | None = None
        self._last_exec_id: str | None = None
        self._cell_id: str | None = None
        self._params_cell: tuple[str | None, str] | None = None  # the notebook's, when interactive
        self._source = ""
        self._t0 = 0.0
        self._started = ""
        self._packages: PackageWatch | None = None
        self._paused_before = 0.0  # how long the kernel idled before this cell
        self._ended = False
        # What each cell puts in its children's environment: capture/child.py
        self._marker_tail = child.marker(
            "", self.run_id, self.db_path, plugins=len(specs) > len(BUILTIN)
        )
        self._marker_before = os.environ.get(child.ENV)
        self.git_error: str | None = None  # why the git state could not be read
        self._start(parameters or {}, parent_id)

    @property
    def active(self) -> bool:
        """Inside a cell (between begin_execution and end_execution)."""
        return self.accesses.active

    # -- lifecycle ---------------------------------------------------------------------------
    def _start(self, parameters: dict[str, Any], parent_id: str | None) -> None:
        inherited = registry.child()
        if inherited is not None:  # a tracked child that starts its own run: its own from now
            inherited.finish()
        if not self.attached:
            self.outbox.put(
                op=Op(
                    "begin_run",
                    {
                        "kind": self.kind,
                        "notebook": self.notebook,
                        "parameters": parameters,
                        "parent_id": parent_id,
                        "cwd": os.getcwd(),
                        "run_id": self.run_id,
                        # this process, now: the same whoever writes it (see store/journal.py)
                        "identity": process_identity(),
                        "started": now(),
                    },
                )
            )
        self.flush()
        self._packages = PackageWatch()  # a few stats: the baseline for %pip install
        # Environment and git take a few hundred ms (package metadata, git subprocesses):
        # captured in the background so the notebook never waits for them.
        self._context = threading.Thread(
            target=self._capture_context, daemon=True, name="jupyter-lineage-context"
        )
        self._context.start()
        self.outbox.start()
        hook.install()
        registry.activate(self)
        child.watch_fork()
        self.wrappers.poll()
        self.remote.poll()
        atexit.register(self._atexit)

    def _capture_context(self) -> None:
        hook.mark_thread_ours()
        run_id = self.run_id
        if self.kind == "interactive":
            with contextlib.suppress(Exception):  # no notebook file, not JSON: no parameters
                self._params_cell = params_cell.find(self.notebook)
        try:
            environment = capture_environment(environment_cache(self.db_path))
            self.outbox.put(
                op=Op(
                    "set_run_environment",
                    {"run_id": run_id, "seq": 0, "environment": environment},
                )
            )
        except Exception as exc:
            # said at the next cell end, from the notebook's thread (so it lands under a cell)
            self.outbox.notices.append(
                ("environment", f"could not read the environment ({exc}); continuing.")
            )
        try:
            folder = os.path.dirname(self.notebook) if self.notebook else os.getcwd()
            git = capture_git(folder)
            self.outbox.put(op=Op("set_run_git", {"run_id": run_id, "git": git}))
            if git and git.get("error"):
                self.git_error = str(git["error"])
                self.outbox.notices.append(
                    ("git", f"could not read the git state ({git['error']}); recorded as such.")
                )
        except Exception as exc:
            self.git_error = f"{type(exc).__name__}: {exc}"
            self.outbox.notices.append(
                ("git", f"could not read the git state ({exc}); continuing.")
            )

    def _wait_for_context(self) -> None:
        context = getattr(self, "_context", None)
        if context is not None and context.is_alive():
            context.join(timeout=30)

    def close(self, status: str = "succeeded") -> None:
        """End the run (unless a pipeline owns it) and detach every hook we installed."""
        if os.getpid() != self._pid:
            return  # a forked child exiting: the run and its journal are the parent's
        registry.deactivate(self)
        self.accesses.active = False
        with contextlib.suppress(Exception):
            if self._marker_before is None:
                os.environ.pop(child.ENV, None)
            else:
                os.environ[child.ENV] = self._marker_before
        with contextlib.suppress(Exception):
            self.wrappers.remove()
        with contextlib.suppress(Exception):
            self.remote.remove()
        self._wait_for_context()
        if not self._ended:
            self._ended = True
            if not self.attached:
                self.outbox.put(
                    op=Op("end_run", {"run_id": self.run_id, "status": status, "ended": now()})
                )
            # The reader first: the writer's connection, closing last, folds the WAL back in.
            self.hashes.close()
            self.accesses.watch.close()
            self.outbox.close()
            self._report()
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- executions: the per-cell hot path ---------------------------------------------------
    def begin_execution(self, source: str, cell_id: str | None = None) -> None:
        if not self.enabled:
            return
        self.accesses.begin()
        self._source = scrub_text(source)
        if self.outbox.pending and _MAY_READ_STORE.search(source):
            self.flush()
        self._cell_id = cell_id
        self._exec_id = exec_id = uuid7()
        os.environ[child.ENV] = exec_id + self._marker_tail  # for its Python children
        self._started = now()
        self._t0 = time.perf_counter()
        self._paused_before = time.monotonic() - self.outbox.last_end
        self.outbox.cell_running = True
        self.accesses.active = True

    def end_execution(
        self, *, execution_count: int | None = None, error: BaseException | None = None
    ) -> None:
        accesses = self.accesses
        if not accesses.active:
            return
        accesses.active = False
        duration_ms = (time.perf_counter() - self._t0) * 1000.0
        outbox = self.outbox
        exec_id = self._exec_id or uuid7()
        flow = None
        try:
            flow = self.dataflow.execution(exec_id, self._source, failed=error is not None)
        except Exception as failure:
            self.warn("dataflow", f"the names this cell used could not be read ({failure!r}).")
        try:
            record = writes.ExecutionRecord(
                id=exec_id,
                run_id=self.run_id,
                seq=self.seq,
                source=self._source,
                started=self._started,
                duration_ms=round(duration_ms, 3),
                cell_id=self._cell_id,
                execution_count=execution_count,
                error_name=type(error).__name__ if error is not None else None,
                # redacted here, not only in the store: the journal holds it too
                error_value=redact(str(error)[:4000]) if error is not None else None,
                accesses=accesses.collect(),
                dataflow=flow.names() if flow is not None else None,
                depends=flow.depends if flow is not None else [],
            )
            self.seq += 1
            self.executions += 1
            self._last_exec_id = record.id
            outbox.last_end = time.monotonic()
            outbox.cell_running = False
            outbox.put(record=record)
            if self.attached:
                outbox.flush()  # a pipeline's engine reads the store as soon as the last cell ends
            if accesses.errors:
                exc = accesses.errors[0]
                self.warn("hook", f"a file access could not be recorded ({exc!r}).")
            if self._params_cell is not None and error is None:
                self._record_parameters()
            self._report()
            self._check_environment(self._source)
            self.wrappers.poll()
            self.remote.poll()
        except Exception as exc:
            self.warn("capture", f"this execution could not be recorded ({exc!r}).")
        finally:
            outbox.cell_running = False
            self._exec_id = None

    def _record_parameters(self) -> None:
        """The parameters cell just ran in an interactive session: its values are the run's
        parameters (the latest run of that cell counts)."""
        cell = self._params_cell
        namespace = self.dataflow.namespace
        if (
            cell is None
            or namespace is None
            or not params_cell.is_it(cell, self._cell_id, self._source)
        ):
            return
        found = params_cell.values(self._source, namespace)
        if found:
            self.log_params(found)

    def running_execution(self) -> str | None:
        """The id of the cell running now, if one is."""
        return self._exec_id if self.accesses.active else None

    def note_path(self, path: Any, role: str, api_kind: str | None) -> None:
        """A file the current cell read or wrote (the library wrappers call this)."""
        self.accesses.note_path(path, role, api_kind)

    # -- declared by the user ----------------------------------------------------------------
    def declare(self, path: str, role: str) -> writes.Access:
        """``%track input/output``: what capture cannot see (a file written by a subprocess)."""
        access = self.accesses.declare(path, role)
        if not self.accesses.active:
            exec_id = self._last_exec_id
            if exec_id is None:
                raise LineageError("Nothing has run yet in this run: declare files inside a cell.")
            self.outbox.put(op=Op("add_accesses", {"execution_id": exec_id, "accesses": [access]}))
            self.flush()
        return access

    def log_params(self, params: dict[str, Any]) -> None:
        self.outbox.put(op=Op("set_params", {"run_id": self.run_id, "parameters": params}))
        self.flush()

    def log_metric(self, name: str, value: Any, step: int | None = None) -> None:
        self.outbox.put(
            op=Op(
                "log_metric",
                {
                    "run_id": self.run_id,
                    "name": name,
                    "value": value,
                    "step": step,
                    "execution_id": self._exec_id or self._last_exec_id,
                    "recorded": now(),
                },
            )
        )
        self.flush()

    def flush(self) -> bool:
        """Write what is pending now (and warn here if that fails). True when all written."""
        written = self.outbox.flush()
        self._report()
        return written

    def _report(self) -> None:
        """Say here, in the notebook's thread, what the outbox met (once per kind)."""
        outbox = self.outbox
        failures = (outbox.journal_failure, outbox.failure)
        if failures != self._reported:
            for failure, reported in zip(failures, self._reported, strict=True):
                if failure is not None and failure is not reported:
                    self.warn.failed(failure, self.db_path)
            self._reported = failures
        notices = outbox.notices
        while notices:
            self.warn(*notices.popleft())

    # -- environment changes (e.g. %pip install) ---------------------------------------------
    def _check_environment(self, source: str = "", *, force: bool = False) -> None:
        watch = self._packages
        if watch is None or not watch.changed(source, self._paused_before, force=force):
            return
        environment = capture_environment()
        self.outbox.put(
            op=Op(
                "set_run_environment",
                {"run_id": self.run_id, "seq": self.seq, "environment": environment},
            )
        )
        self.flush()

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        self._wait_for_context()  # what %track reports includes the environment and git
        self._check_environment(force=True)
        self.flush()
        outbox, accesses = self.outbox, self.accesses
        info: dict[str, Any] = {
            "run_id": self.run_id,
            "db": str(self.db_path),
            "journal": str(outbox.journal.path),
            "notebook": self.notebook,
            "kind": self.kind,
            "enabled": self.enabled,
            "executions": self.executions,
            # what was not (yet) recorded, never silently: see docs/capture.md
            "pending": outbox.pending,
            "unjournaled": outbox.unjournaled,
            "refused": outbox.refused,
            "dropped": outbox.dropped,
            "hash_errors": accesses.hash_errors,
            "access_errors": accesses.error_count + len(accesses.errors),
            "reader_errors": self.wrappers.notes.failures + self.wrappers.hook.errors,
            "git_error": self.git_error,
        }
        if not self.outbox.pending:
            with contextlib.suppress(Exception):
                counts = self.outbox.read(lambda store: queries.counts(store, self.run_id))
                info.update(counts or {})
                info["name"] = self.outbox.read(lambda store: queries.name_of(store, self.run_id))
        return info
