"""Pipelines across notebooks: ``dag`` (the inferred pipeline) and ``repro`` (bring it up to
date)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.tree import Tree

from .. import api
from .base import (
    WholeNumber,
    brief,
    cli,
    console,
    db_option,
    emit_json,
    json_option,
    seconds,
    short_path,
)

ENV_CHOICE = click.Choice(["ignore", "strict"])


def env_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--env",
        "env_mode",
        type=ENV_CHOICE,
        default="ignore",
        show_default=True,
        help="strict: a changed version of a package a stage imports makes it stale.",
    )(func)


def _stage_label(s: dict[str, Any]) -> str:
    params = f"  {brief(s['parameters'], 4)}" if s["parameters"] else ""
    cached = " [dim](cached)[/]" if s["run_kind"] == "cached" else ""
    if s["stale"]:
        state = "[yellow]stale[/]: " + escape("; ".join(r["text"] for r in s["reasons"]))
    else:
        state = "[green]up to date[/]"
    return (
        f"[bold]{escape(short_path(s['path']))}[/]  [dim]run {s['run'][:13]}[/]{cached}"
        f"{params}  {state}"
    )


def print_tree(data: dict[str, Any]) -> None:
    """Each stage under the stage whose file it reads, the files on the way; a stage reached
    twice is drawn once and named the second time."""
    stages = {s["path"]: s for s in data["stages"]}
    if not stages:
        console.print(
            "No stages: no notebook or script has a successful run in this store. "
            "`jupyter lineage run NOTEBOOK` records one."
        )
        return
    order = list(stages)
    # a stage is drawn under the upstream stage that runs last, named elsewhere
    home = {
        p: max(s["upstream"], key=order.index) if s["upstream"] else None for p, s in stages.items()
    }

    def draw(parent: Tree, path: str, under: str | None) -> None:
        s = stages[path]
        if home[path] != under:
            where = short_path(home[path]) if home[path] else "the top"
            parent.add(f"{escape(short_path(path))} [dim](drawn under {escape(where)})[/]")
            return
        node = parent.add(_stage_label(s))
        for dep in s["deps"]:
            source = stages.get(dep["stage"] or "")
            frm = f" [dim](from {escape(short_path(source['path']))})[/]" if source else ""
            node.add(f"reads  {escape(short_path(dep['path']))}{frm}")
        for out in s["outs"]:
            branch = node.add(f"writes {escape(short_path(out['path']))}")
            for down in out["stages"]:
                if down in stages:
                    draw(branch, down, path)

    root = Tree(f"[bold]pipeline[/] [dim]({len(stages)} stages, {len(data['stale'])} stale)[/]")
    for path, s in stages.items():
        if not s["upstream"]:
            draw(root, path, None)
    console.print(root)
    for item in data["ignored"]:
        console.print(f"[dim]left out {escape(short_path(item['path']))}: {item['reason']}[/]")


@cli.command("dag")
@click.argument("targets", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "json", "dot", "mermaid", "dvc", "github-actions"]),
    default="tree",
    show_default=True,
    help="A tree, JSON, Graphviz DOT, Mermaid, a dvc.yaml, or a GitHub Actions workflow.",
)
@env_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the text to FILE (dvc and github-actions paths are relative to its folder).",
)
@db_option
@json_option
def dag_cmd(
    targets: tuple[str, ...],
    fmt: str,
    env_mode: str,
    output: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """The pipeline inferred from each notebook's latest successful run.

    Notebooks and tracked scripts are the stages; a file one wrote and another read is an edge.
    TARGETs (notebooks, files they wrote, or folders) keep what they need. A file written by
    two notebooks, or notebooks that read each other's files, is an error naming them.
    """
    if as_json and fmt == "tree":
        fmt = "json"
    base = os.path.dirname(os.path.abspath(output)) if output else None
    data = api.dag(list(targets), fmt=fmt, env=env_mode, base=base, db=db)
    if fmt == "tree":
        print_tree(data)
        return
    text = data.get("text", None)
    if output:
        import json

        Path(output).write_text(
            text if text is not None else json.dumps(data, indent=2) + "\n", encoding="utf-8"
        )
        if as_json:
            emit_json(data)
        else:
            console.print(f"wrote {escape(output)}")
    elif as_json or text is None:
        emit_json(data)
    else:
        click.echo(text, nl=False)


def _why(s: dict[str, Any]) -> str:
    return escape("; ".join(r["text"] for r in s["reasons"]))


def _event(kind: str, s: dict[str, Any]) -> None:
    name = escape(short_path(s["path"]))
    if kind == "started":
        console.print(f"[bold]run[/]      {name}: {_why(s)}")
    elif kind == "succeeded":
        console.print(
            f"[green]succeeded[/] {name} in {seconds(s['duration_s'])} [dim](run {s['run']})[/]"
        )
    elif kind == "cached":
        console.print(
            f"[cyan]cached[/]    {name}: reused run {s['cached_from']} [dim](run {s['run']})[/]"
        )
    elif kind == "up to date":
        console.print(f"[green]unchanged[/] {name}: its inputs came out the same")
    elif kind == "failed":
        console.print(f"[red]failed[/]    {name}: {escape(str(s['error']))}")
    elif kind == "skipped":
        console.print(f"[magenta]skipped[/]   {name}: {escape(str(s['error']))}")


@cli.command("repro")
@click.argument("targets", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Say what would run and why; run nothing.")
@click.option("--force", is_flag=True, help="Run the targeted stages even when up to date.")
@click.option(
    "-j",
    "--jobs",
    type=WholeNumber(1, 256),
    default=None,
    help="Independent stages run side by side in this many processes (default: CPU count).",
)
@click.option("--scheduler", metavar="ADDRESS", help="Run the stages on this Dask scheduler.")
@env_option
@click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="Reuse an identical earlier run of a stage instead of running it.",
)
@db_option
@json_option
def repro_cmd(
    targets: tuple[str, ...],
    dry_run: bool,
    force: bool,
    jobs: int | None,
    scheduler: str | None,
    env_mode: str,
    cache: bool,
    db: str | None,
    as_json: bool,
) -> None:
    """Bring the pipeline (or the TARGETs and what they need) up to date.

    Runs exactly the stale stages (see `dag`) through `jupyter lineage run`, in order, each
    with its last parameters. Exit 0 when everything is up to date afterwards, 1 when a stage
    failed (what is downstream of it is skipped), 2 for bad input.
    """
    report = api.repro(
        list(targets),
        dry_run=dry_run,
        force=force,
        jobs=jobs,
        scheduler=scheduler,
        env=env_mode,
        cache=cache,
        db=db,
        on_event=None if as_json else _event,
    )
    if as_json:
        emit_json(report)
    elif report["up_to_date"]:
        console.print(f"[green]up to date[/]: {len(report['stages'])} stages, nothing to run")
    elif dry_run:
        for s in report["stages"]:
            if s["status"] == "stale":
                console.print(f"[yellow]would run[/] {escape(short_path(s['path']))}: {_why(s)}")
            else:
                console.print(f"[green]up to date[/] {escape(short_path(s['path']))}")
    else:
        parts = [
            f"{report[k]} {k}" for k in ("succeeded", "cached", "failed", "skipped") if report[k]
        ]
        console.print("repro: " + ", ".join(parts or ["nothing ran"]))
    if report["failed"] or report["skipped"]:
        raise click.exceptions.Exit(1)
