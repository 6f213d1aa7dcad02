"""The Lineage panel in Jupyter Notebook 7 (its own server, `python -m notebook`), in Debian's
Chromium: opened from View → Left Sidebar, it follows the open notebook like in JupyterLab, and
a kernel Notebook 7 starts names its notebook (the session) so its run is that notebook's."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..conftest import EXAMPLES, lineage
from .conftest import SCREENSHOTS, Lab, _free_port
from .helpers import PANEL, TIMEOUT, new_notebook

pytest.importorskip("notebook", minversion="7")


@pytest.fixture(scope="module")
def nb7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("nb7")
    root = base / "project"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("out", "*.out.ipynb"))
    (root / ".git").mkdir()  # the project's store lives here, not in the test's folders above
    notification = base / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    token, port = secrets.token_hex(16), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LINEAGE")}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    log = base / "notebook.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notebook",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.allow_root=True",
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Lab(f"http://127.0.0.1:{port}", token, root, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            server.api("api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("Notebook 7 did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _sessions(server: Lab) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{server.url}/api/sessions", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return list(json.loads(response.read()))


def _show_lineage(page: Page) -> None:
    """View > Left Sidebar > Show Lineage. On a busy machine the page may still be adding its
    sidebars when the submenu first opens (it then lacks the entry until opened again), or
    the hover may land before the menu is drawn: close and reopen until the entry shows."""
    entry = page.locator(".lm-Menu-item", has_text="Show Lineage")
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        page.locator(".lm-MenuBar-item", has_text="View").click()
        page.locator(".lm-Menu-item", has_text="Left Sidebar").hover()
        try:
            expect(entry).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "View > Left Sidebar never offered Show Lineage"
            page.keyboard.press("Escape")
            page.keyboard.press("Escape")
    entry.click()


def test_lineage_panel_in_notebook7(page: Page, nb7: Lab) -> None:
    made = json.loads(
        lineage("run", "train.ipynb", "-p", "C", "0.5", "--json", cwd=nb7.root).stdout
    )
    new_notebook(nb7.root / "scratch.ipynb", "%load_ext jupyter_lineage", "x = 41 + 1")
    page.goto(nb7.page_url("notebooks/train.ipynb"))
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=TIMEOUT)
    panel = page.locator(PANEL)
    expect(panel).to_be_hidden()
    _show_lineage(page)
    expect(panel).to_be_visible(timeout=TIMEOUT)
    run = panel.locator(".jp-Lineage-run")
    expect(run).to_have_count(1, timeout=TIMEOUT)
    expect(run.first).to_contain_text(made["name"])  # runs are titled by name
    panel.get_by_role("tab", name="Models").click()
    expect(panel.locator('.jp-Lineage-model[data-name="model.joblib"]')).to_have_count(
        1, timeout=TIMEOUT
    )
    page.screenshot(path=str(SCREENSHOTS / "notebook7-sidebar.png"))

    # a kernel Notebook 7 starts: its session names the notebook, so its run is that notebook's
    page.goto(nb7.page_url("notebooks/scratch.ipynb"))
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT / 1000
    while not any(s["path"] == "scratch.ipynb" for s in _sessions(nb7)):
        assert time.monotonic() < deadline, "no session for scratch.ipynb"
        time.sleep(0.3)
    page.locator(".jp-Notebook").click(position={"x": 5, "y": 5})
    page.locator(".lm-MenuBar-item", has_text="Run").click()
    page.locator("li.lm-Menu-item", has_text="Run All Cells").first.click()
    scratch = str(nb7.root / "scratch.ipynb")
    db = Path(nb7.root / ".lineage" / "lineage.db")
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        runs = json.loads(lineage("runs", "--json", "--db", str(db)).stdout)
        mine = [r for r in runs if r["notebook"] == scratch and r["executions"] >= 1]
        if mine:
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.5)
    assert mine[0]["kind"] == "interactive"
