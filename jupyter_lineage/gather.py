"""``jupyter lineage gather``: the minimal notebook that rebuilds one file version.

The cells are the executions the writing execution depends on inside its run — through the
names it used (store/dataflow.py) and through files written earlier in the same run — in the
order they ran, the parameters cell first. Inputs made by other runs are files on disk, as in
the original run. Everything is checked before anything is written; ``verify`` runs the notebook
through our papermill engine and judges the rebuilt file with reproduce's verdicts.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

from .errors import UsageError
from .files import replace_whole
from .inputs import check_path
from .store import Store, artifacts, dataflow, queries
from .store.lineage import cells as run_cells
from .tracing import find_artifact

PARAMETERS_MARK = "# Parameters\n"  # the cell papermill injects starts with this line


def _parses(source: str) -> str | None:
    """Why the code cannot be parsed as IPython runs it, or None."""
    try:
        ast.parse(source)
        return None
    except (SyntaxError, ValueError) as first:
        try:
            from IPython.core.inputtransformer2 import TransformerManager

            ast.parse(TransformerManager().transform_cell(source))
            return None
        except Exception:
            return str(first)


def plan(store: Store, target: str) -> dict[str, Any]:
    """Which executions rebuild TARGET's version, in order: checked, nothing written."""
    root, note = find_artifact(store, target)
    return plan_for(store, root, note=note, target=target)


def plan_for(
    store: Store, root: dict[str, Any], *, note: str | None = None, target: str | None = None
) -> dict[str, Any]:
    """:func:`plan` of one artifact version (a row of ``artifacts``)."""
    target = target or root["uri"]
    writer = artifacts.latest_write(store, root["id"])
    if writer is None:
        raise UsageError(
            f"No recorded cell wrote {target} (an original input, or written by a subprocess "
            "capture cannot see: declare it with `%track output PATH` in the cell that made it). "
            "Nothing to gather."
        )
    run_id = writer["run_id"]
    chosen: set[str] = set()
    frontier = [writer["id"]]
    while frontier:  # dataflow, then same-run files, until nothing new
        found, _ = dataflow.upstream(store, frontier, run_id=run_id)
        chosen |= found
        reads = [r["id"] for r in dataflow.reads_of(store, sorted(found))]
        frontier = [e for e in dataflow.writers_in_run(store, reads, run_id) if e not in chosen]
    cells = [c for c in run_cells(store, run_id) if c["id"] in chosen]
    names = dataflow.flows(store, sorted(chosen))
    whole_run = any(names.get(c["id"], {}).get("names") is None for c in cells)
    for c in cells:
        problem = _parses(c["source"] or "")
        if problem is not None:
            count = c["execution_count"] if c["execution_count"] is not None else c["seq"]
            raise UsageError(
                f"Cell [{count}] of run {run_id[:13]}, which {target} depends on, cannot be "
                f"parsed ({problem}); gather cannot rebuild it. Nothing was written."
            )
    # papermill runs the notebook's parameters cell, then the cell it injected after it: both
    # go first, in that order (the injected values must win), the defaults tagged
    # "parameters" so a run of the gathered notebook can inject again
    injected = [c for c in cells if (c["source"] or "").startswith(PARAMETERS_MARK)]
    seqs = {c["seq"] for c in injected}
    defaults = [c for c in cells if c["seq"] + 1 in seqs and c not in injected]
    params = sorted(defaults + injected, key=lambda c: c["seq"])
    ordered = params + [c for c in cells if c not in params]
    tags = {c["id"]: "parameters" for c in defaults}
    for c in injected:
        tags[c["id"]] = "injected-parameters" if defaults else "parameters"
    run = queries.show_run(store, run_id)
    return {
        "target": {"path": root["uri"], "hash": root["hash"], "id": root["id"]},
        "note": note,
        "run": run_id,
        "notebook": run["notebook"],
        "kind": run["kind"],
        "parameters": run["parameters"],
        "cwd": run.get("cwd"),
        "whole_run": whole_run,
        "cells": [
            {
                "execution": c["id"],
                "execution_count": c["execution_count"],
                "cell_id": c["cell_id"],
                "source": c["source"] or "",
                "parameters": c in params,
                "tag": tags.get(c["id"]),
            }
            for c in ordered
        ],
    }


def default_output(target_path: str) -> str:
    return f"{Path(target_path).stem or 'gathered'}.gathered.ipynb"


def notebook_text(gathered: dict[str, Any]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["jupyter_lineage"] = {
        "gathered_from": {
            "run": gathered["run"],
            "path": gathered["target"]["path"],
            "hash": gathered["target"]["hash"],
            "executions": [c["execution"] for c in gathered["cells"]],
        }
    }
    for c in gathered["cells"]:
        cell = nbformat.v4.new_code_cell(c["source"])
        if c.get("tag"):
            cell.metadata["tags"] = [c["tag"]]
        nb.cells.append(cell)
    return str(nbformat.writes(nb))


def check_output(output: str, gathered: dict[str, Any]) -> Path:
    path = Path(check_path("--output", output)).expanduser().absolute()
    if path.is_dir():
        raise UsageError(f"--output {output} is a folder; give a notebook file name.")
    if path.suffix != ".ipynb":
        raise UsageError(f"--output {output} must end in .ipynb.")
    if gathered["notebook"] and path == Path(gathered["notebook"]).absolute():
        raise UsageError(f"--output {output} is the run's own notebook; give another name.")
    if not path.parent.is_dir():
        raise UsageError(f"--output {output}: the folder {path.parent} does not exist.")
    return path


def write(path: Path, text: str) -> None:
    """All or nothing: a temporary file beside it, renamed over it."""
    replace_whole(path, text)


def verify(gathered: dict[str, Any], notebook: Path, db: str) -> dict[str, Any]:
    """Run the gathered notebook (our papermill engine, the run's folder and parameters) and
    judge the file it rebuilt: identical (same hash), equivalent (same hash, another
    environment or commit), differs."""
    from .diff import compare
    from .pipeline.reproduce import judge
    from .pipeline.run import run_notebook
    from .store import open_store

    params = gathered["parameters"] if any(c["parameters"] for c in gathered["cells"]) else {}
    cwd = gathered["cwd"]
    result = run_notebook(
        notebook,
        params,
        db=db,
        cwd=cwd if cwd and os.path.isdir(cwd) else None,
        parent_id=gathered["run"],
    )
    path, recorded = gathered["target"]["path"], gathered["target"]["hash"]
    with open_store(db) as store:
        original = queries.show_run(store, gathered["run"])
        again = queries.show_run(store, result.run_id)
    rebuilt = None  # the last version the gathered run wrote at that path
    for execution in again["executions"]:
        for written in execution["writes"]:
            if written["path"] == path:
                rebuilt = written["hash"]
    outputs = []
    if rebuilt != recorded:
        outputs.append({"path": path, "status": "changed" if rebuilt else "removed"})
    diff = compare(original, again)
    diff = {**diff, "outputs": outputs, "metrics": {}, "parameters": {}}
    verdict, differences = judge(diff, [], [], again)
    return {
        "verdict": verdict,
        "differences": differences,
        "run": result.run_id,
        "rebuilt_hash": rebuilt,
        "output_notebook": result.output,
    }
