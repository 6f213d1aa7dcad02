"""The software and hardware a run ran on; never environment variables."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpus() -> list[str]:
    """GPUs the driver exposes, read from /proc: no subprocess, no CUDA import."""
    names = []
    base = "/proc/driver/nvidia/gpus"
    try:
        for entry in sorted(os.listdir(base)):
            with open(os.path.join(base, entry, "information"), encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Model:"):
                        names.append(line.split(":", 1)[1].strip())
    except OSError:
        pass
    return names


def packages() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            continue
        if name:
            out.setdefault(name.lower().replace("_", "-"), dist.version)
    return dict(sorted(out.items()))


def site_dirs() -> list[str]:
    """Folders whose change means packages were installed or removed."""
    return [
        p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)
    ]


def capture_environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpus": _gpus(),
        "packages": packages(),
    }
