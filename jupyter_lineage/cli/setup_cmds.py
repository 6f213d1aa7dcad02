"""Switching tracking on for every kernel of a scope, off again, and checking it: enable,
disable, doctor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.markup import escape

from .. import api
from .base import cli, console, emit_json, json_option


def scope_option(func: Callable[..., Any]) -> Callable[..., Any]:
    for flag, help_text in reversed(
        (
            ("user", "Every kernel of this user ($IPYTHONDIR, default ~/.ipython). The default."),
            ("sys-prefix", "Every kernel of this Python environment (<sys.prefix>/etc/ipython)."),
            (
                "project",
                "Kernels started in this project (the git root, else this folder) or below it.",
            ),
        )
    ):
        func = click.option(f"--{flag}", "scope", flag_value=flag, help=help_text)(func)
    return func


@cli.command("enable")
@scope_option
@json_option
def enable_cmd(scope: str | None, as_json: bool) -> None:
    """Track every notebook of a scope without %load_ext (IPython's own extension config)."""
    scope = scope or "user"
    change = api.enable(scope)
    if as_json:
        emit_json(change)
        return
    where = {
        "user": "every kernel you start",
        "sys-prefix": "every kernel of this Python environment",
        "project": "every kernel started in this project",
    }[scope]
    state = "now tracks" if change["changed"] else "already tracks"
    console.print(f"jupyter-lineage: {where} {state} lineage ({escape(change['path'])}).")
    console.print("Kernels already running need a restart. `jupyter lineage doctor` checks.")


@cli.command("disable")
@scope_option
@json_option
def disable_cmd(scope: str | None, as_json: bool) -> None:
    """Undo `enable` for a scope; the rest of the config file stays as it was."""
    scope = scope or "user"
    change = api.disable(scope)
    if as_json:
        emit_json(change)
        return
    what = "removed" if change["changed"] else "was not enabled"
    console.print(f"jupyter-lineage: {scope} autoload {what} ({escape(change['path'])}).")


@cli.command("doctor")
@json_option
@click.pass_context
def doctor_cmd(ctx: click.Context, as_json: bool) -> None:
    """Is tracking on here? One line per check, with the command that fixes it; exit 1 when a
    check fails."""
    checks = api.doctor()
    if as_json:
        emit_json(checks)
    else:
        for c in checks:
            mark = "[green]ok[/]  " if c["ok"] else "[red]FIX[/] "
            fix = f"  → [bold]{escape(c['fix'])}[/]" if c["fix"] else ""
            # one line per check, however long: never wrapped
            console.print(f"{mark} {c['check']:<20} {escape(c['detail'])}{fix}", soft_wrap=True)
    if not all(c["ok"] for c in checks):
        ctx.exit(1)
