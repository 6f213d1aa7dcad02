"""The notebook's ``parameters``-tagged cell in an interactive session: its values become the
run's parameters, as papermill's injected values do for a pipeline run — so diffing an
interactive run against a pipeline run compares ``C`` with ``C`` instead of inventing
``C removed``."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any


def find(notebook: str | None) -> tuple[str | None, str] | None:
    """(cell id, source) of the notebook file's first cell tagged ``parameters``, if any.
    Read once per run, off the notebook's thread."""
    if not notebook or not notebook.endswith(".ipynb"):
        return None
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            source = cell.get("source", "")
            return cell.get("id"), "".join(source) if isinstance(source, list) else source
    return None


def is_it(cell: tuple[str | None, str], cell_id: str | None, source: str) -> bool:
    """Whether the cell just run is the parameters cell: by id, else by its code."""
    if cell[0] and cell_id:
        return cell[0] == cell_id
    return source.strip() == cell[1].strip()


def values(source: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The names the cell assigns at top level, with their values now, when JSON holds them
    (numbers, text, booleans, None, lists and dicts of those)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    out: dict[str, Any] = {}
    for name in names:
        if name in namespace:
            try:
                json.dumps(namespace[name], allow_nan=False)
            except (TypeError, ValueError):
                continue
            out[name] = namespace[name]
    return out
