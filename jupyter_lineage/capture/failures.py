"""What a failed write means for the user, in one sentence each: the warning's kind (one
warning per kind) and its text."""

from __future__ import annotations

from pathlib import Path

from ..errors import SchemaTooNewError


def describe_failure(exc: BaseException, db_path: Path) -> tuple[str, str]:
    text = str(exc)
    if isinstance(exc, SchemaTooNewError):
        kind, msg = "schema", text
    elif "readonly" in text or "read-only" in text or "Permission denied" in text:
        kind = "readonly"
        msg = (
            f"the lineage database {db_path} is read-only, so lineage is kept in "
            "memory for now. Make it writable (or set $JUPYTER_LINEAGE_DB) and it is "
            "written on the next cell."
        )
    elif any(t in text for t in ("full", "File too large", "No space", "disk I/O error")):
        kind = "disk_full"
        msg = (
            f"writing to the disk holding {db_path} failed ({text}: is it full?), so "
            "lineage is kept in memory for now. Free some space and it is written on the "
            "next cell."
        )
    elif "not a database" in text or "malformed" in text or "not a readable" in text:
        kind = "corrupt"
        msg = (
            f"{db_path} is not a readable lineage database. Move it aside and "
            "tracking resumes into a new file on the next cell."
        )
    elif "locked" in text or "busy" in text:
        kind, msg = "locked", f"the lineage database is busy ({text}); will retry."
    else:
        kind, msg = "store", f"could not write lineage ({type(exc).__name__}: {text})."
    return kind, msg
