"""Folders as datasets: many files read from one folder are one artifact with a tree hash, its
members queryable, an unchanged re-read adding O(1) rows, and status saying what changed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import blake3
import pytest

from .conftest import image_folder, lineage, lineage_json
from .kernel import Kernel
from .readers_helpers import run_cells

READ_ALL = (
    "import os\n"
    "pixels = [open(os.path.join('images', n), 'rb').read() for n in sorted(os.listdir('images'))]"
)
TRAIN = "import joblib\njoblib.dump({'n': len(pixels)}, 'model.joblib')"


def _images(project: Path, n: int = 30) -> Path:
    return image_folder(project, n, size=1024)


def _rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


def test_a_folder_read_is_one_dataset_with_members(kernel: Kernel, project: Path, db: Path) -> None:
    folder = _images(project)
    kernel.check("%load_ext jupyter_lineage")
    kernel.check(READ_ALL, cell_id="read")
    kernel.check(TRAIN, cell_id="train")
    kernel.check("# lineage: flush")  # a cell that may read the store writes what is pending
    cells = {e["cell_id"]: e for e in lineage_json("show", "@last")["executions"]}
    [read] = cells["read"]["reads"]
    assert read["path"] == f"{folder}/" and read["kind"] == "dataset" and read["files"] == 30
    assert read["hash"].startswith("blake3-tree:") and read["size"] == 30 * 1024

    before = _rows(db)
    for _ in range(2):  # unchanged re-reads: a row or two per cell, never one per file
        kernel.check(READ_ALL, cell_id="again")
    kernel.check("# lineage: flush")
    after = _rows(db)
    added = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    assert added.get("folder_members", 0) == 0 and added.get("artifacts", 0) == 0, added
    assert sum(added.values()) <= 8, added  # 3 executions, 2 accesses, a source or two

    shown = lineage_json("show", "@last", "--files")
    [folder_ref] = [f for f in shown["files_read"] if f["path"] == f"{folder}/"]
    assert [m["name"] for m in folder_ref["members"]] == [f"img{i:03}.png" for i in range(30)]
    assert "images/ (30 files)" in lineage("show", "@last").stdout

    trace = lineage_json("trace", "model.joblib")
    assert f"{folder}/" in {n["path"] for n in trace["nodes"] if n["type"] == "artifact"}

    (folder / "img000.png").write_bytes(b"edited")
    for i in range(30, 33):
        (folder / f"img{i:03}.png").write_bytes(b"new")
    proc = lineage("status", "model.joblib", "--json", check=False)
    assert proc.returncode == 1  # stale, for CI
    status = json.loads(proc.stdout)
    [item] = status
    assert item["state"] == "stale"
    [changed] = item["changed_inputs"]
    assert changed["path"] == f"{folder}/"
    assert changed["detail"] == "33 files: 3 added, 1 modified"
    assert "3 added, 1 modified" in lineage("status", "model.joblib", check=False).stdout
    note = lineage_json("trace", "images")["note"]
    assert "3 added, 1 modified" in note


@pytest.mark.parametrize("mode", ["pipeline"])
def test_a_folder_read_in_a_pipeline(mode: str, project: Path) -> None:
    folder = _images(project, 25)
    show = run_cells(mode, [READ_ALL, TRAIN], project, None)
    reads = [f for e in show["executions"] for f in e["reads"]]
    assert [(f["path"], f["files"]) for f in reads] == [(f"{folder}/", 25)]
    trace = lineage_json("trace", "model.joblib")
    assert f"{folder}/" in {n["path"] for n in trace["nodes"] if n["type"] == "artifact"}

    (folder / "img000.png").write_bytes(b"edited")
    for i in range(25, 28):
        (folder / f"img{i:03}.png").write_bytes(b"new")
    again = run_cells(mode, [READ_ALL, TRAIN], project, None)
    diff = lineage_json("diff", show["id"], again["id"])
    [row] = [f for f in diff["inputs"] if f["path"] == f"{folder}/"]
    assert row["status"] == "changed" and row["detail"] == "28 files: 3 added, 1 modified"
    assert "3 added, 1 modified" in lineage("diff", show["id"], again["id"]).stdout


def test_a_few_files_stay_files(kernel: Kernel, project: Path) -> None:
    _images(project, 5)
    kernel.check("%load_ext jupyter_lineage")
    kernel.check(READ_ALL, cell_id="read")
    kernel.check("# lineage: flush")
    cells = {e["cell_id"]: e for e in lineage_json("show", "@last")["executions"]}
    assert len(cells["read"]["reads"]) == 5
    assert {r["kind"] for r in cells["read"]["reads"]} == {"dataset"}  # images read are data


def test_a_kernel_sees_another_process_rewrite_what_a_stat_cannot(
    kernel: Kernel, project: Path
) -> None:
    # The kernel's re-reads are vouched for by inotify (capture/watch.py); a rewrite by another
    # process that keeps size, mtime and inode (which a stat alone would take as unchanged) is
    # still a new version of the folder, with the new member's hash.
    folder = _images(project)
    kernel.check("%load_ext jupyter_lineage")
    for _ in range(2):
        kernel.check(READ_ALL, cell_id="read")
    edited = folder / "img012.png"
    before = edited.stat()
    code = (
        "import os, sys\n"
        "p = sys.argv[1]; st = os.stat(p)\n"
        "with open(p, 'r+b') as f:\n    f.write(b'\\xee' * 1024)\n"
        "os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))"
    )
    subprocess.run([sys.executable, "-c", code, str(edited)], check=True)
    after = edited.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    kernel.check(READ_ALL, cell_id="read")
    kernel.check("# lineage: flush")
    shown = lineage_json("show", "@last", "--files")
    versions = [e["reads"][0] for e in shown["executions"] if e["cell_id"] == "read"]
    assert len(versions) == 3 and versions[0]["hash"] == versions[1]["hash"] != versions[2]["hash"]
    members = {
        m["name"]: m["hash"]
        for f in shown["files_read"]
        if f["path"] == f"{folder}/" and f["hash"] == versions[2]["hash"]
        for m in f["members"]
    }
    assert members["img012.png"] == "blake3:" + blake3.blake3(b"\xee" * 1024).hexdigest()
