"""The papermill engine ``lineage``: ``papermill --engine lineage in.ipynb out.ipynb`` records
the same run as ``jupyter lineage run``. Built on papermill's Engine and nbclient's hooks."""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args
from traitlets import DottedObjectName, default

if TYPE_CHECKING:
    from . import record

# The store and the run record (sqlite3, the schema, hashing) are imported when a run is
# recorded, not here: papermill imports this module whenever papermill itself is imported.

# Loads tracking at kernel start, silently: the notebook's own `%load_ext jupyter_lineage`
# then finds it active and prints nothing, and no cell is added to the output notebook.
KERNEL_ARGS = [
    "--IPKernelApp.exec_lines=import jupyter_lineage.extension as _jl;"
    " _jl.load_ipython_extension(get_ipython()); del _jl",
    "--IPKernelApp.log_level=ERROR",  # keep the kernel's start-up chatter out of CI logs
]


class CellIdKernelClient(AsyncKernelClient):
    """Sends the notebook's cell id with each execute request, as JupyterLab does."""

    cell_id: str | None = None

    def execute(  # type: ignore[override]
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool | None = None,
        stop_on_error: bool = True,
    ) -> str:
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": self.allow_stdin if allow_stdin is None else allow_stdin,
            "stop_on_error": stop_on_error,
        }
        metadata = {"cellId": self.cell_id} if self.cell_id else {}
        msg = self.session.msg("execute_request", content, metadata=metadata)
        self.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])


class CellIdKernelManager(AsyncKernelManager):
    """nbclient's default kernel manager, whose clients send cell ids."""

    client_class = DottedObjectName("jupyter_lineage.pipeline.engine.CellIdKernelClient")

    @default("client_factory")
    def _cell_id_client(self) -> type[CellIdKernelClient]:
        return CellIdKernelClient  # AsyncKernelManager fixes its factory, not only the name


# jupyter_client's words for a kernel that did not get as far as answering kernel_info
_NOT_STARTED = ("Kernel died before replying to kernel_info", "Kernel didn't respond in ")


class LineageNotebookClient(PapermillNotebookClient):  # type: ignore[misc]
    """papermill's client, which starts the kernel once more when it did not start.

    jupyter_client picks free ports, writes them down and lets them go; the kernel binds them
    later. Kernels started at once by several processes (a sweep's points, ``repro --jobs``, a
    CI matrix) can lose that race: the kernel fails with "Address already in use", then either
    exits ("Kernel died before replying to kernel_info") or hangs in its exit ("Kernel didn't
    respond in 60 seconds"; papermill#511). A new start takes fresh ports; a kernel that cannot
    start at all fails the same way twice."""

    _start_kwargs: dict[str, Any] | None = None

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        self._start_kwargs = kwargs
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self) -> Any:
        try:
            return await super().async_start_new_kernel_client()
        except RuntimeError as exc:
            if not str(exc).startswith(_NOT_STARTED) or self._start_kwargs is None:
                raise
            logger.warning("The kernel did not start (%s); starting it once more.", exc)
            kwargs, self._start_kwargs = self._start_kwargs, None
            self.km = self.create_kernel_manager()  # ports chosen afresh
            await self.async_start_new_kernel(**kwargs)
            self._start_kwargs = None
            return await super().async_start_new_kernel_client()

    # papermill's client starts the kernel through nbclient's blocking wrappers, made from the
    # coroutines above when nbclient defined them: made again from ours
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


def plan_from_papermill(nb: nbformat.NotebookNode, input_path: str | None) -> record.RunPlan:
    """``papermill --engine lineage``: the parameters given to THIS run, never stale metadata."""
    from ..store.location import for_notebook
    from . import record

    notebook = os.path.abspath(input_path) if input_path and "://" not in input_path else None
    params: dict[str, Any] = {}
    injected = next(
        (c for c in nb.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    if injected is not None:
        fresh = True
        if notebook and os.path.isfile(notebook):
            original = nbformat.read(notebook, as_version=4)
            fresh = not any(
                c.get("source") == injected.get("source") and c.get("id") == injected.get("id")
                for c in original.cells
            )
        if fresh:
            params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    return record.RunPlan(notebook=notebook or "", parameters=params, db=for_notebook(notebook))


def _begin_from_papermill(nb: nbformat.NotebookNode, source: str | None) -> record.RunPlan | None:
    """The run of ``papermill --engine lineage``, recorded; None (said once, on papermill's log)
    when the store cannot take it: tracking never changes how papermill's run ends."""
    from . import record

    try:
        plan = plan_from_papermill(nb, source)
        snapshot = (
            Path(source).read_text(encoding="utf-8")
            if source and os.path.isfile(source)
            else nbformat.writes(nb)
        )
        record.begin(plan, snapshot, os.getcwd())
    except Exception as exc:
        logger.warning(f"jupyter-lineage: this run is not recorded: {exc}")
        return None
    return plan


def _finish(
    plan: record.RunPlan, nb: nbformat.NotebookNode, error: BaseException | None, papermills: bool
) -> None:
    """End the run's record. Under ``papermill --engine lineage`` a store that fails now is
    said on papermill's log and leaves papermill's own ending (status, exit code, output
    notebook) untouched; under ``jupyter lineage run`` it is that command's error (exit 2)."""
    from . import record

    try:
        record.finish(plan, nb, error)
    except Exception as exc:
        if not papermills:
            raise
        logger.warning(f"jupyter-lineage: the end of run {plan.run_id} was not recorded: {exc}")


# Output notebooks of `papermill --engine lineage` runs, recorded once papermill has written
# them: papermill writes the notebook after the engine returns (with an error marker cell
# when a cell failed), so a hash taken inside the engine would name a file that never stays.
# Recorded when the next run in this process begins, or when the process exits.
_pending_outputs: list[tuple[record.RunPlan, str]] = []


def _record_pending_outputs() -> None:
    from . import record

    while _pending_outputs:
        plan, path = _pending_outputs.pop(0)
        try:
            record.record_output_notebook(plan, path)
        except Exception as exc:
            logger.warning(f"jupyter-lineage: the output notebook was not recorded: {exc}")


def _after_papermill_writes(plan: record.RunPlan, path: str | None) -> None:
    if not path:
        return
    if not _pending_outputs:
        atexit.unregister(_record_pending_outputs)  # registered once, whatever the run count
        atexit.register(_record_pending_outputs)
    _pending_outputs.append((plan, path))


def _output_path(nb: nbformat.NotebookNode, given: str | None) -> str | None:
    """papermill hands the engine no output path under --no-request-save-on-cell-execute; the
    notebook's metadata always names the one papermill writes."""
    return given or nb.metadata.get("papermill", {}).get("output_path")


class LineageEngine(NBClientEngine):
    @classmethod
    def execute_notebook(
        cls,
        nb: nbformat.NotebookNode,
        kernel_name: str,
        output_path: str | None = None,
        **kwargs: Any,
    ) -> Any:
        from . import record

        _record_pending_outputs()  # the previous run's: papermill has written it by now
        plan: record.RunPlan | None = kwargs.pop("lineage_plan", None)
        owner = plan is None  # `jupyter lineage run` begins the run and records its output itself
        if plan is None:
            plan = _begin_from_papermill(nb, kwargs.get("input_path"))
        if plan is None:  # the store said no: papermill's run goes on, untracked, as said
            return super().execute_notebook(nb, kernel_name, output_path=output_path, **kwargs)
        kwargs["lineage_env"] = plan.kernel_env()
        try:
            executed = super().execute_notebook(nb, kernel_name, output_path=output_path, **kwargs)
        except BaseException as exc:  # a dead kernel, a timeout, Ctrl-C: papermill's ending
            _finish(plan, nb, exc, owner)
            if owner:  # the notebook as papermill leaves it (its saves up to the failure)
                _after_papermill_writes(plan, _output_path(nb, output_path))
            raise
        # papermill decides success after the engine returns; the run's status is its verdict
        _finish(plan, executed, record.papermill_verdict(executed), owner)
        if owner:
            _after_papermill_writes(plan, _output_path(executed, output_path))
        return executed

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        lineage_env = kwargs.pop("lineage_env", None)  # None: this run is not tracked
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(  # as NBClientEngine does, plus our kernel manager
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        # nbclient makes (and so owns, interrupts and shuts down) the kernel, as for plain
        # papermill; only the class of its manager is ours
        final_kwargs.setdefault("kernel_manager_class", CellIdKernelManager)
        client = LineageNotebookClient(nb_man, **final_kwargs)
        if lineage_env is not None:
            client.extra_arguments = [*client.extra_arguments, *KERNEL_ARGS]

        def on_cell_execute(cell: Any, cell_index: int) -> None:
            if isinstance(client.kc, CellIdKernelClient):
                client.kc.cell_id = cell.get("id")

        client.on_cell_execute = on_cell_execute
        return client.execute(env={**os.environ, **(lineage_env or {})})
