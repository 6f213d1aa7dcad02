"""Content hashes of files: BLAKE3, memory-mapped and multi-threaded for big files.

A file is identified for the cache by (path, size, mtime_ns, inode): an unchanged file costs a
``stat``, never a second read. Only regular files are ever read: a FIFO, a device or a socket
recorded under a path that once was a file is refused without blocking (opened non-blocking,
checked on the open descriptor, so nothing can swap the file in between).
"""

from __future__ import annotations

import errno
import mmap
import os
import stat

import blake3

PREFIX = "blake3:"
_MMAP_FROM = 4 * 1024 * 1024
_CHUNK = 1024 * 1024
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
NOFOLLOW_FLAGS = OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0)


class NotRegularFileError(OSError):
    """The path names a FIFO, device, socket or folder: there is no content to hash."""


def stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def hash_bytes(data: bytes) -> str:
    return PREFIX + blake3.blake3(data).digest().hex()  # hexdigest() is the slower way here


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """An fd of ``path`` opened for reading, only if it is a regular file (never blocks)."""
    fd = os.open(path, OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file", path)
        # O_NONBLOCK changes nothing for a regular file's reads: left as it is.
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _hash_fd(fd: int, size: int) -> str:
    if size >= _MMAP_FROM:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            hasher.update(mapped)
        return PREFIX + hasher.hexdigest()
    hasher = blake3.blake3()
    while chunk := os.read(fd, _CHUNK):
        hasher.update(chunk)
    return PREFIX + hasher.hexdigest()


def hash_open(fd: int, before: os.stat_result) -> str | None:
    """The hash of a file open on ``fd`` whose ``fstat`` was ``before``; None if it changed
    while being read. A small file is one ``read`` (the cheapest path: a folder of images)."""
    size = before.st_size
    if size < _CHUNK:
        data = os.read(fd, size + 1)
        if len(data) != size:
            return None
        digest = PREFIX + blake3.blake3(data).hexdigest()
    else:
        digest = _hash_fd(fd, size)
    after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (
        size,
        before.st_mtime_ns,
        before.st_ino,
    ):
        return None
    return digest


def hash_file(path: str) -> tuple[str, os.stat_result]:
    """Hash a file; retried when it changes underneath us, so the hash matches one real version.

    Raises OSError when the file cannot be read (deleted, no permission) and
    :class:`NotRegularFileError` when it is not a regular file.
    """
    for _ in range(3):
        fd, before = open_regular(path)
        try:
            digest = hash_open(fd, before)
        finally:
            os.close(fd)
        if digest is not None:
            return digest, before
    raise OSError(f"{path} kept changing while it was hashed")


TREE_PREFIX = "blake3-tree:"


def tree_text(members: list[tuple[str, str, int]] | tuple[tuple[str, str, int], ...]) -> str:
    """A folder's members, (relative name, content hash, size), as the one text its tree hash
    covers and the store keeps: ``name NUL size NUL hash LF`` per member, sorted by name."""
    return "".join([f"{name}\0{size}\0{digest}\n" for name, digest, size in sorted(members)])


def tree_digest(text: str) -> str:
    """The tree hash of a folder's ``tree_text``."""
    return TREE_PREFIX + blake3.blake3(text.encode("utf-8", "surrogateescape")).hexdigest()


def tree_hash(members: list[tuple[str, str, int]]) -> str:
    """A folder's version, as DVC hashes directories: its members' relative names, sizes and
    content hashes, sorted by name. Same files, same hash, wherever the folder is."""
    return tree_digest(tree_text(members))


def tree_files(text: str) -> int:
    """How many members a ``tree_text`` holds (a name may hold a newline, never a NUL)."""
    return text.count("\0") // 2


def tree_members(text: str) -> list[tuple[str, str, int]]:
    """A ``tree_text`` parsed back into (relative name, content hash, size), in its order.

    Split on NUL, which no file name holds: a piece between two NULs is ``hash LF name`` (the
    hash holds no newline), so a name with a newline in it comes back whole."""
    if not text:
        return []
    pieces = text[:-1].split("\0")  # without the last member's LF
    out = []
    name = pieces[0]
    for i in range(1, len(pieces) - 1, 2):
        size, rest = pieces[i], pieces[i + 1]
        digest, _, following = rest.partition("\n")
        out.append((name, digest, int(size)))
        name = following
    return out
