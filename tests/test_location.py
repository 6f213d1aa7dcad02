"""The store is found from where the user stands, with or without git, and a moved project keeps
its lineage (paths are also stored relative to the project root)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from jupyter_lineage.store import Store, locate
from jupyter_lineage.store.location import for_notebook, project_root, relative
from jupyter_lineage.store.schema import MIGRATIONS

from .conftest import EXAMPLES, lineage


def test_locate_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(repo / "sub" / "deeper")
    # nothing yet: a new store at the git root, whether from the cwd or from a notebook
    assert locate() == repo / ".lineage" / "lineage.db"
    assert for_notebook(repo / "sub" / "nb.ipynb") == repo / ".lineage" / "lineage.db"
    # no git: the folder itself
    loose = tmp_path / "loose"
    (loose / "sub").mkdir(parents=True)
    assert for_notebook(loose / "nb.ipynb") == loose / ".lineage" / "lineage.db"
    # an existing store is found from any subfolder, without git
    Store(loose / ".lineage" / "lineage.db").close()
    monkeypatch.chdir(loose / "sub")
    assert locate() == loose / ".lineage" / "lineage.db"
    assert for_notebook(loose / "sub" / "nb.ipynb") == loose / ".lineage" / "lineage.db"
    # ... but not across a git root: a repository inside has its own
    inner = loose / "sub" / "inner"
    (inner / ".git").mkdir(parents=True)
    assert for_notebook(inner / "nb.ipynb") == inner / ".lineage" / "lineage.db"
    # a command names a file elsewhere: the cwd's store first, then the one above the file
    monkeypatch.chdir(tmp_path)
    assert locate(then=loose / "sub" / "x.csv") == loose / ".lineage" / "lineage.db"
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(tmp_path / "env.db"))
    assert locate() == tmp_path / "env.db"
    assert locate(str(tmp_path / "x.db")) == tmp_path / "x.db"


def test_relative_paths() -> None:
    assert project_root("/p/.lineage/lineage.db") == Path("/p")
    assert project_root("/data/x.db") == Path("/data")
    assert relative("/p/out/model.joblib", "/p") == "out/model.joblib"
    assert relative("/pq/x", "/p") is None
    assert relative("https://example.org/x", "/p") is None


def test_migration_fills_relative_paths(tmp_path: Path) -> None:
    """A store written before relative paths existed gets them for what lies in its project."""
    path = tmp_path / "proj" / ".lineage" / "lineage.db"
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    mine = next(i for i, (name, _) in enumerate(MIGRATIONS) if name.startswith("artifacts.rel"))
    for _name, migration in MIGRATIONS[:mine]:  # as jupyter-lineage wrote it before
        migration(conn)
    inside = str(tmp_path / "proj" / "data" / "a.csv")
    conn.execute(
        "INSERT INTO artifacts (id, uri, hash, kind) VALUES ('a', ?, 'h', 'dataset'),"
        " ('b', '/elsewhere/b.csv', 'h', 'dataset')",
        (inside,),
    )
    conn.execute(f"PRAGMA user_version = {mine}")
    conn.commit()
    conn.close()
    with Store(path) as store:
        rows = dict(store.conn.execute("SELECT id, rel FROM artifacts").fetchall())
    assert rows == {"a": "data/a.csv", "b": None}


@pytest.fixture
def plain_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project copied into a folder that is not in any git repository."""
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    folder = tmp_path / "churn"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns(".lineage", "out", "ci"))
    assert not any((p / ".git").exists() for p in (folder, *folder.parents))
    return folder


def test_readme_commands_from_a_plain_folder_a_subfolder_and_a_moved_copy(
    plain_project: Path, tmp_path: Path
) -> None:
    run = json.loads(
        lineage("run", "train.ipynb", "-p", "C", "0.5", "--json", cwd=plain_project).stdout
    )
    assert run["status"] == "succeeded", run
    assert (plain_project / ".lineage" / "lineage.db").is_file()
    assert not (plain_project / "out" / ".lineage").exists()

    def trace(where: Path, target: str) -> dict:
        return json.loads(lineage("trace", target, "--json", cwd=where).stdout)

    here = trace(plain_project, "out/model.joblib")
    assert here["target"]["path"] == str(plain_project / "out" / "model.joblib")
    assert any(n.get("path", "").endswith("customers.csv") for n in here["nodes"])
    below = trace(plain_project / "out", "model.joblib")  # from a subfolder
    assert below["target"]["id"] == here["target"]["id"]
    # the store is looked for from where the user stands, never next to the target
    outside = lineage("trace", "out/model.joblib", cwd=tmp_path, check=False)
    assert outside.returncode == 2
    assert f"No lineage database at {tmp_path / '.lineage' / 'lineage.db'}" in outside.stderr
    assert lineage("status", cwd=plain_project / "data").returncode == 0
    lineage("tag", "out/model.joblib", "production", cwd=plain_project)

    moved = tmp_path / "elsewhere" / "churn-copy"
    moved.parent.mkdir()
    shutil.move(plain_project, moved)
    again = trace(moved, "out/model.joblib")
    assert again["target"]["hash"] == here["target"]["hash"]
    assert again["note"] is None  # the version on disk is the recorded one
    assert again["target"]["path"] == str(moved / "out" / "model.joblib")
    assert any(n.get("path") == str(moved / "data" / "customers.csv") for n in again["nodes"])
    status = json.loads(lineage("status", "--json", cwd=moved).stdout)
    assert status and all(s["state"] == "ok" for s in status), status
    runs = json.loads(lineage("runs", "--notebook", "train.ipynb", "--json", cwd=moved).stdout)
    assert [r["id"] for r in runs] == [run["id"]]
    assert runs[0]["notebook"] == str(moved / "train.ipynb")
    # ... and its tags, its pipeline's freshness and its cache hits
    shown = json.loads(
        lineage("models", "show", "out/model.joblib@production", "--json", cwd=moved).stdout
    )
    assert shown["hash"] == here["target"]["hash"] and shown["tags"] == ["production"]
    dag = json.loads(lineage("dag", "--json", cwd=moved).stdout)
    assert dag["stages"] and not any(s["stale"] for s in dag["stages"]), dag
    hit = json.loads(
        lineage("run", "train.ipynb", "-p", "C", "0.5", "--cache", "--json", cwd=moved).stdout
    )
    assert hit["kind"] == "cached" and hit["cached_from"] == run["id"], hit
