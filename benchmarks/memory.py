"""6. The kernel's RSS growth after 10,000 tracked cell executions."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.kernel import Kernel

from .common import Result


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(quick: bool) -> list[Result]:
    n = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JUPYTER_LINEAGE_DB"] = os.path.join(tmp, "l.db")
        Path(tmp, "d.csv").write_text("a\n1\n")
        k = Kernel(tmp)
        try:
            k.check("%load_ext jupyter_lineage")
            pid = k.km.provisioner.process.pid  # type: ignore[union-attr]
            for i in range(200):
                k.check(f"x = {i}\nd = open('d.csv').read()")
            before = _rss_mb(pid)
            for i in range(n):
                k.check(f"x = {i}\nd = open('d.csv').read()")
            after = _rss_mb(pid)
        finally:
            k.shutdown()
            os.environ.pop("JUPYTER_LINEAGE_DB", None)
    growth = (after - before) * (10_000 / n)
    return [
        Result(
            f"kernel RSS growth per 10,000 tracked cells (measured on {n})",
            growth,
            "MB",
            "< 50 MB",
            growth < 50,
            {"rss_before_mb": before, "rss_after_mb": after},
        )
    ]
