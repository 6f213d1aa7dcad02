"""Small helpers the read queries share: ids in chunks for ``IN (…)`` lists, JSON column values."""

from __future__ import annotations

import json
from typing import Any

# SQLite allows 999 bound parameters per statement in older builds: stay well below.
CHUNK = 500


def chunks(items: list[str], size: int = CHUNK) -> list[list[str]]:
    """``items`` in slices for ``IN (…)``; one empty slice when there are none, so callers that
    build a query per slice still run once (and find nothing)."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def marks(items: list[str]) -> str:
    """The ``?, ?, …`` placeholders for one ``IN (…)`` list."""
    return ",".join("?" * len(items))


def loads(value: Any) -> Any:
    """A JSON-encoded column value (parameters, non-numeric metrics); other text as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
