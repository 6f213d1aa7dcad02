"""Secrets never enter the database; the store is private to its owner."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import db_dump, lineage, lineage_json
from .kernel import Kernel

SECRETS = {
    "GITHUB_TOKEN": "ghp_zqxv7_token_0123456789",
    "AWS_SECRET_ACCESS_KEY": "zqxv7/aws/secret/key/9876",
    "DB_PASSWORD": "zqxv7-password-hunter2",
    "STRIPE_API_KEY": "sk_live_zqxv7_key_555",
    "MY_SERVICE_SECRET": "zqxv7-service-secret-777",
}


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_planted_secrets_never_reach_the_store(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(
        [
            "git",
            "remote",
            "add",
            "origin",
            f"https://deploy:{SECRETS['GITHUB_TOKEN']}@example.invalid/o/r.git",
        ],
        cwd=project,
        check=True,
    )
    (project / "data.csv").write_text("a\n1\n")
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("import os\ntoken_seen_by_user = os.environ['GITHUB_TOKEN']")
        k.check(
            "data = open('data.csv').read()\n"
            f"url = 'https://user:{SECRETS['DB_PASSWORD']}@db.example.invalid/x?api_key="
            f"{SECRETS['STRIPE_API_KEY']}'"
        )
        k.check(f"%track input https://u:{SECRETS['MY_SERVICE_SECRET']}@h.example.invalid/d.csv")
        k.check("%track param region=eu")
        assert k.check("print(token_seen_by_user)").stdout.strip() == SECRETS["GITHUB_TOKEN"]
    finally:
        k.shutdown()
    show = lineage_json("show", "@last")
    assert show["git"]["remote"] == "https://example.invalid/o/r.git"
    raw = _all_bytes(project / ".lineage")
    for name, value in SECRETS.items():
        assert value.encode() not in raw, name
    assert b"zqxv7" not in raw  # every planted value contains it: not even a fragment got in
    assert b"GITHUB_TOKEN" in raw  # the code that mentions the name is kept; never the value


def test_store_and_folder_are_private(project: Path, db: Path) -> None:
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("x = 1")
    finally:
        k.shutdown()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for sidecar in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if sidecar.exists():
            assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0


def test_environment_records_no_variables(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARMLESS_LOOKING_VALUE", "visible-only-in-env-4242")
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("x = 1")
    finally:
        k.shutdown()
    env = lineage_json("show", "@last")["environment"]
    assert set(env) == {
        "python",
        "implementation",
        "executable",
        "platform",
        "system",
        "machine",
        "cpu",
        "cpu_count",
        "memory_bytes",
        "gpus",
        "packages",
        "origins",
    }
    assert b"visible-only-in-env-4242" not in _all_bytes(project / ".lineage")
    assert os.environ["HARMLESS_LOOKING_VALUE"]


def _lineage_files(project: Path) -> bytes:
    """The database, its WAL and its journal: what "the store" is."""
    found = (project / ".lineage").glob("lineage.db*")
    files = [f for p in found for f in ([p] if p.is_file() else sorted(p.rglob("*")))]
    return b"".join(f.read_bytes() for f in files if f.is_file())


def _pipeline_notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    nbformat.write(nb, str(path))


def test_printed_environment_and_error_urls_stay_out_of_the_store(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`print(os.environ)` and an HTTP error with a keyed URL, in a `jupyter lineage run`."""
    monkeypatch.setenv("SERVICE_API_TOKEN", "zqxv7-token-0451")
    monkeypatch.setenv("SOME_SETTING", "zqxv7-not-named-like-a-secret")
    _pipeline_notebook(
        project / "leak.ipynb",
        [
            "import os\nprint(os.environ)\nos.environ",
            "print('see https://u:zqxv7pw@h.example.invalid/x?token=zqxv7-q#id_token=zqxv7-f')",
            "raise RuntimeError('404 Client Error: Not Found for url: '\n"
            "    'http://h.example.invalid/missing?API_KEY=zqxv7-key&page=2')",
        ],
    )
    proc = lineage("run", "leak.ipynb", check=False, cwd=project)
    assert proc.returncode == 1, proc.stderr  # the notebook failed, as it should
    assert b"zqxv7" not in _lineage_files(project)
    show = lineage_json("show", "@last")
    assert "API_KEY=REDACTED&page=2" in show["error"]["value"]
    assert "API_KEY=REDACTED" in show["executions"][-1]["error"]["value"]
    dump = "\n".join(db_dump(project / ".lineage" / "lineage.db"))
    assert "[redacted $SERVICE_API_TOKEN]" in dump and "[redacted $SOME_SETTING]" in dump
    assert "token=REDACTED#id_token=REDACTED" in dump  # the outputs are kept, redacted
    for fmt in ("openlineage", "prov-json", "dot", "mermaid"):
        text = lineage("export", "--format", fmt, cwd=project).stdout
        assert "zqxv7" not in text, fmt
    events = lineage("export", "--format", "openlineage", cwd=project).stdout
    assert "API_KEY=REDACTED" in events  # the errorMessage facet


def test_a_pipeline_run_leaves_everything_owner_only(project: Path) -> None:
    _pipeline_notebook(project / "nb.ipynb", ["open('out.txt', 'w').write('x')"])
    lineage("run", "nb.ipynb", cwd=project)
    folder = project / ".lineage"
    found = [folder, *folder.rglob("*")]
    assert any(p.suffix == ".ipynb" for p in found) and (folder / "runs").is_dir()
    for path in found:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_interactive_errors_and_url_fragments_keep_no_secret(project: Path) -> None:
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("%track input https://h.example.invalid/f.csv#access_token=zqxv7-frag&x=1")
        k.check("%track input https://h.example.invalid/g.csv?Client_Secret=zqxv7-cs&JWT=zqxv7-j")
        reply = k.run(
            "raise ConnectionError('HTTPSConnectionPool: Max retries exceeded with url: '\n"
            "    'https://h.example.invalid/p?session=zqxv7-session&refresh_token=zqxv7-r')"
        )
        assert reply.error is not None and reply.error["ename"] == "ConnectionError"
    finally:
        k.shutdown()
    assert b"zqxv7" not in _lineage_files(project)
    show = lineage_json("show", "@last")
    paths = {f["path"] for f in show["files_read"]}
    assert "https://h.example.invalid/f.csv#access_token=REDACTED&x=1" in paths
    assert "https://h.example.invalid/g.csv?Client_Secret=REDACTED&JWT=REDACTED" in paths
    assert "session=REDACTED&refresh_token=REDACTED" in show["executions"][-1]["error"]["value"]


def test_exports_scrub_records_of_older_versions(project: Path, db: Path) -> None:
    """A store written before these rules: what leaves the machine is cleaned anyway."""
    import sqlite3

    from jupyter_lineage.capture.tracker import Tracker

    (project / "d.csv").write_text("a\n")
    t = Tracker(notebook=str(project / "nb.ipynb"))
    t.begin_execution("x = 1", "c")
    t.declare("https://h.example.invalid/d.csv?x=1", "read")
    t.end_execution(execution_count=1, error=RuntimeError("boom"))
    t.close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE artifacts SET uri = uri || '#access_token=zqxv7-old' WHERE uri LIKE 'https:%'"
        )
        conn.execute(
            "UPDATE executions SET error_value = 'for url: http://h.example.invalid/?key=zqxv7-k'"
        )
        conn.execute("UPDATE runs SET error_name = 'E', error_value = 'http://a:zqxv7@h/x'")
        conn.execute(
            "UPDATE sources SET text = 'get(\"https://h.example.invalid/?token=zqxv7-src\")'"
        )
    conn.close()
    for fmt in ("openlineage", "prov-json", "dot", "mermaid"):
        text = lineage("export", "--format", fmt, cwd=project).stdout
        assert "zqxv7" not in text, (fmt, text)
