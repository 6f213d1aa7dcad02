"""What a pipeline's engine puts in its kernel's environment: the run to attach to and the
notebook. A module of its own so the engine's process names them without importing capture."""

from __future__ import annotations

ENV_RUN_ID = "JUPYTER_LINEAGE_RUN_ID"
ENV_NOTEBOOK = "JUPYTER_LINEAGE_NOTEBOOK"
