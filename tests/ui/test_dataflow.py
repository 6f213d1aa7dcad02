"""Dataflow in the sidebar's graph, in a real JupyterLab and Chromium: cells linked by the
variables they share, the upstream highlight following them, Gather opening the minimal
notebook, and a stale badge on the cells that used a variable from a cell edited since."""

from __future__ import annotations

import re

import nbformat
from playwright.sync_api import Page, expect

from .conftest import Lab
from .helpers import (
    TIMEOUT,
    new_notebook,
    node,
    open_graph,
    open_notebook,
    open_sidebar,
    run_all,
    set_width,
    shot,
)

SOURCES = (
    "%load_ext jupyter_lineage",
    "text = open('data/customers.csv').read()",
    "unrelated = 41",
    "size = len(text) * 2",
    "open('size.txt', 'w').write(str(size))",
)


def _cell(graph: object, code: str) -> object:
    return graph.locator('g[data-node-type="execution"]').filter(has_text=code)  # type: ignore[attr-defined]


def test_graph_follows_dataflow_gathers_and_marks_stale_cells(page: Page, lab: Lab) -> None:
    new_notebook(lab.root / "flow.ipynb", *SOURCES)
    open_notebook(page, lab, "flow.ipynb")
    run_all(page, len(SOURCES))
    panel = open_sidebar(page)
    set_width(page, panel, 360)
    graph = open_graph(page, panel)

    # cell -> cell edges labelled by the variable that links them
    labels = graph.locator("text.jp-Lineage-edge-label")
    expect(labels.filter(has_text=re.compile(r"^text$"))).to_have_count(1, timeout=TIMEOUT)
    expect(labels.filter(has_text=re.compile(r"^size$"))).to_have_count(1)
    assert graph.locator("path.jp-Lineage-edge-next").count() == 0

    # the upstream of size.txt follows dataflow: the unrelated cell is not part of it
    out = node(graph, "artifact", "size.txt")
    graph.get_by_role("button", name="Fit").click()
    out.click()
    upstream = re.compile(r"\bjp-mod-upstream\b")
    expect(_cell(graph, "len(text)")).to_have_class(upstream)  # type: ignore[arg-type]
    expect(_cell(graph, "open('data/customers.csv')")).to_have_class(upstream)  # type: ignore[arg-type]
    expect(node(graph, "artifact", "customers.csv")).to_have_class(upstream)
    expect(_cell(graph, "unrelated = 41")).to_have_class(re.compile(r"\bjp-mod-dimmed\b"))  # type: ignore[arg-type]
    shot(page, "graph-dataflow")

    # Gather: the minimal notebook, saved beside this one and opened
    details = graph.get_by_label("Node details")
    with page.expect_response(re.compile(r"/lineage/api/gather\?")) as answer:
        details.get_by_role("button", name="Gather").click()
    assert answer.value.ok
    expect(page.locator('li.lm-TabBar-tab[title*="size.gathered.ipynb"]').first).to_be_visible(
        timeout=TIMEOUT
    )
    gathered = nbformat.read(str(lab.root / "size.gathered.ipynb"), as_version=4)
    assert [c.source for c in gathered.cells] == [SOURCES[1], SOURCES[3], SOURCES[4]]

    # edit the cell that read the CSV and run it again: the cells that used `text` are stale
    page.locator('li.lm-TabBar-tab[title*="flow.ipynb"]').first.click()
    editor = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .cm-content").nth(1)
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type(".upper()")
    page.keyboard.press("Shift+Enter")
    page.locator('li.lm-TabBar-tab[title*="Lineage graph"]').first.click()
    stale = graph.locator('g[data-node-type="execution"].jp-mod-stale')
    expect(stale).to_have_count(2, timeout=TIMEOUT)
    expect(stale.filter(has_text="len(text)")).to_contain_text("stale")
    expect(_cell(graph, "unrelated = 41")).not_to_have_class(re.compile(r"\bjp-mod-stale\b"))  # type: ignore[arg-type]
    # the sidebar's outline marks them too; a cell's details say what it used, from where
    listed = panel.locator(".jp-Lineage-item-execution.jp-mod-stale")
    expect(listed).to_have_count(2, timeout=TIMEOUT)
    expect(listed.first).to_contain_text("stale")
    stale.filter(has_text="len(text)").click()
    details = graph.get_by_label("Node details")
    expect(details).to_contain_text(re.compile(r"Uses\s*text ← \[\d+\]"))
    expect(details).to_contain_text("re-run since with changed code")
    shot(page, "graph-stale-cells")
