"""``%load_ext jupyter_lineage``: IPython's official event hooks, mirrored exactly on unload."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from .capture import tracker as _tracker
from .capture.tracker import ENV_NOTEBOOK, ENV_RUN_ID, Tracker

_shell: Any = None
_active: Tracker | None = None


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


def _pre_run_cell(info: Any) -> None:
    tracker = _active
    if tracker is None or not tracker.enabled:
        return
    try:
        tracker.begin_execution(info.raw_cell or "", getattr(info, "cell_id", None))
    except Exception as exc:
        tracker._warn("capture", f"could not start recording this cell ({exc!r}).")


def _post_run_cell(result: Any) -> None:
    tracker = _active
    if tracker is None or not tracker.active:
        return
    error = result.error_before_exec or result.error_in_exec
    tracker.end_execution(execution_count=result.execution_count, error=error)


def load_ipython_extension(shell: Any) -> None:
    global _shell, _active
    from . import widgets  # noqa: F401  (registers %track graph and %track diff)
    from .magics import TrackMagics

    if _active is not None:
        return
    run_id = os.environ.get(ENV_RUN_ID)
    _active = Tracker(
        kind="papermill" if run_id else "interactive",
        notebook=notebook_path(shell),
        run_id=run_id or None,
        attach=bool(run_id),
    )
    _shell = shell
    shell.events.register("pre_run_cell", _pre_run_cell)
    shell.events.register("post_run_cell", _post_run_cell)
    shell.register_magics(TrackMagics)


def unload_ipython_extension(shell: Any) -> None:
    global _shell, _active
    for name, callback in (("pre_run_cell", _pre_run_cell), ("post_run_cell", _post_run_cell)):
        try:
            shell.events.unregister(name, callback)
        except ValueError:
            pass
    shell.magics_manager.magics["line"].pop("track", None)
    with contextlib.suppress(Exception):
        del shell.magics_manager.registry["TrackMagics"]
    if _active is not None:
        # %unload_ext runs inside a cell: record that cell before the run ends.
        if _active.active:
            _active.end_execution()
        _active.close()
    _active = None
    _shell = None


def active_tracker() -> Tracker | None:
    return _active or _tracker.current()
