"""``jupyter lineage dag``: the inferred pipeline with what is stale, in any of its formats.

Reads the store and hashes files through the store's stat-keyed cache; imports neither
papermill nor nbformat, so it answers fast on a large store.
"""

from __future__ import annotations

import os
from typing import Any

from ..store import Store
from . import dagformats, freshness
from .dag import Pipeline, infer, select


def assess(
    store: Store, targets: list[str] | None = None, *, env: str = "ignore", force: bool = False
) -> tuple[Pipeline, set[str], dict[str, list[dict[str, Any]]]]:
    """The pipeline, the stages the targets need, and why each of those is stale."""
    pipeline = infer(store)
    selected = select(pipeline, list(targets or []))
    reasons = freshness.evaluate(store, pipeline, selected, env=env, force=force)
    return pipeline, selected, reasons


def dag(
    store: Store,
    targets: list[str] | None = None,
    *,
    fmt: str = "json",
    env: str = "ignore",
    base: str | None = None,
) -> dict[str, Any]:
    """The pipeline as JSON (``fmt="json"`` or ``"tree"``: the CLI draws the tree from it), or
    ``{"format", "text", …}`` for dot, mermaid, dvc and github-actions. ``base``: the folder
    a dvc.yaml or workflow is written for (default: the current one; for a workflow, the
    folder holding the store's ``.lineage``, where CI finds it again)."""
    dagformats.check_format(fmt)
    pipeline, selected, reasons = assess(store, targets, env=env)
    data = dagformats.to_json(pipeline, selected, reasons)
    if fmt in ("json", "tree"):
        return data
    folder = os.path.abspath(base or os.getcwd())
    if fmt == "github-actions" and not base and store.path.parent.name == ".lineage":
        folder = str(store.path.parent.parent)  # the workflow runs at the store's root
    if fmt == "dvc":
        text = dagformats.render_dvc(data, folder)
    elif fmt == "github-actions":
        sources: set[str] = set()
        for path in selected:
            run = pipeline.stages[path].run
            sources |= freshness.imported_modules(freshness.run_sources(store, run))
        dists = sorted(freshness.distributions(sources) - {"jupyter-lineage"})
        text = dagformats.render_github_actions(data, folder, dists)
    else:
        text = dagformats.TEXT_FORMATS[fmt](data)
    return {"format": fmt, "text": text, "stages": [s["path"] for s in data["stages"]]}
