"""The software and hardware a run ran on; never environment variables."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from ..files import replace_whole
from ..urls import clean_url


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


def origin(dist: metadata.Distribution) -> dict[str, Any] | None:
    """Where a distribution came from when not from an index: its PEP 610 ``direct_url.json``
    (a local folder, a VCS commit, an archive URL), the URL without credentials."""
    try:
        text = dist.read_text("direct_url.json")
        data = json.loads(text) if text else None
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return None
        url = clean_url(data["url"])
    except Exception:
        return None
    out: dict[str, Any]
    if isinstance(data.get("vcs_info"), dict):
        vcs = data["vcs_info"]
        out = {"kind": "vcs", "url": url, "vcs": vcs.get("vcs"), "commit": vcs.get("commit_id")}
        if vcs.get("requested_revision"):
            out["requested_revision"] = vcs["requested_revision"]
    elif isinstance(data.get("archive_info"), dict):
        out = {"kind": "archive", "url": url}
        hashes = data["archive_info"].get("hashes")
        if isinstance(hashes, dict) and hashes:
            out["hashes"] = hashes
    else:
        dir_info = data.get("dir_info")
        editable = isinstance(dir_info, dict) and bool(dir_info.get("editable"))
        out = {"kind": "directory", "url": url, "editable": editable}
    if data.get("subdirectory"):
        out["subdirectory"] = data["subdirectory"]
    return out


def installed() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Every distribution's version, and the origin of those not installed from an index."""
    versions: dict[str, str] = {}
    origins: dict[str, dict[str, Any]] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            continue
        if not name:
            continue
        key = name.lower().replace("_", "-")
        if key in versions:
            continue  # the first on sys.path is the one imported
        versions[key] = dist.version
        found = origin(dist)
        if found:
            origins[key] = found
    return dict(sorted(versions.items())), dict(sorted(origins.items()))


def packages() -> dict[str, str]:
    return installed()[0]


def site_dirs() -> list[str]:
    """Folders whose change means packages were installed or removed."""
    return [
        p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)
    ]


def capture_environment(cache: Path | None = None) -> dict[str, Any]:
    """The run's context. The package list (reading ~every installed METADATA file: the bulk
    of a kernel's start-up work) is taken from ``cache`` when the folders on ``sys.path`` are
    as they were when it was written (an install, upgrade or removal changes them)."""
    key = cache_key()
    found = _read_cache(cache, key) if cache is not None else None
    if found is None:
        found = installed()
        if cache is not None:
            _write_cache(cache, key, found)
    versions, origins = found
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
        "packages": versions,
        "origins": origins,
    }


def environment_cache(db_path: Path) -> Path:
    """Beside the store, like its journal folder."""
    return db_path.with_name(db_path.name + ".environment.json")


def cache_key() -> list[Any]:
    """The interpreter and the state of every folder packages are found in (not the working
    folder, whose files change with every run)."""
    here = os.getcwd()
    folders: list[Any] = [sys.executable]
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == here:
            continue
        try:
            folders.append([entry, *_dir_key(os.stat(entry))])
        except OSError:
            folders.append([entry, None])
    return folders


def _read_cache(
    path: Path, key: list[Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]] | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("key") != key:
            return None
        return dict(data["packages"]), dict(data["origins"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, stale or damaged: read the packages again


def _write_cache(
    path: Path, key: list[Any], found: tuple[dict[str, str], dict[str, dict[str, Any]]]
) -> None:
    write_whole(path, {"key": key, "packages": found[0], "origins": found[1]})


def write_whole(path: Path, data: dict[str, Any]) -> None:
    """A reader never sees half a file. A cache that cannot be written only costs the next run
    the full read."""
    with contextlib.suppress(OSError):
        replace_whole(path, json.dumps(data))


# A cell that may install packages; otherwise site folders are checked after a pause between
# cells (an install from a terminal) and every few seconds while cells run back to back.
_MAY_INSTALL = re.compile(r"pip|conda|mamba|install|uv\b|subprocess|system|^\s*!", re.M)
_CHECK_SECONDS = 5.0
_PAUSE_SECONDS = 1.0


def _dir_key(st: os.stat_result) -> tuple[int, int, int]:
    """A folder's state: mtime alone misses changes within one clock tick; a new
    ``*.dist-info`` folder also changes the link count."""
    return (st.st_mtime_ns, st.st_nlink, st.st_size)


class PackageWatch:
    """Notices installs (``%pip install``) by the site-packages folders' state. A stat per
    folder is cheap, but each releases the GIL, which inside a kernel waits on its I/O threads:
    so not after every cell."""

    def __init__(self) -> None:
        self._state = self._read()
        self._checked = 0.0

    @staticmethod
    def _read() -> dict[str, tuple[int, int, int]]:
        out = {}
        for d in site_dirs():
            with contextlib.suppress(OSError):
                out[d] = _dir_key(os.stat(d))
        return out

    def changed(self, source: str = "", paused: float = 0.0, *, force: bool = False) -> bool:
        """Whether packages changed since the last look (``paused``: idle time before the cell)."""
        if not self._state:
            return False
        clock = time.monotonic()
        if (
            not force
            and clock - self._checked < _CHECK_SECONDS
            and paused < _PAUSE_SECONDS
            and not _MAY_INSTALL.search(source)
        ):
            return False
        self._checked = clock
        for d, key in self._state.items():
            try:
                if _dir_key(os.stat(d)) != key:
                    break
            except OSError:
                break
        else:
            return False
        self._state = self._read()
        return True
