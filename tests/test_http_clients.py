"""requests and httpx in a real kernel against a real local HTTP server (ETags, ranges): URLs
recorded without credentials, with the server's version identity and the body's hash, and the
server asked for each body once (capture never downloads anything again)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import blake3
import pytest

from .conftest import lineage_json
from .httpserver import serve
from .kernel import Kernel

pytest.importorskip("requests", reason="requests is in the test extras")
pytest.importorskip("httpx", reason="httpx is in the test extras")


def _reads(cell_id: str) -> list[dict[str, Any]]:
    show = lineage_json("show", "@last")
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return sorted(cell["reads"], key=lambda r: r["path"])


def _b3(data: bytes) -> str:
    return "blake3:" + blake3.blake3(data).hexdigest()


@pytest.fixture
def served(project: Path) -> Any:
    site = project / "site"
    site.mkdir()
    (site / "data.csv").write_bytes(
        b"x,y\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(500))
    )
    (site / "big.bin").write_bytes(bytes(range(256)) * 400)
    with serve(site) as (base, server):
        yield site, base, server


def test_requests_and_httpx_reads(kernel: Kernel, served: Any, project: Path) -> None:
    site, base, server = served
    data = (site / "data.csv").read_bytes()
    big = (site / "big.bin").read_bytes()
    etag = '"' + hashlib.md5(data).hexdigest() + '"'
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("import os\nos.environ['TOKEN'] = 'Bearer ' + 'abc-hdr'")
    k.check(
        f"import requests\nr = requests.get('{base}/data.csv?token=s3cr3t-tok&v=2')\n"
        "assert r.status_code == 200",
        cell_id="requests-whole",
    )
    k.check(
        f"with requests.get('{base}/big.bin', stream=True) as r:\n"
        "    body = b''.join(r.iter_content(4096))\nassert len(body) == 102400",
        cell_id="requests-stream",
    )
    k.check(
        f"with requests.get('{base}/big.bin', stream=True) as r:\n"
        "    first = next(r.iter_content(1024))",
        cell_id="requests-partial",
    )
    k.check(
        f"import httpx, os\nh = httpx.get('{base}/data.csv', headers={{'Authorization': os.environ['TOKEN']}})",
        cell_id="httpx-whole",
    )
    k.check(
        f"with httpx.stream('GET', '{base}/big.bin') as s:\n"
        "    streamed = b''.join(s.iter_bytes())",
        cell_id="httpx-stream",
    )
    k.check(
        "async def fetch():\n"
        "    async with httpx.AsyncClient() as c:\n"
        f"        return (await c.get('{base}/data.csv')).content\n"
        "adata = await fetch()",
        cell_id="httpx-async",
    )
    k.check(f"requests.post('{base}/data.csv')", cell_id="requests-post")  # 501: not a read

    (whole,) = _reads("requests-whole")
    assert whole["path"] == f"{base}/data.csv?token=REDACTED&v=2"
    assert whole["hash"] == _b3(data)
    assert whole["size"] == len(data)
    assert whole["kind"] == "dataset"
    assert f"ETag={etag}" in whole["version"]
    assert "Last-Modified=" in whole["version"]
    assert f"Content-Length={len(data)}" in whole["version"]

    (streamed,) = _reads("requests-stream")
    assert streamed["hash"] == _b3(big) and streamed["size"] == len(big)
    (partial,) = _reads("requests-partial")
    # Half a body has no content hash: the version the server named tells it apart.
    assert partial["hash"].startswith("version:") and "ETag=" in partial["version"]
    assert partial["size"] == len(big)

    for cell, body in (("httpx-whole", data), ("httpx-stream", big), ("httpx-async", data)):
        (read,) = _reads(cell)
        assert read["hash"] == _b3(body), cell
        assert "ETag=" in read["version"], cell
    assert _reads("requests-post") == []
    # Six GETs, six bodies served: nothing was fetched a second time.
    assert server.gets == 6
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    assert b"s3cr3t-tok" not in raw and b"Bearer abc-hdr" not in raw  # nor request headers


def test_a_changed_url_is_a_new_version(kernel: Kernel, served: Any) -> None:
    site, base, _server = served
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check(f"import requests\nfirst = requests.get('{base}/data.csv').content", cell_id="one")
    (site / "data.csv").write_bytes(b"x,y\n1,2\n")
    k.check(f"second = requests.get('{base}/data.csv').content", cell_id="two")
    (a,), (b,) = _reads("one"), _reads("two")
    assert a["path"] == b["path"] and a["hash"] != b["hash"]
    assert b["hash"] == _b3(b"x,y\n1,2\n") and a["version"] != b["version"]
    trace = lineage_json("trace", f"{base}/data.csv")
    assert trace["target"]["hash"] == b["hash"]  # the latest version read
