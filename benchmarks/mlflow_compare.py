"""5. Recording a run (10 params, 10 metrics, one artifact) vs MLflow on its SQLite backend;
listing/searching 1,000 runs in each. MLflow is installed by `make bench` only."""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from jupyter_lineage.hashing import hash_file
from jupyter_lineage.store import Store, queries, writes
from jupyter_lineage.store.db import now

from .common import Result, timed


def _ours(store: Store, artifact: str, i: int) -> None:
    run_id = writes.begin_run(
        store,
        kind="script",
        notebook="/bench/train.py",
        parameters={f"p{k}": k * i for k in range(10)},
    )
    for k in range(10):
        writes.log_metric(store, run_id, f"m{k}", k / (i + 1))
    digest, st = hash_file(artifact)
    writes.record_executions(
        store,
        [
            writes.ExecutionRecord(
                run_id=run_id,
                seq=0,
                source="train()",
                started=now(),
                duration_ms=1.0,
                accesses=[writes.Access(artifact, digest, "write", "model", st.st_size)],
            )
        ],
    )
    writes.end_run(store, run_id, "succeeded")


def run(quick: bool) -> list[Result]:
    try:
        import mlflow
    except ImportError:
        return [
            Result(
                "recording a run vs MLflow",
                0,
                "x",
                ">= 20x",
                None,
                {"skipped": "mlflow is not installed (make bench installs it)"},
            )
        ]
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    n_record, n_list = (20, 200) if quick else (50, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model.bin"
        artifact.write_bytes(os.urandom(64 * 1024))
        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        mlflow.set_experiment("bench")

        def theirs(i: int) -> None:
            with mlflow.start_run():
                mlflow.log_params({f"p{k}": k * i for k in range(10)})
                for k in range(10):
                    mlflow.log_metric(f"m{k}", k / (i + 1))
                mlflow.log_artifact(str(artifact))

        theirs(0)
        with Store(Path(tmp) / "l.db") as store:
            _ours(store, str(artifact), 0)
            counter = iter(range(1, 10**6))
            ours_t = timed(lambda: _ours(store, str(artifact), next(counter)), n_record)
            theirs_t = timed(lambda: theirs(next(counter)), n_record)
            for i in range(n_list - n_record - 1):  # fill both to n_list runs
                _ours(store, str(artifact), i)
            client = mlflow.MlflowClient()
            exp = mlflow.get_experiment_by_name("bench")
            t0 = time.perf_counter()
            for i in range(n_list - n_record - 1):
                r = client.create_run(exp.experiment_id)
                client.log_param(r.info.run_id, "p0", i)
                client.set_terminated(r.info.run_id)
            fill_s = time.perf_counter() - t0
            list_ours = timed(lambda: queries.list_runs(store), 10)
            list_theirs = timed(lambda: mlflow.search_runs([exp.experiment_id]), 10)
            search_ours = timed(lambda: queries.list_runs(store, where=["m1 > 0.5"]), 10)
            search_theirs = timed(
                lambda: mlflow.search_runs([exp.experiment_id], filter_string="metrics.m1 > 0.5"),
                10,
            )
    rec = statistics.median(theirs_t) / statistics.median(ours_t)
    lst = statistics.median(list_theirs) / statistics.median(list_ours)
    sea = statistics.median(search_theirs) / statistics.median(search_ours)
    return [
        Result(
            "recording a run: MLflow time / ours",
            rec,
            "x",
            ">= 20x",
            rec >= 20,
            {
                "ours_ms": statistics.median(ours_t) * 1000,
                "mlflow_ms": statistics.median(theirs_t) * 1000,
            },
        ),
        Result(
            f"listing {n_list} runs: MLflow time / ours",
            lst,
            "x",
            "-",
            None,
            {
                "ours_ms": statistics.median(list_ours) * 1000,
                "mlflow_ms": statistics.median(list_theirs) * 1000,
                "mlflow_fill_s": fill_s,
            },
        ),
        Result(
            f"searching {n_list} runs by metric: MLflow time / ours",
            sea,
            "x",
            "-",
            None,
            {
                "ours_ms": statistics.median(search_ours) * 1000,
                "mlflow_ms": statistics.median(search_theirs) * 1000,
            },
        ),
    ]
