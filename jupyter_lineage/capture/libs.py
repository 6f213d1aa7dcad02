"""Thin wrappers for readers and writers that open files in C, where the audit hook is blind.

Each is installed only once its library has been imported by the user, and removed on unload.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

Note = Callable[[Any, str, "str | None"], None]  # (path, role, kind)


def _path_arg(value: Any) -> str | None:
    if isinstance(value, str | bytes | os.PathLike):
        try:
            return os.fsdecode(value)
        except TypeError:
            return None
    return None


def _wrap_call(
    original: Callable[..., Any], role: str, kind: str | None, index: int, keyword: str, note: Note
) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        target = args[index] if len(args) > index else kwargs.get(keyword)
        path = _path_arg(target)
        if path is not None and role == "read":
            note(path, "read", kind)
        result = original(*args, **kwargs)
        if path is not None and role == "write":
            note(path, "write", kind)
        return result

    wrapper.__jupyter_lineage_original__ = original  # type: ignore[attr-defined]
    return wrapper


# module -> [(attribute, role, kind, positional index, keyword)]
FUNCTIONS: dict[str, list[tuple[str, str, str | None, int, str]]] = {
    "pyarrow.parquet": [
        ("read_table", "read", "dataset", 0, "source"),
        ("read_pandas", "read", "dataset", 0, "source"),
        ("write_table", "write", "dataset", 1, "where"),
    ],
    "pyarrow.feather": [
        ("read_table", "read", "dataset", 0, "source"),
        ("read_feather", "read", "dataset", 0, "source"),
        ("write_feather", "write", "dataset", 1, "dest"),
    ],
    "pandas": [
        ("read_parquet", "read", "dataset", 0, "path"),
        ("DataFrame.to_parquet", "write", "dataset", 1, "path"),
    ],
    "torch": [
        ("save", "write", "model", 1, "f"),
        ("load", "read", "model", 0, "f"),
    ],
}


_FILE_LOADERS = (
    importlib.machinery.SourceFileLoader,
    importlib.machinery.SourcelessFileLoader,
    importlib.machinery.ExtensionFileLoader,
)


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Calls back right after a watched module executes: pandas imports pyarrow.parquet lazily,
    inside the very call whose file access we must see."""

    def __init__(self, names: set[str], callback: Callable[[], None]) -> None:
        self.names = names
        self.callback = callback
        self._local = threading.local()

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

        def exec_module(module: Any) -> None:
            execute(module)
            try:
                callback()
            except Exception:
                pass

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class LibraryWrappers:
    """Installs wrappers as soon as their library is imported, and removes them on unload."""

    def __init__(self, note: Note) -> None:
        self.note = note
        self.waiting = set(FUNCTIONS) | {"h5py"}
        self.installed: list[tuple[Any, str, Any]] = []
        self.hook = _PostImportHook(set(self.waiting), self.poll)
        sys.meta_path.insert(0, self.hook)

    def poll(self) -> None:
        if not self.waiting:
            return
        for name in [n for n in self.waiting if n in sys.modules]:
            self.waiting.discard(name)
            module = sys.modules[name]
            if name == "h5py":
                self._wrap_h5py(module)
                continue
            for dotted, role, kind, index, keyword in FUNCTIONS[name]:
                *owners, attr = dotted.split(".")
                owner: Any = module
                for part in owners:
                    owner = getattr(owner, part, None)
                original = getattr(owner, attr, None)
                if original is None or hasattr(original, "__jupyter_lineage_original__"):
                    continue
                setattr(owner, attr, _wrap_call(original, role, kind, index, keyword, self.note))
                self.installed.append((owner, attr, original))

    def _wrap_h5py(self, h5py: Any) -> None:
        cls = getattr(h5py, "File", None)
        if cls is None:
            return
        original = cls.__init__
        note = self.note

        @functools.wraps(original)
        def __init__(self: Any, name: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            path = _path_arg(name)
            if path is not None and mode == "r" and os.path.exists(path):
                note(path, "read", None)
            original(self, name, mode, *args, **kwargs)
            if path is not None and mode != "r":
                note(path, "write", None)

        cls.__init__ = __init__
        self.installed.append((cls, "__init__", original))

    def remove(self) -> None:
        if self.hook in sys.meta_path:
            sys.meta_path.remove(self.hook)
        for owner, attr, original in reversed(self.installed):
            setattr(owner, attr, original)
        self.installed.clear()
        self.waiting = set(FUNCTIONS) | {"h5py"}
