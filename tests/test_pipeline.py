"""Pipelines end to end: real papermill, real kernels, a real Dask LocalCluster."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_lineage.store import Store

from .conftest import EXAMPLES, db_dump, lineage, lineage_json

# Six grid points, one failing on purpose (rate 0): run locally and on Dask alike.
SWEEP = ("sweep", "fail.ipynb", "-p", "rate", "0", "0.5", "1", "2", "4", "8")


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def _failing_notebook(path: Path, nbformat_minor: int = 5) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("rate = 0.1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("text = open('data/customers.csv').read()"),
        nbformat.v4.new_code_cell("value = 1 / rate if rate else 1 / 0"),
        nbformat.v4.new_code_cell("import scrapbook as sb\nsb.glue('value', value)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if nbformat_minor < 5:
        nb.nbformat_minor = nbformat_minor
        for cell in nb.cells:
            cell.pop("id", None)
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/ as a git repository, with a notebook that fails when rate is 0."""
    folder = tmp_path_factory.mktemp("pipeline") / "project"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", "*.out.ipynb"))
    _failing_notebook(folder / "fail.ipynb")
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "add", "-A")
    _git(folder, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "x")
    return folder


@pytest.fixture(scope="module")
def db(repo: Path) -> Path:
    return repo / ".lineage" / "lineage.db"


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(db))


@pytest.fixture(scope="module")
def example_run(repo: Path, db: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "run", "train.ipynb", "-p", "C", "0.5", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "JUPYTER_LINEAGE_DB": str(db)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_run_records_the_whole_pipeline_run(example_run: dict[str, Any], repo: Path) -> None:
    run = example_run
    assert run["kind"] == "papermill" and run["status"] == "succeeded"
    assert run["parameters"] == {"C": 0.5}
    assert run["notebook"] == str(repo / "train.ipynb")
    executed = nbformat.read(run["output_notebook"], as_version=4)
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    assert [e["cell_id"] for e in run["executions"]] == [c.id for c in code_cells]
    assert [e["source"] for e in run["executions"]] == [c.source for c in code_cells]
    injected = [c for c in code_cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "C = 0.5" in injected[0].source
    assert not any("jupyter_lineage.extension" in c.source for c in executed.cells)
    assert [f["path"] for f in run["files_read"]] == [str(repo / "data" / "customers.csv")]
    written = {f["path"]: f["kind"] for f in run["files_written"]}
    assert written[str(repo / "out" / "model.joblib")] == "model"
    assert written[str(repo / "out" / "roc.png")] == "figure"
    assert written[run["output_notebook"]] == "notebook"
    assert set(run["metrics"]) == {"accuracy", "auc"}
    assert run["git"]["branch"] == "main" and len(run["git"]["commit"]) == 40
    assert run["environment"]["packages"]["papermill"]
    assert run["notebook_hash"].startswith("blake3:")


def test_trace_of_the_model_reaches_the_csv(example_run: dict[str, Any], repo: Path) -> None:
    data = lineage_json("trace", "out/model.joblib")
    paths = {n["path"] for n in data["nodes"] if n["type"] == "artifact"}
    assert str(repo / "data" / "customers.csv") in paths
    assert data["runs"][0]["parameters"] == {"C": 0.5}


def test_failing_notebook_exit_code_matches_papermill(repo: Path, db: Path) -> None:
    plain = subprocess.run(
        [sys.executable, "-m", "papermill", "fail.ipynb", "plain.out.ipynb", "-p", "rate", "0"],
        cwd=repo,
        capture_output=True,
        timeout=300,
    )
    ours = lineage("run", "fail.ipynb", "-p", "rate", "0", check=False, cwd=repo)
    assert plain.returncode == ours.returncode == 1
    assert "ZeroDivisionError" in ours.stdout
    show = lineage_json("show", "@last")
    assert show["status"] == "failed"
    assert show["error"] == {"name": "ZeroDivisionError", "value": "division by zero"}
    failing = next(e for e in show["executions"] if e["id"] == show["failed_execution_id"])
    assert failing["source"].startswith("value = 1 / rate")
    assert len(show["executions"]) == 4  # parameters, injected, read, the failing cell: no more
    assert show["files_read"][0]["path"] == str(repo / "data" / "customers.csv")


def test_papermill_engine_records_the_same_run(repo: Path, db: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "--engine",
            "lineage",
            "fail.ipynb",
            "pm.out.ipynb",
            "-p",
            "rate",
            "0.25",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    show = lineage_json("show", "@last")
    assert show["kind"] == "papermill" and show["status"] == "succeeded"
    assert show["parameters"] == {"rate": 0.25}
    assert show["metrics"] == {"value": 4.0}  # scrapbook glue becomes a metric
    assert show["notebook_output"]["path"] == str(repo / "pm.out.ipynb")
    assert all(e["cell_id"] for e in show["executions"])
    # Re-running the output notebook without -p: its stale papermill metadata is not "given".
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", "--engine", "lineage", "pm.out.ipynb", "pm2.out.ipynb"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert lineage_json("show", "@last")["parameters"] == {}


def test_notebooks_without_cell_ids_still_run(repo: Path) -> None:
    _failing_notebook(repo / "old.ipynb", nbformat_minor=4)
    assert "id" not in json.loads((repo / "old.ipynb").read_text())["cells"][0]
    proc = lineage("run", "old.ipynb", "-p", "rate", "2", "--json", cwd=repo)
    show = json.loads(proc.stdout)
    assert show["status"] == "succeeded" and len(show["executions"]) == 5


def test_reproduce_identical_then_differs_naming_the_input(
    example_run: dict[str, Any], repo: Path
) -> None:
    report = lineage_json("reproduce", example_run["id"])
    assert report["verdict"] == "identical", report["differences"]
    again = lineage_json("show", report["reproduction"])
    assert again["parent_id"] == example_run["id"]
    assert again["parameters"] == {"C": 0.5}
    csv = repo / "data" / "customers.csv"
    original = csv.read_text()
    try:
        lines = original.splitlines(keepends=True)
        lines[5] = (
            lines[5].replace(",1\n", ",0\n")
            if lines[5].endswith(",1\n")
            else lines[5].replace(",0\n", ",1\n")
        )
        csv.write_text("".join(lines))
        strict = lineage("reproduce", example_run["id"], "--strict", "--json", check=False)
        assert strict.returncode == 1
        report = json.loads(strict.stdout)
        assert report["verdict"] == "differs"
        assert [i["path"] for i in report["inputs"] if i["status"] == "changed"] == [str(csv)]
        assert any("customers.csv" in d for d in report["differences"])
    finally:
        csv.write_text(original)


def test_local_sweep_with_a_failing_point(repo: Path, db: Path) -> None:
    proc = lineage(
        *SWEEP,
        "--workers",
        "2",
        "--sort",
        "value",
        "--json",
        check=False,
        cwd=repo,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["total"] == 6 and report["failed"] == 1
    assert [p["parameters"]["rate"] for p in report["points"]] == [0.5, 1, 2, 4, 8, 0]
    assert [p["metrics"].get("value") for p in report["points"][:5]] == [2.0, 1.0, 0.5, 0.25, 0.125]
    children = lineage_json("runs", "--limit", "100")
    mine = [r for r in children if r["parent_id"] == report["sweep"]]
    assert len(mine) == 6
    assert sorted(r["status"] for r in mine) == ["failed"] + ["succeeded"] * 5
    assert all(r["executions"] >= 4 for r in mine)
    parent = lineage_json("show", report["sweep"])
    assert parent["kind"] == "sweep" and parent["status"] == "failed"
    assert sorted(parent["children"]) == sorted(r["id"] for r in mine)


def test_dask_sweep_on_a_local_cluster(repo: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        proc = lineage(
            *SWEEP,
            "--scheduler",
            cluster.scheduler_address,
            "--json",
            check=False,
            cwd=repo,
        )
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["total"] == 6 and report["failed"] == 1
    ok = [p for p in report["points"] if p["status"] == "succeeded"]
    assert sorted(p["metrics"]["value"] for p in ok) == [0.125, 0.25, 0.5, 1.0, 2.0]


def test_merge_is_idempotent(repo: Path, db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    proc = lineage("run", "fail.ipynb", "-p", "rate", "5", "--db", str(other), cwd=repo)
    assert proc.returncode == 0

    def counts() -> dict[str, int]:
        with Store(db) as store:
            return {
                t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runs", "executions", "artifacts", "accesses", "params")
            }

    before = counts()
    first = lineage_json("merge", str(other))
    assert first["runs"] == 1 and first["executions"] == 5
    after_one = counts()
    assert after_one["runs"] == before["runs"] + 1
    assert sum(lineage_json("merge", str(other)).values()) == 0
    assert counts() == after_one


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "nope.ipynb"], "does not exist"),
        (["run", "data/customers.csv"], "not a readable notebook"),
        (["run", "fail.ipynb", "-p", "ratee", "1"], "does not define ratee"),
        (["run", "train.ipynb", "-f", "missing.yaml"], "Cannot read the parameters file"),
        (["reproduce", "ffffffff"], "No run matches"),
        (
            ["sweep", "fail.ipynb", "-p", "rate", "1", "--scheduler", "tcp://127.0.0.1:9"],
            "Cannot reach the Dask scheduler",
        ),
        (["merge", "nothing-here.db"], "is not a file"),
    ],
)
def test_bad_input_writes_nothing(
    repo: Path, db: Path, example_run: dict[str, Any], args: list[str], says: str
) -> None:
    before = db_dump(db)
    proc = lineage(*args, check=False, cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert says in proc.stderr
    assert db_dump(db) == before


def test_reproduce_python_option_needs_an_installed_python(
    repo: Path, db: Path, example_run: dict[str, Any], tmp_path: Path
) -> None:
    before = db_dump(db)
    for args, says in (
        (["--python", "3.12"], "--python and --installer apply to --isolated reproductions"),
        (["--installer", "pip"], "--python and --installer apply to --isolated reproductions"),
        (["--isolated", "--python", "2.1"], "No Python 2.1 found on PATH"),
    ):
        proc = lineage("reproduce", example_run["id"], *args, check=False, cwd=repo)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert says in proc.stderr
    assert db_dump(db) == before


def test_no_parameters_cell_is_said_clearly(repo: Path, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    nbformat.write(nb, str(repo / "plain.ipynb"))
    proc = lineage("run", "plain.ipynb", "-p", "x", "2", check=False, cwd=repo)
    assert proc.returncode == 2 and "no cell tagged 'parameters'" in proc.stderr


def test_reproduce_verdict_comes_from_the_diff_engine(tmp_path: Path) -> None:
    """What counts, in diff's sections: untracked files (git dirty) do not; another python
    makes it equivalent; another metric or output makes it differ."""
    from jupyter_lineage.diff import compare
    from jupyter_lineage.pipeline.reproduce import judge
    from jupyter_lineage.store import queries, writes

    env = {"python": "3.11.7", "platform": "linux", "packages": {"pandas": "3.1.0"}}
    git = {"commit": "a" * 40, "branch": "main", "dirty": False, "diff": "", "remote": None}

    def run(
        store: Store,
        *,
        python: str = "3.11.7",
        dirty: bool = False,
        auc: float = 0.8,
        model: str = "blake3:aa",
    ) -> dict[str, Any]:
        run_id = writes.begin_run(
            store,
            kind="papermill",
            parameters={"C": 0.5},
            environment={**env, "python": python},
            git={**git, "dirty": dirty},
        )
        writes.record_executions(
            store,
            [
                writes.ExecutionRecord(
                    run_id=run_id,
                    seq=0,
                    source="fit()",
                    started=writes.now(),
                    duration_ms=1.0,
                    accesses=[
                        writes.Access(str(tmp_path / "model.joblib"), model, "write", "model", 1)
                    ],
                )
            ],
        )
        writes.log_metric(store, run_id, "auc", auc)
        writes.end_run(store, run_id, "succeeded")
        return queries.show_run(store, run_id)

    with Store(tmp_path / "l.db") as store:
        original = run(store)
        same = run(store, dirty=True)  # the original's outputs are untracked files now
        newer_python = run(store, python="3.12.1")
        worse = run(store, auc=0.7, model="blake3:bb")
    assert judge(compare(original, same), [], [], same) == ("identical", [])
    verdict, lines = judge(compare(original, newer_python), [], [], newer_python)
    assert (verdict, lines) == ("equivalent", [])
    assert compare(original, newer_python)["environment"] == {
        "python": {"a": "3.11.7", "b": "3.12.1"}
    }
    verdict, lines = judge(compare(original, worse), [], [], worse)
    assert verdict == "differs"
    assert lines == [f"output {tmp_path / 'model.joblib'} changed", "metric auc: 0.8 -> 0.7"]
