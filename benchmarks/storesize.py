"""8. How big the store grows: bytes per 10,000 tracked cells and per 1,000 pipeline runs, and
what `gc` gives back.

Cells go through the real capture path (an in-process tracker: journal, writer thread,
SQLite), shaped like notebook work: 50 interactive runs of a 20-cell notebook re-run 10 times,
every 5th cell reading a CSV and every 10th writing a JSON with new content. Pipeline runs are
real `jupyter lineage run`s of the 10-cell notebook of 4.; a run costs seconds, so the figure
is the growth per run measured over a few runs after the first (the environment, stored once,
is not counted again), times 1,000.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.housekeeping import gc
from jupyter_lineage.store import Store

from .common import Result
from .pipeline import _notebook

CELLS_PER_RUN = 200


def _size(db: Path) -> int:
    with Store(db) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (db, Path(f"{db}-wal")) if p.exists())


def _cells(folder: Path, runs: int) -> None:
    (folder / "data.csv").write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(200)))
    sources = [
        f"# cell {i}: a line of notebook code like the others\n"
        f"frame_{i} = transform(frame_{i - 1 if i else 0}, factor={i})\nsummary_{i} = frame_{i}.describe()"
        for i in range(20)
    ]
    for r in range(runs):
        t = Tracker(notebook=str(folder / "work.ipynb"))
        for n in range(CELLS_PER_RUN):
            i = n % 20
            t.begin_execution(sources[i], f"cell-{i}")
            if n % 5 == 0:
                (folder / "data.csv").read_text()
            if n % 10 == 0:
                (folder / f"out_{i}.json").write_text(f'{{"run": {r}, "n": {n}}}')
            t.end_execution(execution_count=n + 1)
        t.close()


def _pipeline_growth(runs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        _notebook(Path(tmp) / "nb.ipynb")
        db = Path(tmp) / "l.db"
        env = {**os.environ, "JUPYTER_LINEAGE_DB": str(db)}
        sizes = []
        for i in range(runs + 1):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "jupyter_lineage",
                    "run",
                    "nb.ipynb",
                    "-p",
                    "n",
                    str(1000 + i),
                ],
                cwd=tmp,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
            sizes.append(_size(db))
    return (sizes[-1] - sizes[0]) / runs, sizes[0]


def run(quick: bool) -> list[Result]:
    runs = 10 if quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "l.db"
        os.environ["JUPYTER_LINEAGE_DB"] = str(db)
        try:
            _cells(folder, runs)
        finally:
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
        cells = runs * CELLS_PER_RUN
        size = _size(db)
        per_10k = size * 10_000 / cells
        with Store(db) as store:
            after = gc(store, keep_last=5)
        kept = after["bytes_after"]
    per_run, first = _pipeline_growth(3 if quick else 10)
    return [
        Result(
            f"store bytes per 10,000 tracked cells (measured on {cells})",
            per_10k / 1e6,
            "MB",
            "< 20 MB",
            per_10k < 20e6,
            {"bytes": size, "cells": cells, "runs": runs},
        ),
        Result(
            "store after gc --keep-last 5 (same store)",
            kept / 1e6,
            "MB",
            "-",
            None,
            {"bytes_before": after["bytes_before"], "runs_removed": len(after["removed"])},
        ),
        Result(
            "store bytes per 1,000 pipeline runs (10-cell notebook)",
            per_run * 1000 / 1e6,
            "MB",
            "< 100 MB",
            per_run * 1000 < 100e6,
            {"bytes_per_run": round(per_run), "first_run_bytes": first},
        ),
    ]
