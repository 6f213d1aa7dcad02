"""`make demo`: run the example pipeline with tracking, then show how its model was made."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyter_lineage.cli import main as lineage

HERE = Path(__file__).parent


def step(title: str, *args: str) -> int:
    print(f"\n$ jupyter lineage {title}", flush=True)
    return lineage(list(args))


def main() -> int:
    notebook = os.path.relpath(HERE / "train.ipynb")
    model = os.path.relpath(HERE / "out" / "model.joblib")
    code = step(f"run {notebook} -p C 0.5", "run", notebook, "-p", "C", "0.5")
    if code:
        return code
    step("runs --limit 3", "runs", "--limit", "3")
    return step(f"trace {model}", "trace", model)


if __name__ == "__main__":
    sys.exit(main())
