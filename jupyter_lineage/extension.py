"""``%load_ext jupyter_lineage``: IPython's official event hooks, mirrored exactly on unload."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from .capture import registry
from .capture.dataflow import Analyzer
from .capture.dependencies import Dataflow
from .capture.envvars import ENV_NOTEBOOK, ENV_RUN_ID
from .capture.tracker import Tracker


def notebook_path(shell: Any) -> str | None:
    """The open notebook: set by our pipeline, by jupyter_server, or by VS Code."""
    path = os.environ.get(ENV_NOTEBOOK) or os.environ.get("JPY_SESSION_NAME")
    if not path and shell is not None:
        path = shell.user_ns.get("__vsc_ipynb_file__")
    if not path:
        return None
    if not os.path.isabs(path):
        here = os.path.join(os.getcwd(), os.path.basename(path))
        path = here if os.path.exists(here) else os.path.abspath(path)
    return path


# A kernel whose notebook is not known yet when the extension loads (VS Code sets
# `__vsc_ipynb_file__` in the namespace after start-up, by a request of its own): the run is
# begun at the first cell, once the notebook can be named.
_deferred: Any = None


def _pre_run_cell(info: Any) -> None:
    global _deferred
    if _deferred is not None and not getattr(info, "store_history", True):
        # a frontend's own request (VS Code's start-up code naming the notebook), not a cell:
        # the run begins at the first cell. (nbval runs its cells this way too, but its runs
        # are never deferred: the plugin names the notebook.)
        return
    if _deferred is not None:
        shell, _deferred = _deferred, None
        try:
            _start(shell)
        except Exception as exc:  # tracking never hurts the notebook: say it once, go on
            sys.stderr.write(f"jupyter-lineage: tracking could not start ({exc!r}).\n")
    tracker = registry.current()
    if tracker is None or not tracker.enabled:
        return
    try:
        tracker.begin_execution(info.raw_cell or "", getattr(info, "cell_id", None))
    except Exception as exc:
        tracker.warn("capture", f"could not start recording this cell ({exc!r}).")


def _post_run_cell(result: Any) -> None:
    tracker = registry.current()
    if tracker is None or not tracker.active:
        return
    error = result.error_before_exec or result.error_in_exec
    tracker.end_execution(execution_count=result.execution_count, error=error)


def load_ipython_extension(shell: Any, *, at_start: bool = False) -> None:
    """Start tracking this kernel (or attach to the pipeline run that started it).

    A process tracks one run: if a tracker is already current (a pipeline's kernel loads the
    extension before the notebook's own ``%load_ext``), this does nothing. ``at_start``: loaded
    as the kernel starts (``jupyter lineage enable``), when the notebook may not be known yet.
    """
    # Imported here, not at the top: IPython's magics machinery is only needed inside a kernel,
    # and `import jupyter_lineage` in a plain script must not pay for it (start-up cost).
    from .magics import TrackMagics

    global _deferred
    if registry.current() is not None or _deferred is not None:
        return
    if at_start and not os.environ.get(ENV_RUN_ID) and not notebook_path(shell):
        _deferred = shell
    else:
        _start(shell)
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    shell.register_magics(TrackMagics)


def _start(shell: Any) -> None:
    run_id = os.environ.get(ENV_RUN_ID)
    tracker = Tracker(
        kind="papermill" if run_id else "interactive",
        notebook=notebook_path(shell),
        run_id=run_id or None,
        attach=bool(run_id),
    )
    # magics and `!` lines are analysed as IPython runs them; names checked in its namespace
    tracker.dataflow = Dataflow(shell.user_ns, Analyzer(shell.transform_cell))


def unload_ipython_extension(shell: Any) -> None:
    global _deferred
    _deferred = None
    for name, callback in (("pre_run_cell", _pre_run_cell), ("post_run_cell", _post_run_cell)):
        try:
            shell.events.unregister(name, callback)
        except ValueError:
            pass
    shell.magics_manager.magics["line"].pop("track", None)
    with contextlib.suppress(Exception):
        del shell.magics_manager.registry["TrackMagics"]
    tracker = registry.current()
    if tracker is not None and tracker.kind != "script":
        # %unload_ext runs inside a cell: record that cell before the run ends.
        if tracker.active:
            tracker.end_execution()
        tracker.close()
