"""``jupyter lineage doctor``: is tracking on where the user stands? One check per line, each
with the command that fixes it.

The kernel check asks the kernel's own Python to load its configuration exactly as a kernel
starting here would (IPKernelApp's profile, environment and system folders), so what it says
is what the next notebook gets, whatever wrote the config.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import autoload
from ._version import __version__
from .store.location import for_notebook

# Run by the kernel's Python: its IPython config as a kernel started in this folder loads it.
_PROBE = """\
import importlib.util, json, logging, sys
from ipykernel.kernelapp import IPKernelApp
logging.disable(logging.CRITICAL)
app = IPKernelApp()
app.init_profile_dir()
app.init_config_files()
app.load_config_file()
sys.stdout.write(json.dumps({
    "extensions": list(app.default_extensions) + list(app.extensions) + list(app.extra_extensions),
    "installed": importlib.util.find_spec("jupyter_lineage") is not None,
}))
"""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}


def kernel_python() -> str:
    """The Python of the ``python3`` kernel Jupyter would start (ipykernel's own spec runs the
    server's Python, which is ours when both are installed together)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec("python3").argv
    except Exception:
        return sys.executable
    exe = argv[0] if argv else sys.executable
    return sys.executable if exe in ("python", "python3", "{python}") else exe


def _probe_kernel(cwd: Path) -> dict[str, Any] | str:
    python = kernel_python()
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not run the kernel's Python {python}: {exc}"
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the kernel's Python {python} could not load its IPython config: {last}"
    data: dict[str, Any] = json.loads(lines[-1])
    data["python"] = python
    return data


def _kernel_checks(cwd: Path) -> list[Check]:
    checks = []
    for scope in autoload.scopes(cwd):
        name = scope["scope"]
        if name == "project":
            if scope["enabled"]:
                detail = f"project: on here (marker {scope['path']})"
            elif scope["marker"]:
                detail = f"project: marker {scope['path']} but no hook in the user config"
            else:
                detail = "project: off here"
            fix = (
                ""
                if scope["enabled"] or not scope["marker"]
                else "jupyter lineage enable --project"
            )
            checks.append(Check("autoload-project", not fix, detail, fix))
            continue
        on = "on" if scope["enabled"] else "off"
        checks.append(Check(f"autoload-{name}", True, f"{name}: {on} ({scope['path']})"))
    probe = _probe_kernel(cwd)
    if isinstance(probe, str):
        checks.append(Check("kernel", False, probe, "pip install ipykernel jupyter-lineage"))
        return checks
    loads = bool({autoload.EXTENSION, "jupyter_lineage"} & set(probe["extensions"]))
    if not probe["installed"]:
        checks.append(
            Check(
                "kernel",
                False,
                f"jupyter-lineage is not installed in the kernel's Python ({probe['python']})",
                f"{probe['python']} -m pip install jupyter-lineage",
            )
        )
    elif loads:
        checks.append(Check("kernel", True, "a kernel started here tracks lineage by itself"))
    else:
        checks.append(
            Check(
                "kernel",
                False,
                "a kernel started here does not load jupyter_lineage (each notebook needs "
                "%load_ext jupyter_lineage)",
                "jupyter lineage enable (or --sys-prefix / --project)",
            )
        )
    return checks


def _store_check(cwd: Path) -> Check:
    path = for_notebook(cwd / "notebook.ipynb")
    if path.exists():
        state = f"{path.stat().st_size / 1e6:.1f} MB"
        writable = os.access(path, os.W_OK)
    else:
        state = "not created yet"
        folder = next((p for p in path.parents if p.exists()), Path("/"))
        writable = os.access(folder, os.W_OK)
    if not writable:
        return Check(
            "store",
            False,
            f"a notebook here writes to {path}, which is not writable",
            "set $JUPYTER_LINEAGE_DB to a writable file",
        )
    return Check("store", True, f"a notebook here writes to {path} ({state})")


def _server_check() -> Check:
    try:
        from jupyter_core.paths import jupyter_config_path
        from jupyter_server.extension.config import ExtensionConfigManager
    except ImportError:
        return Check("server", False, "jupyter_server is not installed", "pip install jupyterlab")
    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path())
    if enabled.get_jpserver_extensions().get("jupyter_lineage"):
        return Check("server", True, "server extension jupyter_lineage is enabled (REST API)")
    return Check(
        "server",
        False,
        "server extension jupyter_lineage is not enabled: the sidebar gets no data",
        "jupyter server extension enable jupyter_lineage",
    )


def _lab_check() -> Check:
    try:
        from jupyter_core.paths import jupyter_path
        from jupyterlab_server.config import get_federated_extensions, get_page_config
    except ImportError:
        return Check("lab", False, "JupyterLab is not installed", "pip install jupyterlab")
    paths = jupyter_path("labextensions")
    found = get_federated_extensions(paths).get("jupyter-lineage")
    if not found:
        return Check(
            "lab",
            False,
            "the sidebar (labextension jupyter-lineage) is not installed in this environment",
            "pip install --force-reinstall jupyter-lineage",
        )
    disabled = get_page_config(paths).get("disabledExtensions", {})
    if "jupyter-lineage" in disabled or any(
        str(k).startswith("jupyter-lineage:") for k in disabled
    ):
        return Check(
            "lab",
            False,
            "the sidebar (labextension jupyter-lineage) is disabled",
            "jupyter labextension enable jupyter-lineage",
        )
    apps = ["JupyterLab"]
    try:
        import importlib.metadata as md

        if int(md.version("notebook").split(".")[0]) >= 7:
            apps.append("Notebook 7")
    except (md.PackageNotFoundError, ValueError):
        pass
    return Check("lab", True, f"the sidebar {found['version']} is enabled ({' and '.join(apps)})")


def doctor(cwd: str | os.PathLike[str] | None = None) -> list[Check]:
    """Every check, in the order a user fixes them."""
    here = Path(cwd or os.getcwd()).absolute()
    checks = [Check("package", True, f"jupyter-lineage {__version__} on Python {sys.executable}")]
    checks += _kernel_checks(here)
    checks += [_store_check(here), _server_check(), _lab_check()]
    return checks
