"""What an export holds: chosen runs with their executions, and the artifacts they touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ids import artifact_id
from ..redaction import redact
from ..store import Store, queries
from ..store.models import tags_of
from ..urls import clean_remote, clean_url, scrub_text


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
    shown = [queries.show_run(store, i) for i in ids]
    _add_tags(store, shown)
    return Bundle(runs=[_sanitized(run) for run in shown])


def _add_tags(store: Store, runs: list[dict[str, Any]]) -> None:
    """Each written file's tags (``production``) as ``tags``: names, when, by whom."""
    written = [f for run in runs for f in run["files_written"]]
    tags = tags_of(store, sorted({artifact_key(f) for f in written}))
    for f in written:
        f["tags"] = tags[artifact_key(f)]


def _file(f: dict[str, Any]) -> dict[str, Any]:
    return {**f, "path": clean_url(f["path"])} if "://" in (f.get("path") or "") else f


def _error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if not error or not error.get("value"):
        return error
    return {**error, "value": redact(str(error["value"]))}


def _sanitized(run: dict[str, Any]) -> dict[str, Any]:
    """What leaves the machine (``emit`` sends it to a backend) carries no credential, even
    from a store written before the secret rules were what they are now."""
    out = {**run, "error": _error(run.get("error"))}
    out["files_read"] = [_file(f) for f in run["files_read"]]
    out["files_written"] = [_file(f) for f in run["files_written"]]
    out["executions"] = [
        {
            **e,
            "source": scrub_text(e["source"]),
            "error": _error(e.get("error")),
            "reads": [_file(f) for f in e["reads"]],
            "writes": [_file(f) for f in e["writes"]],
        }
        for e in run["executions"]
    ]
    if run.get("git") and run["git"].get("remote"):
        out["git"] = {**run["git"], "remote": clean_remote(run["git"]["remote"])}
    return out


def node_id(prefix: str, value: str) -> str:
    return f"{prefix}{value.replace('-', '')[:32]}"


def artifact_key(f: dict[str, Any]) -> str:
    return artifact_id(f["path"], f["hash"])
