"""Comparing and shipping lineage: diff, status, export, emit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.syntax import Syntax

from .. import api
from ..diff import is_empty
from .base import cli, console, db_option, emit_json, json_option, seconds, short_path


def _pair(value: dict[str, Any]) -> str:
    return f"{escape(str(value['a']))} -> {escape(str(value['b']))}"


def _print_diff(d: dict[str, Any]) -> None:
    a, b = d["a"], d["b"]
    for label, run in (("a", a), ("b", b)):
        name = f"{escape(run['name'])}  " if run.get("name") else ""
        console.print(
            f"[bold]{label}[/] {name}{run['id']}  {escape(short_path(run['notebook']))}  "
            f"{run['status']}  {seconds(run['duration_s'])}"
        )
    if is_empty(d):
        console.print("no differences")
        return
    p = d["parameters"]
    if p:
        console.print("[bold]parameters[/]")
        for name, v in p.get("changed", {}).items():
            console.print(f"  ~ {escape(name)}: {_pair(v)}")
        for name, v in p.get("added", {}).items():
            console.print(f"  + {escape(name)} = {escape(str(v))}")
        for name, v in p.get("removed", {}).items():
            console.print(f"  - {escape(name)} = {escape(str(v))}")
    for section in ("inputs", "outputs"):
        if d[section]:
            console.print(f"[bold]{section}[/]")
            for f in d[section]:
                mark = {"changed": "~", "added": "+", "removed": "-"}[f["status"]]
                what = f"{f['status']}: {f['detail']}" if f.get("detail") else f["status"]
                console.print(f"  {mark} {escape(short_path(f['path']))} ({escape(what)})")
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    same = {k: v for k, v in sorted(ma.items()) if k in mb and mb[k] == v}
    if d["metrics"] or same:
        console.print("[bold]metrics[/]")
        for name, v in d["metrics"].items():
            delta = f"  ({v['delta']:+g})" if v["delta"] is not None else ""
            console.print(f"  ~ {escape(name)}: {_pair(v)}{delta}")
        for name, value in same.items():  # unchanged, greyed: the whole picture at a glance
            console.print(f"[dim]  = {escape(name)}: {escape(str(value))}[/]")
    if d["code"]:
        console.print("[bold]code[/]")
        for c in d["code"]:
            console.print(f"  {c['status']} cell {escape(str(c['cell_id'] or c['index_a']))}")
            console.print(Syntax(c["diff"], "diff", theme="ansi_dark", background_color="default"))
    env = d["environment"]
    if env:
        console.print("[bold]environment[/]")
        pk = env.get("packages", {})
        for name, v in pk.get("changed", {}).items():
            console.print(f"  ~ {escape(name)} {_pair(v)}")
        for key, sign in (("added", "+"), ("removed", "-")):
            for name, version in pk.get(key, {}).items():
                console.print(f"  {sign} {escape(name)} {escape(str(version))}")
        for key in ("python", "implementation", "platform", "machine", "cpu", "gpus"):
            if key in env:
                console.print(f"  ~ {key}: {_pair(env[key])}")
    if d["git"]:
        console.print("[bold]git[/]")
        for key in ("commit", "branch", "dirty", "remote"):
            if key in d["git"]:
                console.print(f"  ~ {key}: {_pair(d['git'][key])}")
        if d["git"].get("diff"):
            console.print("  uncommitted changes differ")
    if d["status"]:
        console.print(f"[bold]status[/] {d['status']['a']} -> {d['status']['b']}")


@cli.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--notebook", help="Resolve @last, @last~1 … within this notebook's runs.")
@db_option
@json_option
def diff_cmd(run_a: str, run_b: str, notebook: str | None, db: str | None, as_json: bool) -> None:
    """What changed between RUN_A and RUN_B: parameters, code, inputs, outputs, metrics,
    environment, git, status."""
    d = api.diff(run_a, run_b, db=db, notebook=notebook)
    if as_json:
        emit_json(d)
    else:
        _print_diff(d)


def _stale_cells(
    paths: tuple[str, ...], notebook: str | None, db: str | None, as_json: bool
) -> None:
    if paths:
        raise click.UsageError("--cells takes no PATHS (use --notebook NB).")
    report = api.stale_cells(notebook=notebook, db=db)
    if as_json:
        emit_json(report)
    elif not report:
        console.print("No stale cells.")
    for item in report if not as_json else []:
        count = item["execution_count"] if item["execution_count"] is not None else "-"
        why = ", ".join(
            f"cell [{b['execution_count']}] was re-run with changed code as [{b['rerun_execution_count']}]"
            for b in item["because"]
        )
        console.print(
            f"[yellow]stale[/]  cell [{count}] {escape(str(item['cell_id'])[:12])} of "
            f"{escape(short_path(item['notebook']))}: {escape(why)}"
        )
    if report:
        raise click.exceptions.Exit(1)


@cli.command("status")
@click.argument("paths", nargs=-1)
@click.option(
    "--cells",
    is_flag=True,
    help="Stale cells instead: cells that used variables from a cell since re-run with "
    "changed code.",
)
@click.option("--notebook", help="With --cells: only this notebook's cells.")
@db_option
@json_option
def status_cmd(
    paths: tuple[str, ...], cells: bool, notebook: str | None, db: str | None, as_json: bool
) -> None:
    """Which recorded outputs (or PATHS) are stale because an upstream input changed.

    Exits 1 when something is stale (for CI), 0 when all is up to date.
    """
    if cells:
        _stale_cells(paths, notebook, db, as_json)
        return
    if notebook:
        raise click.UsageError("--notebook applies to --cells.")
    report = api.status(list(paths), db=db)
    if as_json:
        emit_json(report)
    else:
        if not report:
            console.print("No recorded outputs yet.")
        for item in report:
            state = item["state"]
            style = {"ok": "green", "stale": "yellow"}.get(state, "red")
            detail = f" ({escape(item['detail'])})" if item.get("detail") else ""
            console.print(f"[{style}]{state:8}[/] {escape(short_path(item['path']))}{detail}")
            for c in item["changed_inputs"]:
                what = f" ({escape(c['detail'])})" if c.get("detail") else ""
                console.print(f"         input {escape(short_path(c['path']))} {c['reason']}{what}")
            if item.get("refresh"):
                console.print(f"         refresh: {escape(item['refresh'])}")
    if any(i["stale"] or i["state"] in ("modified", "missing") for i in report):
        raise click.exceptions.Exit(1)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    metavar="FORMAT",
    help="openlineage, prov-json, dot or mermaid (or a plugin's).",
)
@click.option("--run", "runs", multiple=True, metavar="RUN", help="Export this run (repeatable).")
@click.option("--all", "all_runs", is_flag=True, help="Export every run (the default).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@db_option
def export_cmd(
    fmt: str, runs: tuple[str, ...], all_runs: bool, output: str | None, db: str | None
) -> None:
    """Export lineage as OpenLineage events, W3C PROV-JSON, Graphviz DOT or Mermaid."""
    if runs and all_runs:
        raise click.UsageError("give either --run or --all, not both")
    text = api.export(fmt, runs=list(runs) or None, db=db)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        console.print(f"wrote {escape(output)}")
    else:
        click.echo(text, nl=False)


@cli.command("emit")
@click.option("--url", required=True, help="The OpenLineage backend, e.g. http://localhost:5000")
@click.option("--run", "runs", multiple=True, metavar="RUN", help="Emit this run (repeatable).")
@db_option
def emit_cmd(url: str, runs: tuple[str, ...], db: str | None) -> None:
    """POST OpenLineage events to a backend (Marquez, DataHub, …). An API key is read from
    $OPENLINEAGE_API_KEY."""
    count = api.emit(url, runs=list(runs) or None, db=db)
    console.print(f"sent {count} OpenLineage events to {escape(url)}")
