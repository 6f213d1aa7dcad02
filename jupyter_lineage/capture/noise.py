"""Which paths are noise (interpreter, packages, caches, Jupyter's own files) and which are data.

Decided once per path and memoised: the audit hook asks for every ``open``.
"""

from __future__ import annotations

import fnmatch
import os
import site
import sys
import sysconfig
import tempfile
from pathlib import Path

from .kinds import is_data_file

_CODE_SUFFIXES = (
    ".py",
    ".pyc",
    ".pyo",
    ".so",
    ".pyd",
    ".pth",
    ".pyi",
    ".dylib",
    ".dll",
    ".egg-link",
)
_SYSTEM = (
    "/proc/",
    "/dev/",
    "/sys/",
    "/etc/",
    "/run/",
    "/usr/lib/",
    "/usr/share/",
    "/lib/",
    "/lib64/",
    "/usr/lib64/",
    "/var/lib/",
    "/var/cache/",
    "/usr/local/lib/",
    "/snap/",
)
_ANYWHERE = (
    "/__pycache__/",
    "/.ipynb_checkpoints/",
    "/.git/",
    "/.cache/",
    "/.ipython/",
    "/.jupyter/",
    "/.local/share/jupyter/",
    "/.config/matplotlib/",
    "/.matplotlib/",
    "/.fontconfig/",
    "/.config/dask/",
    "/.virtual_documents/",
)
# Any environment's packages, as this one's: a cache shared by environments (matplotlib's font
# list in ~/.cache/matplotlib) can point into whichever one built it.
_PACKAGES_ANYWHERE = ("/site-packages/", "/dist-packages/")


# Where libraries keep their caches (matplotlib's config; Hugging Face's downloads and the Arrow
# files `datasets` answers from: the files it was given are recorded instead; torch hub's).
_CACHE_VARS = (
    "MPLCONFIGDIR",
    "HF_HOME",
    "HF_DATASETS_CACHE",
    "HF_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "TORCH_HOME",
    "XDG_CACHE_HOME",
)


_DATA, _NOISE, _PACKAGE, _MIXED = range(4)  # what a folder says of its files


def _jupyter_dirs() -> list[str]:
    try:
        from jupyter_core import paths
    except ImportError:
        return []
    dirs = [paths.jupyter_runtime_dir(), paths.jupyter_data_dir(), paths.jupyter_config_dir()]
    return [os.path.abspath(d) for d in dirs]


def _package_dirs() -> list[str]:
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            dirs.add(sysconfig.get_paths()[key])
        except KeyError:
            pass
    try:
        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except AttributeError:
        pass
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return sorted({os.path.abspath(d) for d in dirs if d})


class NoiseFilter:
    def __init__(self, extra_ignored: list[str] | None = None) -> None:
        tmp = os.path.abspath(tempfile.gettempdir())
        self.package_prefixes = tuple(d.rstrip("/") + "/" for d in _package_dirs())
        self.ignored_prefixes = (
            tuple(d.rstrip("/") + "/" for d in [*_jupyter_dirs(), *(extra_ignored or [])])
            + _SYSTEM
            + (f"{tmp}/ipykernel_", f"{tmp}/matplotlib-", f"{tmp}/tmp_kernel")
        )
        self.ignored_files = frozenset(extra_ignored or [])
        for var in _CACHE_VARS:  # libraries' own caches, wherever the user moved them
            folder = os.environ.get(var)
            if folder:
                self.ignored_prefixes += (os.path.abspath(folder).rstrip("/") + "/",)
        self.globs: list[str] = []
        # decided paths, reads' and writes' apart (indexed by ``write``): the hot path looks here
        self.memo: tuple[dict[str, bool], dict[str, bool]] = ({}, {})
        self._folders: dict[str, int] = {}  # what a folder says of the files in it

    def ignore(self, *paths_or_globs: str) -> None:
        for item in paths_or_globs:
            if any(ch in item for ch in "*?["):
                self.globs.append(item)
            else:
                self.ignored_prefixes += (os.path.abspath(item).rstrip("/") + "/",)
                self.globs.append(os.path.abspath(item))
        for memo in self.memo:
            memo.clear()
        self._folders.clear()

    def is_noise(self, path: str, write: bool) -> bool:
        memo = self.memo[write]
        hit = memo.get(path)
        if hit is None:
            hit = self._decide(path, write)
            if len(memo) > 50_000:
                memo.clear()
            memo[path] = hit
        return hit

    def _decide(self, path: str, write: bool) -> bool:
        if path.endswith(_CODE_SUFFIXES) or path in self.ignored_files:
            return True
        # What a folder's files have in common is decided once per folder (2,000 images)
        folder = path[: path.rfind("/") + 1]
        verdict = self._folders.get(folder)
        if verdict is None:
            verdict = self._folder(folder)
            if len(self._folders) > 10_000:
                self._folders.clear()
            self._folders[folder] = verdict
        if verdict == _PACKAGE:
            # Packages' own files are noise, but data they ship (sklearn's iris.csv) is read data.
            return write or not is_data_file(path)
        if verdict == _NOISE or (verdict == _MIXED and path.startswith(self.ignored_prefixes)):
            return True
        return bool(self.globs) and self._globbed(path)

    def _folder(self, folder: str) -> int:
        """``folder`` ends with "/": the prefixes and parts that end with one decide alike for
        every file in it; a prefix that goes on into file names (``/tmp/ipykernel_``) leaves
        its files to be looked at one by one."""
        if folder.startswith(self.package_prefixes) or any(p in folder for p in _PACKAGES_ANYWHERE):
            return _PACKAGE
        if folder.startswith(self.ignored_prefixes) or any(part in folder for part in _ANYWHERE):
            return _NOISE
        if any(p.startswith(folder) and "/" not in p[len(folder) :] for p in self.ignored_prefixes):
            return _MIXED
        return _DATA

    def _globbed(self, path: str) -> bool:
        name = os.path.basename(path)
        rel = os.path.relpath(path) if not path.startswith("..") else path
        for g in self.globs:
            if fnmatch.fnmatch(path, g) or fnmatch.fnmatch(name, g) or fnmatch.fnmatch(rel, g):
                return True
        return False


def store_paths(db: Path) -> list[str]:
    """What of the store is noise: its own folder when dedicated, else just its files."""
    if db.parent.name == ".lineage":
        return [str(db.parent)]
    return [f"{db}{suffix}" for suffix in ("", "-wal", "-shm", "-journal", ".journal")]
