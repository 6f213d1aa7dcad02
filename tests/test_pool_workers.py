"""`sweep` (and `repro --jobs`) run notebooks in a process pool: when the CLI is killed hard
(SIGKILL, the OOM killer) its workers and their kernels end too, none left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

GENEROUS = 120.0  # seconds: this machine may be loaded


def _descendants(root: int) -> dict[int, str]:
    """Live processes below ``root`` (pid -> command line), from /proc."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
            commands[int(entry)] = cmd
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended: only its exit status is left


def test_sweep_workers_and_kernels_end_when_the_cli_is_killed(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("t = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(t)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    cli = subprocess.Popen(
        [
            *(sys.executable, "-m", "jupyter_lineage", "sweep", "nb.ipynb"),
            *("-p", "t", "300", "301", "--workers", "2", "--db", str(tmp_path / "l.db")),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + GENEROUS
        below: dict[int, str] = {}
        while time.monotonic() < deadline:  # mid-sweep: both notebooks' kernels running
            below = _descendants(cli.pid)
            if sum("ipykernel" in cmd for cmd in below.values()) >= 2:
                break
            time.sleep(0.5)
        assert sum("ipykernel" in cmd for cmd in below.values()) >= 2, below
        time.sleep(1.0)  # inside the sleeping cell
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=30)
        deadline = time.monotonic() + GENEROUS
        while time.monotonic() < deadline and any(_alive(p) for p in below):
            time.sleep(0.5)
        assert not {p: c for p, c in below.items() if _alive(p)}
    finally:
        for pid in _descendants(cli.pid) if cli.poll() is None else {}:
            os.kill(pid, signal.SIGKILL)
        if cli.poll() is None:
            cli.kill()
