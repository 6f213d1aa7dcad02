"""Dataflow between executions: which earlier executions one depends on (through the names it
used), and the walks over those edges that trace, gather and the stale-cell check make.

An execution recorded before dataflow was captured (``dataflow`` NULL) keeps the old meaning:
it depends on every earlier execution of its run.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .db import Store
from .sql import chunks, marks


def _names(text: str | None) -> list[str]:
    return list(_parsed_names(text or ""))


@functools.lru_cache(maxsize=4096)
def _parsed_names(text: str) -> tuple[str, ...]:
    """Edges repeat the same few name lists: each is decoded once."""
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@functools.lru_cache(maxsize=4096)
def _parsed_flow(text: str) -> dict[str, Any]:
    return dict(json.loads(text))


# The closure over dependency edges is one recursive query. An execution recorded without
# dataflow (``dataflow`` NULL) keeps the whole-run meaning through its neighbour in the run
# (``next``): the one before it (upstream) or after it (downstream), one hop at a time.
_WALK = """
WITH RECURSIVE walk(id) AS (
  SELECT value FROM json_each(?1)
  UNION
  SELECT d.{far} FROM walk JOIN dependencies d ON d.{near} = walk.id{same_run}
  UNION
  SELECT n.id FROM walk JOIN executions e ON e.id = walk.id AND e.dataflow IS NULL
    JOIN executions n ON n.run_id = e.run_id AND n.seq = (
      SELECT {pick}(seq) FROM executions WHERE run_id = e.run_id AND seq {cmp} e.seq)
  LIMIT ?3
)
SELECT 'x', id, NULL, NULL FROM walk
UNION ALL
SELECT 'd', d.upstream_id, d.execution_id, d.names
  FROM walk JOIN dependencies d ON d.{near} = walk.id{same_run}
UNION ALL
SELECT 'n', {pair}, NULL FROM walk JOIN executions e ON e.id = walk.id AND e.dataflow IS NULL
  JOIN executions n ON n.run_id = e.run_id AND n.seq = (
    SELECT {pick}(seq) FROM executions WHERE run_id = e.run_id AND seq {cmp} e.seq)
"""
_SAME_RUN = " AND EXISTS (SELECT 1 FROM executions x WHERE x.id = d.{far} AND x.run_id = ?2)"
# The walk stops once it holds this many executions (SQLite ends a recursive query at its LIMIT):
# a bounded trace asks for the first few of a closure that may span most of the store.


def _walk(
    store: Store,
    start: list[str],
    *,
    up: bool,
    run_id: str | None = None,
    limit: int | None = None,
) -> tuple[set[str], list[tuple[str, str, list[str]]]]:
    near, far = ("execution_id", "upstream_id") if up else ("upstream_id", "execution_id")
    sql = _WALK.format(
        near=near,
        far=far,
        same_run=_SAME_RUN.format(far=far) if run_id is not None else "",
        pick="max" if up else "min",
        cmp="<" if up else ">",
        pair="n.id, e.id" if up else "e.id, n.id",
    )
    args = (json.dumps(start), run_id, -1 if limit is None else limit)
    seen: set[str] = set()
    edges: list[tuple[str, str, list[str]]] = []
    for kind, a, b, names in store.conn.execute(sql, args):
        if kind == "x":
            seen.add(a)
        elif kind == "d":
            edges.append((a, b, _names(names)))
        else:
            edges.append((a, b, ["next"]))
    return seen, edges


def upstream(
    store: Store, start: list[str], *, run_id: str | None = None, limit: int | None = None
) -> tuple[set[str], list[tuple[str, str, list[str]]]]:
    """Every execution ``start`` depends on through names, transitively (``start`` included),
    and the edges walked as (upstream, dependent, names); ``["next"]`` marks the whole-run
    order of an execution recorded without dataflow. ``run_id`` keeps the walk inside one run."""
    return _walk(store, start, up=True, run_id=run_id, limit=limit)


def downstream(
    store: Store, start: list[str], *, limit: int | None = None
) -> tuple[set[str], list[tuple[str, str, list[str]]]]:
    """Every execution that depends on ``start`` through names, transitively (``start``
    included), and the edges walked as (upstream, dependent, names)."""
    return _walk(store, start, up=False, limit=limit)


def reads_of(store: Store, exec_ids: list[str], role: str = "read") -> list[dict[str, Any]]:
    """The artifacts these executions read (or wrote): execution_id and the artifact's id,
    uri, hash, kind, size."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(exec_ids):
        rows += store.query(
            "SELECT ac.execution_id, a.id, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind, a.size"
            " FROM accesses ac"
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
            names = dict(_parsed_flow(text)) if text else None
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
