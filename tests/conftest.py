from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .kernel import Kernel

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with its own lineage database."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(folder / ".lineage" / "lineage.db"))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def db(project: Path) -> Path:
    return project / ".lineage" / "lineage.db"


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[Any]:
    """A tracker in this process (as a script's), its store in ``tmp_path/l.db``."""
    from jupyter_lineage.capture.tracker import Tracker

    t = Tracker(db=str(tmp_path / "l.db"))
    yield t
    t.close()


def tracked_run(project: Path, notebook: str, *cells: Any, pad: int = 0) -> str:
    """One interactive run of ``notebook`` recorded by real capture in this process: each
    callable is a cell (``pad``: that many bytes of comment in each cell's code)."""
    from jupyter_lineage.capture.tracker import Tracker

    t = Tracker(notebook=str(project / notebook))
    for i, action in enumerate(cells):
        t.begin_execution(f"cell_{i}()  # {t.run_id} {'.' * pad}", f"cell-{i}")
        action()
        t.end_execution(execution_count=i + 1)
    t.close()
    return t.run_id


def image_folder(root: Path, n: int, size: int) -> Path:
    """``root/images`` with ``n`` small "images", each ``size`` bytes of a byte of its own."""
    folder = root / "images"
    folder.mkdir()
    for i in range(n):
        (folder / f"img{i:03}.png").write_bytes(bytes([i]) * size)
    return folder


def content_hash(data: bytes) -> str:
    """What the store records for a file holding ``data`` (computed here, not by the tracker)."""
    import blake3

    return "blake3:" + blake3.blake3(data).hexdigest()


@pytest.fixture
def kernel(project: Path) -> Iterator[Kernel]:
    k = Kernel(str(project))
    yield k
    k.shutdown()


def lineage(
    *args: str, db: Path | None = None, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, as a user types it."""
    env = dict(os.environ)
    if db is not None:
        env["JUPYTER_LINEAGE_DB"] = str(db)
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,  # generous: sweeps and runs start kernels, slow on a busy 2-core machine
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"jupyter lineage {' '.join(args)} -> {proc.returncode}\n{proc.stderr}"
        )
    return proc


def lineage_json(*args: str, db: Path | None = None) -> Any:
    return json.loads(lineage(*args, "--json", db=db).stdout)


def db_dump(path: Path) -> list[str]:
    """The logical content of a store (a WAL checkpoint may rewrite bytes, never content)."""
    import sqlite3

    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()
