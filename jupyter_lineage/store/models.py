"""The model catalogue's records: which versions of which files were written and by what, and
the tags that name versions (``production``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .db import Store
from .filters import condition
from .location import relative
from .sql import chunks, marks


def written_versions(
    store: Store,
    *,
    kind: str | None = "model",
    uri: str | None = None,
    tag: str | None = None,
    where: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Every artifact version some execution wrote (of ``kind``, of ``uri``, holding ``tag``,
    written by a run meeting every ``where`` condition), newest write first, each with the
    execution that wrote it last: artifact, uri, hash, size, kind, run_id, seq, execution,
    written."""
    clauses: list[str] = []
    args: list[Any] = []
    if kind:
        clauses.append("a.kind = ?")
        args.append(kind)
    if uri:
        clauses.append("(a.uri = ? OR a.rel = ?)")
        args += [uri, relative(uri, store.root)]
    if tag:
        clauses.append("a.id IN (SELECT artifact_id FROM tags WHERE name = ?)")
        args.append(tag)
    for text in where:
        sql, values = condition(text)
        clauses.append(f"e.run_id IN (SELECT id FROM runs WHERE {sql})")
        args += values
    filters = (" AND " + " AND ".join(clauses)) if clauses else ""
    # SQLite's bare columns of a MAX() aggregate come from the row holding the maximum: the
    # latest write of each version.
    return store.query(
        "SELECT a.id AS artifact, jl_here(a.uri, a.rel) AS uri, a.hash, a.size, a.kind, e.run_id, e.seq,"
        " e.id AS execution, MAX(e.started) AS written FROM artifacts a"
        " JOIN accesses ac ON ac.artifact_id = a.id AND ac.role = 'write'"
        f" JOIN executions e ON e.id = ac.execution_id WHERE 1 = 1{filters}"
        " GROUP BY a.id ORDER BY written DESC, a.id DESC",
        args,
    )


def environment_ids(store: Store, run_ids: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for chunk in chunks(run_ids):
        for run_id, env_id in store.conn.execute(
            f"SELECT id, environment_id FROM runs WHERE id IN ({marks(chunk)})", chunk
        ):
            out[run_id] = env_id
    return out


def tags_of(store: Store, artifact_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each version's tags: name, when and by whom, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in artifact_ids}
    for chunk in chunks(artifact_ids):
        for art, name, created, user in store.conn.execute(
            "SELECT artifact_id, name, created, user FROM tags"
            f" WHERE artifact_id IN ({marks(chunk)}) ORDER BY created, name",
            chunk,
        ):
            out[art].append({"name": name, "created": created, "user": user})
    return out


# A tag names a version of a *path*: a path inside the project is matched by where it lies in
# the project too (the tag's own ``uri`` is where the project was when it was tagged).
_SAME_PATH = "name = ? AND (uri = ? OR artifact_id IN (SELECT id FROM artifacts WHERE rel = ?))"


def tagged(store: Store, uri: str, name: str) -> str | None:
    """The version of ``uri`` that holds tag ``name``."""
    row = store.conn.execute(
        f"SELECT artifact_id FROM tags WHERE {_SAME_PATH}",
        (name, uri, relative(uri, store.root)),
    ).fetchone()
    return str(row[0]) if row else None


def set_tag(store: Store, uri: str, name: str, artifact_id: str, created: str, user: str) -> None:
    """Tag this version; the tag leaves whichever other version of the path held it."""
    with store.write() as conn:
        conn.execute(
            f"DELETE FROM tags WHERE {_SAME_PATH}",
            (name, uri, relative(uri, store.root)),
        )
        conn.execute(
            "INSERT OR REPLACE INTO tags (uri, name, artifact_id, created, user)"
            " VALUES (?, ?, ?, ?, ?)",
            (uri, name, artifact_id, created, user),
        )


def remove_tag(store: Store, uri: str, name: str) -> bool:
    with store.write() as conn:
        return (
            conn.execute(
                f"DELETE FROM tags WHERE {_SAME_PATH}",
                (name, uri, relative(uri, store.root)),
            ).rowcount
            > 0
        )


def tagged_artifacts(store: Store) -> list[str]:
    """Every version some tag names (``gc`` keeps the runs that wrote them)."""
    return [str(r[0]) for r in store.conn.execute("SELECT DISTINCT artifact_id FROM tags")]
