"""python -m benchmarks.report: docs/benchmarks.md's table from ONE run's results/latest.json
(the machine, its load, the package versions and every row of that run; nothing spliced in)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LATEST = Path(__file__).parent / "results" / "latest.json"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _details(details: dict[str, Any]) -> str:
    shown = []
    for key, value in details.items():
        if isinstance(value, dict):  # per-sample statistics: the median says enough
            continue
        shown.append(f"{key} {_number(value)}")
    return ", ".join(shown).replace("|", "/")


def render(data: dict[str, Any]) -> str:
    machine = data["machine"]
    load = data.get("load", {})
    versions = ", ".join(f"{k} {v}" for k, v in sorted(data.get("versions", {}).items()))
    lines = [
        f"One {'quick' if data.get('quick') else 'full'} run, {data.get('started', '?')} to "
        f"{data.get('finished', '?')}: {machine['cpus']} vCPU {machine['cpu']}, "
        f"Python {machine['python']}, {machine['platform']}; load average "
        f"{_number(load.get('before'))} at the start, {_number(load.get('after'))} at the end.",
        "",
        f"Packages: {versions}.",
        "",
        "Seconds per suite: "
        + (", ".join(f"{k} {v:g}" for k, v in data.get("suite_seconds", {}).items()) or "?")
        + ".",
        "",
        "| figure | measured | target | verdict | details |",
        "|---|---|---|---|---|",
    ]
    for r in data["results"]:
        verdict = {True: "pass", False: "FAIL", None: "-"}[r["passed"]]
        lines.append(
            f"| {r['name']} | {_number(r['measured'])} {r['unit']} | {r['target']} | {verdict} "
            f"| {_details(r['details'])} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LATEST
    sys.stdout.write(render(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
