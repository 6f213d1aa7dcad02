"""DOT (Graphviz) and Mermaid drawings of the lineage: artifacts and runs, data flowing right."""

from __future__ import annotations

import os
from typing import Any

from .bundle import Bundle, artifact_key

DOT_SHAPES = {"dataset": "cylinder", "model": "box3d", "figure": "note", "notebook": "tab"}


def _name(path: str) -> str:
    return path if "://" in path else os.path.basename(path) or path


def _run_label(run: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in list(run["parameters"].items())[:4])
    lines = [_name(run["notebook"] or run["kind"]), f"run {run['id'][:13]} ({run['status']})"]
    return "\n".join([*lines, params] if params else lines)


def _edges(bundle: Bundle) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    reads, writes = [], []
    for run in bundle.runs:
        for f in run["files_read"]:
            reads.append((artifact_key(f), run["id"]))
        for f in run["files_written"]:
            writes.append((run["id"], artifact_key(f)))
    return sorted(set(reads)), sorted(set(writes))


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_dot(bundle: Bundle) -> str:
    out = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for f in bundle.artifacts().values():
        shape = DOT_SHAPES.get(f["kind"], "box")
        label = _dot_text(f"{_name(f['path'])}\n{f['kind']} {(f['hash'] or '')[7:19]}")
        out.append(
            f'  "a{artifact_key(f)}" [label="{label}", shape={shape}, '
            f'tooltip="{_dot_text(f["path"])}"];'
        )
    for run in bundle.runs:
        color = {"succeeded": "palegreen", "failed": "lightpink"}.get(run["status"], "khaki")
        out.append(
            f'  "r{run["id"]}" [label="{_dot_text(_run_label(run))}", shape=ellipse, '
            f"style=filled, fillcolor={color}];"
        )
    reads, writes = _edges(bundle)
    out += [f'  "a{a}" -> "r{r}" [label="read"];' for a, r in reads]
    out += [f'  "r{r}" -> "a{a}" [label="wrote"];' for r, a in writes]
    out += [
        f'  "r{run["parent_id"]}" -> "r{run["id"]}" [style=dashed, label="parent"];'
        for run in bundle.runs
        if run["parent_id"] and any(r["id"] == run["parent_id"] for r in bundle.runs)
    ]
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", "<br/>")
    )


MERMAID_SHAPES = {
    "dataset": ('[("', '")]'),
    "model": ('[["', '"]]'),
    "figure": ('[/"', '"/]'),
    "notebook": ('["', '"]'),
}


def render_mermaid(bundle: Bundle) -> str:
    out = ["flowchart LR"]
    for f in bundle.artifacts().values():
        left, right = MERMAID_SHAPES.get(f["kind"], ('["', '"]'))
        out.append(f"  a{artifact_key(f)}{left}{_mermaid_text(_name(f['path']))}{right}")
    for run in bundle.runs:
        out.append(f'  r{run["id"].replace("-", "")}(["{_mermaid_text(_run_label(run))}"])')
    reads, writes = _edges(bundle)
    out += [f"  a{a} -->|read| r{r.replace('-', '')}" for a, r in reads]
    out += [f"  r{r.replace('-', '')} -->|wrote| a{a}" for r, a in writes]
    return "\n".join(out) + "\n"
