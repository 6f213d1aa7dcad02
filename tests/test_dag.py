"""``dag``: the pipeline inferred from real papermill runs of examples/pipeline (prepare ->
train -> evaluate), its formats, and the errors for a file with two writers and a cycle."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from .conftest import EXAMPLES, lineage

STAGES = ("prepare.ipynb", "train.ipynb", "evaluate.ipynb")


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def make_project(root: Path) -> Path:
    """A copy of examples/ as a git repository; returns its pipeline folder."""
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("out", "work", "*.out.ipynb"))
    _git(root, "init", "-q", "-b", "main")
    return root / "pipeline"


def run_stages(folder: Path, db: Path, *names: str) -> None:
    for name in names:
        lineage("run", name, db=db, cwd=folder)


def ran_project(base: Path) -> tuple[Path, Path]:
    """examples/ copied under ``base``, its three pipeline notebooks run once each: the
    pipeline folder and the store."""
    root = base / "project"
    folder = make_project(root)
    db = root / ".lineage" / "lineage.db"
    run_stages(folder, db, *STAGES)
    return folder, db


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ran_project(tmp_path_factory.mktemp("dag"))


def dag_json(db: Path, *args: str, cwd: Path | None = None) -> Any:
    return json.loads(lineage("dag", *args, "--format", "json", db=db, cwd=cwd).stdout)


def test_three_notebooks_become_three_stages(project: tuple[Path, Path]) -> None:
    folder, db = project
    data = dag_json(db)
    assert [Path(s["path"]).name for s in data["stages"]] == list(STAGES)
    prepare, train, evaluate = data["stages"]
    assert [d["path"] for d in prepare["deps"]] == [str(folder.parent / "data" / "customers.csv")]
    assert [o["path"] for o in prepare["outs"]] == [str(folder / "work" / "features.csv")]
    assert train["upstream"] == [prepare["path"]]
    assert sorted(evaluate["upstream"]) == sorted([prepare["path"], train["path"]])
    assert {(Path(e["source"]).name, Path(e["target"]).name) for e in data["edges"]} == {
        ("prepare.ipynb", "train.ipynb"),
        ("prepare.ipynb", "evaluate.ipynb"),
        ("train.ipynb", "evaluate.ipynb"),
    }
    model = next(
        e for e in data["edges"] if e["target"] == evaluate["path"] and "train" in e["source"]
    )
    assert model["files"] == [str(folder / "work" / "model.joblib")]
    assert data["stale"] == [] and all(s["run_kind"] == "papermill" for s in data["stages"])
    # the tree names every stage and what links them
    tree = lineage("dag", db=db, cwd=folder).stdout
    assert "prepare.ipynb" in tree and "work/model.joblib" in tree and "up to date" in tree


def test_a_target_keeps_what_it_needs(project: tuple[Path, Path]) -> None:
    folder, db = project
    data = dag_json(db, "work/model.joblib", cwd=folder)
    assert [Path(s["path"]).name for s in data["stages"]] == ["prepare.ipynb", "train.ipynb"]
    bad = lineage("dag", "nothing.csv", db=db, cwd=folder, check=False)
    assert bad.returncode == 2 and "nothing.csv is neither" in bad.stderr


def test_an_edited_input_marks_the_stages_below_it(project: tuple[Path, Path]) -> None:
    folder, db = project
    csv = folder.parent / "data" / "customers.csv"
    original = csv.read_bytes()
    try:
        csv.write_bytes(original + b"C9999,12,50.0,1,one-year,no,0\n")
        data = dag_json(db)
        assert len(data["stale"]) == 3
        prepare = data["stages"][0]
        [why] = prepare["reasons"]
        assert why["what"] == "input" and why["text"].startswith(
            "input data/customers.csv changed "
        )
        assert "upstream pipeline/prepare.ipynb runs again" in [
            r["text"] for r in data["stages"][1]["reasons"]
        ]
    finally:
        csv.write_bytes(original)
    assert dag_json(db)["stale"] == []


def test_formats(project: tuple[Path, Path]) -> None:
    folder, db = project
    dot = lineage("dag", "--format", "dot", db=db, cwd=folder).stdout
    assert dot.startswith("digraph pipeline {") and dot.count("shape=box") == 3
    mermaid = lineage("dag", "--format", "mermaid", db=db, cwd=folder).stdout
    assert mermaid.startswith("flowchart LR") and mermaid.count(":::fresh") == 3
    dvc = yaml.safe_load(lineage("dag", "--format", "dvc", db=db, cwd=folder).stdout)
    assert list(dvc["stages"]) == ["prepare", "train", "evaluate"]
    assert dvc["stages"]["train"] == {
        "cmd": "jupyter lineage run train.ipynb",
        "deps": ["train.ipynb", "work/features.csv"],
        "outs": ["work/model.joblib"],
    }
    assert dvc["stages"]["prepare"]["deps"] == ["prepare.ipynb", "../data/customers.csv"]
    flow = yaml.safe_load(lineage("dag", "--format", "github-actions", db=db, cwd=folder).stdout)
    steps = flow["jobs"]["repro"]["steps"]
    script = next(s["run"] for s in steps if s.get("name") == "Bring the pipeline up to date")
    assert "jupyter lineage repro" in script
    assert "(cd pipeline && jupyter lineage run train.ipynb)" in script
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    install = next(s["run"] for s in steps if s.get("name") == "Install")
    assert "scikit-learn" in install and "pandas" in install


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def test_one_file_written_by_two_notebooks_is_an_error(tmp_path: Path) -> None:
    db = tmp_path / ".lineage" / "lineage.db"
    _notebook(tmp_path / "a.ipynb", "open('shared.txt', 'w').write('a')")
    _notebook(tmp_path / "b.ipynb", "open('shared.txt', 'w').write('b')")
    run_stages(tmp_path, db, "a.ipynb", "b.ipynb")
    proc = lineage("dag", db=db, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert line.count("\n") == 0
    assert f"{tmp_path / 'shared.txt'} is written by both {tmp_path / 'a.ipynb'} and" in line
    assert str(tmp_path / "b.ipynb") in line


def test_notebooks_that_feed_each_other_are_an_error(tmp_path: Path) -> None:
    db = tmp_path / ".lineage" / "lineage.db"
    (tmp_path / "x.txt").write_text("x0")
    _notebook(tmp_path / "a.ipynb", "y = open('x.txt').read()", "open('y.txt', 'w').write(y)")
    _notebook(tmp_path / "b.ipynb", "x = open('y.txt').read()", "open('x.txt', 'w').write(x)")
    run_stages(tmp_path, db, "a.ipynb", "b.ipynb")
    proc = lineage("dag", db=db, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout
    line = proc.stderr.strip()
    assert "feed each other" in line and line.count("\n") == 0
    assert (
        f"{tmp_path / 'a.ipynb'} writes {tmp_path / 'y.txt'} read by {tmp_path / 'b.ipynb'}" in line
    )
    assert (
        f"{tmp_path / 'b.ipynb'} writes {tmp_path / 'x.txt'} read by {tmp_path / 'a.ipynb'}" in line
    )


def test_real_dvc_repro_accepts_the_dvc_yaml(tmp_path: Path) -> None:
    pytest.importorskip("dvc", reason="dvc is not installed (pip install dvc; in the test extras)")
    import os
    import sys

    folder, db = ran_project(tmp_path)
    root = folder.parent
    lineage("dag", "--format", "dvc", "-o", "dvc.yaml", db=db, cwd=folder)
    env = {
        **os.environ,
        "JUPYTER_LINEAGE_DB": str(db),
        "DVC_NO_ANALYTICS": "1",
        # the stages' `jupyter lineage run` is this environment's
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }

    def dvc(*args: str, where: Path = folder) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dvc", *args],
            cwd=where,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert dvc("init", "-q", where=root).returncode == 0  # at the git root
    first = dvc("repro")
    assert first.returncode == 0, first.stdout + first.stderr
    lock = yaml.safe_load((folder / "dvc.lock").read_text())
    assert list(lock["stages"]) == ["prepare", "train", "evaluate"]
    assert (folder / "work" / "metrics.json").is_file()
    runs = json.loads(lineage("runs", "--json", db=db).stdout)
    assert [r["kind"] for r in runs[:3]] == ["papermill"] * 3  # DVC ran them through us
    again = dvc("repro")
    assert again.returncode == 0 and "up to date" in again.stdout, again.stdout
