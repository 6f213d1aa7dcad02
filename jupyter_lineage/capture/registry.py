"""The one tracker this process records with, whoever started it.

``%load_ext jupyter_lineage`` (and a pipeline's kernel), ``jupyter_lineage.start()`` in a script,
or a :class:`~jupyter_lineage.capture.tracker.Tracker` made directly: a tracker activates itself
when it starts and deactivates when it closes. The extension, the Python API, the magics and the
audit hook all ask here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .child import ChildCapture
    from .tracker import Tracker

# Read directly by the audit hook (capture/hook.py), which runs for every audit event in the
# process: a module attribute is the cheapest lookup there is.
_current: Tracker | None = None
# A Python child of a tracked process records for its parent's cell (capture/child.py); the
# audit hook reads this when there is no tracker.
_child: ChildCapture | None = None


def current() -> Tracker | None:
    return _current


def activate(tracker: Tracker) -> None:
    global _current
    _current = tracker


def deactivate(tracker: Tracker) -> None:
    """Only the tracker that is current can end being current (a stale close is a no-op)."""
    global _current
    if _current is tracker:
        _current = None


def child() -> ChildCapture | None:
    return _child


def activate_child(capture: ChildCapture) -> None:
    global _child
    _child = capture


def deactivate_child(capture: ChildCapture) -> None:
    global _child
    if _child is capture:
        _child = None
