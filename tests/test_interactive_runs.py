"""Interactive runs are honest: an open session is *active* with the time of its last cell,
its parameters-tagged cell's values are its parameters, and diffing it against a pipeline run
of the same notebook invents neither removed parameters nor a code change for ``%load_ext``."""

from __future__ import annotations

from pathlib import Path

import nbformat

from jupyter_lineage.capture.envvars import ENV_NOTEBOOK
from jupyter_lineage.staleness import refresh_advice

from .conftest import lineage, lineage_json
from .kernel import Kernel

CELLS = [
    ("setup", "%load_ext jupyter_lineage", []),
    ("params", "C = 0.5\nseed: int = 1\nlabel = 'base'", ["parameters"]),
    ("work", "score = C * 2 + seed", []),
]


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    for cell_id, source, tags in CELLS:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
        cell.id = cell_id
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    path = folder / "model.ipynb"
    nbformat.write(nb, path)
    return path


def test_interactive_run_parameters_activity_and_diff(project: Path, db: Path) -> None:
    nb = _notebook(project)
    k = Kernel(str(project), env={ENV_NOTEBOOK: str(nb)})  # as jupyter_server names it
    try:
        for cell_id, source, _tags in CELLS:
            k.check(source, cell_id=cell_id)
        k.check("%track", cell_id="status-check")  # written through
        listed = lineage_json("runs")
        assert listed[0]["status"] == "running" and listed[0]["last_cell"]
        assert "active (last cell " in lineage("runs").stdout
        interactive = listed[0]["id"]
        assert lineage_json("show", interactive)["parameters"] == {
            "C": 0.5,
            "seed": 1,
            "label": "base",
        }
    finally:
        k.shutdown()
    lineage("run", str(nb), "-p", "C", "0.5", "--no-progress")
    diff = lineage_json("diff", interactive, "@last")
    assert diff["parameters"] == {}  # not "C removed"
    # the %load_ext cell is not a code difference; the status check is
    assert [c["cell_id"] for c in diff["code"]] == ["status-check"]
    # an interactive run cannot be reproduced: the refusal says what works instead
    refused = lineage("reproduce", interactive, check=False, cwd=project)
    assert refused.returncode == 2 and "jupyter lineage run model.ipynb" in refused.stderr
    # and status offers the same for what it wrote
    advice = refresh_advice(
        {"kind": "interactive", "notebook": str(nb), "id": interactive}, str(project / "out.csv")
    )
    assert advice.startswith("jupyter lineage run model.ipynb") and "gather out.csv" in advice
    assert refresh_advice({"kind": "papermill", "name": "x-y-01", "id": "0"}, "a") == (
        "jupyter lineage reproduce x-y-01"
    )
    # the kernel is gone: the run is no longer active
    after = next(r for r in lineage_json("runs") if r["id"] == interactive)
    assert after["status"] in ("succeeded", "interrupted")
