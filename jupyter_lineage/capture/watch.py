"""Change notification for files a cell reads again: inotify, so an unchanged re-read costs no
``stat``.

A folder of 2,000 training images read every epoch is 2,000 ``stat`` calls per cell to learn
that nothing changed. Instead, the folder a file was hashed in is watched (one inotify watch
per folder, added *before* the file is hashed), and the file's record is kept in
:attr:`Watcher.unchanged` until the kernel reports a change to it: written, truncated,
touched, renamed, removed or replaced. Events are read (one non-blocking ``read``) each time
the queued reads are looked at; a folder's own identity is checked once per look (a ``stat``
of the folder), so a renamed or re-pointed parent is seen too.

What inotify cannot see is never trusted to it: only local filesystems (ext4, XFS, Btrfs,
tmpfs, overlay, ZFS, F2FS — not NFS, SMB, FUSE or 9p, where another machine may write),
only files opened without following a symlink and with one link (a write through another
name is reported to that name's folder). Writes through a shared memory map are not reported
by Linux either (docs/capture.md says so); ``JUPYTER_LINEAGE_WATCH=0`` turns watching off and
every re-read is checked with a ``stat``. Anything else that goes wrong (no inotify, the
per-user limits reached, a queue overflow) falls back to the ``stat`` for what it concerns.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import struct
import sys
import weakref
from typing import Any

_ENABLED = os.environ.get("JUPYTER_LINEAGE_WATCH", "1").strip().lower() not in ("0", "false", "no")

# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_UNMOUNT, _IN_Q_OVERFLOW, _IN_IGNORED = (
    0x400,
    0x800,
    0x2000,
    0x4000,
    0x8000,
)
_IN_ONLYDIR = 0x01000000
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
)
_FOLDER_GONE = _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_UNMOUNT | _IN_IGNORED
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, getattr(os, "O_CLOEXEC", 0o2000000)
_EVENT = struct.Struct("iIII")

# statfs f_type of filesystems where every write goes through this kernel (linux/magic.h)
_LOCAL = frozenset(
    {
        0xEF53,  # ext2/3/4
        0x58465342,  # XFS
        0x9123683E,  # Btrfs
        0x01021994,  # tmpfs
        0x858458F6,  # ramfs
        0x794C7630,  # overlay
        0x2FC12FC1,  # ZFS
        0xF2F52010,  # F2FS
        0xCA451A4E,  # bcachefs
        0x3153464A,  # JFS
        0x52654973,  # ReiserFS
    }
)
# Inotify instances and watches are per-user limits other tools (editors, file servers) share:
# a folder is watched only once a few of its files were read (a notebook reading three CSVs
# takes none), a child process never watches, and one process takes at most an eighth of the
# user's watches.
WATCH_FROM = 8  # files of one folder hashed before it is watched (the first are stat'ed once)
MAX_FOLDERS = 4096

_libc: Any = None
_watchers: weakref.WeakSet[Watcher] = weakref.WeakSet()
_fork_hook = False


def _load_libc() -> Any:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library python itself links
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.statfs.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        _libc = libc
    return _libc


def _local_filesystem(libc: Any, folder: bytes) -> bool:
    buf = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    if libc.statfs(folder, buf) != 0:
        return False
    return ctypes.c_long.from_buffer(buf).value & 0xFFFFFFFF in _LOCAL


def _user_watches() -> int:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 8192  # the old kernels' default


def _after_fork() -> None:
    for watcher in list(_watchers):
        watcher.forget()


class Watcher:
    """The folders this process watches and the records inotify vouches for.

    :attr:`unchanged` maps a file's absolute name to ``(folder, record)``: the record stays
    true while no event names the file and its folder is still the one watched. A file an
    event named goes to :attr:`changed`: hashed again even if a ``stat`` says the same."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.unchanged: dict[str, tuple[str, Any]] = {}
        self.changed: set[str] = set()
        self._fd = -1
        self._off = not (enabled and _ENABLED and sys.platform.startswith("linux"))
        self._folders: dict[str, tuple[int, int, int] | None] = {}  # -> (wd, st_dev, st_ino)
        self._counts: dict[str, int] = {}  # files of a folder not watched yet, hashed so far
        self._by_wd: dict[int, str] = {}
        self._max = MAX_FOLDERS

    @property
    def watched(self) -> int:
        """How many folders this process watches (each one inotify watch, one instance in all)."""
        return len(self._by_wd)

    def watching(self, folder: str) -> bool:
        """``folder`` is watched already (no new watch is added)."""
        return self._folders.get(folder) is not None

    def folder(self, folder: str) -> bool:
        """Watch ``folder`` (absolute, no trailing "/") if it can be trusted to inotify, once
        this is the ``WATCH_FROM``-th file of it hashed; True when it is watched. Call before
        hashing a file in it, never after."""
        if folder in self._folders:
            return self._folders[folder] is not None
        if self._off or len(self._folders) >= self._max:
            return False
        counts = self._counts
        seen = counts.get(folder, 0) + 1
        if seen < WATCH_FROM:
            if len(counts) > 10_000:
                counts.clear()
            counts[folder] = seen
            return False
        counts.pop(folder, None)
        found = None
        try:
            found = self._add(folder)
        except Exception:
            found = None
        self._folders[folder] = found
        return found is not None

    def _add(self, folder: str) -> tuple[int, int, int] | None:
        libc = _load_libc()
        if self._fd < 0:
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd < 0:  # EMFILE: the user's 128 inotify instances are taken
                self._off = True
                return None
            self._fd = fd
            self._max = min(MAX_FOLDERS, _user_watches() // 8)
            _watch_forks(self)
        name = os.fsencode(folder)
        if not _local_filesystem(libc, name):
            return None
        st = os.stat(folder)
        wd = libc.inotify_add_watch(self._fd, name, _MASK)
        if wd < 0:
            if ctypes.get_errno() == errno.ENOSPC:  # the user's watch limit
                self._off = True
            return None
        if wd in self._by_wd:  # the same folder under another name: events name only one
            return None
        if os.stat(folder).st_ino != st.st_ino:  # replaced while the watch was added
            libc.inotify_rm_watch(self._fd, wd)
            return None
        self._by_wd[wd] = folder
        return (wd, st.st_dev, st.st_ino)

    def drain(self) -> None:
        """Forget the records of what the kernel reported changed since the last call."""
        fd = self._fd
        if fd < 0:
            return
        unchanged = self.unchanged
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                self._lost()
                return
            if not data:
                return
            offset, size = 0, len(data)
            while offset < size:
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                if mask & _IN_Q_OVERFLOW:
                    unchanged.clear()  # some events were lost: trust none of it
                elif mask & _FOLDER_GONE:
                    self._gone(wd)
                else:
                    folder = self._by_wd.get(wd)
                    if folder is not None:
                        raw = data[offset : offset + length].rstrip(b"\0")
                        name = folder + "/" + os.fsdecode(raw)
                        if unchanged.pop(name, None) is not None:
                            self.changed.add(name)
                offset += length

    def _gone(self, wd: int) -> None:
        folder = self._by_wd.get(wd)
        if folder is not None:
            self._drop(folder)

    def _drop(self, folder: str) -> None:
        """The watched folder is no longer what its path leads to: nothing in it is vouched
        for, and it is watched again (counted afresh) when files there are hashed again."""
        found = self._folders.pop(folder, None)
        for name in [n for n, (f, _) in self.unchanged.items() if f == folder]:
            del self.unchanged[name]
        if found is None:
            return
        self._by_wd.pop(found[0], None)
        if self._fd >= 0:  # moved away: its watch goes (already gone when deleted)
            with contextlib.suppress(Exception):
                _load_libc().inotify_rm_watch(self._fd, found[0])

    def still(self, folder: str) -> bool:
        """The folder's path still leads to the folder watched (a parent renamed or a link
        re-pointed leads elsewhere; then its watch is dropped): one ``stat``, once per folder
        per look."""
        found = self._folders.get(folder)
        if found is None:
            return False
        try:
            st = os.stat(folder)
            same = (st.st_dev, st.st_ino) == found[1:]
        except OSError:
            same = False
        if not same:
            self._drop(folder)
        return same

    def _lost(self) -> None:
        self.unchanged.clear()
        self.close()
        self._off = True

    def forget(self) -> None:
        """In a forked child: the parent's inotify instance is the parent's to read (a read
        here would take its events away); the child checks with ``stat``."""
        self.unchanged.clear()
        self.changed.clear()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = -1
        self._folders.clear()
        self._by_wd.clear()
        self._off = True

    def close(self) -> None:
        self.unchanged.clear()
        self._folders.clear()
        self._by_wd.clear()
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def _watch_forks(watcher: Watcher) -> None:
    global _fork_hook
    _watchers.add(watcher)
    if not _fork_hook:
        os.register_at_fork(after_in_child=_after_fork)
        _fork_hook = True
