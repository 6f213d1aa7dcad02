"""``az://`` through adlfs against Azurite, the Azure Storage emulator (npm package ``azurite``,
installed with the labextension's unit-test dependencies: ``npm --prefix labextension/test ci``),
started and stopped by this module. Objects are recorded by URL with the version the filesystem
states (etag, last_modified, size), nothing is downloaded twice (Azurite's own log counts the
downloads), and neither the account key nor a SAS token is stored."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import blake3
import pytest

from .conftest import ROOT, lineage_json
from .kernel import Kernel

AZURITE = ROOT / "labextension" / "test" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (the same in every Azurite): not a secret of anyone's,
# but the test still checks it never reaches the store.
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DATA = b"x,y\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(200))


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Azurite's blob service on a free port, in memory, its debug log counting operations."""
    pytest.importorskip("adlfs", reason="adlfs is in the test extras")
    if not AZURITE.exists():
        pytest.skip(
            "Azurite is not installed: `npm --prefix labextension/test ci` installs it"
            " (make test does)"
        )
    log = tmp_path_factory.mktemp("azurite") / "debug.log"
    server = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence",
         "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent", "--debug", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        port = None
        for line in server.stdout:
            found = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        assert port, "Azurite did not start"
        endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        sas = generate_container_sas(
            ACCOUNT,
            "lake",
            account_key=KEY,
            permission=ContainerSasPermissions(read=True, write=True, list=True, create=True),
            expiry=datetime.now(timezone.utc) + timedelta(hours=2),
        )
        yield {
            "key": f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={endpoint};",
            "sas": f"BlobEndpoint={endpoint};SharedAccessSignature={sas}",
            "signature": re.search(r"sig=([^&]+)", sas).group(1),  # type: ignore[union-attr]
            "log": log,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def _downloads(log: Path) -> int:
    return log.read_text().count("Operation=Blob_Download")


@pytest.fixture(scope="module")
def shown(azurite: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One kernel, every idiom once: the cells' records, and Azurite's downloads per cell."""
    project = tmp_path_factory.mktemp("azure") / "project"
    project.mkdir()
    db = project / ".lineage" / "lineage.db"
    env = {**os.environ, "JUPYTER_LINEAGE_DB": str(db)}
    env.update(AZ_KEY_CONN=azurite["key"], AZ_SAS_CONN=azurite["sas"])
    downloads: dict[str, int] = {}
    k = Kernel(str(project), env=env)

    def cell(code: str, cell_id: str) -> None:
        before = _downloads(azurite["log"])
        k.check(code, cell_id=cell_id)
        downloads[cell_id] = _downloads(azurite["log"]) - before

    try:
        k.check("%load_ext jupyter_lineage")
        cell(
            "import adlfs, os, pandas as pd\n"
            "opts = {'connection_string': os.environ['AZ_KEY_CONN']}\n"
            "fs = adlfs.AzureBlobFileSystem(**opts)\nfs.mkdir('lake')\n"
            f"fs.pipe('lake/raw.csv', {DATA!r})",
            "pipe",
        )
        cell(
            "df = pd.read_csv('az://lake/raw.csv', storage_options=opts)\n"
            "df['z'] = df.x + df.y\ndf.to_csv('az://lake/out.csv', storage_options=opts)",
            "pandas",
        )
        cell(
            "sas = adlfs.AzureBlobFileSystem(connection_string=os.environ['AZ_SAS_CONN'])\n"
            "body = sas.cat_file('lake/raw.csv')",
            "sas-cat",
        )
        cell("fs.get('lake/raw.csv', 'copy.csv')", "get")
        cell("with fs.open('lake/raw.csv', 'rb') as f:\n    head = f.read(5)", "open")
        etag = k.check("print(fs.info('lake/out.csv')['etag'])").stdout.strip()
    finally:
        k.shutdown()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_LINEAGE_DB", str(db))
        show = lineage_json("show", "@last")
        trace = lineage_json("trace", "az://lake/out.csv")
        alias = lineage_json("trace", "abfs://lake/out.csv")  # adlfs's other name for it
        # ... and Spark's: the container before the @, the account's host after it
        spark = lineage_json("trace", "abfss://lake@devstoreaccount1.dfs.core.windows.net/out.csv")
    yield {
        "show": show,
        "trace": trace,
        "alias": alias,
        "spark": spark,
        "downloads": downloads,
        "etag": etag,
        "db": db,
    }
    shutil.rmtree(project, ignore_errors=True)


def _cell(show: dict[str, Any], cell_id: str) -> dict[str, Any]:
    (cell,) = [e for e in show["executions"] if e["cell_id"] == cell_id]
    return dict(cell)


def test_azure_blobs_by_url_and_etag_never_downloaded_twice(shown: dict[str, Any]) -> None:
    show, downloads = shown["show"], shown["downloads"]
    digest = "blake3:" + blake3.blake3(DATA).hexdigest()

    (piped,) = _cell(show, "pipe")["writes"]
    assert piped["path"] == "az://lake/raw.csv"
    assert "ETag=" in piped["version"] and f"size={len(DATA)}" in piped["version"]
    assert "Last-Modified=" in piped["version"]

    cell = _cell(show, "pandas")
    (read,) = cell["reads"]
    assert read["path"] == "az://lake/raw.csv" and read["version"] == piped["version"]
    assert read["hash"].startswith("version:")  # read in ranges: identified by its version
    (written,) = cell["writes"]
    assert written["path"] == "az://lake/out.csv"
    assert f"ETag={shown['etag']}" in written["version"]
    assert downloads["pandas"] == 1  # pandas' own read; capture fetched nothing

    (cat,) = _cell(show, "sas-cat")["reads"]  # through a SAS: the same object, hashed whole
    assert cat["path"] == "az://lake/raw.csv" and cat["hash"] == digest
    assert cat["version"] == piped["version"]
    assert downloads["sas-cat"] == 1

    got = _cell(show, "get")
    (remote,) = [r for r in got["reads"] if r["path"].startswith("az://")]
    assert remote["version"] == piped["version"]
    (copy,) = got["writes"]
    assert copy["path"].endswith("copy.csv") and copy["hash"] == digest
    assert downloads["get"] == 1

    (opened,) = _cell(show, "open")["reads"]
    assert opened["path"] == "az://lake/raw.csv" and opened["hash"] == read["hash"]
    assert downloads["open"] <= 1


def test_trace_finds_the_blob_read_and_no_credential_is_stored(
    shown: dict[str, Any], azurite: dict[str, Any]
) -> None:
    paths = {n["path"] for n in shown["trace"]["nodes"] if n["type"] == "artifact"}
    assert "az://lake/raw.csv" in paths
    assert shown["alias"] == shown["trace"] == shown["spark"]
    store = shown["db"].parent
    raw = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
    assert KEY.encode() not in raw and KEY[:20].encode() not in raw
    assert azurite["signature"].encode() not in raw
    assert b"SharedAccessSignature" not in raw and b"AccountKey" not in raw
