"""What an export holds: chosen runs with their executions, and the artifacts they touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ids import artifact_id
from ..store import Store, queries


@dataclass
class Bundle:
    runs: list[dict[str, Any]] = field(default_factory=list)

    def artifacts(self) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for run in self.runs:
            for f in run["files_read"] + run["files_written"]:
                found.setdefault((f["path"], f["hash"]), f)
        return found


def collect(store: Store, runs: list[str] | None = None) -> Bundle:
    """``runs`` are references (ids, prefixes, @last~N); None means every run in the store."""
    ids = queries.run_ids(store) if runs is None else [queries.resolve_run(store, r) for r in runs]
    return Bundle(runs=[queries.show_run(store, i) for i in ids])


def node_id(prefix: str, value: str) -> str:
    return f"{prefix}{value.replace('-', '')[:32]}"


def artifact_key(f: dict[str, Any]) -> str:
    return artifact_id(f["path"], f["hash"])
