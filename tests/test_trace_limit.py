"""A trace of an input many runs share is bounded: the first N cells and files per level, the
exact number of cells that read it, and a clear `truncated`; `--all` gives everything. The CLI,
the Python API and the REST API (tests/test_server.py) answer alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_lineage import api
from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.errors import UsageError

from .conftest import lineage, lineage_json

RUNS = 12


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUNS runs of one notebook, each reading shared.csv, then writing its own output from it
    in a second cell that uses the first cell's variable (a dataflow edge)."""
    db = tmp_path / "lineage.db"
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(db))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.ipynb").write_text("{}")
    (tmp_path / "shared.csv").write_text("x\n1\n")
    for i in range(RUNS):
        t = Tracker(notebook=str(tmp_path / "nb.ipynb"))
        t.dataflow.namespace = ns = {}  # type: ignore[assignment]
        t.begin_execution("raw = open('shared.csv').read()", "read")
        ns["raw"] = (tmp_path / "shared.csv").read_text()
        t.end_execution(execution_count=1)
        t.begin_execution(f"open('out{i}.csv', 'w').write(raw)", "write")
        (tmp_path / f"out{i}.csv").write_text(f"{i}")
        t.end_execution(execution_count=2)
        t.close()
    return tmp_path


def _count(data: dict[str, Any], kind: str) -> int:
    return sum(1 for n in data["nodes"] if n["type"] == kind)


def test_downstream_is_bounded_per_level_and_says_so(shared: Path) -> None:
    data = api.trace("shared.csv", downstream=True, limit=5)
    assert data["truncated"] is True and data["limit"] == 5
    assert data["direct"] == {"executions": RUNS}  # counted exactly, not only those shown
    first = data["levels"][0]
    assert first["more"] is True and first["executions"] <= 5 and first["artifacts"] <= 5
    assert _count(data, "execution") <= 5 and _count(data, "artifact") <= 6  # + the target
    # every edge joins two nodes that are shown
    shown = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in shown and e["target"] in shown for e in data["edges"])


def test_all_is_everything_and_the_default_fits_a_normal_trace(shared: Path) -> None:
    everything = api.trace("shared.csv", downstream=True, limit=None)
    assert everything["truncated"] is False and everything["limit"] is None
    # each run: the reading cell and the writing cell that used its variable; each output
    assert _count(everything, "execution") == 2 * RUNS
    assert {Path(n["path"]).name for n in everything["nodes"] if n["type"] == "artifact"} == {
        "shared.csv",
        *(f"out{i}.csv" for i in range(RUNS)),
    }
    assert api.trace("shared.csv", downstream=True) == everything | {"limit": 100}
    upstream = api.trace("out3.csv")
    assert upstream["truncated"] is False and upstream["direct"] == {"executions": 1}


def test_the_cli_prints_what_was_left_out_and_how_to_see_it(shared: Path) -> None:
    out = lineage("trace", "shared.csv", "--downstream", "--limit", "3").stdout
    assert "Showing at most 3 cells and 3 files per level" in out
    assert f"{RUNS} cell(s) read this version directly" in out
    assert "--all everything" in out
    full = lineage("trace", "shared.csv", "--downstream", "--all").stdout
    assert "Showing at most" not in full
    assert lineage_json("trace", "shared.csv", "--downstream", "--limit", "3")["truncated"]
    assert not lineage_json("trace", "shared.csv", "--downstream", "--all")["truncated"]


def test_a_bad_limit_is_one_line(shared: Path) -> None:
    with pytest.raises(UsageError, match="--limit"):
        api.trace("shared.csv", downstream=True, limit=0)
    proc = lineage("trace", "shared.csv", "--limit", "0", check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
