"""What every command shares: the click group, options, the console and its formatting.

Every command has ``--json`` (the same shapes the Python API returns; docs/cli.md) and a rich
human view. Errors are one line on stderr with exit code 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..errors import UsageError
from ..inputs import SQLITE_INT_MAX, whole_number
from ..store.location import HOW_FOUND

console = Console(highlight=False, soft_wrap=False)
if not console.is_terminal:
    console.width = max(console.width, 160)  # pipes and CI logs: do not squeeze tables to 80
STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "interrupted": "magenta",
}


class WholeNumber(click.ParamType):
    """An integer option checked where it enters: a 30-digit ``--limit`` is a usage error,
    not an OverflowError from SQLite."""

    name = "integer"

    def __init__(self, low: int = 0, high: int = SQLITE_INT_MAX) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        label = f"--{param.name}" if param is not None and param.name else "value"
        try:
            return whole_number(label, value, self.low, self.high)
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        type=click.Path(dir_okay=False),
        default=None,
        help=f"Lineage database ({HOW_FOUND}).",
    )(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")(
        func
    )


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def short_path(path: str | None) -> str:
    if not path:
        return "-"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    if path.endswith("/"):
        rel += "/"  # a folder recorded as one dataset stays visibly a folder
    return rel if not rel.startswith("../..") else path


def status_text(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def ago(stamp: str) -> str:
    """How long ago, in words a person reads at a glance (``3 min ago``)."""
    then = datetime.fromisoformat(stamp)
    s = max(0.0, (datetime.now(then.tzinfo) - then).total_seconds())
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{s // 60:.0f} min ago"
    if s < 86400:
        return f"{s // 3600:.0f} h ago"
    return f"{s // 86400:.0f} d ago"


def run_state(run: dict[str, Any]) -> str:
    """A run's status as a person reads it: an interactive session whose kernel still lives is
    *active* with the time of its last cell, not an endless "running"."""
    if run["status"] == "running" and run["kind"] == "interactive":
        last = run.get("last_cell")
        return "[yellow]active[/]" + (f" (last cell {ago(last)})" if last else " (no cell yet)")
    return status_text(run["status"])


def file_list(files: list[dict[str, Any]]) -> str:
    """Files of a run or cell on one line, paths shortened."""
    return (
        escape(
            ", ".join(
                short_path(f["path"]) + (f" ({f['files']:,} files)" if "files" in f else "")
                for f in files
            )
        )
        or "-"
    )


def brief(mapping: dict[str, Any], limit: int = 4) -> str:
    items = [f"{k}={v}" for k, v in list(mapping.items())[:limit]]
    if len(mapping) > limit:
        items.append("…")
    return escape(", ".join(items))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jupyter-lineage", prog_name="jupyter lineage")
def cli() -> None:
    """Lineage of your notebooks: which data and code made which model."""
