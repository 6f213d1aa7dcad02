"""Cell-level dataflow against ground truth: a real kernel runs notebooks whose true
dependencies are known; ``trace`` must name exactly those cells and input files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .conftest import lineage, lineage_json
from .kernel import Kernel


def _csv(path: Path, rows: list[tuple[Any, ...]], header: str = "x,code") -> None:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))


def _answer(trace: dict[str, Any]) -> tuple[set[tuple[str, int]], set[str]]:
    """(cell id, execution count) of every execution in the trace, and the files they read."""
    cells = {
        (n["cell_id"], n["execution_count"]) for n in trace["nodes"] if n["type"] == "execution"
    }
    by_id = {n["id"]: n for n in trace["nodes"]}
    inputs = {
        os.path.basename(by_id[e["source"]]["path"]) for e in trace["edges"] if e["type"] == "read"
    }
    return cells, inputs


def _counts(show: dict[str, Any]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for e in show["executions"]:
        out.setdefault(e["cell_id"], []).append(e["execution_count"])
    return out


@pytest.fixture
def data(project: Path) -> Path:
    _csv(project / "train.csv", [(1, "a"), (2, "b"), ("", "c"), (4, "d")])
    _csv(project / "country_codes.csv", [(1, "fr"), (2, "de")])
    _csv(project / "other.csv", [(9, "z")])
    _csv(project / "a.csv", [(1, "a"), (7, "b")])
    _csv(project / "b.csv", [(3, "c"), (8, "d")])
    return project


def test_two_models_from_different_data(kernel: Kernel, data: Path) -> None:
    k = kernel
    k.check("%load_ext jupyter_lineage")
    cells = [
        ("imp", "import pandas as pd\nimport joblib"),
        ("read-train", "df = pd.read_csv('train.csv')"),
        ("read-codes", "codes = pd.read_csv('country_codes.csv')"),
        ("encoder", "encoder = {c: i for i, c in enumerate(codes['code'])}"),
        ("clean", "df.dropna(inplace=True)"),  # in-place mutation
        # a function defined before the names it reads exist
        ("def-fit", "def fit(frame):\n    return {'mean': float(frame[col].mean()), 'k': scale}"),
        ("params", "col = 'x'\nscale = 2"),
        ("unrelated", "other = pd.read_csv('other.csv')\nprint(len(other))"),
        ("fit", "%%time\nmodel = fit(df)"),
        ("dump-model", "joblib.dump(model, 'model.joblib')"),
        ("dump-enc", "joblib.dump(encoder, 'encoder.joblib')"),
    ]
    for cell_id, code in cells:
        k.check(code, cell_id=cell_id)
    counts = {cid: n for n, (cid, _) in enumerate(cells, start=2)}

    model = lineage_json("trace", "model.joblib")
    assert model["view"] == "dataflow"
    found, inputs = _answer(model)
    truth = ["imp", "read-train", "clean", "def-fit", "params", "fit", "dump-model"]
    assert found == {(c, counts[c]) for c in truth}
    assert inputs == {"train.csv"}
    flow = {(e["source"], e["target"]): e["names"] for e in model["edges"] if e["type"] == "flow"}
    ids = {n["cell_id"]: n["id"] for n in model["nodes"] if n["type"] == "execution"}
    assert flow[(ids["clean"], ids["fit"])] == ["df"]
    assert flow[(ids["params"], ids["fit"])] == ["col", "scale"]
    assert flow[(ids["def-fit"], ids["fit"])] == ["fit"]

    found, inputs = _answer(lineage_json("trace", "encoder.joblib"))
    assert found == {(c, counts[c]) for c in ["imp", "read-codes", "encoder", "dump-enc"]}
    assert inputs == {"country_codes.csv"}

    # the old answer is still there
    whole = lineage_json("trace", "model.joblib", "--whole-run")
    assert _answer(whole)[1] == {"train.csv", "country_codes.csv", "other.csv"}

    text = lineage("trace", "model.joblib").stdout
    assert "uses col, scale" in text and "other.csv" not in text

    # downstream of the codes: the encoder only
    down = lineage_json("trace", "country_codes.csv", "--downstream")
    wrote = {os.path.basename(n["path"]) for n in down["nodes"] if n["type"] == "artifact"}
    assert wrote == {"country_codes.csv", "encoder.joblib"}


def test_reruns_out_of_order_loops_and_exec(kernel: Kernel, data: Path) -> None:
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("import pandas as pd", cell_id="imp")  # [2]
    k.check("frames = []", cell_id="frames")  # [3]
    k.check(  # [4]
        "for name in ['a.csv', 'b.csv']:\n    frames.append(pd.read_csv(name))", cell_id="loop"
    )
    k.check("total = pd.concat(frames)", cell_id="concat")  # [5]
    k.check("threshold = 1", cell_id="thr")  # [6]
    k.check("kept = total[total['x'] > threshold]", cell_id="filt")  # [7]
    k.check("threshold = 5", cell_id="thr")  # [8] the cell edited and re-run, after filt
    k.check("kept.to_csv('kept.csv', index=False)", cell_id="write")  # [9]
    found, inputs = _answer(lineage_json("trace", "kept.csv"))
    assert found == {
        ("imp", 2),
        ("frames", 3),
        ("loop", 4),
        ("concat", 5),
        ("thr", 6),
        ("filt", 7),
        ("write", 9),
    }
    assert inputs == {"a.csv", "b.csv"}

    # a name redefined from another file: the old definition drops out
    k.check("total = pd.read_csv('other.csv')", cell_id="concat")  # [10]
    k.check("total.to_csv('total.csv', index=False)", cell_id="write2")  # [11]
    found, inputs = _answer(lineage_json("trace", "total.csv"))
    assert found == {("imp", 2), ("concat", 10), ("write2", 11)}
    assert inputs == {"other.csv"}

    # exec: depends on every earlier execution; what it bound is seen by the namespace check
    k.check("exec('z = 41')", cell_id="exec")  # [12]
    k.check("open('z.txt', 'w').write(str(z + 1))", cell_id="write-z")  # [13]
    found, _ = _answer(lineage_json("trace", "z.txt"))
    assert ("exec", 12) in found and ("write-z", 13) in found
    assert ("thr", 8) in found and ("filt", 7) in found  # everything before exec

    # a `!` line and a line magic are read as IPython runs them
    k.check("folder = '.'", cell_id="folder")  # [14]
    k.check("listing = !ls $folder\n%time n = len(listing)", cell_id="shell")  # [15]
    k.check("open('n.txt', 'w').write(str(n))", cell_id="write-n")  # [16]
    found, _ = _answer(lineage_json("trace", "n.txt"))
    assert found == {("folder", 14), ("shell", 15), ("write-n", 16)}


def test_show_lists_defines_uses_and_depends_on(kernel: Kernel, data: Path) -> None:
    k = kernel
    k.check("%load_ext jupyter_lineage")
    k.check("a = 1\nb = [a]", cell_id="one")
    k.check("b.append(2)\nc = a + 1", cell_id="two")
    show = lineage_json("show", "@last")
    by_cell = {e["cell_id"]: e for e in show["executions"]}
    one, two = by_cell["one"], by_cell["two"]
    assert one["dataflow"]["defines"] == ["a", "b"] and one["dataflow"]["uses"] == []
    assert two["dataflow"]["defines"] == ["c"] and two["dataflow"]["updates"] == ["b"]
    assert two["dataflow"]["uses"] == ["a", "b"]
    assert two["depends_on"] == [{"execution": one["id"], "names": ["a", "b"]}]
    text = lineage("show", "@last").stdout
    assert "defines c" in text and "updates b" in text


def _stale(nb: str) -> list[dict[str, Any]]:
    proc = lineage("status", "--cells", "--notebook", nb, "--json", check=False)
    assert proc.returncode == (1 if json.loads(proc.stdout) else 0), proc.stderr
    return list(json.loads(proc.stdout))


def test_stale_cells_after_an_edit_survive_a_restart(project: Path, data: Path) -> None:
    nb = str(project / "explore.ipynb")
    env = {"JUPYTER_LINEAGE_NOTEBOOK": nb}
    k = Kernel(str(project), env=env)
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("a = 1", cell_id="A")  # [2]
        k.check("b = a + 1", cell_id="B")  # [3]
        k.check("c = b * 2", cell_id="C")  # [4]
        k.check("d = 5", cell_id="D")  # [5]
        k.check("a = 1", cell_id="A")  # [6] re-run, same code: nothing is stale
        assert lineage("status", "--cells", "--notebook", nb).stdout.strip() == "No stale cells."
        k.check("a = 10", cell_id="A")  # [7] edited and re-run
        stale = _stale(nb)
        assert {(s["cell_id"], s["execution_count"]) for s in stale} == {("B", 3), ("C", 4)}
        assert all(
            b["cell_id"] == "A" and b["rerun_execution_count"] == 7
            for s in stale
            for b in s["because"]
        )
        assert "stale cells [3] [4]" in k.check("%track").stdout
        k.check("b = a + 1", cell_id="B")  # [8] B re-run: C still used the old b
        stale = _stale(nb)
        assert {(s["cell_id"], s["execution_count"]) for s in stale} == {("C", 4)}
    finally:
        k.shutdown()
    proc = lineage("status", "--cells", "--notebook", nb, check=False)
    assert proc.returncode == 1 and "cell [4]" in proc.stdout
    # a new kernel (a restart): still stale, from the store
    k = Kernel(str(project), env=env)
    try:
        k.check("%load_ext jupyter_lineage")
        assert "stale cells [4]" in k.check("%track").stdout
    finally:
        k.shutdown()


def test_dataflow_survives_a_sigkill_through_the_journal(project: Path) -> None:
    """The names and edges are part of the cell's one record: journaled at the cell's end."""
    import os
    import signal

    k = Kernel(str(project))
    k.check("%load_ext jupyter_lineage")
    status = k.check("%track").stdout
    run_id = next(ln.split()[1] for ln in status.splitlines() if ln.split()[:1] == ["run"])
    k.check("a = 1", cell_id="one")
    k.check("b = a + 1", cell_id="two")
    process = k.km.provisioner.process  # type: ignore[attr-defined]
    os.kill(process.pid, signal.SIGKILL)  # at once: nothing had time to reach SQLite
    process.wait(timeout=10)
    k.kc.stop_channels()
    show = lineage_json("show", run_id)  # ingests the dead kernel's journal
    by_cell = {e["cell_id"]: e for e in show["executions"]}
    assert by_cell["two"]["dataflow"]["uses"] == ["a"]
    assert by_cell["two"]["depends_on"] == [{"execution": by_cell["one"]["id"], "names": ["a"]}]
