"""One exception hierarchy: every message says what was wrong and what to do next.

The CLI turns any LineageError into a one-line error and exit code 2; the REST API into
JSON ``{code, message}``.
"""

from __future__ import annotations


class LineageError(Exception):
    """Base of every error jupyter-lineage raises on purpose."""

    code = "lineage_error"
    exit_code = 2


class StoreError(LineageError):
    """The lineage database cannot be opened or written."""

    code = "store_error"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class StoreMissingError(StoreError):
    code = "store_missing"


class SchemaTooNewError(StoreError):
    code = "schema_too_new"


class StoreBusyError(StoreError):
    """Another process holds a lock on the store for longer than this reader may wait."""

    code = "store_busy"


class NotAStoreError(StoreError):
    """A path that names something other than a lineage database (a folder, a device, an empty
    or foreign file): never opened for writing, never given a schema."""

    code = "not_a_store"


class StoreUnwritableError(StoreError):
    """The store cannot be written: its disk is full, or it (or its folder) is read-only."""

    code = "store_unwritable"

    def __init__(self, message: str, path: str | None = None, reason: str = "") -> None:
        super().__init__(message, path)
        self.reason = reason  # "disk_full" | "read_only" | ""


class RecordRefusedError(StoreError):
    """The store refused one record (a constraint it can never satisfy): the rest go on."""

    code = "record_refused"


class NotFoundError(LineageError):
    code = "not_found"


class RunNotFoundError(NotFoundError):
    code = "run_not_found"

    def __init__(self, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref


class ArtifactNotFoundError(NotFoundError):
    code = "artifact_not_found"


class AmbiguousRunError(LineageError):
    code = "ambiguous_run"


class UsageError(LineageError):
    """Bad input from the user: a malformed argument, value or file."""

    code = "bad_input"


class NoKernelError(UsageError):
    """A notebook that names no kernel, run without ``-k``: papermill refuses it (exit 1), and
    so do we, with the same exit code (parity), before anything is written."""

    code = "no_kernel"
    exit_code = 1


class PipelineError(LineageError):
    """The notebooks' recorded runs do not form a pipeline: a file with two writers, a cycle."""

    code = "pipeline_invalid"


class OutsideRootError(LineageError):
    """The REST API was asked for something outside the server root."""

    code = "outside_root"


class RequestTimeoutError(LineageError):
    """A REST request took longer than the server allows."""

    code = "timeout"


class ServerBusyError(LineageError):
    """Every REST worker is busy; the request was not started."""

    code = "busy"


class EnvironmentBuildError(LineageError):
    """A run's recorded environment cannot be rebuilt as recorded (``reproduce --isolated``)."""

    code = "environment_build"
