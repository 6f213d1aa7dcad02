"""papermill pipelines: tracked runs, the ``lineage`` engine, reproduce, sweeps."""

from .reproduce import reproduce
from .run import RunResult, run_notebook
from .sweep import sweep

__all__ = ["RunResult", "reproduce", "run_notebook", "sweep"]
