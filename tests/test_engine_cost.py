"""What `papermill --engine lineage` does not pay for: each cut of the engine's cost (the
benchmark `pipeline` measures the time) kept by a check that what is recorded is unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

from jupyter_lineage.capture.environment import cache_key
from jupyter_lineage.capture.gitstate import capture_git
from jupyter_lineage.capture.readers.catalog import GROUP, _entry_points, readers_cache


def _modules_after(code: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_outside_a_repository_git_state_is_none_without_importing_gitpython(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    code = (
        "from jupyter_lineage.capture.gitstate import capture_git\n"
        f"assert capture_git({str(folder)!r}) is None"
    )
    assert "git" not in _modules_after(code, tmp_path)


def test_inside_a_repository_below_its_root_git_state_is_read(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    deep = tmp_path / "notebooks" / "x"
    deep.mkdir(parents=True)
    state = capture_git(str(deep))
    assert state is not None and "error" not in state
    assert state["root"] == str(tmp_path) and state["commit"] is None


def test_the_engine_process_names_the_kernel_environment_without_capture(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path\n"
        "from jupyter_lineage.pipeline.record import RunPlan\n"
        "env = RunPlan(notebook='nb.ipynb', parameters={}, db=Path('l.db')).kernel_env()\n"
        "assert set(env) == {'JUPYTER_LINEAGE_RUN_ID', 'JUPYTER_LINEAGE_NOTEBOOK',"
        " 'JUPYTER_LINEAGE_DB'}"
    )
    loaded = _modules_after(code, tmp_path)
    assert "jupyter_lineage.capture.tracker" not in loaded
    assert "jupyter_lineage.capture.dataflow" not in loaded


def test_the_magics_load_without_the_api(tmp_path: Path) -> None:
    loaded = _modules_after("import jupyter_lineage.magics", tmp_path)
    assert "jupyter_lineage.api" not in loaded
    assert "jupyter_lineage.widgets" not in loaded


def test_reader_plugins_are_listed_from_the_cache_while_sys_path_is_unchanged(
    tmp_path: Path,
) -> None:
    cache = readers_cache(tmp_path / "lineage.db")
    found = _entry_points(cache)  # a miss: the real lookup, written down
    assert json.loads(cache.read_text())["points"] == [[p.name, p.value] for p in found]
    # the cache is what is read while the folders on sys.path are as they were
    cache.write_text(json.dumps({"key": cache_key(), "points": [["probe", "probe_mod:SPECS"]]}))
    assert _entry_points(cache) == [EntryPoint("probe", "probe_mod:SPECS", GROUP)]
    # a folder added to sys.path (a package installed there) is looked up again
    extra = tmp_path / "site"
    extra.mkdir()
    sys.path.insert(0, str(extra))
    try:
        assert _entry_points(cache) == found
    finally:
        sys.path.remove(str(extra))
    cache.write_text("{damaged")
    assert _entry_points(cache) == found
