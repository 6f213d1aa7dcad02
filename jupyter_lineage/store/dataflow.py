"""Dataflow between executions: which earlier executions one depends on (through the names it
used), and the walks over those edges that trace, gather and the stale-cell check make.

An execution recorded before dataflow was captured (``dataflow`` NULL) keeps the old meaning:
it depends on every earlier execution of its run.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from .db import Store
from .sql import chunks, marks


def _names(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def upstream(
    store: Store, start: list[str], *, run_id: str | None = None
) -> tuple[set[str], list[tuple[str, str, list[str]]]]:
    """Every execution ``start`` depends on through names, transitively (``start`` included),
    and the edges walked as (upstream, dependent, names); ``"next"`` names mark the whole-run
    order of an execution recorded without dataflow. ``run_id`` keeps the walk inside one run."""
    seen = set(start)
    edges: list[tuple[str, str, list[str]]] = []
    covered: dict[str, int] = {}  # run -> furthest seq whose whole-run chain is taken in
    frontier = list(start)
    while frontier:
        found: list[str] = []
        for chunk in chunks(frontier):
            rows = store.conn.execute(
                "SELECT e.id, e.run_id, e.seq, e.dataflow IS NULL, d.upstream_id, d.names"
                " FROM executions e LEFT JOIN dependencies d ON d.execution_id = e.id"
                f" WHERE e.id IN ({marks(chunk)})",
                chunk,
            ).fetchall()
            for exec_id, run, seq, legacy, up, names in rows:
                if legacy:
                    if covered.get(run, -1) >= seq:
                        continue  # a later execution of the run already took in this one
                    covered[run] = seq
                    chain = [
                        str(r[0])
                        for r in store.conn.execute(
                            "SELECT id FROM executions WHERE run_id = ? AND seq <= ? ORDER BY seq",
                            (run, seq),
                        )
                    ]
                    edges += [(a, b, ["next"]) for a, b in itertools.pairwise(chain)]
                    for before in chain:
                        if before not in seen:
                            seen.add(before)
                            found.append(before)
                    continue
                if up is None:
                    continue
                edges.append((up, exec_id, _names(names)))
                if up not in seen:
                    seen.add(up)
                    found.append(up)
        if run_id is not None and found:
            found = _in_run(store, found, run_id, seen)
        frontier = found
    return seen, _unique(edges)


def _unique(edges: list[tuple[str, str, list[str]]]) -> list[tuple[str, str, list[str]]]:
    return list({(a, b): (a, b, names) for a, b, names in edges}.values())


def _in_run(store: Store, ids: list[str], run_id: str, seen: set[str]) -> list[str]:
    keep: list[str] = []
    for chunk in chunks(ids):
        keep += [
            str(r[0])
            for r in store.conn.execute(
                f"SELECT id FROM executions WHERE id IN ({marks(chunk)}) AND run_id = ?",
                (*chunk, run_id),
            )
        ]
    seen.difference_update(set(ids) - set(keep))
    return keep


def downstream(store: Store, start: list[str]) -> tuple[set[str], list[tuple[str, str, list[str]]]]:
    """Every execution that depends on ``start`` through names, transitively (``start``
    included), and the edges walked as (upstream, dependent, names)."""
    seen = set(start)
    edges: list[tuple[str, str, list[str]]] = []
    frontier = list(start)
    while frontier:
        found: list[str] = []
        for chunk in chunks(frontier):
            rows = store.conn.execute(
                "SELECT d.upstream_id, d.execution_id, d.names FROM dependencies d"
                f" WHERE d.upstream_id IN ({marks(chunk)})",
                chunk,
            ).fetchall()
            # executions recorded without dataflow: everything after them in their run
            rows += [
                (up, later, json.dumps(["next"]))
                for up, later in store.conn.execute(
                    "SELECT e.id, l.id FROM executions e JOIN executions l"
                    " ON l.run_id = e.run_id AND l.seq > e.seq"
                    f" WHERE e.id IN ({marks(chunk)}) AND e.dataflow IS NULL",
                    chunk,
                )
            ]
            for up, dependent, names in rows:
                edges.append((up, dependent, _names(names)))
                if dependent not in seen:
                    seen.add(dependent)
                    found.append(dependent)
        frontier = found
    return seen, _unique(edges)


def reads_of(store: Store, exec_ids: list[str], role: str = "read") -> list[dict[str, Any]]:
    """The artifacts these executions read (or wrote): execution_id and the artifact's id,
    uri, hash, kind, size."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(exec_ids):
        rows += store.query(
            "SELECT ac.execution_id, a.id, a.uri, a.hash, a.kind, a.size FROM accesses ac"
            " JOIN artifacts a ON a.id = ac.artifact_id"
            f" WHERE ac.role = ? AND ac.execution_id IN ({marks(chunk)})",
            (role, *chunk),
        )
    return rows


def flows(store: Store, exec_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per execution: what it defined, updated, used and deleted (None when not recorded) and
    the executions it depends on, each with the linking names."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in chunks(exec_ids):
        for exec_id, text in store.conn.execute(
            f"SELECT id, dataflow FROM executions WHERE id IN ({marks(chunk)})", chunk
        ):
            names = json.loads(text) if text else None
            out[exec_id] = {"names": names, "depends_on": []}
        for exec_id, up, names in store.conn.execute(
            "SELECT execution_id, upstream_id, names FROM dependencies"
            f" WHERE execution_id IN ({marks(chunk)}) ORDER BY upstream_id",
            chunk,
        ):
            out[exec_id]["depends_on"].append({"execution": up, "names": _names(names)})
    return out


def writers_in_run(store: Store, artifact_ids: list[str], run_id: str) -> list[str]:
    """The executions of ``run_id`` that wrote any of these artifact versions."""
    out: list[str] = []
    for chunk in chunks(artifact_ids):
        out += [
            str(r[0])
            for r in store.conn.execute(
                "SELECT DISTINCT e.id FROM accesses ac JOIN executions e ON e.id = ac.execution_id"
                f" WHERE ac.role = 'write' AND ac.artifact_id IN ({marks(chunk)}) AND e.run_id = ?",
                (*chunk, run_id),
            )
        ]
    return out


def cell_history(store: Store, notebook: str | None = None) -> list[dict[str, Any]]:
    """Every execution that has a cell id, oldest first: id, run_id, notebook, cell_id,
    execution_count, source_hash (of ``notebook``'s runs, else of all)."""
    where = " AND r.notebook = ?" if notebook else ""
    return store.query(
        "SELECT e.id, e.run_id, r.notebook, e.cell_id, e.execution_count, e.source_hash"
        " FROM executions e JOIN runs r ON r.id = e.run_id"
        f" WHERE e.cell_id IS NOT NULL{where} ORDER BY e.started, e.seq",
        (notebook,) if notebook else (),
    )
