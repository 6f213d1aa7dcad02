"""papermill pipelines: tracked runs, the ``lineage`` engine, reproduce, sweeps."""

# papermill first, in its own import order: lark (nbformat -> jsonschema -> rfc3987_syntax)
# compiles a grammar at import whose cost swings from 0.7 s to 3 s with the heap layout left by
# earlier imports; papermill's order is a fast one, so `run` costs what plain papermill costs
# (benchmarks/pipeline.py measures it).
import papermill  # noqa: F401

from .reproduce import reproduce
from .run import RunResult, run_notebook
from .sweep import sweep

__all__ = ["RunResult", "reproduce", "run_notebook", "sweep"]
