"""A real JupyterLab server (started once per session) and Debian's Chromium driven by
Playwright — the sidebar is tested the way a user meets it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..conftest import EXAMPLES

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"

    def api(self, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}/{path}", headers={"Authorization": f"token {self.token}"}
        )
        # generous: a busy server answers late, and a late answer is not a failure
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Every wait without its own timeout (expect(...) and the page's own actions) is this generous:
# the suite runs on a 2-core machine shared with other work, where 5 s (Playwright's default)
# was once too short for the command palette to filter.
WAIT_MS = 60_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def page(page: Page) -> Page:
    """pytest-playwright's page, with the generous default waits."""
    page.set_default_timeout(WAIT_MS)
    page.set_default_navigation_timeout(WAIT_MS)
    return page


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI runs the tests start write to the notebook's own store."""
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)."
    )
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    root = base / "project"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("out", "*.out.ipynb"))
    settings = base / "settings"
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    ours = settings / "jupyter-lineage"
    ours.mkdir()
    (ours / "plugin.jupyterlab-settings").write_text(json.dumps({"refreshInterval": 1}))
    token = secrets.token_hex(16)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LINEAGE")}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    log = base / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.allow_root=True",
                "--LabApp.news_url=",
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            lab.api("api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("JupyterLab did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
