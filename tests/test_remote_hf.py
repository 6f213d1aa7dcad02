"""``hf://`` through huggingface_hub's HfFileSystem against olah, a Hugging Face Hub mirror from
PyPI that serves the Hub's API (revision, tree, paths-info, resolve) for local git repositories,
offline. olah lives in its own venv (``make test`` makes ``.venv-olah``: its fastapi-utils pins
psutil<6, which IPython 9 refuses). Files are recorded by URL with the version the filesystem states (the blob id git gave
the file), a new commit is a new version, and nothing is downloaded twice (olah's request log
counts the downloads). Started and stopped by this module, one kernel for all the cells."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, lineage_json
from .kernel import Kernel

pytest.importorskip("huggingface_hub", reason="huggingface_hub is in the test extras")
OLAH = ROOT / ".venv-olah" / "bin" / "olah-cli"

DATA = b"x,y\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(100))


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """olah serving ``acme/tiny`` (a git repository with data.csv) on a free port, offline."""
    if not OLAH.exists():
        pytest.skip(f"olah is not installed: `make test` installs it in {OLAH.parent.parent}")
    root = tmp_path_factory.mktemp("olah")
    repo = root / "mirrors" / "models" / "acme" / "tiny"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "data.csv").write_bytes(DATA)
    _git(repo, "add", "data.csv")
    _git(repo, "commit", "-qm", "data")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (root / "config.toml").write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\nmirrors-path = ["{root / "mirrors"}"]\n'
        f'repos-path = "{root / "repos"}"\nlog-path = "{root / "logs"}"\n'
        "metadata-cache-ttl = 0\n[accessibility]\noffline = true\n"
    )
    log = root / "olah.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(OLAH), "-c", "config.toml"],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while b"Uvicorn running" not in log.read_bytes():
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield {"endpoint": f"http://127.0.0.1:{port}", "repo": repo, "log": log}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _downloads(log: Path) -> int:
    return log.read_text().count("GET /acme/tiny/resolve/")


@pytest.fixture(scope="module")
def shown(hub: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = tmp_path_factory.mktemp("hf") / "project"
    project.mkdir()
    db = project / ".lineage" / "lineage.db"
    env = {**os.environ, "JUPYTER_LINEAGE_DB": str(db), "HF_ENDPOINT": hub["endpoint"]}
    env.update(HF_HOME=str(project.parent / "hf-home"), HF_HUB_OFFLINE="0")
    downloads: dict[str, int] = {}
    k = Kernel(str(project), env=env)

    def cell(code: str, cell_id: str) -> None:
        before = _downloads(hub["log"])
        k.check(code, cell_id=cell_id)
        downloads[cell_id] = _downloads(hub["log"]) - before

    try:
        k.check("%load_ext jupyter_lineage")
        cell(
            "import pandas as pd\ndf = pd.read_csv('hf://acme/tiny@main/data.csv')\n"
            "df.to_csv('local.csv', index=False)",
            "pandas",
        )
        cell(
            "from huggingface_hub import HfFileSystem\nfs = HfFileSystem(token=False)\n"
            "with fs.open('acme/tiny@main/data.csv', 'rb') as f:\n    head = f.read(4)",
            "open",
        )
        (hub["repo"] / "data.csv").write_bytes(DATA + b"100,200\n")
        _git(hub["repo"], "commit", "-qam", "one more row")
        cell(
            "fs = HfFileSystem(token=False, skip_instance_cache=True)\n"
            "with fs.open('acme/tiny@main/data.csv', 'rb') as f:\n    body = f.read()",
            "changed",
        )
    finally:
        k.shutdown()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_LINEAGE_DB", str(db))
        show = lineage_json("show", "@last")
        trace = lineage_json("trace", str(project / "local.csv"))
    return {"show": show, "trace": trace, "downloads": downloads, "project": project}


def _cell(show: dict[str, Any], cell_id: str) -> dict[str, Any]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return dict(cell)


def test_hub_files_by_url_and_blob_id_never_downloaded_twice(
    shown: dict[str, Any], hub: dict[str, Any]
) -> None:
    show, downloads = shown["show"], shown["downloads"]
    first_blob = _git(hub["repo"], "rev-parse", "HEAD~1:data.csv")
    second_blob = _git(hub["repo"], "rev-parse", "HEAD:data.csv")

    cell = _cell(show, "pandas")
    (read,) = [r for r in cell["reads"] if r["path"].startswith("hf://")]
    assert read["path"] == "hf://acme/tiny@main/data.csv" and read["kind"] == "dataset"
    assert f"blob_id={first_blob}" in read["version"] and f"size={len(DATA)}" in read["version"]
    assert read["hash"].startswith("version:")
    assert downloads["pandas"] == 1  # pandas' own read; capture fetched nothing

    (opened,) = _cell(show, "open")["reads"]
    assert opened["hash"] == read["hash"] and opened["version"] == read["version"]

    (changed,) = _cell(show, "changed")["reads"]  # a new commit: a new version of the file
    assert changed["path"] == read["path"] and f"blob_id={second_blob}" in changed["version"]
    assert changed["hash"] != read["hash"]
    assert downloads["changed"] == 1

    paths = {n["path"] for n in shown["trace"]["nodes"] if n["type"] == "artifact"}
    assert "hf://acme/tiny@main/data.csv" in paths
