"""The model catalogue: models, models show, tag."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from .. import api
from .base import (
    brief,
    cli,
    console,
    db_option,
    emit_json,
    json_option,
    short_path,
    status_text,
    when,
)

STATE_STYLE = {"current": "green", "replaced": "yellow", "missing": "red", "remote": "white"}


def _short(digest: str | None) -> str:
    return (digest or "").removeprefix("blake3:")[:12] or "-"


def _state(m: dict[str, Any]) -> str:
    text = f"[{STATE_STYLE.get(m['state'], 'white')}]{m['state']}[/]"
    return text + (" [red]stale[/]" if m["stale"] else "")


@cli.group("models", invoke_without_command=True)
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="COND",
    help="Only versions whose run's latest metric or parameter meets COND, e.g. 'auc > 0.8' "
    "(repeat to combine).",
)
@click.option("--tag", "tag", metavar="NAME", help="Only versions holding this tag.")
@db_option
@json_option
@click.pass_context
def models_cmd(
    ctx: click.Context, where: tuple[str, ...], tag: str | None, db: str | None, as_json: bool
) -> None:
    """Every model version with the run that made it; `models show PATH` for one."""
    if ctx.invoked_subcommand is not None:
        return
    rows = api.models(where=list(where), tag=tag, db=db)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print(
            "No model version matches."
            if where or tag
            else "No model recorded yet: a tracked "
            "notebook that saves a model (joblib, pickle, ONNX, torch, …) puts it here."
        )
        return
    table = Table(box=None, header_style="bold")
    for col in ("model", "version", "tags", "state", "run", "written", "metrics", "params"):
        table.add_column(col)
    for m in rows:
        table.add_row(
            escape(short_path(m["path"])),
            _short(m["hash"]),
            escape(", ".join(m["tags"])) or "-",
            _state(m),
            m["run"]["id"][:13],
            when(m["written"]),
            brief(m["metrics"]),
            brief(m["parameters"]),
        )
    console.print(table)


@models_cmd.command("show")
@click.argument("ref", metavar="PATH[@HASH|@TAG]")
@db_option
@json_option
def models_show_cmd(ref: str, db: str | None, as_json: bool) -> None:
    """One model version: its run, parameters, metrics, inputs, environment, tags, versions."""
    m = api.model(ref, db=db)
    if as_json:
        emit_json(m)
        return
    tags = f"  [bold]{escape(', '.join(m['tags']))}[/]" if m["tags"] else ""
    console.print(f"[bold]{escape(short_path(m['path']))}[/] @ {_short(m['hash'])}{tags}")
    console.print(f"  state      {_state(m)}")
    if m["changed_inputs"]:
        changed = escape(", ".join(short_path(p) for p in m["changed_inputs"]))
        console.print(f"  changed    {changed} (re-run its notebook to refresh it)")
    run = m["run"]
    console.print(
        f"  run        {run['id']}  {status_text(run['status'])}  ({run['kind']}) "
        f"{escape(short_path(run['notebook']))}, cell {m['execution']['seq']}"
    )
    console.print(f"  written    {when(m['written'])}   size {m['size'] or 0:,} bytes")
    console.print(f"  parameters {brief(m['parameters'], 50) or '-'}")
    console.print(f"  metrics    {brief(m['metrics'], 50) or '-'}")
    env = m["environment"]
    console.print(
        f"  python     {env['python'] or '-'} on {escape(str(env['platform']))}, "
        f"{env['packages']} packages"
    )
    for i, item in enumerate(m["inputs"]):
        label = "inputs    " if i == 0 else "          "
        console.print(f"  {label} {escape(short_path(item['path']))} @ {_short(item['hash'])}")
    if m["read_by"]:
        console.print(f"  read by    {', '.join(r[:13] for r in m['read_by'])}")
    if len(m["versions"]) > 1:
        console.print("  versions")
        for v in m["versions"]:
            mark = "→" if v["hash"] == m["hash"] else " "
            tags = f"  {escape(', '.join(v['tags']))}" if v["tags"] else ""
            console.print(
                f"    {mark} {_short(v['hash'])}  {when(v['written'])}  {v['run'][:13]}{tags}"
            )


@cli.command("tag")
@click.argument("ref", metavar="PATH[@HASH]")
@click.argument("name")
@click.option("--remove", is_flag=True, help="Take the tag off this version.")
@db_option
@json_option
def tag_cmd(ref: str, name: str, remove: bool, db: str | None, as_json: bool) -> None:
    """Name a model version (e.g. production); the tag leaves the version that held it."""
    result = api.tag(ref, name, remove=remove, db=db)
    if as_json:
        emit_json(result)
        return
    where = f"{escape(short_path(result['path']))} @ {_short(result['hash'])}"
    if remove:
        console.print(f"{escape(name)} removed from {where}.")
        return
    moved = f" (moved from {_short(result['moved_from'])})" if result["moved_from"] else ""
    console.print(f"{escape(name)} → {where}{moved}.")
