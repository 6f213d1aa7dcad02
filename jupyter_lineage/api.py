"""The Python API. The CLI and the REST API are thin shells over these functions.

Logging functions act on the run being tracked in this process (a notebook with
``%load_ext jupyter_lineage``, a papermill run, or a script after :func:`start`). Query
functions open the store (``db`` > ``$JUPYTER_LINEAGE_DB`` > the nearest ``.lineage/lineage.db`` from the working
folder up, see store/location.py).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from .capture import registry
from .capture.tracker import Tracker
from .diff import diff_runs
from .envfiles import env_file
from .errors import LineageError, UsageError
from .export import collect, renderer
from .inputs import check_path, run_name, run_note
from .staleness import stale
from .staleness import stale_cells as _stale_cells
from .store import locate, open_store, queries, writes
from .store.lineage import DEFAULT_LIMIT as DEFAULT_TRACE_LIMIT
from .store.merge import merge_into
from .tracing import trace as trace_target


class LineageWarning(UserWarning):
    pass


def _tracker(required: bool = False) -> Any:
    tracker = registry.current()
    if tracker is None and required:
        raise LineageError(
            "Tracking is not on in this process: run `%load_ext jupyter_lineage` in the notebook "
            "(or call jupyter_lineage.start() in a script)."
        )
    if tracker is None:
        # Logging must never break a notebook that runs without tracking.
        warnings.warn(
            "jupyter-lineage is not tracking this process, so this call records nothing. "
            "Run `%load_ext jupyter_lineage` first.",
            LineageWarning,
            stacklevel=3,
        )
    return tracker


# -- logging ------------------------------------------------------------------------------------
def _open(db: str | None = None, **kwargs: Any) -> Any:
    """The store for a query; in a tracked kernel, the cells just run are written first."""
    tracker = registry.current()
    if tracker is not None:
        tracker.flush()
    return open_store(db, **kwargs)


def log_param(name: str, value: Any) -> None:
    log_params({name: value})


def log_params(params: dict[str, Any] | None = None, **more: Any) -> None:
    tracker = _tracker()
    if tracker is not None:
        tracker.log_params({**(params or {}), **more})


def log_metric(name: str, value: float, step: int | None = None) -> None:
    tracker = _tracker()
    if tracker is not None:
        tracker.log_metric(name, value, step)


def log_input(path: str | os.PathLike[str]) -> None:
    """Declare a file the current cell read that capture cannot see (e.g. read by a subprocess)."""
    tracker = _tracker()
    if tracker is not None:
        tracker.declare(os.fspath(path), "read")


def log_output(path: str | os.PathLike[str]) -> None:
    """Declare a file the current cell wrote that capture cannot see."""
    tracker = _tracker()
    if tracker is not None:
        tracker.declare(os.fspath(path), "write")


def ignore(*globs: str) -> None:
    tracker = _tracker(required=True)
    tracker.accesses.ignore(*globs)


def pause() -> None:
    _tracker(required=True).enabled = False


def resume() -> None:
    _tracker(required=True).enabled = True


def tracking_status() -> dict[str, Any]:
    return dict(_tracker(required=True).status())


# -- scripts ------------------------------------------------------------------------------------
def start(*, db: str | None = None, name: str | None = None) -> str:
    """Track this Python script (no IPython): one run, one execution spanning the script.

    A process tracks one run: if one is already being tracked (a notebook with the extension),
    that run's id is returned and nothing new starts.
    """
    current = registry.current()
    if current is not None:
        return str(current.run_id)
    script = name or (os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None)
    tracker = Tracker(kind="script", notebook=script, db=db)
    source = ""
    if script and os.path.isfile(script):
        with contextlib.suppress(OSError, UnicodeDecodeError), open(script, encoding="utf-8") as f:
            source = f.read()
    tracker.begin_execution(source, None)
    atexit.register(stop)
    return str(tracker.run_id)


def stop(error: BaseException | None = None) -> None:
    """End the run :func:`start` began (a notebook's run is ended by the kernel, not here)."""
    tracker = registry.current()
    if tracker is None or tracker.kind != "script":
        return
    with contextlib.suppress(Exception):
        atexit.unregister(stop)
    tracker.end_execution(error=error)
    tracker.close("failed" if error is not None else "succeeded")


@contextlib.contextmanager
def tracking(*, db: str | None = None, name: str | None = None) -> Iterator[str]:
    run_id = start(db=db, name=name)
    try:
        yield run_id
    except BaseException as exc:
        stop(exc)
        raise
    else:
        stop()


# -- queries ------------------------------------------------------------------------------------
def runs(
    *,
    db: str | None = None,
    notebook: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    parent: str | None = None,
    where: list[str] | None = None,
    sort: str | None = None,
    ascending: bool = False,
) -> list[dict[str, Any]]:
    """Runs, newest first; ``where=["auc > 0.8", "params.C = 0.5"]`` filters in SQL; ``sort``
    (a metric, or ``params.NAME``) orders them best (highest; ``ascending``: lowest) first,
    runs without that value last, before ``limit`` applies."""
    with _open(db, notebook=notebook) as store:
        if not sort:
            return queries.list_runs(
                store,
                notebook=notebook,
                limit=limit,
                offset=offset,
                parent=parent,
                where=where or (),
            )
        rows = queries.list_runs(store, notebook=notebook, parent=parent, where=where or ())
    ordered = sort_runs(rows, sort, ascending=ascending)[offset:]
    return ordered if limit is None else ordered[:limit]


def sort_runs(
    rows: list[dict[str, Any]], key: str, *, ascending: bool = False
) -> list[dict[str, Any]]:
    """``rows`` by a metric or ``params.NAME``: numbers in order, then other values as text,
    runs without it last (the order is stable: newest first among equals)."""
    name = key.removeprefix("params.")
    field = "parameters" if key.startswith("params.") else "metrics"
    if not any(name in r[field] for r in rows) and rows:
        known = sorted({k for r in rows for k in r["metrics"]}) + sorted(
            {f"params.{k}" for r in rows for k in r["parameters"]}
        )
        raise UsageError(
            f"No run here has '{key}' to sort by; known: {', '.join(known) or 'none'}."
        )

    def value(r: dict[str, Any]) -> tuple[int, Any]:
        v = r[field].get(name)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return (0, v if ascending else -v)
        return (1, str(v))

    present = [r for r in rows if name in r[field]]
    return sorted(present, key=value) + [r for r in rows if name not in r[field]]


def rename(
    run: str, name: str | None = None, *, note: str | None = None, db: str | None = None
) -> dict[str, Any]:
    """Give RUN a name of your own (unique in the store; it works wherever an id does) and/or
    a note; returns ``{id, name, note}``."""
    if name is None and note is None:
        raise UsageError("Give a new name, a --note, or both.")
    name = run_name(name) if name is not None else None
    note = run_note(note)
    with _open(db) as store:
        run_id = queries.resolve_run(store, run)
        holder = queries.run_named(store, name) if name else None
        if holder is not None and holder != run_id:
            raise UsageError(f"'{name}' already names run {holder}; choose another name.")
        writes.rename_run(store, run_id, name, note)
        row = queries.run_summaries(store, [run_id])[0]
    return {"id": run_id, "name": row["name"], "note": row["note"]}


def show(
    run: str, *, db: str | None = None, notebook: str | None = None, files: bool = False
) -> dict[str, Any]:
    """``files``: folders recorded as one dataset list their member files (``show --files``)."""
    with _open(db, notebook=notebook) as store:
        return queries.show_run(store, run, notebook=notebook, files=files)


def sources(
    run: str, *, db: str | None = None, notebook: str | None = None
) -> list[dict[str, Any]]:
    with _open(db, notebook=notebook) as store:
        return queries.sources(store, run, notebook=notebook)


def trace(
    target: str,
    *,
    db: str | None = None,
    downstream: bool = False,
    depth: int | None = None,
    whole_run: bool = False,
    limit: int | None = DEFAULT_TRACE_LIMIT,
) -> dict[str, Any]:
    """How TARGET was made (or what was made from it): through the cells it depends on by
    dataflow, or with ``whole_run`` every cell that ran before the one that wrote it. At most
    ``limit`` executions and artifacts per level (None: all); ``truncated`` says if any were
    left out, ``direct`` how many executions read (or wrote) TARGET itself."""
    with _open(db, notebook=target if os.path.exists(target) else None) as store:
        return trace_target(
            store,
            target,
            downstream=downstream,
            depth=depth,
            whole_run=whole_run,
            limit=limit,
        )


def gather(
    target: str, *, output: str | None = None, verify: bool = False, db: str | None = None
) -> dict[str, Any]:
    """Write the minimal notebook that rebuilds TARGET's version (see ``jupyter lineage
    gather``); ``verify`` runs it and says ``identical`` / ``equivalent`` / ``differs``."""
    from . import gather as gathering

    with _open(db, notebook=target if os.path.exists(target) else None) as store:
        gathered = gathering.plan(store, target)
        db_path = str(store.path)
    path = gathering.check_output(
        output or gathering.default_output(gathered["target"]["path"]), gathered
    )
    gathering.write(path, gathering.notebook_text(gathered))
    gathered["output"] = str(path)
    gathered["verification"] = gathering.verify(gathered, path, db_path) if verify else None
    return gathered


# -- pipelines ----------------------------------------------------------------------------------
def run(notebook: str, parameters: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """Execute a notebook with papermill as a tracked run (see ``jupyter lineage run``)."""
    # pipeline/ imports papermill and nbclient: loaded on use, not by every tracked kernel.
    from .pipeline import run_notebook

    result = run_notebook(notebook, parameters, **options)
    summary = show(result.run_id, db=result.db)
    summary["output_notebook"] = result.output
    summary["exit_code"] = result.exit_code  # papermill's for this ending (138: the kernel died)
    return summary


def reproduce(
    run: str,
    *,
    db: str | None = None,
    output: str | None = None,
    notebook: str | None = None,
    isolated: bool = False,
    python: str | None = None,
    installer: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Re-run RUN and compare (see ``jupyter lineage reproduce``); ``isolated`` runs it in a
    virtual environment with the run's recorded packages, built once and cached."""
    from .pipeline import reproduce as _reproduce  # papermill: loaded on use (start-up cost)

    return _reproduce(
        run,
        db=db,
        output=output,
        notebook=notebook,
        isolated=isolated,
        python=python,
        installer=installer,
        on_progress=on_progress,
    )


def dag(
    targets: list[str] | None = None,
    *,
    fmt: str = "json",
    env: str = "ignore",
    base: str | None = None,
    db: str | None = None,
) -> dict[str, Any]:
    """The pipeline inferred from each notebook's latest successful run, with what is stale
    (see ``jupyter lineage dag``): JSON, or ``{"format", "text"}`` for dot, mermaid, dvc and
    github-actions."""
    from .pipeline.plan import dag as _dag

    with _open(db) as store:
        return _dag(store, targets, fmt=fmt, env=env, base=base)


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
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Bring the inferred pipeline up to date: run exactly the stale stages, in order,
    independent ones side by side (see ``jupyter lineage repro``)."""
    from .pipeline.repro import repro as _repro

    return _repro(
        targets,
        dry_run=dry_run,
        force=force,
        jobs=jobs,
        scheduler=scheduler,
        env=env,
        cache=cache,
        db=db,
        on_event=on_event,
    )


def env(
    run: str, *, fmt: str = "requirements", db: str | None = None, notebook: str | None = None
) -> dict[str, Any]:
    """RUN's recorded packages as a requirements, pylock, conda or json file: ``{"run",
    "format", "text"}`` (see ``jupyter lineage env``)."""
    return env_file(show(run, db=db, notebook=notebook), fmt)


def sweep(notebook: str, values: dict[str, list[Any]], **options: Any) -> dict[str, Any]:
    from .pipeline import sweep as _sweep  # papermill: loaded on use (start-up cost)

    return _sweep(notebook, values, **options)


def merge(other: str, *, db: str | None = None) -> dict[str, int]:
    """Merge another lineage database into this one (idempotent)."""
    return merge_into(locate(db), check_path("OTHER", other))


# -- comparison and export ----------------------------------------------------------------------
def diff(
    run_a: str, run_b: str, *, db: str | None = None, notebook: str | None = None
) -> dict[str, Any]:
    """What changed between two runs (see ``jupyter lineage diff``)."""
    with _open(db, notebook=notebook) as store:
        return diff_runs(store, run_a, run_b, notebook=notebook)


def status(paths: list[str] | None = None, *, db: str | None = None) -> list[dict[str, Any]]:
    """Which recorded outputs are stale (see ``jupyter lineage status``)."""
    with _open(db) as store:
        return stale(store, paths or None)


def stale_cells(*, notebook: str | None = None, db: str | None = None) -> list[dict[str, Any]]:
    """Cells whose latest execution used variables from a cell since re-run with changed code
    (see ``jupyter lineage status --cells``)."""
    path = os.path.abspath(os.path.expanduser(notebook)) if notebook else None
    with _open(db, notebook=path) as store:
        return _stale_cells(store, path)


def export(fmt: str, *, runs: list[str] | None = None, db: str | None = None) -> str:
    """The lineage of ``runs`` (default: all) as openlineage, prov-json, dot or mermaid."""
    render = renderer(fmt)
    with _open(db) as store:
        return render(collect(store, runs))


def emit(url: str, *, runs: list[str] | None = None, db: str | None = None) -> int:
    """POST OpenLineage events to a backend (Marquez, DataHub, …); returns how many."""
    # The OpenLineage client is loaded on use, not by every tracked kernel (start-up cost).
    from .export.openlineage import emit as _emit

    if not url.startswith(("http://", "https://")):
        raise LineageError(f"--url must be an http(s) address of an OpenLineage backend: {url}")
    with _open(db) as store:
        bundle = collect(store, runs)
    return _emit(bundle, url, api_key=os.environ.get("OPENLINEAGE_API_KEY"))


# -- the model catalogue ------------------------------------------------------------------------
def models(
    *, where: list[str] | None = None, tag: str | None = None, db: str | None = None
) -> list[dict[str, Any]]:
    """Every model version some run wrote, with its maker (see ``jupyter lineage models``)."""
    from . import catalogue

    with _open(db) as store:
        return catalogue.models(store, where=where, tag=tag)


def model(ref: str, *, db: str | None = None) -> dict[str, Any]:
    """One version ``PATH[@HASH|@TAG]`` in full (see ``jupyter lineage models show``)."""
    from . import catalogue

    with _open(db) as store:
        return catalogue.show(store, ref)


def tag(ref: str, name: str, *, remove: bool = False, db: str | None = None) -> dict[str, Any]:
    """Name the version ``PATH[@HASH]`` (``production``), or take the name off."""
    from . import catalogue

    with _open(db) as store:
        return catalogue.tag(store, ref, name, remove=remove)


# -- setup --------------------------------------------------------------------------------------
def enable(scope: str = "user") -> dict[str, Any]:
    """Every kernel of ``scope`` (user, sys-prefix, project) loads the extension by itself."""
    from . import autoload

    return autoload.enable(scope).to_json()


def disable(scope: str = "user") -> dict[str, Any]:
    """Undo :func:`enable` for ``scope``."""
    from . import autoload

    return autoload.disable(scope).to_json()


def doctor() -> list[dict[str, Any]]:
    """Is tracking on where this process stands (see ``jupyter lineage doctor``)?"""
    from .doctor import doctor as checks

    return [c.to_json() for c in checks()]


def gc(
    *,
    keep_last: int | None = None,
    older_than: float | None = None,
    dry_run: bool = False,
    db: str | None = None,
) -> dict[str, Any]:
    """Remove old interactive runs and what only they used, then vacuum (see ``gc``)."""
    from .housekeeping import gc as collect_garbage

    with _open(db) as store:
        return collect_garbage(store, keep_last=keep_last, older_than=older_than, dry_run=dry_run)
