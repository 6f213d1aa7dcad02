"""What the browser tests do as a user does: open a notebook, run it, open and size the
Lineage sidebar, open the graph tab; waits are on conditions, with generous timeouts (the
suite runs on a busy 2-core machine)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import SCREENSHOTS, Lab

PANEL = "#jupyter-lineage-panel"
GRAPH = ".jp-Lineage-graph-widget"
TIMEOUT = 60_000
ROOT = Path(__file__).resolve().parents[2]


def open_notebook(page: Page, lab: Lab, path: str) -> None:
    """The notebook, open in a fresh workspace: a workspace restored from an earlier test
    would open it a second time, late, and take the focus from what the test opens next."""
    page.goto(lab.page_url(f"lab/tree/{path}") + "&reset")
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")).to_be_visible(
        timeout=TIMEOUT
    )
    deadline = time.monotonic() + TIMEOUT / 1000
    while not any(
        s["path"] == path and s["kernel"]["execution_state"] == "idle"
        for s in lab.api("api/sessions")
    ):
        assert time.monotonic() < deadline, f"no idle kernel for {path}"
        time.sleep(0.3)
    # a notebook focuses its active cell once it has loaded (and its tab becomes current
    # again): let that happen before the test clicks elsewhere
    try:
        page.wait_for_function(FOCUSED, timeout=10_000)
    except PlaywrightTimeoutError:
        pass


FOCUSED = """() => !!(document.activeElement &&
  document.activeElement.closest('.jp-NotebookPanel:not(.lm-mod-hidden)'))"""


RAN = """n => {
  const prompts = [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
  return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
STARTED = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')
].some(p => /\\[(\\d+|\\*)\\]/.test(p.textContent))"""


def run_all(page: Page, code_cells: int) -> None:
    """Run > Run All Cells, as a user does (again if the kernel was not listening yet)."""
    for _ in range(3):
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").click(
            position={"x": 5, "y": 5}
        )
        page.locator("li.lm-MenuBar-item", has_text="Run").first.click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function(STARTED, timeout=30_000)
            break
        except PlaywrightTimeoutError:
            continue
    page.wait_for_function(RAN, arg=code_cells, timeout=TIMEOUT)


def until(check: Callable[[], bool], what: str, timeout_ms: int = TIMEOUT) -> None:
    """Poll ``check`` until it holds: for what the page's own waits cannot express (a computed
    colour, a value read through the API); a failure names what never happened."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_ms // 1000} s: {what}"
        time.sleep(0.2)


def open_sidebar(page: Page, width: int | None = None) -> Locator:
    """The Lineage panel, shown; widened to 620 px (or sized to `width`) by its split handle."""
    panel = page.locator(PANEL)
    tab = page.locator(f'li.lm-TabBar-tab[data-id="{PANEL[1:]}"]')
    expect(tab).to_be_visible(timeout=TIMEOUT)
    if not panel.is_visible():  # the workspace may have restored it open already
        tab.click()
    expect(panel).to_be_visible(timeout=TIMEOUT)
    box = panel.bounding_box()
    assert box is not None
    if width is not None:
        set_width(page, panel, width)
    elif box["width"] < 500:  # widen the sidebar as a user would, by its split handle
        set_width(page, panel, 620)
    return panel


def set_width(page: Page, panel: Locator, width: int) -> None:
    """Drag the sidebar's split handle until the panel is `width` px wide (±3)."""
    for _ in range(4):
        box = panel.bounding_box()
        assert box is not None
        if abs(box["width"] - width) <= 3:
            return
        edge, middle = box["x"] + box["width"], box["y"] + box["height"] / 2
        page.mouse.move(edge + 2, middle)
        page.mouse.down()
        page.mouse.move(box["x"] + width + 2, middle, steps=5)
        page.mouse.up()
        page.wait_for_timeout(200)
    box = panel.bounding_box()
    assert box is not None and abs(box["width"] - width) <= 3, f"panel is {box} wide, not {width}"


def open_graph(page: Page, panel: Locator) -> Locator:
    """The graph in the main work area, opened from the sidebar's Graph tab."""
    panel.get_by_role("tab", name="Graph").click()
    panel.get_by_role("button", name="Open graph").click()
    graph = page.locator(GRAPH)
    expect(graph).to_be_visible(timeout=TIMEOUT)
    expect(graph.locator("g.jp-Lineage-node").first).to_be_visible(timeout=TIMEOUT)
    return graph


def node(scope: Locator, kind: str, name: str) -> Locator:
    """A drawn node: an artifact by its file name, a cell or run by its label."""
    if kind == "artifact":
        return scope.locator(f'g[data-node-type="artifact"][data-name="{name}"]')
    return scope.locator(f'g[data-node-type="{kind}"][aria-label="{name}"]')


def item(scope: Locator, name: str) -> Locator:
    """An artifact in the sidebar's outline, by its file name."""
    return scope.locator(f'.jp-Lineage-item[data-name="{name}"]')


def runs_of(lab: Lab, notebook: str) -> int:
    """How many runs of `notebook` the lab's store holds: the tests share one lab, so a test
    counts the runs it adds to those that earlier tests (in any order) left."""
    if not (lab.root / ".lineage" / "lineage.db").exists():
        return 0
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", "runs", "--json"],
        cwd=lab.root,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return sum(r["notebook"] == str(lab.root / notebook) for r in json.loads(proc.stdout))


def new_notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, str(path))


def many_runs(lab: Lab, n: int = 100) -> str:
    """`many/sweep.ipynb` with a store of `n` runs (made once per session); its Jupyter path."""
    folder = lab.root / "many"
    if not (folder / ".lineage" / "lineage.db").exists():
        subprocess.run(
            [sys.executable, "-m", "tests.ui.many_runs", str(folder), str(n)],
            cwd=ROOT,
            check=True,
            timeout=600,
        )
    return "many/sweep.ipynb"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
