"""Re-reads queued by the audit hook and looked at later: each read still records the version
the cell read — when the cell then overwrites, removes or hands the file to a child process,
when a folder's file is edited in place with the same size, or added to."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_lineage import api
from jupyter_lineage.capture.tracker import Tracker

from .conftest import content_hash as _h


def _cell(t: Tracker, code: Any) -> None:
    t.begin_execution("cell")
    try:
        code()
    finally:
        t.end_execution(execution_count=t.seq)


def _executions(t: Tracker, tmp_path: Path) -> list[dict[str, Any]]:
    t.flush()
    shown = api.show(t.run_id, db=str(tmp_path / "l.db"), files=True)
    executions: list[dict[str, Any]] = shown["executions"]
    return executions


def test_a_queued_reread_is_the_version_read_before_the_cell_changes_it(
    tracker: Tracker, tmp_path: Path
) -> None:
    files = {name: tmp_path / f"{name}.csv" for name in ("over", "gone", "child", "moved")}
    for name, path in files.items():
        path.write_bytes(f"{name} v1\n".encode())

    def read_all() -> None:
        for path in files.values():
            with open(path, "rb") as f:
                f.read()

    def read_all_but(*names: str) -> None:
        for name, path in files.items():
            if name not in names:
                with open(path, "rb") as f:
                    f.read()

    _cell(tracker, read_all)  # first reads: hashed as the cell opens them

    def read_then_change() -> None:
        read_all()  # known files: queued by the hook, looked at later
        os.remove(files["gone"])
        read_all_but("gone")
        code = f"open({str(files['child'])!r}, 'w').write('child v2\\n')"
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
        read_all_but("gone")
        os.rename(files["moved"], tmp_path / "elsewhere.csv")
        read_all_but("gone", "moved")
        with open(files["over"], "w") as f:  # overwritten in the same cell
            f.write("over v2, longer\n")

    _cell(tracker, read_then_change)
    first, second = _executions(tracker, tmp_path)
    assert {r["path"]: r["hash"] for r in first["reads"]} == {
        str(p): _h(f"{n} v1\n".encode()) for n, p in files.items()
    }
    reads = {r["path"]: r["hash"] for r in second["reads"]}
    assert reads == {str(p): _h(f"{n} v1\n".encode()) for n, p in files.items()}
    writes = {w["path"]: w["hash"] for w in second["writes"]}
    assert writes[str(files["over"])] == _h(b"over v2, longer\n")


def test_a_folder_reread_sees_an_edit_of_the_same_size_and_new_files(
    tracker: Tracker, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(25):
        (folder / f"img{i:03}.png").write_bytes(bytes([i]) * 100)

    def read_folder() -> None:
        for name in sorted(os.listdir(folder)):
            with open(folder / name, "rb") as f:
                f.read()

    for _ in range(2):
        _cell(tracker, read_folder)
    edited = folder / "img007.png"
    stamp = edited.stat().st_mtime_ns
    edited.write_bytes(b"\xff" * 100)  # in place, the same size...
    os.utime(edited, ns=(stamp + 1_000_000, stamp + 1_000_000))  # ...a new mtime, as editors do
    _cell(tracker, read_folder)
    (folder / "img100.png").write_bytes(b"new")
    _cell(tracker, read_folder)

    runs = _executions(tracker, tmp_path)
    [[a], [b], [c], [d]] = [e["reads"] for e in runs]
    assert a["path"] == f"{folder}/" and a["files"] == 25
    assert b["hash"] == a["hash"]  # unchanged: the same version
    assert c["hash"] != a["hash"] and c["files"] == 25
    edited_member = {m["name"]: m["hash"] for m in c["members"]}["img007.png"]
    assert edited_member == _h(b"\xff" * 100)
    assert d["files"] == 26 and d["hash"] not in (a["hash"], c["hash"])
