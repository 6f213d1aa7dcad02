"""Tracking leaves the notebook's computation alone: the floating-point environment (rounding,
denormals), the signal handlers, numpy's error state and BLAS threads are the
same with tracking on as off, and the computation that once failed on a busy machine
(roc_auc_score, whose auc() checks np.diff for monotonicity) gives the same answer."""

from __future__ import annotations

import json
from pathlib import Path

from .kernel import Kernel

PROBE = r"""
import ctypes, ctypes.util, json, signal, threading
import numpy as np
libm = ctypes.CDLL(ctypes.util.find_library("m"))
tiny = np.float64(5e-324)
state = {
    "rounding": libm.fegetround(),
    "denormals_kept": bool(tiny * 2 > 0),  # False under flush-to-zero / denormals-are-zero
    "numpy_err": np.geterr(),
    "signals": {str(s): repr(signal.getsignal(s)) for s in signal.valid_signals()
                if s not in (signal.SIGKILL, signal.SIGSTOP)},
}
try:
    from threadpoolctl import threadpool_info
    state["blas_threads"] = sorted(i["num_threads"] for i in threadpool_info())
except ImportError:
    pass
print(json.dumps(state, default=str))
"""

COMPUTE = r"""
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 100)
s = rng.random(100)
fpr, tpr, _ = roc_curve(y, s)
print(repr((float(roc_auc_score(y, s)), bool((np.diff(fpr) >= 0).all()))))
"""


def _state(k: Kernel) -> dict:
    return json.loads(k.check(PROBE).stdout.strip().splitlines()[-1])


def test_tracking_leaves_fp_state_signals_and_threads_alone(project: Path) -> None:
    (project / "data.csv").write_text("a,b\n1,2\n3,4\n")
    plain = Kernel(str(project))
    try:
        k_plain = _state(plain)
        compute_plain = plain.check(COMPUTE).stdout
    finally:
        plain.shutdown()
    tracked = Kernel(str(project))
    try:
        tracked.check("%load_ext jupyter_lineage")
        tracked.check("import pandas as pd\ndf = pd.read_csv('data.csv')\ndf.to_csv('out.csv')")
        k_tracked = _state(tracked)
        compute_tracked = tracked.check(COMPUTE).stdout
    finally:
        tracked.shutdown()
    # SIGTERM may be ours only while a child process runs (capture/child.py); none does here
    assert k_tracked == k_plain
    assert compute_tracked == compute_plain and compute_plain.strip().endswith("True)")
