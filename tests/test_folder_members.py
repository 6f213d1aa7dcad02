"""A folder's member list is one value per tree hash (folder_members, migration 15): the text
its tree hash covers, stored once however many files and however many copies; stores and
journals written before it read the same after the upgrade, and gc drops lists nothing uses."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3

from jupyter_lineage.hashing import (
    TREE_PREFIX,
    hash_file,
    tree_digest,
    tree_files,
    tree_hash,
    tree_members,
    tree_text,
)
from jupyter_lineage.store import Store, journal, writes
from jupyter_lineage.store.schema import MIGRATIONS, _v10_folder_members

from .conftest import lineage, lineage_json, tracked_run

STARTED = "2024-01-01T00:00:00+00:00"


def test_tree_text_is_what_the_tree_hash_covers_and_parses_back() -> None:
    members = [
        ("b\nnewline.png", "blake3:bb", 3),  # a name may hold a newline
        ("a.png", "blake3:aa", 0),
        ("sub/c.png", "blake3:cc", 1024),
        ("é.png", "blake3:dd", 7),
    ]
    text = tree_text(members)
    # the text and hash of every store so far (schema 10 to 14): unchanged, byte for byte
    before = "".join(f"{n}\0{s}\0{d}\n" for n, d, s in sorted(members))
    assert text == before
    assert tree_hash(members) == TREE_PREFIX + blake3.blake3(before.encode()).hexdigest()
    assert tree_digest(text) == tree_hash(members)
    assert tree_members(text) == sorted(members)
    assert tree_files(text) == 4
    assert tree_members("") == [] and tree_files("") == 0


def _images(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"img{i:03}.png").write_bytes(bytes([i]) * 64)


def _folder(folder: Path, role: str = "read") -> writes.Access:
    """The folder as capture records it: one access whose members are its tree text."""
    files = sorted(folder.iterdir())
    text = tree_text([(p.name, hash_file(str(p))[0], p.stat().st_size) for p in files])
    return writes.Access(
        uri=f"{folder}/",
        hash=tree_digest(text),
        role=role,
        kind="dataset",
        size=sum(p.stat().st_size for p in files),
        members=text,
    )


def _file(path: Path, role: str) -> writes.Access:
    return writes.Access(uri=str(path), hash=hash_file(str(path))[0], role=role, kind="model")


def _run(store: Store, *cells: list[writes.Access]) -> str:
    run = writes.begin_run(store, kind="script", started=STARTED)
    writes.record_executions(
        store,
        [
            writes.ExecutionRecord(run, i, f"cell_{i}()", STARTED, 1.0, accesses=list(accesses))
            for i, accesses in enumerate(cells)
        ],
    )
    writes.end_run(store, run, "succeeded")
    return run


def _views(a: str, b: str) -> dict[str, Any]:
    """Everything a user sees of two runs that read two versions of a folder."""
    status = lineage("status", "model.joblib", "--json", check=False)
    return {
        "show_a": lineage_json("show", a, "--files"),
        "show_b": lineage_json("show", b, "--files"),
        "show_text": lineage("show", a).stdout,
        "diff": lineage_json("diff", a, b),
        "diff_text": lineage("diff", a, b).stdout,
        "status": (status.returncode, json.loads(status.stdout)),
        "trace": lineage_json("trace", "model.joblib"),
    }


def _as_schema_14(db: Path) -> None:
    """The store as jupyter-lineage wrote it before migration 15: each folder version's files
    as rows of artifact_members, under the first artifact with that tree hash only (the
    readers looked members up by hash, so a copy elsewhere had none of its own)."""
    conn = sqlite3.connect(db)
    try:
        lists = dict(conn.execute("SELECT hash, members FROM folder_members").fetchall())
        _v10_folder_members(conn)
        for tree, text in lists.items():
            [owner] = conn.execute(
                "SELECT id FROM artifacts WHERE hash = ? ORDER BY uri LIMIT 1", (tree,)
            ).fetchone()
            conn.executemany(
                "INSERT INTO artifact_members (artifact_id, name, hash, size) VALUES (?, ?, ?, ?)",
                [(owner, *member) for member in tree_members(text)],
            )
        conn.execute("DROP TABLE folder_members")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        conn.commit()
    finally:
        conn.close()


def test_a_store_with_folders_reads_the_same_after_migration_15(project: Path, db: Path) -> None:
    images, copy = project / "images", project / "elsewhere" / "images"
    _images(images, 30)
    _images(copy, 30)  # the same content in another place: the same tree hash
    (project / "model.joblib").write_bytes(b"model")
    with Store(db) as store:
        a = _run(
            store, [_folder(images)], [_folder(copy)], [_file(project / "model.joblib", "write")]
        )
    (images / "img000.png").write_bytes(b"edited")
    for i in range(30, 33):
        (images / f"img{i:03}.png").write_bytes(b"new")
    with Store(db) as store:
        b = _run(store, [_folder(images)])
    conn = sqlite3.connect(db)
    lists = conn.execute(
        "SELECT hash, files, members FROM folder_members ORDER BY files"
    ).fetchall()
    conn.close()
    assert [files for _, files, _ in lists] == [30, 33]  # the copy's list is the same row
    assert all(tree_digest(text) == tree for tree, _, text in lists)

    now = _views(a, b)
    [folder_ref] = [f for f in now["show_a"]["files_read"] if f["path"] == f"{images}/"]
    assert folder_ref["files"] == 30 and len(folder_ref["members"]) == 30
    [copy_ref] = [f for f in now["show_a"]["files_read"] if f["path"] == f"{copy}/"]
    assert copy_ref["members"] == [
        {**m, "path": f"{copy}/{m['name']}"} for m in folder_ref["members"]
    ]
    assert "images/ (30 files)" in now["show_text"]
    [row] = [f for f in now["diff"]["inputs"] if f["path"] == f"{images}/"]
    assert row["detail"] == "33 files: 3 added, 1 modified"
    assert "3 added, 1 modified" in now["diff_text"]
    code, [item] = now["status"]
    assert code == 1 and item["changed_inputs"][0]["detail"] == "33 files: 3 added, 1 modified"

    _as_schema_14(db)
    assert _views(a, b) == now  # opening the store migrates it: every view as before
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "artifact_members" not in tables
        assert (
            conn.execute(
                "SELECT hash, files, members FROM folder_members ORDER BY files"
            ).fetchall()
            == lists
        )
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        conn.close()


def test_a_journal_line_of_the_previous_format_still_ingests(project: Path, db: Path) -> None:
    """A kernel killed before the upgrade left its folder's members as a list of [name, hash,
    size]; the next process to open the store (the new code) ingests it."""
    images = project / "images"
    _images(images, 25)
    folder = _folder(images)
    assert folder.members is not None
    Store(db).close()
    run = "01900000-0000-7000-8000-0000000000f5"
    record = writes.ExecutionRecord(run, 0, "read()", STARTED, 1.0)
    old_row = [folder.uri, folder.hash, "read", "dataset", folder.size, None, None]
    old_row.append([list(m) for m in tree_members(folder.members)])
    args = {**journal.execution_args(record), "accesses": [old_row]}
    identity = {"pid": 999999, "pid_start": None, "host": "elsewhere", "user": "u"}
    lines = [
        journal.encode(
            "begin_run",
            {"kind": "interactive", "run_id": run, "identity": identity, "started": STARTED},
        ),
        json.dumps({"op": "execution", "args": args}).encode() + b"\n",
    ]
    (journal.journal_dir(db)).mkdir()
    (journal.journal_dir(db) / f"{run}.999999.jsonl").write_bytes(b"".join(lines))

    show = lineage_json("show", run, "--files")  # opening the store ingests the journal
    [read] = show["executions"][0]["reads"]
    assert read["path"] == f"{images}/" and read["hash"] == folder.hash and read["files"] == 25
    assert [(m["name"], m["hash"], m["size"]) for m in read["members"]] == tree_members(
        folder.members
    )
    conn = sqlite3.connect(db)
    try:
        [(text,)] = conn.execute("SELECT members FROM folder_members").fetchall()
    finally:
        conn.close()
    assert text == folder.members  # the same text the new format writes


def test_the_new_journal_line_holds_the_members_as_one_string(project: Path) -> None:
    images = project / "images"
    _images(images, 21)
    folder = _folder(images)
    record = writes.ExecutionRecord("r", 0, "read()", STARTED, 1.0, accesses=[folder])
    line = json.loads(journal.encode("execution", journal.execution_args(record)))
    [row] = line["args"]["accesses"]
    assert row[-1] == folder.members
    assert journal.execution_from(line["args"]).accesses == [folder]


def _read_all(folder: Path) -> Callable[[], None]:
    def read() -> None:
        for name in sorted(os.listdir(folder)):
            (folder / name).read_bytes()

    return read


def _member_lists(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT hash, files FROM folder_members").fetchall())
    finally:
        conn.close()


def test_gc_removes_the_member_lists_no_artifact_uses(project: Path, db: Path) -> None:
    images, copy = project / "images", project / "copy"
    _images(images, 25)
    _images(copy, 25)
    first = tracked_run(project, "look.ipynb", _read_all(images))  # only reads: collected
    kept = tracked_run(
        project,
        "train.ipynb",
        _read_all(copy),
        lambda: (project / "model.bin").write_bytes(b"m"),  # a current output: kept
    )
    (images / "img000.png").write_bytes(b"edited")
    tracked_run(project, "look.ipynb", _read_all(images))  # a second version, then collected
    before = _member_lists(db)
    assert sorted(before.values()) == [25, 25]  # two versions; the copy shares the first

    done = lineage_json("gc", "--keep-last", "0")
    assert first in {r["id"] for r in done["removed"]}
    assert done["rows"]["folder_members"] == 1  # the edited version: nothing has it any more
    [tree] = _member_lists(db)  # the first version's: the copy, in a kept run, has it
    [read] = lineage_json("show", kept, "--files")["executions"][0]["reads"]
    assert read["path"] == f"{copy}/" and read["hash"] == tree and len(read["members"]) == 25


def test_merging_a_store_copies_its_member_lists(project: Path, tmp_path: Path) -> None:
    images = project / "images"
    _images(images, 22)
    other = tmp_path / "other.db"
    with Store(other) as store:
        run = _run(store, [_folder(images)])
    merged = tmp_path / "merged.db"
    added = lineage_json("merge", str(other), db=merged)
    assert added["folder_members"] == 1, added
    [read] = lineage_json("show", run, "--files", db=merged)["executions"][0]["reads"]
    assert read["files"] == 22 and [m["name"] for m in read["members"]] == sorted(
        p.name for p in images.iterdir()
    )
