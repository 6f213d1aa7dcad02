"""Interpreter start-up with and without the child start-up hook (jupyter_lineage_children.pth).

Every Python process on the machine runs the hook, so an untracked one must not pay for it. Both
sides start the same interpreter with ``-S`` and add one site folder: the same folder's copy of
the hook, or nothing. A third figure: a tracked child's start-up (the marker set), what
``!python prep.py`` pays in a tracked cell.
"""

from __future__ import annotations

import os
import random
import site
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import Result

HOOK = Path(__file__).resolve().parent.parent / "jupyter_lineage" / "children.pth"


def _start(site_dir: str | None, env: dict[str, str]) -> float:
    """One interpreter start: ``-S`` plus one site folder, or (None) a normal start."""
    if site_dir is None:
        command = [sys.executable, "-c", "pass"]
    else:
        command = [sys.executable, "-S", "-c", f"import site; site.addsitedir({site_dir!r})"]
    t = time.perf_counter()
    subprocess.run(command, env=env, check=True)
    return time.perf_counter() - t


def run(quick: bool) -> list[Result]:
    rounds = 30 if quick else 120
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_LINEAGE_PARENT"}
    with tempfile.TemporaryDirectory() as tmp:
        with_hook, without = Path(tmp, "with"), Path(tmp, "without")
        with_hook.mkdir()
        without.mkdir()
        (with_hook / "jupyter_lineage_children.pth").write_text(HOOK.read_text())
        db = Path(tmp, "store", ".lineage", "lineage.db")
        tracked_env = {**env, "JUPYTER_LINEAGE_PARENT": f"exec:run:0:{db}"}
        plain: list[float] = []
        hooked: list[float] = []
        normal: list[float] = []
        tracked: list[float] = []
        # Two separate comparisons, each interleaved in a new order every round (drift hits
        # both sides alike); a tracked child's exit writes files, which would disturb the first.
        untracked_sides: list[tuple[list[float], str | None, dict[str, str]]] = [
            (plain, str(without), env),
            (hooked, str(with_hook), env),
        ]
        tracked_sides: list[tuple[list[float], str | None, dict[str, str]]] = [
            (normal, None, env),  # the installed hook, no marker: an untracked process
            (tracked, None, tracked_env),  # the installed hook sees the marker
        ]
        for sides in (untracked_sides, tracked_sides):
            for _samples, folder, side_env in sides:  # warm the page cache
                _start(folder, side_env)
            for _ in range(rounds):
                random.shuffle(sides)
                for samples, folder, side_env in sides:
                    samples.append(_start(folder, side_env))
        line_us = _hook_line_us(with_hook, env)
    base, hook = statistics.median(plain) * 1000, statistics.median(hooked) * 1000
    untracked, child = statistics.median(normal) * 1000, statistics.median(tracked) * 1000
    added = hook - base
    return [
        Result(
            "start-up hook, untracked process: running its line",
            line_us,
            "µs",
            "≤ 50 µs",
            line_us <= 50,
            {"what": "site.addpackage of the hook minus an empty .pth, in-process"},
        ),
        Result(
            "start-up hook, untracked process: whole start-up, added",
            added,
            "ms",
            "≤ 1 ms (within noise)",
            added <= 1.0,
            {"without_ms": base, "with_ms": hook, "rounds": rounds},
        ),
        Result(
            "tracked child: start-up and exit added (capture, journal, store)",
            child - untracked,
            "ms",
            "-",
            None,
            {"tracked_ms": child, "untracked_ms": untracked, "rounds": rounds},
        ),
    ]


def _hook_line_us(folder: Path, env: dict[str, str]) -> float:
    """What the hook's own line costs an untracked process: the same .pth processing with the
    hook and with an empty file (the difference is our line), median of many."""
    empty = folder.parent / "empty"
    empty.mkdir()
    (empty / "jupyter_lineage_children.pth").write_text("")
    saved = os.environ.pop("JUPYTER_LINEAGE_PARENT", None)
    try:
        samples = []
        for _ in range(2000):
            t = time.perf_counter()
            site.addpackage(str(folder), "jupyter_lineage_children.pth", set())
            t1 = time.perf_counter()
            site.addpackage(str(empty), "jupyter_lineage_children.pth", set())
            samples.append((t1 - t) - (time.perf_counter() - t1))
    finally:
        if saved is not None:
            os.environ["JUPYTER_LINEAGE_PARENT"] = saved
    return statistics.median(samples) * 1e6
