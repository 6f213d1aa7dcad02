"""CLI habits: `--help` lists one-line summaries that fit (never cut mid-sentence), every
command's help ends with Examples that name real commands, `--db` says how the store is found."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from jupyter_lineage.cli import cli
from jupyter_lineage.cli.help import HELP

from .conftest import lineage


def _commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        found[f"{prefix}{name}"] = command
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{prefix}{name} "))
    return found


COMMANDS = _commands()


def test_every_command_has_a_summary_and_examples() -> None:
    assert sorted(COMMANDS) == sorted(HELP), "add the command to jupyter_lineage/cli/help.py"


def test_the_command_list_is_not_cut() -> None:
    listing = lineage("--help").stdout
    commands = listing.split("Commands:")[1]
    assert "..." not in commands
    for name, (summary, _) in HELP.items():
        if " " not in name:
            assert summary in " ".join(commands.split()), name
        assert len(summary) <= 66 and not summary.endswith("..."), name


@pytest.mark.parametrize("path", sorted(HELP))
def test_help_ends_with_examples_of_real_commands(path: str) -> None:
    result = CliRunner().invoke(cli, [*path.split(), "--help"], prog_name="jupyter lineage")
    assert result.exit_code == 0, result.output
    text = result.output
    examples = text.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert examples, path
    for line in examples:
        words = line.split()
        assert words[:2] == ["jupyter", "lineage"], line
        assert words[2] in COMMANDS, line


def test_db_help_says_how_the_store_is_found() -> None:
    text = " ".join(lineage("runs", "--help").stdout.split())
    assert "nearest .lineage/lineage.db in the current folder or its parents" in text
