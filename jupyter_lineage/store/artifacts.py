"""Artifacts (file and URL versions) and who wrote or read them.

Only what is recorded: which version is on disk now is for the caller to find out (hashing
files is not the store's job).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .db import Store
from .location import relative
from .sql import chunks, marks

_COLUMNS = "id, jl_here(uri, rel) AS uri, hash, size, kind, first_seen, version"


def artifact(store: Store, artifact_id: str) -> dict[str, Any] | None:
    rows = store.query(f"SELECT {_COLUMNS} FROM artifacts WHERE id = ?", (artifact_id,))
    return rows[0] if rows else None


def versions(store: Store, uri: str) -> list[dict[str, Any]]:
    """Every recorded version of one path or URL, newest first (a path inside the project also
    matches what was recorded there before the project moved)."""
    return store.query(
        f"SELECT {_COLUMNS} FROM artifacts WHERE uri = ? OR rel = ?"
        " ORDER BY first_seen DESC, rowid DESC",
        (uri, relative(uri, store.root)),
    )


def matching(store: Store, prefix: str) -> list[dict[str, Any]]:
    """Artifacts whose id is ``prefix`` or whose content hash starts with it (at most two: one
    is an answer, two say the prefix is ambiguous)."""
    return store.query(
        f"SELECT {_COLUMNS} FROM artifacts WHERE id = ? OR hash >= ? AND hash < ? LIMIT 2",
        (prefix, "blake3:" + prefix, "blake3:" + prefix + "g"),
    )


# "Last" is the store's own order (rowid: the order it recorded executions in), never the
# recording process's clock: a clock stepped back must not make an older write the latest.
def latest_write(store: Store, artifact_id: str) -> dict[str, Any] | None:
    """The execution that last wrote this version: its id, run and position in the run."""
    row = store.conn.execute(
        "SELECT e.id, e.run_id, e.seq FROM accesses ac JOIN executions e ON e.id = ac.execution_id"
        " WHERE ac.artifact_id = ? AND ac.role = 'write' ORDER BY e.rowid DESC LIMIT 1",
        (artifact_id,),
    ).fetchone()
    return {"id": row[0], "run_id": row[1], "seq": row[2]} if row else None


def latest_writes(store: Store, artifact_ids: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`latest_write` of many versions at once (one query per 500): by artifact id."""
    out: dict[str, dict[str, Any]] = {}
    newest: dict[str, int] = {}
    for chunk in chunks(artifact_ids):
        for art, exec_id, run_id, seq, order in store.conn.execute(
            "SELECT ac.artifact_id, e.id, e.run_id, e.seq, e.rowid FROM accesses ac"
            " JOIN executions e ON e.id = ac.execution_id"
            f" WHERE ac.role = 'write' AND ac.artifact_id IN ({marks(chunk)})",
            chunk,
        ):
            if art not in newest or order > newest[art]:
                newest[art] = order
                out[art] = {"id": exec_id, "run_id": run_id, "seq": seq}
    return out


def latest_writer(store: Store, uri: str, current: str | None = None) -> dict[str, Any] | None:
    """The version of a path written last, and the execution that wrote it; when ``current``
    (the file's hash now) is a recorded version, that one: compared by content, not by time."""
    row = store.conn.execute(
        "SELECT a.id, jl_here(a.uri, a.rel), a.hash, e.id, e.run_id, e.seq FROM artifacts a"
        " JOIN accesses ac ON ac.artifact_id = a.id AND ac.role = 'write'"
        " JOIN executions e ON e.id = ac.execution_id"
        " WHERE a.uri = ? OR a.rel = ? ORDER BY a.hash IS ? DESC, e.rowid DESC LIMIT 1",
        (uri, relative(uri, store.root), current),
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


def readers(store: Store, artifact_id: str) -> list[dict[str, Any]]:
    """The executions that read this version: id, run and position, by run then position."""
    return store.query(
        "SELECT e.id, e.run_id, e.seq FROM accesses ac JOIN executions e"
        " ON e.id = ac.execution_id WHERE ac.artifact_id = ? AND ac.role = 'read'"
        " ORDER BY e.run_id, e.seq",
        (artifact_id,),
    )


class Readers(NamedTuple):
    ids: list[str]
    more: bool  # more executions read it than were asked for


def readers_by_id(store: Store, artifact_id: str, limit: int | None = None) -> Readers:
    """The executions that read this version, oldest first (ids are UUIDv7: the index's own
    order, so the first ``limit`` cost ``limit`` index steps, never a sort of them all)."""
    args: tuple[Any, ...] = (artifact_id,) if limit is None else (artifact_id, limit + 1)
    ids = [
        str(r[0])
        for r in store.conn.execute(
            "SELECT execution_id FROM accesses WHERE artifact_id = ? AND role = 'read'"
            " ORDER BY execution_id" + ("" if limit is None else " LIMIT ?"),
            args,
        )
    ]
    if limit is not None and len(ids) > limit:
        return Readers(ids[:limit], True)
    return Readers(ids, False)


def readers_of_many(store: Store, artifact_ids: list[str]) -> list[tuple[str, str]]:
    """(artifact id, execution id) of every read of these versions, oldest first per artifact."""
    out: list[tuple[str, str]] = []
    for chunk in chunks(artifact_ids):
        out += [
            (str(a), str(e))
            for a, e in store.conn.execute(
                "SELECT artifact_id, execution_id FROM accesses"
                f" WHERE role = 'read' AND artifact_id IN ({marks(chunk)})"
                " ORDER BY artifact_id, execution_id",
                chunk,
            )
        ]
    order = {a: i for i, a in enumerate(artifact_ids)}
    return sorted(out, key=lambda r: order[r[0]])


def count_accesses(store: Store, artifact_id: str, role: str) -> int:
    """How many executions read (or wrote) this version: counted in its index."""
    row = store.conn.execute(
        "SELECT count(*) FROM accesses WHERE artifact_id = ? AND role = ?", (artifact_id, role)
    ).fetchone()
    return int(row[0])


def written_files(store: Store) -> list[str]:
    """Every local path (not URL) some execution wrote, sorted."""
    return [
        str(r[0])
        for r in store.conn.execute(
            "SELECT DISTINCT jl_here(a.uri, a.rel) AS path FROM artifacts a JOIN accesses ac"
            " ON ac.artifact_id = a.id AND ac.role = 'write' WHERE a.uri NOT LIKE '%://%'"
            " ORDER BY path"
        )
    ]
