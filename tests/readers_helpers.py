"""Shared by the reader-coverage tests: one set of cells, run interactively and as a pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import lineage_json
from .kernel import Kernel


def need(module: str) -> None:
    """The library under test; skipped with the reason printed when it cannot be imported."""
    try:
        __import__(module)
    except Exception as exc:  # ImportError, or a library broken on this Python
        pytest.skip(f"{module} cannot be imported on this Python ({type(exc).__name__}: {exc})")


@pytest.fixture
def maybe_kernel(request: pytest.FixtureRequest, project: Path) -> Kernel | None:
    """A kernel for the ``interactive`` mode of a test parametrized by ``mode``."""
    if request.node.callspec.params.get("mode") != "interactive":
        return None
    k = Kernel(str(project))
    request.addfinalizer(k.shutdown)
    return k


def run_cells(mode: str, cells: list[str], project: Path, kernel: Kernel | None) -> dict[str, Any]:
    """Runs ``cells`` in a tracked kernel (``interactive``) or as a notebook under
    ``jupyter lineage run`` (``pipeline``); returns ``show --json`` of that run."""
    if mode == "interactive":
        assert kernel is not None
        kernel.check("%load_ext jupyter_lineage")
        for i, code in enumerate(cells):
            kernel.check(code, cell_id=f"c{i}")
        return lineage_json("show", "@last")  # type: ignore[no-any-return]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(project / "cells.ipynb"))
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "run", "cells.ipynb", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return lineage_json("show", json.loads(proc.stdout)["id"])  # type: ignore[no-any-return]


def files(show: dict[str, Any], cell: int, role: str) -> dict[str, str]:
    """``{path: kind}`` of what cell ``cell`` (0-based, as given to run_cells) read or wrote."""
    execution = [e for e in show["executions"] if not e["source"].startswith("%load_ext")][cell]
    return {f["path"]: f["kind"] for f in execution["reads" if role == "read" else "writes"]}
