"""7. Cell-level dataflow: what the analysis costs per cell, and `trace` over dataflow edges.

The analysis runs in the kernel's thread at each cell end (nothing of it is deferred), so its
process CPU time here is what it adds to a kernel: the AST of a new source (cached by text, so
a re-run costs a lookup), and for a cell that may bind names its AST does not show (a magic,
``from m import *``, ``exec``, a failure part-way) the identity check of the whole namespace.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from typing import Any

from jupyter_lineage.capture.dependencies import Dataflow
from jupyter_lineage.ids import artifact_id
from jupyter_lineage.store import Store
from jupyter_lineage.tracing import trace

from .common import Result, stats, timed

CELL_20 = """import pandas as pd
from sklearn.linear_model import LogisticRegression
df = pd.read_csv(path)
df = df.dropna()
features = [c for c in df.columns if c != "label"]
X = df[features].to_numpy()
y = df["label"].to_numpy()
def score(model, X, y):
    pred = model.predict(X)
    return (pred == y).mean()
model = LogisticRegression(C=C, max_iter=200)
model.fit(X, y)
acc = score(model, X, y)
results.append({"C": C, "acc": acc})
if acc > best:
    best = acc
    best_model = model
for k, v in sorted(results[-1].items()):
    print(k, v)
summary = {"n": len(df), "acc": acc}
"""
CELL_500 = CELL_20 * 25
NAMESPACE = 1000  # names in the user namespace (IPython's _iN history included)


def _cpu_per_cell(source: str, n: int, *, cached: bool) -> list[float]:
    namespace: dict[str, Any] = {f"v{i}": object() for i in range(NAMESPACE)}
    flow = Dataflow(namespace)
    out = []
    for i in range(n):
        code = source if cached else f"{source}\n# {i}"
        namespace["x"] = object()  # one name rebound by the cell
        t = time.process_time()
        flow.execution(f"e{i}", code)
        out.append(time.process_time() - t)
    return out


CELLS = 20
STAGES = 5


def build(path: str, edges: int) -> tuple[str, str]:
    """The queries suite's pipelines (3 access edges per cell), now with dataflow: each cell
    uses the previous cell's frame and the first cell's imports. Every pipeline's cells read
    /shared/lookup*.csv, written by one shared run: the worst case, every trace crosses it."""
    runs = max(STAGES, edges // (3 * CELLS))
    names = json.dumps({"defines": ["frame"], "updates": [], "uses": ["frame", "pd"]})
    with Store(path) as store, store.write() as conn:
        shared = str(uuid.UUID(int=0))
        conn.execute(
            "INSERT INTO runs (id, kind, notebook, status, started) VALUES "
            "(?, 'papermill', '/shared/prep.ipynb', 'succeeded', '2026-01-01T00')",
            (shared,),
        )
        for c in range(7):
            uri = f"/shared/lookup{c}.csv"
            aid = artifact_id(uri, "blake3:" + uri)
            conn.execute(
                "INSERT INTO executions (id, run_id, seq, started, dataflow) VALUES (?, ?, ?, ?, ?)",
                (f"{shared}-{c}", shared, c, f"2026-01-01T00.{c:03d}", names),
            )
            conn.execute(
                "INSERT INTO artifacts (id, uri, hash, kind) VALUES (?, ?, ?, 'dataset')",
                (aid, uri, "blake3:" + uri),
            )
            conn.execute(
                "INSERT INTO accesses (execution_id, artifact_id, role) VALUES (?, ?, 'write')",
                (f"{shared}-{c}", aid),
            )
        target = ""
        for r in range(runs):
            stage, pipeline = r % STAGES, r // STAGES
            run_id = str(uuid.UUID(int=r + 1))
            conn.execute(
                "INSERT INTO runs (id, kind, notebook, status, started) VALUES "
                "(?, 'papermill', ?, 'succeeded', ?)",
                (run_id, f"/p{pipeline}/stage{stage}.ipynb", f"2026-01-01T00:{r:09d}"),
            )
            execs, arts, accs, deps = [], [], [], []
            for c in range(CELLS):
                eid = f"{run_id}-{c}"
                execs.append((eid, run_id, c, f"2026-01-01T{r:09d}.{c:03d}", names))
                if c:
                    deps.append((eid, f"{run_id}-{c - 1}", '["frame"]'))
                if c > 1:
                    deps.append((eid, f"{run_id}-0", '["pd"]'))
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
                "INSERT INTO executions (id, run_id, seq, started, dataflow)"
                " VALUES (?, ?, ?, ?, ?)",
                execs,
            )
            conn.executemany(
                "INSERT INTO dependencies (execution_id, upstream_id, names) VALUES (?, ?, ?)",
                deps,
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
    n = 50 if quick else 200
    per = {
        "trivial": _cpu_per_cell("x = 1", n, cached=False),
        "20-line": _cpu_per_cell(CELL_20, n, cached=False),
        "500-line": _cpu_per_cell(CELL_500, max(5, n // 10), cached=False),
        "20-line, re-run": _cpu_per_cell(CELL_20, n, cached=True),
        # may bind names its AST does not show: the whole namespace is compared
        "trivial with `from m import *`": _cpu_per_cell("from os.path import *", n, cached=False),
    }
    results = [
        Result(
            f"dataflow analysis CPU per cell, {name} ({NAMESPACE}-name namespace)",
            statistics.median(samples) * 1000,
            "ms",
            "<= 1 ms" if name == "trivial" else "-",
            statistics.median(samples) * 1000 <= 1.0 if name == "trivial" else None,
            stats(samples),
        )
        for name, samples in per.items()
    ]
    edges = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "flow.db")
        target, _ = build(path, edges)
        with Store(path) as store:
            n_edges = store.conn.execute("SELECT count(*) FROM accesses").fetchone()[0]
            n_deps = store.conn.execute("SELECT count(*) FROM dependencies").fetchone()[0]
            trace(store, target)  # warm the page cache, as the queries suite does
            samples = timed(lambda: trace(store, target), 30)
            graph = trace(store, target)
    ms = statistics.median(samples) * 1000
    label = f"{n_edges / 1e6:g}M access + {n_deps / 1e6:.2g}M dataflow edges"
    results += [
        Result(
            f"trace over dataflow on {label}, every pipeline reading a shared written input",
            ms,
            "ms",
            "< 50 ms",
            ms < 50,
            {"nodes_returned": len(graph["nodes"]), **stats(samples)},
        ),
    ]
    return results
