"""papermill parity: `papermill --engine lineage` and `jupyter lineage run` end exactly as plain
papermill does (exit code, output notebook) for every way a notebook can end, side by side on
the same notebook; and the run each records says what papermill's exit code says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_lineage.hashing import hash_file

# The three sides run at once: a dead kernel or a timeout takes a few seconds on each.
TIMEOUT = 300


@dataclass
class Case:
    cells: list[str]
    args: list[str] = field(default_factory=list)
    tags: dict[int, list[str]] = field(default_factory=dict)  # cell index -> tags
    kernelspec: bool = True
    exit_code: int = 0  # what plain papermill answers: checked too, so the case is what it says
    # cells whose execution_count is a race, for plain papermill too: the kernel dies in it,
    # before or after its execute_input message reaches the client
    racy_count: tuple[int, ...] = ()
    ran: bool = True  # False: papermill refused the notebook before running it


CASES = {
    "succeeds": Case(["x = 1", "print(x + 1)"]),
    "error": Case(["x = 1", "1 / 0", "never = 1"], exit_code=1),
    # papermill counts a clean exit as success: the cells after it do not run
    "sys_exit_0": Case(["import sys\nprint('bye')\nsys.exit(0)", "never = 1"]),
    "sys_exit_no_code": Case(["raise SystemExit()", "never = 1"]),
    "sys_exit_3": Case(["import sys\nsys.exit(3)", "never = 1"], exit_code=1),
    "keyboard_interrupt": Case(["raise KeyboardInterrupt", "never = 1"], exit_code=1),
    "dead_kernel": Case(
        ["x = 1", "import os\nos._exit(1)", "never = 1"], exit_code=138, racy_count=(1,)
    ),
    "cell_timeout": Case(
        ["x = 1", "import time\ntime.sleep(120)", "never = 1"],
        args=["--execution-timeout", "3"],
        exit_code=1,
    ),
    # nbclient runs on past an allowed error; papermill still fails the notebook at the end
    "raises_exception_tag": Case(
        ["raise ValueError('expected')", "after = 1"], tags={0: ["raises-exception"]}, exit_code=1
    ),
    "report_mode": Case(["x = 1", "print(x)"], args=["--report-mode"]),
    "report_mode_error": Case(["x = 1", "1 / 0"], args=["--report-mode"], exit_code=1),
    "no_save_on_cell": Case(["x = 1", "print(x)"], args=["--no-request-save-on-cell-execute"]),
    "autosave_during_a_cell": Case(
        ["import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.7)"],
        args=["--autosave-cell-every", "1"],
    ),
    "no_kernelspec_but_k": Case(["x = 1", "print(x)"], args=["-k", "python3"], kernelspec=False),
    # papermill refuses a notebook that names no kernel: exit 1, no output notebook, no run
    "no_kernelspec_no_k": Case(["x = 1"], kernelspec=False, exit_code=1, ran=False),
}


def _write(case: Case, path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in case.cells]
    for i, cell in enumerate(nb.cells):  # ids fixed: the three outputs must match to the byte
        cell["id"] = f"cell-{i}"
        if i in case.tags:
            cell.metadata["tags"] = case.tags[i]
    if case.kernelspec:
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
    nbformat.write(nb, str(path))


VOLATILE_NB = ("start_time", "end_time", "duration", "input_path", "output_path")
VOLATILE_CELL = ("start_time", "end_time", "duration")
# a kernel names each cell's code after its own pid: /tmp/ipykernel_1234/5678.py
KERNEL_FILE = re.compile(r"/tmp/ipykernel_\d+/\d+\.py")


def _normal(path: Path, case: Case) -> dict[str, Any]:
    """The output notebook less what differs between any two papermill runs (times, paths)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i in case.racy_count:
        nb["cells"][i]["execution_count"] = "<race>"
    for key in VOLATILE_NB:
        nb["metadata"].get("papermill", {}).pop(key, None)
    for cell in nb["cells"]:
        if not cell.get("id", "").startswith("cell-"):  # papermill's error markers: random ids
            cell["id"] = "<new>"
        cell["metadata"].pop("execution", None)
        for key in VOLATILE_CELL:
            cell["metadata"].get("papermill", {}).pop(key, None)
    return json.loads(KERNEL_FILE.sub("<kernel-file>", json.dumps(nb)))


def _start(cmd: list[str], folder: Path, db: Path | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LINEAGE")}
    if db is not None:
        env["JUPYTER_LINEAGE_DB"] = str(db)
    return subprocess.Popen(
        cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _runs(db: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "runs", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return list(json.loads(out.stdout))


def _last_run(db: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "show", "@last", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize("name", list(CASES))
def test_ends_as_plain_papermill_does(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    _write(case, tmp_path / "nb.ipynb")
    pm = [sys.executable, "-m", "papermill", "--no-progress-bar", "nb.ipynb"]
    engine_db, run_db = tmp_path / "engine.db", tmp_path / "run.db"
    procs = {
        "plain": _start([*pm, "plain.ipynb", *case.args], tmp_path, None),
        "engine": _start(
            [*pm[:3], "--engine", "lineage", *pm[3:], "engine.ipynb", *case.args],
            tmp_path,
            engine_db,
        ),
        "run": _start(
            [
                sys.executable,
                "-m",
                "jupyter_lineage",
                "run",
                "nb.ipynb",
                "--output",
                "run.ipynb",
                "--json",
                "--db",
                str(run_db),
                *case.args,
            ],
            tmp_path,
            None,
        ),
    }
    ended = {side: (p.wait(TIMEOUT), *p.communicate()) for side, p in procs.items()}
    codes = {side: e[0] for side, e in ended.items()}
    why = {side: e[2][-8000:] for side, e in ended.items()}  # a dead kernel says why early
    assert codes["plain"] == case.exit_code, why["plain"]
    assert codes == {"plain": case.exit_code, "engine": case.exit_code, "run": case.exit_code}, why
    if not case.ran:  # refused up front: no output notebook and nothing recorded, anywhere
        assert not [p.name for p in tmp_path.glob("*.ipynb") if p.name != "nb.ipynb"]
        assert "-k/--kernel" in why["run"] and len(why["run"].strip().splitlines()) == 1
        for db in (engine_db, run_db):
            assert not db.exists() or _runs(db) == []
        return
    plain = _normal(tmp_path / "plain.ipynb", case)
    assert _normal(tmp_path / "engine.ipynb", case) == plain
    assert _normal(tmp_path / "run.ipynb", case) == plain
    # the output notebook is recorded as papermill left it on disk (after its final write,
    # which adds the error marker cell when a cell failed)
    for side, db in (("engine", engine_db), ("run", run_db)):
        path = tmp_path / f"{side}.ipynb"
        recorded = {f["path"]: f["hash"] for f in _last_run(db)["files_written"]}
        assert recorded.get(str(path)) == hash_file(str(path))[0], (side, recorded)
    status = "succeeded" if case.exit_code == 0 else "failed"
    assert json.loads(ended["run"][1])["status"] == status
    assert _last_run(run_db)["status"] == status
    assert _last_run(engine_db)["status"] == status
    # a failure is said as papermill's own error said it (the cell's exception, or the engine's)
    if status == "failed":
        assert _last_run(engine_db)["error"]["name"] in why["plain"]
