"""Time order never rests on the wall clock: a run recorded by a process whose clock was stepped
back an hour is still `@last`, and the output it wrote is `ok`, not `modified`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from jupyter_lineage.staleness import stale
from jupyter_lineage.store import Store, queries
from jupyter_lineage.tracing import trace

# A recording process (a tracked script: the tracker, its writer, the store) whose clock reads
# SHIFT seconds off: every clock it reads (time.time, time.time_ns, datetime.now) is shifted.
RECORD = textwrap.dedent(
    """
    import datetime as dt, sys, time
    shift = float(sys.argv[4])
    real_time, real_ns = time.time, time.time_ns
    time.time = lambda: real_time() + shift
    time.time_ns = lambda: real_ns() + int(shift * 1e9)

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.fromtimestamp(time.time(), tz)

    import jupyter_lineage.store.db as db
    db.datetime = Clock
    from jupyter_lineage.capture.tracker import Tracker

    folder, db_path, text = sys.argv[1], sys.argv[2], sys.argv[3]
    tracker = Tracker(kind="script", notebook=folder + "/nb.ipynb", db=db_path)
    tracker.begin_execution("open('out.txt', 'w').write(open('in.txt').read() + text)")
    with open(folder + "/in.txt") as f, open(folder + "/out.txt", "w") as out:
        out.write(f.read() + text)
    tracker.end_execution(execution_count=1)
    tracker.close()
    print(tracker.run_id)
    """
)


def _record(folder: Path, db: Path, text: str, shift: float) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", RECORD, str(folder), str(db), text, str(shift)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout.strip().splitlines()[-1]


def test_a_clock_stepped_back_an_hour_changes_no_order(tmp_path: Path) -> None:
    db = tmp_path / "lineage.db"
    (tmp_path / "in.txt").write_text("data ")
    first = _record(tmp_path, db, "v1", 0)
    second = _record(tmp_path, db, "v2", -3600)  # the clock was stepped back meanwhile
    out = str(tmp_path / "out.txt")
    with Store(db) as store:
        started = {r["id"]: r["started"] for r in queries.list_runs(store)}
        assert started[second] < started[first]  # what the clock said: the fake took hold
        assert queries.resolve_run(store, "@last") == second
        assert queries.resolve_run(store, "@last~1") == first
        assert [r["id"] for r in queries.list_runs(store)] == [second, first]
        [report] = stale(store, [out])
        assert report["state"] == "ok" and report["run"] == second
        assert trace(store, out)["runs"][0]["id"] == second
        # back to v1's content (e.g. restored from a backup): that version is found by hash
        (tmp_path / "out.txt").write_text("data v1")
        [report] = stale(store, [out])
        assert report["state"] == "ok" and report["run"] == first
