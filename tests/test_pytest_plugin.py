"""The pytest plugin against real pytest and nbval in a subprocess: `pytest --nbval-lax
--lineage` and `pytest --nbval --lineage` record each notebook as a run of kind `test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import lineage_json


def _notebook(path: Path, cells: list[tuple[str, str | None]]) -> None:
    """Code cells with the stdout each is saved with (None: no saved output)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for i, (source, out) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, execution_count=i + 1)
        if out is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)]
        nb.cells.append(cell)
    nbformat.write(nb, str(path))


@pytest.fixture
def notebooks(project: Path) -> Path:
    (project / "data.csv").write_text("a\n1\n2\n")
    _notebook(
        project / "good.ipynb",
        [
            ("x = open('data.csv').read()", None),
            ("print(len(x))", "6\n"),
            ("_ = open('out.txt', 'w').write(x)", None),
            ("print('now')", "then\n"),  # only --nbval (not -lax) compares this output
        ],
    )
    _notebook(project / "bad.ipynb", [("y = 1", None), ("1 / 0", None), ("z = 2", None)])
    return project


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _runs_by_notebook(project: Path) -> dict[str, dict[str, Any]]:
    runs = lineage_json("runs")
    return {Path(r["notebook"]).name: lineage_json("show", r["id"]) for r in runs}


def test_nbval_lax_records_each_notebook_as_a_test_run(notebooks: Path) -> None:
    proc = _pytest(notebooks, "--nbval-lax", "--lineage", "good.ipynb", "bad.ipynb")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # bad.ipynb fails
    runs = _runs_by_notebook(notebooks)
    assert set(runs) == {"good.ipynb", "bad.ipynb"}

    good = runs["good.ipynb"]
    assert (good["kind"], good["status"]) == ("test", "succeeded")
    assert [t["outcome"] for t in good["tests"]] == ["passed"] * 4
    assert [t["nodeid"] for t in good["tests"]] == [f"good.ipynb::Cell {i}" for i in range(4)]
    assert good["executions"][0]["source"] == "x = open('data.csv').read()"
    assert len(good["executions"]) == 4  # the silent request that loads tracking is not a cell
    assert [f["path"] for f in good["files_read"]] == [str(notebooks / "data.csv")]
    assert str(notebooks / "out.txt") in {f["path"] for f in good["files_written"]}
    assert good["metrics"] == {"cells_passed": 4, "cells_failed": 0}

    bad = runs["bad.ipynb"]
    assert (bad["kind"], bad["status"]) == ("test", "failed")
    assert [t["outcome"] for t in bad["tests"]] == ["passed", "failed", "passed"]
    assert "ZeroDivisionError: division by zero" in bad["tests"][1]["message"]
    assert "\x1b[" not in bad["tests"][1]["message"]  # pytest's colours are not kept
    assert bad["error"]["name"] == "ZeroDivisionError"
    assert bad["metrics"]["cells_failed"] == 1

    # the lineage of what the test wrote leads to the test run
    trace = lineage_json("trace", "out.txt")
    assert good["id"] in {n.get("run_id") or n["id"] for n in trace["nodes"]}


def test_nbval_strict_failure_without_an_exception_fails_the_run(notebooks: Path) -> None:
    proc = _pytest(notebooks, "--nbval", "--lineage", "good.ipynb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = _runs_by_notebook(notebooks)["good.ipynb"]
    assert [t["outcome"] for t in run["tests"]] == ["passed", "passed", "passed", "failed"]
    assert run["status"] == "failed" and run["error"]["name"] == "NbvalFailure"
    assert "good.ipynb::Cell 3" in run["error"]["value"]


def test_without_lineage_nothing_is_recorded(notebooks: Path, db: Path) -> None:
    proc = _pytest(notebooks, "--nbval-lax", "good.ipynb")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not db.exists()
    assert "--lineage" in _pytest(notebooks, "--help").stdout


def test_cli_lists_test_runs(notebooks: Path) -> None:
    _pytest(notebooks, "--nbval-lax", "--lineage", "bad.ipynb")
    (run,) = lineage_json("runs")
    assert run["kind"] == "test" and run["status"] == "failed"
    shown = json.loads(json.dumps(lineage_json("show", run["id"])))
    assert shown["tests"][1]["nodeid"] == "bad.ipynb::Cell 1"
