"""``repro`` and ``--cache`` on real notebooks (examples/pipeline, real papermill and kernels):
what runs after each kind of change, in which order, and what a failure stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import lineage
from .test_dag import STAGES, _notebook, ran_project, run_stages


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ran_project(tmp_path_factory.mktemp("repro"))


def repro(db: Path, folder: Path, *args: str, code: int = 0) -> dict[str, Any]:
    proc = lineage("repro", *args, "--json", db=db, cwd=folder, check=False)
    assert proc.returncode == code, proc.stderr + proc.stdout
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {Path(s["path"]).name: s["status"] for s in report["stages"]}


def latest_runs(db: Path, folder: Path) -> dict[str, str]:
    data = json.loads(lineage("dag", "--json", db=db, cwd=folder).stdout)
    return {Path(s["path"]).name: s["run"] for s in data["stages"]}


def test_nothing_changed_nothing_runs(project: tuple[Path, Path]) -> None:
    folder, db = project
    before = latest_runs(db, folder)
    report = repro(db, folder)
    assert report["up_to_date"] and set(statuses(report).values()) == {"up to date"}
    assert latest_runs(db, folder) == before
    text = lineage("repro", "--dry-run", db=db, cwd=folder).stdout
    assert "up to date: 3 stages, nothing to run" in text


def test_an_edited_csv_reruns_all_three_in_order(project: tuple[Path, Path]) -> None:
    folder, db = project
    before = latest_runs(db, folder)
    csv = folder.parent / "data" / "customers.csv"
    csv.write_text(csv.read_text() + "C9001,3,99.5,4,month-to-month,yes,1\n")
    plan = repro(db, folder, "--dry-run")
    assert statuses(plan) == dict.fromkeys(STAGES, "stale")
    assert plan["stages"][0]["reasons"][0]["text"].startswith("input data/customers.csv changed")
    assert latest_runs(db, folder) == before  # a dry run runs nothing
    report = repro(db, folder, "--jobs", "2")
    assert statuses(report) == dict.fromkeys(STAGES, "succeeded")
    after = latest_runs(db, folder)
    assert all(
        after[n] != before[n] and after[n] == s["run"] for n, s in zip(STAGES, report["stages"])
    )
    runs = {r["id"]: r for r in json.loads(lineage("runs", "--json", db=db).stdout)}
    started = [runs[after[n]]["started"] for n in STAGES]
    ended = [runs[after[n]]["ended"] for n in STAGES]
    assert ended[0] <= started[1] and ended[1] <= started[2]  # upstream first
    assert repro(db, folder)["up_to_date"]


def _edit_code(path: Path, old: str, new: str) -> None:
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if old in c.source)
    cell.source = cell.source.replace(old, new)
    nbformat.write(nb, str(path))


def test_editing_only_evaluate_reruns_only_it(project: tuple[Path, Path]) -> None:
    folder, db = project
    before = latest_runs(db, folder)
    _edit_code(folder / "evaluate.ipynb", "threshold = 0.5", "threshold = 0.6")
    plan = repro(db, folder, "--dry-run")
    assert statuses(plan) == {
        "prepare.ipynb": "up to date",
        "train.ipynb": "up to date",
        "evaluate.ipynb": "stale",
    }
    assert plan["stages"][2]["reasons"][0]["what"] == "code"
    report = repro(db, folder, "--jobs", "1")
    assert statuses(report)["evaluate.ipynb"] == "succeeded"
    after = latest_runs(db, folder)
    assert after["prepare.ipynb"] == before["prepare.ipynb"]
    assert after["train.ipynb"] == before["train.ipynb"]
    assert after["evaluate.ipynb"] != before["evaluate.ipynb"]


def test_unchanged_outputs_upstream_leave_downstream_alone(project: tuple[Path, Path]) -> None:
    folder, db = project
    before = latest_runs(db, folder)
    # a comment changes prepare's code, not what it writes: train and evaluate need not run
    _edit_code(folder / "prepare.ipynb", 'Path("work").mkdir', '# same output\nPath("work").mkdir')
    report = repro(db, folder)
    assert statuses(report) == {
        "prepare.ipynb": "succeeded",
        "train.ipynb": "up to date",
        "evaluate.ipynb": "up to date",
    }
    assert report["stages"][1]["reasons"][-1]["what"] == "unchanged"
    after = latest_runs(db, folder)
    assert after["train.ipynb"] == before["train.ipynb"]


def test_a_failed_stage_stops_its_downstream(project: tuple[Path, Path]) -> None:
    folder, db = project
    train = folder / "train.ipynb"
    saved = train.read_bytes()
    try:
        _edit_code(
            train, "model.fit(X, y)", "model.fit(X, y)\nraise RuntimeError('broken on purpose')"
        )
        report = repro(db, folder, code=1)
        assert statuses(report) == {
            "prepare.ipynb": "up to date",
            "train.ipynb": "failed",
            "evaluate.ipynb": "skipped",
        }
        assert "RuntimeError" in report["stages"][1]["error"]
        assert report["stages"][2]["error"] == "upstream pipeline/train.ipynb failed"
        proc = lineage("repro", db=db, cwd=folder, check=False)
        assert proc.returncode == 1 and "skipped" in proc.stdout
    finally:
        train.write_bytes(saved)
    assert repro(db, folder, "--dry-run")["up_to_date"]


def test_run_cache_reuses_an_identical_run(project: tuple[Path, Path]) -> None:
    folder, db = project
    first = json.loads(
        lineage("run", "train.ipynb", "-p", "C", "0.5", "--json", db=db, cwd=folder).stdout
    )
    again = json.loads(
        lineage(
            "run", "train.ipynb", "-p", "C", "0.5", "--cache", "--json", db=db, cwd=folder
        ).stdout
    )
    assert again["kind"] == "cached" and again["cached_from"] == first["id"]
    assert again["parameters"] == {"C": 0.5} and again["executions"] == []
    assert {f["path"] for f in again["files_written"]} >= {str(folder / "work" / "model.joblib")}
    other = json.loads(
        lineage(
            "run", "train.ipynb", "-p", "C", "0.7", "--cache", "--json", db=db, cwd=folder
        ).stdout
    )
    assert other["kind"] == "papermill"  # other parameters: it runs
    (folder / "work" / "model.joblib").unlink()
    gone = json.loads(
        lineage(
            "run", "train.ipynb", "-p", "C", "0.7", "--cache", "--json", db=db, cwd=folder
        ).stdout
    )
    assert gone["kind"] == "papermill"  # its output is missing: it runs again
    # back to the pipeline's own parameters for the tests after this one
    lineage("run", "train.ipynb", db=db, cwd=folder)


def _package(site: Path, version: str) -> None:
    """A tiny installed distribution on PYTHONPATH: ``tinypkg`` at ``version``."""
    for old in site.glob("tinypkg-*.dist-info"):
        shutil.rmtree(old)
    (site / "tinypkg").mkdir(parents=True, exist_ok=True)
    (site / "tinypkg" / "__init__.py").write_text("VALUE = 'same'\n")
    info = site / f"tinypkg-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tinypkg\nVersion: {version}\n")
    (info / "top_level.txt").write_text("tinypkg\n")


@pytest.fixture
def two_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """a.ipynb imports tinypkg and writes a.txt; b.ipynb copies a.txt to b.txt."""
    site = tmp_path / "site"
    _package(site, "1.0")
    monkeypatch.setenv("PYTHONPATH", str(site))
    folder = tmp_path / "project"
    folder.mkdir()
    _notebook(folder / "a.ipynb", "import tinypkg\nopen('a.txt', 'w').write(tinypkg.VALUE)")
    _notebook(folder / "b.ipynb", "x = open('a.txt').read()\nopen('b.txt', 'w').write(x)")
    db = folder / ".lineage" / "lineage.db"
    run_stages(folder, db, "a.ipynb", "b.ipynb")
    return folder, db


def test_a_changed_package_reruns_what_imports_it_only_with_env_strict(
    two_stages: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, db = two_stages
    before = latest_runs(db, folder)
    _package(tmp_path / "site", "2.0")
    assert repro(db, folder, "--dry-run")["up_to_date"]  # --env ignore: versions do not count
    plan = repro(db, folder, "--dry-run", "--env", "strict")
    assert statuses(plan) == {"a.ipynb": "stale", "b.ipynb": "stale"}
    [why] = plan["stages"][0]["reasons"]
    assert why["what"] == "package" and why["text"] == "package tinypkg 1.0→2.0 (imported)"
    assert [r["what"] for r in plan["stages"][1]["reasons"]] == ["upstream"]
    report = repro(db, folder, "--env", "strict", "--jobs", "1")
    assert statuses(report) == {"a.ipynb": "succeeded", "b.ipynb": "up to date"}
    after = latest_runs(db, folder)
    assert after["a.ipynb"] != before["a.ipynb"] and after["b.ipynb"] == before["b.ipynb"]
    assert repro(db, folder, "--dry-run", "--env", "strict")["up_to_date"]


def test_repro_on_a_dask_cluster(two_stages: tuple[Path, Path]) -> None:
    from distributed import LocalCluster

    folder, db = two_stages
    before = latest_runs(db, folder)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        report = repro(db, folder, "--force", "--scheduler", cluster.scheduler_address)
    assert statuses(report) == {"a.ipynb": "succeeded", "b.ipynb": "succeeded"}
    after = latest_runs(db, folder)
    assert all(after[n] != before[n] for n in after)
    runs = {r["id"]: r for r in json.loads(lineage("runs", "--json", db=db).stdout)}
    assert runs[after["a.ipynb"]]["ended"] <= runs[after["b.ipynb"]]["started"]
    assert (folder / "b.txt").read_text() == "same"


def test_a_tracked_script_is_a_stage_and_reruns(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    db = folder / ".lineage" / "lineage.db"
    script = folder / "make_data.py"
    body = "import jupyter_lineage\n\njupyter_lineage.start()\nopen('data.txt', 'w').write('{}')\n"
    script.write_text(body.format("one"))
    subprocess.run([sys.executable, str(script)], cwd=folder, check=True, env=_env(db))
    _notebook(
        folder / "use.ipynb", "text = open('data.txt').read()\nopen('used.txt', 'w').write(text)"
    )
    run_stages(folder, db, "use.ipynb")
    data = json.loads(lineage("dag", "--json", db=db, cwd=folder).stdout)
    assert [(Path(s["path"]).name, s["kind"]) for s in data["stages"]] == [
        ("make_data.py", "script"),
        ("use.ipynb", "notebook"),
    ]
    script.write_text(body.format("two"))
    plan = repro(db, folder, "--dry-run")
    assert plan["stages"][0]["reasons"][0]["what"] == "code"
    report = repro(db, folder, "--jobs", "1")
    assert statuses(report) == {"make_data.py": "succeeded", "use.ipynb": "succeeded"}
    assert (folder / "used.txt").read_text() == "two"
    assert repro(db, folder)["up_to_date"]


def _env(db: Path) -> dict[str, str]:
    import os

    return {**os.environ, "JUPYTER_LINEAGE_DB": str(db)}


def test_sweep_cache_reuses_points_whose_outputs_are_intact(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    db = folder / ".lineage" / "lineage.db"
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("rate = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "open(f'out-{rate}.txt', 'w').write(str(rate * 2))\n"
            "import scrapbook as sb\nsb.glue('double', rate * 2)"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(folder / "grid.ipynb"))
    args = ("sweep", "grid.ipynb", "-p", "rate", "1", "2", "--workers", "1", "--json")
    first = json.loads(lineage(*args, db=db, cwd=folder).stdout)
    assert [p["status"] for p in first["points"]] == ["succeeded", "succeeded"]
    (folder / "out-2.txt").unlink()  # point 2's output is gone: it must run again
    again = json.loads(lineage(*args, "--cache", db=db, cwd=folder).stdout)
    one, two = again["points"]
    assert one["cached_from"] == first["points"][0]["run_id"] and one["metrics"] == {"double": 2}
    assert "cached_from" not in two and two["status"] == "succeeded"
    assert (folder / "out-2.txt").read_text() == "4"
    children = json.loads(lineage("show", again["sweep"], "--json", db=db).stdout)["children"]
    kinds = {r["id"]: r["kind"] for r in json.loads(lineage("runs", "--json", db=db).stdout)}
    assert sorted(kinds[c] for c in children) == ["cached", "papermill"]


def test_repro_reuses_an_earlier_identical_run(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    db = folder / ".lineage" / "lineage.db"
    _notebook(
        folder / "c.ipynb", "cfg = open('cfg.txt').read()\nopen('out.txt', 'w').write('same')"
    )
    (folder / "cfg.txt").write_text("v1")
    run_stages(folder, db, "c.ipynb")
    first = latest_runs(db, folder)["c.ipynb"]
    (folder / "cfg.txt").write_text("v2")
    run_stages(folder, db, "c.ipynb")
    (folder / "cfg.txt").write_text("v1")  # back to what the first run read
    report = repro(db, folder, "--jobs", "1")
    [stage] = report["stages"]
    assert stage["status"] == "cached" and stage["cached_from"] == first
    shown = json.loads(lineage("show", stage["run"], "--json", db=db).stdout)
    assert shown["kind"] == "cached" and shown["cached_from"] == first
    assert repro(db, folder)["up_to_date"]  # the cached run now stands for the stage
    plain = repro(db, folder, "--force", "--no-cache", "--jobs", "1")
    assert plain["stages"][0]["status"] == "succeeded"
