"""Content hashes of the files cells read, by ``(path, size, mtime_ns, inode)``: memory first,
then the store's persisted cache (big files only), then the file itself.

Looked up on the per-cell hot path: a small file is hashed from one open and one read, as fast
as its hash would be looked up in the store; the store is read through a connection of its own
(never the writer's, never behind a lock held across SQLite waits).
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections import deque
from pathlib import Path

from ..errors import StoreError
from ..hashing import (
    NOFOLLOW_FLAGS,
    OPEN_FLAGS,
    NotRegularFileError,
    hash_bytes,
    hash_file,
    hash_open,
    stat_key,
)
from ..store import writes
from ..store.db import Store
from . import hook

Key = tuple[int, int, int]  # (size, mtime_ns, inode)
_SMALL_FILE = 64 * 1024  # below this, hashing costs no more than a look-up in the store


class HashCache:
    """Content hashes by ``(path, size, mtime_ns, inode)``: memory, then the store's cache, then
    the file itself. New hashes wait in :attr:`new` for the writer to persist them."""

    def __init__(self) -> None:
        self.memory: dict[str, tuple[Key, str]] = {}  # path -> the version hashed last
        self.new: deque[tuple[str, int, int, int, str]] = deque()
        self._reader: Store | None = None
        self._inherited: Store | None = None
        self._reader_lock = threading.Lock()  # held for one SELECT that never waits on a lock
        self._closed = False

    def open_reader(self, db_path: Path) -> None:
        """Called by the writer once the store exists (off the hot path)."""
        if self._closed:
            return
        try:
            reader = Store(db_path, readonly=True, busy_ms=0)
        except Exception:
            return  # no persisted cache: files are hashed, nothing else changes
        with self._reader_lock:
            if self._closed:
                old = reader
            else:
                old, self._reader = self._reader, reader
        if old is not None:
            old.close()

    def forget_reader(self) -> None:
        """In a forked child: the parent's SQLite connection is never used, nor closed, here."""
        self._inherited = self._reader
        self._reader = None
        self._reader_lock = threading.Lock()
        self.new.clear()  # the parent persists its own

    def close(self) -> None:
        with self._reader_lock:
            self._closed = True
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def digest(self, path: str, st: os.stat_result) -> tuple[str, Key]:
        """The hash of the version ``st`` describes; raises OSError if it cannot be read."""
        key = stat_key(st)
        cached = self.memory.get(path)
        if cached is not None and cached[0] == key:
            return cached[1], key
        # A small file is hashed as fast as its hash is looked up in the store: it is hashed,
        # and its hash kept in memory only (a folder of 2,000 images adds no cache rows).
        small = st.st_size < _SMALL_FILE
        digest = None if small else self._stored(path, key)
        if digest is None:
            with hook.ours():  # the hasher's own open() is not the user's
                digest, st = hash_file(path)
            key = stat_key(st)
            if not small:
                self.new.append((path, *key, digest))
        self.memory[path] = (key, digest)
        return digest, key

    def fresh(self, path: str) -> tuple[str, Key, bool]:
        """The hash of a file not in memory: opened once, hashed from that descriptor (a small
        one in one read: a folder of 2,000 images is 2,000 of these). Third: it was opened
        without following a symlink and has one link, so a change to it is reported to its own
        folder (capture/watch.py). The caller remembers it (in :attr:`memory` or the watch).
        Raises OSError as :func:`hash_file` does."""
        try:
            fd = os.open(path, NOFOLLOW_FLAGS)
            plain = True
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            fd = os.open(path, OPEN_FLAGS)  # a symlink: its target's folder is not watched
            plain = False
        digest: str | None = None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFileError(errno.EINVAL, "not a regular file", path)
            key = (st.st_size, st.st_mtime_ns, st.st_ino)
            if key[0] < _SMALL_FILE:
                # one read: the version fstat described unless its size changed meanwhile (a
                # second fstat would miss a same-size rewrite within one clock tick just the same)
                data = os.read(fd, key[0] + 1)
                if len(data) == key[0]:
                    digest = hash_bytes(data)
            else:
                digest = self._stored(path, key)
                if digest is None:
                    digest = hash_open(fd, st)
                    if digest is not None:
                        self.new.append((path, *key, digest))
        finally:
            os.close(fd)
        if digest is None:  # it changed while being read: hashed again until it holds still
            digest, st = hash_file(path)
            key = stat_key(st)
        return digest, key, plain and st.st_nlink == 1

    def known(self, path: str) -> bool:
        """Hashed before in this process (a version of it is remembered)."""
        return path in self.memory

    def remembered(self, path: str) -> tuple[Key, str] | None:
        return self.memory.get(path)

    def _stored(self, path: str, key: Key) -> str | None:
        reader = self._reader
        if reader is None:
            return None
        with self._reader_lock, hook.ours():
            try:
                return writes.cached_hash(reader, path, *key)
            except StoreError:
                return None  # busy, or the store went away: hash the file instead
