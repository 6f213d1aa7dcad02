"""A Python child of a tracked kernel or pipeline records what it reads and writes into the
cell that started it.

The tracker puts a marker in its environment at each cell (``JUPYTER_LINEAGE_PARENT``: the
execution, the run and the store). Every child inherits it: ``!python prep.py``,
``subprocess.run([sys.executable, …])``, multiprocessing's and joblib's (loky) workers. The
package's start-up hook (``jupyter_lineage_children.pth`` in site-packages) sees the marker as
the interpreter starts and calls :func:`start`; without the marker it does nothing more than one
dictionary lookup. A child made by ``fork`` (multiprocessing's default on Linux) inherits the
tracker itself and turns it into a child capture (:func:`_after_fork`).

The child notes files and URLs with the kernel's own parts (audit hook, reader registry, HTTP and
fsspec wrappers) for its whole life, then, when it ends — a normal exit, multiprocessing's
process end, SIGTERM (``Pool.terminate``) — appends them to its own journal (store/journal.py)
and puts them into the store as accesses of the cell that started it. A store not there yet, or
busy, leaves them in the journal for the next reader. Environment variables are never recorded:
the marker holds ids and the store's path only.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..ids import uuid7
from ..redaction import redact
from ..store import journal as journal_mod
from ..store.db import Store, now
from ..urls import scrub_text
from . import hook, outbox, registry
from .accesses import Accesses
from .failures import Warner
from .hashcache import HashCache
from .noise import NoiseFilter, store_paths

ENV = "JUPYTER_LINEAGE_PARENT"
# How long a SIGTERM is left to the main thread's handler before the guard thread ends it.
TERM_GRACE_SECONDS = 0.2
_OURS = "__jupyter_lineage__"
_fork_hook = False
_guard_fds: tuple[int, int] | None = None


def marker(execution_id: str, run_id: str, db_path: Path, *, plugins: bool = True) -> str:
    """``EXECUTION:RUN:P:STORE``; P is 0 when the parent found no reader plugins, so that its
    children skip looking for them (a scan of every installed package's metadata)."""
    return f"{execution_id}:{run_id}:{int(plugins)}:{db_path}"


def parse(value: str) -> tuple[str, str, Path, bool] | None:
    parts = value.split(":", 3)
    if len(parts) != 4 or not all(parts):
        return None
    execution_id, run_id, plugins, db = parts
    return execution_id, run_id, Path(db), plugins != "0"


class ChildCapture:
    """One child process's accesses, recorded for the execution that started it."""

    def __init__(
        self,
        execution_id: str,
        run_id: str,
        db_path: Path,
        plugins: bool = True,
        accesses: Accesses | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.run_id = run_id
        self.db_path = db_path
        self.warn = Warner()
        self.wrappers: list[Any] = []
        self.forked = accesses is not None  # else a new interpreter (exec'd)
        if accesses is None:  # a new interpreter: the kernel's parts, made afresh
            from .readers.catalog import BUILTIN, all_specs
            from .readers.install import Installer
            from .remote import RemoteWrappers

            # a child takes no inotify instance (a per-user limit): its re-reads are stat'ed
            noise = NoiseFilter(store_paths(db_path))
            accesses = Accesses(noise, HashCache(), self.warn, watch=False)
            specs = all_specs(self.warn) if plugins else list(BUILTIN)
            self.wrappers = [
                Installer(specs, accesses, self.warn),
                RemoteWrappers(accesses, self.warn),
            ]
        self.accesses = accesses
        self.pid = os.getpid()
        self.started = now()
        self.done = False
        self._finishing = False
        self._once = threading.RLock()
        self._pending_signal: int | None = None
        self._ids: dict[str, str] = {}

    def begin(self) -> None:
        self.accesses.begin()
        self.accesses.active = True
        registry.activate_child(self)
        hook.install()
        for wrappers in self.wrappers:
            wrappers.poll()
        atexit.register(self.finish)
        watch_fork()
        self._on_terminate()
        if "multiprocessing" in sys.modules:
            # A forked multiprocessing child ends with os._exit: atexit never runs there, its
            # finalizers do — registered again once it has emptied the inherited ones.
            from multiprocessing import util

            util.Finalize(None, self.finish, exitpriority=100)
            util.register_after_fork(self, ChildCapture._finalize_at_exit)

    def _finalize_at_exit(self) -> None:
        from multiprocessing import util

        util.Finalize(None, self.finish, exitpriority=100)

    def _on_terminate(self) -> None:
        """SIGTERM (``Pool.terminate``, loky's shutdown) records first, then ends as it would.

        A Python handler runs between two bytecodes of the main thread, so a SIGTERM landing
        just before a blocking call would wait with that call, for ever if the sender holds
        what it waits for (a pool worker about to take the queue lock its terminating parent
        holds). The signal also wakes a thread of ours (:func:`_guard`): if the main thread has
        not begun within :data:`TERM_GRACE_SECONDS`, the thread records and ends the process."""
        with contextlib.suppress(ValueError, OSError):  # not the main thread: no handler
            current = signal.getsignal(signal.SIGTERM)
            if current is not signal.SIG_DFL and not getattr(current, _OURS, False):
                return  # the program handles it: its own way of ending runs atexit

            def terminated(signum: int, _frame: Any) -> None:
                if self._finishing:  # the record is being made: end once it is
                    self._pending_signal = signum
                    return
                if self.finish() or not self._finishing:
                    _end_by(signum)

            setattr(terminated, _OURS, True)
            signal.signal(signal.SIGTERM, terminated)
            _guard(self)

    def flush(self, execution_id: str | None = None) -> None:
        """A worker between two tasks (a joblib batch done): what it did so far is recorded
        now, for the cell that sent the task, and the next task starts a clean slate."""
        if self.done or os.getpid() != self.pid:
            return
        try:
            items = self.accesses.collect()
            self.accesses.begin()
            if items:
                self._record(items, execution_id or self.execution_id)
        except Exception as exc:
            self.warn("child", f"this process's file accesses could not be recorded ({exc!r}).")

    def finish(self) -> bool:
        """Journal what the process read and wrote, then put it into the store; False when it
        was done already (or is being done by another thread)."""
        with self._once:  # reentrant: the main thread's signal handler may come in here
            if self.done or os.getpid() != self.pid:
                return False
            self._finishing = True
            self.done = True
        try:
            self._note_script()
            self.accesses.active = False
            items = self.accesses.collect()
            registry.deactivate_child(self)
            if items:
                self._record(items)
        except Exception as exc:  # never the child's own exit failing because of us
            self.warn("child", f"this process's file accesses could not be recorded ({exc!r}).")
        finally:
            self._finishing = False
            if self._pending_signal is not None:
                _end_by(self._pending_signal)
        return True

    def _note_script(self) -> None:
        """The child's own script (``python prep.py``) is one of its inputs: code is noise to
        the audit hook, but here it is what the cell ran."""
        script = sys.argv[0] if sys.argv and not self.forked else ""  # a fork: the parent's
        if not script.endswith(".py") or not os.path.isfile(script):
            return
        path = os.path.abspath(script)
        if not path.startswith(self.accesses.filter.package_prefixes):
            with hook.ours():
                self.accesses.declare(path, "read")

    def _command(self) -> str:
        """The command line; a multiprocessing, joblib or forked child has its parent's, so it
        is named by what started it."""
        if "multiprocessing" in sys.modules:
            import multiprocessing

            if multiprocessing.parent_process() is not None:
                name = multiprocessing.current_process().name
                return f"(child of {os.getppid()}) multiprocessing {name}"
        if self.forked:
            return f"(child of {os.getppid()}) os.fork()"
        return shlex.join(sys.argv)

    def _record(self, items: list[Any], execution_id: str | None = None) -> None:
        execution_id = execution_id or self.execution_id
        # One record of this process per cell it worked for: a pooled worker serves many.
        record_id = self._ids.setdefault(execution_id, uuid7())
        args = {
            "id": record_id,
            "run_id": self.run_id,
            "execution_id": execution_id,
            "pid": self.pid,
            # as the cell's code is: URLs cleaned, and environment values replaced here too
            "argv": redact(scrub_text(self._command()))[:4000],
            "started": self.started,
            "ended": now(),
            "accesses": items,
        }
        journal = journal_mod.Journal(self.db_path, self.run_id)
        with hook.ours():
            journal.append(journal_mod.encode("add_child", args))
            written = False
            try:
                # a SIGTERM waiting: ending now, the journal line is enough; a fork made while
                # the parent's writer was in SQLite: SQLite is not safe to use here
                if (
                    self.db_path.exists()
                    and self._pending_signal is None
                    and not outbox.forked_mid_write
                ):
                    with Store(self.db_path, create=False) as store:
                        journal_mod.apply(store, "add_child", args)
                    written = True
            except Exception:
                pass  # left in the journal: the next process that opens the store ingests it
            journal.close(remove=written)


# -- joblib: each batch of tasks is recorded for the cell that sent it --------------------------
def install_joblib(module: Any, _accesses: Any, installed: list[tuple[Any, str, Any]]) -> None:
    """In the kernel, a batch pickled for a worker carries the running cell's id; in a worker,
    what a batch read and wrote is recorded when it returns, for that cell. A loky worker lives
    on across cells: without this it would record only when it ends, all for its first cell."""
    batched = module.parallel.BatchedCalls
    reduce, call = batched.__reduce__, batched.__call__

    def __reduce__(self: Any) -> Any:
        value = reduce(self)
        tracker = registry.current()
        execution_id = tracker.running_execution() if tracker is not None else None
        if execution_id is None:
            capture = registry.child()  # a worker's own Parallel: its cell's
            execution_id = capture.execution_id if capture is not None else None
        if execution_id is None or not isinstance(value, tuple) or len(value) != 2:
            return value
        return (_rebuilt_batch, (value[0], value[1], execution_id))

    def __call__(self: Any) -> Any:
        capture = registry.child()
        execution_id = getattr(self, "_jupyter_lineage_execution", None)
        if capture is None or execution_id is None:
            return call(self)
        capture.flush()  # what came before the batch is not the batch's
        try:
            return call(self)
        finally:
            capture.flush(execution_id)

    for attr, wrapper in (("__reduce__", __reduce__), ("__call__", __call__)):
        original = getattr(batched, attr)
        wrapper.__jupyter_lineage_original__ = original  # type: ignore[attr-defined]
        setattr(batched, attr, wrapper)
        installed.append((batched, attr, original))


def _rebuilt_batch(cls: Any, args: tuple[Any, ...], execution_id: str) -> Any:
    """Unpickled in the worker: the batch, and which cell sent it."""
    batch = cls(*args)
    batch._jupyter_lineage_execution = execution_id
    return batch


def disown() -> None:
    """``jupyter lineage`` itself run from a tracked cell (``!jupyter lineage run x.ipynb``):
    what the tool opens (the notebook, the kernel's connection file, the store) is not the cell's
    data, and a pipeline it starts records a run of its own; so it records nothing as a child,
    nor do its own children."""
    capture = registry.child()
    if capture is not None:
        capture.done = True
        capture.accesses.active = False
        registry.deactivate_child(capture)
    os.environ.pop(ENV, None)


def _end_by(signum: int) -> None:
    """End the way the signal would have ended the process without us."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signum, signal.SIG_DFL)
    else:  # Python sets handlers from the main thread only; the C library does it from any
        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        libc.signal(signum, None)  # SIG_DFL
    os.kill(os.getpid(), signum)


def _guard(capture: ChildCapture) -> None:
    """A thread that sees each signal through the wakeup fd (Python's C handler writes the
    signal's number there at once, whatever the main thread is doing) and ends a SIGTERM the
    main thread could not (:meth:`ChildCapture._on_terminate`). A wakeup fd the program set
    is left alone."""
    global _guard_fds
    inherited, _guard_fds = _guard_fds, None  # a forked child's copy: its reader is not here
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        old = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        if old not in (-1, inherited[1] if inherited else -1):
            signal.set_wakeup_fd(old)
            raise ValueError("the program's own wakeup fd")
    except (ValueError, OSError):
        os.close(r)
        os.close(w)
        return
    finally:
        for fd in inherited or ():
            with contextlib.suppress(OSError):
                os.close(fd)
    _guard_fds = (r, w)
    threading.Thread(
        target=_watch_term, args=(capture, r), daemon=True, name="jupyter-lineage-sigterm"
    ).start()


def _watch_term(capture: ChildCapture, r: int) -> None:
    while True:
        try:
            data = os.read(r, 512)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        if signal.SIGTERM not in data:
            continue
        time.sleep(TERM_GRACE_SECONDS)  # the main thread's handler ends the process if it can
        if not getattr(signal.getsignal(signal.SIGTERM), _OURS, False):
            continue  # the program's own handler now: its way of ending, not ours
        if os.getpid() == capture.pid and capture.finish():
            _end_by(signal.SIGTERM)


def start() -> None:
    """Called by the start-up hook when the marker is set; never raises."""
    try:
        found = parse(os.environ.get(ENV, ""))
        if found is None or registry.current() is not None or registry.child() is not None:
            return
        ChildCapture(*found).begin()
    except Exception as exc:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"jupyter-lineage: this process is not tracked ({exc!r}).\n")


def watch_fork() -> None:
    global _fork_hook
    if not _fork_hook:
        os.register_at_fork(after_in_child=_after_fork)
        _fork_hook = True


def _after_fork() -> None:
    """A forked child inherits the tracker (or a child capture) mid-cell: it records for the
    same execution, into its own journal, from a clean slate."""
    try:
        tracker = registry.current()
        if tracker is not None:
            registry.deactivate(tracker)
            exec_id = tracker.running_execution()
            if exec_id is None:
                tracker.accesses.active = False  # forked between cells: nothing of a cell
                return
            tracker.hashes.forget_reader()  # a SQLite connection never crosses a fork
            ChildCapture(
                exec_id, tracker.run_id, tracker.db_path, accesses=tracker.accesses
            ).begin()
            return
        parent = registry.child()
        if parent is not None:
            registry.deactivate_child(parent)
            capture = ChildCapture(
                parent.execution_id, parent.run_id, parent.db_path, accesses=parent.accesses
            )
            capture.begin()
    except Exception:
        pass
