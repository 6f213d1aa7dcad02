"""``jupyter lineage enable / disable``: every kernel of a scope loads the extension by itself.

Through IPython's own configuration, nothing of ours in between: a marked block in the scope's
``ipython_kernel_config.py`` appends to ``InteractiveShellApp.extensions`` (a lazy append, so it
adds to what other config files list instead of replacing it). Scopes:

- ``user``: ``$IPYTHONDIR/profile_default`` (``~/.ipython``), every kernel of this user;
- ``sys-prefix``: ``<sys.prefix>/etc/ipython``, every kernel of this Python environment;
- ``project``: a marker file ``.lineage/autoload`` at the project's root, found through the
  kernel's working directory (Jupyter, VS Code and nbval start a kernel in the notebook's
  folder) by a block in the user scope: kernels started in the project or below it track,
  others pay a few ``stat`` calls and load nothing.

Every block loads nothing in a Python where jupyter-lineage is not installed, so a kernel of
another environment never starts with an extension error.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .private import private_dir

SCOPES = ("user", "sys-prefix", "project")
CONFIG_NAME = "ipython_kernel_config.py"
MARKER = Path(".lineage") / "autoload"
EXTENSION = "jupyter_lineage.startup"

_BLOCK = """\
# >>> jupyter-lineage: {name} >>>
# Written by `jupyter lineage enable`; `jupyter lineage disable{flag}` removes this block.
import importlib.util as _lineage_util
if _lineage_util.find_spec("jupyter_lineage") is not None:
    c.InteractiveShellApp.extensions.append("{extension}")
del _lineage_util
# <<< jupyter-lineage: {name} <<<
"""
_PROJECTS_BLOCK = """\
# >>> jupyter-lineage: projects >>>
# Written by `jupyter lineage enable --project`: a kernel started in a folder holding
# .lineage/autoload, or below one, loads jupyter_lineage. Removing the marker file
# (`jupyter lineage disable --project`) turns a project off; removing this block, all of them.
import importlib.util as _lineage_util, os as _lineage_os
_lineage_here = _lineage_os.getcwd()
while True:
    if _lineage_os.path.isfile(_lineage_os.path.join(_lineage_here, ".lineage", "autoload")):
        if _lineage_util.find_spec("jupyter_lineage") is not None:
            c.InteractiveShellApp.extensions.append("jupyter_lineage.startup")
        break
    if _lineage_os.path.dirname(_lineage_here) == _lineage_here:
        break
    _lineage_here = _lineage_os.path.dirname(_lineage_here)
del _lineage_util, _lineage_os, _lineage_here
# <<< jupyter-lineage: projects <<<
"""
_MARKER_TEXT = (
    "Kernels started in this folder or below it track lineage (jupyter-lineage).\n"
    "`jupyter lineage disable --project` removes this file.\n"
)


def _block_re(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^# >>> jupyter-lineage: {re.escape(name)} >>>\n.*?^# <<< jupyter-lineage: "
        rf"{re.escape(name)} <<<\n?",
        re.S | re.M,
    )


def user_config_dir() -> Path:
    """IPython's default profile as a kernel finds it: ``$IPYTHONDIR``, else ``~/.ipython``.

    Not ``IPython.paths.get_ipython_dir()``: where that folder cannot be written it falls back
    to a new temporary folder, and a config written there would reach no kernel."""
    ipdir = os.environ.get("IPYTHONDIR") or os.environ.get("IPYTHON_DIR") or "~/.ipython"
    return Path(os.path.expanduser(ipdir)).absolute() / "profile_default"


def sys_prefix_config_dir() -> Path:
    """The environment's folder IPython reads (``ENV_CONFIG_DIRS``)."""
    return Path(sys.prefix) / "etc" / "ipython"


def config_file(scope: str) -> Path:
    return (sys_prefix_config_dir() if scope == "sys-prefix" else user_config_dir()) / CONFIG_NAME


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Where a project's ``.lineage/`` lives: the git root above ``start``, else ``start``."""
    here = Path(start or os.getcwd()).expanduser().absolute()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def find_marker(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The project marker in ``start`` (the kernel's working directory) or a folder above it."""
    here = Path(start or os.getcwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder / MARKER
    return None


def _check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise UsageError(f"Unknown scope '{scope}': use one of --user, --sys-prefix, --project.")
    return scope


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _write(path: Path, text: str) -> None:
    """Replace the file in one step (a kernel starting meanwhile reads the old or the new)."""
    if not text.strip():
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


def _has_block(path: Path, name: str) -> bool:
    return bool(_block_re(name).search(_read(path)))


def _set_block(path: Path, name: str, add: bool) -> bool:
    """Add or remove the named block; True when the file changed."""
    text = _read(path)
    without = _block_re(name).sub("", text)
    if not add:
        new = without
    else:
        if name == "projects":
            block = _PROJECTS_BLOCK
        else:
            block = _BLOCK.format(name=name, flag=f" --{name}", extension=EXTENSION)
        new = without + ("\n" if without and not without.endswith("\n") else "") + block
    if new == text:
        return False
    _write(path, new)
    return True


def _unwritable(exc: OSError) -> UsageError:
    return UsageError(
        f"Cannot write {exc.filename or 'the IPython config'}: {exc.strerror or exc}. Use a "
        "scope you can write (--user, or --sys-prefix inside your own virtual environment), "
        "or set $IPYTHONDIR to a writable folder."
    )


@dataclass
class Change:
    scope: str
    path: str
    changed: bool
    hook: str | None = None  # project scope: the user-scope file that reads the marker

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "path": self.path, "changed": self.changed, "hook": self.hook}


def enable(scope: str = "user", project: str | os.PathLike[str] | None = None) -> Change:
    """Make every kernel of ``scope`` load the extension; idempotent."""
    scope = _check_scope(scope)
    try:
        if scope == "project":
            root = project_root(project)
            marker = root / MARKER
            changed = not marker.is_file()
            if changed:
                private_dir(marker.parent)
                marker.write_text(_MARKER_TEXT, encoding="utf-8")
            hook = config_file("user")
            changed = _set_block(hook, "projects", True) or changed
            return Change(scope, str(marker), changed, hook=str(hook))
        path = config_file(scope)
        return Change(scope, str(path), _set_block(path, scope, True))
    except OSError as exc:
        raise _unwritable(exc) from None


def disable(scope: str = "user", project: str | os.PathLike[str] | None = None) -> Change:
    """Undo :func:`enable` for ``scope``; the rest of the config file is left as it was.

    ``--project`` removes this project's marker; the user-scope block stays for other projects
    (it costs a few ``stat`` calls at kernel start).
    """
    scope = _check_scope(scope)
    try:
        if scope == "project":
            root = project_root(project)
            marker = find_marker(root) or root / MARKER
            changed = marker.is_file()
            marker.unlink(missing_ok=True)
            return Change(scope, str(marker), changed, hook=str(config_file("user")))
        path = config_file(scope)
        return Change(scope, str(path), _set_block(path, scope, False))
    except OSError as exc:
        raise _unwritable(exc) from None


def scopes(start: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """What is enabled where, as ``doctor`` and ``enable --json`` report it."""
    user, prefix = config_file("user"), config_file("sys-prefix")
    marker = find_marker(start)
    return [
        {"scope": "user", "enabled": _has_block(user, "user"), "path": str(user)},
        {"scope": "sys-prefix", "enabled": _has_block(prefix, "sys-prefix"), "path": str(prefix)},
        {
            "scope": "project",
            "enabled": marker is not None and _has_block(user, "projects"),
            "path": str(marker or project_root(start) / MARKER),
            "marker": marker is not None,
            "hook": _has_block(user, "projects"),
        },
    ]
