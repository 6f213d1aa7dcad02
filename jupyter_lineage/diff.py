"""Run-vs-run comparison: one engine for the CLI, the REST API, the sidebar and the widget.

Every section is empty (``{}`` or ``[]``) when that part of the two runs is the same, so
"no differences" is simply all sections empty.
"""

from __future__ import annotations

import ast
import difflib
import json
from typing import Any

from .store import Store, details, queries

SECTIONS = ("parameters", "code", "inputs", "outputs", "metrics", "environment", "git", "status")
_INJECTED = "# Parameters\n"  # papermill's injected-parameters cell: reported as parameters


def _mapping(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    changed = {k: {"a": a[k], "b": b[k]} for k in sorted(set(a) & set(b)) if a[k] != b[k]}
    added = {k: b[k] for k in sorted(set(b) - set(a))}
    removed = {k: a[k] for k in sorted(set(a) - set(b))}
    for key, value in (("changed", changed), ("added", added), ("removed", removed)):
        if value:
            out[key] = value
    return out


def _is_setup(source: str) -> bool:
    """A cell that only switches tracking on (``%load_ext jupyter_lineage``): a pipeline run
    has it on anyway, so it is never a difference in the code."""
    lines = [
        ln.strip() for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    return bool(lines) and all(
        ln in ("%load_ext jupyter_lineage", "%reload_ext jupyter_lineage") for ln in lines
    )


def _cells(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The code as executed; a cell run several times counts with its last source."""
    seen: dict[str, dict[str, Any]] = {}
    cells = []
    for e in run["executions"]:
        if e["source"].startswith(_INJECTED) or _is_setup(e["source"]):
            continue
        if e["cell_id"]:
            if e["cell_id"] in seen:
                seen[e["cell_id"]]["source"] = e["source"]
                continue
            seen[e["cell_id"]] = item = {"cell_id": e["cell_id"], "source": e["source"]}
        else:
            item = {"cell_id": None, "source": e["source"]}
        cells.append(item)
    return cells


def defaults(snapshot: str | None) -> dict[str, Any]:
    """The literal values a notebook's ``parameters``-tagged cell assigns (what a pipeline run
    uses for the parameters it was not given)."""
    try:
        nb = json.loads(snapshot or "")
        cell = next(
            c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])
        )
        source = cell.get("source", "")
        tree = ast.parse("".join(source) if isinstance(source, list) else source)
    except (ValueError, StopIteration, SyntaxError, AttributeError):
        return {}
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            out.update({t.id: value for t in targets if isinstance(t, ast.Name)})
    return out


def _parameters(run: dict[str, Any], store: Store | None) -> dict[str, Any]:
    """What a run ran with: a pipeline run's given parameters over its notebook's defaults (an
    interactive run records its parameters cell's values, so the two compare like for like)."""
    if (
        store is None
        or run.get("kind") not in ("papermill", "cached")
        or not run.get("notebook_hash")
    ):
        return run["parameters"]
    return {**defaults(details.blob(store, run["notebook_hash"])), **run["parameters"]}


def _unified(a: str, b: str, label: str) -> str:
    lines = difflib.unified_diff(
        a.splitlines(keepends=True),
        b.splitlines(keepends=True),
        fromfile=f"a/{label}",
        tofile=f"b/{label}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _code(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Cells matched by cell id, then the rest by position."""
    ca, cb = _cells(a), _cells(b)
    ids_b = {c["cell_id"]: i for i, c in enumerate(cb) if c["cell_id"]}
    pairs: list[tuple[int | None, int | None]] = []
    used_b: set[int] = set()
    rest_a = []
    for i, c in enumerate(ca):
        j = ids_b.get(c["cell_id"]) if c["cell_id"] else None
        if j is not None:
            pairs.append((i, j))
            used_b.add(j)
        else:
            rest_a.append(i)
    rest_b = [j for j in range(len(cb)) if j not in used_b]
    for k in range(max(len(rest_a), len(rest_b))):
        pairs.append(
            (rest_a[k] if k < len(rest_a) else None, rest_b[k] if k < len(rest_b) else None)
        )
    out = []
    for ia, jb in sorted(pairs, key=lambda p: (p[0] if p[0] is not None else 1 << 30, p[1] or 0)):
        src_a = ca[ia]["source"] if ia is not None else ""
        src_b = cb[jb]["source"] if jb is not None else ""
        if ia is not None and jb is not None and src_a == src_b:
            continue
        status = (
            "changed" if ia is not None and jb is not None else "added" if ia is None else "removed"
        )
        cell_id = (ca[ia]["cell_id"] if ia is not None else None) or (
            cb[jb]["cell_id"] if jb is not None else None
        )
        out.append(
            {
                "cell_id": cell_id,
                "index_a": ia,
                "index_b": jb,
                "status": status,
                "diff": _unified(src_a, src_b, f"cell-{cell_id or (ia if ia is not None else jb)}"),
            }
        )
    return out


def _folder_change(store: Store, x: dict[str, Any], y: dict[str, Any]) -> str:
    """Two versions of a folder recorded as one dataset, member by member."""
    before = {m["name"]: m["hash"] for m in details.folder_members(store, x["path"], x["hash"])}
    after = {m["name"]: m["hash"] for m in details.folder_members(store, y["path"], y["hash"])}
    counts = (
        (len(after.keys() - before.keys()), "added"),
        (len(before.keys() - after.keys()), "removed"),
        (sum(1 for n in after.keys() & before.keys() if after[n] != before[n]), "modified"),
    )
    parts = [f"{n} {what}" for n, what in counts if n]
    return f"{len(after):,} files" + (": " + ", ".join(parts) if parts else "")


def _files(
    a: list[dict[str, Any]], b: list[dict[str, Any]], skip: set[str], store: Store | None
) -> list[dict[str, Any]]:
    fa = {f["path"]: f for f in a if f["path"] not in skip}
    fb = {f["path"]: f for f in b if f["path"] not in skip}
    out = []
    for path in sorted(set(fa) | set(fb)):
        x, y = fa.get(path), fb.get(path)
        if x and y and x["hash"] == y["hash"]:
            continue
        status = "changed" if x and y else "added" if y else "removed"
        row = {
            "path": path,
            "status": status,
            "kind": (x or y or {}).get("kind"),
            "a": x["hash"] if x else None,
            "b": y["hash"] if y else None,
        }
        if store is not None and x and y and "files" in x and "files" in y:
            row["detail"] = _folder_change(store, x, y)  # "2,003 files: 3 added, 1 modified"
        out.append(row)
    return out


def _metrics(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name in sorted(set(a) | set(b)):
        va, vb = a.get(name), b.get(name)
        if va == vb:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb))
        out[name] = {"a": va, "b": vb, "delta": round(vb - va, 12) if numeric else None}  # type: ignore[operator]
    return out


def _environment(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    a, b = a or {}, b or {}
    out: dict[str, Any] = {}
    packages = _mapping(a.get("packages", {}), b.get("packages", {}))
    if packages:
        out["packages"] = packages
    for key in ("python", "implementation", "platform", "machine", "cpu", "gpus"):
        if a.get(key) != b.get(key):
            out[key] = {"a": a.get(key), "b": b.get(key)}
    return out


def _git(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    if a is None and b is None:
        return {}
    a, b = a or {}, b or {}
    out: dict[str, Any] = {}
    for key in ("commit", "branch", "dirty", "remote"):
        if a.get(key) != b.get(key):
            out[key] = {"a": a.get(key), "b": b.get(key)}
    if a.get("diff_hash") != b.get("diff_hash"):
        out["diff"] = _unified(a.get("diff") or "", b.get("diff") or "", "uncommitted-changes")
    return out


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "kind",
        "notebook",
        "status",
        "started",
        "duration_s",
        "parameters",
        "metrics",
    )
    return {k: run.get(k) for k in keys}


def diff_runs(
    store: Store, run_a: str, run_b: str, *, notebook: str | None = None
) -> dict[str, Any]:
    """Compare two runs section by section (ids, unique prefixes or @last~N)."""
    return compare(
        queries.show_run(store, run_a, notebook=notebook),
        queries.show_run(store, run_b, notebook=notebook),
        store,
    )


def compare(a: dict[str, Any], b: dict[str, Any], store: Store | None = None) -> dict[str, Any]:
    """Two runs as ``show`` returns them, compared section by section (``reproduce`` passes
    the original run as ``a`` and its reproduction as ``b``); with the ``store``, folders
    recorded as one dataset are compared member by member."""
    own_notebooks = {f["path"] for f in (a.get("notebook_output"), b.get("notebook_output")) if f}
    status: dict[str, Any] = {}
    if a["status"] != b["status"] or a["error"] != b["error"]:
        status = {"a": a["status"], "b": b["status"], "error_a": a["error"], "error_b": b["error"]}
    return {
        "a": _summary(a),
        "b": _summary(b),
        "parameters": _mapping(_parameters(a, store), _parameters(b, store)),
        "code": _code(a, b),
        "inputs": _files(a["files_read"], b["files_read"], own_notebooks, store),
        "outputs": _files(a["files_written"], b["files_written"], own_notebooks, store),
        "metrics": _metrics(a["metrics"], b["metrics"]),
        "environment": _environment(a["environment"], b["environment"]),
        "git": _git(a["git"], b["git"]),
        "status": status,
    }


def is_empty(diff: dict[str, Any]) -> bool:
    return not any(diff[s] for s in SECTIONS)
