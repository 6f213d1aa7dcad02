"""`jupyter lineage reproduce --isolated` with the environment cached vs a plain `reproduce`.

A run is recorded in a small venv (this checkout + ipykernel, ~120 distributions); the isolated
environment is built once (its time is reported, not judged: it depends on the network and the
installers' caches), then both reproductions of the run are timed, interleaved. Both sides do
the same work (start a kernel in an environment with the same packages, run, compare) except
finding the cached environment."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from jupyter_lineage.pipeline.isolated import find_uv

from .common import Result

ROOT = Path(__file__).resolve().parent.parent


def _small_venv(base: Path) -> tuple[str, dict[str, str]]:
    venv = base / "small"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    uv = find_uv()
    install = [uv, "pip", "install", "--python", python] if uv else [python, "-m", "pip", "install"]
    subprocess.run(
        [*install, "--quiet", "-e", str(ROOT), "ipykernel"],
        check=True,
        timeout=1800,
        capture_output=True,
    )
    spec = base / "jupyter" / "kernels" / "small"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "small",
                "language": "python",
            }
        )
    )
    env = {
        **os.environ,
        "JUPYTER_PATH": str(base / "jupyter"),
        "JUPYTER_LINEAGE_DB": str(base / "l.db"),
        "JUPYTER_LINEAGE_ENVS": str(base / "envs"),
    }
    return python, env


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 1000")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import json, statistics")]
    nb.cells += [
        nbformat.v4.new_code_cell(f"print(statistics.mean(x * {i} for x in range(n)))")
        for i in range(8)
    ]
    nb.metadata["kernelspec"] = {"name": "small", "display_name": "small", "language": "python"}
    nbformat.write(nb, str(path))


def _lineage(args: list[str], cwd: str, env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_lineage", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"jupyter lineage {' '.join(args)}: {proc.stderr.strip()[-500:]}")
    return took, proc.stdout


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        _, env = _small_venv(Path(tmp))
        setup_s = time.perf_counter() - t
        _notebook(Path(tmp) / "nb.ipynb")
        _, out = _lineage(["run", "nb.ipynb", "--json"], tmp, env)
        run_id = json.loads(out)["id"]
        plain_cmd = ["reproduce", run_id, "--json"]
        isolated_cmd = ["reproduce", run_id, "--isolated", "--json"]
        build_s, out = _lineage(isolated_cmd, tmp, env)
        first = json.loads(out)
        if first["verdict"] != "identical":
            raise RuntimeError(
                f"isolated reproduction is {first['verdict']}: {first['differences']}"
            )
        _lineage(plain_cmd, tmp, env)  # warm-up
        plain, cached = [], []
        for _ in range(repeat):  # interleaved
            plain.append(_lineage(plain_cmd, tmp, env)[0])
            cached.append(_lineage(isolated_cmd, tmp, env)[0])
    ratio = statistics.median(cached) / statistics.median(plain)
    return [
        Result(
            "reproduce --isolated, cached venv, vs plain reproduce (wall time)",
            ratio,
            "x",
            "<= 1.10x",
            ratio <= 1.10,
            {
                "plain_reproduce_s": statistics.median(plain),
                "isolated_cached_s": statistics.median(cached),
                "isolated_first_build_s": build_s,
                "installer": first["isolated"]["installer"],
                "small_venv_setup_s": setup_s,
            },
        )
    ]
