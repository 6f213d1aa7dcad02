"""The tracker in-process: what it keeps, retries and refuses when the store misbehaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.store import Store


def _cells(tracker: Tracker, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        tracker.begin_execution(f"x = {i}", f"c{i}")
        tracker.end_execution(execution_count=i)


def test_a_refused_record_does_not_block_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "l.db"
    t = Tracker(db=str(db))
    _cells(t, 1)
    with Store(db) as store:  # something else took seq 1 of this run
        store.conn.execute(
            "INSERT INTO executions (id, run_id, seq, started) VALUES ('x', ?, 1, 'now')",
            (t.run_id,),
        )
    _cells(t, 3, start=1)
    t.close()
    with Store(db) as store:
        seqs = [
            r[0]
            for r in store.conn.execute(
                "SELECT seq FROM executions WHERE run_id = ? AND id != 'x' ORDER BY seq",
                (t.run_id,),
            )
        ]
    assert seqs == [0, 2, 3]
    assert capsys.readouterr().err.count("refused by the store") == 1


def test_corrupt_store_keeps_records_until_it_is_moved_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "l.db"
    db.write_bytes(b"not a database" * 500)
    t = Tracker(db=str(db))
    _cells(t, 3)
    err = capsys.readouterr().err
    assert err.count("jupyter-lineage warning") == 1 and "not a readable lineage database" in err
    assert db.read_bytes() == b"not a database" * 500  # never "repaired" behind the user's back
    db.unlink()
    t.outbox.retry_now()  # skip the retry pause
    _cells(t, 1, start=3)
    t.close()
    with Store(db) as store:
        assert store.conn.execute("SELECT count(*) FROM executions").fetchone()[0] == 4
        assert store.conn.execute("SELECT status FROM runs").fetchone()[0] == "succeeded"
