"""The Lineage sidebar in a real JupyterLab, in Debian's Chromium: runs, graph (the sidebar's
outline and the main-area drawing), upstream highlight, go-to-cell, diff of two parameterised
runs, inert user text, empty state."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from ..conftest import lineage
from .conftest import Lab
from .helpers import (
    GRAPH,
    PANEL,
    TIMEOUT,
    item,
    new_notebook,
    node,
    open_graph,
    open_notebook,
    open_sidebar,
    run_all,
    runs_of,
    set_width,
    shot,
    until,
)


def test_runs_graph_upstream_and_go_to_cell(page: Page, lab: Lab) -> None:
    before = runs_of(lab, "train.ipynb")
    open_notebook(page, lab, "train.ipynb")
    run_all(page, 8)
    assert (lab.root / "out" / "model.joblib").exists()
    panel = open_sidebar(page)

    expect(panel.locator(".jp-Lineage-run")).to_have_count(before + 1, timeout=TIMEOUT)
    run = panel.locator(".jp-Lineage-run").first  # the newest: this interactive run
    expect(run.locator(".jp-Lineage-run-kind")).to_have_text("interactive")
    expect(run.locator(".jp-Lineage-run-meta")).to_contain_text("7 cells", timeout=TIMEOUT)
    expect(panel.locator('th[data-column="metric:accuracy"]')).to_be_visible()
    expect(run.locator('td[data-column="metric:accuracy"]')).to_have_text(
        re.compile(r"^0\.\d+$"), timeout=TIMEOUT
    )
    shot(page, "sidebar-first-run")

    # the sidebar's compact view: the newest run's cells, labelled by what they did
    panel.get_by_role("tab", name="Graph").click()
    outline = panel.get_by_label("Lineage outline")
    read_item = outline.locator('.jp-Lineage-item[data-node-id$=":d9bf2b3b"]')
    expect(read_item.locator(".jp-Lineage-item-main")).to_have_text(
        re.compile(r"^\[\d+\] reads customers\.csv$"), timeout=TIMEOUT
    )
    expect(item(outline, "model.joblib").locator(".jp-Lineage-item-sub")).to_have_text(
        re.compile(r"^[0-9a-f]{8} · [a-z]+-[a-z]+-[0-9]{2}$")  # short hash · the run's name
    )

    set_width(page, panel, 360)  # room for the main-area graph beside it
    graph = open_graph(page, panel)
    csv = node(graph, "artifact", "customers.csv")
    model = node(graph, "artifact", "model.joblib")
    expect(csv).to_be_visible(timeout=TIMEOUT)
    expect(model).to_be_visible()
    cells = graph.locator('g[data-node-type="execution"]')
    assert cells.count() == 7  # all but the %load_ext cell that starts tracking
    csv_id = csv.get_attribute("data-node-id")
    model_id = model.get_attribute("data-node-id")
    reader = graph.locator(f'path[data-edge^="{csv_id}->"][data-edge$=":read"]')
    writer = graph.locator(f'path[data-edge*="->{model_id}:wrote"]')
    assert reader.count() == 1 and writer.count() == 1
    read_cell = reader.get_attribute("data-edge").split("->")[1].rsplit(":", 1)[0]  # type: ignore[union-attr]
    assert read_cell.endswith(":d9bf2b3b")  # the cell that ran pd.read_csv
    expect(graph.locator(f'g[data-node-id="{read_cell}"] text').first).to_have_text(
        re.compile(r"^\[\d+\] reads customers\.csv$")
    )

    graph.get_by_role("button", name="Fit").click()
    model.click()
    upstream = re.compile(r"\bjp-mod-upstream\b")
    expect(csv).to_have_class(upstream)
    expect(graph.locator(f'g[data-node-id="{read_cell}"]')).to_have_class(upstream)
    expect(model).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    # the figure is written after the model: not part of how the model was made
    expect(node(graph, "artifact", "roc.png")).to_have_class(re.compile(r"\bjp-mod-dimmed\b"))
    assert graph.locator("path.jp-Lineage-edge.jp-mod-upstream").count() >= 4
    details = graph.get_by_label("Node details")
    expect(details).to_contain_text(str(lab.root / "out" / "model.joblib"))
    # which run wrote it, and that run's metrics
    expect(details).to_contain_text("Written by")
    expect(details.locator(".jp-Lineage-details-metrics")).to_contain_text("accuracy")
    # the selection is shared: the sidebar's outline highlights the same path
    expect(item(outline, "model.joblib")).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    expect(item(outline, "roc.png")).to_have_class(re.compile(r"\bjp-mod-dimmed\b"))
    shot(page, "sidebar-graph")

    dump_cell = graph.locator('g[data-node-type="execution"][data-node-id$=":c96d6fcc"]')
    dump_cell.click()
    expect(details.locator(".jp-Lineage-source")).to_contain_text("joblib.dump")
    details.get_by_role("button", name="Go to cell").click()
    active = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active")
    expect(active).to_contain_text("joblib.dump", timeout=TIMEOUT)


def test_diff_shows_the_changed_parameter(page: Page, lab: Lab) -> None:
    lineage("run", "train.ipynb", "-p", "C", "0.5", cwd=lab.root)
    runs = runs_of(lab, "train.ipynb")  # with those earlier tests left
    open_notebook(page, lab, "train.ipynb")
    panel = open_sidebar(page)
    expect(panel.locator(".jp-Lineage-run")).to_have_count(runs, timeout=TIMEOUT)
    # a run finishing while the panel is open shows up without a reload
    lineage("run", "train.ipynb", "-p", "C", "2.0", cwd=lab.root)
    expect(panel.locator(".jp-Lineage-run")).to_have_count(runs + 1, timeout=TIMEOUT)
    first = panel.locator(".jp-Lineage-run").first
    expect(first.locator('td[data-column="param:C"]')).to_have_text("2", timeout=TIMEOUT)

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


def test_copy_requirements_copies_the_runs_pins(page: Page, lab: Lab) -> None:
    """A run's details in the graph offer its packages, pinned, as `env RUN` prints them."""
    run_id = json.loads(
        lineage("run", "train.ipynb", "-p", "C", "0.7", "--json", cwd=lab.root).stdout
    )["id"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    open_notebook(page, lab, "train.ipynb")
    panel = open_sidebar(page)
    set_width(page, panel, 360)
    graph = open_graph(page, panel)
    run = graph.locator(f'g[data-node-type="run"][data-node-id="{run_id}"]')
    expect(run).to_be_visible(timeout=TIMEOUT)
    run.click()
    details = graph.get_by_label("Node details")
    with page.expect_response(re.compile(r"/lineage/api/runs/[0-9a-f-]+/env\?")) as answer:
        details.get_by_role("button", name="Copy requirements").click()
    assert answer.value.ok
    expect(details.get_by_role("status")).to_have_text("Copied", timeout=TIMEOUT)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == lineage("env", run_id, cwd=lab.root).stdout
    assert any(line.startswith("scikit-learn==") for line in copied.splitlines())


def test_stale_outputs_are_marked(page: Page, lab: Lab) -> None:
    if not (lab.root / ".lineage" / "lineage.db").exists():  # when run on its own
        lineage("run", "train.ipynb", "-p", "C", "0.5", cwd=lab.root)
    csv = lab.root / "data" / "customers.csv"
    original = csv.read_text()
    csv.write_text(original + original.splitlines()[1] + "\n")  # one more row: new content
    try:
        open_notebook(page, lab, "train.ipynb")
        panel = open_sidebar(page)
        panel.get_by_role("tab", name="Graph").click()
        # the newest model was made from the old CSV: marked in the outline and the drawing
        listed = item(panel, "model.joblib").and_(panel.locator(".jp-mod-stale"))
        expect(listed.first).to_be_visible(timeout=TIMEOUT)
        expect(listed.first).to_contain_text("stale")
        graph = open_graph(page, panel)
        stale = graph.locator('g[data-node-type="artifact"][data-name="model.joblib"].jp-mod-stale')
        expect(stale.first).to_be_visible(timeout=TIMEOUT)
        expect(stale.first).to_contain_text("stale")
        expect(node(graph, "artifact", "customers.csv")).not_to_have_class(
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
    listed = panel.locator(".jp-Lineage-item-execution").filter(has_text=payload)
    expect(listed).to_have_count(1, timeout=TIMEOUT)
    expect(listed.locator(".jp-Lineage-item-main")).to_have_text(f"[2] {payload}")
    listed.click()
    expect(panel.locator(".jp-Lineage-source")).to_have_text(payload)
    graph = open_graph(page, panel)
    cell = graph.locator('g[data-node-type="execution"]').filter(has_text=payload)
    expect(cell).to_have_count(1, timeout=TIMEOUT)
    expect(cell.locator("text").first).to_have_text(f"[2] {payload}")
    # selected in the sidebar, so selected here too: its details show the code as text
    expect(cell).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    expect(graph.locator(".jp-Lineage-source")).to_have_text(payload)
    page.wait_for_timeout(500)
    assert panel.locator("img").count() == 0 and graph.locator("img").count() == 0
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
    assert props["hiddenRunColumns"]["default"] == []
    open_notebook(page, lab, "train.ipynb")
    palette = page.locator(".lm-CommandPalette-input")
    active = page.locator(".lm-CommandPalette-item.lm-mod-active")

    def run_from_palette(query: str, command: str) -> None:
        """View > Command Palette, the query typed, Enter once the wanted command is active."""
        page.locator("li.lm-MenuBar-item", has_text="View").first.click()
        page.locator("li.lm-Menu-item[data-command='apputils:activate-command-palette']").click()
        expect(palette).to_be_visible(timeout=TIMEOUT)
        palette.fill(query)  # replaces what an earlier search left in the box
        # the palette filters after each keystroke on its own schedule: wait for the result
        expect(active).to_have_attribute("data-command", command, timeout=TIMEOUT)
        page.keyboard.press("Enter")

    run_from_palette("Lineage Graph", "lineage:show-graph")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible(timeout=TIMEOUT)
    expect(panel.get_by_role("tab", name="Graph")).to_have_attribute(
        "aria-selected", "true", timeout=TIMEOUT
    )
    # the main-area graph has its command too
    run_from_palette("Lineage Graph in Main Area", "lineage:open-graph")
    expect(page.locator(GRAPH)).to_be_visible(timeout=TIMEOUT)


def test_dark_theme_follows_jupyterlab(page: Page, lab: Lab) -> None:
    if not (lab.root / ".lineage" / "lineage.db").exists():  # when run on its own
        lineage("run", "train.ipynb", "-p", "C", "0.5", cwd=lab.root)
    open_notebook(page, lab, "train.ipynb")
    panel = open_sidebar(page)
    graph = open_graph(page, panel)
    expect(node(graph, "artifact", "customers.csv")).to_be_visible(timeout=TIMEOUT)

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    def style(scope: Locator, prop: str) -> str:
        return str(scope.evaluate(f"el => getComputedStyle(el).{prop}"))

    def background() -> float:
        return luminance(style(panel, "backgroundColor"))

    assert background() > 0.8

    def theme(name: str) -> None:
        page.locator("li.lm-MenuBar-item", has_text="Settings").first.click()
        page.locator("li.lm-Menu-item", has_text="Theme").first.hover()
        page.locator("li.lm-Menu-item", has_text=name).first.click()
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", name, timeout=TIMEOUT)

    theme("JupyterLab Dark")
    try:
        # the theme's stylesheet applies after the body says its name: wait for each colour
        label = graph.locator('g[data-node-type="artifact"] text').first
        listed = panel.locator(".jp-Lineage-item-main").first
        until(lambda: background() < 0.3, "the sidebar's background turns dark")
        until(
            lambda: luminance(style(graph, "backgroundColor")) < 0.3,
            "the graph's background turns dark",
        )
        until(  # light on dark
            lambda: sum(int(v) for v in re.findall(r"\d+", style(label, "fill"))[:3]) > 3 * 150,
            "the graph's labels turn light",
        )
        until(lambda: luminance(style(listed, "color")) > 0.6, "the outline's text turns light")
        shot(page, "sidebar-dark")
    finally:  # the theme is a saved setting: leave the light one for the tests after this
        theme("JupyterLab Light")


def test_docs_show_the_screenshots() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "sidebar.md").read_text()
    for name in (
        "sidebar-runs",
        "sidebar-graph",
        "sidebar-diff",
        "sidebar-dark",
        "sidebar-compare",
        "sidebar-plot",
        "sidebar-plot-steps",
        "graph-all-runs",
        "sidebar-250",
    ):
        assert f"images/{name}.png" in text and (docs / "images" / f"{name}.png").exists()
