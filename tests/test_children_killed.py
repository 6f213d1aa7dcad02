"""A Python child SIGKILLed mid-run (the OOM killer's way): what it had finished — a step it ran
as its own child, which ended and recorded — is kept for the cell; the killed process itself
records nothing (no half record), the kernel's own records of that cell and of the cells
around it are intact, and the store passes SQLite's integrity check."""

from __future__ import annotations

import os
import signal
import sqlite3
import sysconfig
from pathlib import Path

import pytest

from .conftest import lineage_json
from .kernel import Kernel

PTH = Path(sysconfig.get_paths()["purelib"]) / "jupyter_lineage_children.pth"
pytestmark = pytest.mark.skipif(
    not PTH.exists(), reason=f"{PTH} is missing: reinstall the package (make setup)"
)

STEP = """
rows = open('raw.csv').read().splitlines()
open('clean.csv', 'w').write('\\n'.join(r for r in rows if not r.endswith(',3')) + '\\n')
"""
DRIVER = """
import os, signal, subprocess, sys
subprocess.run([sys.executable, 'step.py'], check=True)  # finished: recorded when it ended
features = open('clean.csv').read()
with open('partial.csv', 'w') as f:
    f.write(features)
os.kill(os.getpid(), signal.SIGKILL)  # killed before it ends: nothing of its own is recorded
"""


def _cell(show: dict[str, object], cell_id: str) -> dict[str, object]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]  # type: ignore[index,attr-defined]
    return dict(cell)


def _names(files: object) -> set[str]:
    return {os.path.basename(f["path"]) for f in files}  # type: ignore[attr-defined,index]


def test_a_killed_child_keeps_what_it_finished(kernel: Kernel, project: Path, db: Path) -> None:
    (project / "raw.csv").write_text("a,b\n1,2\n2,3\n4,5\n")
    (project / "step.py").write_text(STEP)
    (project / "driver.py").write_text(DRIVER)
    (project / "config.json").write_text('{"k": 3}')
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check(
        "import json, subprocess, sys\nconfig = json.load(open('config.json'))", cell_id="before"
    )
    k.check(
        "proc = subprocess.run([sys.executable, 'driver.py'])\n"
        f"assert proc.returncode == -{int(signal.SIGKILL)}, proc.returncode\n"
        "notes = open('raw.csv').read()\nopen('log.txt', 'w').write(str(proc.returncode))",
        cell_id="killed",
    )
    k.check("done = open('clean.csv').read()", cell_id="after")
    show = lineage_json("show", "@last")

    cell = _cell(show, "killed")
    # The finished step (driver.py's own child): its script, input and output, as the cell's.
    assert {"step.py", "raw.csv"} <= _names(cell["reads"])
    assert _names(cell["writes"]) == {"clean.csv", "log.txt"}  # log.txt is the kernel's own
    (step,) = cell["children"]  # type: ignore[misc]
    assert step["argv"].endswith("step.py") and _names_of(step["writes"]) == {"clean.csv"}
    # The killed driver left no record: neither partial.csv nor a child entry of its own.
    assert "partial.csv" not in _names(cell["writes"]) | _names(cell["reads"])
    assert "driver.py" not in _names(cell["reads"])

    # The kernel's own cells around it are whole.
    assert _names(_cell(show, "before")["reads"]) == {"config.json"}
    assert _names(_cell(show, "after")["reads"]) == {"clean.csv"}
    assert [e["cell_id"] for e in show["executions"] if e["cell_id"]] == [
        "before",
        "killed",
        "after",
    ]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _names_of(paths: object) -> set[str]:
    return {os.path.basename(p) for p in paths}  # type: ignore[attr-defined]
