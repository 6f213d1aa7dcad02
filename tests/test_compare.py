"""diff, status and exports over real pipeline runs of the example project."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLES, lineage, lineage_json


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compare") / "project"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("out", "*.out.ipynb"))
    return folder


@pytest.fixture(autouse=True)
def _env(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))


def _run(project: Path, c: str) -> dict[str, Any]:
    return json.loads(lineage("run", "train.ipynb", "-p", "C", c, "--json", cwd=project).stdout)


@pytest.fixture(scope="module")
def runs(project: Path) -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_LINEAGE_DB", str(project / ".lineage" / "lineage.db"))
        yield _make_runs(project)


def _make_runs(project: Path) -> dict[str, Any]:
    first = _run(project, "0.5")
    same = _run(project, "0.5")
    csv = project / "data" / "customers.csv"
    lines = csv.read_text().splitlines(keepends=True)
    lines[7] = lines[7][:-2] + ("0\n" if lines[7].endswith("1\n") else "1\n")
    csv.write_text("".join(lines))
    stale = lineage("status", "--json", check=False, cwd=project)
    edited = _run(project, "1.0")
    return {"first": first, "same": same, "edited": edited, "stale": stale}


def test_identical_runs_have_no_differences(runs: dict[str, Any]) -> None:
    d = lineage_json("diff", runs["first"]["id"], runs["same"]["id"])
    for section in (
        "parameters",
        "code",
        "inputs",
        "outputs",
        "metrics",
        "environment",
        "git",
        "status",
    ):
        assert d[section] in ({}, []), section
    human = lineage("diff", runs["first"]["id"], runs["same"]["id"]).stdout
    assert "no differences" in human


def test_diff_reports_exactly_the_parameter_and_the_input(
    runs: dict[str, Any], project: Path
) -> None:
    d = lineage_json("diff", runs["first"]["id"], runs["edited"]["id"])
    assert d["parameters"] == {"changed": {"C": {"a": 0.5, "b": 1.0}}}
    csv = str(project / "data" / "customers.csv")
    assert [(f["path"], f["status"]) for f in d["inputs"]] == [(csv, "changed")]
    assert d["code"] == [] and d["environment"] == {} and d["git"] == {} and d["status"] == {}
    # consequences, reported as such
    assert {f["path"] for f in d["outputs"]} <= {
        str(project / "out" / n) for n in ("model.joblib", "metrics.json", "roc.png")
    }
    assert set(d["metrics"]) <= {"accuracy", "auc"}
    for v in d["metrics"].values():
        assert v["delta"] == pytest.approx(v["b"] - v["a"])
    by_last = lineage_json("diff", "@last~2", "@last")
    assert by_last["parameters"] == d["parameters"]


def test_code_changes_are_matched_by_cell_id(project: Path) -> None:
    import nbformat

    nb = nbformat.read(str(project / "train.ipynb"), as_version=4)
    nb.cells[4].source = nb.cells[4].source.replace("dropna()", "dropna().head(300)")
    nbformat.write(nb, str(project / "train_v2.ipynb"))
    a = _run(project, "0.5")
    b = json.loads(lineage("run", "train_v2.ipynb", "-p", "C", "0.5", "--json", cwd=project).stdout)
    d = lineage_json("diff", a["id"], b["id"])
    assert [c["cell_id"] for c in d["code"]] == [nb.cells[4].id]
    assert "+clean = raw.dropna().head(300).copy()" in d["code"][0]["diff"]


def test_status_flags_then_clears(runs: dict[str, Any], project: Path) -> None:
    stale = runs["stale"]
    assert stale.returncode == 1
    report = {Path(i["path"]).name: i for i in json.loads(stale.stdout)}
    assert report["model.joblib"]["stale"] is True
    assert report["model.joblib"]["changed_inputs"][0]["path"] == str(
        project / "data" / "customers.csv"
    )
    assert report["model.joblib"]["refresh_run"] == runs["same"]["id"]
    assert report["model.joblib"]["refresh"] == f"jupyter lineage reproduce {runs['same']['name']}"
    after = lineage("status", "--json", str(project / "out" / "model.joblib"), check=False)
    assert after.returncode == 0 and json.loads(after.stdout)[0]["state"] == "ok"


def test_prov_json_loads_with_the_prov_package(runs: dict[str, Any], tmp_path: Path) -> None:
    from prov.model import ProvDocument

    out = tmp_path / "lineage.prov.json"
    lineage("export", "--format", "prov-json", "--run", runs["first"]["id"], "-o", str(out))
    doc = ProvDocument.deserialize(content=out.read_text(), format="json")
    records = doc.get_records()
    kinds = {type(r).__name__ for r in records}
    assert {
        "ProvEntity",
        "ProvActivity",
        "ProvAgent",
        "ProvUsage",
        "ProvGeneration",
        "ProvCommunication",
        "ProvDerivation",
    } <= kinds
    labels = {str(r.label) for r in records if type(r).__name__ == "ProvEntity"}
    assert any(label.endswith("customers.csv") for label in labels)
    assert any(label.endswith("model.joblib") for label in labels)


def test_dot_and_mermaid(runs: dict[str, Any]) -> None:
    dot = lineage("export", "--format", "dot", "--run", runs["first"]["id"]).stdout
    assert dot.startswith("digraph lineage {") and '[label="read"]' in dot
    assert "customers.csv" in dot and "model.joblib" in dot
    mermaid = lineage("export", "--format", "mermaid", "--run", runs["first"]["id"]).stdout
    assert mermaid.startswith("flowchart LR") and "-->|wrote|" in mermaid


def test_openlineage_emit_to_a_backend(runs: dict[str, Any], project: Path) -> None:
    received: list[dict[str, Any]] = []

    class Backend(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "event": json.loads(body)})
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        proc = lineage("emit", "--url", url, "--run", runs["first"]["id"])
    finally:
        server.shutdown()
    assert "sent 2 OpenLineage events" in proc.stdout
    assert [r["path"] for r in received] == ["/api/v1/lineage"] * 2
    start, complete = (r["event"] for r in received)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"] == runs["first"]["id"]
    assert complete["job"]["name"] == str(project / "train.ipynb")
    assert {
        "namespace": "file",
        "name": str(project / "data" / "customers.csv"),
    }.items() <= complete["inputs"][0].items()
    assert str(project / "out" / "model.joblib") in {o["name"] for o in complete["outputs"]}
    facets = complete["run"]["facets"]
    assert facets["jupyterLineage_parameters"]["parameters"] == {"C": 0.5}
    assert facets["processing_engine"]["name"] == "python"
    for event in (start, complete):
        assert event["schemaURL"].startswith("https://openlineage.io/spec/")
        assert event["producer"] and event["eventTime"]


SPEC = Path(__file__).parent / "openlineage_spec"
FACETS = Path(__file__).parent.parent / "docs" / "openlineage-facets.json"


def _openlineage_validator() -> Any:
    """Validators for the official OpenLineage schema, its standard facets and ours, offline."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    docs = [json.loads(p.read_text()) for p in sorted(SPEC.glob("*.json"))]
    docs.append(json.loads(FACETS.read_text()))
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in docs)

    def validate(instance: Any, schema_url: str) -> None:
        schema = {"$ref": schema_url}
        Draft202012Validator(
            schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        ).validate(instance)

    return validate


def test_openlineage_events_are_valid_against_the_official_schema(
    runs: dict[str, Any], project: Path
) -> None:
    from jsonschema import ValidationError

    failed = lineage("run", "train.ipynb", "-p", "data_path", "no/such.csv", check=False)
    assert failed.returncode != 0
    lineage("reproduce", runs["first"]["id"], check=False)
    out = lineage("export", "--all", "--format", "openlineage").stdout
    events = [json.loads(line) for line in out.splitlines()]
    validate = _openlineage_validator()
    seen: set[str] = set()
    for event in events:
        validate(event, event["schemaURL"])
        for facets in (event["run"]["facets"], event["job"]["facets"]):
            for name, facet in facets.items():
                # every facet, standard or ours, against the schema its _schemaURL names
                validate(facet, facet["_schemaURL"])
                seen.add(name)
    assert {e["eventType"] for e in events} == {"START", "COMPLETE", "FAIL"}
    assert {
        "processing_engine",
        "parent",
        "errorMessage",
        "jupyterLineage_parameters",
        "jupyterLineage_environment",
    } <= seen
    # the validator is strict: a wrong type or a run id that is not a UUID is refused
    broken = json.loads(json.dumps(events[0]))
    broken["run"]["runId"] = "not-a-uuid"
    with pytest.raises(ValidationError):
        validate(broken, broken["schemaURL"])
    broken = json.loads(json.dumps(events[0]))
    broken["run"]["facets"]["jupyterLineage_parameters"]["parameters"] = [1]
    with pytest.raises(ValidationError):
        validate(
            broken["run"]["facets"]["jupyterLineage_parameters"],
            broken["run"]["facets"]["jupyterLineage_parameters"]["_schemaURL"],
        )


def test_bad_input(runs: dict[str, Any]) -> None:
    for args, says in (
        (["diff", "@last", "nope"], "There is no run named"),
        (["export", "--format", "xml"], "Unknown export format"),
        (["emit", "--url", "ftp://x"], "http(s)"),
        (["export", "--format", "dot", "--run", "a", "--all"], "either --run"),
    ):
        proc = lineage(*args, check=False)
        assert proc.returncode == 2 and says in proc.stderr, (args, proc.stderr)
