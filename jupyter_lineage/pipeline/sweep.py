"""``jupyter lineage sweep``: a parameter grid run in parallel, locally or on a Dask cluster.

Every task records into its own small store file and ships its bytes back; the client merges
them into the main store, so SQLite is never shared over a network filesystem.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NoKernelError, UsageError
from ..private import private_dir, write_private
from ..store import Store, details, writes
from ..store.location import for_notebook
from ..store.merge import merge, snapshot_to
from . import params as params_mod


@dataclass
class Point:
    index: int
    parameters: dict[str, Any]


def grid(values: dict[str, list[Any]]) -> list[Point]:
    names = list(values)
    return [
        Point(i, dict(zip(names, combo, strict=True)))
        for i, combo in enumerate(itertools.product(*(values[n] for n in names)))
    ]


def run_point(
    notebook_text: str,
    point: Point,
    parent_id: str | None,
    lineage_notebook: str,
    output: str,
    cwd: str | None,
    kernel: str | None,
) -> dict[str, Any]:
    """One grid point, in a worker: the notebook travels as text, and the results (a private
    store and the executed notebook) travel back as bytes — no shared filesystem needed."""
    from .run import run_notebook

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lineage-task-") as tmp:
        db = Path(tmp) / "task.db"
        source = Path(tmp) / Path(lineage_notebook).name
        source.write_text(notebook_text, encoding="utf-8")
        try:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            result = run_notebook(
                source,
                point.parameters,
                output=output,
                db=str(db),
                parent_id=parent_id,
                lineage_notebook=lineage_notebook,
                cwd=cwd if cwd and os.path.isdir(cwd) else None,
                kernel=kernel,
            )
            run_id, status, error = result.run_id, result.status, result.error
        except Exception as exc:  # reported for this point; the others go on
            run_id, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
        data = b""
        if db.exists():
            snapshot_to(db, Path(tmp) / "snapshot.db")
            data = (Path(tmp) / "snapshot.db").read_bytes()
        executed = Path(output).read_bytes() if Path(output).exists() else b""
    return {
        "index": point.index,
        "parameters": point.parameters,
        "run_id": run_id,
        "status": status,
        "error": error,
        "duration_s": round(time.monotonic() - started, 2),
        "store": data,
        "notebook": executed,
        "output": output,
    }


def _merge_bytes(main: Store, data: bytes) -> None:
    if not data:
        return
    with tempfile.TemporaryDirectory(prefix="lineage-merge-") as tmp:
        path = Path(tmp) / "task.db"
        path.write_bytes(data)
        merge(main, path)


def _reused(
    main: Store, task: tuple[Any, ...], parent_id: str, workdir: str, results: list[dict[str, Any]]
) -> bool:
    """A grid point an earlier run can stand for: recorded as a cached child, added to
    ``results``."""
    from . import cache

    point, notebook, output = task[1], task[3], task[4]
    original = cache.find(main, notebook, point.parameters, workdir)
    if original is None or not cache.copy_notebook(
        cache.executed_notebook(main, original["id"]), output
    ):
        return False
    run_id = cache.record(main, original, parent_id=parent_id)
    results.append(
        {
            "index": point.index,
            "parameters": point.parameters,
            "run_id": run_id,
            "status": "succeeded",
            "error": None,
            "duration_s": 0.0,
            "output": output,
            "cached_from": original["id"],
            "metrics": details.run_metrics(main, run_id),
        }
    )
    return True


def _local(tasks: list[tuple[Any, ...]], workers: int) -> Iterator[dict[str, Any]]:
    from .workers import pool as worker_pool

    with worker_pool(workers) as pool:
        futures = [pool.submit(run_point, *task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def connect_dask(address: str, timeout: float = 5.0) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs dask.distributed: `pip install 'jupyter-lineage[dask]'`."
        ) from None
    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"Cannot reach the Dask scheduler at {address} ({type(exc).__name__}). Check the "
            "address and that the scheduler runs, or drop --scheduler to run locally."
        ) from None


def _dask(client: Any, tasks: list[tuple[Any, ...]]) -> Iterator[dict[str, Any]]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(run_point, *task, pure=False) for task in tasks]
    for future in dask_completed(futures):
        yield future.result()


def sweep(
    notebook: str,
    values: dict[str, list[Any]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    db: str | None = None,
    cwd: str | None = None,
    kernel: str | None = None,
    cache: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the Cartesian grid of ``values``; a parent run of kind ``sweep`` holds one child each.
    ``cache``: a point identical to an earlier run is recorded as a ``cached`` child instead."""
    if not values or any(not v for v in values.values()):
        raise UsageError("Give each swept parameter at least one value: -p NAME V1 V2 …")
    if workers is not None and workers < 1:
        raise UsageError("--workers must be 1 or more.")
    nb = params_mod.load_notebook(notebook)
    if not (kernel or params_mod.kernel_name(nb)):
        raise NoKernelError(
            f"{notebook} names no kernel (no kernelspec in its metadata) and none was given: "
            "pass -k/--kernel NAME (e.g. -k python3), as papermill requires."
        )
    params_mod.validate(notebook, nb, dict.fromkeys(values), kernel_name=kernel)
    points = grid(values)
    client = connect_dask(scheduler) if scheduler else None
    recorded_as = os.path.abspath(notebook)
    db_path = for_notebook(recorded_as, db)
    with Store(db_path) as main:
        parent_id = writes.begin_run(
            main, kind="sweep", notebook=recorded_as, parameters=values, cwd=cwd or os.getcwd()
        )
    output_dir = private_dir(db_path.parent / "runs" / parent_id)
    if on_start:
        on_start(len(points))  # validation passed: from here on, progress is worth showing
    text = Path(notebook).read_text(encoding="utf-8")
    workdir = os.path.abspath(cwd) if cwd else os.path.dirname(recorded_as)
    tasks = [
        (
            text,
            p,
            parent_id,
            recorded_as,
            str(output_dir / f"point-{p.index:03d}.ipynb"),
            workdir,
            kernel,
        )
        for p in points
    ]
    results: list[dict[str, Any]] = []
    if cache:
        with Store(db_path) as main:
            tasks = [t for t in tasks if not _reused(main, t, parent_id, workdir, results)]
        for result in results:
            if on_result:
                on_result(result)
    try:
        if not tasks:
            stream: Iterator[dict[str, Any]] = iter(())
        elif client:
            stream = _dask(client, tasks)
        else:
            stream = _local(tasks, workers or os.cpu_count() or 1)
        with Store(db_path) as main:
            for result in stream:
                _merge_bytes(main, result.pop("store"))
                executed = result.pop("notebook")
                if executed and not Path(result["output"]).exists():  # ran on another machine
                    write_private(result["output"], executed)
                rid = result["run_id"]
                result["metrics"] = details.run_metrics(main, rid) if rid else {}
                results.append(result)
                if on_result:
                    on_result(result)
    finally:
        if client is not None:
            client.close()
        failed = sum(r["status"] != "succeeded" for r in results) + len(points) - len(results)
        with Store(db_path) as main:
            writes.end_run(
                main,
                parent_id,
                "failed" if failed else "succeeded",
                error_name="SweepPointsFailed" if failed else None,
                error_value=f"{failed} of {len(points)} points failed" if failed else None,
            )
    results.sort(key=lambda r: r["index"])
    return {
        "sweep": parent_id,
        "db": str(db_path),
        "points": results,
        "failed": failed,
        "total": len(points),
    }
