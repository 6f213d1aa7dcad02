"""Reads a REST server bounded to one folder needs: which notebook each run belongs to, and
which files runs under that folder wrote (newest first, bounded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .db import Store
from .sql import chunks, marks


def run_notebooks(store: Store, run_ids: Sequence[str]) -> dict[str, str | None]:
    """Each run's notebook path."""
    out: dict[str, str | None] = {}
    for chunk in chunks(sorted(set(run_ids))):
        for run_id, notebook in store.conn.execute(
            f"SELECT id, jl_here(notebook, notebook_rel) FROM runs WHERE id IN ({marks(chunk)})",
            chunk,
        ):
            out[run_id] = notebook
    return out


def written_paths(store: Store, *, within: Sequence[str] = (), limit: int = 500) -> list[str]:
    """Files (not URLs) written by runs whose notebook starts with one of ``within``, most
    recently written first: what ``status`` checks when it must stay bounded."""
    args: list[Any] = []
    sql = (
        "SELECT jl_here(a.uri, a.rel) AS path, MAX(e.started) AS last FROM artifacts a"
        " JOIN accesses ac ON ac.artifact_id = a.id AND ac.role = 'write'"
        " JOIN executions e ON e.id = ac.execution_id JOIN runs r ON r.id = e.run_id"
        " WHERE a.uri NOT LIKE '%://%'"
    )
    if within:
        sql += (
            " AND ("
            + " OR ".join("substr(jl_here(r.notebook, r.notebook_rel), 1, ?) = ?" for _ in within)
            + ")"
        )
        for prefix in within:
            args += [len(prefix), prefix]
    sql += " GROUP BY path ORDER BY last DESC LIMIT ?"
    return [row[0] for row in store.conn.execute(sql, (*args, limit))]
