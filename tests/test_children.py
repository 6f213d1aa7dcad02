"""Python children of a tracked kernel record into the cell that started them: `!python`,
subprocess, `%run`, multiprocessing (fork and spawn) and joblib's loky workers — real processes,
the real start-up hook (jupyter_lineage_children.pth), asserted through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from .conftest import lineage_json
from .kernel import Kernel

PTH = Path(sysconfig.get_paths()["purelib"]) / "jupyter_lineage_children.pth"
pytestmark = pytest.mark.skipif(
    not PTH.exists(), reason=f"{PTH} is missing: reinstall the package (make setup)"
)

PREP = """
import csv, sys
rows = list(csv.reader(open('data.csv')))
with open('clean.csv', 'w', newline='') as f:
    csv.writer(f).writerows(r for r in rows if r[0] != '3')
"""
TRAIN = """
import pickle
model = {'rows': len(open('clean.csv').read().splitlines())}
pickle.dump(model, open('model.pkl', 'wb'))
"""
REPORT = """
import pickle
m = pickle.load(open('model.pkl', 'rb'))
open('report.txt', 'w').write(str(m))
"""
WORK = """
def size(path):
    with open(path, 'rb') as f:
        return len(f.read())
"""


def _cell(show: dict[str, Any], cell_id: str) -> dict[str, Any]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return dict(cell)


def _names(files: list[dict[str, Any]]) -> set[str]:
    return {os.path.basename(f["path"]) for f in files}


@pytest.fixture
def tracked(kernel: Kernel, project: Path) -> Kernel:
    (project / "data.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    (project / "prep.py").write_text(PREP)
    (project / "train.py").write_text(TRAIN)
    (project / "report.py").write_text(REPORT)
    (project / "work.py").write_text(WORK)
    for i in range(4):
        (project / f"part{i}.bin").write_bytes(bytes([i]) * (100 + i))
    kernel.check("%load_ext jupyter_lineage")
    kernel.check(
        "import os, sys, subprocess\nos.environ['API_TOKEN'] = 'sk-child-' + 'secret-value'"
    )
    return kernel


def test_shell_subprocess_and_run_children(tracked: Kernel, project: Path) -> None:
    k = tracked
    k.check("!{sys.executable} prep.py", cell_id="bang")
    k.check(
        "subprocess.run([sys.executable, 'train.py', os.environ['API_TOKEN']], check=True)",
        cell_id="subprocess",
    )
    k.check("%run report.py", cell_id="magic-run")
    show = lineage_json("show", "@last")

    bang = _cell(show, "bang")
    assert {"prep.py", "data.csv"} <= _names(bang["reads"])
    assert _names(bang["writes"]) == {"clean.csv"}
    (clean,) = bang["writes"]
    assert clean["hash"] == lineage_json("show", "@last")["executions"][1]["writes"][0]["hash"]

    # The child itself: its command line, and which of the cell's files were its own.
    (child,) = bang["children"]
    assert child["argv"].endswith("prep.py") and child["pid"] > 0
    assert {os.path.basename(p) for p in child["reads"]} >= {"prep.py", "data.csv"}
    assert [os.path.basename(p) for p in child["writes"]] == ["clean.csv"]
    assert child["started"] <= child["ended"]

    sub = _cell(show, "subprocess")
    (trainer,) = sub["children"]
    assert trainer["argv"] == "train.py [redacted $API_TOKEN]"  # a secret argument
    assert {"train.py", "clean.csv"} <= _names(sub["reads"])
    assert _names(sub["writes"]) == {"model.pkl"}
    assert _cell(show, "magic-run")["writes"][0]["path"] == str(project / "report.txt")

    # The model's trace finds its true inputs through both children.
    trace = lineage_json("trace", "model.pkl")
    inputs = {os.path.basename(n["path"]) for n in trace["nodes"] if n["type"] == "artifact"}
    assert {"data.csv", "prep.py", "clean.csv", "train.py"} <= inputs
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    assert b"child-secret-value" not in raw


def test_multiprocessing_and_joblib_workers(tracked: Kernel, project: Path) -> None:
    k = tracked
    parts = [f"part{i}.bin" for i in range(4)]
    k.check(
        "import multiprocessing as mp\nimport work\n"
        f"with mp.get_context('fork').Pool(2) as pool:\n    sizes = pool.map(work.size, {parts[:2]})\n"
        "assert sizes == [100, 101]",
        cell_id="fork-pool",
    )
    k.check(
        f"with mp.get_context('spawn').Pool(2) as pool:\n    sizes = pool.map(work.size, {parts[2:]})\n"
        "assert sizes == [102, 103]",
        cell_id="spawn-pool",
    )
    # loky's workers outlive the cell and serve the next one: each batch records for the cell
    # that sent it, when it returns (no shutdown needed to see it).
    k.check(
        "from joblib import Parallel, delayed\n"
        f"sizes = Parallel(n_jobs=2)(delayed(work.size)(p) for p in {parts[:2]})",
        cell_id="joblib",
    )
    k.check(
        f"sizes = Parallel(n_jobs=2)(delayed(work.size)(p) for p in {parts[2:]})",
        cell_id="joblib-again",
    )
    k.check(
        "p = mp.get_context('fork').Process(target=work.size, args=('data.csv',))\n"
        "p.start(); p.join()",
        cell_id="fork-process",
    )
    show = lineage_json("show", "@last")
    assert _names(_cell(show, "fork-pool")["reads"]) >= {"part0.bin", "part1.bin"}
    forked = _cell(show, "fork-pool")["children"]
    assert forked and all("ForkPoolWorker" in c["argv"] for c in forked)
    assert _names(_cell(show, "spawn-pool")["reads"]) >= {"part2.bin", "part3.bin"}
    workers = _cell(show, "spawn-pool")["children"]
    assert 1 <= len(workers) <= 2 and all(w["pid"] > 0 for w in workers)
    assert {os.path.basename(p) for w in workers for p in w["reads"]} >= {"part2.bin", "part3.bin"}
    assert _names(_cell(show, "joblib")["reads"]) == set(parts[:2])
    assert _names(_cell(show, "joblib-again")["reads"]) == set(parts[2:])
    loky = _cell(show, "joblib")["children"] + _cell(show, "joblib-again")["children"]
    assert loky and all("multiprocessing Loky" in c["argv"] for c in loky), loky
    assert "data.csv" in _names(_cell(show, "fork-process")["reads"])
    # Reads carry the content hash of what the worker read.
    (part0,) = [r for r in _cell(show, "fork-pool")["reads"] if r["path"].endswith("part0.bin")]
    import blake3

    assert part0["hash"] == "blake3:" + blake3.blake3(bytes([0]) * 100).hexdigest()


STUCK = """
import ctypes
rows = open('data.csv').read()
libc = ctypes.CDLL(None)
mutex = ctypes.create_string_buffer(64)  # a pthread mutex, statically initialised (zeros)
libc.pthread_mutex_lock(mutex)
print('waiting', flush=True)
libc.pthread_mutex_lock(mutex)  # waits for ever; no signal interrupts it
"""


def test_sigterm_ends_and_records_a_child_blocked_where_python_handlers_cannot_run(
    tracked: Kernel, project: Path
) -> None:
    """A SIGTERM that finds the main thread in a wait no signal interrupts (as a pool worker
    is, when it lands just before its wait on the queue lock its terminating parent holds):
    the child still records what it read and ends by SIGTERM, instead of hanging its parent."""
    (project / "stuck.py").write_text(STUCK)
    k = tracked
    k.check(
        "import signal\n"
        "proc = subprocess.Popen([sys.executable, 'stuck.py'], stdout=subprocess.PIPE, text=True)\n"
        "try:\n"
        "    assert proc.stdout.readline() == 'waiting\\n'\n"
        "    proc.terminate()\n"
        "    code = proc.wait(timeout=60)\n"
        "finally:\n"
        "    proc.kill()\n"
        "assert code == -signal.SIGTERM, code",
        cell_id="terminated",
        timeout=180,
    )
    (child,) = _cell(lineage_json("show", "@last"), "terminated")["children"]
    assert child["argv"].endswith("stuck.py")
    assert {os.path.basename(p) for p in child["reads"]} == {"stuck.py", "data.csv"}


def test_untracked_processes_are_untouched(project: Path) -> None:
    """Without the marker the start-up hook imports nothing of ours."""
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_LINEAGE_PARENT"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; print(any(m.startswith('jupyter_lineage') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_pipeline_run_records_its_children(project: Path) -> None:
    """`jupyter lineage run`: a cell's `!python` and subprocess children record into the run."""
    import nbformat

    (project / "data.csv").write_text("a,b\n1,2\n3,4\n")
    (project / "prep.py").write_text(PREP)
    (project / "train.py").write_text(TRAIN)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import sys, subprocess\n!{sys.executable} prep.py"),
        nbformat.v4.new_code_cell("subprocess.run([sys.executable, 'train.py'], check=True)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(project / "pipe.ipynb"))
    run = lineage_json("run", "pipe.ipynb")
    show = lineage_json("show", run["id"])
    first, second = show["executions"]
    assert {"prep.py", "data.csv"} <= _names(first["reads"])
    assert _names(first["writes"]) == {"clean.csv"}
    assert _names(second["writes"]) == {"model.pkl"}
    trace = lineage_json("trace", "model.pkl")
    inputs = {os.path.basename(n["path"]) for n in trace["nodes"] if n["type"] == "artifact"}
    assert {"data.csv", "prep.py", "clean.csv", "train.py"} <= inputs


def test_unload_takes_the_marker_away(kernel: Kernel) -> None:
    """After %unload_ext the kernel's children are untracked again."""
    kernel.check("%load_ext jupyter_lineage")
    kernel.check("import os\nassert os.environ['JUPYTER_LINEAGE_PARENT'].count(':') >= 3")
    kernel.check("%unload_ext jupyter_lineage")
    kernel.check("assert 'JUPYTER_LINEAGE_PARENT' not in os.environ")


def test_a_pipeline_started_from_a_cell_records_its_own_run(tracked: Kernel, project: Path) -> None:
    """`!jupyter lineage run` in a tracked cell: the tool's files (the kernel's connection file,
    the notebook) are not the cell's data; the pipeline records a run of its own."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("t = open('data.csv').read()")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(project / "inner.ipynb"))
    cli = Path(sys.executable).parent / "jupyter-lineage"
    tracked.check(f"!{cli} run inner.ipynb", cell_id="nested")
    runs = lineage_json("runs")
    (outer,) = [r for r in runs if r["kind"] == "interactive"]
    (inner,) = [r for r in runs if r["kind"] == "papermill"]
    nested = _cell(lineage_json("show", outer["id"]), "nested")
    assert nested["reads"] == [] and nested["writes"] == [] and nested["children"] == []
    inner_show = lineage_json("show", inner["id"])
    assert _names(inner_show["executions"][0]["reads"]) == {"data.csv"}
