"""``gather`` against ground truth: the minimal notebook of a file, from an interactive kernel
and from a papermill run, verified by running it; bad input changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat
import pytest

from .conftest import lineage, lineage_json
from .kernel import Kernel


def _data(project: Path) -> None:
    (project / "train.csv").write_text("x,code\n1,a\n2,b\n,c\n4,d\n")
    (project / "codes.csv").write_text("x,code\n1,fr\n2,de\n")


def test_gather_an_interactive_notebook_and_verify(kernel: Kernel, project: Path) -> None:
    _data(project)
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("import pandas as pd\nimport joblib", cell_id="imp")
    k.check("df = pd.read_csv('train.csv')", cell_id="read")
    k.check("codes = pd.read_csv('codes.csv')\nprint(len(codes))", cell_id="codes")
    k.check("df.dropna(inplace=True)", cell_id="clean")
    k.check("def fit(frame):\n    return {'mean': float(frame[col].mean())}", cell_id="def")
    k.check("col = 'x'", cell_id="col")
    k.check("%%time\nmodel = fit(df)", cell_id="fit")
    k.check("joblib.dump(codes, 'codes.joblib')", cell_id="dump-codes")
    k.check("joblib.dump(model, 'model.joblib')", cell_id="dump")

    out = project / "model-only.ipynb"
    data = lineage_json("gather", "model.joblib", "--output", str(out), "--verify")
    assert data["output"] == str(out)
    nb = nbformat.read(str(out), as_version=4)
    assert [c.source for c in nb.cells] == [
        "import pandas as pd\nimport joblib",
        "df = pd.read_csv('train.csv')",
        "df.dropna(inplace=True)",
        "def fit(frame):\n    return {'mean': float(frame[col].mean())}",
        "col = 'x'",
        "%%time\nmodel = fit(df)",
        "joblib.dump(model, 'model.joblib')",
    ]
    assert data["verification"]["verdict"] == "identical", data["verification"]
    # the gathered notebook's run read only what the model needs
    again = lineage_json("show", data["verification"]["run"])
    assert {Path(f["path"]).name for f in again["files_read"]} >= {"train.csv"}
    assert "codes.csv" not in {Path(f["path"]).name for f in again["files_read"]}

    # the same from the notebook: %track gather
    reply = k.check("%track gather codes.joblib --output codes-only.ipynb")
    assert "wrote" in reply.stdout and "3 cell(s)" in reply.stdout, reply.stdout
    sources = [c.source for c in nbformat.read("codes-only.ipynb", as_version=4).cells]
    assert sources[1].startswith("codes = pd.read_csv") and len(sources) == 3


def test_gather_a_papermill_run_puts_parameters_first(project: Path) -> None:
    _data(project)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("scale = 1\noffset = 0.5")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_code_cell("import json"),
        params,
        nbformat.v4.new_code_cell("rows = open('train.csv').read().splitlines()[1:]"),
        nbformat.v4.new_code_cell("other = open('codes.csv').read()"),
        nbformat.v4.new_code_cell(
            "total = sum(float(r.split(',')[0] or 0) for r in rows) * scale + offset"
        ),
        nbformat.v4.new_code_cell("json.dump({'total': total}, open('total.json', 'w'))"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(project / "pipe.ipynb"))
    lineage("run", "pipe.ipynb", "-p", "scale", "3")

    found = lineage_json("trace", "total.json")
    inputs = {Path(n["path"]).name for n in found["nodes"] if n["type"] == "artifact"}
    assert inputs == {"train.csv", "total.json"}  # codes.csv is not upstream
    cells = {n["source"].splitlines()[0] for n in found["nodes"] if n["type"] == "execution"}
    assert cells == {
        "scale = 1",  # the defaults: offset is used
        "# Parameters",  # what papermill injected: scale
        "import json",
        "rows = open('train.csv').read().splitlines()[1:]",
        "total = sum(float(r.split(',')[0] or 0) for r in rows) * scale + offset",
        "json.dump({'total': total}, open('total.json', 'w'))",
    }

    data = lineage_json("gather", "total.json", "--verify")
    assert Path(data["output"]).name == "total.gathered.ipynb"
    cells = nbformat.read(data["output"], as_version=4).cells
    # the defaults (offset is used), then the values papermill injected (scale wins), first
    assert cells[0].source == "scale = 1\noffset = 0.5"
    assert cells[0].metadata["tags"] == ["parameters"]
    assert cells[1].source.startswith("# Parameters") and "scale = 3" in cells[1].source
    assert cells[1].metadata["tags"] == ["injected-parameters"]
    assert [c.source for c in cells[2:]] == [
        "import json",
        "rows = open('train.csv').read().splitlines()[1:]",
        "total = sum(float(r.split(',')[0] or 0) for r in rows) * scale + offset",
        "json.dump({'total': total}, open('total.json', 'w'))",
    ]
    assert data["verification"]["verdict"] == "identical", data["verification"]


def test_gather_bad_input_is_one_line_and_writes_nothing(kernel: Kernel, project: Path) -> None:
    _data(project)
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("text = open('train.csv').read()", cell_id="read")
    # a non-Python child: not tracked (a Python child's writes are the cell's, test_children)
    k.check("!sh -c 'echo x > sub.txt'", cell_id="sub")
    k.run("x = (", cell_id="broken")
    k.check("open('copy.txt', 'w').write(text)", cell_id="write")
    before = sorted(p.name for p in project.iterdir())

    for target, words in [
        ("nothing-here.csv", "No recorded lineage"),
        ("sub.txt", "No recorded lineage"),
        ("train.csv", "No recorded cell wrote"),
    ]:
        proc = lineage("gather", target, check=False)
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = lineage("gather", "copy.txt", "--output", "notes.txt", check=False)
    assert proc.returncode == 2 and "must end in .ipynb" in proc.stderr

    # a run recorded before dataflow: every earlier cell, and one of them cannot be parsed
    db = project / ".lineage" / "lineage.db"
    lineage("runs")  # everything in the store
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE executions SET dataflow = NULL")
        conn.execute("DELETE FROM dependencies")
    conn.close()
    proc = lineage("gather", "copy.txt", check=False)
    assert proc.returncode == 2 and "cannot be parsed" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in project.iterdir()) == before


@pytest.mark.parametrize("flag", ["--whole-run", ""])
def test_trace_text_names_the_links(kernel: Kernel, project: Path, flag: str) -> None:
    _data(project)
    kernel.check("%load_ext jupyter_lineage")
    kernel.check("rows = open('train.csv').read()", cell_id="a")
    kernel.check("other = open('codes.csv').read()", cell_id="b")
    kernel.check("open('rows.txt', 'w').write(rows)", cell_id="c")
    text = lineage("trace", "rows.txt", *([flag] if flag else [])).stdout
    if flag:
        assert "codes.csv" in text and "earlier cell" in text
    else:
        assert "uses rows ← cell [2]" in text and "codes.csv" not in text
