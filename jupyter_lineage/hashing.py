"""Content hashes of files: BLAKE3, memory-mapped and multi-threaded for big files.

A file is identified for the cache by (path, size, mtime_ns, inode): an unchanged file costs a
``stat``, never a second read.
"""

from __future__ import annotations

import os

import blake3

PREFIX = "blake3:"
_MMAP_FROM = 4 * 1024 * 1024
_CHUNK = 1024 * 1024


def stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def hash_bytes(data: bytes) -> str:
    return PREFIX + blake3.blake3(data).hexdigest()


def hash_file(path: str) -> tuple[str, os.stat_result]:
    """Hash a file; retried when it changes underneath us, so the hash matches one real version.

    Raises OSError when the file cannot be read (deleted, no permission).
    """
    for _ in range(3):
        before = os.stat(path)
        if before.st_size >= _MMAP_FROM:
            hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
            hasher.update_mmap(path)
        else:
            hasher = blake3.blake3()
            with open(path, "rb", buffering=0) as f:
                while chunk := f.read(_CHUNK):
                    hasher.update(chunk)
        after = os.stat(path)
        if stat_key(before) == stat_key(after):
            return PREFIX + hasher.hexdigest(), after
    raise OSError(f"{path} kept changing while it was hashed")
