"""``pytest --nbval --lineage`` (or ``--nbval-lax``): every notebook nbval executes is recorded
as a run of kind ``test`` — its cells, what they read and wrote, and each cell's pass/fail under
its pytest id.

Loaded by pytest through the ``pytest11`` entry point in every session, so it does nothing (and
imports nothing of ours) without ``--lineage``. nbval's own objects are used as nbval hands them
to pytest's hooks: the notebook's collector (``IPyNbFile``: its ``kernel`` once set up) and its
cell items (``cell_num``). Before the first cell the run is begun and the kernel is started with
the run's id in its environment; once it is up, tracking is loaded in it by a silent request,
which records nothing of its own; after the last cell the run ends, failed if any cell failed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from typing import Any

import pytest

_RUNS = pytest.StashKey[dict[str, Any]]()

_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
_LOAD = (
    "import jupyter_lineage.extension as _jl; _jl.load_ipython_extension(get_ipython()); del _jl"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jupyter-lineage")
    group.addoption(
        "--lineage",
        action="store_true",
        default=False,
        help="Record each notebook nbval runs (--nbval, --nbval-lax) as a jupyter-lineage run "
        "of kind test, with each cell's outcome.",
    )
    group.addoption(
        "--lineage-db",
        default=None,
        metavar="PATH",
        help="The lineage database (default: $JUPYTER_LINEAGE_DB, else the nearest "
        ".lineage/lineage.db from the notebook's folder up, else a new one at its git root).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUNS] = {}


def _notebook_of(item: pytest.Item) -> Any:
    """nbval's collector of this cell, when --lineage is on and the item is a notebook cell."""
    if not item.config.getoption("lineage", False):
        return None
    parent = item.parent
    if parent is None or not hasattr(item, "cell_num") or not hasattr(parent, "kernel"):
        return None
    return parent


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    notebook = _notebook_of(item)
    runs = item.config.stash[_RUNS]
    key: str = notebook.nodeid if notebook is not None else ""
    starting = notebook is not None and key not in runs and notebook.kernel is None
    saved: dict[str, str | None] = {}
    if starting:
        from .pipeline import record
        from .store.location import for_notebook

        path = os.path.abspath(str(notebook.path))
        plan = record.RunPlan(
            notebook=path,
            parameters={},
            db=for_notebook(path, item.config.getoption("lineage_db")),
            kind="test",
        )
        with open(path, encoding="utf-8") as f:
            record.begin(plan, f.read(), os.path.dirname(path))
        runs[key] = {"plan": plan, "cells": {}, "loaded": False}
        for name, value in plan.kernel_env().items():  # the kernel nbval starts inherits them
            saved[name] = os.environ.get(name)
            os.environ[name] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
    if starting and notebook.kernel is not None:
        _load_tracking(notebook, runs[key])


def _load_tracking(notebook: Any, run: dict[str, Any]) -> None:
    """Tracking in nbval's kernel, by a silent request: IPython fires no cell events for it."""
    kernel = notebook.kernel
    msg_id = kernel.kc.execute(_LOAD, silent=True, store_history=False, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=120)
    run["loaded"] = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    notebook = _notebook_of(item)
    run = item.config.stash[_RUNS].get(notebook.nodeid) if notebook is not None else None
    if run is None:
        return
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        message = None
        if report.failed:
            message = _COLOURS.sub("", str(report.longrepr))[-2000:]
        elif report.skipped:
            message = "skipped"
        run["cells"][item.cell_num] = {  # type: ignore[attr-defined]
            "cell": item.cell_num,  # type: ignore[attr-defined]
            "nodeid": item.nodeid,
            "outcome": report.outcome,
            "message": message,
        }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    notebook = _notebook_of(item)
    if notebook is None or (nextitem is not None and nextitem.parent is notebook):
        return
    run = item.config.stash[_RUNS].get(notebook.nodeid)
    if run is not None and not run.get("done"):
        _finish(run)


def _finish(run: dict[str, Any]) -> None:
    from .store import open_store, queries, testruns, writes

    plan = run["plan"]
    cells = [run["cells"][k] for k in sorted(run["cells"])]
    failed = [c for c in cells if c["outcome"] == "failed"]
    passed = [c for c in cells if c["outcome"] == "passed"]
    with open_store(str(plan.db)) as store:
        testruns.record_cells(store, plan.run_id, cells)
        for name, count in (("cells_passed", len(passed)), ("cells_failed", len(failed))):
            writes.log_metric(store, plan.run_id, name, count)
        error_name = error_value = failed_id = None
        if failed:
            found = queries.failing_execution(store, plan.run_id)
            if found:
                failed_id, error_name, error_value = found
            else:  # the cell ran, but its output is not what the notebook holds (nbval)
                error_name = "NbvalFailure"
                error_value = f"{len(failed)} cell(s) failed: {failed[0]['nodeid']}"
        writes.end_run(
            store,
            plan.run_id,
            "failed" if failed else "succeeded",
            error_name=error_name,
            error_value=error_value,
            failed_execution_id=failed_id,
        )
    run["done"] = True
