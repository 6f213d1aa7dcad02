"""A kernel that dies while starting (most often one that lost its ports to another kernel
starting at the same moment: a sweep, `repro --jobs`, a CI matrix) is started once more, with
fresh ports; one that cannot start at all still fails, saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

# Dies at its first start, as a kernel whose port was taken does ("Address already in use").
START = """
import os, sys
tries = os.environ["FLAKY_TRIES"]
with open(tries, "a") as f:
    f.write("start\\n")
if open(tries).read().count("start") <= int(os.environ["FLAKY_DEATHS"]):
    if os.environ["FLAKY_HOW"] == "hang":  # as ipykernel does when its exit then waits on zmq
        import time
        time.sleep(600)
    sys.exit("zmq.error.ZMQError: Address already in use")
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def _run(
    tmp_path: Path, deaths: int, how: str = "die"
) -> tuple[subprocess.CompletedProcess[str], int]:
    spec = tmp_path / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    (tmp_path / "start.py").write_text(START)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, str(tmp_path / "start.py"), "-f", "{connection_file}"],
                "display_name": "flaky",
                "language": "python",
            }
        )
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("text = open('data.csv').read()")]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    (tmp_path / "data.csv").write_text("a\n1\n")
    tries = tmp_path / "tries.txt"
    env = {
        **os.environ,
        "JUPYTER_PATH": str(tmp_path / "jupyter"),
        "FLAKY_TRIES": str(tries),
        "FLAKY_DEATHS": str(deaths),
        "FLAKY_HOW": how,
    }
    # a hung start waits this long, and a real one must fit in it on a busy machine
    timeout = ["--start-timeout", "30"] if how == "hang" else []
    db = tmp_path / "l.db"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_lineage",
            "run",
            "nb.ipynb",
            "--kernel",
            "flaky",
            "--output",
            "out.ipynb",
            "--db",
            str(db),
            *timeout,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, tries.read_text().count("start")


@pytest.mark.parametrize("how", ["die", "hang"])
def test_a_kernel_that_did_not_start_is_started_once_more(tmp_path: Path, how: str) -> None:
    proc, starts = _run(tmp_path, deaths=1, how=how)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert starts == 2
    assert "starting it once more" in proc.stderr
    show = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_lineage",
            "show",
            "@last",
            "--json",
            "--db",
            str(tmp_path / "l.db"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    run = json.loads(show.stdout)
    assert run["status"] == "succeeded"
    assert [f["path"] for f in run["files_read"]] == [str(tmp_path / "data.csv")]


def test_a_kernel_that_cannot_start_fails_after_the_second_try(tmp_path: Path) -> None:
    proc, starts = _run(tmp_path, deaths=5)
    assert proc.returncode != 0
    assert starts == 2
    assert "Kernel died before replying to kernel_info" in proc.stderr
    assert "Traceback" not in proc.stderr
