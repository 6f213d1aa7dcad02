"""A hard kill loses nothing that finished; failures are counted, never silent (docs/capture.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from jupyter_lineage.store import journal, writes

from .conftest import db_dump, lineage, lineage_json
from .kernel import Kernel

WARNING = "jupyter-lineage warning"


def _kill(k: Kernel) -> None:
    """What the OOM killer does: SIGKILL, no atexit, no flush."""
    process = k.km.provisioner.process  # type: ignore[attr-defined]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    k.kc.stop_channels()


def _run_id(k: Kernel) -> str:
    status = k.check("%track").stdout
    return next(line.split()[1] for line in status.splitlines() if line.split()[:1] == ["run"])


def _journal_files(db: Path) -> list[Path]:
    folder = journal.journal_dir(db)
    return sorted(folder.iterdir()) if folder.exists() else []


def test_sigkill_right_after_back_to_back_cells_loses_none(project: Path, db: Path) -> None:
    for trial in range(3):
        k = Kernel(str(project))
        k.check("%load_ext jupyter_lineage")
        run_id = _run_id(k)
        cells = [f"c = {trial * 10 + i}" for i in range(7)] + ["raise ValueError('last')"]
        for code in cells[:-1]:
            k.check(code)
        assert k.run(cells[-1]).status == "error"
        _kill(k)  # at once: nothing had time to reach SQLite on its own
        show = lineage_json("show", run_id)  # opening the store ingests the dead kernel's journal
        assert show["status"] == "interrupted"
        sources = [e["source"] for e in show["executions"]]
        assert sources == ["%track", *cells]
        assert show["executions"][-1]["error"]["name"] == "ValueError"
        assert _journal_files(db) == []  # ingested, then removed


def test_sigkill_inside_a_long_cell_keeps_every_finished_one(project: Path, db: Path) -> None:
    (project / "in.csv").write_text("x\n1\n")
    k = Kernel(str(project))
    k.check("%load_ext jupyter_lineage")
    run_id = _run_id(k)
    cells = [f"rows_{i} = open('in.csv').read()" for i in range(6)]
    for code in cells:
        k.check(code)
    k.kc.execute("import time; time.sleep(60)")
    time.sleep(0.3)
    _kill(k)
    show = lineage_json("show", run_id)
    assert show["status"] == "interrupted"
    assert [e["source"] for e in show["executions"]] == ["%track", *cells]
    assert all(e["reads"][0]["path"] == str(project / "in.csv") for e in show["executions"][1:])


_PRODUCER = """
import os, signal, sqlite3, sys
from jupyter_lineage.capture.tracker import Tracker

db, n = sys.argv[1], int(sys.argv[2])
t = Tracker(db=db)  # its run is written now
blocker = sqlite3.connect(db, isolation_level=None)
blocker.execute("BEGIN IMMEDIATE")  # from here on nothing reaches SQLite: all stays journaled
for i in range(n):
    t.begin_execution(f"step = {i}", f"cell-{i}")
    open(f"in_{i % 3}.csv").read()
    t.end_execution(execution_count=i)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkill_during_ingestion_loses_and_duplicates_nothing(project: Path, db: Path) -> None:
    n = 6000
    for i in range(3):
        (project / f"in_{i}.csv").write_text(f"x\n{i}\n")
    producer = subprocess.run(
        [sys.executable, "-c", _PRODUCER, str(db), str(n)], cwd=project, timeout=300
    )
    assert producer.returncode == -signal.SIGKILL
    [leftover] = _journal_files(db)
    with sqlite3.connect(db) as conn:
        run_id = conn.execute("SELECT id FROM runs").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM executions").fetchone()[0] == 0

    # The next process to open the store ingests the journal: kill it half-way.
    ingester = subprocess.Popen(
        [sys.executable, "-m", "jupyter_lineage", "runs"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    written = 0
    deadline = time.monotonic() + 120
    while written == 0 and time.monotonic() < deadline and ingester.poll() is None:
        written = reader.execute("SELECT count(*) FROM executions").fetchone()[0]
        time.sleep(0.002)
    ingester.send_signal(signal.SIGKILL)
    ingester.wait(timeout=10)
    reader.close()
    assert 0 < written < n  # killed in the middle of it
    assert leftover.exists()  # not removed before everything was in

    show = lineage_json("show", run_id)  # a second process finishes the job
    assert show["status"] == "interrupted"
    assert [e["seq"] for e in show["executions"]] == list(range(n))
    assert [e["source"] for e in show["executions"]] == [f"step = {i}" for i in range(n)]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM executions").fetchone() == (
            n,
            n,
        )
        assert conn.execute("SELECT count(*) FROM accesses").fetchone()[0] == n
        assert conn.execute("SELECT count(*) FROM artifacts").fetchone()[0] == 3
    assert _journal_files(db) == []


def test_ingesting_a_journal_twice_changes_nothing(project: Path, db: Path) -> None:
    """Every kind of record a journal holds is applied once, however often it is replayed (a
    process killed after writing a journal's records but before removing it)."""
    from jupyter_lineage.store import Store

    Store(db).close()
    run = "01900000-0000-7000-8000-000000000001"
    read = writes.Access(uri=str(project / "a.csv"), hash="blake3:aa", role="read", kind="dataset")
    unhashable = writes.Access(
        uri=str(project / "b.bin"), hash="", role="read", hash_error="PermissionError: no"
    )
    cells = [
        writes.ExecutionRecord(
            run_id=run,
            seq=i,
            source=f"s = {i}",
            started="2024-01-01T00:00:00+00:00",
            duration_ms=1.0,
            accesses=[read, unhashable] if i == 0 else [],
        )
        for i in range(3)
    ]
    identity = {"pid": 999999, "pid_start": None, "host": "elsewhere", "user": "u"}
    lines = [
        journal.encode(
            "begin_run",
            {
                "kind": "interactive",
                "run_id": run,
                "parameters": {"a": 1},
                "identity": identity,
                "started": "2024-01-01T00:00:00+00:00",
                "notebook": None,
                "parent_id": None,
                "cwd": str(project),
            },
        ),
        journal.encode("execution", journal.execution_args(cells[0])),
        journal.encode("set_params", {"run_id": run, "parameters": {"b": [1, 2]}}),
        journal.encode(
            "log_metric",
            {
                "run_id": run,
                "name": "auc",
                "value": 0.5,
                "step": None,
                "execution_id": None,
                "recorded": "2024-01-01T00:00:30+00:00",
            },
        ),
        journal.encode(
            "set_run_environment",
            {"run_id": run, "seq": 0, "environment": {"python": "3.11", "packages": {}}},
        ),
        journal.encode("set_run_git", {"run_id": run, "git": {"commit": "c0ffee", "dirty": False}}),
        journal.encode("execution", journal.execution_args(cells[1])),
        journal.encode(
            "add_accesses",
            {"execution_id": cells[1].id, "accesses": [dataclasses.replace(read, role="write")]},
        ),
        journal.encode("execution", journal.execution_args(cells[2])),
        journal.encode(
            "end_run",
            {"run_id": run, "status": "succeeded", "ended": "2024-01-01T00:01:00+00:00"},
        ),
    ]
    folder = journal.journal_dir(db)
    folder.mkdir()
    data = b"".join(lines) + b'{"op":"execution","args":{"id":"torn'  # killed mid-write
    (folder / f"{run}.999999.jsonl").write_bytes(data)

    lineage("runs")  # ingests
    once = db_dump(db)
    assert _journal_files(db) == []
    (folder / f"{run}.999999.jsonl").write_bytes(data)
    lineage("runs")
    assert db_dump(db) == once

    show = lineage_json("show", run)
    assert show["status"] == "succeeded" and show["ended"] == "2024-01-01T00:01:00+00:00"
    assert show["started"] == "2024-01-01T00:00:00+00:00"
    assert show["parameters"] == {"a": 1, "b": [1, 2]} and show["metrics"] == {"auc": 0.5}
    assert [e["source"] for e in show["executions"]] == ["s = 0", "s = 1", "s = 2"]
    assert [w["path"] for w in show["executions"][1]["writes"]] == [read.uri]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT host, pid FROM runs").fetchone() == ("elsewhere", 999999)
        errors = conn.execute("SELECT uri, hash, hash_error FROM artifacts ORDER BY uri")
        assert list(errors) == [
            (read.uri, "blake3:aa", None),
            (unhashable.uri, "", "PermissionError: no"),
        ]


def test_a_store_deleted_under_a_kernel_is_made_again(project: Path, db: Path) -> None:
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("%track param alpha=1")
        k.check("before = 1")
        k.check("%track")
        time.sleep(1)  # the writer thread has written everything, that cell too
        shutil.rmtree(project / ".lineage")
        replies = [k.check("after = 1").stderr]
        time.sleep(1)  # the writer thread writes it, finds the store gone, makes it again
        replies += [k.check(f"later = {i}").stderr for i in range(3)]
    finally:
        k.shutdown()
    said = "".join(replies)
    assert said.count(WARNING) == 1 and "was deleted while this kernel ran" in said
    show = lineage_json("show", "@last")
    assert show["status"] == "succeeded" and show["parameters"] == {"alpha": 1}
    sources = [e["source"] for e in show["executions"]]
    assert sources == ["after = 1", "later = 0", "later = 1", "later = 2"]
    assert stat.S_IMODE((project / ".lineage").stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_refused_records_are_counted_and_said_once(project: Path, db: Path) -> None:
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("x = 1")  # seq 0
        run_id = _run_id(k)  # seq 1
        with sqlite3.connect(db) as conn:  # something else took seq 2 of this run
            conn.execute(
                "INSERT INTO executions (id, run_id, seq, started) VALUES ('x', ?, 2, 'now')",
                (run_id,),
            )
        replies = [k.check(code).stderr for code in ("y = 1", "z = 1", "w = 1")]
        status = k.check("%track")
    finally:
        k.shutdown()
    said = "".join(replies) + status.stderr
    assert said.count(WARNING) == 1 and "refused by the store" in said
    assert "refused 1" in status.stdout
    sources = [e["source"] for e in lineage_json("show", run_id)["executions"]]
    assert "y = 1" not in sources and "z = 1" in sources and "w = 1" in sources


def test_the_audit_hook_lets_keyboard_interrupt_through(
    kernel: Kernel, project: Path, db: Path
) -> None:
    """Ctrl-C while what the cell read is hashed: mid-cell (before the cell writes), it
    interrupts the user's cell; at the cell's end it stops the hashing, and the cell's record
    keeps the file, unhashed, saying why."""
    (project / "in.csv").write_text("q\n")
    kernel.check("%load_ext jupyter_lineage")
    kernel.check(
        "import jupyter_lineage.capture.hashcache as h\n"
        "def interrupted(*args, **kwargs):\n    raise KeyboardInterrupt\n"
        "h.hash_file = h.hash_open = h.hash_bytes = interrupted"
    )
    reply = kernel.run("text = open('in.csv').read()\nopen('out.txt', 'w')\nreached = True")
    assert reply.status == "error" and reply.error is not None
    assert reply.error["ename"] == "KeyboardInterrupt"
    assert WARNING in reply.stderr and "Ctrl-C stopped hashing" in reply.stderr
    assert kernel.check("print('reached' in globals())").stdout == "False\n"
    kernel.check("%track")  # everything so far is written
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT uri, hash_error FROM artifacts"))
    assert rows[str(project / "in.csv")].startswith("KeyboardInterrupt: Ctrl-C stopped")


def test_a_file_that_cannot_be_hashed_is_recorded_with_why(
    kernel: Kernel, project: Path, db: Path
) -> None:
    (project / "in.csv").write_text("q\n")
    kernel.check("%load_ext jupyter_lineage")
    kernel.check(
        "import jupyter_lineage.capture.hashcache as h\n"
        "def unreadable(*args):\n    raise PermissionError(13, 'Permission denied')\n"
        "h.hash_file = h.hash_open = h.hash_bytes = unreadable"
    )
    first = kernel.check("text = open('in.csv').read()\nopen('out.txt', 'w').write(text)")
    status = kernel.check("%track").stdout  # and everything so far is written
    assert first.stderr.count(WARNING) == 1 and "could not hash" in first.stderr
    assert "unhashable-files 2" in status
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT uri, hash_error FROM artifacts"))
    assert rows[str(project / "in.csv")].startswith("PermissionError")
    assert rows[str(project / "out.txt")].startswith("PermissionError")
    # Never "changed" (or "modified") for ever after: there is no recorded version to compare.
    [out] = lineage_json("status")
    assert out["path"] == str(project / "out.txt")
    assert out["state"] == "unknown" and out["changed_inputs"] == []


_BACKLOG = """
import json, os, resource, sqlite3, sys
from jupyter_lineage.capture.tracker import Tracker

db = sys.argv[1]
t = Tracker(db=db)
t.flush()

def room(extra):  # the disk holding the store has `extra` bytes left
    size = os.path.getsize(db + "-wal")
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + extra, resource.RLIM_INFINITY))

def written():
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM executions").fetchone()[0]

room(0)
for i in range(1000):
    t.begin_execution(f"x = {i}  # " + "p" * 1000, None)
    t.end_execution(execution_count=i)
t.flush()
full = written()
room(2_500_000)  # some space freed: less than the whole backlog needs (~6 MB)
t.outbox.retry_now()
t.flush()
partly = written()
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
t.close()
print(json.dumps([full, partly, written()]))
"""


def test_a_backlog_is_written_in_chunks_as_space_frees(project: Path, db: Path) -> None:
    """Issue 14: pending records bigger than the space later freed were retried as one
    transaction, so none was ever written; a chunk at a time, what fits goes in."""
    proc = subprocess.run(
        [sys.executable, "-c", _BACKLOG, str(db)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    full, partly, finally_ = json.loads(proc.stdout)
    assert full == 0 and 0 < partly < 1000 and finally_ == 1000
    assert proc.stderr.count(WARNING) == 1 and "disk holding" in proc.stderr


def test_the_journal_holds_no_secret(project: Path, db: Path) -> None:
    """The journal is cleaned like the store: URLs in code and error messages lose their
    credentials before the line is written (it outlives a killed kernel)."""
    k = Kernel(str(project))
    k.check("%load_ext jupyter_lineage")
    url = "https://user:pw-s3cr3t@data.example/d.csv?token=tok-s3cr3t"
    reply = k.run(f"source = {url!r}\nraise ValueError('could not fetch ' + source)")
    assert reply.status == "error"
    _kill(k)
    [leftover] = _journal_files(db)
    text = leftover.read_bytes()
    assert b"could not fetch" in text and b"data.example" in text
    assert b"s3cr3t" not in text
    show = lineage_json("show", "@last")
    assert "s3cr3t" not in json.dumps(show)
