"""The dataflow trace as a tree: each hop says what links it (``uses df, model ← cell [4]``)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.tree import Tree

from .base import short_path


def _names(edge: dict[str, Any]) -> str:
    names = edge.get("names") or []
    if names == ["*"]:
        return "everything before it (exec/eval/globals())"
    return ", ".join(names)


def flow_tree(data: dict[str, Any]) -> Tree:
    nodes = {n["id"]: n for n in data["nodes"]}
    runs = {r["id"]: r for r in data["runs"]}
    downstream = data["direction"] == "downstream"
    into: dict[str, list[dict[str, Any]]] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for e in data["edges"]:
        into.setdefault(e["target"], []).append(e)
        out.setdefault(e["source"], []).append(e)

    def art_label(node: dict[str, Any]) -> str:
        digest = (node["hash"] or "no hash").removeprefix("blake3:")[:12]
        return f"[bold cyan]{escape(short_path(node['path']))}[/] [dim]{node['kind']} {digest}[/]"

    def cell(node: dict[str, Any]) -> str:
        count = node["execution_count"] if node["execution_count"] is not None else node["seq"]
        return f"cell [{count}]"

    def exec_label(node: dict[str, Any], with_run: bool = False) -> str:
        lines = [ln.strip() for ln in node["source"].splitlines() if ln.strip()]
        # the first line of code, not a comment (a parameters cell starts with one)
        first = next((ln for ln in lines if not ln.startswith("#")), lines[0] if lines else "")
        err = " [red](raised)[/]" if node["error"] else ""
        where = ""
        if with_run:
            run = runs.get(node["run_id"], {})
            where = (
                f" of {escape(short_path(run.get('notebook')))} [dim]run {node['run_id'][:13]}[/]"
            )
        return f"{cell(node)}{where}{err}: [italic]{escape(first[:60])}[/]"

    shown: set[str] = set()

    def grow_exec(tree: Tree, exec_id: str) -> None:
        if exec_id in shown:
            further = out if downstream else into
            if any(e["type"] != "contains" for e in further.get(exec_id, [])):
                tree.add("[dim](shown above)[/]")
            return
        shown.add(exec_id)
        if downstream:
            for e in out.get(exec_id, []):
                if e["type"] in ("flow", "next"):
                    node = nodes[e["target"]]
                    link = "after it in the run" if e["type"] == "next" else f"uses {_names(e)}"
                    branch = tree.add(f"→ {exec_label(node)} [green]{escape(link)}[/]")
                    grow_exec(branch, e["target"])
                elif e["type"] == "wrote":
                    grow_art(tree.add(f"→ wrote {art_label(nodes[e['target']])}"), e["target"])
            return
        for e in into.get(exec_id, []):
            if e["type"] in ("flow", "next"):
                node = nodes[e["source"]]
                if e["type"] == "next":
                    branch = tree.add(f"after {exec_label(node)} [dim](whole run: no dataflow)[/]")
                else:
                    branch = tree.add(f"[green]uses {escape(_names(e))}[/] ← {exec_label(node)}")
                grow_exec(branch, e["source"])
            elif e["type"] == "read":
                grow_art(tree.add(f"read {art_label(nodes[e['source']])}"), e["source"])

    seen_arts: set[str] = set()

    def grow_art(tree: Tree, art_id: str) -> None:
        if art_id in seen_arts:
            tree.add("[dim](shown above)[/]")
            return
        seen_arts.add(art_id)
        if downstream:
            for e in out.get(art_id, []):
                if e["type"] == "read":
                    branch = tree.add(f"read by {exec_label(nodes[e['target']], True)}")
                    grow_exec(branch, e["target"])
            return
        writers = [e for e in into.get(art_id, []) if e["type"] == "wrote"]
        if not writers:
            tree.add("[dim]no recorded run wrote this version (an original input)[/]")
            return
        wid = writers[0]["source"]
        grow_exec(tree.add(f"written by {exec_label(nodes[wid], True)}"), wid)

    root = Tree(art_label(data["target"]))
    grow_art(root, data["target"]["id"])
    return root


def dataflow_lines(executions: list[dict[str, Any]]) -> list[str]:
    """One line per execution of ``show``: what it defined, updated, used, and depended on."""
    label = {
        e["id"]: f"[{e['execution_count'] if e['execution_count'] is not None else e['seq']}]"
        for e in executions
    }
    lines = []
    for e in executions:
        names = e.get("dataflow")
        if names is None:
            continue
        parts = [
            f"{verb} {', '.join(names[key])}"
            for key, verb in (
                ("defines", "defines"),
                ("updates", "updates"),
                ("uses", "uses"),
                ("deletes", "deletes"),
            )
            if names.get(key)
        ]
        if names.get("opaque"):
            parts.append("opaque (exec/eval/globals): depends on every earlier cell")
        deps = [
            f"{label.get(d['execution'], d['execution'][:13])} ({', '.join(d['names'])})"
            for d in e.get("depends_on", [])
            if d["names"] != ["*"]
        ]
        if deps:
            parts.append("depends on " + " ".join(deps))
        lines.append(f"{label[e['id']]} " + (" · ".join(parts) if parts else "no names"))
    return lines


def truncation_line(data: dict[str, Any]) -> str:
    """What a bounded trace left out, and how to see more."""
    direct = data["direct"]["executions"]
    verb = "read" if data["direction"] == "downstream" else "wrote"
    cut = [str(level["level"]) for level in data["levels"] if level["more"]]
    return (
        f"Showing at most {data['limit']} cells and {data['limit']} files per level, the oldest "
        f"first; more were left out at level {', '.join(cut)} ({direct:,} cell(s) {verb} this "
        "version directly). --limit N shows more, --all everything."
    )
