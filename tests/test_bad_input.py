"""Bad input and faults at the CLI: one line that says what to do, exit 2, no traceback, no
"unexpected … (a bug)", and the store exactly as it was — the real CLI in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from jupyter_lineage.capture.tracker import Tracker

from .conftest import db_dump, lineage

LONG = "a" * 300
HUGE = "9" * 30


def _notebook(
    path: Path, *, kernelspec: object = "default", cells: list[str] | None = None
) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells or ["y = x + 1"]]
    if kernelspec == "default":
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    elif kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec
    nbformat.write(nb, str(path))


@pytest.fixture
def store(project: Path, db: Path) -> Path:
    """Two runs with an auc of 0.7 and 0.9, captured in process."""
    (project / "data.csv").write_text("a\n1\n")
    for auc in (0.7, 0.9):
        t = Tracker(notebook=str(project / "nb.ipynb"), parameters={"C": auc})
        t.begin_execution("open('data.csv').read()", "c1")
        (project / "data.csv").read_text()
        t.end_execution(execution_count=1)
        t.log_metric("auc", auc)
        t.close()
    _notebook(project / "nb.ipynb")
    return db


BAD_INPUTS = {
    "limit": ["runs", "--limit", HUGE],
    "negative limit": ["runs", "--limit", "-1"],
    "depth": ["trace", "data.csv", "--depth", HUGE],
    "workers": ["sweep", "nb.ipynb", "-p", "x", "1", "2", "--workers", HUGE],
    "@last~N": ["show", f"@last~{HUGE}"],
    "@last~N in diff": ["diff", f"@last~{HUGE}", "@last"],
    "where huge": ["runs", "--where", f"auc < {HUGE}"],
    "where decimal comma": ["runs", "--where", "auc < 0,8"],
    "where text for a metric": ["runs", "--where", "auc < high"],
    "where text ordering": ["runs", "--where", "params.C > big"],
    "long notebook": ["run", f"{LONG}.ipynb"],
    "long db": ["runs", "--db", f"{LONG}.db"],
    "long notebook filter": ["runs", "--notebook", f"{LONG}.ipynb"],
    "long trace target": ["trace", LONG],
    "long output": ["run", "nb.ipynb", "--output", f"{LONG}.ipynb"],
    "long merge source": ["merge", f"{LONG}.db"],
    "binary parameters file": ["run", "nb.ipynb", "-f", "params.bin"],
    "empty file as store": ["runs", "--db", "empty.db"],
    "text file as store": ["runs", "--db", "text.db"],
    "device as store": ["runs", "--db", "/dev/null"],
    "folder as store": ["runs", "--db", "."],
    "merge a text file": ["merge", "text.db"],
    "merge an empty file": ["merge", "empty.db"],
    "export into a missing folder": ["export", "--format", "dot", "-o", "no/such/dir/x.dot"],
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_changes_nothing(
    store: Path, project: Path, case: str
) -> None:
    (project / "empty.db").write_bytes(b"")
    (project / "params.bin").write_bytes(b"\xff\xfe\x00\x81binary\x00")
    (project / "text.db").write_text("not a database\n" * 100)
    args = BAD_INPUTS[case]
    before = db_dump(store)
    files_before = sorted(p.name for p in project.iterdir())
    journals = set(Path("/dev").glob("null-*"))
    proc = lineage(*args, check=False, cwd=project)
    assert proc.returncode == 2, (case, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert db_dump(store) == before
    assert sorted(p.name for p in project.iterdir()) == files_before
    assert (project / "empty.db").stat().st_size == 0  # readers never write a schema
    assert set(Path("/dev").glob("null-*")) == journals  # no /dev/null-journal


def test_decimal_comma_is_an_error_not_a_text_compare(store: Path, project: Path) -> None:
    ok = lineage("runs", "--where", "auc < 0.8", "--json", cwd=project)
    assert '"auc": 0.7' in ok.stdout and '"auc": 0.9' not in ok.stdout
    proc = lineage("runs", "--where", "auc < 0,8", "--json", check=False, cwd=project)
    assert proc.returncode == 2 and "decimal" in proc.stderr and proc.stdout == ""
    quoted = lineage("runs", "--where", "params.C > 'abc'", "--json", cwd=project)
    assert quoted.stdout.strip() == "[]"  # quoted text is compared as text, on purpose


def test_a_notebook_without_kernelspec_runs_with_kernel(project: Path, db: Path) -> None:
    for name, spec in (("none.ipynb", None), ("null.ipynb", "null"), ("text.ipynb", "python3")):
        path = project / name
        _notebook(path, kernelspec=None if spec in (None, "null") else spec)
        if spec == "null":
            text = path.read_text().replace('"metadata": {}', '"metadata": {"kernelspec": null}', 1)
            path.write_text(text)
        proc = lineage("run", name, "-p", "x", "2", "--kernel", "python3", check=False, cwd=project)
        assert proc.returncode == 0, (name, proc.stderr)
        assert "unexpected" not in proc.stderr
    # no kernel named and no --kernel: refused as papermill refuses it (exit 1), one line
    runs_before = lineage("runs", "--json", check=False, cwd=project).stdout
    proc = lineage("run", "none.ipynb", "-p", "x", "3", check=False, cwd=project)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "-k/--kernel" in proc.stderr and "Traceback" not in proc.stderr
    assert lineage("runs", "--json", check=False, cwd=project).stdout == runs_before


def test_lineage_as_a_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / ".lineage").write_text("")
    _notebook(folder / "nb.ipynb")
    proc = lineage("run", "nb.ipynb", check=False, cwd=folder)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "is a file, not a folder" in proc.stderr and "Move the file aside" in proc.stderr
    assert (folder / ".lineage").read_text() == ""


def test_failed_merge_of_a_truncated_store_creates_nothing(store: Path, project: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(store)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (project / "trunc.db").write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    target = project / "target.db"
    proc = lineage("merge", "trunc.db", "--db", str(target), check=False, cwd=project)
    assert proc.returncode == 2 and "nothing was merged" in proc.stderr, proc.stderr
    assert not list(project.glob("target.db*"))
    before = db_dump(store)
    proc = lineage("merge", "trunc.db", "--db", str(store), check=False, cwd=project)
    assert proc.returncode == 2 and db_dump(store) == before


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")


def _fill(folder: Path) -> None:
    # Closing can fail too (a short last write leaves bytes in the buffer): full is full.
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()


def test_disk_full_during_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real full disk: a 1 MB tmpfs holds the project and its store."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1m")
    try:
        monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
        _notebook(disk / "nb.ipynb")
        lineage("run", "nb.ipynb", cwd=disk)
        db = disk / ".lineage" / "lineage.db"
        # The notebook itself fills the disk in its second cell, mid-run.
        _notebook(
            disk / "fill.ipynb",
            cells=[
                "f = open('filler', 'wb')\ntry:\n    while True:\n        f.write(b'0' * 65536)"
                "\n        f.flush()\nexcept OSError as e:\n    print('full')",
                "z = 3",
            ],
        )
        proc = lineage("run", "fill.ipynb", "--json", check=False, cwd=disk)
        # Two honest endings, depending on whether the end of the run fits once the kernel is
        # shut down (its store connection closed, its WAL folded back in, space freed):
        if proc.returncode == 0:  # it fits: the run ends as papermill's (the notebook caught
            filled = json.loads(proc.stdout)  # its own OSError), what was lost said in a cell
            assert filled["status"] == "succeeded" and filled["executions"]
            said = Path(filled["output_notebook"]).read_text()
            assert "jupyter-lineage warning" in said and "is full" in said, said
        else:  # it does not: one clear line, exit 2
            assert proc.returncode == 2, proc.stderr
            # jupyter_client's shutdown interrupts the kernel first; on a busy machine the
            # kernel may still be in a handler and log that to the stderr it shares with us
            ours = [ln for ln in proc.stderr.splitlines() if not ln.startswith("[IPKernelApp]")]
            assert len(ours) == 1 and "unexpected" not in proc.stderr, proc.stderr
            assert "is full" in proc.stderr and "Free some space" in proc.stderr
        before = db_dump(db)  # read while there is room (a reader makes the WAL index)
        _fill(disk)
        proc = lineage("run", "nb.ipynb", check=False, cwd=disk)
        assert proc.returncode == 2 and "is full" in proc.stderr, proc.stderr
        for leftover in disk.glob("filler*"):
            leftover.unlink()
        assert db_dump(db) == before
        runs = lineage("runs", "--json", cwd=disk).stdout
        assert runs.count('"kind": "papermill"') == 2  # the first run and the filling one
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_read_only_store_says_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store on a read-only filesystem: the CLI and the kernel both say so, not "full"."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "4m")
    try:
        monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)
        _notebook(disk / "nb.ipynb")
        lineage("run", "nb.ipynb", cwd=disk)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        db = disk / ".lineage" / "lineage.db"
        proc = lineage(
            "run",
            str(disk / "nb.ipynb"),
            "--db",
            str(db),
            "-o",
            str(tmp_path / "o.ipynb"),
            check=False,
            cwd=tmp_path,
        )
        assert proc.returncode == 2, proc.stderr
        assert "read-only filesystem" in proc.stderr and "full" not in proc.stderr, proc.stderr
        from .kernel import Kernel

        work = tmp_path / "work"
        work.mkdir()
        k = Kernel(str(work), env={"JUPYTER_LINEAGE_DB": str(db)})
        try:
            replies = [k.check("%load_ext jupyter_lineage").stderr]
            replies += [k.check(f"x = {i}").stderr for i in range(3)]
        finally:
            k.shutdown()
        said = "".join(replies)
        assert said.count("jupyter-lineage warning") == 1, said
        assert "read-only" in said and "full" not in said and "space" not in said, said
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_status_never_blocks_on_a_fifo(store: Path, project: Path) -> None:
    """An output path that is now a FIFO: status answers (modified), it never opens it."""
    t = Tracker(notebook=str(project / "nb.ipynb"))
    t.begin_execution("open('out.txt', 'w').write('x')", "w")
    (project / "out.txt").write_text("x")
    t.end_execution(execution_count=1)
    t.close()
    (project / "out.txt").unlink()
    os.mkfifo(project / "out.txt")
    proc = lineage("status", "--json", check=False, cwd=project)  # conftest: 120 s timeout
    assert proc.returncode == 1, proc.stderr
    assert '"state": "modified"' in proc.stdout
    proc = lineage("trace", "out.txt", check=False, cwd=project)
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr
