"""The REST API against a real jupyter_server (pytest-jupyter), on a store made by real capture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient

from jupyter_lineage.capture.tracker import Tracker

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(autouse=True)
def _store_follows_the_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the server starts: no database override from the environment."""
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_lineage": True}}}


def _cell(tracker: Tracker, source: str, action: Any) -> None:
    tracker.begin_execution(source, f"cell-{tracker.seq}")
    action()
    tracker.end_execution(execution_count=tracker.seq + 1)


@pytest.fixture
def recorded(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two runs of nb.ipynb in the server root, captured for real (in-process tracker)."""
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    monkeypatch.chdir(jp_root_dir)
    (jp_root_dir / "nb.ipynb").write_text("{}")
    (jp_root_dir / "data.csv").write_text("x\n1\n")
    ids = []
    for alpha in (0.5, 0.7):
        t = Tracker(notebook=str(jp_root_dir / "nb.ipynb"), parameters={"alpha": alpha})
        _cell(t, "raw = Path('data.csv').read_text()", lambda: Path("data.csv").read_text())
        _cell(t, "<img src=x onerror=alert(1)>", lambda: None)
        _cell(
            t,
            "Path('model.pkl').write_text(raw)",
            lambda a=alpha: Path("model.pkl").write_text(f"{a}"),
        )
        t.close()
        ids.append(t.run_id)
    return {"ids": ids, "root": jp_root_dir}


async def _get(jp_fetch: Any, *path: str, **params: str) -> Any:
    response = await jp_fetch("lineage", "api", *path, params=params)
    assert response.code == 200
    return json.loads(response.body)


async def _error(jp_fetch: Any, *path: str, **params: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("lineage", "api", *path, params=params)
    assert info.value.response is not None
    return info.value.code, json.loads(info.value.response.body)


async def test_runs_and_one_run(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    runs = await _get(jp_fetch, "runs", notebook="nb.ipynb")
    assert [r["id"] for r in runs] == recorded["ids"][::-1]
    assert runs[0]["parameters"] == {"alpha": 0.7} and runs[0]["executions"] == 3
    paged = await _get(jp_fetch, "runs", notebook="nb.ipynb", limit="1", offset="1")
    assert [r["id"] for r in paged] == [recorded["ids"][0]]
    assert await _get(jp_fetch, "runs", notebook="other.ipynb") == []
    one = await _get(jp_fetch, "runs", recorded["ids"][0], notebook="nb.ipynb")
    assert one["executions"][1]["source"] == "<img src=x onerror=alert(1)>"
    assert one["files_written"][0]["path"] == str(recorded["root"] / "model.pkl")


async def test_graph_diff_and_status(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    g = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    kinds = sorted(n["type"] for n in g["nodes"])
    assert kinds == ["artifact", "artifact", "artifact", "run", "run"]  # csv, 2 model versions
    assert {e["type"] for e in g["edges"]} == {"read", "wrote"}
    run = recorded["ids"][1]
    expanded = await _get(jp_fetch, "graph", notebook="nb.ipynb", expand=run)
    cells = [n for n in expanded["nodes"] if n["type"] == "execution"]
    assert len(cells) == 3 and {e["type"] for e in expanded["edges"]} >= {"contains", "flow"}
    model = next(
        n
        for n in g["nodes"]
        if n["type"] == "artifact"
        and n["name"] == "model.pkl"
        and any(e["source"] == run and e["target"] == n["id"] for e in g["edges"])
    )
    upstream = await _get(jp_fetch, "graph", artifact=model["id"], notebook="nb.ipynb")
    assert {n["name"] for n in upstream["nodes"] if n["type"] == "artifact"} >= {"data.csv"}
    d = await _get(jp_fetch, "diff", a=recorded["ids"][0], b=run, notebook="nb.ipynb")
    assert d["parameters"] == {"changed": {"alpha": {"a": 0.5, "b": 0.7}}}
    (recorded["root"] / "data.csv").write_text("x\n2\n")
    status = await _get(jp_fetch, "status", notebook="nb.ipynb")
    assert [s["state"] for s in status] == ["stale"]
    g2 = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    assert any(n.get("stale") for n in g2["nodes"])


async def test_graph_says_how_many_runs_it_shows(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    whole = await _get(jp_fetch, "graph", notebook="nb.ipynb")
    assert (whole["shown"], whole["total"]) == (2, 2)
    newest = await _get(jp_fetch, "graph", notebook="nb.ipynb", limit="1")
    assert (newest["shown"], newest["total"]) == (1, 2)
    assert [n["id"] for n in newest["nodes"] if n["type"] == "run"] == [recorded["ids"][1]]
    one = await _get(jp_fetch, "graph", run=recorded["ids"][0], notebook="nb.ipynb")
    assert (one["shown"], one["total"]) == (1, 1)
    code, body = await _error(jp_fetch, "graph", notebook="nb.ipynb", limit="0")
    assert code == 400 and "between 1 and 200" in body["message"]


async def test_runs_where(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    second = recorded["ids"][1]
    rows = await _get(jp_fetch, "runs", notebook="nb.ipynb", where="params.alpha > 0.6")
    assert [r["id"] for r in rows] == [second]
    code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb", where="alpha")
    assert code == 400 and "NAME OP VALUE" in body["message"]
    rows = await _get(jp_fetch, "runs", notebook="nb.ipynb", where="params.alpha = 1 OR 1=1")
    assert rows == []


async def test_env_mirrors_the_env_command(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    from jupyter_lineage import api

    run = recorded["ids"][0]
    data = await _get(jp_fetch, "runs", run, "env", notebook="nb.ipynb")
    assert data["run"] == run and data["format"] == "requirements"
    assert data == api.env(run, db=str(recorded["root"] / ".lineage" / "lineage.db"))
    assert any(line.startswith("ipykernel==") for line in data["text"].splitlines())
    conda = await _get(jp_fetch, "runs", run, "env", notebook="nb.ipynb", format="conda")
    assert "  - pip:" in conda["text"]
    code, body = await _error(jp_fetch, "runs", run, "env", notebook="nb.ipynb", format="x")
    assert code == 400 and "Unknown environment format" in body["message"]


async def test_errors_are_json(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    code, body = await _error(jp_fetch, "runs", "ffffffff", notebook="nb.ipynb")
    assert code == 404 and body["code"] == "run_not_found"
    code, body = await _error(jp_fetch, "runs", notebook="../../etc/passwd")
    assert code == 403 and "inside the server root" in body["message"]
    code, body = await _error(jp_fetch, "runs", notebook="/etc/passwd")
    assert code == 400
    code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb", limit="many")
    assert code == 400 and "whole number" in body["message"]
    code, body = await _error(jp_fetch, "diff", a="x' OR '1'='1", b="@last", notebook="nb.ipynb")
    assert code == 404 and "There is no run named" in body["message"]
    assert await _get(jp_fetch, "runs", notebook="x' OR 1=1 --.ipynb") == []
    code, body = await _error(jp_fetch, "graph", notebook="nb.ipynb", run="@last", artifact="abc")
    assert code == 400
    code, body = await _error(jp_fetch, "diff", notebook="nb.ipynb")
    assert code == 400 and "?a=RUN&b=RUN" in body["message"]


async def test_missing_store_says_how_to_start(
    jp_fetch: Any, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    (jp_root_dir / "fresh.ipynb").write_text("{}")
    code, body = await _error(jp_fetch, "runs", notebook="fresh.ipynb")
    assert code == 404 and body["code"] == "store_missing"
    assert "%load_ext jupyter_lineage" in body["message"]
    assert not (jp_root_dir / ".lineage").exists()  # reading never creates a store


async def test_requests_without_a_token_are_refused(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str, recorded: dict[str, Any]
) -> None:
    for path in ("runs", "graph", "diff", "status", f"runs/{recorded['ids'][0]}"):
        response = await http_server_client.fetch(
            f"{jp_base_url}lineage/api/{path}?notebook=nb.ipynb", raise_error=False
        )
        assert response.code == 403, path
        assert recorded["ids"][0] not in response.body.decode()


async def test_the_api_is_read_only(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        with pytest.raises(tornado.httpclient.HTTPClientError) as info:
            await jp_fetch(
                "lineage",
                "api",
                "runs",
                method=method,
                body=None if method == "DELETE" else "{}",
                allow_nonstandard_methods=True,
            )
        assert info.value.code == 405


async def test_db_parameter_picks_a_store_inside_the_root(
    jp_fetch: Any, recorded: dict[str, Any]
) -> None:
    """The sidebar's store-path setting: any store under the server root, never outside it."""
    root = recorded["root"]
    other = root / "sub"
    other.mkdir()
    (root / ".lineage" / "lineage.db").rename(other / "moved.db")
    for suffix in ("-wal", "-shm"):
        (root / ".lineage" / f"lineage.db{suffix}").unlink(missing_ok=True)
    code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb")
    assert code == 404 and body["code"] == "store_missing"
    runs = await _get(jp_fetch, "runs", notebook="nb.ipynb", db="sub/moved.db")
    assert {r["id"] for r in runs} == set(recorded["ids"])
    for bad in ("../outside.db", "/etc/passwd", "sub/../../x.db"):
        code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb", db=bad)
        assert code in (400, 403) and "db must be" in body["message"], bad
    code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb", db="sub/none.db")
    assert code == 404 and body["code"] == "store_missing"
    assert not (other / "none.db").exists()


def test_both_extensions_are_installed_and_enabled() -> None:
    """What a user checks after `pip install`: the labextension and the server extension."""
    import subprocess
    import sys

    def listing(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120
        )
        return proc.stdout + proc.stderr

    lab = [
        line for line in listing("labextension", "list").splitlines() if "jupyter-lineage" in line
    ]
    assert lab and "enabled" in lab[0] and "OK" in lab[0], lab
    server = listing("server", "extension", "list")
    assert "jupyter_lineage enabled" in server.replace("\x1b[32m", "").replace("\x1b[0m", "")


async def test_pipeline_mirrors_the_dag_command(jp_fetch: Any, recorded: dict[str, Any]) -> None:
    from jupyter_lineage import api

    root = recorded["root"]
    (root / "use.ipynb").write_text("{}")
    t = Tracker(notebook=str(root / "use.ipynb"))
    _cell(t, "Path('model.pkl').read_text()", lambda: Path("model.pkl").read_text())
    t.close()
    data = await _get(jp_fetch, "pipeline", notebook="nb.ipynb")
    assert data == api.dag(db=str(root / ".lineage" / "lineage.db"))
    assert [Path(s["path"]).name for s in data["stages"]] == ["nb.ipynb", "use.ipynb"]
    assert data["edges"] == [
        {
            "source": str(root / "nb.ipynb"),
            "target": str(root / "use.ipynb"),
            "files": [str(root / "model.pkl")],
        }
    ]
    assert data["stale"] == []
    (root / "data.csv").write_text("x\n2\n")
    data = await _get(jp_fetch, "pipeline", notebook="nb.ipynb", target="use.ipynb")
    assert data["stale"] == [str(root / "nb.ipynb"), str(root / "use.ipynb")]
    assert data["stages"][0]["reasons"][0]["text"].startswith("input data.csv changed ")
    code, body = await _error(jp_fetch, "pipeline", notebook="nb.ipynb", target="nothing.csv")
    assert code == 400 and "nothing.csv is neither" in body["message"]
    code, body = await _error(jp_fetch, "pipeline", notebook="nb.ipynb", target="../x.ipynb")
    assert code == 403


async def test_dataflow_in_the_graph_gather_and_stale_cells(
    jp_fetch: Any, recorded: dict[str, Any]
) -> None:
    run = recorded["ids"][1]
    expanded = await _get(jp_fetch, "graph", notebook="nb.ipynb", expand=run)
    flow = [e for e in expanded["edges"] if e["type"] == "flow"]
    # the cell writing the model used `raw` from the first cell; the HTML cell is no link
    assert [e["names"] for e in flow] == [["raw"]]
    assert not [e for e in expanded["edges"] if e["type"] == "next"]
    model = next(n for n in expanded["nodes"] if n.get("name") == "model.pkl")
    gathered = await _get(jp_fetch, "gather", artifact=model["id"], notebook="nb.ipynb")
    assert [c["source"] for c in gathered["cells"]] == [
        "raw = Path('data.csv').read_text()",
        "Path('model.pkl').write_text(raw)",
    ]
    assert ["".join(c["source"]) for c in gathered["notebook_json"]["cells"]] == [
        "raw = Path('data.csv').read_text()",
        "Path('model.pkl').write_text(raw)",
    ]
    assert gathered["name"] == "model.gathered.ipynb"
    assert await _get(jp_fetch, "cells", "stale", notebook="nb.ipynb") == []
    traced = await _get(jp_fetch, "trace", artifact=model["id"], notebook="nb.ipynb")
    assert traced["view"] == "dataflow"
    flows = [e for e in traced["edges"] if e["type"] == "flow"]
    assert [e["names"] for e in flows] == [["raw"]]
    cells = {n["source"] for n in traced["nodes"] if n["type"] == "execution"}
    assert "<img src=x onerror=alert(1)>" not in cells  # not upstream of the model
    whole = await _get(jp_fetch, "trace", artifact=model["id"], whole_run="1", notebook="nb.ipynb")
    assert "<img src=x onerror=alert(1)>" in {
        n["source"] for n in whole["nodes"] if n["type"] == "execution"
    }
    code, body = await _error(jp_fetch, "gather")
    assert code == 400 and "artifact" in body["message"]
    # bounded as the CLI is: the two runs read data.csv; at most one cell per level shown
    data_csv = next(n for n in expanded["nodes"] if n.get("name") == "data.csv")
    few = await _get(
        jp_fetch, "trace", artifact=data_csv["id"], downstream="1", limit="1", notebook="nb.ipynb"
    )
    assert few["truncated"] is True and few["direct"] == {"executions": 2}
    assert sum(n["type"] == "execution" for n in few["nodes"]) == 1
    every = await _get(
        jp_fetch, "trace", artifact=data_csv["id"], downstream="1", all="1", notebook="nb.ipynb"
    )
    assert every["truncated"] is False and every["limit"] is None
    code, body = await _error(
        jp_fetch, "trace", artifact=data_csv["id"], limit="0", notebook="nb.ipynb"
    )
    assert code == 400 and "limit" in body["message"]
    code, body = await _error(jp_fetch, "gather", artifact="0" * 32)
    assert code == 404


async def test_one_run_with_the_files_of_its_folders(
    jp_fetch: Any, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``runs/ID?files=1`` is ``show --files``: a folder read as one dataset lists its files."""
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    monkeypatch.chdir(jp_root_dir)
    (jp_root_dir / "nb.ipynb").write_text("{}")
    images = jp_root_dir / "images"
    images.mkdir()
    for i in range(25):
        (images / f"{i:02}.png").write_bytes(bytes([i]) * 10)
    t = Tracker(notebook=str(jp_root_dir / "nb.ipynb"))
    _cell(t, "read all", lambda: [p.read_bytes() for p in sorted(images.iterdir())])
    t.close()
    plain = await _get(jp_fetch, "runs", t.run_id, notebook="nb.ipynb")
    [folder] = plain["files_read"]
    assert folder["path"] == f"{images}/" and folder["files"] == 25 and "members" not in folder
    full = await _get(jp_fetch, "runs", t.run_id, notebook="nb.ipynb", files="1")
    members = full["files_read"][0]["members"]
    assert [m["name"] for m in members] == [f"{i:02}.png" for i in range(25)]
    assert all(m["hash"].startswith("blake3:") and m["size"] == 10 for m in members)
