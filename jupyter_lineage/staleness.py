"""``jupyter lineage status``: which recorded outputs are stale because an upstream input changed.

Like ``dvc status`` with no pipeline file: the lineage graph already says what each output was
made from. The walk touches only the executions upstream of each output (indexed lookups), so
its cost does not grow with the size of the store.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from .capture.readers.spec import members
from .hashing import TREE_PREFIX, hash_file, stat_key, tree_hash
from .store import Store, artifacts, dataflow, lineage, queries, writes
from .store import details as store_details


class Disk:
    """Current hashes of files, through the store's (path, size, mtime, inode) cache."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.memo: dict[str, str | None] = {}
        self.special: set[str] = set()  # paths that are there, but not as a regular file
        self.details: dict[str, str] = {}  # folders: what changed in them

    def hash(self, path: str) -> str | None:
        """The current hash, or None when the path is gone or is no longer a regular file
        (a FIFO there is never opened: reading it would block)."""
        if path in self.memo:
            return self.memo[path]
        if path.endswith("/"):  # a folder recorded as one dataset: its tree hash
            recorded = artifacts.versions(self.store, path)
            return self.tree(path, recorded[0]["hash"])[0] if recorded else None
        digest: str | None = None
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                self.special.add(path)
                self.memo[path] = None
                return None
            digest = writes.cached_hash(self.store, path, *stat_key(st)) or hash_file(path)[0]
        except OSError:
            digest = None
        self.memo[path] = digest
        return digest

    def tree(self, uri: str, recorded: str) -> tuple[str | None, str]:
        """A folder recorded as one dataset: its current tree hash over the files like those it
        had (same suffixes), and what changed — "2,000 files: 3 added, 1 modified"."""
        if uri in self.memo:
            return self.memo[uri], self.details.get(uri, "")
        before = {
            m["name"]: m["hash"] for m in store_details.folder_members(self.store, uri, recorded)
        }
        if not os.path.isdir(uri):
            self.memo[uri] = None
            return None, "missing"
        suffixes = {os.path.splitext(name)[1] for name in before}
        now: dict[str, tuple[str, int]] = {}
        for path in members(uri):
            name = path[len(uri) :]
            digest = self.hash(path) if os.path.splitext(name)[1] in suffixes else None
            if digest is not None:
                now[name] = (digest, os.path.getsize(path))
        current = tree_hash([(n, d, size) for n, (d, size) in now.items()])
        added = len(now.keys() - before.keys())
        removed = len(before.keys() - now.keys())
        modified = sum(1 for n in now.keys() & before.keys() if now[n][0] != before[n])
        parts = [
            f"{n} {what}"
            for n, what in ((added, "added"), (removed, "removed"), (modified, "modified"))
            if n
        ]
        detail = f"{len(now):,} files" + (": " + ", ".join(parts) if parts else "")
        self.memo[uri] = current
        self.details[uri] = detail
        return current, detail

    def version(self, uri: str, recorded: str) -> tuple[str | None, str]:
        if recorded.startswith(TREE_PREFIX):
            return self.tree(uri, recorded)
        return self.hash(uri), ""


def _upstream_inputs(store: Store, run_id: str, seq: int) -> list[dict[str, Any]]:
    """Every file read upstream of execution (run, seq): this run's earlier cells, then the
    runs that wrote what they read, recursively. Nearest first."""
    found: dict[str, dict[str, Any]] = {}
    covered: dict[str, int] = {}
    # Breadth first, one level of depth at a time, each run once per level at the furthest
    # position asked of it: a run whose 20 cells each wrote what the next stage read is read
    # once, not once per cell (which made `status` grow with the cells of every stage).
    level: dict[str, int] = {run_id: seq}
    depth = 0
    while level:
        following: dict[str, int] = {}
        for run, upto in level.items():
            if covered.get(run, -1) >= upto:
                continue
            covered[run] = upto
            for read in lineage.reads_up_to(store, run, upto):
                if read["artifact"] in found:
                    continue
                found[read["artifact"]] = {
                    "path": read["path"],
                    "recorded_hash": read["hash"],
                    "read_by": run,
                    "depth": depth,
                }
                writer = artifacts.latest_write(store, read["artifact"])
                if writer and following.get(writer["run_id"], -1) < writer["seq"]:
                    following[writer["run_id"]] = writer["seq"]
        level = following
        depth += 1
    return list(found.values())


def changed_inputs(store: Store, run_id: str, seq: int, disk: Disk) -> list[dict[str, Any]]:
    """The files upstream of execution (run, seq) whose content is not what was read then."""
    changed = []
    for item in _upstream_inputs(store, run_id, seq):
        if "://" in item["path"] or not item["recorded_hash"]:
            continue  # a URL, or a file that could not be hashed: no version to compare
        now, what = disk.version(item["path"], item["recorded_hash"])
        if now != item["recorded_hash"]:
            changed.append(
                {
                    "path": item["path"],
                    "detail": what,
                    "recorded_hash": item["recorded_hash"],
                    "current_hash": now,
                    "reason": (
                        "missing" if now is None and item["path"] not in disk.special else "changed"
                    ),
                    "read_by": item["read_by"],
                    "depth": item["depth"],
                }
            )
    return changed


def _shown(path: str) -> str:
    """A path as a command line would name it from here (absolute when far away)."""
    rel = os.path.relpath(path)
    return path if rel.startswith(os.pardir + os.sep + os.pardir) else rel


def refresh_advice(run: dict[str, Any] | None, path: str) -> str | None:
    """The command that makes ``path`` again, for the run that should be re-run: a pipeline
    run is reproduced; an interactive session (or a script) cannot be, so its notebook is run
    as a pipeline, or — when only part of it is needed — the cells that rebuild the file are
    gathered into a notebook of their own."""
    if run is None:
        return None
    rel = _shown(path)
    if run["kind"] in ("papermill", "cached"):
        return f"jupyter lineage reproduce {run.get('name') or run['id'][:13]}"
    notebook = run.get("notebook")
    if notebook and notebook.endswith(".ipynb") and os.path.isfile(notebook):
        return (
            f"jupyter lineage run {_shown(notebook)}   (or only what {os.path.basename(rel)} needs: "
            f"jupyter lineage gather {rel} -o rebuild.ipynb && jupyter lineage run rebuild.ipynb)"
        )
    return f"jupyter lineage gather {rel} -o rebuild.ipynb && jupyter lineage run rebuild.ipynb"


def stale(store: Store, paths: list[str] | None = None) -> list[dict[str, Any]]:
    """For each recorded output (or the given paths): stale or not, and why."""
    if paths:
        uris = [os.path.abspath(os.path.expanduser(p)) for p in paths]
    else:
        uris = artifacts.written_files(store)
    disk = Disk(store)
    report: list[dict[str, Any]] = []
    for uri in uris:
        current = disk.hash(uri)
        out = artifacts.latest_writer(store, uri, current)
        if out is None:
            report.append(
                {
                    "path": uri,
                    "hash": None,
                    "state": "unknown",
                    "stale": False,
                    "changed_inputs": [],
                    "run": None,
                    "refresh_run": None,
                    "refresh": None,
                }
            )
            continue
        current, detail = disk.version(uri, out["hash"])
        if current == out["hash"]:
            state = "ok"
        elif not out["hash"] and current is not None:
            state = "unknown"  # it could not be hashed when written (artifacts.hash_error)
        else:
            gone = current is None and uri not in disk.special
            state = "missing" if gone else "modified"
        changed = changed_inputs(store, out["run"], out["seq"], disk)
        refresh = max(changed, key=lambda c: c["depth"])["read_by"] if changed else None
        advice = None
        if refresh:
            summary = queries.run_summaries(store, [refresh])
            advice = refresh_advice(summary[0] if summary else None, uri)
        if changed and state == "ok":
            state = "stale"
        report.append(
            {
                "path": uri,
                "hash": out["hash"],
                "state": state,
                "detail": detail,
                "stale": bool(changed),
                "changed_inputs": changed,
                "run": out["run"],
                "refresh_run": refresh,
                "refresh": advice,
            }
        )
    return report


def stale_cells(store: Store, notebook: str | None = None) -> list[dict[str, Any]]:
    """Cells whose latest execution depends (through variables, transitively) on an execution
    of a cell that has since been re-run with changed code: what the notebook shows for them
    was computed from code that is no longer there. Read from the store, so it holds across
    kernel restarts."""
    history = dataflow.cell_history(store, notebook)
    by_id = {e["id"]: e for e in history}
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in history:
        by_cell.setdefault((e["notebook"] or "", e["cell_id"]), []).append(e)
    replaced: dict[str, dict[str, Any]] = {}  # execution -> the latest run of its cell
    for runs_of_cell in by_cell.values():
        latest = runs_of_cell[-1]
        for e in runs_of_cell[:-1]:
            if e["source_hash"] != latest["source_hash"]:
                replaced[e["id"]] = latest
    report: list[dict[str, Any]] = []
    if not replaced:
        return report
    # one walk down from the replaced executions finds the candidates; only those are explained
    reached, _ = dataflow.downstream(store, sorted(replaced))
    for (nb, cell_id), runs_of_cell in by_cell.items():
        latest = runs_of_cell[-1]
        if latest["id"] not in reached or latest["id"] in replaced:
            continue
        upstream, _ = dataflow.upstream(store, [latest["id"]], run_id=latest["run_id"])
        because = []
        for up in sorted(upstream & replaced.keys()):
            old = by_id[up]
            because.append(
                {
                    "cell_id": old["cell_id"],
                    "execution": up,
                    "execution_count": old["execution_count"],
                    "rerun_execution_count": replaced[up]["execution_count"],
                }
            )
        if because:
            report.append(
                {
                    "notebook": nb or None,
                    "cell_id": cell_id,
                    "execution": latest["id"],
                    "execution_count": latest["execution_count"],
                    "run": latest["run_id"],
                    "because": because,
                }
            )
    return report
