"""Uploads through requests, httpx and urllib (POST, PUT of bytes, of a file, of a form) in a real kernel
against a real local HTTP server: each is a write of the URL, credentials removed, with the
server's ETag and the hash of what was sent — a file sent whole carries that file's own hash, so
trace of the URL finds the file. One server and one kernel for the module."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from .conftest import lineage_json
from .httpserver import serve
from .kernel import Kernel

pytest.importorskip("requests", reason="requests is in the test extras")
pytest.importorskip("httpx", reason="httpx is in the test extras")

TABLE = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i * 3) for i in range(300))


def _b3(data: bytes) -> str:
    return "blake3:" + blake3.blake3(data).hexdigest()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("uploads") / "project"
    (folder / "site").mkdir(parents=True)
    (folder / "local.csv").write_bytes(TABLE)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))


@pytest.fixture(scope="module")
def uploaded(project: Path) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """The cells run once: every upload idiom, then the PUT object read back."""
    with pytest.MonkeyPatch.context() as mp, serve(project / "site") as (base, server):
        mp.chdir(project)
        mp.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))
        k = Kernel(str(project), env={**os.environ, "UPLOAD_TOKEN": "Bearer hdr-s3cr3t"})
        try:
            k.check("%load_ext jupyter_lineage")
            k.check(
                "import os, requests, httpx\n"
                f"r = requests.put('{base}/up/model.bin?token=s3cr3t-tok', data=b'weights' * 100,"
                " headers={'Authorization': os.environ['UPLOAD_TOKEN']})\nassert r.status_code == 201",
                cell_id="put-bytes",
            )
            k.check(
                "with open('local.csv', 'rb') as f:\n"
                f"    r = requests.post('{base}/api/upload?sig=abc123', data=f)\n"
                "assert r.ok",
                cell_id="post-file",
            )
            k.check(
                "with open('local.csv', 'rb') as f:\n"
                f"    r = requests.post('{base}/api/form', files={{'table': f}})\nassert r.ok",
                cell_id="post-form",
            )
            k.check(
                f"h = httpx.put('{base}/up/params.json', json={{'C': 0.5}})\n"
                "assert h.status_code == 201",
                cell_id="httpx-json",
            )
            k.check(
                "with open('local.csv', 'rb') as f:\n"
                f"    h = httpx.put('{base}/up/table.csv', content=f)\n"
                "assert h.status_code == 201",
                cell_id="httpx-file",
            )
            k.check(f"back = requests.get('{base}/up/model.bin').content", cell_id="get-back")
            k.check(
                "import urllib.request\n"
                f"req = urllib.request.Request('{base}/up/u.bin?api_key=k3y-s3cret-99', data=b'abc',"
                " method='PUT')\nurllib.request.urlopen(req).read()",
                cell_id="urllib-put",
            )
            k.check(f"requests.delete('{base}/up/model.bin')", cell_id="delete")
        finally:
            k.shutdown()
        yield base, server, lineage_json("show", "@last")


def _cell(show: dict[str, Any], cell_id: str) -> dict[str, Any]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return dict(cell)


def test_an_upload_is_a_write_of_the_url_with_what_was_sent(
    uploaded: tuple[str, Any, dict[str, Any]], project: Path
) -> None:
    base, server, show = uploaded
    bodies = {(method, path): body for method, path, body in server.uploads}

    (put,) = _cell(show, "put-bytes")["writes"]
    assert put["path"] == f"{base}/up/model.bin?token=REDACTED"
    assert put["hash"] == _b3(b"weights" * 100) and put["size"] == 700
    assert put["version"].startswith('ETag="') and put["kind"] == "dataset"
    assert _cell(show, "put-bytes")["reads"] == []  # the reply is not a read

    # The same bytes read back: the same content, so the same artifact version.
    (back,) = _cell(show, "get-back")["reads"]
    assert back["path"] == f"{base}/up/model.bin" and back["hash"] == put["hash"]

    file_hash = _b3(TABLE)
    cell = _cell(show, "post-file")
    assert [(r["path"], r["hash"]) for r in cell["reads"]] == [
        (str(project / "local.csv"), file_hash)
    ]
    (posted,) = cell["writes"]
    assert posted["path"] == f"{base}/api/upload?sig=REDACTED"
    assert posted["hash"] == file_hash and posted["size"] == len(TABLE)
    assert bodies[("POST", "/api/upload?sig=abc123")] == TABLE

    form = _cell(show, "post-form")
    (sent,) = form["writes"]
    assert sent["path"] == f"{base}/api/form" and not sent["hash"].startswith("blake3:")
    assert sent["size"] == len(bodies[("POST", "/api/form")])
    assert [r["path"] for r in form["reads"]] == [str(project / "local.csv")]

    (as_json,) = _cell(show, "httpx-json")["writes"]
    assert as_json["hash"] == _b3(bodies[("PUT", "/up/params.json")])
    assert json.loads(bodies[("PUT", "/up/params.json")]) == {"C": 0.5}

    (streamed,) = _cell(show, "httpx-file")["writes"]
    assert streamed["path"] == f"{base}/up/table.csv" and streamed["hash"] == file_hash

    (by_urllib,) = _cell(show, "urllib-put")["writes"]  # urllib's: no version, as its reads
    assert by_urllib["path"] == f"{base}/up/u.bin?api_key=REDACTED"
    assert by_urllib["hash"] == _b3(b"abc") and _cell(show, "urllib-put")["reads"] == []

    delete = _cell(show, "delete")
    assert delete["reads"] == [] and delete["writes"] == []


def test_trace_of_an_uploaded_url_finds_the_file_and_no_secret_is_stored(
    uploaded: tuple[str, Any, dict[str, Any]], project: Path
) -> None:
    base, _server, _show = uploaded
    trace = lineage_json("trace", f"{base}/api/upload?sig=REDACTED")
    paths = {n["path"] for n in trace["nodes"] if n["type"] == "artifact"}
    assert str(project / "local.csv") in paths
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    for secret in (b"s3cr3t-tok", b"hdr-s3cr3t", b"abc123", b"k3y-s3cret-99"):
        assert secret not in raw
