"""Moving records between store files: a consistent snapshot of one, and the merge of one into
another (ids are global and artifacts content-addressed, so a merge is a union, and merging
twice changes nothing)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreError, UsageError
from .db import Store
from .writes import free_name

# Tables in dependency order; the hash cache is machine-specific and never merged.
TABLES = (
    "sources",
    "environments",
    "git_diffs",
    "git_states",
    "blobs",
    "runs",
    "run_environments",
    "executions",
    "dependencies",
    "artifacts",
    "folder_members",
    "accesses",
    "child_processes",
    "child_accesses",
    "run_files",
    "params",
    "metrics",
    "tags",
    "test_cells",
)


_RELATIVE = {
    (table, rel): f"CASE WHEN substr({col}, 1, length(?)) = ? THEN substr({col}, length(?) + 1) END"
    for table, col, rel in (("artifacts", "uri", "rel"), ("runs", "notebook", "notebook_rel"))
}
# A run name taken here by another run: the incoming run gets a free name after the copy.
_RENAMED = (
    "CASE WHEN name IN (SELECT name FROM main.runs WHERE name IS NOT NULL) THEN NULL ELSE name END"
)


def snapshot_to(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy a lineage database file with everything committed, WAL included (SQLite's backup
    API); ``source`` is opened read-only and never changed."""
    path = Path(source).expanduser().absolute()
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
            backup = sqlite3.connect(dest)
            try:
                probe.backup(backup)
            finally:
                backup.close()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{source} is not a readable lineage database ({exc}).") from None


def merge_source(other: str | os.PathLike[str], into: Path) -> Path:
    """The database to merge into the one at ``into``, checked before anything is opened."""
    source = Path(other).expanduser().absolute()
    if not source.is_file():
        raise UsageError(f"{other} is not a file; pass the path of a lineage database to merge.")
    if source == into:
        raise UsageError("A store cannot be merged into itself; pass another database.")
    return source


def merge_into(db: Path, other: str | os.PathLike[str]) -> dict[str, int]:
    """Merge ``other`` into the database at ``db`` (created if missing, once ``other`` is known
    to be a whole lineage database: a failed merge creates and writes nothing); returns rows
    added per table."""
    source = merge_source(other, db)
    with readable_copy(source, other) as copy, Store(db) as store:
        return merge_file(store, copy)


def merge(store: Store, other: str | os.PathLike[str]) -> dict[str, int]:
    """Copy every record of ``other`` that ``store`` lacks; returns rows added per table.

    ``other`` is never modified: an older schema is upgraded in a temporary copy.
    """
    source = merge_source(other, store.path)
    with readable_copy(source, other) as copy:
        return merge_file(store, copy)


@contextlib.contextmanager
def readable_copy(source: Path, shown: str | os.PathLike[str]) -> Iterator[Path]:
    """A checked snapshot of ``source`` at the current schema, in a temporary folder.

    Taken before the target is opened, so a source that is not a whole lineage database
    (truncated, empty, foreign) fails the merge before anything is created or written.
    """
    with tempfile.TemporaryDirectory(prefix="lineage-merge-") as tmp:
        copy = Path(tmp) / "other.db"
        try:
            snapshot_to(source, copy)
        except StoreError as exc:
            text = str(exc).replace(str(source), str(shown)).removesuffix(".")
            raise StoreError(f"{text}; nothing was merged.") from None
        check = sqlite3.connect(copy)
        try:
            verdict = check.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
        finally:
            check.close()
        if verdict != "ok":
            raise StoreError(
                f"{shown} is not a readable lineage database ({verdict}); nothing was merged."
            )
        try:
            # refuses a newer schema or a foreign file, upgrades an older one (the copy only)
            Store(copy, create=False).close()
        except StoreError as exc:
            raise type(exc)(
                str(exc).replace(str(copy), str(shown)) + " Nothing was merged.", str(source)
            ) from None
        yield copy


def merge_file(store: Store, path: Path) -> dict[str, int]:
    added: dict[str, int] = {}
    store.conn.execute("ATTACH DATABASE ? AS other", (str(path),))
    try:
        with store.write() as conn:
            root = store.root.rstrip("/") + "/"
            for table in TABLES:
                names = list(store.db[table].columns_dict)
                cols = ", ".join(names)
                # Relative paths are relative to each store's own project: recomputed for this
                # one (a store of another project, or of the same one elsewhere, keeps its
                # absolute paths).
                values = ", ".join(
                    _RENAMED if (table, n) == ("runs", "name") else _RELATIVE.get((table, n), n)
                    for n in names
                )
                before = conn.total_changes
                conn.execute(
                    f"INSERT OR IGNORE INTO main.{table} ({cols}) SELECT {values} FROM other.{table}",
                    [root] * (3 * sum((table, n) in _RELATIVE for n in names)),
                )
                added[table] = conn.total_changes - before
            unnamed = conn.execute("SELECT id FROM main.runs WHERE name IS NULL").fetchall()
            for (run_id,) in unnamed:
                name = free_name(conn, run_id)
                conn.execute("UPDATE main.runs SET name = ? WHERE id = ?", (name, run_id))
            # A run still "running" here may have ended in the other store.
            conn.execute(
                "UPDATE main.runs SET status = o.status, ended = o.ended, error_name = o.error_name,"
                " error_value = o.error_value, failed_execution_id = o.failed_execution_id,"
                " outputs_hash = o.outputs_hash"
                " FROM other.runs AS o WHERE o.id = main.runs.id"
                " AND main.runs.status = 'running' AND o.status != 'running'"
            )
    finally:
        store.conn.execute("DETACH DATABASE other")
    return added
