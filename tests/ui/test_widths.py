"""The panel at the widths people give it, 250 px (the default) and 600 px: nothing is cut
or squeezed — long text is truncated with its full text in a tooltip, and what does not fit
side by side is stacked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Lab
from .helpers import TIMEOUT, item, many_runs, open_notebook, open_sidebar, shot


def _inside(inner: Locator, outer: Locator) -> None:
    a, b = inner.bounding_box(), outer.bounding_box()
    assert a and b, "not on screen"
    assert a["x"] >= b["x"] - 1 and a["x"] + a["width"] <= b["x"] + b["width"] + 1, (a, b)


def _no_sideways_scroll(body: Locator) -> None:
    assert body.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the panel scrolls sideways"


@pytest.mark.parametrize("width", [250, 600])
def test_panel_fits_its_width(page: Page, lab: Lab, width: int) -> None:
    path = many_runs(lab)
    open_notebook(page, lab, path)
    panel = open_sidebar(page, width)
    body = panel.locator(".jp-Lineage-body")

    # runs: a table at 600 px, cards at 250 px; either way no sideways scroll of the panel
    panel.get_by_role("tab", name="Runs").click()
    rows = panel.locator("tr.jp-Lineage-run")
    expect(rows).to_have_count(100, timeout=TIMEOUT)
    _no_sideways_scroll(body)
    head = panel.locator(".jp-Lineage-runs thead").evaluate("el => getComputedStyle(el).display")
    assert head == ("block" if width == 250 else "table-header-group")
    title = rows.first.locator(".jp-Lineage-run-title")
    assert (title.get_attribute("title") or "").startswith(
        rows.first.get_attribute("data-run-id") or "?"
    )
    _inside(title, panel)
    auc = rows.first.locator('td[data-column="metric:auc"]')
    if width == 250:  # every value on screen, named
        _inside(auc, panel)
        assert auc.evaluate("el => getComputedStyle(el, '::before').content") == '"auc "'
    expect(auc).to_have_text(re.compile(r"^0\.\d+$"))
    shot(page, f"sidebar-{width}")

    # diff: pickers inside the panel, rows not wrapped letter by letter
    rows.nth(0).click()
    rows.nth(1).click()
    expect(panel.get_by_role("tab", name="Diff")).to_have_attribute(
        "aria-selected", "true", timeout=TIMEOUT
    )
    for picker in ("Run A", "Run B"):
        _inside(panel.get_by_label(picker), panel)
    metrics = panel.locator('details[data-section="metrics"] tbody tr')
    expect(metrics.first).to_be_visible(timeout=TIMEOUT)
    _no_sideways_scroll(body)
    for row in metrics.all():
        for cell in row.locator("td").all():
            box = cell.bounding_box()
            assert box and box["height"] < 24, f"{cell.text_content()!r} wraps: {box}"
    shot(page, f"sidebar-{width}-diff")

    # graph outline and details: "Go to cell" and the code stay on screen
    panel.get_by_role("tab", name="Graph").click()
    model = item(panel, "model.pkl")
    expect(model).to_be_visible(timeout=TIMEOUT)
    _inside(model, panel)
    panel.locator('.jp-Lineage-item[data-node-id$=":fit"]').click()
    details = panel.get_by_label("Node details")
    go = details.get_by_role("button", name="Go to cell")
    expect(go).to_be_visible(timeout=TIMEOUT)
    _inside(go, panel)
    source = details.locator(".jp-Lineage-source")
    expect(source).to_contain_text("model.pkl")
    code = source.bounding_box()
    assert code and code["width"] > min(width - 60, 400)  # stacked under its label when narrow
    _no_sideways_scroll(body)
    shot(page, f"sidebar-{width}-graph")
