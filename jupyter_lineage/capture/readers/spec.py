"""What a reader spec says: which call of which library reads or writes which files.

A spec is data: the module whose import installs it, the attribute it wraps, where the path (or
URL, or SQL) is among the arguments, the role and kind, and how a folder or glob expands. Calls
too irregular for that (SQL text, a lazy plan, an open mode) name a ``targets`` function that
returns what the call touches.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# (path, role, kind) as the tracker's ``note_path`` takes them.
Note = Callable[[Any, str, "str | None"], None]
# A touched file: (path, role, kind or None for "by extension").
Target = tuple[str, str, "str | None"]
# Custom extraction, before the call: (args, kwargs) -> what the call touches. Reads are noted
# at once (the version read is the one hashed), writes once the call has returned.
Targets = Callable[[tuple[Any, ...], dict[str, Any]], Iterable[Target]]
# Kind by content: (args, kwargs, result) -> a kind, or None to keep the spec's.
KindOf = Callable[[tuple[Any, ...], dict[str, Any], Any], "str | None"]

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Spec:
    """One wrapped callable. ``target`` is dotted inside ``module`` (``"DataFrame.to_parquet"``).

    ``arg``/``keyword``: where the path is (a bound method counts ``self`` as 0). ``expand``: a
    folder or glob stands for every file in it (partitioned data). ``targets``: a function for
    calls the fields cannot describe. ``kind_of``: the kind by what was read or written (a torch
    tensor is data, a module a model); reads of such a spec are noted after the call.
    ``inner_kind``: the kind of whatever the call opens through Python (seen by the audit
    hook), e.g. the cache files a ``fetch_*`` reads are datasets whatever their extension.
    """

    library: str
    module: str
    target: str
    role: str = "read"
    kind: str | None = "dataset"
    arg: int | None = 0
    keyword: str | None = None
    expand: bool = False
    targets: Targets | None = None
    kind_of: KindOf | None = None
    inner_kind: str | None = None
    optional: bool = False  # may be absent (a class that needs another library): no warning

    @property
    def name(self) -> str:
        return f"{self.module}.{self.target}"

    def argument(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.arg is not None and len(args) > self.arg:
            return args[self.arg]
        if self.keyword is not None:
            return kwargs.get(self.keyword)
        return None


def path_of(value: Any) -> str | None:
    """A local path from a str/bytes/PathLike (``file://`` URLs too); None for anything else."""
    if isinstance(value, str | bytes | os.PathLike):
        try:
            text = os.fsdecode(value)
        except TypeError:
            return None
        if text.startswith("file://"):
            return text[7:]
        if "://" in text or not text:
            return None  # a remote URL: the http/remote capture's, not a reader's
        return os.path.expanduser(text)
    return None


def paths_in(value: Any) -> Iterator[str]:
    """Paths in an argument that may be one path or a list of them."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from paths_in(item)
        return
    path = path_of(value)
    if path is not None:
        yield path


def members(path: str, since_ns: int | None = None) -> list[str]:
    """The files a folder or glob stands for, sorted; the path itself if it is neither.

    Hidden files and folders (``.`` or ``_`` first: ``_SUCCESS``, ``.crc``) are metadata of the
    writer, not data, and are skipped. ``since_ns``: only files modified since (a write).
    """
    if _GLOB_CHARS & set(path) and not os.path.exists(path):
        found = [p for p in glob.glob(path, recursive=True) if os.path.isfile(p)]
    elif os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
            found.extend(os.path.join(root, f) for f in files if not f.startswith((".", "_")))
    else:
        return [path]
    if since_ns is not None:
        found = [p for p in found if _mtime_ns(p) >= since_ns]
    return sorted(found)


def _mtime_ns(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def default_targets(spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    """The files a plain spec's call touches (folders and globs expanded when noted)."""
    return [(path, spec.role, spec.kind) for path in paths_in(spec.argument(args, kwargs))]
