"""Reading the lineage graph: runs, one run in full, sources, and lineage traces.

Every function returns plain JSON-ready data; the CLI's ``--json``, the REST API and the
sidebar all show exactly these shapes (docs/cli.md).
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AmbiguousRunError, ArtifactNotFoundError, RunNotFoundError, UsageError
from .db import Store
from .filters import condition

RUN_COLUMNS = (
    "id, kind, notebook, notebook_hash, status, started, ended, parent_id, user, host, cwd,"
    " error_name, error_value, failed_execution_id, environment_id, git_id, outputs_hash"
)
_LAST = re.compile(r"^@last(?:~(\d+))?$")


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _duration_s(started: str | None, ended: str | None) -> float | None:
    from datetime import datetime

    if not started or not ended:
        return None
    return round(
        (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds(), 3
    )


def _notebook_filter(notebook: str | None) -> str | None:
    return str(Path(notebook).expanduser().absolute()) if notebook else None


def resolve_run(store: Store, ref: str, *, notebook: str | None = None) -> str:
    """An id, a unique id prefix, or ``@last`` / ``@last~N`` (optionally within one notebook)."""
    ref = ref.strip()
    nb = _notebook_filter(notebook)
    m = _LAST.match(ref)
    if m:
        back = int(m.group(1) or 0)
        sql = "SELECT id FROM runs" + (" WHERE notebook = ?" if nb else "")
        sql += " ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?"
        row = store.conn.execute(sql, (nb, back) if nb else (back,)).fetchone()
        if not row:
            where = f" for {nb}" if nb else ""
            raise RunNotFoundError(
                f"There is no run {ref}{where}: `jupyter lineage runs` lists the recorded runs.",
                ref,
            )
        return str(row[0])
    if not re.fullmatch(r"[0-9a-fA-F-]{4,36}", ref):
        raise RunNotFoundError(
            f"'{ref}' is not a run id. Pass an id or a unique prefix of one (at least 4 "
            "characters) or @last, @last~1, …; `jupyter lineage runs` lists them.",
            ref,
        )
    sql = "SELECT id FROM runs WHERE id >= ? AND id < ?" + (" AND notebook = ?" if nb else "")
    lo = ref.lower()
    args: tuple[Any, ...] = (lo, lo + "\U0010ffff") + ((nb,) if nb else ())
    rows = store.conn.execute(sql + " LIMIT 6", args).fetchall()
    if not rows:
        raise RunNotFoundError(
            f"No run matches '{ref}'. `jupyter lineage runs` lists the recorded runs.", ref
        )
    if len(rows) > 1:
        ids = ", ".join(r[0] for r in rows[:5])
        raise AmbiguousRunError(f"'{ref}' matches several runs ({ids}…): give more characters.")
    return str(rows[0][0])


def _params(store: Store, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
    for chunk in _chunks(run_ids):
        marks = ",".join("?" * len(chunk))
        for row in store.conn.execute(
            f"SELECT run_id, name, value FROM params WHERE run_id IN ({marks}) ORDER BY name", chunk
        ):
            out[row[0]][row[1]] = _loads(row[2])
    return out


def _metrics(store: Store, run_ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
    history: dict[str, dict[str, list[dict[str, Any]]]] = {r: {} for r in run_ids}
    for chunk in _chunks(run_ids):
        marks = ",".join("?" * len(chunk))
        for run_id, name, step, value in store.conn.execute(
            f"SELECT run_id, name, step, value FROM metrics WHERE run_id IN ({marks})"
            " ORDER BY name, step",
            chunk,
        ):
            value = _loads(value) if isinstance(value, str) else value
            latest[run_id][name] = value
            if step >= 0:
                history[run_id].setdefault(name, []).append({"step": step, "value": value})
    return latest, history


def run_metrics(store: Store, run_id: str) -> dict[str, Any]:
    return _metrics(store, [run_id])[0][run_id]


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _run_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "notebook": row["notebook"],
        "status": row["status"],
        "started": row["started"],
        "ended": row["ended"],
        "duration_s": _duration_s(row["started"], row["ended"]),
        "parent_id": row["parent_id"],
        "user": row["user"],
        "host": row["host"],
        "error": (
            {"name": row["error_name"], "value": row["error_value"]} if row["error_name"] else None
        ),
    }


def list_runs(
    store: Store,
    *,
    notebook: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    parent: str | None = None,
    where: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Newest first, with parameters, latest metrics and execution counts; ``where`` keeps the
    runs whose latest metric or parameter meets every condition (filtered in SQL)."""
    if limit is not None and limit < 0:
        raise UsageError("--limit must be 0 or more.")
    conditions = [condition(c) for c in where]
    clauses: list[str] = []
    args: list[Any] = []
    nb = _notebook_filter(notebook)
    if nb:
        clauses.append("notebook = ?")
        args.append(nb)
    if parent:
        clauses.append("parent_id = ?")
        args.append(parent)
    for sql_condition, values in conditions:
        clauses.append(sql_condition)
        args += values
    sql = f"SELECT {RUN_COLUMNS} FROM runs"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY started DESC, id DESC LIMIT ? OFFSET ?"
    rows = store.query(sql, (*args, -1 if limit is None else limit, offset))
    ids = [r["id"] for r in rows]
    params = _params(store, ids)
    metrics, _ = _metrics(store, ids)
    counts: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for run_id, n, errors in store.conn.execute(
            f"SELECT run_id, count(*), count(error_name) FROM executions"
            f" WHERE run_id IN ({marks}) GROUP BY run_id",
            chunk,
        ):
            counts[run_id] = (n, errors)
    out = []
    for r in rows:
        item = _run_summary(r)
        item["parameters"] = params[r["id"]]
        item["metrics"] = metrics[r["id"]]
        item["executions"], item["errors"] = counts.get(r["id"], (0, 0))
        out.append(item)
    return out


def environment(store: Store, env_id: str | None) -> dict[str, Any] | None:
    if not env_id:
        return None
    row = store.conn.execute("SELECT data FROM environments WHERE id = ?", (env_id,)).fetchone()
    return json.loads(row[0]) if row else None


def git_state(store: Store, git_id: str | None, *, with_diff: bool = True) -> dict[str, Any] | None:
    if not git_id:
        return None
    rows = store.query(
        "SELECT g.commit_sha, g.branch, g.dirty, g.remote, g.root, g.diff_hash, d.text AS diff"
        " FROM git_states g LEFT JOIN git_diffs d ON d.hash = g.diff_hash WHERE g.id = ?",
        (git_id,),
    )
    if not rows:
        return None
    g = rows[0]
    out = {
        "commit": g["commit_sha"],
        "branch": g["branch"],
        "dirty": bool(g["dirty"]),
        "remote": g["remote"],
        "root": g["root"],
        "diff_hash": g["diff_hash"],
    }
    if with_diff:
        out["diff"] = g["diff"] or ""
    return out


def _file_ref(row: dict[str, Any]) -> dict[str, Any]:
    return {"path": row["uri"], "hash": row["hash"], "kind": row["kind"], "size": row["size"]}


def executions(store: Store, run_id: str) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT e.id, e.seq, e.cell_id, e.execution_count, e.started, e.duration_ms,"
        " e.error_name, e.error_value, s.text AS source"
        " FROM executions e LEFT JOIN sources s ON s.hash = e.source_hash"
        " WHERE e.run_id = ? ORDER BY e.seq",
        (run_id,),
    )
    by_id: dict[str, dict[str, Any]] = {}
    out = []
    for r in rows:
        item = {
            "id": r["id"],
            "seq": r["seq"],
            "cell_id": r["cell_id"],
            "execution_count": r["execution_count"],
            "source": r["source"] or "",
            "started": r["started"],
            "duration_ms": r["duration_ms"],
            "error": {"name": r["error_name"], "value": r["error_value"]}
            if r["error_name"]
            else None,
            "reads": [],
            "writes": [],
        }
        by_id[r["id"]] = item
        out.append(item)
    for a in store.query(
        "SELECT ac.execution_id, ac.role, a.uri, a.hash, a.kind, a.size FROM accesses ac"
        " JOIN executions e ON e.id = ac.execution_id JOIN artifacts a ON a.id = ac.artifact_id"
        " WHERE e.run_id = ? ORDER BY a.uri",
        (run_id,),
    ):
        by_id[a["execution_id"]]["reads" if a["role"] == "read" else "writes"].append(_file_ref(a))
    return out


def _union(
    items: list[dict[str, Any]], key: str, extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for f in [f for e in items for f in e[key]] + (extra or []):
        seen.setdefault((f["path"], f["hash"]), f)
    return sorted(seen.values(), key=lambda f: f["path"])


def run_files(store: Store, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Files the run as a whole read or wrote (pipeline runs: the executed notebook)."""
    out: dict[str, list[dict[str, Any]]] = {"read": [], "write": []}
    for r in store.query(
        "SELECT rf.role, a.uri, a.hash, a.kind, a.size FROM run_files rf"
        " JOIN artifacts a ON a.id = rf.artifact_id WHERE rf.run_id = ? ORDER BY a.uri",
        (run_id,),
    ):
        out[r["role"]].append(_file_ref(r))
    return out


def blob(store: Store, digest: str | None) -> str | None:
    if not digest:
        return None
    row = store.conn.execute("SELECT content FROM blobs WHERE hash = ?", (digest,)).fetchone()
    return row[0] if row else None


def show_run(store: Store, ref: str, *, notebook: str | None = None) -> dict[str, Any]:
    run_id = resolve_run(store, ref, notebook=notebook)
    row = store.query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))[0]
    out = _run_summary(row)
    metrics, history = _metrics(store, [run_id])
    execs = executions(store, run_id)
    whole = run_files(store, run_id)
    env_changes = [
        {"seq": seq, "environment_id": env_id}
        for seq, env_id in store.conn.execute(
            "SELECT seq, environment_id FROM run_environments WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
    ]
    out.update(
        {
            "notebook_hash": row["notebook_hash"],
            "cwd": row["cwd"],
            "failed_execution_id": row["failed_execution_id"],
            "parameters": _params(store, [run_id])[run_id],
            "metrics": metrics[run_id],
            "metric_history": history[run_id],
            "executions": execs,
            "files_read": _union(execs, "reads", whole["read"]),
            "files_written": _union(execs, "writes", whole["write"]),
            "notebook_output": next((f for f in whole["write"] if f["kind"] == "notebook"), None),
            "environment": environment(store, row["environment_id"]),
            "environment_changes": env_changes if len(env_changes) > 1 else [],
            "git": git_state(store, row["git_id"]),
            "children": [
                r[0]
                for r in store.conn.execute(
                    "SELECT id FROM runs WHERE parent_id = ? ORDER BY started", (run_id,)
                )
            ],
        }
    )
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


# -- lineage -------------------------------------------------------------------------------------


def _is_url(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target))


def find_artifact(store: Store, target: str) -> tuple[dict[str, Any], str | None]:
    """The artifact a user means: a path (its current version if recorded), a URL, an id or hash.

    Returns the artifact row and a note when the version on disk is not the one shown.
    """
    from ..hashing import hash_file

    cols = "id, uri, hash, size, kind, first_seen"
    if _is_url(target):
        from ..capture.urls import clean_url

        uri = clean_url(target)
    else:
        uri = os.path.abspath(os.path.expanduser(target))
    versions = store.query(
        f"SELECT {cols} FROM artifacts WHERE uri = ? ORDER BY first_seen DESC, rowid DESC", (uri,)
    )
    if not versions:
        lowered = target.lower().removeprefix("blake3:")
        if re.fullmatch(r"[0-9a-f]{6,64}", lowered):
            rows = store.query(
                f"SELECT {cols} FROM artifacts WHERE id = ? OR hash >= ? AND hash < ? LIMIT 2",
                (lowered, "blake3:" + lowered, "blake3:" + lowered + "g"),
            )
            if len(rows) == 1:
                return rows[0], None
            if len(rows) > 1:
                raise UsageError(f"'{target}' matches several artifacts: give more characters.")
        raise ArtifactNotFoundError(
            f"No recorded lineage for {target}. Only files read or written in a tracked notebook "
            "(`%load_ext jupyter_lineage`) or a `jupyter lineage run` have lineage."
        )
    if not _is_url(target) and os.path.isfile(uri):
        try:
            current, _ = hash_file(uri)
        except OSError:
            current = None
        for v in versions:
            if v["hash"] == current:
                return v, None
        return versions[0], (
            f"{target} has changed since it was last recorded; showing the latest recorded "
            f"version ({versions[0]['hash'][:19]}…)."
        )
    if not _is_url(target) and not os.path.exists(uri):
        return versions[0], f"{target} no longer exists; showing its latest recorded version."
    return versions[0], None


def _exec_nodes(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    out = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for r in store.query(
            "SELECT e.id, e.run_id, e.seq, e.cell_id, e.execution_count, e.started, e.duration_ms,"
            " e.error_name, e.error_value, s.text AS source FROM executions e"
            f" LEFT JOIN sources s ON s.hash = e.source_hash WHERE e.id IN ({marks})",
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


def _artifact_node(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": "artifact",
        "path": row["uri"],
        "hash": row["hash"],
        "kind": row["kind"],
        "size": row["size"],
    }


def trace(
    store: Store, target: str, *, downstream: bool = False, depth: int | None = None
) -> dict[str, Any]:
    """The lineage of one file version, as a graph of artifacts and executions.

    Upstream: the execution that wrote this version, every cell before it in that run, what
    they read, and recursively the runs that wrote those inputs. Downstream: the executions
    that read it, what their runs wrote from then on, and so on. ``depth`` bounds the hops
    from one artifact to the next.
    """
    if depth is not None and depth < 0:
        raise UsageError("--depth must be 0 or more.")
    root, note = find_artifact(store, target)
    artifacts: dict[str, dict[str, Any]] = {root["id"]: _artifact_node(root)}
    exec_ids: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    queue: deque[tuple[str, int]] = deque([(root["id"], 0)])
    seen_artifacts = {root["id"]}
    seen_runs: dict[str, int] = {}  # run -> furthest seq already followed

    def add_artifacts(rows: list[dict[str, Any]], level: int) -> None:
        for a in rows:
            artifacts.setdefault(a["id"], _artifact_node(a))
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
        for chunk in _chunks(chain):
            marks = ",".join("?" * len(chunk))
            rows = store.query(
                "SELECT ac.execution_id, a.id, a.uri, a.hash, a.kind, a.size FROM accesses ac"
                " JOIN artifacts a ON a.id = ac.artifact_id"
                f" WHERE ac.role = ? AND ac.execution_id IN ({marks})",
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
            writer = store.query(
                "SELECT e.id, e.run_id, e.seq FROM accesses ac JOIN executions e"
                " ON e.id = ac.execution_id WHERE ac.artifact_id = ? AND ac.role = 'write'"
                " ORDER BY e.started DESC LIMIT 1",
                (art_id,),
            )
            if not writer:
                continue
            w = writer[0]
            edges.add((w["id"], art_id, "wrote"))
            if seen_runs.get(w["run_id"], -1) < w["seq"]:
                seen_runs[w["run_id"]] = w["seq"]
                follow(w["run_id"], w["seq"], level)
        else:
            readers = store.query(
                "SELECT e.id, e.run_id, e.seq FROM accesses ac JOIN executions e"
                " ON e.id = ac.execution_id WHERE ac.artifact_id = ? AND ac.role = 'read'"
                " ORDER BY e.run_id, e.seq",
                (art_id,),
            )
            for rd in readers:
                edges.add((art_id, rd["id"], "read"))
                if seen_runs.get(rd["run_id"], 1 << 62) > rd["seq"]:
                    seen_runs[rd["run_id"]] = rd["seq"]
                    follow(rd["run_id"], rd["seq"], level)
    execs = _exec_nodes(store, sorted(exec_ids))
    run_ids = sorted({e["run_id"] for e in execs.values()})
    runs = []
    for chunk in _chunks(run_ids):
        marks = ",".join("?" * len(chunk))
        runs += [
            {**_run_summary(r), "type": "run"}
            for r in store.query(f"SELECT {RUN_COLUMNS} FROM runs WHERE id IN ({marks})", chunk)
        ]
    params = _params(store, run_ids)
    for r in runs:
        r["parameters"] = params[r["id"]]
    return {
        "target": _artifact_node(root),
        "direction": "downstream" if downstream else "upstream",
        "note": note,
        "nodes": list(artifacts.values())
        + sorted(execs.values(), key=lambda e: (e["run_id"], e["seq"])),
        "edges": [{"source": a, "target": b, "type": t} for a, b, t in sorted(edges)],
        "runs": sorted(runs, key=lambda r: r["started"]),
    }


def counts(store: Store, run_id: str | None = None) -> dict[str, int]:
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
