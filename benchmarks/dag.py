"""7. Pipelines across notebooks: ``repro --dry-run`` over a store of 1,000 runs, and a
``run --cache`` hit against plain papermill on the same notebook."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_lineage.hashing import hash_file
from jupyter_lineage.store import Store, writes

from .common import Result, stats, timed
from .pipeline import _notebook, _time

PIPELINES, STAGES, RUNS_PER_STAGE, CELLS = 10, 5, 20, 10  # 1,000 runs, 10,000 cells


def _stage_notebook(path: Path, i: int) -> str:
    cells = [
        {"cell_type": "code", "id": f"c{c}", "metadata": {}, "outputs": [], "source": f"x{c} = {i}"}
        for c in range(CELLS)
    ]
    text = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    path.write_text(text)
    return text


def _store(folder: Path) -> Path:
    """PIPELINES chains of STAGES notebooks (stage s reads what s-1 wrote), each notebook with
    RUNS_PER_STAGE successful runs of CELLS cells; the files on disk are the latest versions."""
    db = folder / ".lineage" / "lineage.db"
    with Store(db) as store:
        for p in range(PIPELINES):
            raw = folder / f"p{p}" / "raw.csv"
            raw.parent.mkdir(parents=True)
            raw.write_text(f"raw {p}\n")
            for s in range(STAGES):
                nb = folder / f"p{p}" / f"stage{s}.ipynb"
                text = _stage_notebook(nb, s)
                digest = writes.put_blob(store, text)
                source = raw if s == 0 else folder / f"p{p}" / f"out{s - 1}.csv"
                product = folder / f"p{p}" / f"out{s}.csv"
                for r in range(RUNS_PER_STAGE):
                    product.write_text(f"{p} {s} {r}\n")
                    run_id = writes.begin_run(
                        store,
                        kind="papermill",
                        notebook=str(nb),
                        notebook_hash=digest,
                        parameters={"seed": r},
                        cwd=str(nb.parent),
                    )
                    records = []
                    for c in range(CELLS):
                        accesses = []
                        if c == 1:
                            accesses.append(
                                writes.Access(str(source), hash_file(str(source))[0], "read")
                            )
                        if c == CELLS - 1:
                            accesses.append(
                                writes.Access(str(product), hash_file(str(product))[0], "write")
                            )
                        records.append(
                            writes.ExecutionRecord(
                                run_id=run_id,
                                seq=c,
                                source=f"x{c} = {s}",
                                started=writes.now(),
                                duration_ms=1.0,
                                accesses=accesses,
                            )
                        )
                    writes.record_executions(store, records)
                    writes.end_run(store, run_id, "succeeded")
    return db


def _dry_run(quick: bool) -> Result:
    from jupyter_lineage import api

    with tempfile.TemporaryDirectory() as tmp:
        db = _store(Path(tmp))
        first = api.repro(dry_run=True, db=str(db))
        assert first["up_to_date"] and len(first["stages"]) == PIPELINES * STAGES, first
        samples = timed(lambda: api.repro(dry_run=True, db=str(db)), 5 if quick else 20)
        # one raw input changed: its chain is stale, the answer says why
        (Path(tmp) / "p0" / "raw.csv").write_text("changed\n")
        stale = timed(lambda: api.repro(dry_run=True, db=str(db)), 5 if quick else 20)
        assert api.repro(dry_run=True, db=str(db))["stale"] == STAGES
        cli = _time(
            [sys.executable, "-m", "jupyter_lineage", "repro", "--dry-run", "--db", str(db)], tmp
        )
    s = stats(samples)
    return Result(
        f"repro --dry-run over {PIPELINES * STAGES * RUNS_PER_STAGE} runs (median, API)",
        s["median"] * 1000,
        "ms",
        "< 200 ms",
        s["median"] < 0.2,
        {
            "stages": PIPELINES * STAGES,
            "cells": PIPELINES * STAGES * RUNS_PER_STAGE * CELLS,
            "p90_ms": round(s["p90"] * 1000, 1),
            "one_chain_stale_ms": round(statistics.median(stale) * 1000, 1),
            "cli_wall_s": round(cli, 2),
        },
    )


def _cache_hit(quick: bool) -> list[Result]:
    from jupyter_lineage.pipeline.run import run_notebook

    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        _notebook(Path(tmp) / "nb.ipynb")
        db = os.path.join(tmp, "l.db")
        os.environ["JUPYTER_LINEAGE_DB"] = db
        try:
            plain_cmd = [sys.executable, "-m", "papermill", "nb.ipynb", "out.ipynb"]
            hit_cmd = [sys.executable, "-m", "jupyter_lineage", "run", "nb.ipynb", "--cache"]
            _time(hit_cmd, tmp)  # the run the others reuse
            plain, hits = [], []
            for _ in range(repeat):  # interleaved
                plain.append(_time(plain_cmd, tmp))
                hits.append(_time(hit_cmd, tmp))
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                api_hits = []
                for _ in range(repeat * 3):
                    t = time.perf_counter()
                    result = run_notebook("nb.ipynb", cache=True, db=db)
                    api_hits.append(time.perf_counter() - t)
                    assert result.cached_from, "expected a cache hit"
            finally:
                os.chdir(cwd)
        finally:
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
    hit_ms = statistics.median(api_hits) * 1000
    ratio = statistics.median(plain) / statistics.median(hits)
    return [
        Result(
            "run --cache hit (median, API: lookup + record)",
            hit_ms,
            "ms",
            "< 100 ms",
            hit_ms < 100,
            {"p90_ms": round(stats(api_hits)["p90"] * 1000, 1)},
        ),
        Result(
            "plain papermill / jupyter lineage run --cache hit (wall time, same notebook)",
            ratio,
            "x",
            "-",
            None,
            {
                "papermill_s": round(statistics.median(plain), 2),
                "cache_hit_cli_s": round(statistics.median(hits), 2),
            },
        ),
    ]


def run(quick: bool) -> list[Result]:
    return [_dry_run(quick), *_cache_hit(quick)]
