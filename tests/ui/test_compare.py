"""A store of 100 runs of one notebook, explored as a user would: the runs table (sort,
filter, columns, the diff of two picked rows, the metrics plot) and the graph in the main
work area (legible at first, "50 of 100 runs shown", search)."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import Lab
from .helpers import TIMEOUT, many_runs, open_graph, open_notebook, open_sidebar, shot


def _api_runs(lab: Lab, path: str, *where: str) -> list[dict[str, Any]]:
    query = "".join(f"&where={w.replace(' ', '%20')}" for w in where)
    return lab.api(f"lineage/api/runs?notebook={path}&limit=1000{query}")  # type: ignore[no-any-return]


def _save_hidden(lab: Lab, keys: list[str]) -> None:
    """Set the hidden columns through JupyterLab's settings API, as the Columns menu does."""
    body = json.dumps({"raw": json.dumps({"refreshInterval": 1, "hiddenRunColumns": keys})})
    request = urllib.request.Request(
        f"{lab.url}/lab/api/settings/jupyter-lineage:plugin",
        data=body.encode(),
        method="PUT",
        headers={"Authorization": f"token {lab.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 204)


def _table(page: Page, lab: Lab, width: int = 600) -> tuple[str, Locator]:
    path = many_runs(lab)
    open_notebook(page, lab, path)
    panel = open_sidebar(page, width)
    panel.get_by_role("tab", name="Runs").click()
    expect(panel.locator("tr.jp-Lineage-run")).to_have_count(100, timeout=TIMEOUT)
    return path, panel


def test_compare_two_runs_chosen_by_metric_in_three_clicks(page: Page, lab: Lab) -> None:
    path, panel = _table(page, lab)
    expect(panel.locator(".jp-Lineage-runs-count")).to_have_text("100 runs")
    best = sorted(_api_runs(lab, path), key=lambda r: r["metrics"]["auc"], reverse=True)[:2]

    panel.locator('th[data-column="metric:auc"] button').click()  # 1: sort by the metric
    rows = panel.locator("tr.jp-Lineage-run")
    expect(rows.first).to_have_attribute("data-run-id", best[0]["id"], timeout=TIMEOUT)
    shot(page, "sidebar-runs")
    rows.nth(0).click()  # 2: the best run
    rows.nth(1).click()  # 3: the runner-up — and the diff opens

    expect(panel.get_by_role("tab", name="Diff")).to_have_attribute(
        "aria-selected", "true", timeout=TIMEOUT
    )
    expect(panel.get_by_label("Run A")).to_have_value(best[0]["id"])
    expect(panel.get_by_label("Run B")).to_have_value(best[1]["id"])
    auc = panel.locator('details[data-section="metrics"] tbody tr', has_text="auc")
    expect(auc.locator("td")).to_have_text(
        ["auc", str(best[0]["metrics"]["auc"]), str(best[1]["metrics"]["auc"]), re.compile(".+")],
        timeout=TIMEOUT,
    )
    params = panel.locator('details[data-section="parameters"] tbody tr')
    expect(params.first).to_be_visible()
    shot(page, "sidebar-compare")

    # the picks stay: back in the table, both rows are selected, A first
    panel.get_by_role("tab", name="Runs").click()
    picked = panel.locator("tr.jp-Lineage-run.jp-mod-selected")
    expect(picked).to_have_count(2)
    panel.get_by_role("button", name="Clear").click()
    expect(picked).to_have_count(0)


def test_diff_greys_unchanged_metrics(page: Page, lab: Lab) -> None:
    path, panel = _table(page, lab)
    runs = _api_runs(lab, path)
    # two runs with the same loss and different auc (the generator repeats loss every 7 runs)
    a = runs[0]
    b = next(r for r in runs[1:] if r["metrics"]["loss"] == a["metrics"]["loss"])
    panel.locator(f'tr[data-run-id="{a["id"]}"]').click()
    panel.locator(f'tr[data-run-id="{b["id"]}"]').click()
    metrics = panel.locator('details[data-section="metrics"]')
    same = metrics.locator("tr.jp-Lineage-row-same")
    expect(same).to_have_count(1, timeout=TIMEOUT)
    expect(same.locator("td").first).to_have_text("loss")
    grey = same.locator("td").first.evaluate("el => getComputedStyle(el).color")
    name = metrics.locator("tr.jp-Lineage-row-changed td").first
    assert grey != name.evaluate("el => getComputedStyle(el).color")
    assert "loss" not in (metrics.locator(".jp-Lineage-count").text_content() or "")


def test_filter_columns_and_plot(page: Page, lab: Lab) -> None:
    path, panel = _table(page, lab)
    expected = _api_runs(lab, path, "auc > 0.9", "params.C < 0.5")
    assert 0 < len(expected) < 100
    box = panel.get_by_label("Filter runs")
    box.fill("auc > 0.9, params.C < 0.5")
    box.press("Enter")
    rows = panel.locator("tr.jp-Lineage-run")
    expect(rows).to_have_count(len(expected), timeout=TIMEOUT)
    expect(panel.locator(".jp-Lineage-runs-count")).to_have_text(f"{len(expected)} runs match")
    assert sorted(r.get_attribute("data-run-id") or "" for r in rows.all()) == sorted(
        r["id"] for r in expected
    )
    # a condition the server cannot read: said in the panel's words, no CLI flag
    box.fill("auc >")
    box.press("Enter")
    error = panel.get_by_role("alert")
    expect(error).to_contain_text("The filter was not applied", timeout=TIMEOUT)
    expect(error).to_contain_text("NAME OP VALUE")
    expect(error).not_to_contain_text("--where")
    box.fill("")
    expect(rows).to_have_count(100, timeout=TIMEOUT)

    # columns: hide one, and it stays hidden after a reload (saved in the settings)
    panel.locator(".jp-Lineage-columns summary").click()
    panel.get_by_role("checkbox", name="loss (metric)").uncheck()
    expect(panel.locator('th[data-column="metric:loss"]')).to_have_count(0)
    settings = lab.api("lab/api/settings/jupyter-lineage:plugin")
    assert settings["settings"]["hiddenRunColumns"] == ["metric:loss"]
    try:
        open_notebook(page, lab, path)  # a new page: the choice comes back from the settings
        panel = open_sidebar(page, 600)
        panel.get_by_role("tab", name="Runs").click()
        expect(panel.locator('th[data-column="metric:auc"]')).to_be_visible(timeout=TIMEOUT)
        expect(panel.locator('th[data-column="metric:loss"]')).to_have_count(0)
        panel.locator(".jp-Lineage-columns summary").click()
        panel.get_by_role("checkbox", name="loss (metric)").check()
        expect(panel.locator('th[data-column="metric:loss"]')).to_be_visible(timeout=TIMEOUT)
        panel.locator(".jp-Lineage-columns summary").click()
    finally:  # the other tests see every column, whatever happened here
        _save_hidden(lab, [])

    # the plot: a metric against a parameter over every run, then against the step
    panel.get_by_role("button", name="Plot").click()
    plot = panel.locator("figure.jp-Lineage-plot")
    expect(plot).to_have_attribute("data-x", "C", timeout=TIMEOUT)
    panel.get_by_label("Metric to plot").select_option("auc")
    expect(plot).to_have_attribute("data-count", "100", timeout=TIMEOUT)
    canvas = plot.locator("canvas")
    expect(canvas).to_be_visible()
    assert (canvas.bounding_box() or {"height": 0})["height"] > 150
    rows = panel.locator("tr.jp-Lineage-run")
    rows.nth(0).click()
    rows.nth(1).click()  # two picks open the diff; a third is for the plot
    panel.get_by_role("tab", name="Runs").click()
    rows.nth(2).click()
    expect(panel.locator("tr.jp-Lineage-run.jp-mod-selected")).to_have_count(3)
    expect(plot).to_contain_text("3 selected")
    shot(page, "sidebar-plot")
    panel.get_by_label("Plot against").select_option("step")
    panel.get_by_label("Metric to plot").select_option("loss")
    expect(plot).to_have_attribute("data-count", "3", timeout=TIMEOUT)
    expect(plot.locator("figcaption")).to_have_text("loss by step: 3 runs (selected)")
    shot(page, "sidebar-plot-steps")
    panel.get_by_role("button", name="Clear").click()
    panel.get_by_role("button", name="Plot").click()


def test_graph_in_the_main_area_is_legible_and_says_what_it_leaves_out(
    page: Page, lab: Lab
) -> None:
    path = many_runs(lab)
    open_notebook(page, lab, path)
    panel = open_sidebar(page, 250)
    graph = open_graph(page, panel)
    # by default: the newest run's lineage, at a readable scale
    expect(graph.locator('g[data-node-type="execution"]')).to_have_count(3, timeout=TIMEOUT)
    scale = float(graph.locator("svg.jp-Lineage-svg").get_attribute("data-scale") or 0)
    assert scale >= 0.8
    label = graph.locator('g[data-node-type="execution"] text').first
    assert (label.bounding_box() or {"height": 0})["height"] >= 9  # px on screen
    expect(graph.locator('g[data-node-id$=":read"] text').first).to_have_text("[1] reads data.csv")
    expect(graph.locator('g[data-name="model.pkl"] text').nth(1)).to_have_text(
        re.compile(r"^[0-9a-f]{8} · [a-z]+-[a-z]+-[0-9]{2}$")  # short hash · the run's name
    )

    graph.get_by_label("Show the lineage of").select_option("all")
    shown = graph.locator(".jp-Lineage-shown")
    expect(shown).to_contain_text("50 of 100 runs shown", timeout=TIMEOUT)
    expect(graph.locator('g[data-node-type="run"]')).to_have_count(50, timeout=TIMEOUT)
    shown.get_by_role("button", name="Show 50 more").click()
    expect(shown).to_have_text("100 of 100 runs shown", timeout=TIMEOUT)
    expect(graph.locator('g[data-node-type="run"]')).to_have_count(100, timeout=TIMEOUT)
    # Fit shows all of it (no floor on the zoom that lets it spill off the edge)
    graph.get_by_role("button", name="Fit").click()
    canvas = graph.locator(".jp-Lineage-canvas").bounding_box()
    drawn = graph.locator("svg.jp-Lineage-svg > g").bounding_box()
    assert canvas and drawn
    assert drawn["x"] >= canvas["x"] - 1 and drawn["y"] >= canvas["y"] - 1
    assert drawn["x"] + drawn["width"] <= canvas["x"] + canvas["width"] + 1
    assert drawn["y"] + drawn["height"] <= canvas["y"] + canvas["height"] + 1

    search = graph.get_by_label("Search nodes")
    search.fill("model.pkl")
    expect(graph.locator(".jp-Lineage-search-count")).to_contain_text("matches", timeout=TIMEOUT)
    matched = graph.locator("g.jp-Lineage-node.jp-mod-match")
    assert matched.count() >= 100  # every version, and the cell that wrote the newest
    expect(graph.locator('g[data-node-type="run"]').first).to_have_class(
        re.compile(r"\bjp-mod-dimmed\b")
    )
    search.press("Enter")  # shows the first match, selected, with its details
    details = graph.get_by_label("Node details")
    expect(details).to_contain_text("model.pkl", timeout=TIMEOUT)
    expect(details).to_contain_text("Written by")
    shot(page, "graph-all-runs")
