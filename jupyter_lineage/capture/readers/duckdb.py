"""DuckDB: files named in SQL (``FROM 'x.parquet'``, ``read_csv('*.csv')``, ``COPY … TO``,
``ATTACH``), its ``read_*`` functions, relations written out, and ``.duckdb`` databases.

DuckDB opens files in C++; its SQL is the only place the paths are. A quoted literal is a read
when it names a file or a glob with matches (so ``'2024-01-01'`` is not), a write after ``TO``,
a database after ``ATTACH``. A database opened with ``connect`` is read when opened and written
if its bytes changed by the cell's end, like SQLite.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .spec import Spec, Target, members, path_of, paths_in

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_BEFORE_WRITE = re.compile(r"\bTO\s*$", re.I)
_BEFORE_ATTACH = re.compile(r"\bATTACH\s+(?:DATABASE\s+)?(?:IF\s+NOT\s+EXISTS\s+)?$", re.I)
_GLOB = re.compile(r"[*?\[]")


def in_sql(sql: str) -> list[Target]:
    found: list[Target] = []
    for match in _LITERAL.finditer(sql):
        path = path_of(match.group(1).replace("''", "'"))
        if path is None:
            continue
        before = sql[max(0, match.start() - 40) : match.start()]
        if _BEFORE_WRITE.search(before):
            found.append((path, "write", "dataset"))
        elif _BEFORE_ATTACH.search(before):
            found.append((path, "database", "dataset"))
        elif os.path.isfile(path) or (_GLOB.search(path) and members(path) != [path]):
            found.append((path, "read", "dataset"))
    return found


def _sql(index: int) -> Any:
    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
        query = args[index] if len(args) > index else kwargs.get("query")
        return in_sql(query) if isinstance(query, str) else []

    return targets


def _connect(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    path = path_of(args[0] if args else kwargs.get("database"))
    if path is None or path == ":memory:" or path.startswith(":memory:"):
        return []
    return [(path, "database", "dataset")]


def _files(index: int, keyword: str, role: str) -> Any:
    def targets(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
        value = args[index] if len(args) > index else kwargs.get(keyword)
        return [(p, role, "dataset") for p in paths_in(value)]

    return targets


_READERS = ("read_csv", "read_parquet", "read_json", "from_csv_auto", "from_parquet")
_SQL = ("sql", "query", "execute", "executemany")

SPECS = (
    Spec("duckdb", "duckdb", "connect", "read", targets=_connect),
    *(Spec("duckdb", "duckdb", name, expand=True, targets=_sql(0)) for name in _SQL),
    *(
        Spec("duckdb", "duckdb", f"DuckDBPyConnection.{name}", expand=True, targets=_sql(1))
        for name in _SQL
    ),
    *(
        Spec("duckdb", "duckdb", name, expand=True, targets=_files(0, "path_or_buffer", "read"))
        for name in _READERS
    ),
    *(
        Spec(
            "duckdb",
            "duckdb",
            f"DuckDBPyConnection.{name}",
            expand=True,
            targets=_files(1, "path_or_buffer", "read"),
        )
        for name in _READERS
    ),
    *(
        Spec(
            "duckdb",
            "duckdb",
            f"DuckDBPyRelation.{name}",
            "write",
            expand=True,
            targets=_files(1, "file_name", "write"),
        )
        for name in ("write_parquet", "to_parquet", "write_csv", "to_csv")
    ),
)
