"""python -m benchmarks [--quick] [--only NAME ...]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import (
    dag,
    dataflow,
    folders,
    hashing,
    isolated,
    memory,
    mlflow_compare,
    overhead,
    pipeline,
    queries,
    startup,
    storesize,
)
from .common import Result

SUITES = {
    "overhead": overhead,
    "folders": folders,
    "hashing": hashing,
    "queries": queries,
    "dataflow": dataflow,
    "pipeline": pipeline,
    "dag": dag,
    "isolated": isolated,
    "storesize": storesize,
    "mlflow": mlflow_compare,
    "memory": memory,
    "startup": startup,
}


def _versions() -> dict[str, str]:
    """The versions both sides of each comparison ran with."""
    from importlib import metadata

    out = {}
    for name in ("jupyter-lineage", "papermill", "nbclient", "ipykernel", "mlflow", "blake3"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["sqlite"] = __import__("sqlite3").sqlite_version
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller data")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="run only these")
    args = parser.parse_args()
    console = Console()
    load_before = os.getloadavg()[0]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    seconds: dict[str, float] = {}
    results = []
    for name in args.only or SUITES:
        console.print(f"[bold]{name}[/] …")
        t = time.perf_counter()
        environ = dict(os.environ)
        try:
            suite = list(SUITES[name].run(args.quick))
        except Exception as exc:  # one broken suite is a failed row, not a lost run
            why = f"{type(exc).__name__}: {exc}"[:300]
            suite = [Result(f"{name} (the suite failed)", 0, "", "runs", False, {"error": why})]
        finally:  # no suite hands the next one its settings (a store in a deleted folder)
            os.environ.clear()
            os.environ.update(environ)
        for r in suite:
            results.append(r)
            console.print(f"  {r.name}: {r.measured:.4g} {r.unit} (target {r.target})")
        seconds[name] = round(time.perf_counter() - t, 1)
        console.print(f"  [dim]{seconds[name]:.0f} s[/]")
    table = Table(title="jupyter-lineage benchmarks", header_style="bold")
    for col in ("figure", "measured", "target", "verdict"):
        table.add_column(col)
    for r in results:
        table.add_row(*r.row())
    console.print(table)
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")),
        platform.processor(),
    )
    out = Path(__file__).parent / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "cpu": cpu,
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "quick": args.quick,
                "started": started,
                "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "suite_seconds": seconds,
                "load": {"before": load_before, "after": os.getloadavg()[0]},
                "versions": _versions(),
                "results": [r.__dict__ for r in results],
            },
            indent=2,
            default=str,
        )
    )
    console.print(f"wrote {out}")
    return 1 if any(r.passed is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
