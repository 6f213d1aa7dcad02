"""Reading a folder of 2,000 small (1 KB) files — training images — in one cell: a plain kernel
against the same kernel tracking, both running the same cell. Tracked, every open is queued by
the audit hook; on the first read each file is then hashed (one open and read of its own) and
its folder watched (inotify); an unchanged re-read is vouched for by the watch (no ``stat``)
and records the folder as one artifact (rows added per re-read counted). Each side's kernel CPU (process CPU, all threads) is read inside the kernel before and
after each phase, after the tracked kernel's pending writes are flushed: deferred work counts."""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from tests.kernel import Kernel

from .common import Result, stats

FILES = 2000
READ = (
    "import os\n"
    "pixels = [open(os.path.join({d!r}, n), 'rb').read() for n in sorted(os.listdir({d!r}))]"
)


# The floor of any first read that keeps a content hash per file: the same cell, untracked,
# plus the least a hash of each file costs (open, fstat, one read, close, BLAKE3), no records.
FLOOR = (
    READ + "\nimport blake3\n"
    "for n in sorted(os.listdir({d!r})):\n"
    "    fd = os.open(os.path.join({d!r}, n), os.O_RDONLY | os.O_CLOEXEC)\n"
    "    data = os.read(fd, os.fstat(fd).st_size + 1)\n"
    "    os.close(fd)\n"
    "    blake3.blake3(data).digest()"
)


def _folder(root: Path, name: str, n: int) -> str:
    folder = root / name
    folder.mkdir()
    for i in range(n):
        (folder / f"img{i:05}.png").write_bytes(os.urandom(1024))
    for p in folder.iterdir():  # in the page cache for both kernels alike
        p.read_bytes()
    return str(folder)


# Read inside each kernel; a cell that names the store writes what is pending first.
CPU = (
    "# lineage: write what is pending, then read this process's CPU time\n"
    "import resource as _r\n"
    "_u = _r.getrusage(_r.RUSAGE_SELF)\n"
    "print(_u.ru_utime + _u.ru_stime)"
)
SETTLE_SECONDS = 1.5  # the tracked kernel's writer thread writes what the last cells left


def _cpu(kernels: tuple[Kernel, Kernel]) -> tuple[float, float]:
    time.sleep(SETTLE_SECONDS)
    plain, tracked = (float(k.check(CPU).stdout) for k in kernels)
    return plain, tracked


def _time(kernel: Kernel, code: str) -> float:
    t = time.perf_counter()
    kernel.check(code, timeout=300)
    return time.perf_counter() - t


def _rows(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    finally:
        conn.close()


def run(quick: bool) -> list[Result]:
    firsts, rereads = (4, 20) if quick else (8, 60)
    samples: dict[str, list[float]] = {
        "plain": [],
        "tracked": [],
        "plain_1st": [],
        "tracked_1st": [],
        "floor_1st": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "l.db"
        os.environ["JUPYTER_LINEAGE_DB"] = str(db)
        plain, tracked = Kernel(tmp), Kernel(tmp)
        try:
            tracked.check("%load_ext jupyter_lineage")
            warm = _folder(root, "warm", FILES)
            for k in (plain, tracked):
                for _ in range(3):
                    _time(k, READ.format(d=warm))
            both = (plain, tracked)
            cpu0 = _cpu(both)
            for i in range(firsts):  # a folder new to the tracker each time: every file hashed
                folder = _folder(root, f"new{i}", FILES)
                samples["plain_1st"].append(_time(plain, READ.format(d=folder)))
                samples["tracked_1st"].append(_time(tracked, READ.format(d=folder)))
            cpu1 = _cpu(both)
            for i in range(firsts):  # the plain kernel again, hashing as the least tracker would
                samples["floor_1st"].append(_time(plain, FLOOR.format(d=str(root / f"new{i}"))))
            cpu_f = _cpu(both)
            floor_cpu = (cpu_f[0] - cpu1[0]) / firsts * 1000
            time.sleep(SETTLE_SECONDS)  # the CPU-reading cell's own record written too
            rows0 = _rows(db)
            for _ in range(rereads):
                samples["plain"].append(_time(plain, READ.format(d=warm)))
                samples["tracked"].append(_time(tracked, READ.format(d=warm)))
            cpu2 = _cpu(both)
            time.sleep(SETTLE_SECONDS)
            rows = (_rows(db) - rows0 - 1) / rereads  # less the CPU-reading cell's execution
        finally:
            plain.shutdown()
            tracked.shutdown()
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
    med = {k: statistics.median(v) for k, v in samples.items()}
    warm_ratio = med["tracked"] / med["plain"]
    first_ratio = med["tracked_1st"] / med["plain_1st"]
    details = {k: stats(v) for k, v in samples.items()}
    # per cell, ms: kernel CPU over each phase (its cells and what they left to the writer)
    cpu = {
        "plain_1st": (cpu1[0] - cpu0[0]) / firsts * 1000,
        "tracked_1st": (cpu1[1] - cpu0[1]) / firsts * 1000,
        "plain": (cpu2[0] - cpu_f[0]) / rereads * 1000,
        "tracked": (cpu2[1] - cpu_f[1]) / rereads * 1000,
    }
    warm_cpu = cpu["tracked"] / cpu["plain"]
    first_cpu = cpu["tracked_1st"] / cpu["plain_1st"]
    floor_ratio = med["floor_1st"] / med["plain_1st"]
    sides = {
        "plain": "plain kernel runs the cell",
        "tracked": "same cell, tracked: opens queued, vouched for by inotify, one folder record",
        "tracked_1st": "same cell, tracked: every file opened and hashed once more, the folder"
        " watched, folder and members recorded",
    }
    return [
        Result(
            f"folder of {FILES:,} x 1 KB files, unchanged re-read (ratio)",
            warm_ratio,
            "x",
            "<= 1.15x",
            warm_ratio <= 1.15,
            {
                "plain_ms": med["plain"] * 1000,
                "tracked_ms": med["tracked"] * 1000,
                "sides": f"{sides['plain']}; {sides['tracked']}",
                **details,
            },
        ),
        Result(
            f"folder of {FILES:,} x 1 KB files, unchanged re-read, kernel CPU (ratio)",
            warm_cpu,
            "x",
            "<= 1.15x",
            warm_cpu <= 1.15,
            {
                "plain_cpu_ms": cpu["plain"],
                "tracked_cpu_ms": cpu["tracked"],
                "counted": "all threads, per cell, deferred writes included",
            },
        ),
        Result(
            f"folder of {FILES:,} x 1 KB files, first read (ratio)",
            first_ratio,
            "x",
            "<= 1.5x",
            first_ratio <= 1.5,
            {
                "plain_ms": med["plain_1st"] * 1000,
                "tracked_ms": med["tracked_1st"] * 1000,
                "sides": f"{sides['plain']}; {sides['tracked_1st']}",
            },
        ),
        Result(
            f"folder of {FILES:,} x 1 KB files, first read, kernel CPU (ratio)",
            first_cpu,
            "x",
            "<= 1.5x",
            first_cpu <= 1.5,
            {
                "plain_cpu_ms": cpu["plain_1st"],
                "tracked_cpu_ms": cpu["tracked_1st"],
                "counted": "all threads, per cell, deferred writes included",
            },
        ),
        Result(
            f"folder of {FILES:,} x 1 KB files, first read: its floor (ratio)",
            floor_ratio,
            "x",
            "-",
            None,
            {
                "plain_ms": med["plain_1st"] * 1000,
                "floor_ms": med["floor_1st"] * 1000,
                "sides": "plain kernel runs the cell; the same kernel runs the cell and then, "
                "per file, os.open + os.fstat + os.read + os.close + BLAKE3 (no records): the "
                "least a content hash per file costs",
            },
        ),
        Result(
            f"folder of {FILES:,} x 1 KB files, first read: its floor, kernel CPU (ratio)",
            floor_cpu / cpu["plain_1st"],
            "x",
            "-",
            None,
            {"plain_cpu_ms": cpu["plain_1st"], "floor_cpu_ms": floor_cpu},
        ),
        Result(
            "store rows added per unchanged folder re-read",
            rows,
            "rows",
            "O(1): <= 3",
            rows <= 3,
            {"files": FILES},
        ),
    ]
