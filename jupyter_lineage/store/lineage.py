"""Walks of the lineage graph: the trace of one artifact version, what an execution's inputs
were, and the run-to-run edges the sidebar's graph is drawn from."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from . import artifacts as artifacts_mod
from . import dataflow
from .db import Store
from .queries import run_summaries
from .sql import chunks, marks


def _exec_nodes(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for chunk in chunks(ids):
        for r in store.query(
            "SELECT e.id, e.run_id, e.seq, e.cell_id, e.execution_count, e.started, e.duration_ms,"
            " e.error_name, e.error_value, s.text AS source FROM executions e"
            f" LEFT JOIN sources s ON s.hash = e.source_hash WHERE e.id IN ({marks(chunk)})",
            chunk,
        ):
            out[r["id"]] = {
                "id": r["id"],
                "type": "execution",
                "run_id": r["run_id"],
                "seq": r["seq"],
                "cell_id": r["cell_id"],
                "execution_count": r["execution_count"],
                "started": r["started"],
                "duration_ms": r["duration_ms"],
                "source": r["source"] or "",
                "error": (
                    {"name": r["error_name"], "value": r["error_value"]}
                    if r["error_name"]
                    else None
                ),
            }
    return out


def artifact_node(row: dict[str, Any]) -> dict[str, Any]:
    """An artifact row as a node of a trace."""
    return {
        "id": row["id"],
        "type": "artifact",
        "path": row["uri"],
        "hash": row["hash"],
        "kind": row["kind"],
        "size": row["size"],
    }


def trace(
    store: Store,
    root: dict[str, Any],
    *,
    downstream: bool = False,
    depth: int | None = None,
    whole_run: bool = False,
) -> dict[str, Any]:
    """The lineage of one artifact version (a row of ``artifacts``), as a graph of artifacts
    and executions: through dataflow (the executions linked by the names they used, and only
    the files *those* read), or with ``whole_run`` every execution before the writer."""
    if not whole_run:
        return trace_dataflow(store, root, downstream=downstream, depth=depth)
    return _trace_whole_run(store, root, downstream=downstream, depth=depth)


def trace_dataflow(
    store: Store, root: dict[str, Any], *, downstream: bool = False, depth: int | None = None
) -> dict[str, Any]:
    """Upstream: the execution that wrote this version, the executions it depends on through
    names (transitively), what those read, and recursively the writers of those inputs.
    Downstream: the executions that read it, those depending on them, what they wrote, …
    Dependency edges are ``flow`` edges (upstream execution -> dependent) with their names."""
    artifacts: dict[str, dict[str, Any]] = {root["id"]: artifact_node(root)}
    exec_ids: set[str] = set()
    edges: dict[tuple[str, str, str], list[str] | None] = {}
    seen_artifacts = {root["id"]}
    level, frontier = 0, [root["id"]]
    walk = dataflow.downstream if downstream else dataflow.upstream
    while frontier and (depth is None or level < depth):
        # one hop for the whole level: the executions at its artifacts, then one walk
        start: list[str] = []
        writers = {} if downstream else artifacts_mod.latest_writes(store, frontier)
        for art_id in frontier:
            if downstream:
                for r in artifacts_mod.readers(store, art_id):
                    edges[(art_id, r["id"], "read")] = None
                    start.append(r["id"])
            else:
                w = writers.get(art_id)
                if w is not None:
                    edges[(w["id"], art_id, "wrote")] = None
                    start.append(w["id"])
        start = [e for e in dict.fromkeys(start) if e not in exec_ids]
        if not start:
            break
        found, flow_edges = walk(store, start)
        new = sorted(found - exec_ids)
        exec_ids.update(found)
        for up, dep, names in flow_edges:
            edges[(up, dep, "next" if names == ["next"] else "flow")] = names
        frontier = []
        for r in dataflow.reads_of(store, new, "write" if downstream else "read"):
            if downstream:
                edges[(r["execution_id"], r["id"], "wrote")] = None
            else:
                edges[(r["id"], r["execution_id"], "read")] = None
            artifacts.setdefault(r["id"], artifact_node(r))
            if r["id"] not in seen_artifacts:
                seen_artifacts.add(r["id"])
                frontier.append(r["id"])
        level += 1
    return _graph(store, root, artifacts, exec_ids, edges, downstream)


def _graph(
    store: Store,
    root: dict[str, Any],
    artifacts: dict[str, dict[str, Any]],
    exec_ids: set[str],
    edges: dict[tuple[str, str, str], list[str] | None],
    downstream: bool,
) -> dict[str, Any]:
    execs = _exec_nodes(store, sorted(exec_ids))
    flows = dataflow.flows(store, sorted(exec_ids))
    for exec_id, node in execs.items():
        node["dataflow"] = flows.get(exec_id, {}).get("names")
    runs = [
        {**r, "type": "run"}
        for r in run_summaries(store, sorted({e["run_id"] for e in execs.values()}))
    ]
    return {
        "target": artifact_node(root),
        "direction": "downstream" if downstream else "upstream",
        "nodes": list(artifacts.values())
        + sorted(execs.values(), key=lambda e: (e["run_id"], e["seq"])),
        "edges": [
            {"source": a, "target": b, "type": t, **({"names": n} if n is not None else {})}
            for (a, b, t), n in sorted(edges.items())
        ],
        "runs": sorted(runs, key=lambda r: r["started"]),
    }


def _trace_whole_run(
    store: Store, root: dict[str, Any], *, downstream: bool = False, depth: int | None = None
) -> dict[str, Any]:
    """Upstream: the execution that wrote this version, every cell before it in that run, what
    they read, and recursively the runs that wrote those inputs. Downstream: the executions
    that read it, what their runs wrote from then on, and so on. ``depth`` bounds the hops
    from one artifact to the next.
    """
    artifacts: dict[str, dict[str, Any]] = {root["id"]: artifact_node(root)}
    exec_ids: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    queue: deque[tuple[str, int]] = deque([(root["id"], 0)])
    seen_artifacts = {root["id"]}
    seen_runs: dict[str, int] = {}  # run -> furthest seq already followed

    def add_artifacts(rows: list[dict[str, Any]], level: int) -> None:
        for a in rows:
            artifacts.setdefault(a["id"], artifact_node(a))
            if a["id"] not in seen_artifacts:
                seen_artifacts.add(a["id"])
                queue.append((a["id"], level))

    def follow(run_id: str, seq: int, level: int) -> None:
        """Take in the run's executions up to (upstream) or from (downstream) ``seq``, and
        what they read (upstream) or wrote (downstream)."""
        cmp, role = (">=", "write") if downstream else ("<=", "read")
        chain = [
            r[0]
            for r in store.conn.execute(
                f"SELECT id FROM executions WHERE run_id = ? AND seq {cmp} ? ORDER BY seq",
                (run_id, seq),
            )
        ]
        exec_ids.update(chain)
        edges.update((a, b, "next") for a, b in itertools.pairwise(chain))
        for chunk in chunks(chain):
            rows = store.query(
                "SELECT ac.execution_id, a.id, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind, a.size FROM accesses ac"
                " JOIN artifacts a ON a.id = ac.artifact_id"
                f" WHERE ac.role = ? AND ac.execution_id IN ({marks(chunk)})",
                (role, *chunk),
            )
            for r in rows:
                if downstream:
                    edges.add((r["execution_id"], r["id"], "wrote"))
                else:
                    edges.add((r["id"], r["execution_id"], "read"))
            add_artifacts(rows, level + 1)

    while queue:
        art_id, level = queue.popleft()
        if depth is not None and level >= depth:
            continue
        if not downstream:
            w = artifacts_mod.latest_write(store, art_id)
            if w is None:
                continue
            edges.add((w["id"], art_id, "wrote"))
            if seen_runs.get(w["run_id"], -1) < w["seq"]:
                seen_runs[w["run_id"]] = w["seq"]
                follow(w["run_id"], w["seq"], level)
        else:
            for rd in artifacts_mod.readers(store, art_id):
                edges.add((art_id, rd["id"], "read"))
                if seen_runs.get(rd["run_id"], 1 << 62) > rd["seq"]:
                    seen_runs[rd["run_id"]] = rd["seq"]
                    follow(rd["run_id"], rd["seq"], level)
    return _graph(store, root, artifacts, exec_ids, dict.fromkeys(edges), downstream)


def reads_up_to(store: Store, run_id: str, seq: int) -> list[dict[str, Any]]:
    """The file versions read by the run's executions up to position ``seq``: artifact id,
    path and hash."""
    return [
        {"artifact": art_id, "path": uri, "hash": digest}
        for art_id, uri, digest in store.conn.execute(
            "SELECT a.id, jl_here(a.uri, a.rel), a.hash FROM executions e"
            " JOIN accesses ac ON ac.execution_id = e.id AND ac.role = 'read'"
            " JOIN artifacts a ON a.id = ac.artifact_id WHERE e.run_id = ? AND e.seq <= ?",
            (run_id, seq),
        )
    ]


# -- run to run: what the sidebar's graph is drawn from ------------------------------------------


def run_accesses(store: Store, run_ids: list[str]) -> list[dict[str, Any]]:
    """Each artifact version the runs read or wrote, once per (run, role, artifact): run_id,
    role, and the artifact's id, uri, hash and kind."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(run_ids):
        rows += store.query(
            "SELECT e.run_id, ac.role, a.id, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind FROM executions e"
            " JOIN accesses ac ON ac.execution_id = e.id JOIN artifacts a"
            f" ON a.id = ac.artifact_id WHERE e.run_id IN ({marks(chunk)})"
            " GROUP BY e.run_id, ac.role, a.id",
            chunk,
        )
    return rows


def writer_runs(store: Store, artifact_ids: list[str]) -> list[str]:
    """The runs that wrote any of these artifact versions (a run once per version it wrote)."""
    out: list[str] = []
    for chunk in chunks(artifact_ids):
        out += [
            str(row[0])
            for row in store.conn.execute(
                "SELECT e.run_id FROM accesses ac JOIN executions e"
                " ON e.id = ac.execution_id WHERE ac.role = 'write'"
                f" AND ac.artifact_id IN ({marks(chunk)})",
                chunk,
            )
        ]
    return out


def cells(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's executions in order: id, seq, cell_id, execution_count, error_name, source."""
    return store.query(
        "SELECT e.id, e.seq, e.cell_id, e.execution_count, e.error_name, s.text AS source"
        " FROM executions e LEFT JOIN sources s ON s.hash = e.source_hash WHERE e.run_id = ?"
        " ORDER BY e.seq",
        (run_id,),
    )


def cell_accesses(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Every (execution_id, role, artifact_id) edge of the run's executions."""
    return store.query(
        "SELECT ac.execution_id, ac.role, ac.artifact_id FROM accesses ac JOIN executions e"
        " ON e.id = ac.execution_id WHERE e.run_id = ?",
        (run_id,),
    )
