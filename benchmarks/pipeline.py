"""4. Run overhead on the same 10-cell notebook, interleaved: `papermill --engine lineage` vs
`papermill` (the same CLI and imports: what recording a run costs), and `jupyter lineage run` vs
`papermill` (a different CLI: it skips an import papermill's pays; not the cost of lineage)."""

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
    """One command's wall time; a command that fails says how (its exit code and the end of
    its stderr go into the suite's failed row, not a bare CalledProcessError)."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(cmd[1:])} exited {proc.returncode}: {tail}")
    return time.perf_counter() - t


def _compile_package() -> None:
    """Our package's bytecode, as ``pip install`` of a wheel leaves it. Every other package on
    both sides (papermill, nbclient, ipykernel) was installed so; this checkout is installed
    editable, and with ``PYTHONDONTWRITEBYTECODE`` set (as on the benchmark machine) each
    process would compile our modules from source again: a cost no installed copy pays."""
    import compileall

    import jupyter_lineage

    compileall.compile_dir(Path(jupyter_lineage.__file__).parent, quiet=1)


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 9
    _compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        _notebook(Path(tmp) / "nb.ipynb")
        env_db = os.path.join(tmp, "l.db")
        os.environ["JUPYTER_LINEAGE_DB"] = env_db
        papermill = [sys.executable, "-m", "papermill", "--no-progress-bar"]
        cmds = {
            "papermill": [*papermill, "nb.ipynb", "out.ipynb", "-p", "n", "2000"],
            "engine": [
                *papermill,
                "--engine",
                "lineage",
                "nb.ipynb",
                "eng.ipynb",
                "-p",
                "n",
                "2000",
            ],
            "run": [
                sys.executable,
                *("-m", "jupyter_lineage", "run", "nb.ipynb", "-p", "n", "2000"),
                *("--output", "ours.ipynb"),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in cmds}
        failures: list[str] = []

        def timed_once_more(name: str) -> float:
            """A command that fails is said in the row and run again once (a second failure
            fails the suite): one flake must not lose every row of a full run."""
            try:
                return _time(cmds[name], tmp)
            except RuntimeError as exc:
                failures.append(str(exc)[:300])
                return _time(cmds[name], tmp)

        try:
            for name in cmds:  # warm: imports in the page cache, the store created
                timed_once_more(name)
            for i in range(repeat):  # interleaved, the order rotated: no side always goes first
                names = list(cmds)
                for name in names[i % 3 :] + names[: i % 3]:
                    times[name].append(timed_once_more(name))
        finally:  # the suites after this one must not inherit a store in a deleted folder
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
    med = {name: statistics.median(t) for name, t in times.items()}
    engine = med["engine"] / med["papermill"]
    ours = med["run"] / med["papermill"]
    return [
        Result(
            "papermill --engine lineage vs papermill (wall time, same CLI)",
            engine,
            "x",
            "<= 1.05x",
            engine <= 1.05,
            {
                "papermill_s": med["papermill"],
                "engine_lineage_s": med["engine"],
                "added_s": med["engine"] - med["papermill"],
                "runs_each": repeat,
                "failed_attempts": len(failures),
                **({"first_failure": failures[0]} if failures else {}),
            },
        ),
        Result(
            "jupyter lineage run vs papermill (wall time; run's CLI skips an import papermill's "
            "pays: not the cost of lineage)",
            ours,
            "x",
            "-",
            None,
            {"papermill_s": med["papermill"], "lineage_run_s": med["run"]},
        ),
    ]
