"""The pipeline no one wrote down: notebooks (and tracked scripts) as stages, the files one
wrote and another read as edges, all inferred from each notebook's latest successful run.

A file written by two stages, or stages that feed each other, is no pipeline: both are errors
that name the notebooks involved.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import PipelineError, UsageError
from ..hashing import hash_bytes
from ..inputs import check_path
from ..store import Store, details, lineage, stages


@dataclass
class Stage:
    """One notebook or script and the run that stands for it."""

    path: str  # absolute
    kind: str  # "notebook" | "script"
    run: dict[str, Any]
    parameters: dict[str, Any]
    deps: dict[str, str] = field(default_factory=dict)  # path -> hash read
    outs: dict[str, str] = field(default_factory=dict)  # path -> hash of the last write
    upstream: set[str] = field(default_factory=set)  # stage paths
    downstream: set[str] = field(default_factory=set)

    @property
    def run_kind(self) -> str:
        return str(self.run["kind"])


@dataclass
class Pipeline:
    stages: dict[str, Stage]  # by path
    order: list[str]  # topological, ties by path
    root: str
    ignored: list[dict[str, str]] = field(default_factory=list)

    def name(self, path: str) -> str:
        """A path as shown: relative to the pipeline's root when under it."""
        if path.startswith(self.root.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, self.root)
        return path

    def writer_of(self, path: str) -> Stage | None:
        return next((s for s in self.stages.values() if path in s.outs), None)

    def upstream_closure(self, paths: set[str]) -> set[str]:
        seen = set(paths)
        todo = list(paths)
        while todo:
            for up in self.stages[todo.pop()].upstream:
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        return seen

    def downstream_closure(self, paths: set[str]) -> set[str]:
        seen = set(paths)
        todo = list(paths)
        while todo:
            for down in self.stages[todo.pop()].downstream:
                if down not in seen:
                    seen.add(down)
                    todo.append(down)
        return seen


def code_of_notebook(text: str) -> str | None:
    """The hash of a notebook's code cells (their sources, in order): what changes what it
    computes. Outputs, metadata and markdown do not count; None when it is no notebook."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            sources.append("".join(src) if isinstance(src, list) else str(src))
    return hash_bytes(json.dumps(sources).encode("utf-8", "surrogatepass"))


def code_of_script(text: str) -> str:
    return hash_bytes(text.encode("utf-8", "surrogatepass"))


def current_code(stage: Stage) -> str | None:
    """The code of the stage's file on disk now (None when it cannot be read)."""
    try:
        with open(stage.path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    return code_of_script(text) if stage.kind == "script" else code_of_notebook(text)


def recorded_code(store: Store, run: dict[str, Any], kind: str) -> str | None:
    """The code the run executed: its notebook snapshot (pipeline runs) or the script's
    source; None for an interactive session, which keeps no snapshot of its notebook."""
    if kind == "script":
        cells = lineage.cells(store, run["id"])
        return code_of_script(cells[0]["source"] or "") if cells else None
    snapshot = details.blob(store, run.get("notebook_hash"))
    return code_of_notebook(snapshot) if snapshot else None


def _kind_of(path: str, run_kind: str) -> str:
    return "script" if run_kind == "script" or not path.endswith(".ipynb") else "notebook"


def _file_maps(rows: list[dict[str, Any]], store_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    """What one run read (first version of each path it did not write itself) and wrote
    (last version). Leaves out URLs, the store's own folder and the executed notebook."""
    reads: dict[str, str] = {}
    writes: dict[str, str] = {}
    for r in rows:
        uri = r["uri"]
        if "://" in uri or uri.startswith(store_dir + os.sep):
            continue
        if r["role"] == "write":
            if r["run_level"] and r["kind"] == "notebook":
                continue  # papermill's executed notebook: a record, not a product
            writes[uri] = r["hash"]
        elif uri not in writes:
            reads.setdefault(uri, r["hash"])
    for uri in writes:
        reads.pop(uri, None)  # read back what it wrote itself: not an input
    return reads, writes


def infer(store: Store) -> Pipeline:
    """Every stage of the store, with its edges, checked for double writers and cycles."""
    store_dir = str(store.path.parent)
    found: dict[str, Stage] = {}
    ignored: list[dict[str, str]] = []
    for run in stages.latest_successful(store):
        path = run["notebook"]
        if not os.path.isfile(path):
            ignored.append({"path": path, "reason": "the file no longer exists"})
            continue
        found[path] = Stage(
            path=path,
            kind=_kind_of(path, run["kind"]),
            run=run,
            parameters=details.params(store, [run["id"]])[run["id"]],
        )
    by_run = {s.run["id"]: s for s in found.values()}
    rows_by_run: dict[str, list[dict[str, Any]]] = {}
    for row in stages.file_versions(store, list(by_run)):
        rows_by_run.setdefault(row["run_id"], []).append(row)
    for run_id, stage in by_run.items():
        stage.deps, stage.outs = _file_maps(rows_by_run.get(run_id, []), store_dir)
        stage.deps.pop(stage.path, None)
    writer: dict[str, str] = {}
    for stage in sorted(found.values(), key=lambda s: s.path):
        for out in stage.outs:
            other = writer.setdefault(out, stage.path)
            if other != stage.path:
                raise PipelineError(
                    f"{out} is written by both {other} and {stage.path} (their latest "
                    "successful runs): a pipeline needs one writer per file. Make one of them "
                    "write another path and run it again."
                )
    for stage in found.values():
        for dep in stage.deps:
            up = writer.get(dep)
            if up and up != stage.path:
                stage.upstream.add(up)
                found[up].downstream.add(stage.path)
    order = _order(found)
    folders = [os.path.dirname(p) for p in found] or [os.getcwd()]
    root = os.path.commonpath(folders)
    files = [f for s in found.values() for f in (*s.deps, *s.outs)]
    wider = os.path.commonpath([*folders, *files]) if files else root
    if wider != os.path.dirname(wider):  # never the filesystem's root
        root = wider
    return Pipeline(stages=found, order=order, root=root, ignored=ignored)


def _order(found: dict[str, Stage]) -> list[str]:
    """Topological order (ties by path); a cycle is an error naming its stages and files."""
    waiting = {p: len(s.upstream) for p, s in found.items()}
    ready = sorted(p for p, n in waiting.items() if n == 0)
    order: list[str] = []
    while ready:
        path = ready.pop(0)
        order.append(path)
        for down in sorted(found[path].downstream):
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
                ready.sort()
    if len(order) < len(found):
        raise PipelineError(_cycle_message(found, {p for p in found if p not in order}))
    return order


def _cycle_message(found: dict[str, Stage], left: set[str]) -> str:
    start = min(left)
    path = [start]
    while True:
        nxt = min(u for u in found[path[-1]].upstream if u in left)
        if nxt in path:
            cycle = [*path[path.index(nxt) :], nxt]
            break
        path.append(nxt)
    cycle.reverse()  # writer first: a -> b means b reads what a wrote
    links = []
    for a, b in itertools.pairwise(cycle):
        files = sorted(set(found[a].outs) & set(found[b].deps))
        links.append(f"{a} writes {', '.join(files)} read by {b}")
    return (
        "These notebooks feed each other, so there is no order to run them in: "
        + " -> ".join(cycle)
        + " ("
        + "; ".join(links)
        + "). Make one of them stop reading what the other writes, then run it again."
    )


def select(pipeline: Pipeline, targets: list[str]) -> set[str]:
    """The stages the targets need: each target (a notebook, a file one wrote, or a folder of
    notebooks) and everything upstream of it. No targets: every stage."""
    if not targets:
        return set(pipeline.stages)
    chosen: set[str] = set()
    for target in targets:
        path = os.path.abspath(os.path.expanduser(check_path("TARGET", target)))
        if path in pipeline.stages:
            chosen.add(path)
            continue
        writer = pipeline.writer_of(path)
        if writer is not None:
            chosen.add(writer.path)
            continue
        inside = {p for p in pipeline.stages if p.startswith(path.rstrip(os.sep) + os.sep)}
        if os.path.isdir(path) and inside:
            chosen |= inside
            continue
        raise UsageError(
            f"{target} is neither a notebook with a successful run, nor a file one wrote, nor a "
            "folder holding such notebooks. `jupyter lineage dag` lists the stages."
        )
    return pipeline.upstream_closure(chosen)
