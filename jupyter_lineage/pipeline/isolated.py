"""``reproduce --isolated``: a virtual environment holding exactly a run's recorded packages,
built once per package set and reused, with a kernel only that reproduction sees.

What is installed: every recorded distribution at its recorded version (``uv pip install`` when
uv is found, else pip), except jupyter-lineage itself, which is the running one (from this
checkout when it is an editable or folder install) because it must write the store this
process reads. A distribution recorded from a local folder or VCS commit is installed from that
folder or commit again; a folder that is gone is named in the error. After the install, every
recorded version is checked: nothing is ever swapped for another version.

The cache is ``$JUPYTER_LINEAGE_ENVS`` or the user's cache folder (``~/.cache/jupyter-lineage/
envs`` on Linux), one folder per hash of the Python version and the requirements; a folder is
used only once its build has completed (``lineage-env.json``), and builds of one hash are
serialised by a lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ..capture.environment import origin as dist_origin
from ..envfiles import file_path, requirements
from ..errors import EnvironmentBuildError, UsageError

ENV_ENVS = "JUPYTER_LINEAGE_ENVS"
MARKER = "lineage-env.json"
SELF = "jupyter-lineage"
INSTALLERS = ("auto", "uv", "pip")
# What the installers say when a requirement cannot be had; the pins named in such lines are
# the ones reported.
_FAILURE = re.compile(
    r"no matching distribution|could not find a version|no version of|not found|"
    r"conflict|unsatisfiable|cannot install|failed to|error",
    re.I,
)
_VERSIONS = (
    "import json, importlib.metadata as m\n"
    "out = {}\n"
    "for d in m.distributions():\n"
    "    n = d.metadata['Name']\n"
    "    if n: out.setdefault(n.lower().replace('_', '-'), d.version)\n"
    "print(json.dumps(out))\n"
)


@dataclass
class IsolatedEnv:
    path: Path
    python: Path
    python_version: str
    kernel: str
    jupyter_dir: Path  # put on JUPYTER_PATH: holds kernels/<kernel>/kernel.json
    installer: str
    reused: bool
    seconds: float

    def report(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "python": self.python_version,
            "kernel": self.kernel,
            "installer": self.installer,
            "reused": self.reused,
            "seconds": round(self.seconds, 3),
        }


def envs_root() -> Path:
    override = os.environ.get(ENV_ENVS)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("jupyter-lineage", appauthor=False)) / "envs"


def _bin(env: Path, name: str) -> Path:
    if os.name == "nt":
        return env / "Scripts" / f"{name}.exe"
    return env / "bin" / name


def find_uv() -> str | None:
    return shutil.which("uv") or shutil.which("uv", path=os.path.dirname(sys.executable))


def _installer(choice: str | None) -> tuple[str, str | None]:
    choice = choice or "auto"
    if choice not in INSTALLERS:
        raise UsageError(f"--installer must be one of {', '.join(INSTALLERS)}, not {choice!r}.")
    uv = find_uv() if choice in ("auto", "uv") else None
    if choice == "uv" and uv is None:
        raise UsageError("--installer uv: uv is not on PATH; install it (pip install uv).")
    return ("uv", uv) if uv else ("pip", None)


def _version_of(python: str) -> str | None:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return platform.python_version()
    try:
        out = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_python(recorded: str | None, requested: str | None, uv: str | None) -> tuple[str, str]:
    """An interpreter for the environment and its version: ``requested`` (X.Y or X.Y.Z) when
    given, else the recorded version exactly if one is found, else the same X.Y."""
    want = requested or recorded
    if not want or not re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", want):
        raise UsageError(
            f"--python must be a version such as 3.11 (got {want!r})."
            if requested
            else "The run has no recorded Python version: pass --python X.Y."
        )
    minor = ".".join(want.split(".")[:2])
    same_minor: list[tuple[str, str]] = []
    for name in (sys.executable, f"python{minor}", "python3", "python"):
        path = name if os.sep in name else shutil.which(name)
        version = _version_of(path) if path else None
        if not path or not version or not (version + ".").startswith(minor + "."):
            continue
        if version == want or version.startswith(want + "."):
            return path, version
        same_minor.append((path, version))
    if uv:
        out = subprocess.run([uv, "python", "find", want], capture_output=True, text=True)
        path = out.stdout.strip()
        version = _version_of(path) if out.returncode == 0 and path else None
        if path and version and (version == want or version.startswith(want + ".")):
            return path, version
    if same_minor and not requested:
        return same_minor[0]
    raise UsageError(
        f"No Python {want} found on PATH (looked for python{minor}): install it, or pass "
        "--python X.Y to build the environment with another Python."
    )


def _lineage_line() -> str:
    """The running jupyter-lineage as a requirement: the store it writes is the one we read."""
    dist = metadata.distribution(SELF)
    origin = dist_origin(dist)
    path = file_path(origin["url"]) if origin and origin.get("kind") == "directory" else None
    if origin and path and os.path.isdir(path):
        return f"-e {path}" if origin.get("editable") else path
    return f"{SELF}=={dist.version}"


def plan(environment: dict[str, Any]) -> list[str]:
    """The requirement lines that rebuild ``environment``; packages that cannot be had again
    (a local folder or file that is gone) are an error that names them."""
    lines, gone = [], []
    reqs = requirements(environment)
    for req in reqs:
        if req.name == SELF:
            continue
        local = req.local_path
        if local is not None and not os.path.exists(local):
            gone.append(f"{req.name} {req.version} (installed from {local}, which is gone)")
            continue
        lines.append(req.line)
    if gone:
        raise EnvironmentBuildError(
            f"Cannot rebuild the recorded environment: {'; '.join(gone)}. Restore that folder, "
            "or reproduce without --isolated."
        )
    lines.append(_lineage_line())
    if "ipykernel" not in {r.name for r in reqs}:
        lines.append("ipykernel")  # the kernel itself; recorded in every notebook run normally
    return lines


def env_key(python_version: str, lines: list[str]) -> str:
    data = json.dumps({"python": python_version, "requirements": sorted(lines)}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build per environment at a time, across processes (a second one waits, then reuses)."""
    with open(path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no cross-process lock; the marker still guards reuse
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], what: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise EnvironmentBuildError(f"Could not {what}: {exc}.") from None
    output = f"{proc.stdout}\n{proc.stderr}"
    if proc.returncode != 0:
        raise _InstallFailed(output)
    return output


class _InstallFailed(Exception):
    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output


def failed_requirements(output: str, lines: list[str]) -> list[str]:
    """The requirements the installer's error names, as we gave them."""
    failures = [x for x in output.lower().splitlines() if _FAILURE.search(x)]
    found = []
    for line in lines:
        head = line.split(" @ ", 1)[0].removeprefix("-e ").strip().lower()
        pattern = re.compile(rf"(?<![\w.-]){re.escape(head)}(?![\w.-])")
        if any(pattern.search(f) for f in failures):
            found.append(line)
    return found


def _last_error(output: str) -> str:
    """The installer's last error line, without its decorations (``╰─▶``, ``cause:``)."""
    lines = [re.sub(r"^[^\w]*(cause:\s*)?", "", x).strip() for x in output.splitlines()]
    lines = [x for x in lines if x]
    errors = [x for x in lines if _FAILURE.search(x)]
    return (errors or lines or ["no output"])[-1][:300]


def _create(tool: str, uv: str | None, python: str, env: Path) -> None:
    if tool == "uv" and uv:
        _run([uv, "venv", "--quiet", "--python", python, str(env)], "create the environment")
    else:
        # No pip inside: the host's pip installs into it (``pip --python``), so the environment
        # holds pip only when the run had it.
        _run([python, "-m", "venv", "--without-pip", str(env)], "create the environment")


def _install(tool: str, uv: str | None, env: Path, requirements_file: Path) -> None:
    target = str(_bin(env, "python"))
    if tool == "uv" and uv:
        cmd = [uv, "pip", "install", "--python", target, "-r", str(requirements_file)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            target,
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "-r",
            str(requirements_file),
        ]
    _run(cmd, "install the packages")


def _verify(env: Path, environment: dict[str, Any]) -> None:
    """Every recorded version is the installed one: an installer never substitutes silently."""
    out = _run([str(_bin(env, "python")), "-c", _VERSIONS], "list the installed packages")
    got = json.loads(out.strip().splitlines()[0] if out.strip() else "{}")
    wrong = []
    for req in requirements(environment):
        if req.name == SELF:
            continue
        have = got.get(req.name)
        if have != req.version:
            where = f" (built from {req.local_path})" if req.local_path else ""
            wrong.append(f"{req.name} {have or 'missing'} instead of {req.version}{where}")
    if wrong:
        raise EnvironmentBuildError(
            f"The rebuilt environment differs from the recorded one: {'; '.join(wrong)}. "
            "Nothing was substituted; reproduce without --isolated to run in this environment."
        )


def _kernelspec(env: Path, name: str, python_version: str, run_id: str) -> Path:
    folder = env / "lineage-jupyter"
    spec = folder / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    str(_bin(env, "python")),
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": f"Python {python_version} (environment of run {run_id[:8]})",
                "language": "python",
                "metadata": {"debugger": True},
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return folder


def prepare(
    environment: dict[str, Any] | None,
    *,
    run_id: str,
    python: str | None = None,
    installer: str | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> IsolatedEnv:
    """The environment of a run, built now or reused from the cache."""
    if not environment or not environment.get("packages"):
        raise UsageError(
            f"Run {run_id} has no recorded packages: there is no environment to rebuild."
        )
    started = time.monotonic()
    tool, uv = _installer(installer)
    interpreter, version = find_python(environment.get("python"), python, uv)
    lines = plan(environment)
    key = env_key(version, lines)
    root = envs_root()
    root.mkdir(parents=True, exist_ok=True)
    env = root / key
    kernel = f"lineage-{key[:12]}"
    with _locked(root / f"{key}.lock"):
        marker = env / MARKER
        if marker.is_file():
            return IsolatedEnv(
                env,
                _bin(env, "python"),
                version,
                kernel,
                env / "lineage-jupyter",
                json.loads(marker.read_text(encoding="utf-8")).get("installer", tool),
                True,
                time.monotonic() - started,
            )
        if env.exists():
            shutil.rmtree(env)  # an earlier build that did not finish
        if on_progress:
            on_progress(
                f"building the run's environment: {len(lines)} requirements, Python {version}, "
                f"{tool} (cached in {env})"
            )
        try:
            _create(tool, uv, interpreter, env)
            requirements_file = env / "lineage-requirements.txt"
            requirements_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            try:
                _install(tool, uv, env, requirements_file)
            except _InstallFailed as exc:
                named = failed_requirements(exc.output, lines)
                what = ", ".join(named) if named else "some recorded packages"
                raise EnvironmentBuildError(
                    f"Cannot install the recorded environment of run {run_id}: {what} cannot be "
                    f"installed ({tool}: {_last_error(exc.output)}). No other version is "
                    "substituted; reproduce without --isolated to run in this environment."
                ) from None
            _verify(env, environment)
            jupyter_dir = _kernelspec(env, kernel, version, run_id)
            seconds = time.monotonic() - started
            marker.write_text(
                json.dumps(
                    {
                        "run": run_id,
                        "python": version,
                        "installer": tool,
                        "requirements": lines,
                        "build_seconds": round(seconds, 3),
                    },
                    indent=1,
                ),
                encoding="utf-8",
            )
        except _InstallFailed as exc:
            shutil.rmtree(env, ignore_errors=True)
            raise EnvironmentBuildError(
                f"Could not build the environment of run {run_id} ({tool}: "
                f"{_last_error(exc.output)})."
            ) from None
        except BaseException:
            shutil.rmtree(env, ignore_errors=True)
            raise
    return IsolatedEnv(env, _bin(env, "python"), version, kernel, jupyter_dir, tool, False, seconds)


@contextlib.contextmanager
def kernel_visible(env: IsolatedEnv) -> Iterator[None]:
    """The environment's kernel on ``JUPYTER_PATH`` for this reproduction only; the user's
    kernelspecs are never touched."""
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(env.jupyter_dir), *([before] if before else [])]
    )
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before
