"""``jupyter lineage status``: which recorded outputs are stale because an upstream input changed.

Like ``dvc status`` with no pipeline file: the lineage graph already says what each output was
made from. The walk touches only the executions upstream of each output (indexed lookups), so
its cost does not grow with the size of the store.
"""

from __future__ import annotations

import os
from typing import Any

from .hashing import hash_file, stat_key
from .store import Store


class _Disk:
    """Current hashes of files, through the store's (path, size, mtime, inode) cache."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.memo: dict[str, str | None] = {}

    def hash(self, path: str) -> str | None:
        if path in self.memo:
            return self.memo[path]
        digest: str | None = None
        try:
            st = os.stat(path)
            row = self.store.conn.execute(
                "SELECT hash FROM hash_cache WHERE path = ? AND size = ? AND mtime_ns = ?"
                " AND inode = ?",
                (path, *stat_key(st)),
            ).fetchone()
            digest = row[0] if row else hash_file(path)[0]
        except OSError:
            digest = None
        self.memo[path] = digest
        return digest


def _latest_writer(store: Store, uri: str) -> dict[str, Any] | None:
    row = store.conn.execute(
        "SELECT a.id, a.uri, a.hash, e.id, e.run_id, e.seq FROM artifacts a"
        " JOIN accesses ac ON ac.artifact_id = a.id AND ac.role = 'write'"
        " JOIN executions e ON e.id = ac.execution_id"
        " WHERE a.uri = ? ORDER BY e.started DESC LIMIT 1",
        (uri,),
    ).fetchone()
    if not row:
        return None
    return {
        "artifact": row[0],
        "path": row[1],
        "hash": row[2],
        "execution": row[3],
        "run": row[4],
        "seq": row[5],
    }


def _writer_of(store: Store, artifact_id: str) -> tuple[str, int] | None:
    row = store.conn.execute(
        "SELECT e.run_id, e.seq FROM accesses ac JOIN executions e ON e.id = ac.execution_id"
        " WHERE ac.artifact_id = ? AND ac.role = 'write' ORDER BY e.started DESC LIMIT 1",
        (artifact_id,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def _upstream_inputs(store: Store, run_id: str, seq: int) -> list[dict[str, Any]]:
    """Every file read upstream of execution (run, seq): this run's earlier cells, then the
    runs that wrote what they read, recursively. Nearest first."""
    found: dict[str, dict[str, Any]] = {}
    covered: dict[str, int] = {}
    frontier = [(run_id, seq, 0)]
    while frontier:
        run, upto, depth = frontier.pop(0)
        if covered.get(run, -1) >= upto:
            continue
        covered[run] = upto
        rows = store.conn.execute(
            "SELECT a.id, a.uri, a.hash FROM executions e"
            " JOIN accesses ac ON ac.execution_id = e.id AND ac.role = 'read'"
            " JOIN artifacts a ON a.id = ac.artifact_id WHERE e.run_id = ? AND e.seq <= ?",
            (run, upto),
        ).fetchall()
        for art_id, uri, digest in rows:
            if art_id in found:
                continue
            found[art_id] = {"path": uri, "recorded_hash": digest, "read_by": run, "depth": depth}
            writer = _writer_of(store, art_id)
            if writer:
                frontier.append((writer[0], writer[1], depth + 1))
    return list(found.values())


def stale(store: Store, paths: list[str] | None = None) -> list[dict[str, Any]]:
    """For each recorded output (or the given paths): stale or not, and why."""
    if paths:
        uris = [os.path.abspath(os.path.expanduser(p)) for p in paths]
    else:
        uris = [
            r[0]
            for r in store.conn.execute(
                "SELECT DISTINCT a.uri FROM artifacts a JOIN accesses ac ON ac.artifact_id = a.id"
                " AND ac.role = 'write' WHERE a.uri NOT LIKE '%://%' ORDER BY a.uri"
            )
        ]
    disk = _Disk(store)
    report: list[dict[str, Any]] = []
    for uri in uris:
        out = _latest_writer(store, uri)
        if out is None:
            report.append(
                {
                    "path": uri,
                    "hash": None,
                    "state": "unknown",
                    "stale": False,
                    "changed_inputs": [],
                    "run": None,
                    "refresh_run": None,
                }
            )
            continue
        current = disk.hash(uri)
        state = "ok" if current == out["hash"] else "missing" if current is None else "modified"
        changed = []
        for item in _upstream_inputs(store, out["run"], out["seq"]):
            if "://" in item["path"]:
                continue
            now = disk.hash(item["path"])
            if now != item["recorded_hash"]:
                changed.append(
                    {
                        "path": item["path"],
                        "recorded_hash": item["recorded_hash"],
                        "current_hash": now,
                        "reason": "missing" if now is None else "changed",
                        "read_by": item["read_by"],
                        "depth": item["depth"],
                    }
                )
        refresh = max(changed, key=lambda c: c["depth"])["read_by"] if changed else None
        if changed and state == "ok":
            state = "stale"
        report.append(
            {
                "path": uri,
                "hash": out["hash"],
                "state": state,
                "stale": bool(changed),
                "changed_inputs": changed,
                "run": out["run"],
                "refresh_run": refresh,
            }
        )
    return report
