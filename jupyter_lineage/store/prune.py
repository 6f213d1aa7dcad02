"""``gc``'s records: which runs could go, what each needs upstream, and removing runs with
every row that only they used. Which runs to remove is decided above the store
(:mod:`jupyter_lineage.housekeeping`)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from .db import Store
from .sql import chunks, marks

# Rows that belong to one run, deleted with it (executions' own rows first).
_RUN_TABLES = ("params", "metrics", "run_environments", "run_files", "test_cells")
# Orphans at any time: rows that are written in the same statement as what uses them, so one
# nothing uses is left over (an interrupted merge, a run removed by hand), never half-written.
_DANGLING = {
    "sources": "hash NOT IN (SELECT source_hash FROM executions WHERE source_hash IS NOT NULL)",
}
_UNUSED_ARTIFACT = (
    "id NOT IN (SELECT artifact_id FROM accesses) AND id NOT IN (SELECT artifact_id FROM run_files)"
    " AND id NOT IN (SELECT artifact_id FROM tags)"
    " AND id NOT IN (SELECT artifact_id FROM child_accesses)"
)


def runs_of_kind(store: Store, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Runs of these kinds, newest first: id, notebook, status, started."""
    return store.query(
        f"SELECT id, notebook, status, started FROM runs WHERE kind IN ({marks(list(kinds))})"
        " ORDER BY started DESC, id DESC",
        kinds,
    )


def all_run_ids(store: Store) -> list[str]:
    return [str(r[0]) for r in store.conn.execute("SELECT id FROM runs")]


def tagged_writers(store: Store) -> set[str]:
    """Runs that wrote a version some tag names."""
    return {
        str(r[0])
        for r in store.conn.execute(
            "SELECT DISTINCT e.run_id FROM tags t JOIN accesses ac ON ac.artifact_id ="
            " t.artifact_id AND ac.role = 'write' JOIN executions e ON e.id = ac.execution_id"
            " UNION SELECT rf.run_id FROM tags t JOIN run_files rf ON rf.artifact_id ="
            " t.artifact_id AND rf.role = 'write'"
        )
    }


def local_writes(store: Store) -> list[dict[str, Any]]:
    """Every local file version some run wrote, with the runs that wrote it: uri, hash, runs."""
    found: dict[tuple[str, str], set[str]] = {}
    for uri, digest, run_id in store.conn.execute(
        "SELECT a.uri, a.hash, e.run_id FROM artifacts a JOIN accesses ac ON ac.artifact_id ="
        " a.id AND ac.role = 'write' JOIN executions e ON e.id = ac.execution_id"
        " WHERE a.uri NOT LIKE '%://%' AND a.hash != ''"
    ):
        found.setdefault((uri, digest), set()).add(run_id)
    return [{"uri": u, "hash": h, "runs": sorted(r)} for (u, h), r in found.items()]


def upstream_runs(store: Store, run_ids: list[str]) -> set[str]:
    """The runs that made what these runs read (the latest writer of each version they read),
    their parents and the runs they reuse (``cached_from``), and the runs of executions their
    cells depend on: one step up."""
    out: set[str] = set()
    for chunk in chunks(run_ids):
        if not chunk:
            continue
        q = marks(chunk)
        out.update(
            str(r[0])
            for r in store.conn.execute(
                "SELECT (SELECT w.run_id FROM accesses wa JOIN executions w ON w.id ="
                " wa.execution_id WHERE wa.artifact_id = ac.artifact_id AND wa.role = 'write'"
                " ORDER BY w.started DESC LIMIT 1) FROM executions e JOIN accesses ac ON"
                f" ac.execution_id = e.id AND ac.role = 'read' WHERE e.run_id IN ({q})"
                f" UNION SELECT parent_id FROM runs WHERE id IN ({q})"
                f" UNION SELECT cached_from FROM runs WHERE id IN ({q})"
                " UNION SELECT u.run_id FROM executions e JOIN dependencies d ON d.execution_id"
                f" = e.id JOIN executions u ON u.id = d.upstream_id WHERE e.run_id IN ({q})",
                chunk * 4,
            )
            if r[0]
        )
    return out


def delete_runs(store: Store, run_ids: list[str]) -> dict[str, int]:
    """Remove these runs and every row only they used, in one transaction; rows removed per
    table."""
    removed: dict[str, int] = {}

    def count(table: str, n: int) -> None:
        removed[table] = removed.get(table, 0) + max(n, 0)

    with store.write() as conn:
        envs: set[str] = set()
        gits: set[str] = set()
        blobs: set[str] = set()
        for chunk in chunks(run_ids):
            if not chunk:
                continue
            q = marks(chunk)
            for env, git, nb, outs in conn.execute(
                "SELECT environment_id, git_id, notebook_hash, outputs_hash FROM runs"
                f" WHERE id IN ({q})",
                chunk,
            ):
                envs.update(x for x in (env,) if x)
                gits.update(x for x in (git,) if x)
                blobs.update(x for x in (nb, outs) if x)
            envs.update(
                r[0]
                for r in conn.execute(
                    f"SELECT environment_id FROM run_environments WHERE run_id IN ({q})", chunk
                )
            )
            execs = f"SELECT id FROM executions WHERE run_id IN ({q})"
            procs = f"SELECT id FROM child_processes WHERE run_id IN ({q})"
            count(
                "child_accesses",
                conn.execute(
                    f"DELETE FROM child_accesses WHERE process_id IN ({procs})", chunk
                ).rowcount,
            )
            count(
                "child_processes",
                conn.execute(f"DELETE FROM child_processes WHERE run_id IN ({q})", chunk).rowcount,
            )
            count(
                "accesses",
                conn.execute(
                    f"DELETE FROM accesses WHERE execution_id IN ({execs})", chunk
                ).rowcount,
            )
            count(
                "dependencies",
                conn.execute(
                    f"DELETE FROM dependencies WHERE execution_id IN ({execs})"
                    f" OR upstream_id IN ({execs})",
                    chunk * 2,
                ).rowcount,
            )
            for table in _RUN_TABLES:
                count(
                    table,
                    conn.execute(f"DELETE FROM {table} WHERE run_id IN ({q})", chunk).rowcount,
                )
            count(
                "executions",
                conn.execute(f"DELETE FROM executions WHERE run_id IN ({q})", chunk).rowcount,
            )
            count("runs", conn.execute(f"DELETE FROM runs WHERE id IN ({q})", chunk).rowcount)
        for table, where in _DANGLING.items():
            count(table, conn.execute(f"DELETE FROM {table} WHERE {where}").rowcount)
        unused = [r[0] for r in conn.execute(f"SELECT id FROM artifacts WHERE {_UNUSED_ARTIFACT}")]
        for chunk in chunks(unused):
            if chunk:
                q = marks(chunk)
                count(
                    "artifacts",
                    conn.execute(f"DELETE FROM artifacts WHERE id IN ({q})", chunk).rowcount,
                )
        count(  # the member lists of folder versions no artifact has any more
            "folder_members",
            conn.execute(
                "DELETE FROM folder_members WHERE hash NOT IN (SELECT hash FROM artifacts)"
            ).rowcount,
        )
        _delete_unused(conn, envs, gits, blobs, count)
    return {k: v for k, v in removed.items() if v}


def _delete_unused(conn: Any, envs: set[str], gits: set[str], blobs: set[str], count: Any) -> None:
    """What the removed runs referenced and nothing else does now. Only those: a writer may
    have put a blob or environment a moment ago for a run it has not inserted yet."""
    diffs: set[str] = set()
    for chunk in chunks(sorted(gits)):
        if chunk:
            diffs.update(
                r[0]
                for r in conn.execute(
                    f"SELECT diff_hash FROM git_states WHERE id IN ({marks(chunk)})"
                    " AND diff_hash IS NOT NULL",
                    chunk,
                )
            )
    checks = (
        (
            "environments",
            "id",
            envs,
            "id NOT IN (SELECT environment_id FROM runs WHERE"
            " environment_id IS NOT NULL) AND id NOT IN (SELECT environment_id FROM run_environments)",
        ),
        ("git_states", "id", gits, "id NOT IN (SELECT git_id FROM runs WHERE git_id IS NOT NULL)"),
        (
            "blobs",
            "hash",
            blobs,
            "hash NOT IN (SELECT notebook_hash FROM runs WHERE notebook_hash"
            " IS NOT NULL) AND hash NOT IN (SELECT outputs_hash FROM runs WHERE outputs_hash IS NOT NULL)",
        ),
        (
            "git_diffs",
            "hash",
            diffs,
            "hash NOT IN (SELECT diff_hash FROM git_states WHERE diff_hash IS NOT NULL)",
        ),
    )
    for table, key, ids, unused in checks:
        for chunk in chunks(sorted(ids)):
            if chunk:
                n = conn.execute(
                    f"DELETE FROM {table} WHERE {key} IN ({marks(chunk)}) AND {unused}", chunk
                ).rowcount
                count(table, n)


def size_on_disk(store: Store) -> int:
    """The store's bytes: the database and its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(f"{store.path}{suffix}")
    return total


def vacuum(store: Store) -> None:
    """Give the freed pages back to the filesystem (and empty the write-ahead log)."""
    with store.translated():
        store.conn.execute("VACUUM")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
