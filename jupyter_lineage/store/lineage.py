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


# A trace shows at most this many executions and this many artifacts per level (one
# artifact-to-artifact hop) unless asked for everything: an input every pipeline shares has
# most of the store downstream (666,641 nodes at 1M edges: ~20 s to list, unreadable).
DEFAULT_LIMIT = 100


def trace(
    store: Store,
    root: dict[str, Any],
    *,
    downstream: bool = False,
    depth: int | None = None,
    whole_run: bool = False,
    limit: int | None = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The lineage of one artifact version (a row of ``artifacts``), as a graph of artifacts
    and executions: through dataflow (the executions linked by the names they used, and only
    the files *those* read), or with ``whole_run`` every execution before the writer.
    ``limit``: at most this many executions and artifacts per level (None: all); what was
    left out is said (``truncated``, each level's ``more``), with the exact number of
    executions that read (downstream) or wrote (upstream) the root itself."""
    if not whole_run:
        graph = trace_dataflow(store, root, downstream=downstream, depth=depth, limit=limit)
    else:
        graph = _trace_whole_run(store, root, downstream=downstream, depth=depth, limit=limit)
    graph["limit"] = limit
    graph["direct"] = {
        "executions": artifacts_mod.count_accesses(
            store, root["id"], "read" if downstream else "write"
        )
    }
    graph["truncated"] = any(level["more"] for level in graph["levels"])
    return graph


def trace_dataflow(
    store: Store,
    root: dict[str, Any],
    *,
    downstream: bool = False,
    depth: int | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Upstream: the execution that wrote this version, the executions it depends on through
    names (transitively), what those read, and recursively the writers of those inputs.
    Downstream: the executions that read it, those depending on them, what they wrote, …
    Dependency edges are ``flow`` edges (upstream execution -> dependent) with their names.
    With ``limit`` each level keeps the first executions and artifacts (oldest first) and the
    walk goes on from those: every query is bounded, whatever the store's size."""
    artifacts: dict[str, dict[str, Any]] = {root["id"]: artifact_node(root)}
    exec_ids: set[str] = set()
    edges: dict[tuple[str, str, str], list[str] | None] = {}
    seen_artifacts = {root["id"]}
    level, frontier = 0, [root["id"]]
    levels: list[dict[str, Any]] = []
    walk = dataflow.downstream if downstream else dataflow.upstream
    while frontier and (depth is None or level < depth):
        # one hop for the whole level: the executions at its artifacts, then one walk
        start: list[str] = []
        more = False
        if downstream and limit is None:  # everything: one query per 500 artifacts
            for art_id, exec_id in artifacts_mod.readers_of_many(store, frontier):
                edges[(art_id, exec_id, "read")] = None
                start.append(exec_id)
        elif downstream:
            for art_id in frontier:
                room = None if limit is None else limit - len(start)
                if room is not None and room <= 0:
                    more = True
                    break
                found_readers = artifacts_mod.readers_by_id(store, art_id, room)
                more = more or found_readers.more
                for exec_id in found_readers.ids:
                    edges[(art_id, exec_id, "read")] = None
                    start.append(exec_id)
        else:
            writers = artifacts_mod.latest_writes(store, frontier)
            for art_id in frontier:
                w = writers.get(art_id)
                if w is not None:
                    edges[(w["id"], art_id, "wrote")] = None
                    start.append(w["id"])
        start = [e for e in dict.fromkeys(start) if e not in exec_ids]
        if not start:
            if more:
                levels.append({"level": level + 1, "executions": 0, "artifacts": 0, "more": True})
            break
        found, flow_edges = walk(store, start, limit=None if limit is None else limit + 1)
        if limit is not None and len(found) > limit:
            more = True  # the level's first executions: where the walk began, then the oldest
            found = set(start[:limit]) | set(sorted(found - set(start))[: limit - len(start)])
        new = sorted(found - exec_ids)
        exec_ids.update(found)
        for up, dep, names in flow_edges:
            if up in exec_ids and dep in exec_ids:
                edges[(up, dep, "next" if names == ["next"] else "flow")] = names
        frontier = []
        for r in dataflow.reads_of(store, new, "write" if downstream else "read"):
            if r["id"] not in seen_artifacts:
                if limit is not None and len(frontier) >= limit:
                    more = True
                    continue
                seen_artifacts.add(r["id"])
                frontier.append(r["id"])
            if downstream:
                edges[(r["execution_id"], r["id"], "wrote")] = None
            else:
                edges[(r["id"], r["execution_id"], "read")] = None
            artifacts.setdefault(r["id"], artifact_node(r))
        level += 1
        levels.append(
            {"level": level, "executions": len(new), "artifacts": len(frontier), "more": more}
        )
    graph = _graph(store, root, artifacts, exec_ids, edges, downstream)
    graph["levels"] = levels
    return graph


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
    store: Store,
    root: dict[str, Any],
    *,
    downstream: bool = False,
    depth: int | None = None,
    limit: int | None = DEFAULT_LIMIT,
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
    levels: dict[int, dict[str, Any]] = {}

    def at(level: int) -> dict[str, Any]:
        return levels.setdefault(
            level, {"level": level, "executions": 0, "artifacts": 0, "more": False}
        )

    def add_artifacts(rows: list[dict[str, Any]], level: int) -> None:
        for a in rows:
            if a["id"] not in seen_artifacts:
                if limit is not None and at(level)["artifacts"] >= limit:
                    at(level)["more"] = True
                    continue
                at(level)["artifacts"] += 1
                seen_artifacts.add(a["id"])
                queue.append((a["id"], level))
            artifacts.setdefault(a["id"], artifact_node(a))

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
        at(level + 1)["executions"] += len(set(chain) - exec_ids)
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
            if limit is None:
                found = artifacts_mod.readers(store, art_id)
            else:
                first = artifacts_mod.readers_by_id(store, art_id, limit)
                at(level + 1)["more"] |= first.more
                found = _positions(store, first.ids)
            for rd in found:
                edges.add((art_id, rd["id"], "read"))
                if seen_runs.get(rd["run_id"], 1 << 62) > rd["seq"]:
                    seen_runs[rd["run_id"]] = rd["seq"]
                    follow(rd["run_id"], rd["seq"], level)
    kept = set(artifacts) | exec_ids
    graph = _graph(
        store,
        root,
        artifacts,
        exec_ids,
        dict.fromkeys(e for e in edges if e[0] in kept and e[1] in kept),
        downstream,
    )
    graph["levels"] = [levels[k] for k in sorted(levels)]
    return graph


def _positions(store: Store, exec_ids: list[str]) -> list[dict[str, Any]]:
    """id, run_id and seq of these executions, by run then position."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(exec_ids):
        rows += store.query(
            f"SELECT id, run_id, seq FROM executions WHERE id IN ({marks(chunk)})", chunk
        )
    return sorted(rows, key=lambda r: (r["run_id"], r["seq"]))


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
