"""`jupyter lineage gc` on a store made by real capture: what goes, what stays and why, the
lineage of what stays unchanged, a smaller file; `%track` shows the store's size."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import db_dump, lineage, lineage_json, tracked_run
from .kernel import Kernel


@pytest.fixture
def store(project: Path, db: Path) -> dict[str, str]:
    """prep (raw → clean, since rewritten by prep2) feeds train v1 (tagged) and train v2
    (current); scratch runs
    overwrite one file (only the last version is on disk); a run that only read; a pipeline-
    like history stays because it is not interactive."""
    (project / "raw.csv").write_text("x\n1\n2\n")
    ids = {}
    ids["prep"] = tracked_run(
        project,
        "prep.ipynb",
        lambda: (project / "clean.csv").write_text((project / "raw.csv").read_text()),
    )
    ids["train1"] = tracked_run(
        project,
        "train.ipynb",
        lambda: (project / "model.pkl").write_text("v1" + (project / "clean.csv").read_text()),
    )
    for n in range(3):
        # 30 cells of 4 kB code each: removing a scratch run shows in the file's size
        cells = [lambda: None] * 29 + [lambda n=n: (project / "scratch.txt").write_text(str(n))]
        ids[f"scratch{n}"] = tracked_run(project, "scratch.ipynb", *cells, pad=4000)
    ids["reader"] = tracked_run(project, "look.ipynb", lambda: (project / "raw.csv").read_text())
    ids["train2"] = tracked_run(
        project,
        "train.ipynb",
        lambda: (project / "model.pkl").write_text("v2" + (project / "clean.csv").read_text()),
    )
    ids["prep2"] = tracked_run(
        project, "prep.ipynb", lambda: (project / "clean.csv").write_text("x\n1\n2\n3\n")
    )
    v1 = next(m for m in lineage_json("models") if m["run"]["id"] == ids["train1"])
    ids["v1"] = v1["hash"]
    lineage("tag", f"model.pkl@{v1['hash'].removeprefix('blake3:')[:12]}", "production")
    return ids


def _run_ids(db: Path) -> set[str]:
    return {r["id"] for r in lineage_json("runs", db=db)}


def test_gc_removes_only_what_nothing_kept_needs(
    store: dict[str, str], project: Path, db: Path
) -> None:
    traces = {target: lineage_json("trace", target) for target in ("model.pkl", store["v1"][7:19])}
    before = db_dump(db)
    dry = lineage_json("gc", "--keep-last", "0", "--dry-run")
    assert db_dump(db) == before  # a dry run changes nothing
    gone = {store["scratch0"], store["scratch1"], store["reader"]}
    assert {r["id"] for r in dry["removed"]} == gone
    why = {k["id"]: k["why"] for k in dry["kept"]}
    assert why == {
        store["train1"]: "tagged output",
        store["train2"]: "current output",
        store["scratch2"]: "current output",
        store["prep"]: "upstream of a kept run",  # its clean.csv is replaced, but was read
        store["prep2"]: "current output",
    }

    done = lineage_json("gc", "--keep-last", "0")
    assert {r["id"] for r in done["removed"]} == gone
    assert done["bytes_after"] < done["bytes_before"]
    assert done["rows"]["runs"] == 3 and done["rows"]["executions"] == 61
    assert done["rows"]["artifacts"] == 2  # the two scratch versions no one has any more
    assert _run_ids(db) == set(store.values()) - gone - {store["v1"]}
    # the lineage of what stayed is exactly what it was
    for target, trace in traces.items():
        assert lineage_json("trace", target) == trace
    assert [m["tags"] for m in lineage_json("models", "--tag", "production")] == [["production"]]

    conn = sqlite3.connect(db)
    try:
        for sql in (
            "SELECT count(*) FROM executions WHERE run_id NOT IN (SELECT id FROM runs)",
            "SELECT count(*) FROM accesses WHERE execution_id NOT IN (SELECT id FROM executions)",
            "SELECT count(*) FROM artifacts WHERE id NOT IN (SELECT artifact_id FROM accesses)",
            "SELECT count(*) FROM sources WHERE hash NOT IN (SELECT source_hash FROM executions)",
            "SELECT count(*) FROM params WHERE run_id NOT IN (SELECT id FROM runs)",
        ):
            assert conn.execute(sql).fetchone()[0] == 0, sql
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()

    again = lineage_json("gc", "--keep-last", "0")
    assert again["removed"] == [] and again["rows"] == {}


def test_keep_last_and_older_than(store: dict[str, str], db: Path) -> None:
    # every run is minutes old: --older-than 1 (day) removes nothing
    assert lineage_json("gc", "--older-than", "1")["removed"] == []
    # scratch.ipynb's newest two stay; its oldest goes, and so does nothing else there
    kept_two = lineage_json("gc", "--keep-last", "2", "--dry-run")
    assert {r["id"] for r in kept_two["removed"]} == {store["scratch0"]}
    text = lineage("gc", "--keep-last", "1", "--older-than", "0").stdout
    assert "removed 2 interactive runs" in text and "store: 0." in text
    assert "kept 2 that would otherwise go: 1 tagged output, 1 upstream of a kept run" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "--keep-last N"),
        (["--keep-last", "-1"], "--keep-last"),
        (["--older-than", "soon"], "--older-than"),
    ],
)
def test_gc_bad_input(store: dict[str, str], db: Path, args: list[str], says: str) -> None:
    before = db_dump(db)
    proc = lineage("gc", *args, check=False)
    assert proc.returncode == 2 and says in proc.stderr and proc.stderr.count("\n") == 1
    assert db_dump(db) == before


def test_track_shows_the_store_size(kernel: Kernel, db: Path) -> None:
    kernel.check("%load_ext jupyter_lineage")
    kernel.check("open('x.txt', 'w').write('x')")
    out = kernel.check("%track").stdout
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("database"))
    assert str(db) in line and line.rstrip().endswith(("kB)", "MB)")), line
    assert json.loads(lineage("runs", "--json", db=db).stdout)
