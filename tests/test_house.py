"""Meta-tests that keep the house tidy: documented commands, no stray prints, no import cycle."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
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


PACKAGE = ROOT / "jupyter_lineage"
# Outside store/, sqlite3 is not even imported: the store translates SQLite's errors into its
# own (errors.StoreError and subclasses), so capture, the CLI and the server never see sqlite3.
SQL_TEXT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|ATTACH|DETACH|BEGIN"
    r"|COMMIT|ROLLBACK|VACUUM|WITH)\s"
)
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
# What store/ may import from the package: itself and the leaf modules below it.
# The leaves: errors and ids; hashing (content and folder tree hashes, the text a folder's
# member list is kept as); inputs (checks on user values), faults (why a write failed),
# private (owner-only folders), secrets and urls (redaction) — none imports the package.
STORE_MAY_IMPORT = {
    "jupyter_lineage.store",
    "jupyter_lineage.errors",
    "jupyter_lineage.hashing",
    "jupyter_lineage.ids",
    "jupyter_lineage.inputs",
    "jupyter_lineage.faults",
    "jupyter_lineage.private",
    "jupyter_lineage.redaction",
    "jupyter_lineage.urls",
}


def sql_outside_store(source: str) -> list[str]:
    """Where code that is not in store/ touches SQLite: an import of sqlite3, SQL text, the
    store's connection (``.conn``), a statement passed to ``execute``/``query``."""
    tree = ast.parse(source)
    aliases = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "sqlite3":
                    aliases.add(a.asname or a.name)
                    found.append(f"{node.lineno}: import sqlite3")
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
            found += [f"{node.lineno}: from sqlite3 import {a.name}" for a in node.names]
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(f"{line}: sqlite3.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"{line}: .conn")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_TEXT.match(node.value):
                found.append(f"{line}: SQL text {node.value[:30]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
        ):
            found.append(f"{line}: .{node.func.attr}(<SQL>)")
    return found


def package_imports(path: Path) -> set[str]:
    """The jupyter_lineage modules ``path`` imports (relative imports resolved)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.add(module)
            out |= {f"{module}.{a.name}" for a in node.names}  # `from . import diff`
    return {m for m in out if m == "jupyter_lineage" or m.startswith("jupyter_lineage.")}


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative.with_suffix(".py")).exists() or (ROOT / relative).is_dir()


def test_the_boundary_check_sees_sql() -> None:
    """The check below is not vacuous: each way of reaching SQLite is caught."""
    sample = (
        "import sqlite3\n"
        "from sqlite3 import connect\n"
        "con = sqlite3.connect('x.db')\n"
        "store.conn.execute('UPDATE runs SET status = ?', ('x',))\n"
        "store.query(f'SELECT {cols} FROM runs')\n"
        "try:\n    pass\nexcept sqlite3.OperationalError:\n    pass\n"
    )
    found = {f.split(": ", 1)[1] for f in sql_outside_store(sample)}
    assert found == {
        "import sqlite3",
        "from sqlite3 import connect",
        "sqlite3.connect",
        "sqlite3.OperationalError",
        ".conn",
        ".execute(<SQL>)",
        "SQL text 'UPDATE runs SET status = ?'",
        ".query(<SQL>)",
        "SQL text 'SELECT '",
    }


def test_only_the_store_reads_or_writes_sqlite() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "store" in path.relative_to(PACKAGE).parts:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{f}" for f in sql_outside_store(path.read_text())]
    assert offenders == []


def test_the_store_imports_nothing_above_it() -> None:
    """store/ is the bottom layer: capture, pipeline, export, server, cli and the domain
    modules (diff, staleness, graph, tracing) call it, never the other way round."""
    upward = []
    for path in sorted((PACKAGE / "store").rglob("*.py")):
        for module in package_imports(path):
            if not _is_module(module):
                continue  # a name imported from a module, e.g. jupyter_lineage.errors.UsageError
            if not any(module == ok or module.startswith(ok + ".") for ok in STORE_MAY_IMPORT):
                upward.append(f"{path.relative_to(ROOT)} imports {module}")
    assert upward == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module is imported: not function bodies, not TYPE_CHECKING."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_time_statements(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from _import_time_statements(inner)
            elif isinstance(inner, list):  # except handlers
                for handler in inner:
                    if isinstance(handler, ast.ExceptHandler):
                        yield from _import_time_statements(handler.body)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports at import time (module-level imports)."""
    files = {_module_name(p): p for p in (ROOT / "jupyter_lineage").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        targets: set[str] = set()
        for node in _import_time_statements(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:  # a submodule, else a name the module defines
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in files else module)
        for target in targets:
            if target not in files:
                continue
            graph[name].add(target)
            # Importing a.b.c first runs a/__init__ and a/b/__init__ (those not already running).
            parts = target.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                if parent in files and parent not in ancestors and parent != name:
                    graph[name].add(parent)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert graph["jupyter_lineage.api"] >= {"jupyter_lineage.tracing"}  # the graph is real
    assert _cycles(graph) == []


def test_import_cycles_are_detected() -> None:
    """The detector itself: a cycle through a package __init__ is found."""
    graph = {"p": {"p.a"}, "p.a": {"p.b"}, "p.b": {"p"}, "q": set()}
    assert _cycles(graph) == [["p", "p.a", "p.b"]]


def test_version_agrees_with_package_json() -> None:
    """The wheel's version comes from package.json (hatch-nodejs-version); __version__ too."""
    import json

    from jupyter_lineage import __version__

    assert __version__ == json.loads((ROOT / "package.json").read_text())["version"]
