"""Ids that are the same in every store, so stores from many machines merge: time-sortable
UUIDv7s (RFC 9562) for runs and executions, content-addressed ids for artifacts."""

from __future__ import annotations

import os
import random
import threading
import time

import blake3

_lock = threading.Lock()
_last_ms = 0
_counter = 0
# Seeded once from the OS (and again in a forked child): a per-cell os.urandom is a syscall that
# releases the GIL, which inside a kernel costs far more than the bits (benchmarks/overhead.py).
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def uuid7() -> str:
    """A UUIDv7 string; ids made in one process are strictly increasing."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = _random.getrandbits(10)
        _last_ms = ms
        counter = _counter
        rand = _random.getrandbits(62)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def artifact_id(uri: str, content_hash: str) -> str:
    """Content-addressed: the same file version gets the same id in every store (merges)."""
    return blake3.blake3(f"{uri}\0{content_hash}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
