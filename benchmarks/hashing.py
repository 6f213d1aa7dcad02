"""2. Content hashing of a 1 GiB file vs a plain read and the blake3 package's best; and a
re-read of an unchanged file through the tracker (a stat, not a hash)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import blake3

from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.hashing import hash_file

from .common import Result, timed


def _plain_read(path: str) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * 1024 * 1024):
            pass


def _blake3_best(path: str) -> None:
    h = blake3.blake3(max_threads=blake3.blake3.AUTO)
    h.update_mmap(path)
    h.hexdigest()


def run(quick: bool) -> list[Result]:
    size = (256 if quick else 1024) * 1024 * 1024
    repeat = 3 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.bin")
        with open(path, "wb") as f:
            chunk = os.urandom(16 * 1024 * 1024)
            for _ in range(size // len(chunk)):
                f.write(chunk)
        _plain_read(path)  # into the page cache: we measure hashing, not the disk
        ours = timed(lambda: hash_file(path), repeat)
        best = timed(lambda: _blake3_best(path), repeat)
        plain = timed(lambda: _plain_read(path), repeat)
        gib = size / 1024**3
        ours_rate, best_rate = gib / statistics.median(ours), gib / statistics.median(best)
        plain_rate = gib / statistics.median(plain)
        ratio = ours_rate / best_rate

        os.environ["JUPYTER_LINEAGE_DB"] = os.path.join(tmp, "l.db")
        tracker = Tracker(kind="script")
        try:
            reads = []
            for _ in range(3):
                tracker.begin_execution("data = open('big.bin', 'rb').read(1)")
                t = time.perf_counter()
                with open(path, "rb") as f:
                    f.read(1)
                reads.append(time.perf_counter() - t)
                tracker.end_execution()
        finally:
            tracker.close()
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
        Path(path).unlink()
    first, again = reads[0], statistics.median(reads[1:])
    return [
        Result(
            f"hash throughput vs blake3 best ({gib:g} GiB)",
            ratio * 100,
            "%",
            ">= 85%",
            ratio >= 0.85,
            {"ours_GiBps": ours_rate, "blake3_GiBps": best_rate, "plain_read_GiBps": plain_rate},
        ),
        Result(
            "re-read of an unchanged file (tracked open)",
            again * 1000,
            "ms",
            "a stat, not a hash",
            again < first / 20,
            {"first_open_ms": first * 1000, "cached_open_ms": again * 1000},
        ),
    ]
