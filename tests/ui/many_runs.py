"""A store of many runs of one notebook, recorded by the real tracker (the way a kernel or a
papermill run records them), for the browser tests of the runs table, the plot and the graph.

Run in a subprocess — `python -m tests.ui.many_runs FOLDER N` — so the tracker's audit hook
never lives in the test process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

NOTEBOOK = "sweep.ipynb"
CELLS = (
    ("read", "raw = Path('data.csv').read_text()"),
    ("fit", "model = fit(raw, C=C)\nPath('model.pkl').write_text(str(model))"),
    ("score", "log_metric('auc', auc)\nPath('metrics.json').write_text(json.dumps(scores))"),
)


def auc_of(i: int) -> float:
    """A spread of scores with one best run, so "sort by auc" has a clear answer."""
    return round(0.70 + ((i * 37) % 100) / 400, 4)


def make(folder: Path, n: int) -> None:
    from jupyter_lineage.capture.tracker import Tracker
    from jupyter_lineage.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    # its own store: without one, a folder inside the Lab's project uses the project's store
    # (found upwards, see store/location.py)
    Store(folder / ".lineage" / "lineage.db").close()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for _, source in CELLS]
    for (cell_id, _), cell in zip(CELLS, nb.cells, strict=True):
        cell["id"] = cell_id
    nbformat.write(nb, str(folder / NOTEBOOK))
    (folder / "data.csv").write_text("x,y\n1,0\n2,1\n")
    for i in range(n):
        C = round(0.05 * (i % 20 + 1), 2)
        tracker = Tracker(
            kind="papermill", notebook=str(folder / NOTEBOOK), parameters={"C": C, "seed": i // 20}
        )
        tracker.begin_execution(CELLS[0][1], CELLS[0][0])
        (folder / "data.csv").read_text()
        tracker.end_execution(execution_count=1)
        tracker.begin_execution(CELLS[1][1], CELLS[1][0])
        (folder / "model.pkl").write_text(f"model {i}")
        for step in range(5):
            tracker.log_metric("loss", round(1.0 / (step + 1) + (i % 7) / 20, 4), step=step)
        tracker.end_execution(execution_count=2)
        tracker.begin_execution(CELLS[2][1], CELLS[2][0])
        tracker.log_metric("auc", auc_of(i))
        tracker.log_metric("accuracy", round(auc_of(i) - 0.05, 4))
        (folder / "metrics.json").write_text(f'{{"auc": {auc_of(i)}}}')
        tracker.end_execution(execution_count=3)
        tracker.close()


if __name__ == "__main__":
    make(Path(sys.argv[1]), int(sys.argv[2]))
