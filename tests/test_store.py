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
    default_db_path,
    open_store,
    queries,
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


def test_db_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    assert default_db_path(repo / "sub" / "nb.ipynb") == repo / ".lineage" / "lineage.db"
    loose = tmp_path / "loose"
    loose.mkdir()
    assert default_db_path(loose / "nb.ipynb") == loose / ".lineage" / "lineage.db"
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(tmp_path / "env.db"))
    assert default_db_path(repo / "sub" / "nb.ipynb") == tmp_path / "env.db"
    assert default_db_path(repo / "nb.ipynb", str(tmp_path / "x.db")) == tmp_path / "x.db"


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
        with pytest.raises(RunNotFoundError, match="not a run id"):
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
