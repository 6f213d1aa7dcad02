"""Every command's one-line summary (what `jupyter lineage --help` lists, never cut) and its
Examples section (the end of `jupyter lineage COMMAND --help`), in one table so they stay short
and consistent; tests/test_cli_help.py checks each command has both."""

from __future__ import annotations

import inspect

import click

# command path -> (one-line summary, examples)
HELP: dict[str, tuple[str, list[str]]] = {
    "runs": (
        "List runs, newest first (filter, sort, choose columns).",
        [
            "jupyter lineage runs --limit 10",
            "jupyter lineage runs --where 'auc > 0.8' --where 'params.C = 0.5'",
            "jupyter lineage runs --sort auc --columns name,params.C,auc,status",
        ],
    ),
    "rename": (
        "Name a run (names work wherever an id does); add a note.",
        [
            'jupyter lineage rename @last baseline --note "first model, C=1"',
            "jupyter lineage diff baseline @last",
        ],
    ),
    "show": (
        "Everything about one run: parameters, metrics, cells, files.",
        ["jupyter lineage show @last", "jupyter lineage show brisk-otter-42 --json"],
    ),
    "sources": (
        "The code of a run as it was executed, in order.",
        ["jupyter lineage sources @last"],
    ),
    "trace": (
        "How was this file made (or what was made from it)?",
        [
            "jupyter lineage trace out/model.joblib",
            "jupyter lineage trace data/customers.csv --downstream",
        ],
    ),
    "gather": (
        "Write the minimal notebook that rebuilds a file.",
        ["jupyter lineage gather out/model.joblib -o rebuild.ipynb --verify"],
    ),
    "diff": (
        "What changed between two runs (params, code, files, metrics).",
        ["jupyter lineage diff @last~1 @last", "jupyter lineage diff baseline tuned --json"],
    ),
    "status": (
        "Which outputs are stale, and what re-runs them (exit 1 if any).",
        ["jupyter lineage status", "jupyter lineage status out/model.joblib --json"],
    ),
    "run": (
        "Run a notebook with papermill as a tracked, reproducible run.",
        [
            "jupyter lineage run train.ipynb -p C 0.5",
            "jupyter lineage run train.ipynb -f params.yaml --name tuned",
        ],
    ),
    "reproduce": (
        "Re-run a pipeline run and say exactly what differs.",
        [
            "jupyter lineage reproduce @last --strict",
            "jupyter lineage reproduce baseline --isolated",
        ],
    ),
    "sweep": (
        "Run a notebook over a grid of parameters, in parallel.",
        ["jupyter lineage sweep train.ipynb -p C 0.1 0.5 1 --workers 2 --sort auc"],
    ),
    "env": (
        "A run's packages as requirements, pylock, conda or JSON.",
        ["jupyter lineage env @last --format pylock -o pylock.toml"],
    ),
    "merge": (
        "Merge another lineage database into this one (idempotent).",
        ["jupyter lineage merge other-machine.db"],
    ),
    "export": (
        "Export lineage as OpenLineage, PROV-JSON, DOT or Mermaid.",
        [
            "jupyter lineage export --format openlineage",
            "jupyter lineage export --format dot --run @last -o run.dot",
        ],
    ),
    "emit": (
        "POST OpenLineage events to a backend (Marquez, DataHub, …).",
        ["jupyter lineage emit --url http://marquez:5000"],
    ),
    "dag": (
        "The pipeline inferred from the notebooks' latest runs.",
        ["jupyter lineage dag", "jupyter lineage dag --format mermaid -o dag.md"],
    ),
    "repro": (
        "Re-run exactly the stale stages of the pipeline, in order.",
        ["jupyter lineage repro --dry-run", "jupyter lineage repro out/model.joblib -j 2"],
    ),
    "models": (
        "Every model version with the run that made it.",
        ["jupyter lineage models", "jupyter lineage models --tag production"],
    ),
    "models show": (
        "One model version: its run, inputs, environment, versions.",
        ["jupyter lineage models show out/model.joblib@production"],
    ),
    "tag": (
        "Name a model version (e.g. production); the tag moves.",
        ["jupyter lineage tag out/model.joblib production"],
    ),
    "gc": (
        "Remove old interactive runs and what only they used.",
        ["jupyter lineage gc --keep-last 20 --dry-run"],
    ),
    "enable": (
        "Track every notebook of a scope without %load_ext.",
        ["jupyter lineage enable", "jupyter lineage enable --project"],
    ),
    "disable": (
        "Undo enable for a scope.",
        ["jupyter lineage disable --project"],
    ),
    "doctor": (
        "Is tracking on here? One line per check, with its fix.",
        ["jupyter lineage doctor"],
    ),
}


def apply(group: click.Group, prefix: str = "") -> None:
    """Set each command's summary and append its Examples section (``\\b`` keeps click from
    re-wrapping the lines)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        entry = HELP.get(path)
        if entry is not None:
            summary, examples = entry
            command.short_help = summary
            if examples and "Examples:" not in (command.help or ""):
                lines = "\n".join(f"  {e}" for e in examples)
                text = inspect.cleandoc(command.help or summary)
                command.help = f"{text}\n\n\b\nExamples:\n{lines}\n"
        if isinstance(command, click.Group):
            apply(command, f"{path} ")
