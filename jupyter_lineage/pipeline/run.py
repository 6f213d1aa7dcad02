"""``jupyter lineage run``: validate, record, execute with papermill, summarise."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LineageError, NoKernelError, UsageError
from ..inputs import check_path, run_name
from ..private import private_dir, private_file
from ..store import open_store, queries
from ..store.location import for_notebook
from . import params as params_mod
from . import record


@dataclass
class RunResult:
    run_id: str
    status: str
    output: str
    db: str
    error: str | None = None
    cached_from: str | None = None
    kernel_died: bool = False

    @property
    def exit_code(self) -> int:
        """papermill's: 0 succeeded, 138 the kernel died, 1 any other failure."""
        if self.status == "succeeded":
            return 0
        return DEAD_KERNEL_EXIT if self.kernel_died else 1


DEAD_KERNEL_EXIT = 138  # papermill's CLI exits with this when the kernel dies


def default_output(db: Path, run_id: str) -> Path:
    return db.parent / "runs" / f"{run_id}.ipynb"


def run_notebook(
    notebook: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    *,
    output: str | None = None,
    cwd: str | None = None,
    kernel: str | None = None,
    db: str | None = None,
    parent_id: str | None = None,
    kind: str = "papermill",
    lineage_notebook: str | None = None,
    progress: bool = False,
    log_output: bool = False,
    cache: bool = False,
    name: str | None = None,
    report_mode: bool = False,
    request_save_on_cell_execute: bool = True,
    autosave_cell_every: int = 30,
    execution_timeout: float | None = None,
    start_timeout: float = 60,
) -> RunResult:
    """Execute NOTEBOOK with papermill as a tracked run; a failing notebook is still recorded.

    ``lineage_notebook`` records the run under another notebook path (reproduce runs a snapshot).
    ``cache``: reuse an identical earlier run (pipeline/cache.py) instead of starting a kernel.
    The papermill options keep papermill's meaning and defaults (its CLI's), so a run ends as
    ``papermill`` would end it: status, exit code, output notebook.
    """
    path = str(notebook)
    parameters = dict(parameters or {})
    name = run_name(name) if name is not None else None
    if cache:
        hit = _reuse(path, parameters, output=output, cwd=cwd, db=db, parent_id=parent_id)
        if hit is not None:
            return hit
    import papermill
    from nbclient.exceptions import DeadKernelError

    nb = params_mod.load_notebook(path)
    if cwd is not None and not Path(check_path("--cwd", cwd)).is_dir():
        raise UsageError(f"--cwd {cwd} is not a folder.")
    if output:
        check_path("--output", output)
    kernel_name = kernel or params_mod.kernel_name(nb)
    if not kernel_name:  # papermill's own rule (papermill.utils.nb_kernel_name), said our way
        raise NoKernelError(
            f"{path} names no kernel (no kernelspec in its metadata) and none was given: "
            "pass -k/--kernel NAME (e.g. -k python3), as papermill requires."
        )
    language = _check_kernel(kernel_name)
    params_mod.validate(path, nb, parameters, kernel_name=kernel_name, language=language)
    recorded_as = os.path.abspath(lineage_notebook or path)
    plan = record.RunPlan(
        notebook=recorded_as,
        parameters=parameters,
        db=for_notebook(recorded_as, db),
        kind=kind,
        parent_id=parent_id,
        name=_free(name, for_notebook(recorded_as, db)) if name else None,
    )
    out = Path(output) if output else default_output(plan.db, plan.run_id)
    if output and out.is_dir():
        raise UsageError(f"--output {output} is a folder; give a notebook file name.")
    if output and out.exists() and not out.is_file():
        raise UsageError(f"--output {output} is not a regular file; give a notebook file name.")
    with open(path, encoding="utf-8") as f:
        snapshot = f.read()
    placeholder = None
    if out.absolute().is_relative_to(plan.db.parent) or ".lineage" in out.absolute().parts:
        # under .lineage/: it holds every output of the notebook, so it is the owner's only
        private_dir(out.parent)
        if not out.exists():
            placeholder = private_file(out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
    try:
        record.begin(plan, snapshot, os.path.abspath(cwd) if cwd else os.path.dirname(recorded_as))
    except BaseException:
        if placeholder is not None:  # nothing ran: leave nothing behind
            with contextlib.suppress(OSError):
                placeholder.unlink()
        raise
    error: str | None = None
    kernel_died = False
    try:
        papermill.execute_notebook(
            path,
            str(out),
            parameters=parameters or None,
            engine_name="lineage",
            kernel_name=kernel_name,
            language=language,
            cwd=cwd or os.path.dirname(os.path.abspath(path)),
            progress_bar=progress,
            log_output=log_output,
            report_mode=report_mode,
            request_save_on_cell_execute=request_save_on_cell_execute,
            autosave_cell_every=autosave_cell_every,
            execution_timeout=execution_timeout,
            start_timeout=start_timeout,
            lineage_plan=plan,
        )
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timeout: recorded as failed by the engine
        error = f"{type(exc).__name__}: {exc}"
        kernel_died = isinstance(exc, DeadKernelError)
    record.record_output_notebook(plan, str(out))
    with open_store(plan.db) as store:
        status = queries.run_status(store, plan.run_id) or "running"
    if status == "running":  # papermill failed before the engine ran (e.g. bad kernel)
        record.finish(plan, None, LineageError(error or "the notebook did not run"))
        status = "failed"
    return RunResult(
        run_id=plan.run_id,
        status=status,
        output=str(out),
        db=str(plan.db),
        error=error,
        kernel_died=kernel_died,
    )


def _reuse(
    path: str,
    parameters: dict[str, Any],
    *,
    output: str | None,
    cwd: str | None,
    db: str | None,
    parent_id: str | None,
) -> RunResult | None:
    """A cached run when an identical earlier run can be reused (its executed notebook is
    copied to ``output`` when one is asked for and it still exists)."""
    from . import cache

    if not Path(check_path("the notebook", path)).is_file():
        return None  # the full run says what is wrong
    if output:
        check_path("--output", output)
    notebook = os.path.abspath(path)
    workdir = os.path.abspath(check_path("--cwd", cwd)) if cwd else os.path.dirname(notebook)
    db_path = for_notebook(notebook, db)
    if not db_path.exists():
        return None
    with open_store(db_path) as store:
        original = cache.find(store, notebook, parameters, workdir)
        if original is None:
            return None
        executed = cache.executed_notebook(store, original["id"])
        if output and not cache.copy_notebook(executed, output):
            return None  # the notebook asked for cannot be given without running
        run_id = cache.record(store, original, parent_id=parent_id)
    return RunResult(
        run_id=run_id,
        status="succeeded",
        output=output or executed or "",
        db=str(db_path),
        cached_from=original["id"],
    )


def _free(name: str, db: Path) -> str:
    """``--name`` checked before anything runs: a name another run holds is a usage error."""
    if db.is_file():
        with open_store(db) as store:
            holder = queries.run_named(store, name)
        if holder is not None:
            raise UsageError(f"--name {name}: run {holder} has that name; choose another.")
    return name


def _check_kernel(name: str) -> str:
    """The kernel's language (papermill needs it when the notebook does not say)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return str(KernelSpecManager().get_kernel_spec(name).language or "python")
    except NoSuchKernel:
        names = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
        raise UsageError(
            f"There is no Jupyter kernel named '{name}' (installed: {names})."
        ) from None
