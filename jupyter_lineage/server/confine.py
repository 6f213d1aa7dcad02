"""What a server may serve: its root, by real path (symlinks followed), and nothing beyond it.

- ``notebook=`` and ``db=`` are paths relative to the root that must *resolve* inside it.
- The store is ``db=``, else the one the server was configured with (``lineage_db`` setting or
  ``$JUPYTER_LINEAGE_DB``: the operator's explicit choice, served wherever it is), else the
  notebook's own ``.lineage/lineage.db`` — which must resolve inside the root too. A server
  started in a repository's subfolder therefore does not serve the repository root's store
  unless it is configured to.
- Runs are served only when their notebook resolves inside the root, whichever store holds
  them; the files those runs read and wrote are shown wherever they are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import OutsideRootError, RunNotFoundError, UsageError
from ..inputs import check_path
from ..store import locate


class Scope:
    def __init__(self, root: str, configured_db: str | None = None) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.real = os.path.realpath(self.root)
        self.configured_db = configured_db or None

    def inside(self, path: str | os.PathLike[str] | None) -> bool:
        """Whether ``path``, resolved, is the root or under it."""
        if not path:
            return False
        real = os.path.realpath(path)
        return real == self.real or real.startswith(self.real.rstrip(os.sep) + os.sep)

    def request_path(self, name: str, raw: str | None) -> str | None:
        """A path from the request (relative to the root) as an absolute path inside it."""
        if raw is None or raw == "":
            return None
        check_path(name, raw)
        if os.path.isabs(raw) or raw.startswith("~"):
            raise UsageError(f"{name} must be a path relative to the server root.")
        full = os.path.normpath(os.path.join(self.root, raw))
        if not self.inside(full):
            raise OutsideRootError(f"{name} must be inside the server root.")
        return full

    def store_path(self, notebook: str | None, db: str | None) -> Path:
        if db:
            return Path(db)
        if self.configured_db:
            return Path(self.configured_db).expanduser().absolute()
        path = locate(start=notebook or self.root)
        if not self.inside(path):
            raise OutsideRootError(
                "This notebook's lineage store (.lineage/ at its git root) is outside the server "
                "root, so it is not served. Start the server at the repository root, or set "
                "$JUPYTER_LINEAGE_DB (or the lineage_db server setting) to that store to serve "
                "it explicitly."
            )
        return path

    def prefixes(self) -> list[str]:
        """Where a notebook under the root may be recorded: the root as given and as resolved."""
        return sorted({p.rstrip(os.sep) + os.sep for p in (self.root, self.real)})

    def check_run(self, run: dict[str, Any], ref: str) -> dict[str, Any]:
        if not self.inside(run.get("notebook")):
            raise RunNotFoundError(
                f"No run matches '{ref}' under this server's root. "
                "`jupyter lineage runs` lists every run of the store.",
                ref,
            )
        return run

    def graph(self, data: dict[str, Any], *, keep: str | None = None) -> dict[str, Any]:
        """The graph without the runs of notebooks outside the root (and their cells), and
        without the files only those runs touched (``keep``: the artifact asked for)."""
        hidden = {
            n["id"]
            for n in data["nodes"]
            if n["type"] == "run" and not self.inside(n.get("notebook"))
        }
        if not hidden:
            return data
        nodes = [
            n
            for n in data["nodes"]
            if n["id"] not in hidden and not (n["type"] == "execution" and n["run_id"] in hidden)
        ]
        kept = {n["id"] for n in nodes}
        edges = [e for e in data["edges"] if e["source"] in kept and e["target"] in kept]
        linked = {e["source"] for e in edges} | {e["target"] for e in edges}
        nodes = [
            n for n in nodes if n["type"] != "artifact" or n["id"] in linked or n["id"] == keep
        ]
        return {**data, "nodes": nodes, "edges": edges}

    def pipeline(self, data: dict[str, Any]) -> dict[str, Any]:
        """The pipeline without the stages of notebooks outside the root."""
        stages = [s for s in data["stages"] if self.inside(s["path"])]
        kept = {s["path"] for s in stages}
        return {
            **data,
            "stages": stages,
            "edges": [e for e in data["edges"] if e["source"] in kept and e["target"] in kept],
            "stale": [p for p in data["stale"] if p in kept],
            "ignored": [i for i in data["ignored"] if self.inside(i["path"])],
        }
