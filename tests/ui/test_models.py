"""The sidebar's Models tab in a real JupyterLab, in Debian's Chromium: the store's model
versions with their tags and state, a tag filter, and a version's details."""

from __future__ import annotations

import json
import shutil

from playwright.sync_api import Page, expect

from jupyter_lineage.store import Store

from ..conftest import lineage
from .conftest import Lab
from .helpers import TIMEOUT, open_notebook, open_sidebar, set_width, shot


def test_models_tab_lists_versions_tags_and_details(page: Page, lab: Lab) -> None:
    # a copy of the example with its own store: the Lab project's train.ipynb runs stay as the
    # other browser tests expect them, whatever the order
    folder = lab.root / "catalogue"
    folder.mkdir()
    shutil.copy(lab.root / "train.ipynb", folder)
    shutil.copytree(lab.root / "data", folder / "data")
    Store(folder / ".lineage" / "lineage.db").close()
    made = json.loads(lineage("run", "train.ipynb", "-p", "C", "0.33", "--json", cwd=folder).stdout)
    lineage("tag", "out/model.joblib", "production", cwd=folder)
    models = json.loads(lineage("models", "--json", cwd=folder).stdout)
    mine = next(m for m in models if m["run"]["id"] == made["id"])
    short = mine["hash"].removeprefix("blake3:")[:8]

    open_notebook(page, lab, "catalogue/train.ipynb")
    panel = open_sidebar(page)
    panel.get_by_role("tab", name="Models").click()
    listed = panel.get_by_label("Model versions").locator(".jp-Lineage-model")
    expect(listed).to_have_count(len(models), timeout=TIMEOUT)
    card = panel.locator(f'.jp-Lineage-model[data-hash="{short}"]')
    expect(card.locator(".jp-Lineage-model-name")).to_have_text("out/model.joblib")
    expect(card.locator(".jp-Lineage-model-tag")).to_have_text("production")
    expect(card.locator(".jp-Lineage-model-state")).to_have_text("current")
    expect(card.locator(".jp-Lineage-model-meta")).to_contain_text(made["id"][:8])
    expect(card.locator(".jp-Lineage-model-metrics")).to_contain_text("auc 0.")

    card.get_by_role("button", name=f"model.joblib {short}").click()
    details = card.get_by_label("Model details")
    expect(details).to_contain_text("C=0.33", timeout=TIMEOUT)
    expect(details).to_contain_text("data/customers.csv")
    expect(details.get_by_label("Versions").locator("li")).to_have_count(
        len([m for m in models if m["path"] == mine["path"]])
    )
    shot(page, "sidebar-models")

    panel.get_by_label("Only versions with the tag").select_option("production")
    expect(listed).to_have_count(1, timeout=TIMEOUT)
    expect(listed.first).to_have_attribute("data-hash", short)

    # narrow: the card still reads (name, badges and run wrap rather than spill)
    set_width(page, panel, 260)
    expect(card.locator(".jp-Lineage-model-tag")).to_be_visible()
    box, panel_box = card.bounding_box(), panel.bounding_box()
    assert box is not None and panel_box is not None
    assert box["x"] + box["width"] <= panel_box["x"] + panel_box["width"] + 1
    shot(page, "sidebar-models-narrow")
