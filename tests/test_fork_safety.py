"""A fork made while the kernel's writer thread is in SQLite: SQLite's own locks held by that
thread at fork() stay held for ever in the child, whose first SQLite call would hang (a pool or
DataLoader worker that never ends, and its parent waiting on it). A fork waits for a write
under way; one that cannot wait long enough leaves the child's record in its journal, never in
a SQLite call."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from jupyter_lineage import api
from jupyter_lineage.capture import outbox, registry
from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.store import journal


def _fork_reading(data: Path) -> int:
    """Fork a child that reads ``data`` and records, as a pool worker does when it ends."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            with open(data, "rb") as f:
                f.read()
            capture = registry.child()
            code = 0 if capture is not None and capture.finish() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return pid


def _write_under_way(
    box: outbox.Outbox, seconds: float
) -> tuple[threading.Thread, threading.Event]:
    """The writer's lock held as a write holds it; the event is set just before it is let go."""
    inside, leaving = threading.Event(), threading.Event()

    def writing() -> None:
        with box._write_lock:
            inside.set()
            time.sleep(seconds)
            leaving.set()

    thread = threading.Thread(target=writing)
    thread.start()
    inside.wait()
    return thread, leaving


def _children(tracker: Tracker, tmp_path: Path) -> list[dict[str, object]]:
    tracker.flush()
    (execution,) = api.show(tracker.run_id, db=str(tmp_path / "l.db"))["executions"]
    return list(execution["children"])


def test_a_fork_waits_for_a_write_under_way(tracker: Tracker, tmp_path: Path) -> None:
    data = tmp_path / "part.bin"
    data.write_bytes(b"\x01" * 100)
    tracker.begin_execution("fork while the writer writes", "fork")
    try:
        writer, leaving = _write_under_way(tracker.outbox, 0.5)
        pid = _fork_reading(data)
        assert leaving.is_set()  # fork() returned only once the write had ended
        writer.join()
    finally:
        tracker.end_execution(execution_count=1)
    (child,) = _children(tracker, tmp_path)
    assert child["pid"] == pid and child["reads"] == [str(data)]
    assert not list(journal.journal_dir(tmp_path / "l.db").glob(f"*.{pid}.jsonl"))


def test_a_fork_that_could_not_wait_records_through_the_journal(
    tracker: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "FORK_WAIT_SECONDS", 0.05)
    data = tmp_path / "part.bin"
    data.write_bytes(b"\x02" * 100)
    tracker.begin_execution("fork during a long write", "fork")
    try:
        writer, leaving = _write_under_way(tracker.outbox, 2.0)
        pid = _fork_reading(data)  # the child opened no store: it would have hung there
        assert not leaving.is_set()
        writer.join()
        (left,) = journal.journal_dir(tmp_path / "l.db").glob(f"*.{pid}.jsonl")
        assert b'"add_child"' in left.read_bytes()
    finally:
        tracker.end_execution(execution_count=1)
    # the next reading tool (the CLI, the server) takes it in
    (child,) = _children(tracker, tmp_path)
    assert child["pid"] == pid and child["reads"] == [str(data)]
    assert not left.exists()


def test_ids_are_made_in_a_child_forked_while_another_thread_made_one() -> None:
    from jupyter_lineage import ids

    inside, done = threading.Event(), threading.Event()

    def making() -> None:
        with ids._lock:  # as uuid7() holds it
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=making)
    thread.start()
    inside.wait()
    try:
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                signal.alarm(20)  # a hang ends the child, not the test run
                code = 0 if ids.uuid7() != ids.uuid7() else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        done.set()
        thread.join()
