"""Runs as pipeline stages: the latest successful run of each notebook or script, the file
versions it read and wrote, the earlier runs a ``--cache`` may reuse, and recording a reuse.

A ``cached`` run copies its original's parameters, metrics, environment and files (as
run-level files), so every query that reads a run sees what the reused run produced.
"""

from __future__ import annotations

from typing import Any

from .db import Store, now, process_identity
from .location import here, relative
from .sql import chunks, marks
from .writes import free_name

# Runs that can stand for a stage: a sweep parent holds no work of its own.
STAGE_KINDS = ("papermill", "interactive", "script", "cached")
_RUN_LEVEL = 1 << 40  # run-level files sort after every execution of the run

_STAGE_COLUMNS = (
    "id, kind, jl_here(notebook, notebook_rel) AS notebook, notebook_hash, cwd, environment_id,"
    " started, cached_from, notebook AS recorded_notebook, notebook_rel"
)


def _here(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The working folder where it is now when the run's project has moved since (a folder
    inside the project the notebook was recorded in moves with it)."""
    for r in rows:
        recorded, rel, cwd = r.pop("recorded_notebook"), r.pop("notebook_rel"), r["cwd"]
        if not (rel and cwd and recorded.endswith("/" + rel)):
            continue
        old = recorded[: -len(rel) - 1]
        if cwd.rstrip("/") == old:
            r["cwd"] = store.root
        elif (inside := relative(cwd, old)) is not None:
            r["cwd"] = here(cwd, inside, store.root)
    return rows


def latest_successful(store: Store) -> list[dict[str, Any]]:
    """Per notebook (or script) path, its newest successful run: one row each, by path."""
    kinds = marks(list(STAGE_KINDS))
    with store.translated():
        rows = store.query(
            f"SELECT {_STAGE_COLUMNS}, max(started) AS newest FROM runs"
            f" WHERE status = 'succeeded' AND kind IN ({kinds}) AND notebook IS NOT NULL"
            " AND notebook != '' GROUP BY jl_here(notebook, notebook_rel) ORDER BY 3",
            STAGE_KINDS,
        )
    return _here(store, rows)


def file_versions(store: Store, run_ids: list[str]) -> list[dict[str, Any]]:
    """Every file version the runs read or wrote (cells' accesses and run-level files): run_id,
    role, uri, hash, kind and the position of the cell (run-level files last), in order."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(run_ids):
        if not chunk:
            continue
        m = marks(chunk)
        with store.translated():
            rows += store.query(
                "SELECT e.run_id, ac.role, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind, e.seq"
                " FROM executions e"
                " JOIN accesses ac ON ac.execution_id = e.id"
                f" JOIN artifacts a ON a.id = ac.artifact_id WHERE e.run_id IN ({m})"
                " UNION ALL SELECT rf.run_id, rf.role, jl_here(a.uri, a.rel), a.hash, a.kind, ? AS seq"
                " FROM run_files rf JOIN artifacts a ON a.id = rf.artifact_id"
                f" WHERE rf.run_id IN ({m})",
                (*chunk, _RUN_LEVEL, *chunk),
            )
    rows.sort(key=lambda r: (r["run_id"], r["seq"]))
    for r in rows:
        r["run_level"] = r["seq"] == _RUN_LEVEL
    return rows


def reusable(store: Store, notebook: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest successful executed (not cached) pipeline runs of one notebook: what a
    ``--cache`` may reuse, newest first."""
    with store.translated():
        rows = store.query(
            f"SELECT {_STAGE_COLUMNS} FROM runs WHERE (notebook = ? OR notebook_rel = ?)"
            " AND kind = 'papermill' AND status = 'succeeded' ORDER BY started DESC LIMIT ?",
            (notebook, relative(notebook, store.root), limit),
        )
    return _here(store, rows)


def record_cached(
    store: Store, original: str, run_id: str, *, parent_id: str | None = None
) -> None:
    """A run of kind ``cached`` that reuses ``original``: nothing executed, everything it
    produced (parameters, metrics, files, environment, cell outputs) attributed to it too."""
    ident = process_identity()
    stamp = now()
    with store.write() as conn:
        conn.execute(
            "INSERT INTO runs (id, kind, notebook, notebook_rel, notebook_hash, status, started,"
            " ended, environment_id, git_id, parent_id, user, host, pid, pid_start, cwd,"
            " outputs_hash, cached_from, name) SELECT ?, 'cached', notebook, notebook_rel,"
            " notebook_hash, 'succeeded', ?, ?, environment_id, git_id, ?, ?, ?, ?, ?, cwd,"
            " outputs_hash, id, ? FROM runs WHERE id = ?",
            (
                run_id,
                stamp,
                stamp,
                parent_id,
                ident["user"],
                ident["host"],
                ident["pid"],
                ident["pid_start"],
                free_name(conn, run_id),
                original,
            ),
        )
        conn.execute(
            "INSERT INTO run_environments (run_id, seq, environment_id) SELECT ?, 0,"
            " environment_id FROM runs WHERE id = ? AND environment_id IS NOT NULL",
            (run_id, original),
        )
        conn.execute(
            "INSERT INTO params (run_id, name, value) SELECT ?, name, value FROM params"
            " WHERE run_id = ?",
            (run_id, original),
        )
        conn.execute(
            "INSERT INTO metrics (run_id, name, step, value, recorded) SELECT ?, name, step,"
            " value, recorded FROM metrics WHERE run_id = ?",
            (run_id, original),
        )
        conn.execute(
            "INSERT OR IGNORE INTO run_files (run_id, artifact_id, role)"
            " SELECT ?, ac.artifact_id, ac.role FROM accesses ac JOIN executions e"
            " ON e.id = ac.execution_id WHERE e.run_id = ?"
            " UNION SELECT ?, artifact_id, role FROM run_files WHERE run_id = ?",
            (run_id, original, run_id, original),
        )
