"""Meta-tests that keep the house tidy: documented commands, no stray prints."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from jupyter_lineage.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_documented(name: str) -> None:
    command = cli.commands[name]
    assert command.help, f"`jupyter lineage {name}` has no help text"
    with click.Context(command, info_name=name) as ctx:
        assert command.get_help(ctx)
    docs = (ROOT / "docs" / "cli.md").read_text()
    assert re.search(rf"^## `jupyter lineage {name}`", docs, re.M), (
        f"docs/cli.md has no section for `jupyter lineage {name}`"
    )


def test_no_print_in_library_code() -> None:
    offenders = []
    for path in (ROOT / "jupyter_lineage").rglob("*.py"):
        if "cli" in path.parts or path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_readme_quick_start_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make demo" in quick and "make test" in quick


def test_show_keys_are_documented() -> None:
    """The `show --json` contract in docs/cli.md names every key the API returns."""
    import tempfile

    from jupyter_lineage.store import Store, queries, writes

    with tempfile.TemporaryDirectory() as tmp, Store(f"{tmp}/l.db") as store:
        keys = set(queries.show_run(store, writes.begin_run(store, kind="script")))
    docs = (ROOT / "docs" / "cli.md").read_text()
    missing = sorted(k for k in keys if f"`{k}`" not in docs and f'"{k}"' not in docs)
    assert missing == []
