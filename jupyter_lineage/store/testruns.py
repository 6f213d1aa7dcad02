"""Runs of kind ``test`` (``pytest --nbval --lineage``): each notebook cell's outcome and the
pytest id it ran under."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .db import Store


def record_cells(store: Store, run_id: str, cells: Iterable[dict[str, Any]]) -> None:
    """``cells``: ``{cell, nodeid, outcome, message}`` each (outcome passed, failed, skipped)."""
    with store.write() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO test_cells (run_id, cell, nodeid, outcome, message)"
            " VALUES (?, ?, ?, ?, ?)",
            [(run_id, c["cell"], c["nodeid"], c["outcome"], c.get("message")) for c in cells],
        )


def cells(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's cell outcomes in cell order (empty for runs that are not tests)."""
    return store.query(
        "SELECT cell, nodeid, outcome, message FROM test_cells WHERE run_id = ? ORDER BY cell",
        (run_id,),
    )
