"""The model catalogue (``models``, ``models show``, ``tag``): every version of every model file
with the run that wrote it, its parameters, metrics, inputs and environment, and whether it is
still what the data says — a model registry without a server, read from the lineage graph.

``PATH`` means the version on disk now (else the newest recorded); ``PATH@HASH`` a version by
a prefix of its content hash; ``PATH@TAG`` the version holding that tag.
"""

from __future__ import annotations

import getpass
import os
import re
from typing import Any

from .errors import ArtifactNotFoundError, UsageError
from .staleness import Disk, changed_inputs
from .store import Store, artifacts, details, lineage, queries
from .store import models as records
from .store.db import now
from .tracing import find_artifact

_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_HEX = re.compile(r"^(blake3:)?[0-9a-f]{4,64}$")


def _check_tag(name: str) -> str:
    if not _TAG.match(name):
        raise UsageError(
            f"'{name}' is not a tag name: use letters, digits, '.', '_' or '-' (at most 64, "
            "starting with a letter or digit), e.g. production."
        )
    return name


def _state(row: dict[str, Any], disk: Disk) -> str:
    """current (the file on disk is this version), replaced (it is another one), missing."""
    if "://" in row["uri"]:
        return "remote"
    digest = disk.hash(row["uri"])
    if digest is None:
        return "missing"
    return "current" if digest == row["hash"] else "replaced"


def _entries(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    run_ids = sorted({r["run_id"] for r in rows})
    runs = {r["id"]: r for r in queries.run_summaries(store, run_ids)}
    metrics, _ = details.metrics(store, run_ids)
    envs = records.environment_ids(store, run_ids)
    env_cache: dict[str | None, dict[str, Any] | None] = {}
    tags = records.tags_of(store, [r["artifact"] for r in rows])
    disk = Disk(store)
    out = []
    for r in rows:
        run = runs[r["run_id"]]
        env_id = envs.get(r["run_id"])
        if env_id not in env_cache:
            env_cache[env_id] = details.environment(store, env_id)
        env = env_cache[env_id] or {}
        changed = changed_inputs(store, r["run_id"], r["seq"], disk)
        inputs = {i["path"]: i["hash"] for i in lineage.reads_up_to(store, r["run_id"], r["seq"])}
        out.append(
            {
                "path": r["uri"],
                "hash": r["hash"],
                "artifact": r["artifact"],
                "size": r["size"],
                "written": r["written"],
                "run": {
                    k: run[k] for k in ("id", "kind", "notebook", "status", "started", "ended")
                },
                "execution": {"id": r["execution"], "seq": r["seq"]},
                "parameters": run["parameters"],
                "metrics": metrics.get(r["run_id"], {}),
                "inputs": [{"path": p, "hash": h} for p, h in sorted(inputs.items())],
                "environment": {
                    "python": env.get("python"),
                    "platform": env.get("platform"),
                    "packages": len(env.get("packages") or {}),
                },
                "tags": [t["name"] for t in tags[r["artifact"]]],
                "state": _state(r, disk),
                "stale": bool(changed),
                "changed_inputs": [c["path"] for c in changed],
            }
        )
    return out


def models(
    store: Store, *, where: list[str] | None = None, tag: str | None = None
) -> list[dict[str, Any]]:
    """Every model version some run wrote, newest first (``where``: conditions on the writing
    run's metrics and parameters, as ``runs --where``; ``tag``: only versions holding it)."""
    rows = records.written_versions(store, tag=_check_tag(tag) if tag else None, where=where or ())
    return _entries(store, rows)


def resolve(store: Store, ref: str) -> dict[str, Any]:
    """The recorded version ``PATH[@HASH|@TAG]`` names (see the module's docstring)."""
    path, sep, which = ref.rpartition("@")
    if not sep or not path or "/" in which:
        path, which = ref, ""
    row, _note = find_artifact(store, path)
    if not which:
        return row
    versions = artifacts.versions(store, row["uri"])
    lowered = which.lower()
    if _HEX.match(lowered):
        digits = lowered.removeprefix("blake3:")
        found = [v for v in versions if v["hash"].removeprefix("blake3:").startswith(digits)]
        if len(found) > 1:
            raise UsageError(f"'{which}' matches several versions of {path}: give more characters.")
        if found:
            return found[0]
    holder = records.tagged(store, row["uri"], which) if _TAG.match(which) else None
    if holder:
        return next(v for v in versions if v["id"] == holder)
    raise ArtifactNotFoundError(
        f"{path} has no recorded version '{which}' (neither a hash prefix nor a tag): "
        f"`jupyter lineage models --where` and `models show {path}` list its versions."
    )


def show(store: Store, ref: str) -> dict[str, Any]:
    """One version in full: everything ``models`` lists, every upstream input, who read it,
    and the other recorded versions of the same path."""
    row = resolve(store, ref)
    found = records.written_versions(store, kind=None, uri=row["uri"])
    mine = [r for r in found if r["artifact"] == row["id"]]
    if not mine:
        raise ArtifactNotFoundError(
            f"{ref} was only read, never written, by a tracked run: it has no maker to show. "
            "`jupyter lineage trace` shows where it was used."
        )
    entry = _entries(store, mine)[0]
    entry["kind"] = row["kind"]
    entry["tag_details"] = records.tags_of(store, [row["id"]])[row["id"]]
    entry["read_by"] = sorted({r["run_id"] for r in artifacts.readers(store, row["id"])})
    entry["versions"] = [
        {
            "hash": r["hash"],
            "written": r["written"],
            "run": r["run_id"],
            "tags": [t["name"] for t in records.tags_of(store, [r["artifact"]])[r["artifact"]]],
        }
        for r in found
    ]
    return entry


def tag(store: Store, ref: str, name: str, *, remove: bool = False) -> dict[str, Any]:
    """Name a version (``production``); the tag leaves the path's other version that held it.
    ``remove`` takes the tag off."""
    _check_tag(name)
    row = resolve(store, ref)
    before = records.tagged(store, row["uri"], name)
    if remove:
        if before != row["id"]:
            raise ArtifactNotFoundError(f"{ref} does not hold the tag '{name}'.")
        records.remove_tag(store, row["uri"], name)
    else:
        if not records.written_versions(store, kind=None, uri=row["uri"]):
            raise UsageError(f"{ref} was never written by a tracked run: only outputs are tagged.")
        user = os.environ.get("USER") or _user()
        records.set_tag(store, row["uri"], name, row["id"], now(), user)
    return {
        "path": row["uri"],
        "hash": row["hash"],
        "tag": name,
        "removed": remove,
        "moved_from": _hash_of(store, before) if before not in (None, row["id"]) else None,
    }


def _hash_of(store: Store, artifact_id: str | None) -> str | None:
    row = artifacts.artifact(store, artifact_id) if artifact_id else None
    return row["hash"] if row else None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
