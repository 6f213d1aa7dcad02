"""Secrets never enter the database; the store is private to its owner."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import lineage_json
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
    }
    assert b"visible-only-in-env-4242" not in _all_bytes(project / ".lineage")
    assert os.environ["HARMLESS_LOOKING_VALUE"]
