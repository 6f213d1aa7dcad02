"""The lineage graph as the sidebar draws it: artifacts and runs by default (so what is laid
out stays in the hundreds), one run expandable to its cells, repeated executions of a cell
folded into one node."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from ..errors import UsageError
from .db import Store
from .queries import _chunks, resolve_run

MAX_RUNS = 50


def _marks(items: list[str]) -> str:
    return ",".join("?" * len(items))


def _artifact_node(row: Any) -> dict[str, Any]:
    uri = row["uri"]
    return {
        "id": row["id"],
        "type": "artifact",
        "path": uri,
        "kind": row["kind"],
        "hash": row["hash"],
        "name": uri if "://" in uri else os.path.basename(uri),
        "stale": False,
    }


def _run_node(row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    notebook = row["notebook"] or row["kind"]
    return {
        "id": row["id"],
        "type": "run",
        "kind": row["kind"],
        "status": row["status"],
        "started": row["started"],
        "notebook": row["notebook"],
        "parameters": params,
        "label": f"{os.path.basename(notebook)} · {row['id'][:13]}",
    }


def _params(store: Store, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
    for chunk in _chunks(run_ids):
        for run_id, name, value in store.conn.execute(
            f"SELECT run_id, name, value FROM params WHERE run_id IN ({_marks(chunk)})", chunk
        ):
            out[run_id][name] = json.loads(value) if value is not None else None
    return out


def build(
    store: Store,
    *,
    notebook: str | None = None,
    run: str | None = None,
    artifact: str | None = None,
    expand: str | None = None,
    depth: int = 2,
) -> dict[str, Any]:
    """Runs of a notebook (newest ``MAX_RUNS``), one run, or the upstream of one artifact —
    plus ``depth`` hops of the runs that wrote what they read."""
    if sum(x is not None for x in (notebook, run, artifact)) != 1:
        raise UsageError("Give exactly one of notebook, run or artifact.")
    if not 0 <= depth <= 10:
        raise UsageError("depth must be between 0 and 10.")
    seeds: list[str]
    if notebook is not None:
        seeds = [
            r[0]
            for r in store.conn.execute(
                "SELECT id FROM runs WHERE notebook = ? AND kind != 'sweep'"
                " ORDER BY started DESC LIMIT ?",
                (notebook, MAX_RUNS),
            )
        ]
    elif run is not None:
        seeds = [resolve_run(store, run)]
    else:
        row = store.conn.execute(
            "SELECT e.run_id FROM accesses ac JOIN executions e ON e.id = ac.execution_id"
            " WHERE ac.artifact_id = ? AND ac.role = 'write' ORDER BY e.started DESC LIMIT 1",
            (artifact,),
        ).fetchone()
        known = store.conn.execute("SELECT 1 FROM artifacts WHERE id = ?", (artifact,)).fetchone()
        if not known:
            from ..errors import ArtifactNotFoundError

            raise ArtifactNotFoundError(f"No artifact {artifact} in this lineage database.")
        seeds = [row[0]] if row else []
    runs: set[str] = set()
    frontier = list(seeds)
    edges: set[tuple[str, str, str]] = set()
    artifacts: dict[str, dict[str, Any]] = {}
    for level in range(depth + 1):
        new = [r for r in frontier if r not in runs]
        if not new:
            break
        runs.update(new)
        read_ids: list[str] = []
        for chunk in _chunks(new):
            rows = store.query(
                "SELECT e.run_id, ac.role, a.id, a.uri, a.hash, a.kind FROM executions e"
                " JOIN accesses ac ON ac.execution_id = e.id JOIN artifacts a"
                f" ON a.id = ac.artifact_id WHERE e.run_id IN ({_marks(chunk)})"
                " GROUP BY e.run_id, ac.role, a.id",
                chunk,
            )
            for r in rows:
                artifacts.setdefault(r["id"], _artifact_node(r))
                if r["role"] == "read":
                    edges.add((r["id"], r["run_id"], "read"))
                    read_ids.append(r["id"])
                else:
                    edges.add((r["run_id"], r["id"], "wrote"))
        frontier = []
        if level < depth:
            for chunk in _chunks(sorted(set(read_ids))):
                frontier += [
                    row[1]
                    for row in store.conn.execute(
                        "SELECT ac.artifact_id, e.run_id FROM accesses ac JOIN executions e"
                        " ON e.id = ac.execution_id WHERE ac.role = 'write'"
                        f" AND ac.artifact_id IN ({_marks(chunk)})",
                        chunk,
                    )
                ]
    if artifact is not None and artifact not in artifacts:
        row = store.query("SELECT id, uri, hash, kind FROM artifacts WHERE id = ?", (artifact,))
        artifacts[artifact] = _artifact_node(row[0])
    run_rows = []
    run_ids = sorted(runs)
    for chunk in _chunks(run_ids):
        run_rows += store.query(
            f"SELECT id, kind, notebook, status, started FROM runs WHERE id IN ({_marks(chunk)})",
            chunk,
        )
    params = _params(store, run_ids)
    nodes: list[dict[str, Any]] = [_run_node(r, params[r["id"]]) for r in run_rows]
    if expand:
        expand = resolve_run(store, expand)
        if expand in runs:
            edges = _expand(store, expand, nodes, edges)
    _mark_stale(store, artifacts)
    return {
        "nodes": list(artifacts.values()) + nodes,
        "edges": [{"source": a, "target": b, "type": t} for a, b, t in sorted(edges)],
    }


def _expand(
    store: Store, run_id: str, nodes: list[dict[str, Any]], edges: set[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """Replace a run's read/wrote edges by its cells' (one node per cell, latest execution)."""
    cells: dict[str, dict[str, Any]] = {}
    exec_to_cell: dict[str, str] = {}
    for r in store.query(
        "SELECT e.id, e.seq, e.cell_id, e.execution_count, e.error_name, s.text AS source"
        " FROM executions e LEFT JOIN sources s ON s.hash = e.source_hash WHERE e.run_id = ?"
        " ORDER BY e.seq",
        (run_id,),
    ):
        key = f"{run_id}:{r['cell_id'] or r['seq']}"
        exec_to_cell[r["id"]] = key
        runs_of_cell = cells.get(key, {}).get("executions", 0) + 1
        cells[key] = {
            "id": key,
            "type": "execution",
            "run_id": run_id,
            "cell_id": r["cell_id"],
            "execution_count": r["execution_count"],
            "source": r["source"] or "",
            "error": r["error_name"],
            "executions": runs_of_cell,
        }
    kept = {e for e in edges if run_id not in (e[0], e[1])}
    for r in store.query(
        "SELECT ac.execution_id, ac.role, ac.artifact_id FROM accesses ac JOIN executions e"
        " ON e.id = ac.execution_id WHERE e.run_id = ?",
        (run_id,),
    ):
        cell = exec_to_cell[r["execution_id"]]
        kept.add(
            (r["artifact_id"], cell, "read")
            if r["role"] == "read"
            else (cell, r["artifact_id"], "wrote")
        )
    order = list(cells)
    kept.update((a, b, "next") for a, b in itertools.pairwise(order))
    kept.update((run_id, c, "contains") for c in order)
    nodes.extend(cells.values())
    return kept


def _mark_stale(store: Store, artifacts: dict[str, dict[str, Any]]) -> None:
    """Outputs whose upstream input changed on disk since they were made."""
    from ..staleness import stale

    written = {a["path"] for a in artifacts.values() if "://" not in a["path"]}
    if not written or len(written) > 300:
        return
    for item in stale(store, sorted(written)):
        if item["stale"]:
            for a in artifacts.values():
                if a["path"] == item["path"] and a["hash"] == item["hash"]:
                    a["stale"] = True
