"""The model catalogue over real pipeline runs of the example project: models, models show, tag,
the tags facet in OpenLineage exports, and merges that carry tags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLES, lineage, lineage_json
from .test_compare import _openlineage_validator


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "project"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", "*.out.ipynb"))
    return folder


@pytest.fixture(autouse=True)
def _env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))


@pytest.fixture(scope="module")
def runs(project: Path) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))
        out = {}
        for c in ("0.5", "0.05"):
            proc = lineage("run", "train.ipynb", "-p", "C", c, "--json", cwd=project)
            out[c] = json.loads(proc.stdout)
        return out


def _model(project: Path) -> str:
    return str(project / "out" / "model.joblib")


def test_models_lists_every_version_with_its_maker(runs: dict[str, Any], project: Path) -> None:
    rows = [m for m in lineage_json("models") if m["path"] == _model(project)]
    assert [m["run"]["id"] for m in rows] == [runs["0.05"]["id"], runs["0.5"]["id"]]
    newest, older = rows
    assert newest["hash"] != older["hash"]
    assert (newest["state"], older["state"]) == ("current", "replaced")
    assert newest["parameters"]["C"] == 0.05 and older["parameters"]["C"] == 0.5
    assert set(newest["metrics"]) >= {"auc", "accuracy"}
    assert str(project / "data" / "customers.csv") in {i["path"] for i in newest["inputs"]}
    assert newest["environment"]["python"] and newest["environment"]["packages"] > 10
    assert newest["run"]["status"] == "succeeded" and newest["stale"] is False
    assert newest["tags"] == []
    # only models: the metrics JSON and the figure the same cell wrote are not listed
    assert {m["path"] for m in lineage_json("models")} == {_model(project)}

    where = lineage_json("models", "--where", "params.C = 0.5")
    assert [m["run"]["id"] for m in where] == [runs["0.5"]["id"]]
    table = lineage("models").stdout
    assert "model.joblib" in table and newest["hash"].removeprefix("blake3:")[:12] in table


def test_tag_moves_between_versions_and_filters(runs: dict[str, Any], project: Path) -> None:
    newest, older = (m for m in lineage_json("models") if m["path"] == _model(project))
    short_old = older["hash"].removeprefix("blake3:")[:8]
    tagged = lineage_json("tag", f"out/model.joblib@{short_old}", "production")
    assert tagged["hash"] == older["hash"] and tagged["moved_from"] is None
    assert [m["hash"] for m in lineage_json("models", "--tag", "production")] == [older["hash"]]

    moved = lineage_json("tag", "out/model.joblib", "production")  # the version on disk now
    assert moved["hash"] == newest["hash"] and moved["moved_from"] == older["hash"]
    assert [m["hash"] for m in lineage_json("models", "--tag", "production")] == [newest["hash"]]
    lineage("tag", f"out/model.joblib@{short_old}", "baseline")

    shown = lineage_json("models", "show", "out/model.joblib@production")
    assert shown["hash"] == newest["hash"] and shown["tags"] == ["production"]
    assert shown["tag_details"][0]["name"] == "production" and shown["tag_details"][0]["created"]
    assert [v["hash"] for v in shown["versions"]] == [newest["hash"], older["hash"]]
    assert shown["versions"][1]["tags"] == ["baseline"]
    text = lineage("models", "show", f"out/model.joblib@{short_old}").stdout
    assert "baseline" in text and "C=0.5" in text and "customers.csv" in text

    lineage("tag", "out/model.joblib@baseline", "baseline", "--remove")
    assert lineage_json("models", "--tag", "baseline") == []


def test_tags_are_exported_as_a_valid_openlineage_facet(
    runs: dict[str, Any], project: Path
) -> None:
    lineage("tag", "out/model.joblib", "production")
    out = lineage("export", "--all", "--format", "openlineage").stdout
    validate = _openlineage_validator()
    found = []
    for event in map(json.loads, out.splitlines()):
        validate(event, event["schemaURL"])
        for output in event.get("outputs") or []:
            facet = output.get("facets", {}).get("jupyterLineage_tags")
            if facet:
                validate(facet, facet["_schemaURL"])
                found.append((event["run"]["runId"], output["name"], facet["tags"][0]["name"]))
    assert found == [(runs["0.05"]["id"], _model(project), "production")]


def test_a_changed_input_makes_a_model_stale(runs: dict[str, Any], project: Path) -> None:
    csv = project / "data" / "customers.csv"
    original = csv.read_text()
    try:
        csv.write_text(original + original.splitlines()[-1] + "\n")
        shown = lineage_json("models", "show", "out/model.joblib")
        assert shown["stale"] and shown["changed_inputs"] == [str(csv)]
        assert "stale" in lineage("models").stdout
    finally:
        csv.write_text(original)


def test_merge_carries_tags(runs: dict[str, Any], project: Path, tmp_path: Path) -> None:
    lineage("tag", "out/model.joblib", "production")
    other = tmp_path / "other.db"
    lineage("merge", str(project / ".lineage" / "lineage.db"), "--db", str(other))
    merged = lineage_json("models", "--tag", "production", db=other)
    assert [m["path"] for m in merged] == [_model(project)]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["tag", "out/model.joblib", "bad name"], "is not a tag name"),
        (["tag", "out/model.joblib@ffffffffff", "x"], "no recorded version"),
        (["tag", "data/customers.csv", "x"], "never written"),
        (["models", "show", "out/nothing.joblib"], "No recorded lineage"),
        (["models", "--where", "auc > high"], "not one"),
        (["models", "--tag", "-x"], "is not a tag name"),
    ],
)
def test_bad_input_is_one_line(runs: dict[str, Any], args: list[str], says: str) -> None:
    proc = lineage(*args, check=False)
    assert proc.returncode == 2, proc.stdout
    assert says in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
