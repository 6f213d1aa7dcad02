"""`make demo`: run the example notebook with tracking and show how its model was made; then
the three-notebook project in pipeline/ becomes a pipeline nobody wrote down (dag, repro)."""

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
    code = step(f"trace {model}", "trace", model)
    return code or pipeline()


def pipeline() -> int:
    """prepare -> train -> evaluate: run each once, see the inferred pipeline, change a
    parameter upstream and let repro re-run exactly what that made stale."""
    folder = os.path.relpath(HERE / "pipeline")
    for name in ("prepare", "train", "evaluate"):
        nb = os.path.join(folder, f"{name}.ipynb")
        code = step(f"run {nb}", "run", nb)
        if code:
            return code
    step(f"dag {folder}", "dag", folder)
    train = os.path.join(folder, "train.ipynb")
    code = step(f"run {train} -p C 0.1", "run", train, "-p", "C", "0.1")
    if code:
        return code
    step(f"repro {folder} --dry-run", "repro", folder, "--dry-run")
    code = step(f"repro {folder}", "repro", folder)
    return code or step(f"repro {folder}", "repro", folder)


if __name__ == "__main__":
    sys.exit(main())
