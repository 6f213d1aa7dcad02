"""``%track``: the notebook's window onto tracking, mirroring the Python API."""

from __future__ import annotations

import ast
import contextlib
import os
import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_magic, magics_class

from .errors import LineageError

if TYPE_CHECKING:
    from types import ModuleType


def _api() -> ModuleType:
    """The Python API, loaded at the first ``%track``: a pipeline's kernel loads this module
    at start-up, and the API (store queries, diff, export, widgets) is not needed to track."""
    from . import api

    return api


def _graph(args: list[str]) -> Any:
    from . import widgets

    return widgets.graph_command(args)


def _diff(args: list[str]) -> Any:
    from . import widgets

    return widgets.diff_command(args)


HELP = """\
%track                      status: run id, database, counts
%track off | on             pause / resume recording
%track name NAME [--note TEXT]  name this run (works wherever a run id does), add a note
%track param NAME=VALUE ... record parameters (values are Python literals, else text)
%track metric NAME VALUE [--step N]
%track input PATH           declare a file this cell read that capture cannot see
%track output PATH          declare a file this cell wrote that capture cannot see
%track ignore GLOB ...      never record matching paths
%track graph [PATH]         draw this run's lineage (or a file's) inline
%track diff RUN_A RUN_B     what changed between two runs, inline
%track gather PATH [--output NB.ipynb] [--verify]
                            write the minimal notebook that rebuilds PATH
"""


def parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _size(db: str | None) -> str:
    """The store's size on disk (database and write-ahead log): `gc` keeps it small."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError, TypeError):
            total += os.path.getsize(f"{db}{suffix}")
    if not total:
        return ""
    return f" ({total / 1e6:.1f} MB)" if total >= 100_000 else f" ({total / 1e3:.0f} kB)"


def _status(args: list[str]) -> None:
    info = _api().tracking_status()
    lines = [
        f"jupyter-lineage: {'recording' if info['enabled'] else 'paused (%track on resumes)'}",
        f"  run        {info['run_id']}",
        f"  name       {info.get('name') or '(not written yet)'}",
        f"  database   {info['db']}{_size(info['db'])}",
        f"  notebook   {info['notebook'] or '(unknown)'}",
        f"  executions {info.get('executions', 0)}  reads {info.get('reads', '?')}"
        f"  writes {info.get('writes', '?')}  errors {info.get('errors', '?')}",
    ]
    if info.get("pending"):
        kept = "in the journal" if not info.get("unjournaled") else "in memory"
        lines.append(f"  unwritten  {info['pending']} (kept {kept}; see the warning above)")
    missed = [
        f"{label} {info[key]}"
        for key, label in (
            ("unjournaled", "only-in-memory"),
            ("refused", "refused"),
            ("dropped", "dropped-from-memory"),
            ("hash_errors", "unhashable-files"),
            ("access_errors", "unrecorded-accesses"),
            ("reader_errors", "reader-wrapper-failures"),
        )
        if info.get(key)
    ]
    if info.get("git_error"):
        missed.append(f"git-state ({info['git_error']})")
    if missed:
        lines.append(f"  not recorded  {'  '.join(missed)}")
    if info.get("notebook"):
        try:
            stale = _api().stale_cells(notebook=info["notebook"])
        except LineageError:
            stale = []
        if stale:
            cells = " ".join(f"[{c['execution_count']}]" for c in stale)
            lines.append(
                f"  stale cells {cells} (they used variables from a cell re-run since with "
                "changed code; re-run them)"
            )
    sys.stdout.write("\n".join(lines) + "\n")


def _off(args: list[str]) -> None:
    _api().pause()
    sys.stdout.write("jupyter-lineage: paused; `%track on` resumes.\n")


def _on(args: list[str]) -> None:
    _api().resume()
    sys.stdout.write("jupyter-lineage: recording.\n")


def _param(args: list[str]) -> None:
    if not args:
        raise LineageError("Usage: %track param NAME=VALUE [NAME=VALUE ...]")
    params = {}
    for item in args:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise LineageError(f"'{item}' is not NAME=VALUE (e.g. %track param alpha=0.5).")
        params[name] = parse_value(value)
    _api().log_params(params)


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
    _api().log_metric(args[0], value, step=step)


def _input(args: list[str]) -> None:
    if len(args) != 1:
        raise LineageError("Usage: %track input PATH")
    _api().log_input(args[0])


def _output(args: list[str]) -> None:
    if len(args) != 1:
        raise LineageError("Usage: %track output PATH")
    _api().log_output(args[0])


def _ignore(args: list[str]) -> None:
    if not args:
        raise LineageError("Usage: %track ignore GLOB [GLOB ...]  (e.g. %track ignore '*.tmp')")
    _api().ignore(*args)


def _gather(args: list[str]) -> None:
    verify = "--verify" in args
    args = [a for a in args if a != "--verify"]
    output = None
    for flag in ("--output", "-o"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                raise LineageError(f"{flag} takes a notebook file name.")
            output = args[i + 1]
            del args[i : i + 2]
    if len(args) != 1:
        raise LineageError("Usage: %track gather PATH [--output NB.ipynb] [--verify]")
    data = _api().gather(args[0], output=output, verify=verify)
    counts = " ".join(
        f"[{c['execution_count'] if c['execution_count'] is not None else '-'}]"
        for c in data["cells"]
    )
    lines = [f"jupyter-lineage: wrote {data['output']}: {len(data['cells'])} cell(s) {counts}"]
    check = data["verification"]
    if check:
        lines.append(f"  verify: {check['verdict']}")
        lines += [f"    {line}" for line in check["differences"]]
    sys.stdout.write("\n".join(lines) + "\n")


def _name(args: list[str]) -> None:
    note = None
    if "--note" in args:
        i = args.index("--note")
        if i + 1 >= len(args):
            raise LineageError("--note takes a text, e.g. %track name baseline --note 'C=1'")
        note = args[i + 1]
        del args[i : i + 2]
    if len(args) > 1 or (not args and note is None):
        raise LineageError("Usage: %track name NAME [--note TEXT]")
    run_id = _api().tracking_status()["run_id"]
    data = _api().rename(run_id, args[0] if args else None, note=note)
    sys.stdout.write(f"jupyter-lineage: this run is {data['name']}.\n")


def _help(args: list[str]) -> None:
    sys.stdout.write(HELP)


# Every `%track NAME`, in one table: the inline views live with the widgets.
SUBCOMMANDS: dict[str, Callable[[list[str]], Any]] = {
    "status": _status,
    "off": _off,
    "on": _on,
    "name": _name,
    "param": _param,
    "metric": _metric,
    "input": _input,
    "output": _output,
    "ignore": _ignore,
    "graph": _graph,
    "diff": _diff,
    "gather": _gather,
    "help": _help,
}


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
