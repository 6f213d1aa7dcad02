"""The inferred pipeline as data and as text: JSON (the shape the CLI, Python API and REST API
share), DOT, Mermaid, a ``dvc.yaml`` and a GitHub Actions workflow.

Every text format is drawn from the JSON shape, so all of them show the same pipeline.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from typing import Any

import yaml

from ..errors import UsageError
from ..export.graphs import _dot_text, _mermaid_text
from .dag import Pipeline


def to_json(
    pipeline: Pipeline, selected: set[str], reasons: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Stages in run order, each with its run, parameters, files and why it is stale."""
    out_stages = []
    edges = []
    for path in pipeline.order:
        if path not in selected:
            continue
        s = pipeline.stages[path]
        deps = []
        for dep, digest in sorted(s.deps.items()):
            writer = pipeline.writer_of(dep)
            deps.append(
                {
                    "path": dep,
                    "name": pipeline.name(dep),
                    "hash": digest,
                    "stage": writer.path if writer else None,
                }
            )
        outs = [
            {
                "path": out,
                "name": pipeline.name(out),
                "hash": digest,
                "stages": sorted(d for d in s.downstream if out in pipeline.stages[d].deps),
            }
            for out, digest in sorted(s.outs.items())
        ]
        why = reasons.get(path, [])
        out_stages.append(
            {
                "path": path,
                "name": pipeline.name(path),
                "kind": s.kind,
                "run": s.run["id"],
                "run_kind": s.run_kind,
                "cached_from": s.run.get("cached_from"),
                "started": s.run["started"],
                "cwd": s.run.get("cwd"),
                "parameters": s.parameters,
                "deps": deps,
                "outs": outs,
                "upstream": sorted(s.upstream & selected),
                "downstream": sorted(s.downstream & selected),
                "stale": bool(why),
                "reasons": why,
            }
        )
        for up in sorted(s.upstream & selected):
            files = sorted(set(pipeline.stages[up].outs) & set(s.deps))
            edges.append({"source": up, "target": path, "files": files})
    return {
        "root": pipeline.root,
        "stages": out_stages,
        "edges": edges,
        "stale": [s["path"] for s in out_stages if s["stale"]],
        "ignored": pipeline.ignored,
    }


def _files(data: dict[str, Any]) -> dict[str, str]:
    """Every file of the drawing -> its node id (inputs no stage wrote, and products)."""
    names: dict[str, str] = {}
    for s in data["stages"]:
        for f in (*s["deps"], *s["outs"]):
            names.setdefault(f["path"], f"f{len(names)}")
    return names


def _stage_label(s: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in list(s["parameters"].items())[:4])
    lines = [s["name"], f"run {s['run'][:13]}" + (" (stale)" if s["stale"] else "")]
    return "\n".join([*lines, params] if params else lines)


def render_dot(data: dict[str, Any]) -> str:
    out = ["digraph pipeline {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    files = _files(data)
    for i, s in enumerate(data["stages"]):
        color = "orange" if s["stale"] else "palegreen"
        out.append(
            f'  "s{i}" [label="{_dot_text(_stage_label(s))}", shape=box, style="rounded,filled",'
            f' fillcolor={color}, tooltip="{_dot_text(s["path"])}"];'
        )
    names = {f["path"]: f["name"] for s in data["stages"] for f in (*s["deps"], *s["outs"])}
    for path, key in files.items():
        out.append(f'  "{key}" [label="{_dot_text(names[path])}", shape=note];')
    for i, s in enumerate(data["stages"]):
        out += [f'  "{files[f["path"]]}" -> "s{i}";' for f in s["deps"]]
        out += [f'  "s{i}" -> "{files[f["path"]]}";' for f in s["outs"]]
    out.append("}")
    return "\n".join(out) + "\n"


def render_mermaid(data: dict[str, Any]) -> str:
    out = ["flowchart LR"]
    files = _files(data)
    for i, s in enumerate(data["stages"]):
        cls = ":::stale" if s["stale"] else ":::fresh"
        out.append(f'  s{i}["{_mermaid_text(_stage_label(s))}"]{cls}')
    names = {f["path"]: f["name"] for s in data["stages"] for f in (*s["deps"], *s["outs"])}
    for path, key in files.items():
        out.append(f'  {key}[/"{_mermaid_text(names[path])}"/]')
    for i, s in enumerate(data["stages"]):
        out += [f"  {files[f['path']]} --> s{i}" for f in s["deps"]]
        out += [f"  s{i} --> {files[f['path']]}" for f in s["outs"]]
    out.append("  classDef stale fill:#fde2c8,stroke:#d9822b")
    out.append("  classDef fresh fill:#e3f4e3,stroke:#4a9a4a")
    return "\n".join(out) + "\n"


def _stage_names(data: dict[str, Any]) -> dict[str, str]:
    """A unique, DVC-valid stage name for each notebook: its stem, made unique with its folder."""
    names: dict[str, str] = {}
    for s in data["stages"]:
        stem = os.path.splitext(os.path.basename(s["path"]))[0]
        base = "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "stage"
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[s["path"]] = name
    return names


def _rel(path: str, start: str) -> str:
    rel = os.path.relpath(path, start)
    return rel.replace(os.sep, "/")


def _run_command(s: dict[str, Any], wdir: str) -> str:
    args = ["jupyter", "lineage", "run", _rel(s["path"], wdir)]
    if s["cwd"] and os.path.abspath(s["cwd"]) != os.path.dirname(s["path"]):
        args += ["--cwd", "."]
    for name, value in s["parameters"].items():
        args += ["-p", str(name), "None" if value is None else str(value)]
    return shlex.join(args) if s["kind"] == "notebook" else shlex.join(["python", args[3]])


def render_dvc(data: dict[str, Any], base: str) -> str:
    """A ``dvc.yaml`` for the folder ``base``: one stage per notebook, run by ``jupyter lineage
    run`` in the kernel's folder, its notebook and inputs as deps, its products as outs."""
    names = _stage_names(data)
    stages_out: dict[str, Any] = {}
    for s in data["stages"]:
        wdir = os.path.abspath(s["cwd"] or os.path.dirname(s["path"]))
        entry: dict[str, Any] = {"cmd": _run_command(s, wdir)}
        rel_wdir = _rel(wdir, base)
        if rel_wdir != ".":
            entry["wdir"] = rel_wdir
        entry["deps"] = [_rel(s["path"], wdir)] + [_rel(f["path"], wdir) for f in s["deps"]]
        if s["outs"]:
            entry["outs"] = [_rel(f["path"], wdir) for f in s["outs"]]
        stages_out[names[s["path"]]] = entry
    head = (
        "# Inferred by `jupyter lineage dag --format dvc` from each notebook's latest successful\n"
        "# run; parameters are in each stage's command. Run it with `dvc repro`.\n"
    )
    return head + yaml.safe_dump({"stages": stages_out}, sort_keys=False, width=1000)


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (a step's script) as literal blocks, as people write workflows."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def render_github_actions(data: dict[str, Any], base: str, packages: list[str]) -> str:
    """A workflow that brings the pipeline up to date with ``jupyter lineage repro`` (the
    stages run in order when no store was restored) and keeps the store as an artifact."""
    first_runs = []
    for s in data["stages"]:
        wdir = os.path.abspath(s["cwd"] or os.path.dirname(s["path"]))
        cmd = _run_command(s, wdir)
        rel = _rel(wdir, base)
        first_runs.append(cmd if rel == "." else f"(cd {shlex.quote(rel)} && {cmd})")
    script = (
        "if [ -f .lineage/lineage.db ]; then\n  jupyter lineage repro\nelse\n  "
        + " &&\n  ".join(first_runs or ["true"])
        + "\nfi\n"
    )
    workflow: dict[str, Any] = {
        "name": "notebook pipeline",
        "on": {"push": None, "workflow_dispatch": None},
        "jobs": {
            "repro": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "actions/checkout@v4"},
                    {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
                    {
                        "name": "Install",
                        "run": shlex.join(["pip", "install", "jupyter-lineage", *packages]),
                    },
                    {
                        "name": "Restore the lineage store",
                        "uses": "actions/cache@v4",
                        "with": {
                            "path": ".lineage/lineage.db",
                            "key": "lineage-${{ github.run_id }}",
                            "restore-keys": "lineage-",
                        },
                    },
                    {"name": "Bring the pipeline up to date", "run": script},
                    {
                        "uses": "actions/upload-artifact@v4",
                        "with": {"name": "lineage-store", "path": ".lineage/lineage.db"},
                    },
                ],
            }
        },
    }
    head = (
        "# Inferred by `jupyter lineage dag --format github-actions`: save it as\n"
        "# .github/workflows/pipeline.yml at the root of the repository.\n"
    )
    return head + yaml.dump(workflow, Dumper=_BlockDumper, sort_keys=False, width=1000)


TEXT_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "dot": render_dot,
    "mermaid": render_mermaid,
}
FORMATS = ("tree", "json", "dot", "mermaid", "dvc", "github-actions")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return fmt
