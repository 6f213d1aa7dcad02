"""The lineage graph as the sidebar draws it: artifacts and runs by default (so what is laid
out stays in the hundreds), one run expandable to its cells, repeated executions of a cell
folded into one node, outputs made from since-changed inputs marked stale.

A view-model over the store's queries (labels, basenames, stale marks), beside ``diff`` and
``staleness`` whose answers it shows; the REST API serves it to the labextension.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from .errors import ArtifactNotFoundError, UsageError
from .staleness import stale, stale_cells
from .store import Store, artifacts, dataflow, lineage, queries

MAX_RUNS = 50  # a notebook's newest runs drawn by default
MAX_STALE_CHECKS = 300  # hashing more outputs than this would make the sidebar wait
# What one graph may hold, however many hops and runs it reaches: a request's work is bounded,
# and the answer says ``truncated`` when the bound cut it.
MAX_GRAPH_RUNS = 200
MAX_GRAPH_NODES = 5000


def _artifact_node(row: dict[str, Any]) -> dict[str, Any]:
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


def _run_node(run: dict[str, Any]) -> dict[str, Any]:
    notebook = run["notebook"] or run["kind"]
    return {
        "id": run["id"],
        "type": "run",
        "kind": run["kind"],
        "status": run["status"],
        "started": run["started"],
        "notebook": run["notebook"],
        "parameters": run["parameters"],
        "name": run.get("name"),
        "label": f"{os.path.basename(notebook)} · {run.get('name') or run['id'][:13]}",
    }


def build(
    store: Store,
    *,
    notebook: str | None = None,
    run: str | None = None,
    artifact: str | None = None,
    expand: str | None = None,
    depth: int = 2,
    limit: int = MAX_RUNS,
) -> dict[str, Any]:
    """Runs of a notebook (newest ``limit``), one run, or the upstream of one artifact —
    plus ``depth`` hops of the runs that wrote what they read. ``shown`` of ``total`` counts
    the runs the graph started from, so a view can say what it left out."""
    if sum(x is not None for x in (notebook, run, artifact)) != 1:
        raise UsageError("Give exactly one of notebook, run or artifact.")
    if not 0 <= depth <= 10:
        raise UsageError("depth must be between 0 and 10.")
    if limit < 1:
        raise UsageError("limit must be 1 or more.")
    seeds: list[str]
    root: dict[str, Any] | None = None
    total = 0
    if notebook is not None:
        seeds = queries.notebook_run_ids(store, notebook, limit=limit, exclude_kind="sweep")
        total = queries.notebook_run_count(store, notebook, exclude_kind="sweep")
    elif run is not None:
        seeds = [queries.resolve_run(store, run)]
        total = 1
    elif artifact is not None:
        root = artifacts.artifact(store, artifact)
        if root is None:
            raise ArtifactNotFoundError(f"No artifact {artifact} in this lineage database.")
        writer = artifacts.latest_write(store, artifact)
        seeds = [writer["run_id"]] if writer else []
        total = len(seeds)
    runs: set[str] = set()
    frontier = list(seeds)
    edges: set[tuple[str, str, str]] = set()
    nodes_by_id: dict[str, dict[str, Any]] = {}
    truncated = False
    for level in range(depth + 1):
        new = list(dict.fromkeys(r for r in frontier if r not in runs))
        if len(runs) + len(new) > MAX_GRAPH_RUNS:
            new, truncated = new[: MAX_GRAPH_RUNS - len(runs)], True
        if not new:
            break
        runs.update(new)
        read_ids: list[str] = []
        for r in lineage.run_accesses(store, new):
            nodes_by_id.setdefault(r["id"], _artifact_node(r))
            if r["role"] == "read":
                edges.add((r["id"], r["run_id"], "read"))
                read_ids.append(r["id"])
            else:
                edges.add((r["run_id"], r["id"], "wrote"))
        frontier = lineage.writer_runs(store, sorted(set(read_ids))) if level < depth else []
    if root is not None:
        nodes_by_id.setdefault(root["id"], _artifact_node(root))
    nodes: list[dict[str, Any]] = [_run_node(r) for r in queries.run_summaries(store, sorted(runs))]
    names: dict[tuple[str, str, str], list[str]] = {}
    if expand:
        expand = queries.resolve_run(store, expand)
        if expand in runs:
            edges = _expand(store, expand, nodes, edges, names)
    _mark_stale(store, nodes_by_id)
    shown = nodes + list(nodes_by_id.values())
    if len(shown) > MAX_GRAPH_NODES:  # runs and cells first, then as many files as fit
        shown, truncated = shown[:MAX_GRAPH_NODES], True
        kept = {n["id"] for n in shown}
        edges = {e for e in edges if e[0] in kept and e[1] in kept}
    return {
        "nodes": [n for n in shown if n["type"] == "artifact"]
        + [n for n in shown if n["type"] != "artifact"],
        "edges": [
            {
                "source": a,
                "target": b,
                "type": t,
                **({"names": names[a, b, t]} if t == "flow" else {}),
            }
            for a, b, t in sorted(edges)
        ],
        "truncated": truncated,
        "shown": len(seeds),
        "total": total,
    }


def _expand(
    store: Store,
    run_id: str,
    nodes: list[dict[str, Any]],
    edges: set[tuple[str, str, str]],
    names: dict[tuple[str, str, str], list[str]],
) -> set[tuple[str, str, str]]:
    """Replace a run's read/wrote edges by its cells' (one node per cell, latest execution),
    linked cell to cell by dataflow (``flow`` edges, the variables in ``names``) — or in
    notebook order (``next``) for a run recorded without dataflow. Cells that used variables
    from a cell since re-run with changed code are marked ``stale``."""
    cells: dict[str, dict[str, Any]] = {}
    exec_to_cell: dict[str, str] = {}
    for r in lineage.cells(store, run_id):
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
            "stale": False,
        }
    kept = {e for e in edges if run_id not in (e[0], e[1])}
    for r in lineage.cell_accesses(store, run_id):
        cell = exec_to_cell[r["execution_id"]]
        kept.add(
            (r["artifact_id"], cell, "read")
            if r["role"] == "read"
            else (cell, r["artifact_id"], "wrote")
        )
    order = list(cells)
    flows = dataflow.flows(store, list(exec_to_cell))
    if any(f["names"] is None for f in flows.values()):
        kept.update((a, b, "next") for a, b in itertools.pairwise(order))
    else:
        for exec_id, flow in flows.items():
            for dep in flow["depends_on"]:
                a, b = exec_to_cell.get(dep["execution"]), exec_to_cell[exec_id]
                if a is None or a == b or dep["names"] == ["*"]:
                    continue
                link = (a, b, "flow")
                kept.add(link)
                names[link] = sorted(set(names.get(link, [])) | set(dep["names"]))
    kept.update((run_id, c, "contains") for c in order)
    notebook = next((n["notebook"] for n in nodes if n["id"] == run_id), None)
    stale_ids = {s["execution"] for s in stale_cells(store, notebook) if s["run"] == run_id}
    for exec_id, cell_key in exec_to_cell.items():
        if exec_id in stale_ids:
            cells[cell_key]["stale"] = True
    nodes.extend(cells.values())
    return kept


def _mark_stale(store: Store, nodes: dict[str, dict[str, Any]]) -> None:
    """Outputs whose upstream input changed on disk since they were made."""
    written = {a["path"] for a in nodes.values() if "://" not in a["path"]}
    if not written or len(written) > MAX_STALE_CHECKS:
        return
    for item in stale(store, sorted(written)):
        if item["stale"]:
            for a in nodes.values():
                if a["path"] == item["path"] and a["hash"] == item["hash"]:
                    a["stale"] = True
                    a["refresh"] = item.get("refresh")  # the command that makes it again
