"""What one execution read and wrote: noise filtered out, each file version hashed once.

The audit hook only queues what a cell opens for reading (one append); :meth:`Accesses.settle`
makes records of the queue at the cell's end, or before anything that could change a queued file.
A file new to this kernel is hashed (capture/hashcache.py); one hashed before costs nothing while
inotify reports no change to it (capture/watch.py), else one ``stat``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import LineageError
from ..hashing import stat_key
from ..store import writes
from ..urls import canonical_url, clean_url
from . import hook
from .folders import Folders
from .hashcache import HashCache, Key
from .kinds import file_kind, kind_of
from .noise import NoiseFilter
from .readers.install import _kinds_running, context_kind
from .watch import Watcher

_PLAIN_ABSOLUTE = re.compile(r"/(?!.*(?://|/\.\.?(?:/|$))).*[^/]\Z", re.S).match  # normal already
_LAST_MAX = 200_000  # files' records kept for re-reads, in memory or vouched for by the watch
_PARALLEL_FROM = 512  # reads to look at by a cell's end, from which stats run on threads
_stat_pool: ThreadPoolExecutor | None = None


def _stat_chunk(names: list[str]) -> list[os.stat_result | None]:
    out: list[os.stat_result | None] = []
    for name in names:
        try:
            out.append(os.stat(name))
        except OSError:
            out.append(None)
    return out


def _stat_all(names: list[str]) -> dict[str, os.stat_result]:
    """``os.stat`` of many files; each call releases the GIL, so a few threads overlap them."""
    global _stat_pool
    if _stat_pool is None:
        _stat_pool = ThreadPoolExecutor(4, thread_name_prefix="jupyter-lineage-stat")
    size = -(-len(names) // 4)
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    found: dict[str, os.stat_result] = {}
    for chunk, stats in zip(chunks, _stat_pool.map(_stat_chunk, chunks), strict=True):
        found.update((n, st) for n, st in zip(chunk, stats, strict=True) if st is not None)
    return found


_LATER = writes.Access(uri="", hash="", role="read")  # a read to be looked at by the cell's end
_INTERRUPTED = "KeyboardInterrupt: Ctrl-C stopped the hashing at the cell's end"
Warn = Callable[[str, str], None]


class Remote:
    """A URL one cell read or wrote: its version identity as the server or filesystem states it
    (``ETag=…; Last-Modified=…``) and its content hash when the cell read the whole body.
    ``finish`` is called at the cell's end (a write's new version, a stream read to its end)."""

    __slots__ = ("digest", "finish", "kind", "role", "size", "uri", "version")

    def __init__(self, uri: str, role: str, kind: str | None) -> None:
        self.uri = uri
        self.role = role
        self.kind = kind
        self.version: str | None = None
        self.digest: str | None = None
        self.size: int | None = None
        self.finish: Callable[[Remote], None] | None = None

    def access(self) -> writes.Access:
        finish, self.finish = self.finish, None
        if finish is not None:
            finish(self)
        # Versions are told apart by content, else by what the server says of them.
        digest = self.digest or (version_hash(self.version) if self.version else "")
        return writes.Access(
            uri=self.uri,
            hash=digest,
            role=self.role,
            kind=kind_of(self.uri, self.kind or "dataset"),
            size=self.size,
            version=self.version,
        )


def version_hash(version: str) -> str:
    """An artifact's hash when only its version identity is known (never a content hash)."""
    return "version:" + writes.text_hash(version)[:32]


class Accesses:
    """One cell at a time: :meth:`begin`, then the hook and wrappers note paths, then
    :meth:`collect` gives the cell's reads and writes."""

    def __init__(
        self, noise: NoiseFilter, hashes: HashCache, warn: Warn, *, watch: bool = True
    ) -> None:
        self.filter = noise
        self.hashes = hashes
        self._warn = warn
        self.active = False  # between a cell's begin and end: the hook reads this first
        # The audit hook's reads, as it saw them (raw arguments): made records by settle()
        self.queued: list[tuple[Any, ...]] = []
        self.watch = Watcher(enabled=watch)  # what inotify vouches has not changed since hashed
        self.errors: list[BaseException] = []
        self.error_count = 0  # file accesses the hook could not record, this run
        self.hash_errors = 0  # files that could not be hashed, this run
        self._reads: dict[str, writes.Access] = {}
        self._writes: dict[str, str | None] = {}
        self._api_read: set[str] = set()  # reads whose kind an API gave (a wrapper), not a suffix
        # Reads of files hashed before in this process: only the name is noted on the hot path;
        # one stat at the cell's end says whether the remembered version is still the one.
        self._later: dict[str, str | None] = {}
        self._databases: dict[str, Key | None] = {}
        self._declared: list[writes.Access] = []
        self.folders = Folders()
        self._last: dict[tuple[str, str, str | None], tuple[Key, writes.Access]] = {}
        self._remote: dict[tuple[str, str], Remote] = {}

    def begin(self) -> None:
        self.error_count += len(self.errors)
        self.queued = []
        self._reads = {}
        self._api_read = set()
        self._later = {}
        self._writes = {}
        self._databases = {}
        self._declared = []
        self._remote = {}
        self.errors = []

    def collect(self) -> list[writes.Access]:
        """Reads as first seen, declarations, then writes hashed as they are now (closed)."""
        if self.queued:
            try:
                self.settle()
            except KeyboardInterrupt:  # the cell is over: what is left is kept, unhashed
                self._unhashed()
        reads = list(self._reads.values())
        if self._later:
            reads = self._settled(reads)
        accesses = self.folders.collapse(reads)
        if self._remote:
            accesses += self._remote_accesses()
        if self._declared:
            accesses += self._declared
        if self._databases:
            for path in self._changed_databases():
                self._writes.setdefault(path, "dataset")
        written = []
        for path, api_kind in self._writes.items():
            access = self.hashed(path, "write", api_kind)
            if access is not None:
                written.append(access)
        return accesses + self.folders.collapse(written)

    def _settled(self, reads: list[writes.Access]) -> list[writes.Access]:
        """The reads noted by name only, as the versions they are: one stat each, the record
        made last time reused when the version is the same (a folder's thousands of stats on
        a few threads when it pays, the syscalls overlapping)."""
        later = self._later
        stats = _stat_all(list(later)) if len(later) >= _PARALLEL_FROM else None
        out = []
        last, written, stat_of = self._last, self._writes, os.stat
        for name, access in zip(self._reads, reads, strict=True):
            if access is _LATER:
                api_kind = later[name]
                if stats is None:
                    try:
                        st = stat_of(name)
                    except OSError:
                        continue
                elif name in stats:
                    st = stats[name]
                else:
                    continue
                if name not in written:  # the common case, inlined: the same version again
                    seen = last.get((name, "read", api_kind))
                    if seen is not None and seen[0] == (st.st_size, st.st_mtime_ns, st.st_ino):
                        out.append(seen[1])
                        continue
                found = self._read_later(name, api_kind, st)
                if found is None:
                    continue
                access = found
            out.append(access)
        return out

    def _read_later(
        self, name: str, api_kind: str | None, st: os.stat_result | None = None
    ) -> writes.Access | None:
        if name in self._writes:
            # the cell read it, then wrote it: the version read is the one known before
            remembered = self.hashes.remembered(name)
            if remembered is None:
                return None
            key, digest = remembered
            return writes.Access(
                uri=name,
                hash=digest,
                role="read",
                kind=kind_of(name, api_kind, "read"),
                size=key[0],
            )
        return self.hashed(name, "read", api_kind, st)

    # -- what the audit hook and the library wrappers see ---------------------------------------
    def settle(self) -> None:
        """The reads the audit hook queued, made records of: a file new to this process hashed
        (one open, one read); one hashed before taken as it was when inotify reported no change
        to it (capture/watch.py), else checked with one stat, its last record reused when the
        version is the same. Called at the cell's end and before anything that may change a
        queued file (a write, a removal, a child process)."""
        queued = self.queued
        n = len(queued)
        if not n:
            return
        items = queued[:n]
        del queued[:n]  # another thread's append meanwhile stays for the next call
        reads, written, memory, last = self._reads, self._writes, self.hashes.memory, self._last
        watch = self.watch
        watch.drain()  # before any record is trusted: what changed since the last look
        if watch.changed:  # hashed again, whatever a stat would say (a same-size rewrite)
            for name in watch.changed:
                memory.pop(name, None)
                last.pop((name, "read", None), None)
            watch.changed.clear()
        unchanged = watch.unchanged.get
        folders: dict[str, bool] = {}  # each folder's path still leads to the folder watched
        # the noise filter's memo is keyed by normal absolute names: a path found there as
        # opened is one (the common case: no normalisation, no second look-up)
        decided, name_of = self.filter.memo[False].get, self._name_of
        args: tuple[Any, ...] = items[0]
        with hook.ours():
            try:
                for args in items:
                    try:
                        name = args[0]
                        if name.__class__ is str:
                            if name in reads or name in written:
                                continue
                            # vouched-for names are normal and not noise: looked up as opened
                            hit = unchanged(name)
                            if hit is not None:
                                still = folders.get(hit[0])
                                if still is None:
                                    still = folders[hit[0]] = watch.still(hit[0])
                                if still:
                                    reads[name] = hit[1]
                                    continue
                            noise = decided(name)
                            if noise is None:
                                name = name_of(name)
                            elif noise:
                                continue
                        else:
                            name = name_of(name)
                        if not name or name in reads or name in written:
                            continue
                        if name in memory:
                            access = self._known(name, last)
                        else:
                            access = self.first_read(name)
                        if access is not None:
                            reads[name] = access
                    except Exception as exc:
                        self.errors.append(exc)
            except KeyboardInterrupt:  # the user's Ctrl-C, mid-cell: what is left waits
                self.queued[:0] = items[items.index(args) :]
                raise

    def _unhashed(self) -> None:
        """A Ctrl-C stopped :meth:`settle` at the cell's end: the files left are recorded
        without a hash, saying why (never as a version that would later read as changed)."""
        left, self.queued = self.queued, []
        count = 0
        for args in left:
            name = self._name_of(args[0])
            if name and name not in self._reads and name not in self._writes:
                kind = file_kind(name, "read")
                self._reads[name] = writes.Access(name, "", "read", kind, hash_error=_INTERRUPTED)
                count += 1
        self.hash_errors += count
        self._warn(
            "hash",
            f"Ctrl-C stopped hashing what this cell read: {count} file(s) recorded without a hash.",
        )

    def _known(self, name: str, last: dict[Any, tuple[Key, writes.Access]]) -> writes.Access | None:
        """A file hashed before, not vouched for by a watch: one lstat (a regular file's stat;
        a symlink is followed, never watched)."""
        folder = name[: name.rfind("/")]
        watched = self.watch.watching(folder)  # before the stat: a change after is reported
        try:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                watched = False
                st = os.stat(name)
        except OSError:
            return None  # gone already: a temporary file
        seen = last.get((name, "read", None))
        access: writes.Access | None
        if seen is not None and seen[0] == (st.st_size, st.st_mtime_ns, st.st_ino):
            access = seen[1]
        else:
            access = self.hashed(name, "read", None, st)
        trusted = watched and st.st_nlink == 1 and len(self.watch.unchanged) < _LAST_MAX
        if trusted and access is not None and not access.hash_error:
            self.watch.unchanged[name] = (folder, access)
        return access

    def _name_of(self, raw: Any) -> str:
        """The absolute name of a path as opened; "" for noise or what is not a path."""
        if isinstance(raw, int) or raw is None:
            return ""
        try:
            name = raw if raw.__class__ is str else os.fsdecode(raw)
            if not _PLAIN_ABSOLUTE(name):
                name = os.path.abspath(name)
        except (TypeError, ValueError):
            return ""
        return "" if self.filter.is_noise(name, False) else name

    def first_read(self, path: str, api_kind: str | None = None) -> writes.Access | None:
        """A read of a file this process has not hashed: its folder watched first (so a change
        from then on is reported), then opened once and hashed from there. Called with what
        this thread opens marked ours (``hook.ours``). A file the watch vouches for is kept in
        the watch only; any other is remembered by its stat key, to be checked with a stat."""
        folder = path[: path.rfind("/")]
        watched = api_kind is None and self.watch.folder(folder)
        try:
            digest, key, plain = self.hashes.fresh(path)
        except OSError:  # gone, not a regular file, unreadable: the general path says which
            return self.hashed(path, "read", api_kind)
        access = writes.Access(path, digest, "read", api_kind or file_kind(path, "read"), key[0])
        unchanged = self.watch.unchanged
        if watched and plain and len(unchanged) < _LAST_MAX:  # beyond: checked with a stat
            unchanged[path] = (folder, access)
            return access
        self.hashes.memory[path] = (key, digest)
        last = self._last
        if len(last) >= _LAST_MAX:
            last.clear()
        last[(path, "read", api_kind)] = (key, access)
        return access

    def note_path(self, path: Any, role: str, api_kind: str | None) -> None:
        if not self.active:
            return
        if self.queued:
            self.settle()
        try:
            name = path if type(path) is str else os.fsdecode(path)
            if not _PLAIN_ABSOLUTE(name):
                name = os.path.abspath(name)
        except (TypeError, ValueError):
            return
        write = role == "write"
        if self.filter.is_noise(name, write):
            return
        if api_kind is None and _kinds_running[0]:
            api_kind = context_kind()  # opened by a wrapped call (a fetch_* reading its cache)
        if write:
            if name not in self._writes or api_kind:
                self._writes[name] = api_kind
        elif name in self._reads:
            if api_kind and name not in self._api_read:
                # open() saw it first (torch.load opens in Python): the API knows the kind
                self._api_read.add(name)
                if name in self._later:
                    self._later[name] = api_kind
                else:
                    self._reads[name] = dataclasses.replace(
                        self._reads[name], kind=kind_of(name, api_kind, "read")
                    )
        elif name not in self._writes:
            if name in self.hashes.memory:
                self._later[name] = api_kind
                self._reads[name] = _LATER  # keeps the order reads were first seen in
                if api_kind:
                    self._api_read.add(name)
                return
            with hook.ours():  # the hasher's own open() is not the user's
                access = self.first_read(name, api_kind)
            if access is not None:
                self._reads[name] = access
                if api_kind:
                    self._api_read.add(name)

    def note_url(self, uri: str) -> None:
        if uri not in self._reads and (uri, "read") not in self._remote:
            self._reads[uri] = writes.Access(
                uri=uri, hash="", role="read", kind=kind_of(uri, "dataset")
            )

    def note_remote(self, uri: str, role: str, kind: str | None = None) -> Remote | None:
        """A URL read or written through an HTTP client or a remote filesystem: the caller fills
        in its version identity and, once the whole body went by, its content hash."""
        if not self.active:
            return None
        key = (uri, role)
        found = self._remote.get(key)
        if found is None:
            found = self._remote[key] = Remote(uri, role, kind)
            self._reads.pop(uri, None)  # the same URL seen by urllib's audit event: this is richer
        return found

    def _remote_accesses(self) -> list[writes.Access]:
        out = []
        for remote in self._remote.values():
            try:
                out.append(remote.access())
            except Exception as exc:  # a client's changed API: the URL is still recorded
                self.errors.append(exc)
                out.append(Remote(remote.uri, remote.role, remote.kind).access())
        return out

    def note_database(self, path: str) -> None:
        """A SQLite file is read when opened, and written only if its bytes changed by cell end."""
        if self.filter.is_noise(path, True) or path in self._databases:
            return
        try:
            before: Key | None = stat_key(os.stat(path))
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

    def hashed(
        self, path: str, role: str, api_kind: str | None, st: os.stat_result | None = None
    ) -> writes.Access | None:
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None  # never created, or deleted before the cell ended: a temporary file
        if not stat.S_ISREG(st.st_mode):
            return None
        # The same version read again (a folder of images, every epoch): the record it made
        # last time, after one stat and one lookup.
        memo_key = (path, role, api_kind)
        last = self._last.get(memo_key)
        if last is not None and last[0] == (st.st_size, st.st_mtime_ns, st.st_ino):
            return last[1]
        access = self._hashed(path, st, role, api_kind)
        if not access.hash_error:
            self._remember(memo_key, st, access)
        return access

    def _remember(
        self, memo_key: tuple[str, str, str | None], st: os.stat_result, access: writes.Access
    ) -> None:
        if len(self._last) >= _LAST_MAX:
            self._last.clear()
        self._last[memo_key] = ((st.st_size, st.st_mtime_ns, st.st_ino), access)

    def _hashed(
        self, path: str, st: os.stat_result, role: str, api_kind: str | None
    ) -> writes.Access:
        error = None
        try:
            digest, key = self.hashes.digest(path, st)
        except OSError as exc:
            # Recorded with why, never as an empty hash that would later read as "changed".
            self.hash_errors += 1
            self._warn("hash", f"could not hash {path} ({exc}); recorded with that error.")
            digest, key, error = "", stat_key(st), f"{type(exc).__name__}: {exc}"[:500]
        return writes.Access(
            uri=path,
            hash=digest,
            role=role,
            kind=kind_of(path, api_kind, role),
            size=key[0],
            hash_error=error,
        )

    def ignore(self, *paths_or_globs: str) -> None:
        """``%track ignore``: from now on noise, including files the watch vouched for."""
        self.filter.ignore(*paths_or_globs)
        self.watch.unchanged.clear()

    # -- declared by the user (``%track input/output``, log_input/log_output) -------------------
    def declare(self, path: str, role: str) -> writes.Access:
        """What capture cannot see (a file written by a subprocess); added to the running cell."""
        if "://" in path:
            uri = clean_url(canonical_url(path))
            access = writes.Access(uri=uri, hash="", role=role, kind=kind_of(uri, "dataset"))
        else:
            name = os.path.abspath(os.path.expanduser(path))
            if not os.path.exists(name):
                raise LineageError(f"{path} does not exist; declare a file that is there.")
            found = self.hashed(name, role, None)
            if found is None:
                raise LineageError(f"{path} is not a regular file; declare files, not folders.")
            access = found
        if self.active:
            self._declared.append(access)
        return access
