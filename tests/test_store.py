from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from jupyter_lineage.errors import (
    AmbiguousRunError,
    RunNotFoundError,
    SchemaTooNewError,
    StoreError,
    StoreMissingError,
)
from jupyter_lineage.ids import uuid7
from jupyter_lineage.store import (
    SCHEMA_VERSION,
    Store,
    open_store,
    queries,
    schema,
    writes,
)


def test_new_store_is_private_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / ".lineage" / "lineage.db"
    with Store(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (id TEXT)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer jupyter-lineage"):
        Store(path)
    assert path.read_bytes() == before


def test_corrupt_and_missing_stores_say_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable lineage database"):
        Store(bad)
    assert bad.read_bytes() == b"this is not sqlite at all" * 100
    with pytest.raises(StoreMissingError, match="--db"):
        open_store(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_uuid7_sorts_by_time_and_is_unique() -> None:
    ids = [uuid7() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def _run_with_execution(store: Store, *, source: str = "x = 1") -> str:
    run_id = writes.begin_run(
        store,
        kind="interactive",
        notebook="/tmp/nb.ipynb",
        parameters={"alpha": 0.5},
        environment={"python": "3.11", "platform": "linux", "packages": {}},
    )
    writes.record_executions(
        store,
        [
            writes.ExecutionRecord(
                run_id=run_id,
                seq=0,
                source=source,
                started="2026-01-01T00:00:00+00:00",
                duration_ms=1.0,
                accesses=[writes.Access("/data/in.csv", "blake3:aa", "read", "dataset", 3)],
            )
        ],
    )
    return run_id


def test_resolve_run_by_prefix_and_last(tmp_path: Path) -> None:
    with Store(tmp_path / "l.db") as store:
        first = _run_with_execution(store)
        second = _run_with_execution(store)
        assert queries.resolve_run(store, "@last") == second
        assert queries.resolve_run(store, "@last~1") == first
        assert queries.resolve_run(store, second[:-4]) == second
        with pytest.raises(AmbiguousRunError):
            queries.resolve_run(store, first[:4])
        with pytest.raises(RunNotFoundError, match="jupyter lineage runs"):
            queries.resolve_run(store, "@last~5")
        with pytest.raises(RunNotFoundError):
            queries.resolve_run(store, "ffffffff")
        with pytest.raises(RunNotFoundError, match="There is no run named"):
            queries.resolve_run(store, "'; DROP TABLE runs; --")
        assert store.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_sources_and_artifacts_are_deduplicated(tmp_path: Path) -> None:
    with Store(tmp_path / "l.db") as store:
        _run_with_execution(store)
        _run_with_execution(store)
        assert store.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
        assert store.conn.execute("SELECT count(*) FROM artifacts").fetchone()[0] == 1
        assert store.conn.execute("SELECT count(*) FROM environments").fetchone()[0] == 1
        assert store.conn.execute("SELECT count(*) FROM accesses").fetchone()[0] == 2


def test_dead_running_run_becomes_interrupted(tmp_path: Path) -> None:
    with Store(tmp_path / "l.db") as store:
        run_id = _run_with_execution(store)
        store.conn.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", (run_id,))
        assert store.mark_interrupted() == 1
        assert queries.show_run(store, run_id)["status"] == "interrupted"
        alive = _run_with_execution(store)  # this process is alive
        assert store.mark_interrupted() == 0
        assert queries.show_run(store, alive)["status"] == "running"


def test_hash_cache_keyed_by_stat(tmp_path: Path) -> None:
    with Store(tmp_path / "l.db") as store:
        writes.remember_hashes(store, [("/a", 1, 2, 3, "blake3:x")])
        assert writes.cached_hash(store, "/a", 1, 2, 3) == "blake3:x"
        assert writes.cached_hash(store, "/a", 1, 9, 3) is None


def test_store_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path)
    assert os.listdir(tmp_path) == []


# The same file versions, as a cell's record would hold them: a dataset read (twice: it is also
# rewritten), a URL without a size, a model written to a non-ASCII path.
ACCESSES = [
    writes.Access("/data/in.csv", "blake3:aa", "read", "dataset", 3),
    writes.Access("/data/in.csv", "blake3:bb", "write", "dataset", 4),
    writes.Access("https://example.invalid/d.parquet", "etag:1", "read", "dataset", None),
    writes.Access("/out/modèle.joblib", "blake3:cc", "write", "model", 1234567890123),
]


def _rows(store: Store, table: str, *, skip: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every row of ``table``, each value quoted as SQLite types it (1 and '1' differ)."""
    columns = [r[1] for r in store.conn.execute(f"PRAGMA table_info({table})") if r[1] not in skip]
    quoted = ", ".join(f"quote({c})" for c in columns)
    return sorted(store.conn.execute(f"SELECT {quoted} FROM {table}").fetchall())


def test_both_write_paths_store_identical_rows(tmp_path: Path) -> None:
    """The per-cell record (one statement through the TEMP trigger) and the plain inserts of
    declared files and run files write the same artifact and access rows."""
    execution_id, run_id = uuid7(), uuid7()
    with Store(tmp_path / "cell.db") as cell, Store(tmp_path / "plain.db") as plain:
        writes.record_executions(
            cell,
            [
                writes.ExecutionRecord(
                    run_id=run_id,
                    seq=0,
                    source="x = 1",
                    started="2026-01-01T00:00:00+00:00",
                    duration_ms=1.0,
                    accesses=ACCESSES,
                    id=execution_id,
                )
            ],
        )
        writes.add_accesses(plain, execution_id, ACCESSES)
        writes.add_run_files(plain, run_id, ACCESSES)
        # first_seen is the time of each write: set by both paths, equal by neither
        assert _rows(cell, "artifacts", skip=("first_seen",)) == _rows(
            plain, "artifacts", skip=("first_seen",)
        )
        for store in (cell, plain):
            stamps = [r[0] for r in store.conn.execute("SELECT first_seen FROM artifacts")]
            assert len(stamps) == 4 and all(s.startswith("20") for s in stamps)
        assert len(_rows(cell, "accesses")) == 4
        assert _rows(cell, "accesses") == _rows(plain, "accesses")
        as_run_files = [
            (repr(run_id), *row[1:])
            for row in _rows(plain, "accesses")
            if row[0] == repr(execution_id)
        ]
        assert sorted(as_run_files) == _rows(plain, "run_files")


def test_migration_scripts_run_whole_statements_inside_the_transaction(tmp_path: Path) -> None:
    """A trigger body and a string literal hold ';' without ending their statement, and the
    script runs inside the caller's transaction (a rollback undoes all of it)."""
    script = """
        CREATE TABLE t (a TEXT);
        -- a comment; with a semicolon
        CREATE TRIGGER t_echo AFTER INSERT ON t WHEN NEW.a = 'go' BEGIN
          INSERT INTO t (a) VALUES ('echo; of go');
          UPDATE t SET a = a || ';' WHERE a = 'never';
        END;
        INSERT INTO t (a) VALUES ('it''s; fine'); INSERT INTO t (a) VALUES ('go')
    """
    assert len(schema.statements(script)) == 4
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        schema.run_script(conn, script)
        assert conn.in_transaction
        rows = sorted(r[0] for r in conn.execute("SELECT a FROM t"))
        assert rows == ["echo; of go", "go", "it's; fine"]
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        conn.close()
