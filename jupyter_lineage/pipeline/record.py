"""The run record of a pipeline run: begun before the kernel starts, finished after it stops."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..hashing import hash_file
from ..ids import uuid7
from ..redaction import redact
from ..store import Store, queries, writes
from ..urls import scrub_text

SCRAP_MIME = "application/scrapbook.scrap.json+json"
MAX_OUTPUT_TEXT = 20_000


@dataclass
class RunPlan:
    """What a pipeline run is: fixed before it starts, so bad input never half-writes a run."""

    notebook: str
    parameters: dict[str, Any]
    db: Path
    kind: str = "papermill"
    parent_id: str | None = None
    run_id: str = field(default_factory=uuid7)
    name: str | None = None  # None: a generated one (adjective-noun-NN)

    def kernel_env(self) -> dict[str, str]:
        from ..capture.envvars import ENV_NOTEBOOK, ENV_RUN_ID
        from ..store.db import ENV_DB

        return {ENV_RUN_ID: self.run_id, ENV_NOTEBOOK: self.notebook, ENV_DB: str(self.db)}


def begin(plan: RunPlan, snapshot: str, cwd: str | None) -> None:
    """Record the run and the exact notebook it runs (credentials in URLs removed)."""
    with Store(plan.db) as store:
        digest = writes.put_blob(store, scrub_text(snapshot))
        writes.begin_run(
            store,
            kind=plan.kind,
            notebook=plan.notebook,
            notebook_hash=digest,
            parameters=plan.parameters,
            parent_id=plan.parent_id,
            cwd=cwd or os.getcwd(),
            run_id=plan.run_id,
            name=plan.name,
        )


def _text_outputs(cell: nbformat.NotebookNode) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            texts.append(str(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/plain" in data and SCRAP_MIME not in data:
                texts.append(str(data["text/plain"]))
        elif kind == "error":
            texts.append(f"{out.get('ename')}: {out.get('evalue')}")
    # what the notebook printed, as kept in the store: URLs cleaned, environment values hidden
    return [redact(t)[:MAX_OUTPUT_TEXT] for t in texts]


def cell_outputs(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        {"index": i, "cell_id": cell.get("id"), "outputs": _text_outputs(cell)}
        for i, cell in enumerate(nb.cells)
        if cell.get("cell_type") == "code"
    ]


def scraps(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Values glued with scrapbook (``sb.glue(name, value)``)."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrap = out.get("data", {}).get(SCRAP_MIME)
            if isinstance(scrap, dict) and "name" in scrap:
                found[str(scrap["name"])] = scrap.get("data")
    return found


def papermill_verdict(nb: nbformat.NotebookNode) -> BaseException | None:
    """The error papermill itself raises for this executed notebook, or None when it counts the
    run a success: its own rule (``raise_for_execution_errors``), so ``sys.exit(0)`` succeeds,
    an error output fails, a ``raises-exception`` cell's error still fails, as papermill says.
    Run on a copy with no output path: papermill writes nothing then."""
    import copy

    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    try:
        raise_for_execution_errors(copy.deepcopy(nb), None)
    except PapermillExecutionError as exc:
        return exc
    return None


def _raised_in_a_cell(error: BaseException) -> bool:
    from papermill.exceptions import PapermillExecutionError

    return isinstance(error, PapermillExecutionError)


def finish(plan: RunPlan, nb: nbformat.NotebookNode | None, error: BaseException | None) -> str:
    """End the run: status, the failing execution, scrapbook metrics, cell outputs. Returns status.

    ``error`` is how the run ended for papermill (None: succeeded): the status is papermill's.
    """
    with Store(plan.db) as store:
        failed = error is not None
        error_name = error_value = failed_id = None
        if failed:
            failing = queries.failing_execution(store, plan.run_id)
            if failing:
                failed_id, error_name, error_value = failing
            if error is not None and (not failing or not _raised_in_a_cell(error)):
                # a timeout or a dead kernel: papermill's own error says how the run ended
                error_name, error_value = type(error).__name__, str(error)[:4000]
        if nb is not None:
            for name, value in scraps(nb).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    writes.log_metric(store, plan.run_id, name, value)
            writes.set_run_outputs(store, plan.run_id, json.dumps(cell_outputs(nb)))
        status = "failed" if failed else "succeeded"
        writes.end_run(
            store,
            plan.run_id,
            status,
            error_name=error_name,
            error_value=error_value,
            failed_execution_id=failed_id,
        )
    return status


def record_output_notebook(plan: RunPlan, path: str | None) -> None:
    """The executed notebook as the run's written artifact (hashed after papermill's last write)."""
    if not path or re.match(r"^[a-z][a-z0-9+.-]*://", path) or not os.path.isfile(path):
        return
    digest, st = hash_file(path)
    with Store(plan.db) as store:
        writes.add_run_files(
            store,
            plan.run_id,
            [
                writes.Access(
                    uri=os.path.abspath(path),
                    hash=digest,
                    role="write",
                    kind="notebook",
                    size=st.st_size,
                )
            ],
        )
