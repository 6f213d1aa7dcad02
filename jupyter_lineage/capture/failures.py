"""What a failed write means for the user, in one sentence each: the warning's kind (one
warning per kind) and its text; and the one place that tells the user."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ..errors import NotAStoreError, SchemaTooNewError, StoreBusyError, StoreUnwritableError
from ..faults import diagnose, is_write_failure
from ..store.db import unwritable


def describe_failure(exc: BaseException, db_path: Path) -> tuple[str, str]:
    """The store says what went wrong by the type of its error (store/db.py translates SQLite's);
    anything else is reported with its own words."""
    text = str(exc)
    if isinstance(exc, SchemaTooNewError):
        kind, msg = "schema", text
    elif isinstance(exc, StoreUnwritableError):
        # The filesystem says which it is: read-only (file, folder or mount) or full.
        reason, what = diagnose(db_path, exc.__cause__ or exc)
        if reason == "read_only":
            kind = "readonly"
            msg = (
                f"{what}, so lineage is kept in memory for now. Make it writable (or set "
                "$JUPYTER_LINEAGE_DB) and it is written on the next cell."
            )
        elif reason == "disk_full":
            kind = "disk_full"
            msg = (
                f"{what}, so lineage is kept in memory for now. Free some space and it is "
                "written on the next cell."
            )
        else:
            kind = "store"
            msg = f"{what}, so lineage is kept in memory for now; it is retried on the next cell."
    elif isinstance(exc, NotAStoreError):
        kind = "corrupt"
        msg = (
            f"{db_path} is not a readable lineage database. Move it aside and "
            "tracking resumes into a new file on the next cell."
        )
    elif isinstance(exc, StoreBusyError):
        kind, msg = "locked", f"the lineage database is busy ({text}); will retry."
    elif isinstance(exc, OSError) and is_write_failure(exc):
        kind, msg = describe_failure(unwritable(db_path, exc), db_path)
    else:
        kind, msg = "store", f"could not write lineage ({type(exc).__name__}: {text})."
    return kind, msg


class Warner:
    """Tells the user once per kind of failure, on stderr (in a kernel: under the cell)."""

    def __init__(self) -> None:
        self.warned: set[str] = set()

    def __call__(self, kind: str, message: str) -> None:
        if kind in self.warned:
            return
        self.warned.add(kind)
        with contextlib.suppress(Exception):
            sys.stderr.write(f"jupyter-lineage warning: {message} Your code is unaffected.\n")
            sys.stderr.flush()

    def failed(self, exc: BaseException, db_path: Path) -> None:
        self(*describe_failure(exc, db_path))
