"""Re-reads vouched for by inotify (capture/watch.py): a file read again costs no ``stat`` while its
folder's watch reports no change — so every way a file can change between two reads must show up
as a new version: an in-place rewrite the ``stat`` could not see, a replace, a renamed parent, a
symlink's target or a hard link written through another folder, a change made while a forked
child ran, and a flood of events that overflows the kernel's queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_lineage import api
from jupyter_lineage.capture.tracker import Tracker
from jupyter_lineage.capture.watch import WATCH_FROM, Watcher

from .conftest import content_hash as _h
from .conftest import image_folder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def _images(tmp_path: Path, n: int = 25) -> Path:
    return image_folder(tmp_path, n, size=100)


def _read(t: Tracker, folder: Path) -> None:
    t.begin_execution("read the folder")
    try:
        for name in sorted(os.listdir(folder)):
            with open(folder / name, "rb") as f:
                f.read()
    finally:
        t.end_execution(execution_count=t.seq)


def _members(t: Tracker, tmp_path: Path) -> list[dict[str, str]]:
    """Each execution's folder read: member name -> hash."""
    t.flush()
    shown = api.show(t.run_id, db=str(tmp_path / "l.db"), files=True)
    out = []
    for e in shown["executions"]:
        [read] = e["reads"]
        out.append({m["name"]: m["hash"] for m in read["members"]})
    return out


def _rewrite_unseen_by_stat(path: Path, data: bytes) -> None:
    """Same size, same mtime, same inode afterwards: only a change notification sees it."""
    st = path.stat()
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        st.st_size,
        st.st_mtime_ns,
        st.st_ino,
    )


def test_unchanged_rereads_are_vouched_for_and_changes_are_seen(
    tracker: Tracker, tmp_path: Path
) -> None:
    folder = _images(tmp_path)
    _read(tracker, folder)  # watched once a few of its files were hashed...
    assert len(tracker.accesses.watch.unchanged) == 25 - WATCH_FROM + 1
    _read(tracker, folder)  # ...those few checked with a stat once, then vouched for too
    assert len(tracker.accesses.watch.unchanged) == 25
    _rewrite_unseen_by_stat(folder / "img003.png", b"\xaa" * 100)
    _read(tracker, folder)
    replacement = folder / "new.tmp"
    replacement.write_bytes(b"\xbb" * 100)
    os.replace(replacement, folder / "img004.png")  # written beside, renamed over
    _read(tracker, folder)
    first, again, rewritten, replaced = _members(tracker, tmp_path)
    assert again == first
    assert rewritten == {**first, "img003.png": _h(b"\xaa" * 100)}
    assert replaced == {**rewritten, "img004.png": _h(b"\xbb" * 100)}


def test_a_renamed_parent_with_another_folder_in_its_place(
    tracker: Tracker, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    folder = _images(data)
    _read(tracker, folder)
    _read(tracker, folder)
    data.rename(tmp_path / "old-data")  # the watched folder's parent moves (no event on it)...
    data.mkdir()
    copy = _images(data)  # ...and a folder with other content takes the watched one's path
    (copy / "img010.png").write_bytes(b"\xcc" * 100)
    _read(tracker, copy)
    _read(tracker, copy)  # the folder now at that path is the one watched from here on...
    watch = tracker.accesses.watch
    assert watch.still(str(copy)) and len(watch.unchanged) == 25  # ...its re-reads vouched for
    _rewrite_unseen_by_stat(copy / "img011.png", b"\xdd" * 100)
    _read(tracker, copy)
    first, _, after, again, rewritten = _members(tracker, tmp_path)
    assert after == again == {**first, "img010.png": _h(b"\xcc" * 100)}
    assert rewritten == {**after, "img011.png": _h(b"\xdd" * 100)}


def test_links_are_never_trusted_to_their_folder_s_watch(tracker: Tracker, tmp_path: Path) -> None:
    # A write through another name is reported to that name's folder only.
    folder = _images(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "real.png").write_bytes(b"\x01" * 100)
    (folder / "img005.png").unlink()
    (folder / "img005.png").symlink_to(other / "real.png")
    (other / "hard.png").write_bytes(b"\x02" * 100)
    (folder / "img006.png").unlink()
    os.link(other / "hard.png", folder / "img006.png")
    _read(tracker, folder)
    _read(tracker, folder)
    unchanged = tracker.accesses.watch.unchanged
    assert str(folder / "img005.png") not in unchanged
    assert str(folder / "img006.png") not in unchanged
    for name, byte in (("real.png", b"\x03"), ("hard.png", b"\x04")):
        path = other / name
        stamp = path.stat().st_mtime_ns + 1_000_000_000  # visible to a stat
        path.write_bytes(byte * 100)
        os.utime(path, ns=(stamp, stamp))
    _read(tracker, folder)
    first, _, after = _members(tracker, tmp_path)
    assert after == {**first, "img005.png": _h(b"\x03" * 100), "img006.png": _h(b"\x04" * 100)}


def test_a_forked_child_never_takes_the_parent_s_events(tracker: Tracker, tmp_path: Path) -> None:
    folder = _images(tmp_path)
    _read(tracker, folder)
    tracker.begin_execution("fork a child that changes a file and reads the folder")
    try:
        pid = os.fork()
        if pid == 0:  # the child: tracked for the same cell; it drains what it inherited
            code = 0
            try:
                _rewrite_unseen_by_stat(folder / "img008.png", b"\xdd" * 100)
                for name in sorted(os.listdir(folder)):
                    with open(folder / name, "rb") as f:
                        f.read()
                tracker.accesses.settle()
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        tracker.end_execution(execution_count=tracker.seq)
    _read(tracker, folder)
    tracker.flush()
    shown = api.show(tracker.run_id, db=str(tmp_path / "l.db"), files=True)
    first, last = shown["executions"][0], shown["executions"][-1]
    before = {m["name"]: m["hash"] for m in first["reads"][0]["members"]}
    after = {m["name"]: m["hash"] for m in last["reads"][0]["members"]}
    assert after == {**before, "img008.png": _h(b"\xdd" * 100)}


def test_an_overflowing_event_queue_trusts_nothing(tracker: Tracker, tmp_path: Path) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 100_000:
        pytest.skip(f"max_queued_events is {limit}: too many files to overflow it here")
    folder = _images(tmp_path)
    _read(tracker, folder)
    for i in range(limit + 10):  # each a distinct event in the watched folder: the queue fills
        (folder / f"z{i:06}.tmp").touch()
    # lost in the overflow: a change only the stat can still see
    edited = folder / "img009.png"
    stamp = edited.stat().st_mtime_ns + 1_000_000_000
    edited.write_bytes(b"\xee" * 100)
    os.utime(edited, ns=(stamp, stamp))
    for p in folder.glob("z*.tmp"):
        p.unlink()
    _read(tracker, folder)
    first, after = _members(tracker, tmp_path)
    assert after == {**first, "img009.png": _h(b"\xee" * 100)}


def test_what_inotify_cannot_vouch_for_is_not_watched(tmp_path: Path) -> None:
    watcher = Watcher()
    try:
        for folder in (str(tmp_path), "/proc/self", str(tmp_path / "missing")):
            seen = [watcher.folder(folder) for _ in range(WATCH_FROM)]
            assert not any(seen[:-1])  # a folder's first few files: not worth a watch yet
            # a local filesystem is watched; procfs reports no change; no folder, no watch
            assert seen[-1] == (folder == str(tmp_path)), folder
        assert watcher.watched == 1
    finally:
        watcher.close()
    code = (
        "import sys\nfrom jupyter_lineage.capture.watch import WATCH_FROM, Watcher\nw = Watcher()\n"
    )
    code += f"sys.exit(int(any(w.folder({str(tmp_path)!r}) for _ in range(WATCH_FROM))))"
    env = {**os.environ, "JUPYTER_LINEAGE_WATCH": "0"}  # turned off: every re-read is a stat
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_a_few_files_take_no_inotify_instance(tracker: Tracker, tmp_path: Path) -> None:
    # Instances are a per-user limit editors and file servers share: three CSVs need none.
    for i in range(3):
        (tmp_path / f"t{i}.csv").write_text("a\n1\n")

    def read_three() -> None:
        for i in range(3):
            with open(tmp_path / f"t{i}.csv", "rb") as f:
                f.read()

    for _ in range(3):
        tracker.begin_execution("three csvs")
        try:
            read_three()
        finally:
            tracker.end_execution(execution_count=tracker.seq)
    assert tracker.accesses.watch.watched == 0


def test_an_ignored_folder_is_not_recorded_from_what_the_watch_vouched_for(
    tracker: Tracker, tmp_path: Path
) -> None:
    folder = _images(tmp_path)
    _read(tracker, folder)
    _read(tracker, folder)
    api.ignore(f"{folder}/*")  # %track ignore: nothing read there is an input any more
    _read(tracker, folder)
    tracker.flush()
    shown = api.show(tracker.run_id, db=str(tmp_path / "l.db"))
    assert [len(e["reads"]) for e in shown["executions"]] == [1, 1, 0]
