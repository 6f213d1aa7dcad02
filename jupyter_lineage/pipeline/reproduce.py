"""``jupyter lineage reproduce``: re-run a recorded pipeline run and say exactly what differs."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..hashing import hash_file
from ..store import open_store, queries
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


def _files(run: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["hash"] for f in run["files_written"] if f["kind"] != "notebook"}


def _compare_outputs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    fa, fb = _files(a), _files(b)
    for path in sorted(set(fa) | set(fb)):
        if fa.get(path) == fb.get(path):
            continue
        status = "missing" if path not in fb else "new" if path not in fa else "changed"
        out.append(
            {"path": path, "status": status, "original": fa.get(path), "reproduction": fb.get(path)}
        )
    return out


def _compare_cells(store: Any, a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    ca = json.loads(queries.blob(store, _outputs_hash(store, a["id"])) or "[]")
    cb = json.loads(queries.blob(store, _outputs_hash(store, b["id"])) or "[]")
    diffs = []
    for x, y in zip(ca, cb, strict=False):
        if [mask(t) for t in x["outputs"]] != [mask(t) for t in y["outputs"]]:
            diffs.append(
                {
                    "index": x["index"],
                    "cell_id": x["cell_id"],
                    "original": x["outputs"],
                    "reproduction": y["outputs"],
                }
            )
    if len(ca) != len(cb):
        diffs.append(
            {
                "index": None,
                "cell_id": None,
                "original": f"{len(ca)} code cells",
                "reproduction": f"{len(cb)} code cells",
            }
        )
    return diffs


def _outputs_hash(store: Any, run_id: str) -> str | None:
    row = store.conn.execute("SELECT outputs_hash FROM runs WHERE id = ?", (run_id,)).fetchone()
    return row[0] if row else None


def _compare_env(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    a, b = a or {}, b or {}
    pa, pb = a.get("packages", {}), b.get("packages", {})
    diff: dict[str, Any] = {}
    changed = {n: [pa[n], pb[n]] for n in sorted(set(pa) & set(pb)) if pa[n] != pb[n]}
    added = {n: pb[n] for n in sorted(set(pb) - set(pa))}
    removed = {n: pa[n] for n in sorted(set(pa) - set(pb))}
    if changed:
        diff["packages_changed"] = changed
    if added:
        diff["packages_added"] = added
    if removed:
        diff["packages_removed"] = removed
    for key in ("python", "platform"):
        if a.get(key) != b.get(key):
            diff[key] = [a.get(key), b.get(key)]
    return diff


def reproduce(
    run: str, *, db: str | None = None, output: str | None = None, notebook: str | None = None
) -> dict[str, Any]:
    """Re-execute RUN's recorded notebook with its recorded parameters, as a child run."""
    with open_store(db, notebook=notebook) as store:
        original = queries.show_run(store, run, notebook=notebook)
        snapshot = queries.blob(store, original.get("notebook_hash"))
        db_path = str(store.path)
    if original["kind"] != "papermill" or not snapshot:
        raise UsageError(
            f"Run {original['id']} is a {original['kind']} run: only pipeline runs (`jupyter "
            "lineage run`, `papermill --engine lineage`) record the notebook needed to reproduce."
        )
    inputs = _inputs_before(original)
    with tempfile.TemporaryDirectory(prefix="lineage-reproduce-") as tmp:
        path = Path(tmp) / Path(original["notebook"] or "notebook.ipynb").name
        path.write_text(snapshot, encoding="utf-8")
        cwd = original.get("cwd")
        result = run_notebook(
            path,
            original["parameters"],
            output=output,
            db=db_path,
            cwd=cwd if cwd and os.path.isdir(cwd) else None,
            parent_id=original["id"],
            lineage_notebook=original["notebook"] or str(path),
        )
    with open_store(db_path) as store:
        again = queries.show_run(store, result.run_id)
        cells = _compare_cells(store, original, again)
    outputs = _compare_outputs(original, again)
    metrics = {
        name: [original["metrics"].get(name), again["metrics"].get(name)]
        for name in sorted(set(original["metrics"]) | set(again["metrics"]))
        if original["metrics"].get(name) != again["metrics"].get(name)
    }
    environment = _compare_env(original["environment"], again["environment"])
    git_a, git_b = original["git"] or {}, again["git"] or {}
    git: dict[str, Any] = {}
    if git_a.get("commit") != git_b.get("commit"):
        git["commit"] = [git_a.get("commit"), git_b.get("commit")]
    if git_a.get("diff_hash") != git_b.get("diff_hash"):
        git["uncommitted_changes"] = "differ"
    differences = [
        f"input {i['path']} is {i['status']}"
        for i in inputs
        if i["status"] in ("changed", "missing", "unreadable")
    ]
    differences += [f"output {o['path']} {o['status']}" for o in outputs]
    differences += [f"cell {c['index']} printed something else" for c in cells]
    differences += [f"metric {n}: {v[0]} -> {v[1]}" for n, v in metrics.items()]
    if again["status"] != "succeeded":
        verdict = "failed"
        err = again.get("error") or {}
        differences.insert(0, f"the reproduction failed: {err.get('name')}: {err.get('value')}")
    elif differences:
        verdict = "differs"
    elif environment or git:
        verdict = "equivalent"
    else:
        verdict = "identical"
    return {
        "original": original["id"],
        "reproduction": result.run_id,
        "verdict": verdict,
        "differences": differences,
        "inputs": inputs,
        "outputs": outputs,
        "cells": cells,
        "metrics": metrics,
        "environment": environment,
        "git": git,
        "output_notebook": result.output,
    }
