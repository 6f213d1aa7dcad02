"""``jupyter lineage reproduce``: re-run a recorded pipeline run and say exactly what differs.

The two runs are compared by :func:`jupyter_lineage.diff.compare`, the engine behind
``jupyter lineage diff``; only what ``diff`` cannot know is checked here: whether the inputs on
disk are still the recorded versions, and what the cells printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from ..diff import compare
from ..errors import UsageError
from ..hashing import hash_file
from ..store import details, open_store, queries
from .run import run_notebook

_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]{4,}"), "0x…"),
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?"),
        "<time>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s|sec|seconds|min)\b"), "<duration>"),
    (re.compile(r"/tmp/[^\s'\"]+"), "<tmp>"),
]


def mask(text: str) -> str:
    """Hide what legitimately changes from run to run: addresses, timestamps, durations."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _inputs_before(original: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for f in original["files_read"]:
        item = {"path": f["path"], "recorded": f["hash"], "current": None}
        if "://" in f["path"]:
            item["status"] = "unchecked"
        elif not os.path.isfile(f["path"]):
            item["status"] = "missing"
        else:
            try:
                item["current"] = hash_file(f["path"])[0]
                item["status"] = "same" if item["current"] == f["hash"] else "changed"
            except OSError:
                item["status"] = "unreadable"
        checks.append(item)
    return checks


def _compare_cells(
    original: list[dict[str, Any]], again: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Cell text outputs, volatile parts masked: the one comparison ``diff`` has no data for
    (only pipeline runs record their outputs)."""
    diffs = []
    for x, y in zip(original, again, strict=False):
        if [mask(t) for t in x["outputs"]] != [mask(t) for t in y["outputs"]]:
            diffs.append(
                {
                    "index": x["index"],
                    "cell_id": x["cell_id"],
                    "original": x["outputs"],
                    "reproduction": y["outputs"],
                }
            )
    if len(original) != len(again):
        diffs.append(
            {
                "index": None,
                "cell_id": None,
                "original": f"{len(original)} code cells",
                "reproduction": f"{len(again)} code cells",
            }
        )
    return diffs


# What a reproduction is judged on in git: the commit and the uncommitted changes to tracked
# files. Branch, remote and untracked files (the outputs of the original run often are) do
# not change what ran.
GIT_KEYS = ("commit", "diff")


def judge(
    diff: dict[str, Any],
    inputs: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    reproduction: dict[str, Any],
) -> tuple[str, list[str]]:
    """The verdict on a reproduction and one line per difference behind it. ``diff`` compares
    the original (``a``) with the reproduction (``b``); ``inputs`` and ``cells`` are the checks
    only reproduce makes; ``reproduction`` is the new run as ``show`` returns it."""
    lines = [
        f"input {i['path']} is {i['status']}"
        for i in inputs
        if i["status"] in ("changed", "missing", "unreadable")
    ]
    params = diff["parameters"]
    lines += [f"parameter {n}: {v['a']} -> {v['b']}" for n, v in params.get("changed", {}).items()]
    lines += [f"parameter {n} added" for n in params.get("added", {})]
    lines += [f"parameter {n} removed" for n in params.get("removed", {})]
    lines += [f"output {o['path']} {o['status']}" for o in diff["outputs"]]
    lines += [f"cell {c['index']} printed something else" for c in cells]
    lines += [f"metric {n}: {v['a']} -> {v['b']}" for n, v in diff["metrics"].items()]
    if reproduction["status"] != "succeeded":
        err = reproduction.get("error") or {}
        return "failed", [f"the reproduction failed: {err.get('name')}: {err.get('value')}", *lines]
    if lines:
        return "differs", lines
    if diff["environment"] or any(k in diff["git"] for k in GIT_KEYS):
        return "equivalent", lines
    return "identical", lines


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., \t]+))", re.M)


def _modules(packages: set[str]) -> dict[str, str]:
    """Top-level module -> distribution, for the changed distributions: their own name, and
    what the installed distributions here say they provide (scikit-learn -> sklearn)."""
    out = {name.replace("-", "_").replace(".", "_"): name for name in packages}
    with contextlib.suppress(Exception):
        for module, dists in metadata.packages_distributions().items():
            for dist in dists:
                key = dist.lower().replace("_", "-")
                if key in packages:
                    out.setdefault(module, key)
    return out


def package_effects(
    original: dict[str, Any], diff: dict[str, Any], cells: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The packages whose version differs, each with the differing cells that import it or
    use a name it was imported as: the differences package versions may explain."""
    changes = diff["environment"].get("packages", {})
    versions = {n: (v["a"], v["b"]) for n, v in changes.get("changed", {}).items()}
    versions |= {n: (None, v) for n, v in changes.get("added", {}).items()}
    versions |= {n: (v, None) for n, v in changes.get("removed", {}).items()}
    if not versions:
        return []
    if not cells:
        return [
            {"package": n, "a": a, "b": b, "cells": []} for n, (a, b) in sorted(versions.items())
        ]
    modules = _modules(set(versions))
    aliases: dict[str, str] = {}  # a name in the notebook -> the distribution it came from
    sources: dict[str, str] = {}
    for e in original["executions"]:
        for m in _IMPORT.finditer(e["source"]):
            if m.group(1):
                top = m.group(1).split(".")[0]
                if top in modules:
                    aliases[top] = modules[top]
                continue
            for part in m.group(2).split(","):
                words = part.split()
                if not words:
                    continue
                top = words[0].split(".")[0]
                if top in modules:
                    name = words[2] if len(words) == 3 and words[1] == "as" else top
                    aliases[name] = modules[top]
        if e["cell_id"]:
            sources[e["cell_id"]] = e["source"]
    out = []
    for name, (a, b) in sorted(versions.items()):
        used = [
            c["index"]
            for c in cells
            if c["cell_id"] in sources
            and any(
                dist == name and re.search(rf"\b{re.escape(alias)}\b", sources[c["cell_id"]])
                for alias, dist in aliases.items()
            )
        ]
        out.append({"package": name, "a": a, "b": b, "cells": used})
    return out


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
    """Re-execute RUN's recorded notebook with its recorded parameters, as a child run;
    ``isolated``: in a virtual environment with the run's recorded packages."""
    if (python is not None or installer is not None) and not isolated:
        raise UsageError("--python and --installer apply to --isolated reproductions only.")
    with open_store(db, notebook=notebook) as store:
        original = queries.show_run(store, run, notebook=notebook)
        snapshot = details.blob(store, original.get("notebook_hash"))
        db_path = str(store.path)
    if original["kind"] != "papermill" or not snapshot:
        nb = original.get("notebook") or "NOTEBOOK.ipynb"
        raise UsageError(
            f"Run {original.get('name') or original['id']} is a {original['kind']} run: only "
            "pipeline runs record the notebook needed to reproduce. Run its notebook as a "
            f"pipeline instead: `jupyter lineage run {os.path.relpath(nb)}` (or only what one "
            "file needs: `jupyter lineage gather FILE -o rebuild.ipynb`, then run that)."
        )
    env = None
    if isolated:
        from .isolated import prepare

        env = prepare(
            original["environment"],
            run_id=original["id"],
            python=python,
            installer=installer,
            on_progress=on_progress,
        )
    inputs = _inputs_before(original)
    with tempfile.TemporaryDirectory(prefix="lineage-reproduce-") as tmp:
        path = Path(tmp) / Path(original["notebook"] or "notebook.ipynb").name
        path.write_text(snapshot, encoding="utf-8")
        cwd = original.get("cwd")
        if not (cwd and os.path.isdir(cwd)) and original["notebook"]:
            cwd = os.path.dirname(original["notebook"])  # the project moved: where it is now
        with _kernel_of(env):
            result = run_notebook(
                path,
                original["parameters"],
                output=output,
                db=db_path,
                cwd=cwd if cwd and os.path.isdir(cwd) else None,
                # a snapshot naming no kernel ran with -k, which is not recorded: python3
                kernel=env.kernel if env else _snapshot_kernel(snapshot),
                parent_id=original["id"],
                lineage_notebook=original["notebook"] or str(path),
            )
    with open_store(db_path) as store:
        again = queries.show_run(store, result.run_id)
        cells = _compare_cells(
            details.cell_outputs(store, original["id"]), details.cell_outputs(store, again["id"])
        )
    diff = compare(original, again)
    verdict, differences = judge(diff, inputs, cells, again)
    return {
        "original": original["id"],
        "reproduction": result.run_id,
        "verdict": verdict,
        "differences": differences,
        "inputs": inputs,
        "parameters": diff["parameters"],
        "outputs": diff["outputs"],
        "cells": cells,
        "metrics": diff["metrics"],
        "environment": diff["environment"],
        "git": {k: v for k, v in diff["git"].items() if k in GIT_KEYS},
        "package_effects": package_effects(original, diff, cells),
        "isolated": env.report() if env else None,
        "output_notebook": result.output,
    }


def _snapshot_kernel(snapshot: str) -> str | None:
    """None when the recorded notebook names its kernel (used as is), else ``python3``."""
    import nbformat

    from .params import kernel_name

    try:
        named = kernel_name(nbformat.reads(snapshot, as_version=4))
    except Exception:
        named = None
    return None if named else "python3"


def _kernel_of(env: Any) -> contextlib.AbstractContextManager[None]:
    if env is None:
        return contextlib.nullcontext()
    from .isolated import kernel_visible

    return kernel_visible(env)
