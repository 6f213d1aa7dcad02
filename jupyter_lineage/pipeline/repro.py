"""``jupyter lineage repro``: bring the inferred pipeline up to date.

Exactly the stale stages run, in topological order, each with its last parameters, through
``jupyter lineage run``; independent stages run side by side (local processes, or a Dask
cluster as sweeps do: each task records into its own small store, merged here). When a
stage's turn comes its own inputs are checked again: if the stages above it re-made the same
files, it is up to date and does not run. A failed stage stops what is downstream of it.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..ids import uuid7
from ..private import private_dir, write_private
from ..staleness import Disk
from ..store import Store, open_store
from . import cache as cache_mod
from .dag import Pipeline, Stage
from .freshness import own_reasons
from .plan import assess
from .workers import pool as worker_pool

Event = Callable[[str, dict[str, Any]], None]


def _report(pipeline: Pipeline, path: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "path": path,
        "name": pipeline.name(path),
        "reasons": reasons,
        "status": "stale" if reasons else "up to date",
        "run": None,
        "cached_from": None,
        "error": None,
        "duration_s": None,
    }


def repro(
    targets: list[str] | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    env: str = "ignore",
    cache: bool = True,
    db: str | None = None,
    on_event: Event | None = None,
) -> dict[str, Any]:
    """Run what is stale (``dry_run``: only say what and why). Statuses per stage:
    ``up to date``, ``stale`` (dry run), ``succeeded``, ``cached``, ``failed``, ``skipped``."""
    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be 1 or more.")
    with open_store(db) as store:
        pipeline, selected, reasons = assess(store, targets, env=env, force=force)
        db_path = store.path
    stages = {p: _report(pipeline, p, reasons[p]) for p in pipeline.order if p in selected}
    todo = [p for p in stages if reasons[p]]
    if not dry_run and todo:
        _execute(
            pipeline,
            stages,
            todo,
            db_path=db_path,
            force=force,
            env=env,
            cache=cache,
            jobs=jobs or os.cpu_count() or 1,
            scheduler=scheduler,
            emit=on_event or (lambda _e, _s: None),
        )
    counts = {k: sum(s["status"] == k for s in stages.values()) for k in _STATUSES}
    return {
        "db": str(db_path),
        "dry_run": dry_run,
        "up_to_date": not todo,
        "stages": list(stages.values()),
        **counts,
    }


_STATUSES = ("stale", "succeeded", "cached", "failed", "skipped")


def _execute(
    pipeline: Pipeline,
    stages: dict[str, dict[str, Any]],
    todo: list[str],
    *,
    db_path: Path,
    force: bool,
    env: str,
    cache: bool,
    jobs: int,
    scheduler: str | None,
    emit: Event,
) -> None:
    waiting = list(todo)
    running: dict[Any, str] = {}
    started: dict[str, float] = {}
    with _runner(db_path, jobs, scheduler) as runner:
        while waiting or running:
            for path in list(waiting):
                ups = [u for u in pipeline.stages[path].upstream if u in stages]
                bad = [u for u in ups if stages[u]["status"] in ("failed", "skipped")]
                if bad:
                    waiting.remove(path)
                    stages[path]["status"] = "skipped"
                    stages[path]["error"] = f"upstream {pipeline.name(bad[0])} failed"
                    emit("skipped", stages[path])
                    continue
                if any(u in running.values() or u in waiting for u in ups):
                    continue
                waiting.remove(path)
                if _settled(pipeline, stages[path], db_path, force=force, env=env, cache=cache):
                    emit(stages[path]["status"], stages[path])
                    continue
                started[path] = time.monotonic()
                emit("started", stages[path])
                running[runner.submit(pipeline.stages[path])] = path
            if not running:
                continue
            for future in runner.wait(list(running)):
                path = running.pop(future)
                result = runner.collect(future)
                report = stages[path]
                report.update(
                    status=result["status"],
                    run=result["run_id"],
                    error=result["error"],
                    duration_s=round(time.monotonic() - started[path], 2),
                )
                emit(report["status"], report)


def _settled(
    pipeline: Pipeline,
    report: dict[str, Any],
    db_path: Path,
    *,
    force: bool,
    env: str,
    cache: bool,
) -> bool:
    """Whether the stage needs no kernel now: its upstream re-made the same files (up to
    date), or an identical earlier run can be reused (cached)."""
    if force:
        return False
    stage = pipeline.stages[report["path"]]
    with Store(db_path) as store:
        if not own_reasons(store, pipeline, stage, Disk(store), env=env):
            report["status"] = "up to date"
            report["reasons"] = [*report["reasons"], _unchanged()]
            return True
        if not cache or stage.kind != "notebook":
            return False
        cwd = _cwd(stage)
        original = cache_mod.find(store, stage.path, stage.parameters, cwd)
        if original is None:
            return False
        report["run"] = cache_mod.record(store, original)
        report["cached_from"] = original["id"]
        report["status"] = "cached"
        return True


def _unchanged() -> dict[str, Any]:
    return {"what": "unchanged", "text": "its inputs came out the same: nothing to run"}


def _cwd(stage: Stage) -> str:
    cwd = stage.run.get("cwd")
    return os.path.abspath(cwd) if cwd and os.path.isdir(cwd) else os.path.dirname(stage.path)


# -- where stages run ---------------------------------------------------------------------------


def run_stage(
    kind: str, path: str, text: str, parameters: dict[str, Any], cwd: str, output: str
) -> dict[str, Any]:
    """One stage, in a worker: a notebook as a sweep point (its own store, shipped back as
    bytes), a script as a subprocess that records itself."""
    if kind == "notebook":
        from .sweep import Point, run_point

        return run_point(text, Point(0, parameters), None, path, output, cwd, None)
    import tempfile

    from ..store.merge import snapshot_to

    with tempfile.TemporaryDirectory(prefix="lineage-task-") as tmp:
        db = Path(tmp) / "task.db"
        outcome = run_script(path, cwd, db)
        data = b""
        if db.exists():
            snapshot_to(db, Path(tmp) / "snapshot.db")
            data = (Path(tmp) / "snapshot.db").read_bytes()
    return {**outcome, "store": data, "notebook": b"", "output": output}


def run_script(path: str, cwd: str, db: Path) -> dict[str, Any]:
    """Run a tracked script (it calls ``jupyter_lineage.start()`` itself) into ``db``."""
    from ..store import stages as stage_queries

    proc = subprocess.run(
        [sys.executable, path],
        cwd=cwd,
        env={**os.environ, "JUPYTER_LINEAGE_DB": str(db)},
        capture_output=True,
        text=True,
    )
    run_id = None
    if db.exists():
        with Store(db) as store:
            latest = [r for r in stage_queries.latest_successful(store) if r["notebook"] == path]
            run_id = latest[0]["id"] if latest else None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"run_id": run_id, "status": "failed", "error": f"exit {proc.returncode}: {tail}"}
    if run_id is None:
        return {
            "run_id": None,
            "status": "failed",
            "error": "the script recorded no run: does it still call jupyter_lineage.start()?",
        }
    return {"run_id": run_id, "status": "succeeded", "error": None}


class _Runner:
    """Stages in this process one at a time (``jobs=1``), or in a process pool or on Dask."""

    def __init__(self, db_path: Path, jobs: int, client: Any) -> None:
        self.db_path = db_path
        self.client = client
        self.pool = worker_pool(jobs) if client is None and jobs > 1 else None
        self.outputs = private_dir(db_path.parent / "runs")

    def submit(self, stage: Stage) -> Any:
        output = str(self.outputs / f"{uuid7()}.ipynb")
        if self.pool is None and self.client is None:
            return _Done(self._here(stage, output))
        text = Path(stage.path).read_text(encoding="utf-8") if stage.kind == "notebook" else ""
        args = (stage.kind, stage.path, text, stage.parameters, _cwd(stage), output)
        if self.client is not None:
            return self.client.submit(run_stage, *args, pure=False)
        assert self.pool is not None
        return self.pool.submit(run_stage, *args)

    def _here(self, stage: Stage, output: str) -> dict[str, Any]:
        if stage.kind == "script":
            return run_script(stage.path, _cwd(stage), self.db_path)
        from .run import run_notebook

        try:
            r = run_notebook(
                stage.path, stage.parameters, output=output, cwd=_cwd(stage), db=str(self.db_path)
            )
        except Exception as exc:  # bad input now (the notebook changed): this stage fails
            return {"run_id": None, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        return {"run_id": r.run_id, "status": r.status, "error": r.error}

    def wait(self, futures: list[Any]) -> list[Any]:
        done = [f for f in futures if isinstance(f, _Done)]
        if done:
            return done
        if self.client is not None:
            from distributed import wait

            return list(wait(futures, return_when="FIRST_COMPLETED").done)
        finished, _ = concurrent.futures.wait(
            futures, return_when=concurrent.futures.FIRST_COMPLETED
        )
        return list(finished)

    def collect(self, future: Any) -> dict[str, Any]:
        if isinstance(future, _Done):
            return future.value
        try:
            result: dict[str, Any] = future.result()
        except Exception as exc:  # the worker died: this stage failed
            return {"run_id": None, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        from .sweep import _merge_bytes

        with Store(self.db_path) as main:
            _merge_bytes(main, result.pop("store"))
        executed = result.pop("notebook")
        if executed and not Path(result["output"]).exists():  # ran on another machine
            write_private(result["output"], executed)
        return result


class _Done:
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value


@contextmanager
def _runner(db_path: Path, jobs: int, scheduler: str | None) -> Iterator[_Runner]:
    client = None
    if scheduler:
        from .sweep import connect_dask

        client = connect_dask(scheduler)
    runner = _Runner(db_path, jobs, client)
    try:
        yield runner
    finally:
        if runner.pool is not None:
            runner.pool.shutdown()
        if client is not None:
            client.close()
