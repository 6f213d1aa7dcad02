"""Kernel-side capture, end to end: a real kernel, real files, asserted through the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from .conftest import lineage, lineage_json
from .kernel import Kernel


def _write_csv(path: Path, rows: int = 20) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "y"])
        for i in range(rows):
            w.writerow([i, i * 2])


def _by_first_line(show: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["source"].strip().splitlines()[0]: e for e in show["executions"]}


@pytest.fixture
def tracked(kernel: Kernel, project: Path) -> Kernel:
    _write_csv(project / "data.csv")
    kernel.check("%load_ext jupyter_lineage")
    return kernel


def test_reads_writes_errors_and_the_show_contract(
    tracked: Kernel, project: Path, db: Path
) -> None:
    k = tracked
    k.check("import pandas as pd\ndf = pd.read_csv('data.csv')", cell_id="read-pandas")
    k.check("with open('data.csv') as f:\n    header = f.readline()", cell_id="read-open")
    k.check(
        "import joblib, os\nos.makedirs('out', exist_ok=True)\njoblib.dump({'w': 1}, 'out/model.joblib')",
        cell_id="write-joblib",
    )
    k.check("df.to_parquet('out/frame.parquet')", cell_id="write-parquet")
    k.check(
        "import pyarrow as pa, pyarrow.parquet as pq\n"
        "pq.write_table(pa.table({'a': [1, 2]}), 'out/direct.parquet')\n"
        "t = pq.read_table('out/direct.parquet')",
        cell_id="pyarrow-direct",
    )
    failed = k.run("1 / 0", cell_id="boom")
    assert failed.status == "error"
    k.check("x = 1", cell_id="trivial")

    show = lineage_json("show", "@last")
    assert show["kind"] == "interactive"
    assert show["status"] == "running"
    for key in (
        "id",
        "notebook",
        "parameters",
        "metrics",
        "executions",
        "files_read",
        "files_written",
        "environment",
        "git",
    ):
        assert key in show
    cells = {e["cell_id"]: e for e in show["executions"]}
    assert list(cells) == [
        "read-pandas",
        "read-open",
        "write-joblib",
        "write-parquet",
        "pyarrow-direct",
        "boom",
        "trivial",
    ]
    assert [e["execution_count"] for e in show["executions"]] == sorted(
        e["execution_count"] for e in show["executions"]
    )
    data = str(project / "data.csv")
    for cell in ("read-pandas", "read-open"):
        reads = cells[cell]["reads"]
        assert [r["path"] for r in reads] == [data]
        assert reads[0]["kind"] == "dataset"
        assert reads[0]["hash"].startswith("blake3:")
    assert cells["read-pandas"]["reads"][0]["hash"] == cells["read-open"]["reads"][0]["hash"]
    assert cells["write-joblib"]["writes"] == [
        {
            "path": str(project / "out/model.joblib"),
            "kind": "model",
            "hash": cells["write-joblib"]["writes"][0]["hash"],
            "size": (project / "out/model.joblib").stat().st_size,
        }
    ]
    assert [w["path"] for w in cells["write-parquet"]["writes"]] == [
        str(project / "out/frame.parquet")
    ]
    direct = cells["pyarrow-direct"]
    assert [w["path"] for w in direct["writes"]] == [str(project / "out/direct.parquet")]
    assert direct["writes"][0]["kind"] == "dataset"
    # read back in the same cell after writing it: the write is what matters
    assert cells["boom"]["error"] == {"name": "ZeroDivisionError", "value": "division by zero"}
    assert cells["trivial"]["error"] is None
    assert cells["trivial"]["reads"] == [] and cells["trivial"]["writes"] == []
    assert cells["trivial"]["duration_ms"] >= 0
    assert show["environment"]["python"].count(".") == 2
    assert "pandas" in show["environment"]["packages"]
    assert show["git"] is None  # the project is not a repository
    assert {f["path"] for f in show["files_written"]} == {
        str(project / "out/model.joblib"),
        str(project / "out/frame.parquet"),
        str(project / "out/direct.parquet"),
    }


def test_trace_answers_how_a_model_was_made(tracked: Kernel, project: Path) -> None:
    k = tracked
    k.check("import pandas as pd\nraw = pd.read_csv('data.csv')")
    k.check("clean = raw[raw.x > 2]\nclean.to_csv('clean.csv', index=False)")
    k.check("import joblib\nmodel = {'mean': pd.read_csv('clean.csv').y.mean()}")
    k.check("joblib.dump(model, 'model.joblib')")
    k.check("y = 2")  # after the model: not part of its lineage

    data = lineage_json("trace", "model.joblib")
    assert data["target"]["path"] == str(project / "model.joblib")
    assert data["target"]["kind"] == "model"
    nodes = {n["id"]: n for n in data["nodes"]}
    artifacts = {n["path"] for n in nodes.values() if n["type"] == "artifact"}
    assert artifacts == {str(project / p) for p in ("model.joblib", "data.csv", "clean.csv")}
    sources = [n["source"] for n in data["nodes"] if n["type"] == "execution"]
    assert len(sources) == 4 and not any(s == "y = 2" for s in sources)
    assert all(n["hash"].startswith("blake3:") for n in nodes.values() if n["type"] == "artifact")
    writes = {
        (nodes[e["source"]]["source"].splitlines()[0], nodes[e["target"]]["path"])
        for e in data["edges"]
        if e["type"] == "wrote"
    }
    assert ("joblib.dump(model, 'model.joblib')", str(project / "model.joblib")) in writes
    assert ("clean = raw[raw.x > 2]", str(project / "clean.csv")) in writes

    down = lineage_json("trace", "data.csv", "--downstream")
    down_paths = {n["path"] for n in down["nodes"] if n["type"] == "artifact"}
    assert str(project / "model.joblib") in down_paths
    human = lineage("trace", "model.joblib").stdout
    assert "model.joblib" in human and "data.csv" in human and "written by cell" in human

    (project / "model.joblib").write_bytes(b"changed by hand")
    note = lineage_json("trace", "model.joblib")["note"]
    assert "changed since it was last recorded" in note


def test_every_track_form(tracked: Kernel, project: Path) -> None:
    k = tracked
    status = k.check("%track").stdout
    assert "recording" in status and str(project / ".lineage" / "lineage.db") in status
    k.check("%track param alpha=0.5 name='ridge' layers=[1,2]")
    k.check("%track metric auc 0.91")
    k.check("%track metric loss 0.5 --step 1\n%track metric loss 0.25 --step 2")
    (project / "made_by_shell.bin").write_bytes(b"from a subprocess")
    k.check("%track output made_by_shell.bin")
    k.check("%track input data.csv\n%track input https://user:pw@data.example/x.csv?token=t1")
    k.check("%track ignore '*.tmp'\nopen('scratch.tmp', 'w').write('x')")
    k.check("%track off")
    k.check("open('while_off.txt', 'w').write('x')")
    k.check("%track on")
    k.check(
        "import jupyter_lineage\njupyter_lineage.log_metric('api_metric', 3)\n"
        "jupyter_lineage.log_param('from_api', True)"
    )
    # bad input: one UsageError line (no traceback), and nothing recorded from it
    for line, says in (
        ("%track metric auc notanumber", "Metric values are numbers"),
        ("%track frobnicate", "unknown form 'frobnicate'"),
        ("%track input does/not/exist.csv", "does not exist"),
        ("%track param 1x=2", "is not NAME=VALUE"),
    ):
        bad = k.run(line)
        assert bad.status == "error" and bad.stderr.startswith("UsageError: %track")
        assert says in bad.stderr and "Traceback" not in bad.stderr

    show = lineage_json("show", "@last")
    assert show["parameters"] == {"alpha": 0.5, "name": "ridge", "layers": [1, 2], "from_api": True}
    assert "1x" not in show["parameters"]
    assert show["metrics"] == {"auc": 0.91, "loss": 0.25, "api_metric": 3}
    assert show["metric_history"]["loss"] == [{"step": 1, "value": 0.5}, {"step": 2, "value": 0.25}]
    written = {f["path"] for f in show["files_written"]}
    assert str(project / "made_by_shell.bin") in written
    assert str(project / "scratch.tmp") not in written
    assert str(project / "while_off.txt") not in written
    sources = [e["source"] for e in show["executions"]]
    assert "open('while_off.txt', 'w').write('x')" not in sources
    assert "%track on" not in sources  # paused until the cell after it
    declared = next(e for e in show["executions"] if e["source"].startswith("%track input"))
    assert sorted(r["path"] for r in declared["reads"]) == sorted(
        ["https://data.example/x.csv?token=REDACTED", str(project / "data.csv")]
    )


def test_package_data_is_data_and_jupyter_noise_is_not(tracked: Kernel, project: Path) -> None:
    k = tracked
    k.check("from sklearn.datasets import load_iris\niris = load_iris()")
    k.run("def f():\n    raise ValueError('boom')\nf()")
    k.check(
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2]); plt.savefig('fig.png'); plt.close()"
    )
    show = lineage_json("show", "@last")
    iris_reads = [r for r in show["executions"][0]["reads"]]
    assert any(r["path"].endswith("iris.csv") and r["kind"] == "dataset" for r in iris_reads)
    everything = [f["path"] for f in show["files_read"] + show["files_written"]]
    assert not any("ipykernel_" in p or "/.cache/" in p or p.endswith(".py") for p in everything)
    assert {f["path"] for f in show["files_written"]} == {str(project / "fig.png")}
    assert show["files_written"][0]["kind"] == "figure"


def test_two_identical_failing_runs_record_identical_inputs(project: Path) -> None:
    (project / "in.txt").write_text("hello")
    reads = []
    for _ in range(2):
        k = Kernel(str(project))
        try:
            k.check("%load_ext jupyter_lineage")
            k.check("text = open('in.txt').read()")
            k.run("import json\njson.loads('{not json')")
            k.run("raise RuntimeError(text)")
        finally:
            k.shutdown()
        show = lineage_json("show", "@last")
        assert show["status"] == "succeeded"  # the kernel shut down cleanly
        reads.append(sorted((f["path"], f["hash"]) for f in show["files_read"]))
    assert reads[0] == reads[1] == [(str(project / "in.txt"), reads[0][0][1])]


def test_urls_are_recorded_without_credentials(tracked: Kernel, project: Path) -> None:
    import http.server
    import threading

    handler = type(
        "H",
        (http.server.SimpleHTTPRequestHandler,),
        {
            "log_message": lambda *a: None,
        },
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(project))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        tracked.check(
            "import pandas as pd\n"
            f"remote = pd.read_csv('http://127.0.0.1:{port}/data.csv?token=s3cr3t-tok&v=2')\n"
            "import urllib.request\n"
            f"urllib.request.urlopen('http://127.0.0.1:{port}/data.csv').read()"
        )
    finally:
        server.shutdown()
    show = lineage_json("show", "@last")
    urls = sorted(r["path"] for r in show["files_read"])
    assert urls == [
        f"http://127.0.0.1:{port}/data.csv",
        f"http://127.0.0.1:{port}/data.csv?token=REDACTED&v=2",
    ]
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    assert b"s3cr3t-tok" not in raw


def test_git_state_without_credentials(project: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    (project / "nb.py").write_text("a = 1\n")
    git("add", "nb.py")
    git("commit", "-qm", "first")
    git("remote", "add", "origin", "https://alice:ghp_supersecret123@example.invalid/team/repo.git")
    (project / "nb.py").write_text("a = 2\n")
    k = Kernel(str(project))
    try:
        k.check("%load_ext jupyter_lineage")
        k.check("b = 1")
    finally:
        k.shutdown()
    g = lineage_json("show", "@last")["git"]
    assert g["branch"] == "main" and len(g["commit"]) == 40
    assert g["dirty"] is True and "+a = 2" in g["diff"]
    assert g["remote"] == "https://example.invalid/team/repo.git"
    raw = b"".join(p.read_bytes() for p in (project / ".lineage").rglob("*") if p.is_file())
    assert b"ghp_supersecret123" not in raw


def test_unload_restores_the_shell(tracked: Kernel) -> None:
    k = tracked
    before = k.check(
        "import pyarrow.parquet as pq\n"
        "ip = get_ipython()\n"
        "print(len(ip.events.callbacks['pre_run_cell']), len(ip.events.callbacks['post_run_cell']),"
        " 'track' in ip.magics_manager.magics['line'])"
    ).stdout.split()
    assert before[2] == "True"
    k.check("%unload_ext jupyter_lineage")
    after = k.check(
        "print(len(ip.events.callbacks['pre_run_cell']), len(ip.events.callbacks['post_run_cell']),"
        " 'track' in ip.magics_manager.magics['line'], hasattr(pq.write_table, '__wrapped__'))"
    ).stdout.split()
    assert after == [str(int(before[0]) - 1), str(int(before[1]) - 1), "False", "False"]
    show = lineage_json("show", "@last")
    assert show["status"] == "succeeded"
    assert show["executions"][-1]["source"] == "%unload_ext jupyter_lineage"
    k.check("open('after_unload.txt', 'w').write('x')")
    assert (
        lineage_json("show", "@last")["executions"][-1]["source"] == "%unload_ext jupyter_lineage"
    )


def test_c_level_readers_writers_and_sqlite(tracked: Kernel, project: Path) -> None:
    k = tracked
    k.check(
        "import h5py, numpy as np\nwith h5py.File('arr.h5', 'w') as f:\n    f['a'] = np.arange(3)",
        cell_id="h5-write",
    )
    k.check("with h5py.File('arr.h5') as f:\n    a = f['a'][:]", cell_id="h5-read")
    k.check(
        "import sqlite3\ncon = sqlite3.connect('warehouse.sqlite')\n"
        "con.execute('create table t (x)')\ncon.commit()\ncon.close()",
        cell_id="sql",
    )
    k.check(
        "con = sqlite3.connect('warehouse.sqlite')\n"
        "rows = con.execute('select * from t').fetchall()\ncon.close()",
        cell_id="sql-read",
    )
    cells = {e["cell_id"]: e for e in lineage_json("show", "@last")["executions"]}
    h5 = str(project / "arr.h5")
    assert [w["path"] for w in cells["h5-write"]["writes"]] == [h5]
    assert [r["path"] for r in cells["h5-read"]["reads"]] == [h5]
    assert cells["h5-read"]["reads"][0]["hash"] == cells["h5-write"]["writes"][0]["hash"]
    # arrays in HDF5 are data, whatever the suffix says (Keras's .h5 models: test_reader_models)
    assert (
        cells["h5-read"]["reads"][0]["kind"] == cells["h5-write"]["writes"][0]["kind"] == "dataset"
    )
    warehouse = str(project / "warehouse.sqlite")
    assert cells["sql"]["reads"] == [] and [w["path"] for w in cells["sql"]["writes"]] == [
        warehouse
    ]
    assert [r["path"] for r in cells["sql-read"]["reads"]] == [warehouse]
    assert cells["sql-read"]["writes"] == []
    assert cells["sql-read"]["reads"][0]["hash"] == cells["sql"]["writes"][0]["hash"]


def test_environment_is_captured_again_when_packages_change(tracked: Kernel, project: Path) -> None:
    site = project / "extra" / "site-packages"
    site.mkdir(parents=True)
    k = tracked
    k.check(f"%unload_ext jupyter_lineage\nimport sys\nsys.path.append({str(site)!r})")
    k.check("%load_ext jupyter_lineage")
    k.check("x = 1")
    dist = site / "lineage_probe-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lineage-probe\nVersion: 1.2.3\n")
    k.check("y = 2")  # the cell during which the "install" happened
    k.check("z = 3")
    k.check("%track")  # status: waits until the run's context is captured and written
    show = lineage_json("show", "@last")
    assert show["environment"]["packages"]["lineage-probe"] == "1.2.3"
    assert len(show["environment_changes"]) == 2
    first = lineage_json("show", "@last~1")
    assert "lineage-probe" not in first["environment"]["packages"]


def test_scripts_are_tracked_with_the_python_api(project: Path) -> None:
    import subprocess
    import sys

    _write_csv(project / "data.csv")
    script = project / "prepare.py"
    script.write_text(
        "import jupyter_lineage\n"
        "jupyter_lineage.start()\n"
        "jupyter_lineage.log_param('rows', 5)\n"
        "text = open('data.csv').read()\n"
        "open('head.csv', 'w').write(text[:20])\n"
        "jupyter_lineage.log_metric('chars', 20)\n"
    )
    subprocess.run([sys.executable, str(script)], cwd=project, check=True, timeout=60)
    show = lineage_json("show", "@last")
    assert show["kind"] == "script" and show["status"] == "succeeded"
    assert show["notebook"] == str(script)
    assert show["parameters"] == {"rows": 5} and show["metrics"] == {"chars": 20}
    assert [f["path"] for f in show["files_read"]] == [str(project / "data.csv")]
    assert [f["path"] for f in show["files_written"]] == [str(project / "head.csv")]
    assert "jupyter_lineage.start()" in show["executions"][0]["source"]
