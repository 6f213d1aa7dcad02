"""The tracker in-process: what it keeps, retries and refuses when the store misbehaves."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.store import Store, journal


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


def test_the_journal_stays_small_and_goes_at_the_end(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    t = Tracker(db=str(db))
    path = t.outbox.journal.path
    sizes = []
    for block in range(30):
        _cells(t, 100, start=block * 100)  # ~30 KB of journal per block
        assert t.flush()
        sizes.append(path.stat().st_size)
    assert max(sizes) < 2 * journal.TRUNCATE_AT  # emptied as it fills, never grows unbounded
    assert min(sizes[-10:]) < journal.TRUNCATE_AT
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    t.close()
    assert not path.exists()
    with Store(db) as store:
        assert store.conn.execute("SELECT count(*) FROM executions").fetchone()[0] == 3000


def test_package_list_is_cached_until_a_package_folder_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel's start-up reads every installed METADATA file once; later runs in the same
    environment reuse the list, until an install (or removal) changes a folder on sys.path."""
    import json
    import sys

    from jupyter_lineage.capture.environment import capture_environment, environment_cache

    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    cache = environment_cache(tmp_path / "lineage.db")
    first = capture_environment(cache)
    assert first["packages"]["pytest"] == pytest.__version__
    # the cached list is what the next capture returns: mark it to tell it from a fresh read
    data = json.loads(cache.read_text())
    data["packages"]["from-the-cache"] = "1.0"
    cache.write_text(json.dumps(data))
    assert capture_environment(cache)["packages"]["from-the-cache"] == "1.0"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    (site / "newpkg-2.0.dist-info").mkdir()  # what an install does to the folder
    fresh = capture_environment(cache)
    assert "from-the-cache" not in fresh["packages"]
    assert fresh["packages"] == first["packages"]
    cache.write_text("{not json")  # a damaged cache is read around, then rewritten
    assert capture_environment(cache)["packages"] == first["packages"]
    assert json.loads(cache.read_text())["packages"] == first["packages"]


def test_a_git_error_is_recorded_and_said_not_a_clean_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repository git fails on (here HEAD names a commit that is not there) is stored as
    git.error and counted in %track's status; before, it read as a clean repo with no commit."""
    import subprocess

    from jupyter_lineage import api

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo, check=True)
    (repo / ".git" / "refs" / "heads" / "main").write_text("12" * 20 + "\n")
    db = tmp_path / "lineage.db"
    tracker = Tracker(kind="script", notebook=str(repo / "nb.ipynb"), db=str(db))
    try:
        tracker.begin_execution("x = 1")
        tracker.end_execution(execution_count=1)
        status = tracker.status()
        assert status["git_error"] and "bad object" in status["git_error"]
    finally:
        tracker.close()
    assert "could not read the git state" in capsys.readouterr().err
    git_state = api.show(tracker.run_id, db=str(db))["git"]
    assert "bad object" in git_state["error"]
    assert git_state["commit"] is None  # not known, and said why
