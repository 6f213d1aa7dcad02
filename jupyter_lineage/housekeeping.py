"""``jupyter lineage gc``: a store that stays small.

Only interactive runs are ever removed (a pipeline run is the reproducible record), and of
those only the ones past ``--keep-last`` per notebook and/or older than ``--older-than``. A run
stays, whatever its age, when it wrote a tagged version or an output that is on disk now, or
when anything that stays read what it wrote (its upstream, followed to the end): every run left
keeps its whole lineage, so ``trace`` of anything kept is as complete after gc as before.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import UsageError
from .staleness import Disk
from .store import Store, prune

REMOVABLE_KINDS = ("interactive",)


def _needed(store: Store, keep: set[str]) -> set[str]:
    """``keep`` and every run upstream of it."""
    needed = set(keep)
    frontier = sorted(keep)
    while frontier:
        found = prune.upstream_runs(store, frontier) - needed
        needed |= found
        frontier = sorted(found)
    return needed


def _current_writers(store: Store) -> set[str]:
    """Runs that wrote a file version that is on disk now."""
    disk = Disk(store)
    return {
        run
        for version in prune.local_writes(store)
        if disk.hash(version["uri"]) == version["hash"]
        for run in version["runs"]
    }


def plan(
    store: Store,
    *,
    keep_last: int | None = None,
    older_than: float | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Which runs gc would remove, and why the other candidates stay."""
    if keep_last is None and older_than is None:
        raise UsageError(
            "Say which runs may go: --keep-last N (per notebook) and/or --older-than DAYS; "
            "--dry-run shows what would be removed."
        )
    if keep_last is not None and keep_last < 0:
        raise UsageError("--keep-last takes a whole number ≥ 0.")
    if older_than is not None and older_than < 0:
        raise UsageError("--older-than takes a number of days ≥ 0.")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=older_than or 0)
    seen: dict[str | None, int] = defaultdict(int)
    candidates: list[dict[str, Any]] = []
    for run in prune.runs_of_kind(store, REMOVABLE_KINDS):
        seen[run["notebook"]] += 1
        if run["status"] == "running":
            continue
        if keep_last is not None and seen[run["notebook"]] <= keep_last:
            continue
        if older_than is not None and datetime.fromisoformat(run["started"]) > cutoff:
            continue
        candidates.append(run)
    ids = {c["id"] for c in candidates}
    tagged = prune.tagged_writers(store)
    current = _current_writers(store)
    needed = _needed(store, (set(prune.all_run_ids(store)) - ids) | tagged | current)
    removed = [c for c in candidates if c["id"] not in needed]
    kept = [
        {
            **c,
            "why": "tagged output"
            if c["id"] in tagged
            else "current output"
            if c["id"] in current
            else "upstream of a kept run",
        }
        for c in candidates
        if c["id"] in needed
    ]
    return {"removed": removed, "kept": kept}


def gc(
    store: Store,
    *,
    keep_last: int | None = None,
    older_than: float | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Remove the runs :func:`plan` picks with every row only they used, then vacuum."""
    before = prune.size_on_disk(store)
    found = plan(store, keep_last=keep_last, older_than=older_than, now=now)
    rows: dict[str, int] = {}
    if not dry_run and found["removed"]:
        rows = prune.delete_runs(store, [r["id"] for r in found["removed"]])
        prune.vacuum(store)
    return {
        "dry_run": dry_run,
        "removed": found["removed"],
        "kept": found["kept"],
        "rows": rows,
        "bytes_before": before,
        "bytes_after": prune.size_on_disk(store),
    }
