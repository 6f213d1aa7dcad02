"""The papermill engine ``lineage``: ``papermill --engine lineage in.ipynb out.ipynb`` records
the same run as ``jupyter lineage run``. Built on papermill's Engine and nbclient's hooks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from ..store.location import for_notebook
from . import record

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


def plan_from_papermill(nb: nbformat.NotebookNode, input_path: str | None) -> record.RunPlan:
    """``papermill --engine lineage``: the parameters given to THIS run, never stale metadata."""
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


class LineageEngine(NBClientEngine):
    @classmethod
    def execute_notebook(
        cls,
        nb: nbformat.NotebookNode,
        kernel_name: str,
        output_path: str | None = None,
        **kwargs: Any,
    ) -> Any:
        plan: record.RunPlan | None = kwargs.pop("lineage_plan", None)
        if plan is None:
            plan = plan_from_papermill(nb, kwargs.get("input_path"))
            source = kwargs.get("input_path")
            snapshot = (
                Path(source).read_text(encoding="utf-8")
                if source and os.path.isfile(source)
                else nbformat.writes(nb)
            )
            record.begin(plan, snapshot, os.getcwd())
            owner = True
        else:
            owner = False  # `jupyter lineage run` records the output notebook itself
        kwargs["lineage_env"] = plan.kernel_env()
        executed = None
        try:
            executed = super().execute_notebook(nb, kernel_name, output_path=output_path, **kwargs)
        except BaseException as exc:
            record.finish(plan, nb, exc)
            raise
        record.finish(plan, executed, None)
        if owner:
            record.record_output_notebook(plan, output_path)
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
        env = {**os.environ, **kwargs.pop("lineage_env", {})}
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        km = AsyncKernelManager(
            kernel_name=kernel_name,
            client_class="jupyter_lineage.pipeline.engine.CellIdKernelClient",
        )
        final_kwargs = merge_kwargs(
            kwargs,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client = PapermillNotebookClient(nb_man, km=km, **final_kwargs)
        client.extra_arguments = [*client.extra_arguments, *KERNEL_ARGS]

        def on_cell_execute(cell: Any, cell_index: int) -> None:
            if isinstance(client.kc, CellIdKernelClient):
                client.kc.cell_id = cell.get("id")

        client.on_cell_execute = on_cell_execute
        return client.execute(env=env)
