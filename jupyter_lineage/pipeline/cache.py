"""``--cache``: reuse a previous successful run instead of starting a kernel.

A run is reusable when the notebook's code, the parameters, the working folder, every input's
content, and the Python and package versions of what it imports are what they were, and every
file it wrote is still there with the content it wrote. The reuse is recorded as a run of kind
``cached`` pointing at the original (``cached_from``). Nothing here imports papermill.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from ..ids import uuid7
from ..staleness import Disk
from ..store import Store, details, stages
from .dag import _file_maps, code_of_notebook
from .freshness import environment_reasons


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def find(
    store: Store, notebook: str, parameters: dict[str, Any], cwd: str
) -> dict[str, Any] | None:
    """The newest run this one may reuse, or None. ``notebook`` and ``cwd`` absolute."""
    try:
        with open(notebook, encoding="utf-8") as f:
            code = code_of_notebook(f.read())
    except (OSError, UnicodeDecodeError):
        return None
    if code is None:
        return None
    wanted = _canonical(parameters)
    disk = Disk(store)
    store_dir = str(store.path.parent)
    for run in stages.reusable(store, notebook):
        if os.path.abspath(run["cwd"] or "") != cwd:
            continue
        if _canonical(details.params(store, [run["id"]])[run["id"]]) != wanted:
            continue
        if code_of_notebook(details.blob(store, run["notebook_hash"]) or "") != code:
            continue
        reads, writes = _file_maps(stages.file_versions(store, [run["id"]]), store_dir)
        if any(digest and disk.hash(path) != digest for path, digest in reads.items()):
            continue
        if any(not digest or disk.hash(path) != digest for path, digest in writes.items()):
            continue  # a product is gone or changed: only running again makes it
        if environment_reasons(store, run):
            continue
        return run
    return None


def record(store: Store, original: dict[str, Any], *, parent_id: str | None = None) -> str:
    """Record the reuse; returns the new run's id."""
    run_id = uuid7()
    stages.record_cached(store, original["id"], run_id, parent_id=parent_id)
    return run_id


def executed_notebook(store: Store, run_id: str) -> str | None:
    """Where papermill wrote the run's executed notebook."""
    written = details.run_files(store, run_id)["write"]
    return next((f["path"] for f in written if f["kind"] == "notebook"), None)


def copy_notebook(executed: str | None, output: str) -> bool:
    """The original's executed notebook at ``output`` (False when it is gone)."""
    if not executed or not os.path.isfile(executed):
        return False
    if os.path.abspath(executed) != os.path.abspath(output):
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        shutil.copyfile(executed, output)
    return True
