"""3. `trace` and `status` on a synthetic store of 1,000,000 access edges: a stage-5 output's
upstream; the worst case, everything downstream of an input every pipeline shares; and
`status` over real files on disk (every file the output's pipeline touched written out, so
status stats and hashes them as it would in a project)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import uuid

from jupyter_lineage.hashing import hash_bytes
from jupyter_lineage.ids import artifact_id
from jupyter_lineage.staleness import stale
from jupyter_lineage.store import Store
from jupyter_lineage.tracing import trace

from .common import Result, stats, timed

CELLS = 20  # executions per run
STAGES = 5  # runs chained into one pipeline (each reads the previous one's outputs)


def build(path: str, edges: int, root: str = "") -> tuple[str, str]:
    """Pipelines of STAGES runs; each cell reads 2 files and writes 1: 3 edges per cell. A
    file's recorded content is its own path (``root`` + the names below), so the files can be
    written out for real and match what the store says."""
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
                out = f"{root}/p{pipeline}/s{stage}/out{c}.parquet"
                src = (
                    f"{root}/p{pipeline}/s{stage - 1}/out{c}.parquet"
                    if stage
                    else f"{root}/p{pipeline}/raw{c}.csv"
                )
                shared = f"{root}/shared/lookup{c % 7}.csv"
                ids = {}
                for uri in (out, src, shared):
                    digest = _hash(uri)
                    ids[uri] = artifact_id(uri, digest)
                    arts.append((ids[uri], uri, digest, "dataset"))
                accs += [
                    (eid, ids[src], "read"),
                    (eid, ids[shared], "read"),
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
    return target or f"{root}/p0/s{STAGES - 1}/out{CELLS - 1}.parquet", path


_hashes: dict[str, str] = {}


def _hash(uri: str) -> str:
    digest = _hashes.get(uri)
    if digest is None:
        digest = _hashes[uri] = hash_bytes(uri.encode())
    return digest


def _write_pipeline(target: str, root: str) -> int:
    """The files of the target's pipeline and the shared inputs, on disk as recorded."""
    pipeline = target[len(root) :].split("/")[1]
    paths = [f"{root}/shared/lookup{k}.csv" for k in range(7)]
    paths += [f"{root}/{pipeline}/raw{c}.csv" for c in range(CELLS)]
    paths += [f"{root}/{pipeline}/s{s}/out{c}.parquet" for s in range(STAGES) for c in range(CELLS)]
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(path)
    return len(paths)


WORST_TIMEOUT_S = 240
_WORST = """
import sys, time
from jupyter_lineage.store import Store
from jupyter_lineage.tracing import trace
with Store(sys.argv[1]) as store:
    t = time.perf_counter()
    graph = trace(store, sys.argv[2], downstream=True, limit=None)
    print(time.perf_counter() - t, len(graph["nodes"]))
"""


def _worst_case(db: str, shared: str) -> tuple[float | None, int | None]:
    """Everything made from the shared input (``--all``): most of the store. Measured once, in
    a process of its own with a time bound (the answer is most of the graph)."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _WORST, db, shared],
            capture_output=True,
            text=True,
            check=True,
            timeout=WORST_TIMEOUT_S,
        ).stdout.split()
    except subprocess.TimeoutExpired:
        return None, None
    return float(out[0]), int(out[1])


def run(quick: bool) -> list[Result]:
    edges = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.db")
        root = os.path.join(tmp, "files")
        target, _ = build(path, edges, root)
        with Store(path) as store:
            n = store.conn.execute("SELECT count(*) FROM accesses").fetchone()[0]
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
            trace_t = timed(lambda: trace(store, target), 30)
            status_t = timed(lambda: stale(store, [target]), 30)
            graph = trace(store, target)
            shared = f"{root}/shared/lookup0.csv"  # read by a cell of every stage of every pipeline
            # what `trace --downstream` answers by default: the first 100 per level, the count
            bounded_t = timed(lambda: trace(store, shared, downstream=True), 10)
            bounded = trace(store, shared, downstream=True)
            worst_s, worst_nodes = _worst_case(path, shared)
            written = _write_pipeline(target, root)
            real_t = timed(lambda: stale(store, [target]), 30)
            [real] = stale(store, [target])
    trace_ms, status_ms = statistics.median(trace_t) * 1000, statistics.median(status_t) * 1000
    real_ms = statistics.median(real_t) * 1000
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
            f"trace --downstream of an input every pipeline shares, {label} (worst case, the "
            "default answer: first 100 cells/files per level + exact count of direct readers)",
            statistics.median(bounded_t),
            "s",
            "< 1 s",
            statistics.median(bounded_t) < 1,
            {
                "nodes_returned": len(bounded["nodes"]),
                "truncated": bounded["truncated"],
                "direct_readers": bounded["direct"]["executions"],
                "levels": len(bounded["levels"]),
                **stats(bounded_t),
            },
        ),
        Result(
            f"trace --downstream --all of that input, {label} (everything, once)",
            worst_s if worst_s is not None else WORST_TIMEOUT_S,
            "s",
            "-",
            None,
            {
                "nodes_returned": worst_nodes,
                "timed_out": worst_s is None,
                "timeout_s": WORST_TIMEOUT_S,
            },
        ),
        Result(
            f"status of one output over real files on disk, {label} (median)",
            real_ms,
            "ms",
            "< 20 ms",
            real_ms < 20,
            {"files_on_disk": written, "state": real["state"], **stats(real_t)},
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
