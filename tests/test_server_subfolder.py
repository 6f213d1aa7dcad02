"""A server started in a repository's subfolder: the repository root's store (outside the
server root) is not served unless the operator configures it; when configured, only the runs
of notebooks under the server root are served."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_server_limits import _error, _get, _record

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_lineage": True}}}


@pytest.fixture
def jp_root_dir(tmp_path: Path) -> Path:
    """The server root is a subfolder of a git repository (whose store is at the top)."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    root = repo / "sub"
    root.mkdir()
    return root


@pytest.fixture
def repo_runs(jp_root_dir: Path) -> dict[str, Any]:
    """Runs in the repository's store: one of a notebook under the root, one of a notebook
    beside it (outside the root)."""
    repo = jp_root_dir.parent
    (jp_root_dir / "nb.ipynb").write_text("{}")
    (repo / "top.ipynb").write_text("{}")
    mine = _record(jp_root_dir / "nb.ipynb")
    other = _record(repo / "top.ipynb", writes="top-out.txt")
    return {"mine": mine, "other": other, "db": repo / ".lineage" / "lineage.db"}


async def test_a_store_above_the_root_is_not_served_unless_configured(
    jp_fetch: Any, repo_runs: dict[str, Any]
) -> None:
    code, body = await _error(jp_fetch, "runs", notebook="nb.ipynb")
    assert code == 403 and body["code"] == "outside_root"
    assert "JUPYTER_LINEAGE_DB" in body["message"]  # says how to serve it on purpose
    code, _ = await _error(jp_fetch, "status")
    assert code == 403


@pytest.fixture
def configured(repo_runs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The operator points the server at the repository's store (before it starts)."""
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(repo_runs["db"]))
    return repo_runs


async def test_a_configured_store_serves_only_runs_under_the_root(
    configured: dict[str, Any], jp_fetch: Any
) -> None:
    mine, other = configured["mine"], configured["other"]
    assert [r["id"] for r in await _get(jp_fetch, "runs")] == [mine]
    assert [r["id"] for r in await _get(jp_fetch, "runs", notebook="nb.ipynb")] == [mine]
    assert (await _get(jp_fetch, "runs", mine))["id"] == mine
    code, body = await _error(jp_fetch, "runs", other)
    assert code == 404 and other in body["message"]
    code, _ = await _error(jp_fetch, "diff", a=mine, b=other)
    assert code == 404
    code, _ = await _error(jp_fetch, "graph", run=other)
    assert code == 404
    graph = await _get(jp_fetch, "graph", notebook="nb.ipynb", depth="3")
    assert other not in json.dumps(graph) and "top-out.txt" not in json.dumps(graph)
    status = await _get(jp_fetch, "status")
    assert [s["path"].rsplit("/", 1)[-1] for s in status] == ["out.txt"]
