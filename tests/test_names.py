"""Runs people can tell apart: a generated name at creation, names of their own (rename, run
--name, %track name), accepted wherever an id is; runs --sort and --columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat

from jupyter_lineage.ids import ADJECTIVES, NOUNS
from jupyter_lineage.store import Store, writes
from jupyter_lineage.store.merge import merge
from jupyter_lineage.store.schema import MIGRATIONS

from .conftest import lineage, lineage_json
from .kernel import Kernel


def _is_generated(name: str) -> bool:
    adjective, noun, number = name.split("-")
    return adjective in ADJECTIVES and noun in NOUNS and len(number) == 2 and number.isdigit()


def test_every_run_gets_a_name_that_works_like_an_id(db: Path) -> None:
    with Store(db) as store:
        ids = [writes.begin_run(store, kind="script", notebook=f"/p/{i}.py") for i in range(30)]
        names = [
            store.conn.execute("SELECT name FROM runs WHERE id = ?", (i,)).fetchone()[0]
            for i in ids
        ]
    assert all(_is_generated(n) for n in names) and len(set(names)) == 30
    shown = lineage_json("show", names[3])
    assert shown["id"] == ids[3] and shown["name"] == names[3]
    listed = lineage_json("runs")
    assert {r["name"] for r in listed} == set(names)
    assert names[0] in lineage("runs").stdout  # the table shows names


def test_rename_and_note(db: Path) -> None:
    with Store(db) as store:
        a = writes.begin_run(store, kind="script", parameters={"C": 1})
        b = writes.begin_run(store, kind="script", parameters={"C": 2})
    out = lineage_json("rename", a, "baseline", "--note", "first model")
    assert out == {"id": a, "name": "baseline", "note": "first model"}
    assert lineage_json("show", "baseline")["note"] == "first model"
    lineage("rename", "@last", "tuned")
    diff = lineage_json("diff", "baseline", "tuned")
    assert diff["a"]["id"] == a and diff["b"]["id"] == b
    taken = lineage("rename", b, "baseline", check=False)
    assert taken.returncode == 2 and f"already names run {a}" in taken.stderr
    for bad, says in (("abcdef12", "cannot be a run name"), ("has space", "cannot be a run name")):
        proc = lineage("rename", b, bad, check=False)
        assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr
    assert lineage("rename", b, check=False).returncode == 2  # neither a name nor a note
    lineage("rename", "baseline", "--note", "")
    assert lineage_json("show", a)["note"] is None


def test_migration_names_existing_runs_and_merge_keeps_names_unique(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    mine = next(i for i, (n, _) in enumerate(MIGRATIONS) if n.startswith("runs.name"))
    for _n, migration in MIGRATIONS[:mine]:
        migration(conn)
    for i in range(3):
        conn.execute(
            "INSERT INTO runs (id, kind, status, started) VALUES (?, 'script', 'succeeded', ?)",
            (f"0000000{i}-0000-7000-8000-000000000000", f"2026-01-0{i + 1}"),
        )
    conn.execute(f"PRAGMA user_version = {mine}")
    conn.commit()
    conn.close()
    with Store(old) as store:
        names = [r[0] for r in store.conn.execute("SELECT name FROM runs")]
        assert len(set(names)) == 3 and all(_is_generated(n) for n in names)
        store.conn.execute("UPDATE runs SET name = 'shared' WHERE id LIKE '00000000%'")
    other = tmp_path / "other.db"
    with Store(other) as store:
        run = writes.begin_run(store, kind="script", name="shared")
    with Store(old) as store:
        merge(store, other)
        rows = dict(store.conn.execute("SELECT id, name FROM runs").fetchall())
    assert len(rows) == 4 and len(set(rows.values())) == 4
    assert rows[run] != "shared" and _is_generated(rows[run])


def test_runs_sort_and_columns(db: Path) -> None:
    with Store(db) as store:
        for c, auc in ((0.5, 0.81), (1.0, 0.87), (2.0, 0.79), (4.0, None)):
            run_id = writes.begin_run(store, kind="papermill", parameters={"C": c}, name=f"c{c}")
            if auc is not None:
                writes.log_metric(store, run_id, "auc", auc)
    assert [r["name"] for r in lineage_json("runs", "--sort", "auc")] == [
        "c1.0",
        "c0.5",
        "c2.0",
        "c4.0",
    ]
    assert [
        r["name"] for r in lineage_json("runs", "--sort", "auc", "--ascending", "--limit", "2")
    ] == [
        "c2.0",
        "c0.5",
    ]
    assert lineage_json("runs", "--sort", "params.C")[0]["name"] == "c4.0"
    table = lineage("runs", "--sort", "auc", "--columns", "name,params.C,auc").stdout.splitlines()
    assert table[0].split() == ["name", "params.C", "auc"]
    assert table[1].split() == ["c1.0", "1.0", "0.87"]
    assert table[4].split() == ["c4.0", "4.0", "-"]
    unknown = lineage("runs", "--sort", "loss", check=False)
    assert unknown.returncode == 2 and "known: auc, params.C" in unknown.stderr


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("y = x + 1"),
        nbformat.v4.new_code_cell("print(y)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_run_name_and_progress(project: Path, db: Path) -> None:
    nb = _notebook(project)
    proc = lineage("run", str(nb), "--name", "first-try", "--progress")
    assert "Executing" in proc.stderr and "3/3" in proc.stderr  # papermill's per-cell bar
    assert "first-try" in proc.stdout
    assert lineage_json("show", "first-try")["parameters"] == {}
    again = lineage("run", str(nb), "--name", "first-try", check=False)
    assert again.returncode == 2 and "has that name" in again.stderr
    quiet = lineage("run", str(nb))  # stderr is not a terminal: no bar unless asked
    assert "Executing" not in quiet.stderr


def test_track_name_in_a_kernel(kernel: Kernel, db: Path) -> None:
    kernel.check("%load_ext jupyter_lineage")
    generated = kernel.check("%track").stdout
    assert "run        " in generated
    said = kernel.check("%track name exploring --note 'trying C'").stdout
    assert "this run is exploring" in said
    assert "exploring" in kernel.check("%track").stdout
    shown = lineage_json("show", "exploring")
    assert shown["note"] == "trying C" and shown["kind"] == "interactive"
    bad = kernel.run("%track name 'two words'")
    assert not bad.ok and "cannot be a run name" in bad.stderr


def test_diff_shows_names_and_unchanged_metrics(db: Path) -> None:
    with Store(db) as store:
        for name, acc in (("left", 0.7), ("right", 0.75)):
            run_id = writes.begin_run(store, kind="script", name=name)
            writes.log_metric(store, run_id, "auc", 0.8)
            writes.log_metric(store, run_id, "accuracy", acc)
    out = lineage("diff", "left", "right").stdout
    assert "a left " in out and "b right " in out
    assert "~ accuracy: 0.7 -> 0.75  (+0.05)" in out
    assert "= auc: 0.8" in out  # unchanged, shown greyed
    assert lineage_json("diff", "left", "right")["metrics"].keys() == {"accuracy"}
