"""``gather``: the minimal notebook that rebuilds one file version."""

from __future__ import annotations

import click
from rich.markup import escape

from .. import api
from .base import cli, console, db_option, emit_json, json_option, short_path

_VERDICT_STYLE = {"identical": "green", "equivalent": "cyan", "differs": "yellow", "failed": "red"}


@cli.command("gather")
@click.argument("target")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    help="Where to write the notebook (default: TARGET-STEM.gathered.ipynb here).",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Run the gathered notebook (papermill, the run's folder and parameters) and say whether "
    "it rebuilds TARGET: identical, equivalent or differs (exit 1 unless identical or "
    "equivalent).",
)
@db_option
@json_option
def gather_cmd(
    target: str, output: str | None, verify: bool, db: str | None, as_json: bool
) -> None:
    """Write the minimal notebook that rebuilds TARGET: the cells it depends on, in the order
    they ran, the parameters cell first."""
    data = api.gather(target, output=output, verify=verify, db=db)
    verification = data["verification"]
    if as_json:
        emit_json(data)
    else:
        if data["note"]:
            console.print(f"[yellow]note:[/] {escape(data['note'])}")
        counts = " ".join(
            f"[{c['execution_count'] if c['execution_count'] is not None else '-'}]"
            for c in data["cells"]
        )
        console.print(
            f"wrote {escape(short_path(data['output']))}: {len(data['cells'])} cell(s) of run "
            f"{data['run'][:13]} ({escape(short_path(data['notebook']))}) {counts}"
        )
        if data["whole_run"]:
            console.print(
                "[yellow]note:[/] that run was recorded without dataflow: every earlier cell "
                "is included."
            )
        if verification:
            style = _VERDICT_STYLE.get(verification["verdict"], "white")
            console.print(
                f"verify: [{style}]{verification['verdict']}[/] (run {verification['run'][:13]})"
            )
            for line in verification["differences"]:
                console.print(f"  {escape(line)}")
    if verification and verification["verdict"] not in ("identical", "equivalent"):
        raise click.exceptions.Exit(1)
