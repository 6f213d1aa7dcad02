"""Timing helpers and the result table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def stats(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "median": statistics.median(s),
        "p10": s[len(s) // 10],
        "p90": s[(len(s) * 9) // 10],
        "n": len(s),
    }


@dataclass
class Result:
    name: str
    measured: float
    unit: str
    target: str
    passed: bool | None
    details: dict[str, Any] = field(default_factory=dict)

    def row(self) -> tuple[str, str, str, str]:
        verdict = {True: "pass", False: "FAIL", None: "-"}[self.passed]
        return self.name, f"{self.measured:.4g} {self.unit}", self.target, verdict
