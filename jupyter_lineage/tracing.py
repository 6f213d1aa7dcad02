"""``jupyter lineage trace``: which recorded artifact the user means, and its lineage.

A path means the version on disk now when that version was recorded (else the latest recorded
one, with a note saying so), so this is where files are hashed; the store only answers what was
recorded.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .errors import ArtifactNotFoundError, UsageError
from .hashing import hash_file
from .inputs import check_path, whole_number
from .staleness import Disk
from .store import Store, artifacts, lineage
from .urls import canonical_url, clean_url


def _is_url(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target))


def find_artifact(store: Store, target: str) -> tuple[dict[str, Any], str | None]:
    """The artifact a user means: a path (its current version if recorded), a URL, an id or hash.

    Returns the artifact row and a note when the version on disk is not the one shown.
    """
    url = _is_url(target)
    uri = (
        clean_url(canonical_url(target))
        if url
        else os.path.abspath(os.path.expanduser(check_path("TARGET", target)))
    )
    versions = artifacts.versions(store, uri)
    if not versions and not url and os.path.isdir(uri):
        uri = uri.rstrip("/") + "/"  # a folder recorded as one dataset
        versions = artifacts.versions(store, uri)
    if not versions:
        lowered = target.lower().removeprefix("blake3:")
        if re.fullmatch(r"[0-9a-f]{6,64}", lowered):
            rows = artifacts.matching(store, lowered)
            if len(rows) == 1:
                return rows[0], None
            if len(rows) > 1:
                raise UsageError(f"'{target}' matches several artifacts: give more characters.")
        raise ArtifactNotFoundError(
            f"No recorded lineage for {target}. Only files read or written in a tracked notebook "
            "(`%load_ext jupyter_lineage`) or a `jupyter lineage run` have lineage."
        )
    if not url and uri.endswith("/"):
        tree, detail = Disk(store).tree(uri, versions[0]["hash"])
        for v in versions:
            if v["hash"] == tree:
                return v, None
        return versions[0], (
            f"{target} has changed since it was last recorded ({detail}); showing the latest "
            f"recorded version ({versions[0]['hash'][:24]}…)."
        )
    if not url and os.path.isfile(uri):
        try:
            current: str | None = hash_file(uri)[0]
        except OSError:
            current = None
        for v in versions:
            if v["hash"] == current:
                return v, None
        return versions[0], (
            f"{target} has changed since it was last recorded; showing the latest recorded "
            f"version ({versions[0]['hash'][:19]}…)."
        )
    if not url and not os.path.exists(uri):
        return versions[0], f"{target} no longer exists; showing its latest recorded version."
    return versions[0], None


def trace(
    store: Store,
    target: str,
    *,
    downstream: bool = False,
    depth: int | None = None,
    whole_run: bool = False,
    limit: int | None = lineage.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The lineage of TARGET (see :func:`jupyter_lineage.store.lineage.trace`), with a note
    when the version shown is not the one on disk. ``limit``: at most this many executions
    and artifacts per level (None: everything, which on a shared input can be most of the
    store); the answer says when it left some out."""
    if depth is not None:
        depth = whole_number("--depth", depth)
    if limit is not None:
        limit = whole_number("--limit", limit, 1)
    root, note = find_artifact(store, target)
    graph = lineage.trace(
        store, root, downstream=downstream, depth=depth, whole_run=whole_run, limit=limit
    )
    return {
        "target": graph.pop("target"),
        "direction": graph.pop("direction"),
        "note": note,
        "view": "whole-run" if whole_run else "dataflow",
        **graph,
    }
