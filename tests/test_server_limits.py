"""The REST API under attack and load, against a real jupyter_server: confinement by real path
(symlinks followed), a store outside the root, 4xx for every bad input, bounded work, and no
request that can stall the server."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.errors import RequestTimeoutError, ServerBusyError, StoreBusyError
from jupyter_lineage.server.blocking import Pool
from jupyter_lineage.store import Store

pytest_plugins = ["pytest_jupyter.jupyter_server"]

HUGE = "9" * 30


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_lineage": True}}}


def _record(notebook: Path, *, db: Path | None = None, writes: str = "out.txt") -> str:
    """One run of ``notebook`` that reads data.csv and writes ``writes`` next to it."""
    folder = notebook.parent
    (folder / "data.csv").write_text("x\n1\n")
    t = Tracker(notebook=str(notebook), db=str(db) if db else None)
    t.begin_execution("d = open('data.csv').read()", "read")
    (folder / "data.csv").read_text()
    t.end_execution(execution_count=1)
    t.begin_execution(f"open('{writes}', 'w').write(d)", "write")
    (folder / writes).write_text("x")
    t.end_execution(execution_count=2)
    t.close()
    return str(t.run_id)


async def _get(jp_fetch: Any, *path: str, **params: str) -> Any:
    response = await jp_fetch("lineage", "api", *path, params=params)
    assert response.code == 200
    return json.loads(response.body)


async def _error(jp_fetch: Any, *path: str, **params: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("lineage", "api", *path, params=params)
    assert info.value.response is not None
    body = json.loads(info.value.response.body)
    assert set(body) == {"code", "message"} and body["message"], body
    return info.value.code, body


@pytest.fixture
def inside(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(jp_root_dir)
    (jp_root_dir / "nb.ipynb").write_text("{}")
    return {"root": jp_root_dir, "run": _record(jp_root_dir / "nb.ipynb")}


@pytest.fixture
def outside(tmp_path: Path) -> dict[str, Any]:
    """A project outside the server root, with its own store and run."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.ipynb").write_text("{}")
    run = _record(folder / "secret.ipynb", db=folder / ".lineage" / "lineage.db")
    return {"folder": folder, "db": folder / ".lineage" / "lineage.db", "run": run}


async def test_symlinks_out_of_the_root_are_refused(
    jp_fetch: Any, inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    root = inside["root"]
    (root / "link.db").symlink_to(outside["db"])
    (root / "linkdir").symlink_to(outside["db"].parent)
    (root / "nbdir").symlink_to(outside["folder"])
    for params in (
        {"db": "link.db"},
        {"db": "linkdir/lineage.db"},
        {"notebook": "nbdir/secret.ipynb"},
        {"notebook": "nb.ipynb", "db": "link.db"},
    ):
        code, body = await _error(jp_fetch, "runs", **params)
        assert code == 403 and body["code"] == "outside_root", params
        assert outside["run"] not in json.dumps(body)
    # a symlink that stays inside the root is fine
    (root / "sub").mkdir()
    (root / ".lineage" / "lineage.db").rename(root / "sub" / "real.db")
    for suffix in ("-wal", "-shm"):
        (root / ".lineage" / f"lineage.db{suffix}").unlink(missing_ok=True)
    (root / "alias.db").symlink_to(root / "sub" / "real.db")
    runs = await _get(jp_fetch, "runs", notebook="nb.ipynb", db="alias.db")
    assert [r["id"] for r in runs] == [inside["run"]]


@pytest.fixture
def recorded(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(jp_root_dir)
    (jp_root_dir / "nb.ipynb").write_text("{}")
    db = jp_root_dir / ".lineage" / "lineage.db"
    runs = [_record(jp_root_dir / "nb.ipynb", db=db) for _ in range(3)]
    return {"root": jp_root_dir, "runs": runs, "db": db}


async def test_bad_input_is_a_4xx_with_the_error_shape(
    jp_fetch: Any, recorded: dict[str, Any]
) -> None:
    root = recorded["root"]
    (root / "text.db").write_text("not a database\n" * 50)
    (root / "empty.db").write_bytes(b"")
    cases: list[tuple[str, dict[str, str], int]] = [
        ("runs", {"notebook": "a" * 300 + ".ipynb"}, 400),
        ("runs", {"notebook": "nb.ipynb", "db": "b" * 300 + ".db"}, 400),
        ("runs", {"notebook": "d/" * 2100 + "nb.ipynb"}, 400),
        ("runs", {"notebook": "nb.ipynb", "limit": HUGE}, 400),
        ("runs", {"notebook": "nb.ipynb", "limit": "1001"}, 400),
        ("runs", {"notebook": "nb.ipynb", "offset": HUGE}, 400),
        ("runs", {"notebook": "nb.ipynb", "where": f"auc < {HUGE}"}, 400),
        ("runs", {"notebook": "nb.ipynb", "where": "auc < 0,8"}, 400),
        ("runs", {"notebook": "nb.ipynb", "db": "text.db"}, 422),
        ("runs", {"notebook": "nb.ipynb", "db": "empty.db"}, 422),
        ("runs", {"notebook": "nb.ipynb", "db": "."}, 422),
        ("diff", {"notebook": "nb.ipynb", "a": f"@last~{HUGE}", "b": "@last"}, 404),
        ("graph", {"notebook": "nb.ipynb", "depth": "11"}, 400),
        ("graph", {"notebook": "nb.ipynb", "depth": HUGE}, 400),
        ("graph", {"run": f"@last~{HUGE}"}, 404),
        ("graph", {"notebook": "nb.ipynb", "expand": "x" * 5000}, 404),
    ]
    for path, params, status in cases:
        code, body = await _error(jp_fetch, path, **params)
        assert code == status, (path, params, code, body)
    assert (root / "empty.db").stat().st_size == 0


async def test_work_per_request_is_bounded(
    jp_fetch: Any, recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_lineage import graph
    from jupyter_lineage.server import handlers

    full = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    assert full["truncated"] is False and len([n for n in full["nodes"] if n["type"] == "run"]) == 3
    monkeypatch.setattr(graph, "MAX_GRAPH_RUNS", 2)
    cut = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    assert cut["truncated"] is True and len([n for n in cut["nodes"] if n["type"] == "run"]) == 2
    monkeypatch.setattr(graph, "MAX_GRAPH_NODES", 3)
    cut = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    assert cut["truncated"] is True and len(cut["nodes"]) == 3
    ids = {n["id"] for n in cut["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in cut["edges"])
    _record(recorded["root"] / "nb.ipynb", db=recorded["db"], writes="other.txt")
    (recorded["root"] / "data.csv").write_text("changed\n")
    assert len(await _get(jp_fetch, "status")) == 2
    monkeypatch.setattr(handlers, "MAX_STATUS", 1)
    assert len(await _get(jp_fetch, "status")) == 1


async def test_a_fifo_where_an_output_was_never_blocks(
    jp_fetch: Any, recorded: dict[str, Any]
) -> None:
    out = recorded["root"] / "out.txt"
    out.unlink()
    os.mkfifo(out)
    status = await _get(jp_fetch, "status", notebook="nb.ipynb")
    assert [s["state"] for s in status] == ["modified"]
    response = await jp_fetch("api", "status")
    assert response.code == 200


async def test_the_server_answers_while_a_lineage_request_waits(
    jp_fetch: Any, jp_serverapp: Any, recorded: dict[str, Any]
) -> None:
    """A request stuck on a locked store runs in the pool: jupyter_server's own /api/status
    answers meanwhile; the lineage request completes once the lock goes."""
    db = recorded["db"]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # a rollback journal: a writer blocks readers
    conn.execute("BEGIN EXCLUSIVE")
    pool = jp_serverapp.web_app.settings["lineage_pool"]
    try:
        slow = asyncio.ensure_future(
            jp_fetch("lineage", "api", "runs", params={"notebook": "nb.ipynb"})
        )
        for _ in range(3000):  # until the lineage request is in the pool
            if pool.pending:
                break
            await asyncio.sleep(0.01)
        response = await jp_fetch("api", "status")
        assert response.code == 200
        assert not slow.done() and pool.pending == 1
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    runs = json.loads((await slow).body)
    assert len(runs) == 3


def test_the_pool_bounds_time_and_queue(tmp_path: Path) -> None:
    """The pool itself: a request over its time is a timeout, a flood is turned away."""
    import threading

    release = threading.Event()

    async def scenario() -> None:
        pool = Pool(workers=1, timeout=0.2)
        with pytest.raises(RequestTimeoutError):
            await pool.run(lambda: release.wait(30))
        waiting = [asyncio.ensure_future(pool.run(lambda: release.wait(30))) for _ in range(4)]
        await asyncio.sleep(0)
        with pytest.raises(ServerBusyError):
            await pool.run(lambda: 1)
        release.set()
        for task in waiting:
            try:
                await task
            except RequestTimeoutError:
                pass
        pool.shutdown()

    asyncio.run(scenario())


def test_store_reads_stop_at_the_time_bound(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store(db).close()
    with Store(db, readonly=True) as store:
        endless = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
        )
        with pytest.raises(RequestTimeoutError), store.time_bound(0.2):
            store.query(endless)
        assert store.query("SELECT 1 AS one") == [{"one": 1}]  # the connection is still good
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("PRAGMA journal_mode = DELETE")
    lock.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreBusyError):
            Store(db, readonly=True, busy_ms=200)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
