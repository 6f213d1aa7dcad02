"""``%track``: the notebook's window onto tracking, mirroring the Python API."""

from __future__ import annotations

import ast
import shlex
import sys
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_magic, magics_class

from . import api
from .errors import LineageError

HELP = """\
%track                      status: run id, database, counts
%track off | on             pause / resume recording
%track param NAME=VALUE ... record parameters (values are Python literals, else text)
%track metric NAME VALUE [--step N]
%track input PATH           declare a file this cell read that capture cannot see
%track output PATH          declare a file this cell wrote that capture cannot see
%track ignore GLOB ...      never record matching paths
%track graph [PATH]         draw this run's lineage (or a file's) inline
%track diff RUN_A RUN_B     what changed between two runs, inline
"""

SUBCOMMANDS: dict[str, Any] = {}


def subcommand(name: str) -> Any:
    """Register a ``%track NAME`` handler: later modules (graph, diff) add theirs the same way."""

    def register(func: Any) -> Any:
        SUBCOMMANDS[name] = func
        return func

    return register


def parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


@subcommand("status")
def _status(args: list[str]) -> None:
    info = api.tracking_status()
    lines = [
        f"jupyter-lineage: {'recording' if info['enabled'] else 'paused (%track on resumes)'}",
        f"  run        {info['run_id']}",
        f"  database   {info['db']}",
        f"  notebook   {info['notebook'] or '(unknown)'}",
        f"  executions {info.get('executions', 0)}  reads {info.get('reads', '?')}"
        f"  writes {info.get('writes', '?')}  errors {info.get('errors', '?')}",
    ]
    if info.get("pending"):
        lines.append(f"  unwritten  {info['pending']} (kept in memory; see the warning above)")
    sys.stdout.write("\n".join(lines) + "\n")


@subcommand("off")
def _off(args: list[str]) -> None:
    api.pause()
    sys.stdout.write("jupyter-lineage: paused; `%track on` resumes.\n")


@subcommand("on")
def _on(args: list[str]) -> None:
    api.resume()
    sys.stdout.write("jupyter-lineage: recording.\n")


@subcommand("param")
def _param(args: list[str]) -> None:
    if not args:
        raise LineageError("Usage: %track param NAME=VALUE [NAME=VALUE ...]")
    params = {}
    for item in args:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise LineageError(f"'{item}' is not NAME=VALUE (e.g. %track param alpha=0.5).")
        params[name] = parse_value(value)
    api.log_params(params)


@subcommand("metric")
def _metric(args: list[str]) -> None:
    step = None
    if "--step" in args:
        i = args.index("--step")
        try:
            step = int(args[i + 1])
        except (IndexError, ValueError):
            raise LineageError("--step takes a whole number, e.g. %track metric loss 0.1 --step 3")
        del args[i : i + 2]
    if len(args) != 2:
        raise LineageError("Usage: %track metric NAME VALUE [--step N]")
    value = parse_value(args[1])
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineageError(f"Metric values are numbers; got '{args[1]}'.")
    api.log_metric(args[0], value, step=step)


@subcommand("input")
def _input(args: list[str]) -> None:
    if len(args) != 1:
        raise LineageError("Usage: %track input PATH")
    api.log_input(args[0])


@subcommand("output")
def _output(args: list[str]) -> None:
    if len(args) != 1:
        raise LineageError("Usage: %track output PATH")
    api.log_output(args[0])


@subcommand("ignore")
def _ignore(args: list[str]) -> None:
    if not args:
        raise LineageError("Usage: %track ignore GLOB [GLOB ...]  (e.g. %track ignore '*.tmp')")
    api.ignore(*args)


@subcommand("help")
def _help(args: list[str]) -> None:
    sys.stdout.write(HELP)


@magics_class
class TrackMagics(Magics):
    @line_magic
    def track(self, line: str) -> Any:
        """Lineage tracking for this notebook; `%track help` lists the forms."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise IPythonUsageError(f"%track: {exc}") from None
        name, args = (words[0], words[1:]) if words else ("status", [])
        handler = SUBCOMMANDS.get(name)
        if handler is None:
            raise IPythonUsageError(f"%track: unknown form '{name}'.\n{HELP}")
        try:
            return handler(args)
        except LineageError as exc:
            raise IPythonUsageError(f"%track {name}: {exc}") from None
