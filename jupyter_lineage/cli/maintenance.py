"""Keeping the store small: gc."""

from __future__ import annotations

import click
from rich.markup import escape

from .. import api
from .base import WholeNumber, cli, console, db_option, emit_json, json_option, short_path, when


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


@cli.command("gc")
@click.option(
    "--keep-last", type=WholeNumber(), default=None, help="Keep each notebook's N newest runs."
)
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=None,
    metavar="DAYS",
    help="Only remove runs started more than DAYS ago.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@db_option
@json_option
def gc_cmd(
    keep_last: int | None, older_than: float | None, dry_run: bool, db: str | None, as_json: bool
) -> None:
    """Remove old interactive runs and the rows only they used, then vacuum the store."""
    result = api.gc(keep_last=keep_last, older_than=older_than, dry_run=dry_run, db=db)
    if as_json:
        emit_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    removed = result["removed"]
    console.print(f"gc {verb} {len(removed)} interactive run{'s' * (len(removed) != 1)}.")
    for r in removed[:20]:
        console.print(
            f"  {r['id'][:13]}  {when(r['started'])}  {escape(short_path(r['notebook']))}"
        )
    if len(removed) > 20:
        console.print(f"  … and {len(removed) - 20} more (--json lists them all)")
    if result["kept"]:
        reasons: dict[str, int] = {}
        for k in result["kept"]:
            reasons[k["why"]] = reasons.get(k["why"], 0) + 1
        said = ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
        console.print(f"kept {len(result['kept'])} that would otherwise go: {said}.")
    if not dry_run:
        console.print(f"store: {_mb(result['bytes_before'])} → {_mb(result['bytes_after'])}")
