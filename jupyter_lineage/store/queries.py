"""Runs as the tools show them: find one (id, prefix, ``@last~N``), list, show in full, sources.

Every function returns plain JSON-ready data; the CLI's ``--json``, the REST API and the
sidebar all show exactly these shapes (docs/cli.md). The parts of one run are read in
``details``; artifacts and lineage walks in ``artifacts`` and ``lineage``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import AmbiguousRunError, RunNotFoundError
from ..inputs import check_path, whole_number
from . import details, testruns
from .db import Store
from .filters import condition
from .location import relative
from .sql import chunks, marks

RUN_COLUMNS = (
    "id, kind, jl_here(notebook, notebook_rel) AS notebook, notebook_hash, status, started, ended,"
    " parent_id, user, host, cwd, error_name, error_value, failed_execution_id, environment_id,"
    " git_id, outputs_hash, cached_from, name, note"
)
# ORDER: runs are ordered as this store recorded them (rowid), never by the recording
# process's clock (``started``, and the UUIDv7 ids, come from it): a clock stepped back an hour
# must not make @last the older run. Runs merged from another store count from the merge on.
_LAST = re.compile(r"^@last(?:~(\d+))?$")


def _duration_s(started: str | None, ended: str | None) -> float | None:
    if not started or not ended:
        return None
    return round(
        (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds(), 3
    )


def _notebook_filter(notebook: str | None) -> str | None:
    if not notebook:
        return None
    return str(Path(check_path("--notebook", notebook)).expanduser().absolute())


def _of_notebook(store: Store, nb: str) -> tuple[str, list[Any]]:
    """The runs of one notebook: recorded at this path, or at this place in the project
    before it moved."""
    return "(notebook = ? OR notebook_rel = ?)", [nb, relative(nb, store.root)]


def resolve_run(store: Store, ref: str, *, notebook: str | None = None) -> str:
    """A run's name, its id or a unique id prefix, or ``@last`` / ``@last~N`` (optionally
    within one notebook)."""
    ref = ref.strip()
    nb = _notebook_filter(notebook)
    named = run_named(store, ref)
    if named is not None:
        return named
    m = _LAST.match(ref)
    if m:
        digits = m.group(1) or "0"
        # @last~N beyond what SQLite counts names no run, like any N past the oldest
        back = int(digits) if len(digits) <= 18 else None
        clause, nb_args = _of_notebook(store, nb) if nb else ("", [])
        sql = "SELECT id FROM runs" + (f" WHERE {clause}" if nb else "")
        sql += " ORDER BY rowid DESC LIMIT 1 OFFSET ?"  # see ORDER above
        row = store.conn.execute(sql, (*nb_args, back)).fetchone() if back is not None else None
        if not row:
            where = f" for {nb}" if nb else ""
            raise RunNotFoundError(
                f"There is no run {ref}{where}: `jupyter lineage runs` lists the recorded runs.",
                ref,
            )
        return str(row[0])
    if not re.fullmatch(r"[0-9a-fA-F-]{4,36}", ref):
        raise RunNotFoundError(
            f"There is no run named '{ref}'. Pass a run's name, its id or a unique prefix of "
            "one (at least 4 characters), or @last, @last~1, …; `jupyter lineage runs` lists "
            "them.",
            ref,
        )
    clause, nb_args = _of_notebook(store, nb) if nb else ("", [])
    sql = "SELECT id FROM runs WHERE id >= ? AND id < ?" + (f" AND {clause}" if nb else "")
    lo = ref.lower()
    args: tuple[Any, ...] = (lo, lo + "\U0010ffff", *nb_args)
    rows = store.conn.execute(sql + " LIMIT 6", args).fetchall()
    if not rows:
        raise RunNotFoundError(
            f"No run matches '{ref}'. `jupyter lineage runs` lists the recorded runs.", ref
        )
    if len(rows) > 1:
        ids = ", ".join(r[0] for r in rows[:5])
        raise AmbiguousRunError(f"'{ref}' matches several runs ({ids}…): give more characters.")
    return str(rows[0][0])


def run_named(store: Store, name: str) -> str | None:
    """The id of the run with this name, if any."""
    row = store.conn.execute("SELECT id FROM runs WHERE name = ?", (name,)).fetchone()
    return str(row[0]) if row else None


def name_of(store: Store, run_id: str) -> str | None:
    row = store.conn.execute("SELECT name FROM runs WHERE id = ?", (run_id,)).fetchone()
    return str(row[0]) if row and row[0] else None


def run_ids(store: Store) -> list[str]:
    """Every run, oldest first."""
    return [str(r[0]) for r in store.conn.execute("SELECT id FROM runs ORDER BY rowid")]


def notebook_run_ids(
    store: Store, notebook: str, *, limit: int, exclude_kind: str | None = None
) -> list[str]:
    """The newest ``limit`` runs of one notebook (its path as recorded), newest first."""
    clause, args = _of_notebook(store, notebook)
    return [
        str(r[0])
        for r in store.conn.execute(
            f"SELECT id FROM runs WHERE {clause} AND kind IS NOT ? ORDER BY rowid DESC LIMIT ?",
            (*args, exclude_kind, limit),
        )
    ]


def notebook_run_count(store: Store, notebook: str, *, exclude_kind: str | None = None) -> int:
    """How many runs one notebook has (what ``notebook_run_ids`` chooses the newest from)."""
    clause, args = _of_notebook(store, notebook)
    row = store.conn.execute(
        f"SELECT count(*) FROM runs WHERE {clause} AND kind IS NOT ?", (*args, exclude_kind)
    ).fetchone()
    return int(row[0])


def run_status(store: Store, run_id: str) -> str | None:
    """``running``, ``succeeded``, ``failed`` or ``interrupted``; None for an unknown run."""
    row = store.conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return str(row[0]) if row else None


def failing_execution(store: Store, run_id: str) -> tuple[str, str, str | None] | None:
    """The last execution of the run that raised: (id, error name, error value)."""
    row = store.conn.execute(
        "SELECT id, error_name, error_value FROM executions"
        " WHERE run_id = ? AND error_name IS NOT NULL ORDER BY seq DESC LIMIT 1",
        (run_id,),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def _run_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "note": row["note"],
        "kind": row["kind"],
        "notebook": row["notebook"],
        "status": row["status"],
        "started": row["started"],
        "ended": row["ended"],
        "duration_s": _duration_s(row["started"], row["ended"]),
        "parent_id": row["parent_id"],
        "cached_from": row["cached_from"],
        "user": row["user"],
        "host": row["host"],
        "error": (
            {"name": row["error_name"], "value": row["error_value"]} if row["error_name"] else None
        ),
    }


def run_summaries(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """The summary of each run (as ``runs`` lists it, without metrics), in id order."""
    rows: list[dict[str, Any]] = []
    for chunk in chunks(ids):
        rows += store.query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id IN ({marks(chunk)})", chunk)
    params = details.params(store, [r["id"] for r in rows])
    out = [{**_run_summary(r), "parameters": params[r["id"]]} for r in rows]
    return sorted(out, key=lambda r: str(r["id"]))


def list_runs(
    store: Store,
    *,
    notebook: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    parent: str | None = None,
    where: Sequence[str] = (),
    within: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Newest first, with parameters, latest metrics and execution counts; ``where`` keeps the
    runs whose latest metric or parameter meets every condition (filtered in SQL); ``within``
    keeps the runs whose notebook path starts with one of these folder prefixes."""
    if limit is not None:
        limit = whole_number("--limit", limit)
    offset = whole_number("offset", offset)
    conditions = [condition(c) for c in where]
    clauses: list[str] = []
    args: list[Any] = []
    nb = _notebook_filter(notebook)
    if nb:
        clause, nb_args = _of_notebook(store, nb)
        clauses.append(clause)
        args += nb_args
    if parent:
        clauses.append("parent_id = ?")
        args.append(parent)
    for sql_condition, values in conditions:
        clauses.append(sql_condition)
        args += values
    if within:
        clauses.append(
            "("
            + " OR ".join("substr(jl_here(notebook, notebook_rel), 1, ?) = ?" for _ in within)
            + ")"
        )
        for prefix in within:
            args += [len(prefix), prefix]
    sql = f"SELECT {RUN_COLUMNS} FROM runs"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY rowid DESC LIMIT ? OFFSET ?"
    rows = store.query(sql, (*args, -1 if limit is None else limit, offset))
    ids = [r["id"] for r in rows]
    params = details.params(store, ids)
    metrics, _ = details.metrics(store, ids)
    activity = details.execution_activity(store, ids)
    out = []
    for r in rows:
        item = _run_summary(r)
        item["parameters"] = params[r["id"]]
        item["metrics"] = metrics[r["id"]]
        item["executions"], item["errors"], item["last_cell"] = activity.get(r["id"], (0, 0, None))
        out.append(item)
    return out


def _union(
    items: list[dict[str, Any]], key: str, extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for f in [f for e in items for f in e[key]] + (extra or []):
        seen.setdefault((f["path"], f["hash"]), f)
    return sorted(seen.values(), key=lambda f: f["path"])


def show_run(
    store: Store, ref: str, *, notebook: str | None = None, files: bool = False
) -> dict[str, Any]:
    """``files``: each folder recorded as one dataset lists its member files too."""
    run_id = resolve_run(store, ref, notebook=notebook)
    row = store.query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))[0]
    out = _run_summary(row)
    metrics, history = details.metrics(store, [run_id])
    execs = details.executions(store, run_id)
    whole = details.run_files(store, run_id)
    env_changes = details.environment_changes(store, run_id)
    out.update(
        {
            "notebook_hash": row["notebook_hash"],
            "cwd": row["cwd"],
            "failed_execution_id": row["failed_execution_id"],
            "parameters": details.params(store, [run_id])[run_id],
            "metrics": metrics[run_id],
            "metric_history": history[run_id],
            "executions": execs,
            "files_read": _union(execs, "reads", whole["read"]),
            "files_written": _union(execs, "writes", whole["write"]),
            "notebook_output": next((f for f in whole["write"] if f["kind"] == "notebook"), None),
            "environment": details.environment(store, row["environment_id"]),
            "environment_changes": env_changes if len(env_changes) > 1 else [],
            "git": details.git_state(store, row["git_id"]),
            "children": [
                r[0]
                for r in store.conn.execute(
                    "SELECT id FROM runs WHERE parent_id = ? ORDER BY started", (run_id,)
                )
            ],
            "tests": testruns.cells(store, run_id),
        }
    )
    if files:
        found: list[dict[str, Any]] = [*out["files_read"], *out["files_written"]]
        found += [f for e in execs for f in (*e["reads"], *e["writes"])]
        for item in found:
            if "files" in item:
                item["members"] = details.folder_members(store, item["path"], item["hash"])
    return out


def sources(store: Store, ref: str, *, notebook: str | None = None) -> list[dict[str, Any]]:
    run_id = resolve_run(store, ref, notebook=notebook)
    return [
        {
            "seq": r["seq"],
            "cell_id": r["cell_id"],
            "execution_count": r["execution_count"],
            "source": r["source"] or "",
            "error": r["error_name"],
        }
        for r in store.query(
            "SELECT e.seq, e.cell_id, e.execution_count, e.error_name, s.text AS source"
            " FROM executions e LEFT JOIN sources s ON s.hash = e.source_hash"
            " WHERE e.run_id = ? ORDER BY e.seq",
            (run_id,),
        )
    ]


def counts(store: Store, run_id: str | None = None) -> dict[str, int]:
    """What one run recorded (``%track`` status), or the size of the whole store."""
    if run_id:
        n_exec, n_err = store.conn.execute(
            "SELECT count(*), count(error_name) FROM executions WHERE run_id = ?", (run_id,)
        ).fetchone()
        reads, writes = store.conn.execute(
            "SELECT count(DISTINCT CASE WHEN role='read' THEN artifact_id END),"
            " count(DISTINCT CASE WHEN role='write' THEN artifact_id END)"
            " FROM accesses ac JOIN executions e ON e.id = ac.execution_id WHERE e.run_id = ?",
            (run_id,),
        ).fetchone()
        return {"executions": n_exec, "errors": n_err, "reads": reads, "writes": writes}
    return {
        table: store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("runs", "executions", "artifacts", "accesses")
    }
