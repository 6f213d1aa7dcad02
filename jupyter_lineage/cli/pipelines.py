"""papermill pipelines: run, reproduce, sweep, merge."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import api
from .base import (
    WholeNumber,
    brief,
    cli,
    console,
    db_option,
    emit_json,
    file_list,
    json_option,
    seconds,
    short_path,
    status_text,
)


def _summary(data: dict[str, Any]) -> None:
    took = seconds(data["duration_s"])
    console.print(
        f"[bold]run {escape(data.get('name') or data['id'])}[/] ({data['id']}) "
        f"{status_text(data['status'])} in {took}"
    )
    if data.get("cached_from"):
        console.print(f"  cached     reuses run {data['cached_from']}: nothing ran")
    console.print(
        f"  notebook   {escape(short_path(data['notebook']))} -> "
        f"{escape(short_path(data.get('output_notebook')))}"
    )
    if data["parameters"]:
        console.print(f"  parameters {brief(data['parameters'], 50)}")
    console.print(f"  read       {file_list(data['files_read'])}")
    written = [f for f in data["files_written"] if f["kind"] != "notebook"]
    console.print(f"  wrote      {file_list(written)}")
    if data["metrics"]:
        console.print(f"  metrics    {brief(data['metrics'], 50)}")
    if data["error"]:
        failing = next(
            (e for e in data["executions"] if e["id"] == data["failed_execution_id"]), None
        )
        where = f" in cell [{failing['execution_count']}]" if failing else ""
        console.print(
            f"  [red]failed{where}: {escape(data['error']['name'])}: "
            f"{escape(str(data['error']['value']))}[/]"
        )


@cli.command("run")
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--parameter",
    "pairs",
    multiple=True,
    nargs=2,
    metavar="NAME VALUE",
    help="A parameter (types inferred as papermill does). Repeatable.",
)
@click.option(
    "-y",
    "--parameters-yaml",
    "yaml_texts",
    multiple=True,
    metavar="YAML",
    help="Parameters as a YAML string.",
)
@click.option(
    "-f",
    "--parameters-file",
    "yaml_files",
    multiple=True,
    metavar="FILE",
    help="Parameters from a YAML file.",
)
@click.option(
    "--output", "-o", help="Where to write the executed notebook (default .lineage/runs/RUN.ipynb)."
)
@click.option("--cwd", help="Working folder of the kernel (default: the notebook's).")
@click.option("--kernel", "-k", help="Kernel name (default: the notebook's).")
@click.option("--log-output", is_flag=True, help="Stream the notebook's output to stderr.")
@click.option(
    "--cache",
    is_flag=True,
    help="Reuse an identical earlier run (same code, parameters, inputs; outputs intact).",
)
@click.option("--name", help="Name the run (default: a generated adjective-noun-NN).")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show papermill's per-cell progress bar on stderr while the notebook runs"
    " [default: when stderr is a terminal].",
)
@click.option("--report-mode", is_flag=True, help="Hide the code cells' input (as papermill).")
@click.option(
    "--request-save-on-cell-execute/--no-request-save-on-cell-execute",
    default=True,
    show_default=True,
    help="Save the output notebook after each cell (as papermill).",
)
@click.option(
    "--autosave-cell-every",
    type=WholeNumber(),
    default=30,
    show_default=True,
    metavar="SECONDS",
    help="Save the output notebook this often during a long cell; 0 never (as papermill).",
)
@click.option(
    "--execution-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Fail a cell that runs longer than this (default: never; as papermill).",
)
@click.option(
    "--start-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the kernel to start (as papermill).",
)
@db_option
@json_option
def run_cmd(
    notebook: str,
    pairs: tuple[tuple[str, str], ...],
    yaml_texts: tuple[str, ...],
    yaml_files: tuple[str, ...],
    output: str | None,
    cwd: str | None,
    kernel: str | None,
    log_output: bool,
    cache: bool,
    name: str | None,
    progress: bool | None,
    report_mode: bool,
    request_save_on_cell_execute: bool,
    autosave_cell_every: int,
    execution_timeout: float | None,
    start_timeout: float,
    db: str | None,
    as_json: bool,
) -> None:
    """Execute NOTEBOOK with papermill as a tracked, reproducible run.

    Exits 0 when the notebook succeeds and 1 when it fails, and writes the same output
    notebook, as papermill does (a cell calling ``sys.exit(0)`` ends it successfully); the run
    is recorded either way.
    """
    from ..pipeline.params import collect

    parameters = collect(pairs, yaml_texts, yaml_files)
    data = api.run(
        notebook,
        parameters,
        output=output,
        cwd=cwd,
        kernel=kernel,
        db=db,
        log_output=log_output,
        cache=cache,
        name=name,
        progress=sys.stderr.isatty() if progress is None else progress,
        report_mode=report_mode,
        request_save_on_cell_execute=request_save_on_cell_execute,
        autosave_cell_every=autosave_cell_every,
        execution_timeout=execution_timeout,
        start_timeout=start_timeout,
    )
    if as_json:
        emit_json(data)
    else:
        _summary(data)
    if data["exit_code"]:
        raise click.exceptions.Exit(data["exit_code"])


@cli.command("reproduce")
@click.argument("run")
@click.option("--strict", is_flag=True, help="Exit 1 unless the reproduction is identical.")
@click.option("--output", "-o", help="Where to write the re-executed notebook.")
@click.option("--notebook", help="Resolve @last within this notebook's runs.")
@click.option(
    "--isolated",
    is_flag=True,
    help="Run in a virtual environment with the run's recorded packages (built once, cached).",
)
@click.option(
    "--python", metavar="X.Y", help="With --isolated: build the environment with this Python."
)
@click.option(
    "--installer",
    type=click.Choice(["auto", "uv", "pip"]),
    default="auto",
    show_default=True,
    help="With --isolated: uv when on PATH (auto), or force one.",
)
@db_option
@json_option
def reproduce_cmd(
    run: str,
    strict: bool,
    output: str | None,
    notebook: str | None,
    isolated: bool,
    python: str | None,
    installer: str,
    db: str | None,
    as_json: bool,
) -> None:
    """Re-execute RUN's notebook with its parameters and say exactly what differs.

    Verdict: identical, equivalent (same outputs, other environment), differs, or failed.
    With --isolated the notebook runs in a virtual environment holding exactly the run's
    recorded packages (uv or pip, exact pins); a package that cannot be installed is an error.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    report = api.reproduce(
        run,
        db=db,
        output=output,
        notebook=notebook,
        isolated=isolated,
        python=python,
        installer=None if installer == "auto" else installer,
        on_progress=None if as_json else lambda text: err.print(escape(text)),
    )
    if as_json:
        emit_json(report)
    else:
        _print_reproduction(report)
    if report["verdict"] == "failed" or (strict and report["verdict"] != "identical"):
        raise click.exceptions.Exit(1)


def _print_reproduction(report: dict[str, Any]) -> None:
    style = {"identical": "green", "equivalent": "cyan", "differs": "yellow"}.get(
        report["verdict"], "red"
    )
    console.print(
        f"[bold]{report['verdict']}[/]: run {report['reproduction']} reproduces "
        f"{report['original']}".replace("[bold]", f"[bold {style}]", 1)
    )
    env_used = report.get("isolated")
    if env_used:
        how = "reused" if env_used["reused"] else f"built with {env_used['installer']}"
        console.print(
            f"  in the run's environment (Python {env_used['python']}, {how} in "
            f"{seconds(env_used['seconds'])}): {escape(short_path(env_used['path']))}"
        )
    for item in report["inputs"]:
        if item["status"] != "same":
            console.print(f"  input  {escape(short_path(item['path']))}: {item['status']}")
    effects = report.get("package_effects") or []
    by_cell: dict[int, list[str]] = {}
    for e in effects:
        for index in e["cells"]:
            by_cell.setdefault(index, []).append(f"{e['package']} {e['a']} -> {e['b']}")
    for line in report["differences"]:
        if line.startswith("input "):
            continue
        cell = re.match(r"cell (\d+) ", line)
        why = by_cell.get(int(cell.group(1))) if cell else None
        console.print(
            f"  {escape(line)}" + (f" [dim](uses {escape(', '.join(why))})[/]" if why else "")
        )
    env = dict(report["environment"])
    packages = env.pop("packages", {})
    for name, change in packages.get("changed", {}).items():
        console.print(f"  package {escape(name)}: {change['a']} -> {change['b']}")
    for key in ("added", "removed"):
        if packages.get(key):
            console.print(f"  packages {key}: {brief(packages[key], 10)}")
    for key, change in env.items():
        console.print(f"  {key}: {escape(str(change['a']))} -> {escape(str(change['b']))}")
    git = report["git"]
    if "commit" in git:
        a, b = git["commit"]["a"], git["commit"]["b"]
        console.print(f"  git commit {str(a)[:12]} -> {str(b)[:12]}")
    if "diff" in git:
        console.print("  uncommitted changes differ")
    if effects and report["verdict"] in ("differs", "failed") and not env_used:
        console.print(
            f"  package versions differ from the run's: `jupyter lineage reproduce "
            f"{report['original']} --isolated` re-runs it in its recorded environment"
        )


@cli.command("env")
@click.argument("run")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["requirements", "pylock", "conda", "json"]),
    default="requirements",
    show_default=True,
    help="requirements.txt, PEP 751 pylock.toml, conda environment.yml, or JSON.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option("--notebook", help="Resolve @last within this notebook's runs.")
@db_option
@json_option
def env_cmd(
    fmt: str, run: str, output: str | None, notebook: str | None, db: str | None, as_json: bool
) -> None:
    """RUN's recorded packages as a file a package manager accepts (exact pins).

    Packages installed from a local folder or VCS are written as that folder or commit, with a
    comment saying so; the Python version is stated.
    """
    data = api.env(run, fmt=fmt, db=db, notebook=notebook)
    if output:
        Path(output).write_text(data["text"], encoding="utf-8")
    if as_json:
        emit_json(data)
    elif output:
        console.print(f"wrote {escape(output)}")
    else:
        click.echo(data["text"], nl=False)


@cli.command("sweep", context_settings={"ignore_unknown_options": False})
@click.argument("notebook", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--parameter",
    "pairs",
    multiple=True,
    nargs=2,
    metavar="NAME V1 [V2 …]",
    help="A swept parameter and its values. Repeatable.",
)
@click.option(
    "--workers",
    type=WholeNumber(1, 256),
    default=None,
    help="Local worker processes (default: the CPU count).",
)
@click.option("--scheduler", metavar="ADDRESS", help="Run on this dask.distributed scheduler.")
@click.option("--sort", "sort_by", metavar="METRIC", help="Order the table by this metric.")
@click.option("--ascending", is_flag=True, help="With --sort: lowest first.")
@click.option("--cwd", help="Working folder of the kernels (default: the notebook's).")
@click.option("--kernel", help="Kernel name (default: the notebook's).")
@click.option("--cache", is_flag=True, help="Reuse identical earlier runs of grid points.")
@db_option
@json_option
def sweep_cmd(
    notebook: str,
    pairs: tuple[tuple[str, str], ...],
    workers: int | None,
    scheduler: str | None,
    sort_by: str | None,
    ascending: bool,
    cwd: str | None,
    kernel: str | None,
    cache: bool,
    db: str | None,
    as_json: bool,
) -> None:
    """Run NOTEBOOK over the grid of parameter values, in parallel; one child run per point."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..pipeline.params import resolve_type

    values: dict[str, list[Any]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(resolve_type(value))
    if not values:
        raise click.UsageError("give at least one -p NAME V1 [V2 …]")
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=as_json,
    )
    task = progress.add_task("sweep", total=None)

    def started(total: int) -> None:
        progress.update(task, total=total)
        progress.start()
        shown.append(True)

    shown: list[bool] = []

    try:
        report = api.sweep(
            notebook,
            values,
            workers=workers,
            scheduler=scheduler,
            db=db,
            cwd=cwd,
            kernel=kernel,
            cache=cache,
            on_start=started,
            on_result=lambda r: progress.advance(task),
        )
    finally:
        if shown:
            progress.stop()
    points = report["points"]
    if sort_by:

        def key(r: dict[str, Any]) -> float:
            v = r["metrics"].get(sort_by)
            return float(v) if isinstance(v, int | float) else float("nan")

        present = [r for r in points if isinstance(r["metrics"].get(sort_by), int | float)]
        missing = [r for r in points if r not in present]
        points = sorted(present, key=key, reverse=not ascending) + missing
    if as_json:
        emit_json({**report, "points": points})
    else:
        table = Table(
            box=None, header_style="bold", title=f"sweep {report['sweep']}", title_justify="left"
        )
        for col in ("#", *values, "status", "took", "metrics", "run"):
            table.add_column(col)
        for r in points:
            table.add_row(
                str(r["index"]),
                *(escape(str(r["parameters"][n])) for n in values),
                status_text(r["status"]),
                f"{r['duration_s']:.1f} s",
                brief(r["metrics"], 6) if r["metrics"] else escape((r["error"] or "")[:60]),
                (r["run_id"] or "-")[:13],
            )
        console.print(table)
    if report["failed"]:
        raise click.exceptions.Exit(1)


@cli.command("merge")
@click.argument("other", type=click.Path(dir_okay=False))
@db_option
@json_option
def merge_cmd(other: str, db: str | None, as_json: bool) -> None:
    """Merge the lineage database OTHER into this one (safe to repeat)."""
    added = api.merge(other, db=db)
    if as_json:
        emit_json(added)
        return
    total = sum(added.values())
    parts = ", ".join(f"{n} {t}" for t, n in added.items() if n)
    console.print(f"merged {escape(other)}: {total} new records" + (f" ({parts})" if parts else ""))


def expand_sweep_values(argv: list[str]) -> list[str]:
    """``sweep -p NAME V1 V2 V3`` -> ``-p NAME V1 -p NAME V2 -p NAME V3`` for click."""
    if "sweep" not in argv:
        return argv
    out: list[str] = []
    i = 0

    def is_option(token: str) -> bool:
        if not token.startswith("-") or token == "-":
            return False
        try:
            float(token)
            return False
        except ValueError:
            return True

    while i < len(argv):
        token = argv[i]
        if token in ("-p", "--parameter") and i + 2 < len(argv) + 1:
            name = argv[i + 1] if i + 1 < len(argv) else None
            j = i + 2
            vals = []
            while j < len(argv) and not is_option(argv[j]):
                vals.append(argv[j])
                j += 1
            if name is None or not vals:
                out.extend(argv[i:j])
            else:
                for v in vals:
                    out.extend([token, name, v])
            i = j
        else:
            out.append(token)
            i += 1
    return out
