"""``reproduce --isolated`` end to end with real installs: a run recorded in a small venv with one
version of a throwaway package, that package upgraded, then the run rebuilt with uv and with pip.

The throwaway package (three versions, wheels written by hand) is served from a local folder
through the installers' own find-links settings; everything else comes from the package index
(or the installers' caches)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_lineage.pipeline.isolated import find_uv

from .conftest import ROOT

pytestmark = pytest.mark.timeout(1200)
PROBE = "lineageprobe"


def _wheel(folder: Path, version: str) -> None:
    dist = f"{PROBE}-{version}.dist-info"
    files = {
        f"{PROBE}.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={b64},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{PROBE}-{version}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)


class Small:
    """A small venv with its own kernelspec, and what the CLI needs to find both."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.links = base / "links"
        self.venv = base / "small"
        self.envs = base / "envs"
        self.db = base / "project" / ".lineage" / "lineage.db"
        self.project = base / "project"

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def env(self, **extra: str) -> dict[str, str]:
        find_links = " ".join(filter(None, [os.environ.get("PIP_FIND_LINKS"), str(self.links)]))
        return {
            **os.environ,
            "JUPYTER_PATH": str(self.base / "jupyter"),
            "JUPYTER_LINEAGE_DB": str(self.db),
            "JUPYTER_LINEAGE_ENVS": str(self.envs),
            "PIP_FIND_LINKS": find_links,
            "UV_FIND_LINKS": str(self.links),
            **extra,
        }

    def install(self, *requirements: str) -> None:
        uv = find_uv()
        if uv:
            cmd = [uv, "pip", "install", "--quiet", "--python", self.python]
        else:
            cmd = [self.python, "-m", "pip", "install", "--quiet"]
        proc = subprocess.run(
            [*cmd, "--find-links", str(self.links), *requirements],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]

    def lineage(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_lineage", *args],
            capture_output=True,
            text=True,
            cwd=self.project,
            env=self.env(**env),
            timeout=900,
        )

    def run(self) -> str:
        proc = self.lineage("run", "probe.ipynb", "--json")
        assert proc.returncode == 0, proc.stderr
        return str(json.loads(proc.stdout)["id"])


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Small:
    """python -m venv + this checkout (editable) + ipykernel + lineageprobe 1.0; a notebook
    that prints the probe's version, run in that venv's kernel."""
    s = Small(tmp_path_factory.mktemp("isolated"))
    s.links.mkdir()
    for version in ("1.0", "2.0", "3.0"):
        _wheel(s.links, version)
    subprocess.run([sys.executable, "-m", "venv", str(s.venv)], check=True, timeout=300)
    s.install("-e", str(ROOT), "ipykernel", f"{PROBE}==1.0")
    spec = s.base / "jupyter" / "kernels" / "small"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [s.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "small",
                "language": "python",
            }
        )
    )
    s.project.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("label = 'v'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(f"import {PROBE} as probe"),
        nbformat.v4.new_code_cell("print(label, probe.VERSION)"),
    ]
    nb.metadata["kernelspec"] = {"name": "small", "display_name": "small", "language": "python"}
    nbformat.write(nb, str(s.project / "probe.ipynb"))
    return s


@pytest.fixture(scope="module")
def recorded(small: Small) -> str:
    """A run with lineageprobe 1.0; afterwards the small venv has 2.0."""
    run_id = small.run()
    small.install(f"{PROBE}==2.0")
    return run_id


def test_plain_reproduce_names_the_version_change_and_suggests_isolated(
    small: Small, recorded: str
) -> None:
    proc = small.lineage("reproduce", recorded)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("differs:")
    assert f"cell 2 printed something else (uses {PROBE} 1.0 -> 2.0)" in out
    assert f"package {PROBE}: 1.0 -> 2.0" in out
    assert f"jupyter lineage reproduce {recorded} --isolated" in out


def _reproduce_isolated(small: Small, run_id: str, *args: str, **env: str) -> dict[str, Any]:
    started = time.monotonic()
    proc = small.lineage("reproduce", run_id, "--isolated", "--json", *args, **env)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    report["wall_s"] = took
    return report


def test_isolated_installs_the_recorded_version_then_reuses_the_venv(
    small: Small, recorded: str
) -> None:
    first = _reproduce_isolated(small, recorded)
    assert first["verdict"] == "identical", first["differences"]
    assert first["environment"] == {} and first["cells"] == []
    assert first["isolated"]["reused"] is False
    assert first["isolated"]["installer"] == ("uv" if find_uv() else "pip")
    again = _reproduce_isolated(small, recorded)
    assert again["verdict"] == "identical"
    assert again["isolated"]["reused"] is True
    assert again["isolated"]["path"] == first["isolated"]["path"]
    assert Path(first["isolated"]["path"]).parent == small.envs
    shown = json.loads(small.lineage("show", again["reproduction"], "--json").stdout)
    assert shown["environment"]["packages"][PROBE] == "1.0"
    assert shown["environment"]["executable"].startswith(first["isolated"]["path"])
    # The private kernelspec lives in the environment, never among the user's kernelspecs.
    from jupyter_client.kernelspec import KernelSpecManager

    assert first["isolated"]["kernel"] not in KernelSpecManager().find_kernel_specs()
    print(
        f"\nisolated reproduce ({first['isolated']['installer']}): first {first['wall_s']:.1f} s "
        f"(build {first['isolated']['seconds']:.1f} s), reused {again['wall_s']:.1f} s"
    )


def test_isolated_with_pip_builds_the_same_environment(small: Small, recorded: str) -> None:
    report = _reproduce_isolated(
        small, recorded, "--installer", "pip", JUPYTER_LINEAGE_ENVS=str(small.base / "envs-pip")
    )
    assert report["verdict"] == "identical", report["differences"]
    assert report["isolated"]["installer"] == "pip" and report["isolated"]["reused"] is False
    print(f"\nisolated reproduce (pip): first {report['wall_s']:.1f} s")


def test_an_uninstallable_pin_is_a_one_line_error(small: Small, recorded: str) -> None:
    small.install(f"{PROBE}==3.0")
    run_id = small.run()
    gone = small.base / "gone"
    gone.mkdir()
    shutil.move(small.links / f"{PROBE}-3.0-py3-none-any.whl", gone)
    before = sorted(p.name for p in small.envs.iterdir()) if small.envs.exists() else []
    for installer in ("auto", "pip"):
        proc = small.lineage("reproduce", run_id, "--isolated", "--installer", installer)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        error = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
        assert len(error) == 1 and "Traceback" not in proc.stderr
        assert f"{PROBE}==3.0 cannot be installed" in error[0]
        assert "No other version is substituted" in error[0]
    after = sorted(p.name for p in small.envs.iterdir() if not p.name.endswith(".lock"))
    assert after == [b for b in before if not b.endswith(".lock")]  # no half-built venv left
