"""Faults and load: tracking survives them with nothing lost and one clear warning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from jupyter_lineage.store import SCHEMA_VERSION, Store

from .conftest import db_dump, lineage_json
from .kernel import Kernel

WARNING = "jupyter-lineage warning"


def _notebook(path: Path, cells: int) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("tag = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [
        nbformat.v4.new_code_cell(
            f"data_{i} = open('data.csv').read()\nopen(f'out_{{tag}}_{i}.txt', 'w').write(data_{i})"
        )
        for i in range(cells)
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def test_eight_writers_at_once_lose_nothing(project: Path, db: Path) -> None:
    (project / "data.csv").write_text("x\n1\n")
    _notebook(project / "step.ipynb", cells=10)
    Store(db).close()
    kernels = [Kernel(str(project)) for _ in range(2)]
    try:
        for k in kernels:
            k.check("%load_ext jupyter_lineage")
        runs = [
            subprocess.Popen(
                # eight kernels starting at once on a busy 2-core machine: papermill's 60 s
                # start-up timeout is not what this test is about
                [
                    sys.executable,
                    "-m",
                    "jupyter_lineage",
                    "run",
                    "step.ipynb",
                    "-p",
                    "tag",
                    str(i),
                    "--start-timeout",
                    "600",
                ],
                cwd=project,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(6)
        ]
        outputs: list[str] = []

        def hammer(k: Kernel, n: int) -> None:
            for i in range(n):
                r = k.run(f"v = {i}\nopen('k.txt', 'w').write(str(v))")
                outputs.append(r.stdout + r.stderr + str(r.error))

        threads = [threading.Thread(target=hammer, args=(k, 40)) for k in kernels]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results = [p.communicate(timeout=300) for p in runs]
        for p, (out, err) in zip(runs, results):
            assert p.returncode == 0, f"exit {p.returncode}\n{out}\n{err}"
    finally:
        for k in kernels:
            k.shutdown()
    everything = "".join(outputs) + "".join(out + err for out, err in results)
    assert "locked" not in everything and WARNING not in everything
    with Store(db) as store:
        per_run = dict(
            store.conn.execute(
                "SELECT r.kind || ':' || r.id, count(e.id) FROM runs r LEFT JOIN executions e"
                " ON e.run_id = r.id GROUP BY r.id"
            )
        )
    papermill = [n for key, n in per_run.items() if key.startswith("papermill:")]
    interactive = [n for key, n in per_run.items() if key.startswith("interactive:")]
    assert papermill == [12] * 6  # parameters + injected + 10 cells, every one of them
    assert interactive == [40, 40]


def test_sigkill_mid_run_keeps_every_execution_and_shows_interrupted(project: Path) -> None:
    k = Kernel(str(project))
    k.check("%load_ext jupyter_lineage")
    for i in range(5):
        k.check(f"step = {i}")
    run_id = lineage_json("show", "@last")["id"]
    k.kc.execute("import time; time.sleep(60)")
    time.sleep(0.5)
    os.kill(k.km.provisioner.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
    k.km.provisioner.process.wait(timeout=10)  # type: ignore[union-attr]
    k.kc.stop_channels()
    show = lineage_json("show", run_id)  # opening the store notices the dead kernel
    assert show["status"] == "interrupted"
    assert [e["source"] for e in show["executions"]] == [f"step = {i}" for i in range(5)]


def test_a_locked_store_never_stalls_a_cell(project: Path, db: Path) -> None:
    """Another process holds the store's write lock for 20 s: the writer thread waits in SQLite,
    the notebook does not; the records land once the lock is released, in order."""
    import sqlite3

    for i in range(6):
        (project / f"part_{i}.csv").write_text(f"x\n{i}\n")
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("first = 1")
        k.check("%track")  # everything so far written: the store exists, the queue is empty
        holder = sqlite3.connect(db, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        held_at = time.monotonic()
        try:
            k.check("t = open('part_0.csv').read()", timeout=10)
            time.sleep(0.5)  # the writer thread is now waiting for the lock inside SQLite
            for i in range(1, 6):  # each reads a file new to this kernel: the hash-cache lookup
                k.check(f"t = open('part_{i}.csv').read()", timeout=10)
            finished_while_held = time.monotonic() - held_at < 20
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as reader:
                written_while_held = reader.execute(
                    "SELECT count(*) FROM executions e JOIN sources s ON s.hash = e.source_hash"
                    " WHERE s.text LIKE 't = open%'"
                ).fetchone()[0]
            time.sleep(max(0.0, 20 - (time.monotonic() - held_at)))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert finished_while_held and written_while_held == 0
        deadline = time.monotonic() + 60
        while True:  # the writer takes the lock once it is free (its busy wait is 30 s)
            sources = [e["source"] for e in lineage_json("show", "@last")["executions"]]
            if len(sources) >= 8 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        reads = [f"t = open('part_{i}.csv').read()" for i in range(6)]
        assert sources == ["first = 1", "%track", *reads]
    finally:
        k.shutdown()


def _warnings(replies: list[str]) -> int:
    return sum(r.count(WARNING) for r in replies)


def _track_some_cells(project: Path, n: int = 4) -> list[str]:
    k = Kernel(str(project))
    try:
        out = [k.check("%load_ext jupyter_lineage").stderr]
        for i in range(n):
            reply = k.check(f"x = {i}\nopen('f.txt', 'w').write('{i}')")
            out.append(reply.stderr)
        assert k.check("print(x)").stdout == f"{n - 1}\n"  # the notebook ran normally
    finally:
        k.shutdown()
    return out


def test_read_only_store(project: Path, db: Path) -> None:
    Store(db).close()
    before = db_dump(db)
    # Read-only even for root: the immutable flag (file modes do not stop root).
    made = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this filesystem has no immutable flag: {made.stderr.strip()}")
    try:
        replies = _track_some_cells(project)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert _warnings(replies) == 1
    assert "read-only" in "".join(replies)
    assert db_dump(db) == before


def test_corrupt_store(project: Path, db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"definitely not sqlite " * 200)
    replies = _track_some_cells(project)
    assert _warnings(replies) == 1 and "not a readable lineage database" in "".join(replies)
    assert db.read_bytes() == b"definitely not sqlite " * 200


def test_newer_schema_store(project: Path, db: Path) -> None:
    store = Store(db)
    store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    before = db.read_bytes()
    replies = _track_some_cells(project)
    assert _warnings(replies) == 1 and "newer jupyter-lineage" in "".join(replies)
    assert db.read_bytes() == before


def test_disk_full_then_recovered(project: Path, db: Path) -> None:
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("x = 0")
        # Any write past 8 KiB of any file now fails with EFBIG: the store's disk is "full".
        replies = [
            k.check(
                "import resource\n"
                "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))"
            ).stderr
        ]
        replies += [k.check(f"x = {i}\ny = 'a' * 100").stderr for i in range(1, 60)]
        assert _warnings(replies) == 1 and "disk holding" in "".join(replies)
        k.check(
            "resource.setrlimit(resource.RLIMIT_FSIZE,"
            " (resource.RLIM_INFINITY, resource.RLIM_INFINITY))"
        )
        k.check("z = 'after'")
    finally:
        k.shutdown()
    sources = [e["source"] for e in lineage_json("show", "@last")["executions"]]
    firsts = [s.splitlines()[0] for s in sources if s.startswith("x = ")]
    assert firsts == [f"x = {i}" for i in range(60)]  # nothing lost while the disk was full
    assert sources[-1] == "z = 'after'"
    with Store(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_awkward_files(project: Path, db: Path) -> None:
    odd = project / "with space ünïcødé"
    odd.mkdir()
    (odd / "dätä file.csv").write_text("a\n1\n")
    (project / "target.csv").write_text("t\n1\n")
    (project / "link.csv").symlink_to(project / "target.csv")
    big = project / "big.bin"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**3)  # a sparse 2 GiB file
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("a = open('with space ünïcødé/dätä file.csv').read()", cell_id="odd")
        k.check("b = open('link.csv').read()", cell_id="link")
        k.check("with open('big.bin', 'rb') as f:\n    head = f.read(10)", cell_id="big")
        k.check(
            "open('tmp.txt', 'w').write('x')\nimport os\nos.remove('tmp.txt')", cell_id="deleted"
        )
        k.check(
            "import threading\nf = open('growing.csv', 'w')\nf.write('a\\n')\nf.flush()",
            cell_id="still-open",
        )
        k.check("f.write('b\\n')\nf.close()", cell_id="closed")
    finally:
        k.shutdown()
    cells = {e["cell_id"]: e for e in lineage_json("show", "@last")["executions"]}
    assert cells["odd"]["reads"][0]["path"] == str(odd / "dätä file.csv")
    assert cells["odd"]["reads"][0]["hash"].startswith("blake3:")
    assert cells["link"]["reads"][0]["path"] == str(project / "link.csv")
    import blake3

    assert cells["link"]["reads"][0]["hash"] == "blake3:" + blake3.blake3(b"t\n1\n").hexdigest()
    assert cells["big"]["reads"][0]["size"] == 2 * 1024**3
    assert cells["big"]["reads"][0]["hash"].startswith("blake3:")
    assert cells["deleted"]["writes"] == []  # a temporary file deleted within the cell
    assert (
        cells["still-open"]["writes"][0]["hash"] == "blake3:" + blake3.blake3(b"a\n").hexdigest()
    )  # the version on disk when the cell ended
    assert cells["closed"]["error"] is None


def test_a_hook_failure_never_reaches_the_cell(kernel: Kernel, project: Path) -> None:
    kernel.check("%load_ext jupyter_lineage")
    # Make every hash fail inside the tracker: the user's open() must still work.
    kernel.check(
        "import jupyter_lineage.capture.hashcache as t\n"
        "def broken(*a, **k):\n    raise RuntimeError('simulated hashing bug')\n"
        "t.hash_file = t.hash_open = t.hash_bytes = broken"
    )
    (project / "in.csv").write_text("q\n")
    r1 = kernel.check("v = open('in.csv').read()")
    r2 = kernel.check("w = open('in.csv').read()\nprint(v == w)")
    assert r2.stdout == "True\n"
    assert (r1.stderr + r2.stderr).count(WARNING) == 1
    assert "simulated hashing bug" in r1.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["run", "x.ipynb"],
        ["show", "@last"],
        ["trace", "y"],
        ["diff", "a", "b"],
        ["status"],
        ["export", "--format", "dot"],
        ["sources", "1234"],
        ["reproduce", "@last"],
    ],
)
def test_bad_cli_input_never_creates_a_store(project: Path, db: Path, args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not db.exists()
