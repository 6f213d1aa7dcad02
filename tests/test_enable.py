"""`jupyter lineage enable / disable / doctor` against real kernels started afterwards.

Every test runs with its own HOME, IPYTHONDIR and Jupyter folders: the user's real IPython
config is never read or touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from jupyter_lineage.store import Store

from .conftest import lineage
from .kernel import Kernel

ROOT = Path(__file__).resolve().parent.parent
SITE = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, IPython dir and Jupyter dirs; the store is found from the kernel's folder."""
    home = tmp_path / "home"
    home.mkdir()
    for name, sub in (
        ("HOME", ""),
        ("IPYTHONDIR", ".ipython"),
        ("JUPYTER_CONFIG_DIR", ".jupyter"),
        ("JUPYTER_DATA_DIR", ".local/share/jupyter"),
    ):
        monkeypatch.setenv(name, str(home / sub) if sub else str(home))
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    return home


def _runs(folder: Path) -> list[dict[str, object]]:
    db = folder / ".lineage" / "lineage.db"
    if not db.exists():
        return []
    with Store(db) as store:
        return [dict(r) for r in store.db.query("select id, kind, notebook from runs")]


def _execution_count(folder: Path) -> int:
    with Store(folder / ".lineage" / "lineage.db") as store:
        return int(next(store.db.query("select count(*) as n from executions"))["n"])


def _tracked_session(folder: Path) -> str:
    """A kernel started in ``folder`` with no %load_ext: it writes a file; what does %track say?"""
    k = Kernel(str(folder))
    try:
        k.check("open('out.txt', 'w').write('x')")
        reply = k.run("%track")
    finally:
        k.shutdown()
    return reply.stdout if reply.ok else ""


def test_enable_user_then_a_new_kernel_tracks_without_load_ext(home: Path, tmp_path: Path) -> None:
    profile = home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    mine = "c.InteractiveShellApp.exec_lines = ['from_user_config = 1']\n"
    (profile / "ipython_kernel_config.py").write_text(mine)
    folder = tmp_path / "work"
    folder.mkdir()

    out = lineage("enable", cwd=folder).stdout
    assert "now tracks" in out
    assert "already tracks" in lineage("enable", "--user", cwd=folder).stdout  # idempotent
    config = (profile / "ipython_kernel_config.py").read_text()
    assert config.startswith(mine) and config.count(">>> jupyter-lineage: user >>>") == 1

    k = Kernel(str(folder))
    try:
        k.check("open('out.txt', 'w').write('x')")
        assert "recording" in k.check("%track").stdout
        # the user's own config still applies beside ours
        assert k.check("print(from_user_config)").stdout.strip() == "1"
    finally:
        k.shutdown()
    runs = _runs(folder)
    assert [r["kind"] for r in runs] == ["interactive"]
    assert _execution_count(folder) >= 2

    assert "removed" in lineage("disable", "--user", cwd=folder).stdout
    assert (profile / "ipython_kernel_config.py").read_text() == mine
    assert _tracked_session(folder) == ""  # %track is unknown: nothing loaded it
    assert len(_runs(folder)) == 1


def test_enable_project_tracks_kernels_below_it_only(home: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "notebooks").mkdir(parents=True)
    (project / ".git").mkdir()  # the project's root is its git root
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    change = json.loads(lineage("enable", "--project", "--json", cwd=project / "notebooks").stdout)
    assert change["path"] == str(project / ".lineage" / "autoload")
    assert (project / ".lineage" / "autoload").is_file()

    assert "recording" in _tracked_session(project / "notebooks")
    assert len(_runs(project)) == 1
    assert _tracked_session(elsewhere) == ""
    assert _runs(elsewhere) == []

    lineage("disable", "--project", cwd=project)
    assert not (project / ".lineage" / "autoload").exists()
    assert _tracked_session(project / "notebooks") == ""
    assert len(_runs(project)) == 1


def _prefix_python(tmp_path: Path) -> Path:
    """A fresh environment (its own sys.prefix) that sees this one's packages."""
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    site = next((env / "lib").glob("python3*/site-packages"))
    (site / "parent.pth").write_text(f"import site; site.addsitedir({SITE!r})\n")
    return env / "bin" / "python"


def _kernelspec(home: Path, python: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python3`` runs that Python: JUPYTER_PATH comes before the environment's own specs."""
    monkeypatch.setenv("JUPYTER_PATH", str(home / "jupyter-path"))
    spec = home / "jupyter-path" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))


def test_enable_sys_prefix_reaches_that_environment_only(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = _prefix_python(tmp_path)
    _kernelspec(home, python, monkeypatch)
    folder = tmp_path / "work"
    folder.mkdir()
    proc = subprocess.run(
        [str(python), "-m", "jupyter_lineage", "enable", "--sys-prefix"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "env" / "etc" / "ipython" / "ipython_kernel_config.py").is_file()
    assert not (home / ".ipython" / "profile_default" / "ipython_kernel_config.py").exists()

    assert "recording" in _tracked_session(folder)  # the kernelspec runs that environment
    assert len(_runs(folder)) == 1

    # doctor, run from this environment, asks the kernel's Python: it tracks
    doc = lineage("doctor", "--json", cwd=folder, check=False)
    checks = {c["check"]: c for c in json.loads(doc.stdout)}
    assert checks["kernel"]["ok"], checks["kernel"]
    assert "tracks lineage by itself" in checks["kernel"]["detail"]


def test_doctor_says_what_is_off_and_how_to_fix_it(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    doc = lineage("doctor", cwd=folder, check=False)
    assert doc.returncode == 1
    lines = doc.stdout.splitlines()
    kernel = next(ln for ln in lines if ln.split()[1] == "kernel")
    assert kernel.startswith("FIX") and "jupyter lineage enable" in kernel
    store = next(ln for ln in lines if ln.split()[1] == "store")
    assert str(folder / ".lineage" / "lineage.db") in store
    server = next(ln for ln in lines if ln.split()[1] == "server")
    assert server.startswith("ok") and "enabled" in server
    lab = next(ln for ln in lines if ln.split()[1] == "lab")
    assert lab.startswith("ok") and "JupyterLab" in lab

    lineage("enable", cwd=folder)
    doc = lineage("doctor", "--json", cwd=folder)
    checks = {c["check"]: c for c in json.loads(doc.stdout)}
    assert checks["autoload-user"]["detail"].startswith("user: on")
    assert checks["kernel"]["ok"] and all(c["ok"] for c in checks.values())


def test_enable_where_the_config_cannot_be_written_is_one_line(home: Path, tmp_path: Path) -> None:
    in_the_way = tmp_path / "afile"
    in_the_way.write_text("")
    env_dir = str(in_the_way / "ipython")  # a file where a folder must be made
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "enable"],
        env={**os.environ, "IPYTHONDIR": env_dir},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr and "IPYTHONDIR" in proc.stderr
    assert in_the_way.read_text() == ""


def test_vs_code_names_the_notebook_after_start_up(home: Path, tmp_path: Path) -> None:
    """VS Code sets __vsc_ipynb_file__ by a request of its own once the kernel is up: the run
    enable starts is named after it (and no Jupyter session name is there)."""
    folder = tmp_path / "work"
    folder.mkdir()
    lineage("enable", cwd=folder)
    notebook = folder / "analysis.ipynb"
    k = Kernel(str(folder))
    try:
        # as a frontend's own request: not silent, but kept out of the history
        msg_id = k.kc.execute(f"__vsc_ipynb_file__ = {str(notebook)!r}", store_history=False)
        while k.kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
            pass
        k.check("open('out.txt', 'w').write('x')")
        status = k.check("%track").stdout
    finally:
        k.shutdown()
    assert f"notebook   {notebook}" in status
    (run,) = _runs(folder)
    assert run["notebook"] == str(notebook) and run["kind"] == "interactive"
    assert _execution_count(folder) == 2  # the cell and %track; not the start-up request
