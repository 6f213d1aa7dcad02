"""The parts of a run: parameters, metrics, executions and the files they touched, environment,
git state, and the stored blobs (notebook snapshot, cell outputs)."""

from __future__ import annotations

import json
from typing import Any

from ..hashing import tree_members
from .db import Store
from .sql import chunks, loads, marks


def params(store: Store, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each run's parameters, by name."""
    out: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
    for chunk in chunks(run_ids):
        for run_id, name, value in store.conn.execute(
            f"SELECT run_id, name, value FROM params WHERE run_id IN ({marks(chunk)}) ORDER BY name",
            chunk,
        ):
            out[run_id][name] = loads(value)
    return out


def metrics(
    store: Store, run_ids: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[dict[str, Any]]]]]:
    """Each run's latest value of every metric, and the stepped history of those logged with
    a step."""
    latest: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
    history: dict[str, dict[str, list[dict[str, Any]]]] = {r: {} for r in run_ids}
    for chunk in chunks(run_ids):
        for run_id, name, step, value in store.conn.execute(
            f"SELECT run_id, name, step, value FROM metrics WHERE run_id IN ({marks(chunk)})"
            " ORDER BY name, step",
            chunk,
        ):
            value = loads(value)
            latest[run_id][name] = value
            if step >= 0:
                history[run_id].setdefault(name, []).append({"step": step, "value": value})
    return latest, history


def run_metrics(store: Store, run_id: str) -> dict[str, Any]:
    return metrics(store, [run_id])[0][run_id]


def execution_counts(store: Store, run_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(executions, executions that raised) of each run that has any."""
    return {k: (n, errors) for k, (n, errors, _last) in execution_activity(store, run_ids).items()}


def execution_activity(store: Store, run_ids: list[str]) -> dict[str, tuple[int, int, str]]:
    """(executions, executions that raised, when the last one started) of each run that has
    any."""
    out: dict[str, tuple[int, int, str]] = {}
    for chunk in chunks(run_ids):
        for run_id, n, errors, last in store.conn.execute(
            "SELECT run_id, count(*), count(error_name), max(started) FROM executions"
            f" WHERE run_id IN ({marks(chunk)}) GROUP BY run_id",
            chunk,
        ):
            out[run_id] = (n, errors, last)
    return out


def environment(store: Store, env_id: str | None) -> dict[str, Any] | None:
    if not env_id:
        return None
    row = store.conn.execute("SELECT data FROM environments WHERE id = ?", (env_id,)).fetchone()
    return json.loads(row[0]) if row else None


def environment_changes(store: Store, run_id: str) -> list[dict[str, Any]]:
    """From which cell on the run had which environment (``%pip install`` mid-run)."""
    return [
        {"seq": seq, "environment_id": env_id}
        for seq, env_id in store.conn.execute(
            "SELECT seq, environment_id FROM run_environments WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
    ]


def git_state(store: Store, git_id: str | None, *, with_diff: bool = True) -> dict[str, Any] | None:
    if not git_id:
        return None
    rows = store.query(
        "SELECT g.commit_sha, g.branch, g.dirty, g.remote, g.root, g.diff_hash, g.error,"
        " d.text AS diff"
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
        "error": g["error"],  # why git could not be read (then the rest is not known)
    }
    if with_diff:
        out["diff"] = g["diff"] or ""
    return out


def _children(store: Store, run_id: str, by_id: dict[str, dict[str, Any]]) -> None:
    """Each execution's child processes, with the paths each read and wrote itself."""
    children: dict[str, dict[str, Any]] = {}
    for c in store.query(
        "SELECT id, execution_id, pid, argv, started, ended FROM child_processes"
        " WHERE run_id = ? ORDER BY started, id",
        (run_id,),
    ):
        child = {k: c[k] for k in ("id", "pid", "argv", "started", "ended")}
        child.update(reads=[], writes=[])
        if c["execution_id"] in by_id:
            by_id[c["execution_id"]]["children"].append(child)
            children[c["id"]] = child
    if not children:
        return
    for a in store.query(
        "SELECT ca.process_id, ca.role, a.uri FROM child_processes c"
        " JOIN child_accesses ca ON ca.process_id = c.id JOIN artifacts a ON a.id = ca.artifact_id"
        " WHERE c.run_id = ? ORDER BY a.uri",
        (run_id,),
    ):
        owner = children.get(a["process_id"])
        if owner is not None:
            owner["reads" if a["role"] == "read" else "writes"].append(a["uri"])


def file_ref(row: dict[str, Any]) -> dict[str, Any]:
    """A file version as every run shape shows it (a URL with its version identity, if known;
    a folder recorded as one dataset with its number of files)."""
    ref = {"path": row["uri"], "hash": row["hash"], "kind": row["kind"], "size": row["size"]}
    if row.get("version"):
        ref["version"] = row["version"]
    if row.get("files") is not None:
        ref["files"] = row["files"]
    return ref


# A folder artifact's number of files, as a column of a query over ``artifacts a``. A tree hash
# names its members (relative names, sizes, hashes), so the list is kept once per tree hash:
# the same folder content moved or copied is stored once.
FOLDER_FILES = "(SELECT f.files FROM folder_members f WHERE f.hash = a.hash) AS files"


def folder_members(store: Store, uri: str, digest: str) -> list[dict[str, Any]]:
    """The files of one version of a folder recorded as a dataset, by relative name."""
    rows = store.query("SELECT members FROM folder_members WHERE hash = ?", (digest,))
    return [
        {"name": name, "path": uri + name, "hash": member, "size": size}
        for name, member, size in tree_members(rows[0]["members"] if rows else "")
    ]


def executions(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's executions in order, with their code and the files each read and wrote."""
    rows = store.query(
        "SELECT e.id, e.seq, e.cell_id, e.execution_count, e.started, e.duration_ms,"
        " e.error_name, e.error_value, e.dataflow, s.text AS source"
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
            # defines / updates / uses / deletes (None: recorded before dataflow was captured)
            "dataflow": json.loads(r["dataflow"]) if r["dataflow"] else None,
            "depends_on": [],
            "children": [],  # Python processes it started (capture/child.py)
        }
        by_id[r["id"]] = item
        out.append(item)
    for a in store.query(
        "SELECT ac.execution_id, ac.role, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind, a.size,"
        f" a.version, {FOLDER_FILES} FROM accesses ac"
        " JOIN executions e ON e.id = ac.execution_id JOIN artifacts a ON a.id = ac.artifact_id"
        " WHERE e.run_id = ? ORDER BY uri",
        (run_id,),
    ):
        by_id[a["execution_id"]]["reads" if a["role"] == "read" else "writes"].append(file_ref(a))
    _children(store, run_id, by_id)
    for d in store.query(
        "SELECT d.execution_id, d.upstream_id, d.names FROM dependencies d"
        " JOIN executions e ON e.id = d.execution_id WHERE e.run_id = ? ORDER BY d.upstream_id",
        (run_id,),
    ):
        by_id[d["execution_id"]]["depends_on"].append(
            {"execution": d["upstream_id"], "names": json.loads(d["names"])}
        )
    return out


def run_files(store: Store, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Files the run as a whole read or wrote (pipeline runs: the executed notebook)."""
    out: dict[str, list[dict[str, Any]]] = {"read": [], "write": []}
    for r in store.query(
        "SELECT rf.role, jl_here(a.uri, a.rel) AS uri, a.hash, a.kind, a.size, a.version,"
        f" {FOLDER_FILES}"
        " FROM run_files rf JOIN artifacts a ON a.id = rf.artifact_id WHERE rf.run_id = ?"
        " ORDER BY uri",
        (run_id,),
    ):
        out[r["role"]].append(file_ref(r))
    return out


def blob(store: Store, digest: str | None) -> str | None:
    """A stored notebook snapshot or output digest, by its hash."""
    if not digest:
        return None
    row = store.conn.execute("SELECT content FROM blobs WHERE hash = ?", (digest,)).fetchone()
    return str(row[0]) if row else None


def cell_outputs(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The text outputs of a pipeline run's code cells, as recorded when it ended (empty for
    runs that recorded none)."""
    row = store.conn.execute("SELECT outputs_hash FROM runs WHERE id = ?", (run_id,)).fetchone()
    text = blob(store, row[0] if row else None)
    outputs: list[dict[str, Any]] = json.loads(text) if text else []
    return outputs
