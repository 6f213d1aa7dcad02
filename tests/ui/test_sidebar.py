"""The Lineage sidebar in a real JupyterLab, in Debian's Chromium: runs, graph, upstream
highlight, go-to-cell, diff of two parameterised runs, inert user text, empty state."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from ..conftest import lineage
from .conftest import SCREENSHOTS, Lab

PANEL = "#jupyter-lineage-panel"
TIMEOUT = 60_000


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTER_LINEAGE_DB", raising=False)


def open_notebook(page: Page, lab: Lab, path: str) -> None:
    page.goto(lab.page_url(f"lab/tree/{path}"))
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
            page.wait_for_function(STARTED, timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    page.wait_for_function(RAN, arg=code_cells, timeout=TIMEOUT)


def open_sidebar(page: Page) -> Locator:
    panel = page.locator(PANEL)
    tab = page.locator(f'li.lm-TabBar-tab[data-id="{PANEL[1:]}"]')
    expect(tab).to_be_visible()
    if not panel.is_visible():  # the workspace may have restored it open already
        tab.click()
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    if box["width"] < 500:  # widen the sidebar as a user would, by its split handle
        edge, middle = box["x"] + box["width"], box["y"] + box["height"] / 2
        page.mouse.move(edge + 2, middle)
        page.mouse.down()
        page.mouse.move(620, middle, steps=5)
        page.mouse.up()
    return panel


def node(panel: Locator, kind: str, label: str) -> Locator:
    return panel.locator(f'g[data-node-type="{kind}"][aria-label="{label}"]')


def new_notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, str(path))


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_runs_graph_upstream_and_go_to_cell(page: Page, lab: Lab) -> None:
    open_notebook(page, lab, "train.ipynb")
    run_all(page, 8)
    assert (lab.root / "out" / "model.joblib").exists()
    panel = open_sidebar(page)

    run = panel.locator(".jp-Lineage-run")
    expect(run).to_have_count(1, timeout=TIMEOUT)
    expect(run.locator(".jp-Lineage-run-kind")).to_have_text("interactive")
    expect(run.locator(".jp-Lineage-run-meta")).to_contain_text("7 cells", timeout=TIMEOUT)
    expect(run.locator(".jp-Lineage-run-metrics")).to_contain_text("accuracy")
    shot(page, "sidebar-runs")

    panel.get_by_role("tab", name="Graph").click()
    csv = node(panel, "artifact", "customers.csv")
    model = node(panel, "artifact", "model.joblib")
    expect(csv).to_be_visible(timeout=TIMEOUT)
    expect(model).to_be_visible()
    cells = panel.locator('g[data-node-type="execution"]')
    assert cells.count() == 7  # all but the %load_ext cell that starts tracking
    csv_id = csv.get_attribute("data-node-id")
    model_id = model.get_attribute("data-node-id")
    reader = panel.locator(f'path[data-edge^="{csv_id}->"][data-edge$=":read"]')
    writer = panel.locator(f'path[data-edge*="->{model_id}:wrote"]')
    assert reader.count() == 1 and writer.count() == 1
    read_cell = reader.get_attribute("data-edge").split("->")[1].rsplit(":", 1)[0]  # type: ignore[union-attr]
    assert read_cell.endswith(":d9bf2b3b")  # the cell that ran pd.read_csv

    panel.get_by_role("button", name="Fit").click()
    model.click()
    upstream = re.compile(r"\bjp-mod-upstream\b")
    expect(csv).to_have_class(upstream)
    expect(panel.locator(f'g[data-node-id="{read_cell}"]')).to_have_class(upstream)
    expect(model).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    # the figure is written after the model: not part of how the model was made
    expect(node(panel, "artifact", "roc.png")).to_have_class(re.compile(r"\bjp-mod-dimmed\b"))
    assert panel.locator("path.jp-Lineage-edge.jp-mod-upstream").count() >= 4
    details = panel.get_by_label("Node details")
    expect(details).to_contain_text(str(lab.root / "out" / "model.joblib"))
    shot(page, "sidebar-graph")

    dump_cell = panel.locator('g[data-node-type="execution"][data-node-id$=":c96d6fcc"]')
    dump_cell.click()
    expect(details.locator(".jp-Lineage-source")).to_contain_text("joblib.dump")
    details.get_by_role("button", name="Go to cell").click()
    active = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active")
    expect(active).to_contain_text("joblib.dump")


def test_diff_shows_the_changed_parameter(page: Page, lab: Lab) -> None:
    lineage("run", "train.ipynb", "-p", "C", "0.5", cwd=lab.root)
    open_notebook(page, lab, "train.ipynb")
    panel = open_sidebar(page)
    expect(panel.locator(".jp-Lineage-run")).to_have_count(2, timeout=TIMEOUT)
    # a run finishing while the panel is open shows up without a reload
    lineage("run", "train.ipynb", "-p", "C", "2.0", cwd=lab.root)
    expect(panel.locator(".jp-Lineage-run")).to_have_count(3, timeout=TIMEOUT)
    expect(panel.locator(".jp-Lineage-run").first).to_contain_text("C=2")

    panel.get_by_role("tab", name="Diff").click()
    params = panel.locator('details[data-section="parameters"]')
    row = params.locator("tbody tr")
    expect(row).to_have_count(1, timeout=TIMEOUT)
    expect(row.locator("td")).to_have_text(["C", "0.5", "2", ""])
    expect(panel.locator('details[data-section="code"] .jp-Lineage-count')).to_have_text("same")
    expect(panel.locator('details[data-section="metrics"]')).to_contain_text("auc")
    shot(page, "sidebar-diff")

    panel.get_by_role("button", name="Swap").click()
    expect(row.locator("td")).to_have_text(["C", "2", "0.5", ""], timeout=TIMEOUT)


def test_stale_outputs_are_marked(page: Page, lab: Lab) -> None:
    csv = lab.root / "data" / "customers.csv"
    original = csv.read_text()
    csv.write_text(original + original.splitlines()[1] + "\n")  # one more row: new content
    try:
        open_notebook(page, lab, "train.ipynb")
        panel = open_sidebar(page)
        panel.get_by_role("tab", name="Graph").click()
        # every recorded version of the model was made from the old CSV
        stale = panel.locator(
            'g[data-node-type="artifact"][aria-label="model.joblib"].jp-mod-stale'
        )
        expect(stale.first).to_be_visible(timeout=TIMEOUT)
        expect(stale.first).to_contain_text("stale")
        expect(node(panel, "artifact", "customers.csv")).not_to_have_class(
            re.compile(r"\bjp-mod-stale\b")
        )
    finally:
        csv.write_text(original)


def test_user_text_is_rendered_as_text(page: Page, lab: Lab) -> None:
    payload = "<img src=x onerror=alert(1)>"
    new_notebook(lab.root / "inert.ipynb", "%load_ext jupyter_lineage", payload)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_notebook(page, lab, "inert.ipynb")
    run_all(page, 2)
    panel = open_sidebar(page)
    expect(panel.locator(".jp-Lineage-run-meta")).to_contain_text("1 failed", timeout=TIMEOUT)
    panel.get_by_role("tab", name="Graph").click()
    cell = panel.locator('g[data-node-type="execution"]').filter(has_text=payload)
    expect(cell).to_have_count(1, timeout=TIMEOUT)
    expect(cell.locator("text").first).to_have_text(f"[2] {payload}")
    cell.click()
    expect(panel.locator(".jp-Lineage-source")).to_have_text(payload)
    page.wait_for_timeout(500)
    assert panel.locator("img").count() == 0
    assert dialogs == []


def test_untracked_notebook_says_how_to_start(page: Page, lab: Lab) -> None:
    folder = lab.root / "fresh"
    folder.mkdir()
    new_notebook(folder / "untracked.ipynb", "x = 1")
    open_notebook(page, lab, "fresh/untracked.ipynb")
    panel = open_sidebar(page)
    expect(panel.locator(".jp-Lineage-message")).to_contain_text(
        "%load_ext jupyter_lineage", timeout=TIMEOUT
    )
    assert not (folder / ".lineage").exists()  # looking never creates a store


def test_settings_and_commands_are_registered(page: Page, lab: Lab) -> None:
    settings = lab.api("lab/api/settings/jupyter-lineage:plugin")
    props = settings["schema"]["properties"]
    assert props["refreshInterval"]["default"] == 3 and props["storePath"]["default"] == ""
    open_notebook(page, lab, "train.ipynb")
    palette = page.locator(".lm-CommandPalette-input")
    page.locator("li.lm-MenuBar-item", has_text="View").first.click()
    page.locator("li.lm-Menu-item[data-command='apputils:activate-command-palette']").click()
    expect(palette).to_be_visible()
    palette.press_sequentially("Lineage Graph")
    item = page.locator(".lm-CommandPalette-item.lm-mod-active")
    expect(item).to_have_attribute("data-command", "lineage:show-graph")
    page.keyboard.press("Enter")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(panel.get_by_role("tab", name="Graph")).to_have_attribute("aria-selected", "true")


def test_dark_theme_follows_jupyterlab(page: Page, lab: Lab) -> None:
    if not (lab.root / ".lineage" / "lineage.db").exists():  # when run on its own
        lineage("run", "train.ipynb", "-p", "C", "0.5", cwd=lab.root)
    open_notebook(page, lab, "train.ipynb")
    panel = open_sidebar(page)
    panel.get_by_role("tab", name="Graph").click()
    expect(node(panel, "artifact", "customers.csv")).to_be_visible(timeout=TIMEOUT)

    def background() -> float:
        rgb = panel.evaluate("el => getComputedStyle(el).backgroundColor")
        r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    assert background() > 0.8
    page.locator("li.lm-MenuBar-item", has_text="Settings").first.click()
    page.locator("li.lm-Menu-item", has_text="Theme").first.hover()
    page.locator("li.lm-Menu-item", has_text="JupyterLab Dark").first.click()
    expect(page.locator("body")).to_have_attribute(
        "data-jp-theme-name", "JupyterLab Dark", timeout=TIMEOUT
    )
    page.wait_for_timeout(500)
    assert background() < 0.3
    label = panel.locator('g[data-node-type="artifact"] text').first
    colour = label.evaluate("el => getComputedStyle(el).fill")
    assert sum(int(v) for v in re.findall(r"\d+", colour)[:3]) > 3 * 150  # light text on dark
    shot(page, "sidebar-dark")


def test_docs_show_the_screenshots() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "sidebar.md").read_text()
    for name in ("sidebar-runs", "sidebar-graph", "sidebar-diff", "sidebar-dark"):
        assert f"images/{name}.png" in text and (docs / "images" / f"{name}.png").exists()
