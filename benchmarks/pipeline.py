"""4. `jupyter lineage run` vs plain papermill on the same 10-cell notebook."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .common import Result


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 1000")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import json, statistics")]
    nb.cells += [
        nbformat.v4.new_code_cell(
            f"values_{i} = [x * {i} for x in range(n)]\nopen('v{i}.json', 'w').write("
            f"json.dumps(statistics.mean(values_{i})))"
        )
        for i in range(8)
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def _time(cmd: list[str], cwd: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        _notebook(Path(tmp) / "nb.ipynb")
        env_db = os.path.join(tmp, "l.db")
        os.environ["JUPYTER_LINEAGE_DB"] = env_db
        plain_cmd = [sys.executable, "-m", "papermill", "nb.ipynb", "out.ipynb", "-p", "n", "2000"]
        ours_cmd = [
            sys.executable,
            "-m",
            "jupyter_lineage",
            "run",
            "nb.ipynb",
            "-p",
            "n",
            "2000",
            "--output",
            "ours.ipynb",
        ]
        _time(plain_cmd, tmp)
        _time(ours_cmd, tmp)
        plain, ours = [], []
        for _ in range(repeat):  # interleaved
            plain.append(_time(plain_cmd, tmp))
            ours.append(_time(ours_cmd, tmp))
        os.environ.pop("JUPYTER_LINEAGE_DB", None)
    ratio = statistics.median(ours) / statistics.median(plain)
    return [
        Result(
            "jupyter lineage run vs papermill (wall time)",
            ratio,
            "x",
            "<= 1.10x",
            ratio <= 1.10,
            {"papermill_s": statistics.median(plain), "lineage_run_s": statistics.median(ours)},
        )
    ]
