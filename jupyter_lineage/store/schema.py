"""The lineage graph's schema: an ordered list of forward migrations.

``PRAGMA user_version`` holds how many migrations a database has had. A database written by a
newer jupyter-lineage (a higher version than we know) is refused, never altered.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..hashing import tree_text
from ..ids import run_name
from .location import project_root

Migration = Callable[[sqlite3.Connection], None]


def statements(script: str) -> list[str]:
    """The statements of an SQL script, each whole: a ``;`` inside a string literal, a comment
    or a trigger body (``BEGIN …; …; END``) does not end one (SQLite itself decides, through
    ``sqlite3.complete_statement``). A last statement without its ``;`` is kept too."""
    *pieces, tail = script.split(";")
    out: list[str] = []
    current = ""
    for piece in pieces:
        current += piece + ";"
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    current = (current + tail).strip()
    if current:
        out.append(current)
    return [s for s in out if s.strip("; \t\r\n")]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run a migration script inside the migration's transaction (``executescript`` would
    COMMIT it first)."""
    for statement in statements(script):
        conn.execute(statement)


def _v1_initial(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            notebook TEXT,
            notebook_hash TEXT,
            status TEXT NOT NULL,
            started TEXT NOT NULL,
            ended TEXT,
            environment_id TEXT,
            git_id TEXT,
            parent_id TEXT,
            user TEXT,
            host TEXT,
            pid INTEGER,
            pid_start TEXT,
            cwd TEXT,
            error_name TEXT,
            error_value TEXT,
            failed_execution_id TEXT
        );
        CREATE INDEX runs_notebook ON runs(notebook, started);
        CREATE INDEX runs_parent ON runs(parent_id);
        CREATE INDEX runs_status ON runs(status);

        CREATE TABLE sources (hash TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;

        CREATE TABLE executions (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            cell_id TEXT,
            execution_count INTEGER,
            source_hash TEXT,
            started TEXT NOT NULL,
            duration_ms REAL,
            error_name TEXT,
            error_value TEXT,
            UNIQUE (run_id, seq)
        );

        CREATE TABLE artifacts (
            id TEXT PRIMARY KEY,
            uri TEXT NOT NULL,
            hash TEXT NOT NULL,
            size INTEGER,
            kind TEXT NOT NULL,
            first_seen TEXT,
            UNIQUE (uri, hash)
        );
        CREATE INDEX artifacts_hash ON artifacts(hash);

        CREATE TABLE accesses (
            execution_id TEXT NOT NULL,
            artifact_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('read', 'write')),
            PRIMARY KEY (execution_id, artifact_id, role)
        ) WITHOUT ROWID;
        CREATE INDEX accesses_artifact ON accesses(artifact_id, role);

        CREATE TABLE environments (
            id TEXT PRIMARY KEY,
            python TEXT,
            platform TEXT,
            data TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE run_environments (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            environment_id TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE git_states (
            id TEXT PRIMARY KEY,
            commit_sha TEXT,
            branch TEXT,
            dirty INTEGER,
            remote TEXT,
            root TEXT,
            diff_hash TEXT
        ) WITHOUT ROWID;

        CREATE TABLE git_diffs (hash TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;

        CREATE TABLE params (
            run_id TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (run_id, name)
        ) WITHOUT ROWID;

        CREATE TABLE metrics (
            run_id TEXT NOT NULL,
            name TEXT NOT NULL,
            step INTEGER NOT NULL DEFAULT -1,
            value,
            recorded TEXT,
            execution_id TEXT,
            PRIMARY KEY (run_id, name, step)
        ) WITHOUT ROWID;

        CREATE TABLE hash_cache (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            hash TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    )


def _v2_pipelines(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE blobs (hash TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE run_files (
            run_id TEXT NOT NULL,
            artifact_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('read', 'write')),
            PRIMARY KEY (run_id, artifact_id, role)
        ) WITHOUT ROWID;
        ALTER TABLE runs ADD COLUMN outputs_hash TEXT;
        CREATE INDEX executions_run ON executions(run_id, seq)
        """,
    )


def _v3_drop_redundant_index(conn: sqlite3.Connection) -> None:
    # UNIQUE (run_id, seq) already indexes executions by run; a second index only cost every
    # per-cell commit another page write.
    conn.execute("DROP INDEX IF EXISTS executions_run")


def _v4_hash_errors(conn: sqlite3.Connection) -> None:
    # A file that could not be hashed is recorded with hash "" and why, never as a changed file.
    conn.execute("ALTER TABLE artifacts ADD COLUMN hash_error TEXT")


def _v5_versions(conn: sqlite3.Connection) -> None:
    # A remote object's version identity (ETag, Last-Modified, size, S3 version id, GCS
    # generation) as its server or filesystem states it: read without downloading it again.
    conn.execute("ALTER TABLE artifacts ADD COLUMN version TEXT")


def _v6_tags(conn: sqlite3.Connection) -> None:
    # A tag names one version of a path (``production``): tagging another version moves it.
    run_script(
        conn,
        """
        CREATE TABLE tags (
            uri TEXT NOT NULL,
            name TEXT NOT NULL,
            artifact_id TEXT NOT NULL,
            created TEXT NOT NULL,
            user TEXT,
            PRIMARY KEY (uri, name)
        ) WITHOUT ROWID;
        CREATE INDEX tags_artifact ON tags(artifact_id);
        CREATE INDEX tags_name ON tags(name)
        """,
    )


def _v7_dataflow(conn: sqlite3.Connection) -> None:
    # Cell-level dataflow: what each execution defined, updated and used (JSON, NULL when
    # recorded before this version: such an execution depends on every earlier one of its run),
    # and the execution -> earlier execution edges with the names that link them.
    run_script(
        conn,
        """
        ALTER TABLE executions ADD COLUMN dataflow TEXT;
        CREATE TABLE dependencies (
            execution_id TEXT NOT NULL,
            upstream_id TEXT NOT NULL,
            names TEXT NOT NULL,
            PRIMARY KEY (execution_id, upstream_id)
        ) WITHOUT ROWID;
        CREATE INDEX dependencies_upstream ON dependencies(upstream_id)
        """,
    )


def _v8_cached_runs(conn: sqlite3.Connection) -> None:
    # A run reused by --cache (kind 'cached') names the run whose results it reuses.
    conn.execute("ALTER TABLE runs ADD COLUMN cached_from TEXT")


def _v9_relative_paths(conn: sqlite3.Connection) -> None:
    # Paths inside the project root (the folder holding .lineage/) also relative to it, so a
    # moved or copied project keeps its lineage; the absolute path stays as the fallback.
    conn.execute("ALTER TABLE artifacts ADD COLUMN rel TEXT")
    conn.execute("CREATE INDEX artifacts_rel ON artifacts(rel) WHERE rel IS NOT NULL")
    conn.execute("ALTER TABLE runs ADD COLUMN notebook_rel TEXT")
    file = next((row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not file:
        return
    root = str(project_root(file)).rstrip("/") + "/"
    conn.execute(
        "UPDATE artifacts SET rel = substr(uri, ?) WHERE substr(uri, 1, ?) = ?",
        (len(root) + 1, len(root), root),
    )
    conn.execute(
        "UPDATE runs SET notebook_rel = substr(notebook, ?) WHERE substr(notebook, 1, ?) = ?",
        (len(root) + 1, len(root), root),
    )


def _v10_folder_members(conn: sqlite3.Connection) -> None:
    # A folder read or written as one dataset (uri ending in "/", a tree hash): its files, once
    # per folder version, so an unchanged folder re-read adds no row here.
    run_script(
        conn,
        """
        CREATE TABLE artifact_members (
            artifact_id TEXT NOT NULL,
            name TEXT NOT NULL,
            hash TEXT NOT NULL,
            size INTEGER,
            PRIMARY KEY (artifact_id, name)
        ) WITHOUT ROWID
        """,
    )


def _v11_child_processes(conn: sqlite3.Connection) -> None:
    # A Python child of a tracked cell (capture/child.py): its files are the cell's accesses;
    # this says which process it was (command line, pid, when) and which of them were its own.
    run_script(
        conn,
        """
        CREATE TABLE child_processes (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            execution_id TEXT NOT NULL,
            pid INTEGER,
            argv TEXT,
            started TEXT,
            ended TEXT
        );
        CREATE INDEX child_processes_execution ON child_processes(execution_id);
        CREATE TABLE child_accesses (
            process_id TEXT NOT NULL,
            artifact_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('read', 'write')),
            PRIMARY KEY (process_id, artifact_id, role)
        ) WITHOUT ROWID
        """,
    )


def _v12_test_cells(conn: sqlite3.Connection) -> None:
    # A run of kind `test` (pytest --nbval --lineage): each notebook cell's outcome and test id.
    run_script(
        conn,
        """
        CREATE TABLE test_cells (
            run_id TEXT NOT NULL,
            cell INTEGER NOT NULL,
            nodeid TEXT NOT NULL,
            outcome TEXT NOT NULL,
            message TEXT,
            PRIMARY KEY (run_id, cell)
        ) WITHOUT ROWID
        """,
    )


def _v13_run_names(conn: sqlite3.Connection) -> None:
    # A short memorable name per run (unique, so it works wherever an id does) and a note.
    conn.execute("ALTER TABLE runs ADD COLUMN name TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN note TEXT")
    conn.execute("CREATE UNIQUE INDEX runs_name ON runs(name) WHERE name IS NOT NULL")
    taken: set[str] = set()
    for (run_id,) in conn.execute("SELECT id FROM runs ORDER BY started, id").fetchall():
        name = next(n for n in (run_name(run_id, i) for i in range(1000)) if n not in taken)
        taken.add(name)
        conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))


def _v14_git_errors(conn: sqlite3.Connection) -> None:
    # Why the git state could not be read: a repository git failed on is said as such, never
    # recorded as a clean repository with no commit.
    conn.execute("ALTER TABLE git_states ADD COLUMN error TEXT")


def _v15_folder_member_lists(conn: sqlite3.Connection) -> None:
    # A folder's files as ONE value, keyed by its tree hash (content-addressed like sources: the
    # same folder content moved or copied is stored once): a first read of 2,000 files writes
    # one row, not 2,000. ``members`` is the text the tree hash covers (hashing.tree_text).
    run_script(
        conn,
        """
        CREATE TABLE folder_members (
            hash TEXT PRIMARY KEY,
            files INTEGER NOT NULL,
            members TEXT NOT NULL
        )
        """,
    )
    rows = conn.execute(
        "SELECT a.hash, m.artifact_id, m.name, m.hash, m.size FROM artifact_members m"
        " JOIN artifacts a ON a.id = m.artifact_id ORDER BY a.hash, m.artifact_id"
    )
    lists: dict[str, tuple[str, list[tuple[str, str, int]]]] = {}
    for tree, owner, name, digest, size in rows:
        # every artifact with that tree hash holds the same files: the first one's are kept
        first = lists.setdefault(tree, (owner, []))
        if first[0] == owner:
            first[1].append((name, digest, size or 0))
    conn.executemany(
        "INSERT INTO folder_members (hash, files, members) VALUES (?, ?, ?)",
        [(tree, len(members), tree_text(members)) for tree, (_, members) in lists.items()],
    )
    conn.execute("DROP TABLE artifact_members")


MIGRATIONS: list[tuple[str, Migration]] = [
    ("initial", _v1_initial),
    ("pipelines: notebook snapshots, run-level files, cell outputs", _v2_pipelines),
    ("drop a redundant index on executions", _v3_drop_redundant_index),
    ("artifacts.hash_error: why a file could not be hashed", _v4_hash_errors),
    ("artifacts.version: a remote object's version identity", _v5_versions),
    ("tags: named model versions (models --tag, never collected by gc)", _v6_tags),
    ("dataflow: names per execution, execution-to-execution dependencies", _v7_dataflow),
    ("runs.cached_from: the run a cached run reuses", _v8_cached_runs),
    ("artifacts.rel, runs.notebook_rel: paths relative to the project root", _v9_relative_paths),
    ("artifact_members: the files of a folder recorded as one dataset", _v10_folder_members),
    (
        "child_processes: Python children of a tracked cell and their own files",
        _v11_child_processes,
    ),
    ("test_cells: each cell's outcome in a pytest --nbval --lineage run", _v12_test_cells),
    ("runs.name, runs.note: a memorable name per run, and a note", _v13_run_names),
    ("git_states.error: why the git state could not be read", _v14_git_errors),
    ("folder_members: a folder's files as one value per tree hash", _v15_folder_member_lists),
]

SCHEMA_VERSION = len(MIGRATIONS)
