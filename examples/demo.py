"""`make demo`: run the example notebook with tracking on, then show how its model was made."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import papermill

from jupyter_lineage.cli import main as lineage

HERE = Path(__file__).parent


def main() -> int:
    notebook = HERE / "train.ipynb"
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    os.environ["JUPYTER_LINEAGE_NOTEBOOK"] = str(notebook.absolute())
    papermill.execute_notebook(
        str(notebook),
        str(out / "train.out.ipynb"),
        parameters={"C": 0.5},
        cwd=str(HERE),
        progress_bar=False,
    )
    print("\n== jupyter lineage runs --limit 3")
    lineage(["runs", "--limit", "3"])
    print("\n== jupyter lineage trace examples/out/model.joblib")
    return lineage(["trace", str(out / "model.joblib")])


if __name__ == "__main__":
    sys.exit(main())
