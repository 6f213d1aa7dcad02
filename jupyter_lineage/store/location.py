"""Where the lineage store is, found the same way by the CLI, the API, the engine and the kernel.

``--db`` > ``$JUPYTER_LINEAGE_DB`` > the nearest ``.lineage/lineage.db`` in the folder one starts
from or its parents (like git finds ``.git``; the search ends at a git root) > a new store at the
project root: the git root of that folder, else the folder itself.

Commands start from where the user stands (the working folder), then from the folder of the path
they name; a notebook's kernel and ``run`` start from the notebook's folder. The folder holding ``.lineage/`` is the *project root*: paths inside it are also stored
relative to it, so a moved or copied project keeps its lineage.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..inputs import check_path

ENV_DB = "JUPYTER_LINEAGE_DB"
STORE_DIR = ".lineage"
STORE_FILE = "lineage.db"
HOW_FOUND = (
    "default: $JUPYTER_LINEAGE_DB, else the nearest .lineage/lineage.db in the current "
    "folder or its parents, else a new one at the git root (or the current folder)"
)


def _upwards(start: Path) -> Iterable[Path]:
    """``start`` and its parents, up to and including the first git root."""
    for folder in (start, *start.parents):
        yield folder
        if (folder / ".git").exists():
            return


def existing(start: Path) -> Path | None:
    """The nearest store at or above ``start`` (within its git repository, if any)."""
    for folder in _upwards(start):
        candidate = folder / STORE_DIR / STORE_FILE
        if candidate.is_file():
            return candidate
    return None


def new_root(start: Path) -> Path:
    """Where a first store goes: the git root above ``start``, else ``start`` itself."""
    for folder in _upwards(start):
        if (folder / ".git").exists():
            return folder
    return start


def _folder(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser().absolute()
    return p if p.is_dir() else p.parent


def locate(
    db: str | os.PathLike[str] | None = None,
    *,
    start: str | os.PathLike[str] | None = None,
    then: str | os.PathLike[str] | None = None,
) -> Path:
    """The store to use. ``start`` (default: the working folder) is searched first, then ``then``
    (a path the user named, or the working folder for a kernel); a new store goes at
    ``start``'s project root."""
    if db:
        return Path(check_path("--db", os.fspath(db))).expanduser().absolute()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser().absolute()
    first = _folder(start) if start is not None else Path.cwd()
    folders = [first]
    if then is not None and _folder(then) != first:
        folders.append(_folder(then))
    for folder in folders:
        found = existing(folder)
        if found is not None:
            return found
    return new_root(first) / STORE_DIR / STORE_FILE


def for_notebook(
    notebook: str | os.PathLike[str] | None, db: str | os.PathLike[str] | None = None
) -> Path:
    """The store a notebook's run writes to: found from the notebook's folder up (for a
    kernel, that is where it stands); without a notebook (a script), from the working folder."""
    return locate(db, start=notebook or None)


def project_root(db_path: str | os.PathLike[str]) -> Path:
    """The folder relative paths are anchored at: the one holding ``.lineage/`` (for a store
    elsewhere, e.g. ``--db /data/x.db``, the store's own folder)."""
    path = Path(db_path).expanduser().absolute()
    return path.parent.parent if path.parent.name == STORE_DIR else path.parent


def relative(uri: str, root: str) -> str | None:
    """``uri`` relative to ``root`` with forward slashes when it lies inside it, else None (URLs,
    files elsewhere). Pure string work: it runs for every file a cell touches."""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not uri.startswith(prefix):
        return None
    rest = uri[len(prefix) :]
    return rest.replace(os.sep, "/") if os.sep != "/" else rest


def here(uri: str, rel: str | None, root: str) -> str:
    """Where a recorded file is now: under the project root when it was recorded inside it (the
    project may have moved since), else where it was."""
    if rel is None:
        return uri
    return os.path.join(root, *rel.split("/"))
