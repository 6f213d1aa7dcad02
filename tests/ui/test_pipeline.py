"""The sidebar's Pipeline tab in a real JupyterLab, in Debian's Chromium: examples/pipeline's
three notebooks as stages in run order, the one made stale by a parameter changed upstream
marked with its reason, at 600 and at 250 px."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from jupyter_lineage.store import Store

from ..conftest import lineage
from .conftest import Lab
from .helpers import TIMEOUT, open_notebook, open_sidebar, set_width, shot


def test_pipeline_tab_marks_the_stale_stage(page: Page, lab: Lab) -> None:
    folder = lab.root / "pipeline"
    # its own store (a subfolder without one shares the Lab project's, found upwards)
    Store(folder / ".lineage" / "lineage.db").close()
    for name in ("prepare", "train", "evaluate"):
        lineage("run", f"{name}.ipynb", cwd=folder)
    lineage("run", "train.ipynb", "-p", "C", "0.1", cwd=folder)  # evaluate's model changed
    served = lab.api("lineage/api/pipeline?notebook=pipeline/train.ipynb")
    assert served["stale"] == [str(folder / "evaluate.ipynb")]

    open_notebook(page, lab, "pipeline/train.ipynb")
    panel = open_sidebar(page, 600)
    panel.get_by_role("tab", name="Pipeline").click()
    stages = panel.get_by_label("Pipeline stages").locator(".jp-Lineage-stage")
    expect(stages).to_have_count(3, timeout=TIMEOUT)
    # names relative to what the stages share: the root here (they read data/customers.csv)
    for i, name in enumerate(("prepare.ipynb", "train.ipynb", "evaluate.ipynb")):
        expect(stages.nth(i)).to_have_attribute("data-name", f"pipeline/{name}")
    expect(panel.get_by_label("Pipeline summary")).to_contain_text(
        "3 stages in run order · 1 stale"
    )
    evaluate = panel.locator('.jp-Lineage-stage[data-name="pipeline/evaluate.ipynb"]')
    expect(evaluate.locator(".jp-Lineage-stage-state")).to_have_text("stale")
    expect(evaluate.get_by_label("Why it is stale")).to_contain_text(
        "input pipeline/work/model.joblib changed"
    )
    expect(evaluate.get_by_label("Files")).to_contain_text(
        "reads pipeline/work/model.joblib ← pipeline/train.ipynb"
    )
    train = panel.locator('.jp-Lineage-stage[data-name="pipeline/train.ipynb"]')
    expect(train.locator(".jp-Lineage-stage-state")).to_have_text("up to date")
    expect(train).to_have_class("jp-Lineage-stage jp-mod-current")  # the open notebook's
    expect(train.locator(".jp-Lineage-stage-meta")).to_contain_text("C=0.1")
    expect(train.get_by_label("Files")).to_contain_text(
        "writes pipeline/work/model.joblib → pipeline/evaluate.ipynb"
    )
    edge = "el => getComputedStyle(el).borderLeftColor"
    assert evaluate.evaluate(edge) != train.evaluate(edge)  # the stale card is marked
    shot(page, "sidebar-pipeline")

    # narrow: every card stays inside the panel, the stale badge and its reason still read
    set_width(page, panel, 250)
    expect(panel.get_by_role("tab", name="Pipeline")).to_be_visible()
    expect(evaluate.locator(".jp-Lineage-stage-state")).to_be_visible()
    expect(evaluate.get_by_label("Why it is stale")).to_be_visible()
    panel_box = panel.bounding_box()
    assert panel_box is not None
    for i in range(3):
        box = stages.nth(i).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= panel_box["x"] + panel_box["width"] + 1
    shot(page, "sidebar-pipeline-narrow")

    # repro brings it up to date; the tab follows
    lineage("repro", cwd=folder)
    expect(evaluate.locator(".jp-Lineage-stage-state")).to_have_text("up to date", timeout=TIMEOUT)
    expect(panel.get_by_label("Pipeline summary")).to_contain_text("all up to date")
