"""Reading the graph: runs, show, sources, trace."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

from .. import api
from ..errors import UsageError
from .base import (
    WholeNumber,
    brief,
    cli,
    console,
    db_option,
    emit_json,
    file_list,
    json_option,
    run_state,
    seconds,
    short_path,
    status_text,
    when,
)
from .flowtree import dataflow_lines, flow_tree, truncation_line

RUN_COLUMNS = (
    "name",
    "run",
    "kind",
    "notebook",
    "status",
    "started",
    "took",
    "cells",
    "params",
    "metrics",
)


@cli.command("runs")
@click.option("--notebook", help="Only runs of this notebook.")
@click.option("--limit", type=WholeNumber(), default=None, help="At most this many runs.")
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="COND",
    help="Only runs whose latest metric or parameter meets COND, e.g. 'auc > 0.8' or "
    "'params.C = 0.5' (repeat to combine).",
)
@click.option(
    "--sort",
    "sort_by",
    metavar="KEY",
    help="Order by a metric or params.NAME, best (highest) first; runs without it last.",
)
@click.option("--ascending", is_flag=True, help="With --sort: lowest first.")
@click.option(
    "--columns",
    metavar="LIST",
    help="Comma-separated columns: any of " + ", ".join(RUN_COLUMNS) + ", a metric name or "
    "params.NAME (e.g. name,status,params.C,auc).",
)
@db_option
@json_option
def runs_cmd(
    notebook: str | None,
    limit: int | None,
    where: tuple[str, ...],
    sort_by: str | None,
    ascending: bool,
    columns: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """List runs, newest first, with their names, parameters and metrics."""
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if columns is not None and not chosen:
        raise UsageError("--columns needs at least one column, e.g. --columns name,status,auc.")
    rows = api.runs(
        db=db,
        notebook=notebook,
        limit=limit,
        where=list(where),
        sort=sort_by,
        ascending=ascending,
    )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print(
            "No run matches those conditions."
            if where
            else "No runs recorded yet. Run a notebook with `%load_ext jupyter_lineage`."
        )
        return
    table = Table(box=None, header_style="bold")
    shown = chosen or list(RUN_COLUMNS)
    for col in shown:
        table.add_column(col)
    for r in rows:
        table.add_row(*(_cell(r, col) for col in shown))
    console.print(table)


def _cell(r: dict[str, Any], col: str) -> str:
    """One cell of the runs table: a fixed column, params.NAME, or a metric."""
    fixed = {
        "name": lambda: escape(r.get("name") or "-"),
        "run": lambda: r["id"][:13],
        "kind": lambda: r["kind"],
        "notebook": lambda: escape(short_path(r["notebook"])),
        "status": lambda: run_state(r),
        "started": lambda: when(r["started"]),
        "took": lambda: seconds(r["duration_s"]),
        "cells": lambda: (
            f"{r['executions']}" + (f" ([red]{r['errors']} err[/])" if r["errors"] else "")
        ),
        "params": lambda: brief(r["parameters"]),
        "metrics": lambda: brief(r["metrics"]),
    }
    if col in fixed:
        return fixed[col]()
    if col.startswith("params."):
        value = r["parameters"].get(col.removeprefix("params."), "-")
    else:
        value = r["metrics"].get(col, "-")
    return escape(str(value))


@cli.command("rename")
@click.argument("run")
@click.argument("name", required=False)
@click.option("--note", help="A note kept with the run (an empty string clears it).")
@db_option
@json_option
def rename_cmd(run: str, name: str | None, note: str | None, db: str | None, as_json: bool) -> None:
    """Give RUN the name NAME (unique in the store) and/or a --note.

    Every run gets a generated name when it starts (adjective-noun-NN); a name works wherever
    a run id does: show, diff, reproduce, env, trace's answers, the sidebar.
    """
    data = api.rename(run, name, note=note, db=db)
    if as_json:
        emit_json(data)
        return
    console.print(f"run {data['id']} is now [bold]{escape(data['name'] or '-')}[/]")
    if data["note"]:
        console.print(f"  note  {escape(data['note'])}")


@cli.command("show")
@click.argument("run")
@click.option("--notebook", help="Resolve @last within this notebook's runs.")
@click.option("--files", is_flag=True, help="List the files of folders recorded as one dataset.")
@db_option
@json_option
def show_cmd(run: str, notebook: str | None, files: bool, db: str | None, as_json: bool) -> None:
    """Everything about one run: RUN is an id, a unique prefix, or @last, @last~1, …"""
    data = api.show(run, db=db, notebook=notebook, files=files)
    if as_json:
        emit_json(data)
        return
    console.print(f"[bold]run {data['id']}[/]  {status_text(data['status'])}  ({data['kind']})")
    console.print(f"  notebook   {escape(short_path(data['notebook']))}")
    console.print(f"  started    {when(data['started'])}   took {seconds(data['duration_s'])}")
    if data["parent_id"]:
        console.print(f"  parent     {data['parent_id']}")
    if data["error"]:
        console.print(
            f"  error      [red]{escape(data['error']['name'])}: "
            f"{escape(str(data['error']['value']))}[/]"
        )
    if data["parameters"]:
        console.print(f"  parameters {brief(data['parameters'], 50)}")
    if data["metrics"]:
        console.print(f"  metrics    {brief(data['metrics'], 50)}")
    env = data["environment"]
    if env:
        console.print(
            f"  python     {env.get('python')} on {escape(str(env.get('platform')))}, "
            f"{len(env.get('packages', {}))} packages"
        )
    git = data["git"]
    if git:
        dirty = " [yellow](uncommitted changes)[/]" if git.get("dirty") else ""
        commit = (git.get("commit") or "no commits")[:12]
        console.print(
            f"  git        {commit} on {escape(str(git.get('branch')))}{dirty}"
            + (f"  {escape(git['remote'])}" if git.get("remote") else "")
        )
    else:
        console.print("  git        not a git repository")
    console.print(f"  read       {file_list(data['files_read'])}")
    console.print(f"  wrote      {file_list(data['files_written'])}")
    for folder in [f for f in data["files_read"] + data["files_written"] if "members" in f]:
        console.print(f"  [bold]{escape(short_path(folder['path']))}[/] ({folder['files']} files)")
        for member in folder["members"]:
            console.print(f"    {escape(member['name'])}  {member['hash'][:19]}  {member['size']}")
    table = Table(box=None, header_style="bold", title="executions", title_justify="left")
    for col in ("#", "cell", "took", "first line", "read", "wrote", "error"):
        table.add_column(col)
    for e in data["executions"]:
        first = next((ln for ln in e["source"].splitlines() if ln.strip()), "")
        table.add_row(
            str(e["execution_count"] if e["execution_count"] is not None else e["seq"]),
            escape((e["cell_id"] or "-")[:12]),
            f"{e['duration_ms']:.0f} ms" if e["duration_ms"] is not None else "-",
            escape(first[:50]),
            file_list(e["reads"]),
            file_list(e["writes"]),
            f"[red]{escape(e['error']['name'])}[/]" if e["error"] else "",
        )
    console.print(table)
    flow = dataflow_lines(data["executions"])
    if flow:
        console.print("[bold]dataflow[/]")
        for line in flow:
            console.print(f"  {escape(line)}")


@cli.command("sources")
@click.argument("run")
@click.option("--notebook", help="Resolve @last within this notebook's runs.")
@db_option
@json_option
def sources_cmd(run: str, notebook: str | None, db: str | None, as_json: bool) -> None:
    """The code of RUN as it was executed, in order."""
    data = api.sources(run, db=db, notebook=notebook)
    if as_json:
        emit_json(data)
        return
    for cell in data:
        count = cell["execution_count"] if cell["execution_count"] is not None else "-"
        err = f"  [red]raised {escape(cell['error'])}[/]" if cell["error"] else ""
        console.print(f"[bold]# [{count}][/] cell {escape(cell['cell_id'] or '-')}{err}")
        console.print(
            Syntax(cell["source"], "python", theme="ansi_dark", background_color="default")
        )


def _trace_tree(data: dict[str, Any]) -> Tree:
    nodes = {n["id"]: n for n in data["nodes"]}
    runs = {r["id"]: r for r in data["runs"]}
    downstream = data["direction"] == "downstream"
    by_target: dict[str, list[dict[str, Any]]] = {}
    by_source: dict[str, list[dict[str, Any]]] = {}
    for e in data["edges"]:
        by_target.setdefault(e["target"], []).append(e)
        by_source.setdefault(e["source"], []).append(e)

    def art_label(node: dict[str, Any]) -> str:
        digest = (node["hash"] or "no hash").removeprefix("blake3:")[:12]
        return f"[bold cyan]{escape(short_path(node['path']))}[/] [dim]{node['kind']} {digest}[/]"

    def exec_label(node: dict[str, Any]) -> str:
        run = runs.get(node["run_id"], {})
        first = next((ln for ln in node["source"].splitlines() if ln.strip()), "")
        count = node["execution_count"] if node["execution_count"] is not None else node["seq"]
        err = " [red](raised)[/]" if node["error"] else ""
        return (
            f"cell [{count}] of {escape(short_path(run.get('notebook')))} "
            f"[dim]run {node['run_id'][:13]}[/]{err}: [italic]{escape(first[:60])}[/]"
        )

    seen: set[str] = set()

    def grow(tree: Tree, art_id: str) -> None:
        if art_id in seen:
            tree.add("[dim](shown above)[/]")
            return
        seen.add(art_id)
        if downstream:
            for e in by_source.get(art_id, []):
                if e["type"] != "read":
                    continue
                branch = tree.add(f"read by {exec_label(nodes[e['target']])}")
                chain = [e["target"]]
                while chain:
                    cur = chain.pop()
                    for e2 in by_source.get(cur, []):
                        if e2["type"] == "next":
                            chain.append(e2["target"])
                        elif e2["type"] == "wrote":
                            sub = branch.add(f"→ wrote {art_label(nodes[e2['target']])}")
                            grow(sub, e2["target"])
            return
        writers = [e for e in by_target.get(art_id, []) if e["type"] == "wrote"]
        if not writers:
            tree.add("[dim]no recorded run wrote this version (an original input)[/]")
            return
        wid = writers[0]["source"]
        branch = tree.add(f"written by {exec_label(nodes[wid])}")
        chain = [wid]
        prev = {e["target"]: e["source"] for e in data["edges"] if e["type"] == "next"}
        while chain[-1] in prev:
            chain.append(prev[chain[-1]])
        branch.add(f"[dim]after {len(chain) - 1} earlier cell(s) of that run[/]")
        for ex in reversed(chain):
            for e in by_target.get(ex, []):
                if e["type"] == "read":
                    sub = branch.add(f"read {art_label(nodes[e['source']])}")
                    grow(sub, e["source"])

    root = Tree(art_label(data["target"]))
    grow(root, data["target"]["id"])
    return root


@cli.command("trace")
@click.argument("target")
@click.option("--downstream", is_flag=True, help="What was made from TARGET, not what made it.")
@click.option(
    "--depth",
    type=WholeNumber(),
    default=None,
    help="At most this many artifact-to-artifact hops.",
)
@click.option(
    "--whole-run",
    is_flag=True,
    help="Every cell that ran before the writing cell (and all it read), not only the cells "
    "it depends on through the variables it used.",
)
@click.option(
    "--limit",
    type=WholeNumber(),
    default=100,
    show_default=True,
    help="At most this many cells and this many files per level (the oldest first); the "
    "answer says when more were left out.",
)
@click.option("--all", "show_all", is_flag=True, help="Everything, however large (no --limit).")
@db_option
@json_option
def trace_cmd(
    target: str,
    downstream: bool,
    depth: int | None,
    whole_run: bool,
    limit: int,
    show_all: bool,
    db: str | None,
    as_json: bool,
) -> None:
    """How was TARGET (a path, URL, artifact id or hash prefix) made — or what was made from it.

    By default the answer follows dataflow: the cell that wrote TARGET, the cells it depends on
    through the variables it used (each hop names them), and only the files those cells read.
    """
    data = api.trace(
        target,
        db=db,
        downstream=downstream,
        depth=depth,
        whole_run=whole_run,
        limit=None if show_all else limit,
    )
    if as_json:
        emit_json(data)
        return
    if data["note"]:
        console.print(f"[yellow]note:[/] {escape(data['note'])}")
    console.print(_trace_tree(data) if whole_run else flow_tree(data))
    if data["truncated"]:
        console.print(f"[yellow]{escape(truncation_line(data))}[/]")
