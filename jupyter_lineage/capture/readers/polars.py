"""polars: eager ``read_*``/``write_*``, and lazy ``scan_*`` recorded when the query runs.

A ``scan_*`` reads nothing: the files are read by ``collect()`` or a ``sink_*``, maybe in a later
cell, maybe after joins with other scans. So a scan only remembers the files it stands for (a
glob or folder expanded once), and the query that runs notes the scans in its plan
(``explain``: each ``SCAN [first file, … N other sources]`` line names its first file, which
leads back to the scan's files).
"""

from __future__ import annotations

import os
import re
from typing import Any

from .spec import Spec, Target, members, paths_in

_SCAN = re.compile(r"SCAN \[([^\]\n]*)\]")
_scanned: dict[str, tuple[str, ...]] = {}  # a scan's first file -> all its files (bounded)
_SCANNED_MAX = 10_000


def _scan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    """Nothing is read yet: remember the files, to be noted when a query over them runs."""
    value = args[0] if args else kwargs.get("source")
    files: list[str] = []
    for path in paths_in(value):
        files.extend(os.path.abspath(p) for p in members(path))
    if files:
        if len(_scanned) >= _SCANNED_MAX:
            _scanned.clear()
        _scanned[files[0]] = tuple(files)
    return []


def _query(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    """The files of every scan in the plan of the LazyFrame that runs (``args[0]``)."""
    plan = args[0].explain(optimized=False)
    found: list[Target] = []
    for listed in _SCAN.findall(plan):
        first = listed.split(", ... ", 1)[0].split(", ")[0].strip()
        if not first:
            continue
        path = os.path.abspath(first)
        for member in _scanned.get(path, (path,)):
            found.append((member, "read", "dataset"))
    return found


def _sink(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    target = args[1] if len(args) > 1 else kwargs.get("path")
    return _query(args, kwargs) + [(p, "write", "dataset") for p in paths_in(target)]


def _read(target: str) -> Spec:
    return Spec("polars", "polars", target, "read", "dataset", 0, "source", expand=True)


def _write(target: str) -> Spec:
    return Spec("polars", "polars", target, "write", "dataset", 1, "file", expand=True)


SPECS = (
    *(_read(f"read_{fmt}") for fmt in ("csv", "parquet", "ipc", "ipc_stream", "json", "ndjson")),
    _read("read_avro"),
    _read("read_excel"),
    *(
        Spec("polars", "polars", f"scan_{fmt}", targets=_scan)
        for fmt in ("csv", "parquet", "ipc", "ndjson")
    ),
    Spec("polars", "polars", "LazyFrame.collect", targets=_query),
    *(
        Spec("polars", "polars", f"LazyFrame.sink_{fmt}", "write", expand=True, targets=_sink)
        for fmt in ("parquet", "csv", "ipc", "ndjson")
    ),
    *(_write(f"DataFrame.write_{fmt}") for fmt in ("csv", "parquet", "ipc", "json", "ndjson")),
    _write("DataFrame.write_avro"),
    _write("DataFrame.write_ipc_stream"),
)
