"""Ids that are the same in every store, so stores from many machines merge: time-sortable
UUIDv7s (RFC 9562) for runs and executions, content-addressed ids for artifacts, and run names
people can tell apart and say aloud (``brisk-otter-42``), made from the run id so whoever writes
the run first (the kernel, or its journal replayed later) gives the same name."""

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


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork(): it stays held
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_after_fork)


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


# Words for run names: short, common, harmless.
ADJECTIVES = (  # noqa: SIM905 (a sentence of words reads better than a column)
    "amber azure bold brave breezy bright brisk calm clever cosmic crisp curious dapper "
    "eager fancy fluffy gentle glad golden happy hazy humble jolly keen lively lucky merry "
    "mighty misty nimble noble olive plucky proud quick quiet rapid rosy rustic shiny silent "
    "silver snowy spry steady sunny swift tidy vivid warm witty zesty"
).split()
NOUNS = (  # noqa: SIM905 (a sentence of words reads better than a column)
    "badger beacon birch brook canyon cedar comet coral crane delta dune eagle ember falcon "
    "fern finch fjord garnet glacier harbor hawk heron island jaguar lagoon lark lemur lynx "
    "maple meadow meteor moose nebula orca otter owl panda pebble pine quartz raven reef "
    "river robin sparrow summit tiger tulip walrus willow yak zephyr"
).split()


def run_name(run_id: str, attempt: int = 0) -> str:
    """adjective-noun-NN from the run id; ``attempt`` > 0 gives the next candidates when a
    name is taken."""
    digest = blake3.blake3(f"{run_id}\0{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    adjective = ADJECTIVES[number % len(ADJECTIVES)]
    noun = NOUNS[(number // len(ADJECTIVES)) % len(NOUNS)]
    return f"{adjective}-{noun}-{(number // 7919) % 100:02d}"
