"""Installs the registry's wrappers the moment their library is imported, and removes them.

A wrapper costs one attribute read outside a cell. Inside one it notes what the call touches:
reads before the call (the version read is the one hashed), writes after it returns. A call made
inside another wrapped call (``pandas.read_parquet`` → ``pyarrow.parquet.read_table``) is the
outer call's business and is not looked at twice. Whatever goes wrong in a wrapper — a spec that
no longer matches its library — is one warning naming the library; the user's call still runs.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from .spec import Spec, Target, default_targets, members

Warn = Callable[[str, str], None]
_SLACK_NS = 50_000_000  # filesystems stamp mtimes with a coarse clock: a write's files may
# carry a time a little before the call began
_local = threading.local()  # .inside: a wrapped call is running on this thread; .kind: the
# kind of what it opens through Python (Spec.inner_kind)


_kinds_running = [0]  # wrapped calls with an inner kind running, any thread: 0 on the hot path


def context_kind() -> str | None:
    """The kind the running wrapped call gives files it opens itself (the audit hook asks)."""
    return getattr(_local, "kind", None) if _kinds_running[0] else None


class Sink(Protocol):
    """What the wrappers report to (capture/accesses.py's Accesses)."""

    active: bool

    def note_path(self, path: Any, role: str, api_kind: str | None) -> None: ...

    def note_database(self, path: str) -> None: ...


def _version(module: str) -> str:
    top = sys.modules.get(module.split(".", 1)[0])
    return str(getattr(top, "__version__", "?"))


class Notes:
    """Turns a spec's targets into ``note_path`` calls; failures become one warning per library."""

    def __init__(self, sink: Sink, warn: Warn) -> None:
        self.sink = sink
        self.warn = warn
        self.failures = 0  # wrappers that failed to install or to note a call (%track status)

    def failed(self, spec: Spec, exc: BaseException) -> None:
        self.failures += 1
        self.warn(
            f"reader:{spec.library}",
            f"could not record what {spec.name} read or wrote ({spec.library} "
            f"{_version(spec.module)}: {type(exc).__name__}: {exc}); declare those files with "
            "%track input/output.",
        )

    def before(
        self, spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[list[Target], int]:
        """Notes the reads now; returns what waits for the call to end (writes, kinds by content)."""
        try:
            found = (
                spec.targets(args, kwargs) if spec.targets else default_targets(spec, args, kwargs)
            )
            later: list[Target] = []
            for target in found:
                if target[1] == "write" or (spec.kind_of is not None and target[1] == "read"):
                    later.append(target)
                else:
                    self._note(spec, target, None)
            return later, time.time_ns() - _SLACK_NS
        except Exception as exc:
            self.failed(spec, exc)
            return [], 0

    def after(
        self,
        spec: Spec,
        later: Iterable[Target],
        since_ns: int,
        call: tuple[tuple[Any, ...], dict[str, Any], Any],
    ) -> None:
        try:
            kind = spec.kind_of(*call) if spec.kind_of is not None else None
            for path, role, target_kind in later:
                self._note(spec, (path, role, kind or target_kind), since_ns)
        except Exception as exc:
            self.failed(spec, exc)

    def _note(self, spec: Spec, target: Target, since_ns: int | None) -> None:
        path, role, kind = target
        note = self.sink.note_path
        if role == "database":  # read now, written if its bytes change by the cell's end
            self.sink.note_database(os.path.abspath(path))
        elif spec.expand:
            for member in members(path, since_ns if role == "write" else None):
                note(member, role, kind)
        else:
            note(path, role, kind)


def wrap(spec: Spec, original: Callable[..., Any], notes: Notes) -> Callable[..., Any]:
    sink = notes.sink

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not sink.active or getattr(_local, "inside", False):
            return original(*args, **kwargs)
        later, since_ns = notes.before(spec, args, kwargs)
        _local.inside = True
        if spec.inner_kind:
            _local.kind = spec.inner_kind
            _kinds_running[0] += 1
        try:
            result = original(*args, **kwargs)
        finally:
            _local.inside = False
            if spec.inner_kind:
                _local.kind = None
                _kinds_running[0] -= 1
        if later:
            notes.after(spec, later, since_ns, (args, kwargs, result))
        return result

    wrapper.__jupyter_lineage_original__ = original  # type: ignore[attr-defined]
    return wrapper


_FILE_LOADERS = (
    importlib.machinery.SourceFileLoader,
    importlib.machinery.SourcelessFileLoader,
    importlib.machinery.ExtensionFileLoader,
)


def _executed() -> set[str]:
    """Watched modules whose code has just run on this thread (their callback is running)."""
    done: set[str] | None = getattr(_local, "executed", None)
    if done is None:
        done = _local.executed = set()
    return done


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Calls back right after a watched module executes: pandas imports pyarrow.parquet lazily,
    inside the very call whose file access we must see."""

    def __init__(self, names: set[str], callback: Callable[[], None]) -> None:
        self.names = names
        self.callback = callback
        self._local = threading.local()
        self.errors = 0

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self.names or getattr(self._local, "busy", False):
            return None
        self._local.busy = True
        try:
            spec = importlib.util.find_spec(fullname)
        except Exception:
            return None
        finally:
            self._local.busy = False
        loader = spec.loader if spec is not None else None
        if not isinstance(loader, _FILE_LOADERS):
            return None  # shared loader objects are never touched
        execute = loader.exec_module
        callback = self.callback

        hook = self

        def exec_module(module: Any) -> None:
            execute(module)
            done = _executed()
            done.add(fullname)  # complete, though importlib still calls it initializing
            try:
                callback()  # Installer.poll: catches, counts and tells each spec's failure
            except Exception:  # anything else: never into the user's import, but counted
                hook.errors += 1
            finally:
                done.discard(fullname)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class Installer:
    """Wraps each spec's callable once its module is in ``sys.modules``; :meth:`remove` undoes."""

    def __init__(self, specs: Iterable[Spec], sink: Sink, warn: Warn) -> None:
        self.notes = Notes(sink, warn)
        self.warn = warn
        self.by_module: dict[str, list[Spec]] = {}
        for spec in specs:
            self.by_module.setdefault(spec.module, []).append(spec)
        self.waiting = set(self.by_module)
        self.installed: list[tuple[Any, str, Any]] = []
        self.hook = _PostImportHook(set(self.waiting), self.poll)
        sys.meta_path.insert(0, self.hook)

    def poll(self) -> None:
        if not self.waiting:
            return
        for name in [n for n in self.waiting if n in sys.modules]:
            spec = getattr(sys.modules[name], "__spec__", None)
            if getattr(spec, "_initializing", False) and name not in _executed():
                continue  # still importing (it imports another watched module): wait for it
            self.waiting.discard(name)
            for spec in self.by_module[name]:
                try:
                    self._install(spec, sys.modules[name])
                except Exception as exc:
                    if not spec.optional:
                        self.notes.failed(spec, exc)

    def _install(self, spec: Spec, module: Any) -> None:
        *owners, attr = spec.target.split(".")
        owner: Any = module
        for part in owners:
            owner = getattr(owner, part)
        static = inspect.getattr_static(owner, attr)
        if isinstance(static, staticmethod):
            raise TypeError(f"{spec.target} is a staticmethod; wrap a function or method")
        if isinstance(static, classmethod):  # from_pretrained: args[0] is the class
            if hasattr(static.__func__, "__jupyter_lineage_original__"):
                return
            setattr(owner, attr, classmethod(wrap(spec, static.__func__, self.notes)))
            self.installed.append((owner, attr, static))
            return
        original = getattr(owner, attr)
        if hasattr(original, "__jupyter_lineage_original__"):
            return
        setattr(owner, attr, wrap(spec, original, self.notes))
        self.installed.append((owner, attr, original))

    def remove(self) -> None:
        if self.hook in sys.meta_path:
            sys.meta_path.remove(self.hook)
        for owner, attr, original in reversed(self.installed):
            setattr(owner, attr, original)
        self.installed.clear()
        self.waiting = set(self.by_module)
