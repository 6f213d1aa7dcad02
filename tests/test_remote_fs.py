"""fsspec remote filesystems in a real kernel: S3 through s3fs against moto's S3 server (a real
HTTP server speaking the S3 API, run locally), and fsspec's HTTP filesystem against a local HTTP
server. URLs come out without credentials, with the version the filesystem itself states."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import lineage_json
from .httpserver import serve
from .kernel import Kernel

pytest.importorskip("s3fs", reason="s3fs is in the test extras")
pytest.importorskip("aiohttp", reason="aiohttp (fsspec's HTTP filesystem) is in the test extras")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the test extras")

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """moto's S3 server on a free port and a boto3 client of it, with a versioned bucket."""
    import socket

    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="lake")
    client.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Enabled"})
    try:
        yield endpoint, client
    finally:
        server.stop()


def _cell(show: dict[str, Any], cell_id: str) -> dict[str, Any]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return dict(cell)


def test_s3_and_http_filesystems(s3: tuple[str, Any], project: Path) -> None:
    endpoint, client = s3
    data = b"x,y\n" + b"".join(b"%d,%d\n" % (i, i + 1) for i in range(100))
    put = client.put_object(Bucket="lake", Key="raw/data.csv", Body=data)
    site = project / "site"
    site.mkdir()
    (site / "table.csv").write_bytes(data)
    options = f"{{'client_kwargs': {{'endpoint_url': '{endpoint}'}}}}"
    k = Kernel(str(project), env=dict(os.environ))
    try:
        with serve(site) as (base, server):
            k.check("%load_ext jupyter_lineage")
            k.check(
                f"import pandas as pd\nopts = {options}\n"
                "df = pd.read_csv('s3://lake/raw/data.csv', storage_options=opts)",
                cell_id="s3-read",
            )
            k.check(
                "df['z'] = df.x * 2\ndf.to_csv('s3://lake/out/result.csv', storage_options=opts)",
                cell_id="s3-write",
            )
            k.check(
                "import s3fs\nfs = s3fs.S3FileSystem(**opts)\n"
                "with fs.open('lake/raw/data.csv', 'rb') as f:\n    head = f.read(10)",
                cell_id="s3-open",
            )
            before = server.gets
            k.check(
                f"import fsspec\nwith fsspec.open('{base}/table.csv?sig=abc123') as f:\n"
                "    remote_table = f.read()",
                cell_id="http-fs",
            )
            http_gets = server.gets - before
            k.check("local = open('site/table.csv').read()", cell_id="local")
    finally:
        k.shutdown()
    show = lineage_json("show", "@last")

    (read,) = _cell(show, "s3-read")["reads"]
    assert read["path"] == "s3://lake/raw/data.csv"
    assert f"VersionId={put['VersionId']}" in read["version"]
    assert f"ETag={put['ETag']}" in read["version"]
    assert read["size"] == len(data) and read["kind"] == "dataset"
    assert read["hash"].startswith("version:")

    (written,) = _cell(show, "s3-write")["writes"]
    head = client.head_object(Bucket="lake", Key="out/result.csv")
    assert written["path"] == "s3://lake/out/result.csv"
    assert f"VersionId={head['VersionId']}" in written["version"]
    assert written["size"] == head["ContentLength"]

    (opened,) = _cell(show, "s3-open")["reads"]
    assert opened["path"] == "s3://lake/raw/data.csv" and opened["hash"] == read["hash"]

    (fetched,) = _cell(show, "http-fs")["reads"]
    assert fetched["path"] == f"{base}/table.csv?sig=REDACTED"
    assert "ETag=" in fetched["version"] and f"size={len(data)}" in fetched["version"]
    assert http_gets == 1  # fsspec's own read of the small file: capture fetched nothing

    # A local file is the audit hook's: recorded by content, once, never as a URL.
    (local,) = _cell(show, "local")["reads"]
    assert local["path"] == str(site / "table.csv") and local["hash"].startswith("blake3:")

    trace = lineage_json("trace", "s3://lake/out/result.csv")
    paths = {n["path"] for n in trace["nodes"] if n["type"] == "artifact"}
    assert "s3://lake/raw/data.csv" in paths
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    assert b"testing-secret-value" not in raw and b"abc123" not in raw


def test_a_new_object_version_is_a_new_artifact(s3: tuple[str, Any], project: Path) -> None:
    endpoint, client = s3
    client.put_object(Bucket="lake", Key="v.csv", Body=b"a\n1\n")
    k = Kernel(str(project), env=dict(os.environ))
    try:
        k.check("%load_ext jupyter_lineage")
        code = (
            f"import fsspec\nwith fsspec.open('s3://lake/v.csv', client_kwargs="
            f"{{'endpoint_url': '{endpoint}'}}) as f:\n    body = f.read()"
        )
        k.check(code, cell_id="first")
        client.put_object(Bucket="lake", Key="v.csv", Body=b"a\n2\n")
        k.check("fsspec.filesystem('s3').invalidate_cache()\n" + code, cell_id="second")
    finally:
        k.shutdown()
    show = lineage_json("show", "@last")
    (one,), (two,) = _cell(show, "first")["reads"], _cell(show, "second")["reads"]
    assert one["path"] == two["path"] == "s3://lake/v.csv"
    assert one["hash"] != two["hash"] and one["version"] != two["version"]


def test_s3_whole_object_transfers(s3: tuple[str, Any], project: Path) -> None:
    """fs.cat_file, fs.get, fs.put and fs.pipe: the object by URL and version; a body the cell
    holds whole is hashed like a file (so the local copy `get` wrote has the same hash)."""
    import blake3
    import s3fs

    if int(s3fs.__version__.split(".")[0]) < 2021:  # -ra prints the reason
        pytest.skip(
            f"s3fs {s3fs.__version__} predates async fsspec (whole-object transfers): pip chose it"
            " because the installed botocore is newer than any aiobotocore allows"
        )

    endpoint, client = s3
    body = b"id,v\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(50))
    put = client.put_object(Bucket="lake", Key="in/table.csv", Body=body)
    (project / "local.csv").write_bytes(b"a\n1\n")
    k = Kernel(str(project), env=dict(os.environ))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check(
            f"import s3fs\nfs = s3fs.S3FileSystem(client_kwargs={{'endpoint_url': '{endpoint}'}})\n"
            "data = fs.cat_file('lake/in/table.csv')",
            cell_id="cat",
        )
        k.check("fs.get('lake/in/table.csv', 'copy.csv')", cell_id="get")
        k.check("fs.put('local.csv', 'lake/up/local.csv')", cell_id="put")
        k.check("fs.pipe('lake/up/piped.bin', b'xyz')", cell_id="pipe")
    finally:
        k.shutdown()
    show = lineage_json("show", "@last")
    digest = "blake3:" + blake3.blake3(body).hexdigest()

    (cat,) = _cell(show, "cat")["reads"]
    assert cat["path"] == "s3://lake/in/table.csv" and cat["hash"] == digest
    assert f"VersionId={put['VersionId']}" in cat["version"]

    got = _cell(show, "get")
    (remote,) = [r for r in got["reads"] if r["path"].startswith("s3://")]
    assert remote["path"] == "s3://lake/in/table.csv" and "VersionId=" in remote["version"]
    (copy,) = got["writes"]
    assert copy["path"] == str(project / "copy.csv") and copy["hash"] == digest

    uploaded = _cell(show, "put")
    assert [r["path"] for r in uploaded["reads"]] == [str(project / "local.csv")]
    (up,) = uploaded["writes"]
    head = client.head_object(Bucket="lake", Key="up/local.csv")
    assert up["path"] == "s3://lake/up/local.csv"
    assert f"VersionId={head['VersionId']}" in up["version"]

    (piped,) = _cell(show, "pipe")["writes"]
    assert piped["path"] == "s3://lake/up/piped.bin" and "VersionId=" in piped["version"]


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """gcp-storage-emulator (the GCS JSON API, run locally) and gcsfs pointed at it."""
    import socket

    emulator = pytest.importorskip(
        "gcp_storage_emulator.server", reason="gcp-storage-emulator is in the test extras"
    )
    pytest.importorskip("gcsfs", reason="gcsfs is in the test extras")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket="lake")
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    # gcsfs's default probes each bucket over gRPC first (a minute against an emulator)
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    try:
        yield server
    finally:
        server.stop()


def test_gcs_reads_and_writes_by_generation(gcs: Any, project: Path) -> None:
    k = Kernel(str(project), env=dict(os.environ))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check(
            "import gcsfs, pandas as pd\nfs = gcsfs.GCSFileSystem(token='anon', project='t')\n"
            "fs.pipe('lake/raw.csv', b'x,y\\n1,2\\n3,4\\n')",
            cell_id="pipe",
        )
        k.check(
            "df = pd.read_csv('gs://lake/raw.csv', storage_options={'token': 'anon'})\n"
            "df.to_csv('gs://lake/out.csv', storage_options={'token': 'anon'})",
            cell_id="pandas",
        )
        k.check("generation = fs.info('lake/out.csv')['generation']", cell_id="info")
        generation = k.check("print(generation)").stdout.strip()
    finally:
        k.shutdown()
    show = lineage_json("show", "@last")
    (piped,) = _cell(show, "pipe")["writes"]
    assert piped["path"] == "gs://lake/raw.csv" and "generation=" in piped["version"]
    cell = _cell(show, "pandas")
    (read,) = cell["reads"]
    assert read["path"] == "gs://lake/raw.csv" and read["version"] == piped["version"]
    (written,) = cell["writes"]
    assert written["path"] == "gs://lake/out.csv"
    assert f"generation={generation}" in written["version"]
