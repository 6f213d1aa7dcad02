"""The CLI as a user meets it: one-line errors, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_lineage.store import Store, writes

from .conftest import db_dump, lineage, lineage_json


@pytest.fixture
def store_with_run(db: Path) -> str:
    with Store(db) as store:
        run_id = writes.begin_run(
            store, kind="script", notebook="/p/nb.ipynb", parameters={"alpha": 1}
        )
        writes.end_run(store, run_id, "succeeded")
    return run_id


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["show", "nope"], "There is no run named"),
        (["show", "abcdef12"], "No run matches"),
        (["show", "@last~3"], "There is no run @last~3"),
        (["sources", "@last~9"], "There is no run"),
        (["runs", "--limit", "-1"], "--limit"),
        (["trace", "/no/such/file.csv"], "No recorded lineage"),
        (["trace", "x.csv", "--depth", "-2"], "--depth"),
        (["show"], "Missing argument"),
        (["runs", "--where", "auc"], "NAME OP VALUE"),
        (["runs", "--where", "auc ~ 1"], "NAME OP VALUE"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    store_with_run: str, db: Path, args: list[str], says: str
) -> None:
    before = db_dump(db)
    proc = lineage(*args, check=False)
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert db_dump(db) == before


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "lineage.db"
    proc = lineage("runs", "--db", str(missing), check=False)
    assert proc.returncode == 2 and "No lineage database" in proc.stderr
    assert not missing.parent.exists()


def test_runs_show_and_prefixes(store_with_run: str) -> None:
    rows = lineage_json("runs")
    assert [r["id"] for r in rows] == [store_with_run]
    assert {"id", "kind", "notebook", "status", "started"} <= set(rows[0])
    assert lineage_json("show", store_with_run[:13])["parameters"] == {"alpha": 1}
    human = lineage("runs").stdout
    assert store_with_run[:13] in human and "succeeded" in human
    assert lineage("--version").stdout.strip().endswith("0.1.0")


def test_runs_where_filters_on_latest_metrics_and_parameters(db: Path) -> None:
    ids = {}
    with Store(db) as store:
        for c, auc in ((0.5, 0.81), (1.0, 0.87), (2.0, 0.79)):
            run_id = writes.begin_run(store, kind="papermill", parameters={"C": c, "tag": f"C{c}"})
            writes.log_metric(store, run_id, "auc", 0.5, step=0)
            writes.log_metric(store, run_id, "auc", auc, step=1)  # the latest value counts
            ids[c] = run_id

    def where(*conds: str) -> list[str]:
        args = [a for c in conds for a in ("--where", c)]
        return [r["id"] for r in lineage_json("runs", *args)]

    assert where("auc > 0.8") == [ids[1.0], ids[0.5]]
    assert where("auc>0.8", "params.C = 1") == [ids[1.0]]
    assert where("params.tag == C2.0") == [ids[2.0]]
    assert where("auc >= 0.87", "params.C != 1") == []
    assert where("auc < 0.6") == []  # step 0's 0.5 is history, not the latest value
    assert where("no_such_metric > 0") == []
    assert "No run matches" in lineage("runs", "--where", "auc > 1").stdout
    assert where("params.C = 0.5' OR '1'='1") == []  # a value, never SQL
