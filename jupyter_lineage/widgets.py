"""Inline views: ``%track graph [PATH]`` and ``%track diff A B``.

Each is displayed as one bundle holding the live ipywidgets view and a static HTML rendering, so
JupyterLab shows the widget and papermill output or GitHub still show the HTML. Every piece of
user text (code, paths, errors) is escaped: rendered as text, never as markup.
"""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from typing import Any

from IPython.display import display

from . import api
from .capture import registry
from .diff import SECTIONS, is_empty
from .errors import LineageError

COLORS = {
    "dataset": "#4c78a8",
    "model": "#e45756",
    "figure": "#54a24b",
    "notebook": "#b279a2",
    "other": "#9d9d9d",
    "execution": "#f2cf5b",
}


def _label(node: dict[str, Any]) -> str:
    if node["type"] == "artifact":
        path = node["path"]
        return path if "://" in path else os.path.basename(path)
    first = next((ln for ln in node["source"].splitlines() if ln.strip()), "")
    count = node.get("execution_count")
    return f"[{count if count is not None else node.get('seq', '')}] {first[:40]}"


def run_graph(run: dict[str, Any]) -> dict[str, Any]:
    """One run as a graph: what it read -> its cells (linked by the variables one used from
    another) -> what they wrote."""
    nodes: dict[str, dict[str, Any]] = {}
    edges = []
    for e in run["executions"]:
        nodes[e["id"]] = {**e, "type": "execution"}
        for dep in e.get("depends_on", []):
            if dep["names"] != ["*"]:
                edges.append({"source": dep["execution"], "target": e["id"], "type": "flow", **dep})
        for f in e["reads"]:
            key = f"{f['path']}@{f['hash']}"
            nodes.setdefault(key, {"id": key, "type": "artifact", **f})
            edges.append({"source": key, "target": e["id"], "type": "read"})
        for f in e["writes"]:
            key = f"{f['path']}@{f['hash']}"
            nodes.setdefault(key, {"id": key, "type": "artifact", **f})
            edges.append({"source": e["id"], "target": key, "type": "wrote"})
    touching = {x for e in edges for x in (e["source"], e["target"])}
    return {
        "nodes": [n for n in nodes.values() if n["id"] in touching],
        "edges": [e for e in edges if e["source"] in nodes],
    }


def layers(graph: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Columns by longest path from a source (data flows left to right)."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    parents: dict[str, list[str]] = defaultdict(list)
    for e in graph["edges"]:
        if e["type"] in ("read", "wrote", "flow"):
            parents[e["target"]].append(e["source"])
    depth: dict[str, int] = {}

    def level(node_id: str, trail: frozenset[str] = frozenset()) -> int:
        if node_id not in depth:
            ps = [p for p in parents[node_id] if p in nodes and p not in trail]
            depth[node_id] = 1 + max((level(p, trail | {node_id}) for p in ps), default=-1)
        return depth[node_id]

    columns: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for node_id in nodes:
        columns[level(node_id)].append(nodes[node_id])
    return [columns[i] for i in sorted(columns)]


def graph_svg(graph: dict[str, Any], width: int = 190, height: int = 34) -> str:
    cols = layers(graph)
    pos = {}
    for x, col in enumerate(cols):
        for y, node in enumerate(col):
            pos[node["id"]] = (20 + x * (width + 60), 20 + y * (height + 16))
    w = 40 + len(cols) * (width + 60)
    h = 40 + max((len(c) for c in cols), default=1) * (height + 16)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'style="font:11px sans-serif">'
    ]
    for e in graph["edges"]:
        if e["source"] in pos and e["target"] in pos and e["type"] != "next":
            (x1, y1), (x2, y2) = pos[e["source"]], pos[e["target"]]
            parts.append(
                f'<line x1="{x1 + width}" y1="{y1 + height / 2}" x2="{x2}" '
                f'y2="{y2 + height / 2}" stroke="#888" marker-end="url(#arrow)"/>'
            )
            if e["type"] == "flow" and e.get("names"):  # the variables that link two cells
                parts.append(
                    f'<text class="flow" x="{(x1 + width + x2) / 2}" '
                    f'y="{(y1 + y2) / 2 + height / 2 - 4}" text-anchor="middle" fill="#555">'
                    f"{html.escape(', '.join(e['names'])[:30])}</text>"
                )
    parts.append(
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker></defs>'
    )
    for node in graph["nodes"]:
        x, y = pos[node["id"]]
        kind = node.get("kind", "execution") if node["type"] == "artifact" else "execution"
        title = html.escape(node.get("path") or node.get("source", ""))
        parts.append(
            f'<g><title>{title}</title><rect x="{x}" y="{y}" width="{width}" '
            f'height="{height}" rx="6" fill="{COLORS.get(kind, "#ccc")}" '
            'fill-opacity="0.25" stroke="#666"/>'
            f'<text x="{x + 8}" y="{y + 21}">{html.escape(_label(node)[:34])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _details(node: dict[str, Any]) -> str:
    if node["type"] == "artifact":
        rows = [
            ("path", node["path"]),
            ("kind", node.get("kind")),
            ("hash", node.get("hash")),
            ("size", node.get("size")),
        ]
    else:
        err = node.get("error")
        names = node.get("dataflow") or {}
        rows = [
            ("cell", node.get("cell_id")),
            ("execution", node.get("execution_count")),
            ("defines", ", ".join(names.get("defines", [])) or "-"),
            ("uses", ", ".join(names.get("uses", [])) or "-"),
            ("took", f"{node.get('duration_ms') or 0:.0f} ms"),
            ("error", f"{err['name']}: {err['value']}" if err else "none"),
        ]
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    code = "" if node["type"] == "artifact" else f"<pre>{html.escape(node.get('source', ''))}</pre>"
    return f"<table>{body}</table>{code}"


def _bundle(widget: Any, static_html: str, text: str) -> dict[str, Any]:
    bundle = {"text/html": static_html, "text/plain": text}
    try:
        bundle.update(widget._repr_mimebundle_() or {})
    except Exception:
        pass
    bundle["text/html"], bundle["text/plain"] = static_html, text
    return bundle


def graph_widget(graph: dict[str, Any], title: str) -> tuple[Any, str]:
    import ipywidgets as w  # loaded on first use: a heavy import most sessions never need

    svg = graph_svg(graph)
    details = w.HTML("<i>Click a node for its details.</i>")
    columns = []
    for col in layers(graph):
        buttons = []
        for node in col:
            b = w.Button(
                description=_label(node)[:30],
                tooltip=node.get("path") or "",
                layout=w.Layout(width="200px"),
            )
            b.on_click(lambda _b, n=node: setattr(details, "value", _details(n)))
            buttons.append(b)
        columns.append(w.VBox(buttons))
    header = f"<b>{html.escape(title)}</b>"
    widget = w.VBox([w.HTML(header), w.HTML(svg), w.HBox(columns), details])
    return widget, f"{header}<div>{svg}</div>"


def diff_html(d: dict[str, Any]) -> str:
    head = f"<b>a</b> {html.escape(d['a']['id'])} &nbsp; <b>b</b> {html.escape(d['b']['id'])}"
    if is_empty(d):
        return head + "<p>no differences</p>"
    parts = [head]
    for section in SECTIONS:
        value = d[section]
        if not value:
            continue
        if section == "code":
            body = "".join(f"<pre>{html.escape(c['diff'])}</pre>" for c in value)
        else:
            body = f"<pre>{html.escape(json.dumps(value, indent=2, default=str))}</pre>"
        parts.append(f"<details open><summary><b>{section}</b></summary>{body}</details>")
    return "".join(parts)


def diff_widget(d: dict[str, Any]) -> tuple[Any, str]:
    import ipywidgets as w  # loaded on first use: a heavy import most sessions never need

    static = diff_html(d)
    sections = [s for s in SECTIONS if d[s]]
    if not sections:
        return w.HTML(static), static
    children = []
    for s in sections:
        if s == "code":
            text = "".join(f"<pre>{html.escape(c['diff'])}</pre>" for c in d[s])
        else:
            text = f"<pre>{html.escape(json.dumps(d[s], indent=2, default=str))}</pre>"
        children.append(w.HTML(text))
    accordion = w.Accordion(children=children, titles=tuple(sections))
    return w.VBox([w.HTML(static.split("<details", 1)[0]), accordion]), static


def graph_command(args: list[str]) -> None:
    """``%track graph [PATH]``."""
    if len(args) > 1:
        raise LineageError("Usage: %track graph [PATH]")
    tracker = registry.current()
    db = str(tracker.db_path) if tracker else None
    if args:
        graph = api.trace(args[0], db=db)
        title = f"lineage of {args[0]}"
    else:
        if tracker is None:
            raise LineageError("Tracking is off: run %load_ext jupyter_lineage first.")
        tracker.flush()
        graph = run_graph(api.show(tracker.run_id, db=db))
        title = f"run {tracker.run_id}"
    if not graph["nodes"]:
        raise LineageError("Nothing to draw yet: no cell of this run has read or written a file.")
    widget, static = graph_widget(graph, title)
    text = f"{title}: {len(graph['nodes'])} nodes, {len(graph['edges'])} edges"
    display(_bundle(widget, static, text), raw=True)


def diff_command(args: list[str]) -> None:
    """``%track diff RUN_A RUN_B``."""
    if len(args) != 2:
        raise LineageError("Usage: %track diff RUN_A RUN_B  (ids, prefixes or @last~N)")
    tracker = registry.current()
    if tracker:
        tracker.flush()
    d = api.diff(args[0], args[1], db=str(tracker.db_path) if tracker else None)
    widget, static = diff_widget(d)
    text = "no differences" if is_empty(d) else ", ".join(s for s in SECTIONS if d[s])
    display(_bundle(widget, static, f"diff: {text}"), raw=True)
