"""3. `trace` and `status` on a synthetic store of 1,000,000 access edges."""

from __future__ import annotations

import os
import statistics
import tempfile
import uuid

from jupyter_lineage.ids import artifact_id
from jupyter_lineage.staleness import stale
from jupyter_lineage.store import Store
from jupyter_lineage.tracing import trace

from .common import Result, stats, timed

CELLS = 20  # executions per run
STAGES = 5  # runs chained into one pipeline (each reads the previous one's outputs)


def build(path: str, edges: int) -> tuple[str, str]:
    """Pipelines of STAGES runs; each cell reads 2 files and writes 1: 3 edges per cell."""
    runs = max(STAGES, edges // (3 * CELLS))
    with Store(path) as store, store.write() as conn:
        target = ""
        for r in range(runs):
            stage, pipeline = r % STAGES, r // STAGES
            run_id = str(uuid.UUID(int=r + 1))
            conn.execute(
                "INSERT INTO runs (id, kind, notebook, status, started) VALUES "
                "(?, 'papermill', ?, 'succeeded', ?)",
                (run_id, f"/p{pipeline}/stage{stage}.ipynb", f"2026-01-01T00:{r:09d}"),
            )
            execs, arts, accs = [], [], []
            for c in range(CELLS):
                eid = f"{run_id}-{c}"
                execs.append((eid, run_id, c, f"2026-01-01T{r:09d}.{c:03d}"))
                out = f"/p{pipeline}/s{stage}/out{c}.parquet"
                src = (
                    f"/p{pipeline}/s{stage - 1}/out{c}.parquet"
                    if stage
                    else f"/p{pipeline}/raw{c}.csv"
                )
                ids = {}
                for uri in (out, src, f"/shared/lookup{c % 7}.csv"):
                    ids[uri] = artifact_id(uri, "blake3:" + uri)
                    arts.append((ids[uri], uri, "blake3:" + uri, "dataset"))
                accs += [
                    (eid, ids[src], "read"),
                    (eid, ids[f"/shared/lookup{c % 7}.csv"], "read"),
                    (eid, ids[out], "write"),
                ]
                if stage == STAGES - 1 and pipeline == runs // STAGES // 2 and c == CELLS - 1:
                    target = out
            conn.executemany(
                "INSERT INTO executions (id, run_id, seq, started) VALUES (?, ?, ?, ?)", execs
            )
            conn.executemany(
                "INSERT OR IGNORE INTO artifacts (id, uri, hash, kind) VALUES (?, ?, ?, ?)", arts
            )
            conn.executemany(
                "INSERT OR IGNORE INTO accesses (execution_id, artifact_id, role) VALUES (?, ?, ?)",
                accs,
            )
    return target or f"/p0/s{STAGES - 1}/out{CELLS - 1}.parquet", path


def run(quick: bool) -> list[Result]:
    edges = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.db")
        target, _ = build(path, edges)
        with Store(path) as store:
            n = store.conn.execute("SELECT count(*) FROM accesses").fetchone()[0]
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
            trace_t = timed(lambda: trace(store, target), 30)
            status_t = timed(lambda: stale(store, [target]), 30)
            graph = trace(store, target)
    trace_ms, status_ms = statistics.median(trace_t) * 1000, statistics.median(status_t) * 1000
    label = f"{n / 1e6:g}M edges"
    return [
        Result(
            f"trace on {label} (median)",
            trace_ms,
            "ms",
            "< 20 ms",
            trace_ms < 20,
            {"edges": n, "nodes_returned": len(graph["nodes"]), **stats(trace_t)},
        ),
        Result(
            f"status of one output on {label} (median)",
            status_ms,
            "ms",
            "< 20 ms",
            status_ms < 20,
            stats(status_t),
        ),
        Result(
            f"store size on disk, {label}",
            size / 1024**2,
            "MiB",
            "-",
            None,
            {"bytes_per_edge": size / max(n, 1)},
        ),
    ]
