"""Why a stage must run again: its code, an input or output on disk, a package it imports
(``env="strict"``), or a stage upstream that runs again. One reason per line, each saying
what changed from what to what ("input data/features.csv changed a1b2→c3d4")."""

from __future__ import annotations

import functools
import platform
import re
import sys
from importlib import metadata
from typing import Any

from ..errors import UsageError
from ..staleness import Disk
from ..store import Store, details, lineage
from .dag import Pipeline, Stage, current_code, recorded_code

ENV_MODES = ("ignore", "strict")
_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., \t]+))", re.M)


def short(digest: str | None) -> str:
    if not digest:
        return "none"
    return digest.removeprefix("blake3:")[:4]


def reason(what: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"what": what, "text": text, **extra}


def imported_modules(sources: list[str]) -> set[str]:
    """Top-level modules the code imports (``import a.b as c``, ``from a import b``)."""
    found: set[str] = set()
    for source in sources:
        for m in _IMPORT.finditer(source):
            if m.group(1):
                found.add(m.group(1).split(".")[0])
                continue
            for part in m.group(2).split(","):
                words = part.split()
                if words:
                    found.add(words[0].split(".")[0])
    return found


@functools.lru_cache(maxsize=1)
def _distributions_of_modules() -> dict[str, list[str]]:
    return {m: list(d) for m, d in metadata.packages_distributions().items()}


def distributions(modules: set[str]) -> set[str]:
    """The installed distributions providing these modules (sklearn -> scikit-learn), as
    environment records name them (lower case, dashes). The standard library is skipped, and a
    distribution named as the module is found directly: only other names need the scan of
    every installed distribution's files (about a second, once per process)."""
    out: set[str] = set()
    for module in sorted(modules - set(sys.stdlib_module_names) - set(sys.builtin_module_names)):
        try:
            name = metadata.distribution(module).metadata["Name"]
        except (metadata.PackageNotFoundError, ValueError):
            name = None
        if name:
            out.add(str(name).lower().replace("_", "-"))
            continue
        for dist in _distributions_of_modules().get(module, []):
            out.add(dist.lower().replace("_", "-"))
    return out


def current_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def run_sources(store: Store, run: dict[str, Any]) -> list[str]:
    """The code a run executed, cell by cell (a cached run: its original's)."""
    return [c["source"] or "" for c in lineage.cells(store, run.get("cached_from") or run["id"])]


def environment_reasons(store: Store, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The Python version and the versions of the packages the run's code imported, as
    recorded against what is installed here now."""
    recorded = details.environment(store, run.get("environment_id"))
    if not recorded:
        return []
    out = []
    python = recorded.get("python")
    if python and python != platform.python_version():
        out.append(
            reason(
                "python",
                f"Python {python}→{platform.python_version()}",
                recorded=python,
                current=platform.python_version(),
            )
        )
    sources = run_sources(store, run)
    packages = recorded.get("packages") or {}
    for dist in sorted(distributions(imported_modules(sources))):
        was, now = packages.get(dist), current_version(dist)
        if was != now:
            out.append(
                reason(
                    "package",
                    f"package {dist} {was or 'absent'}→{now or 'absent'} (imported)",
                    package=dist,
                    recorded=was,
                    current=now,
                )
            )
    return out


def own_reasons(
    store: Store, pipeline: Pipeline, stage: Stage, disk: Disk, *, env: str = "ignore"
) -> list[dict[str, Any]]:
    """Why this stage, by itself, is out of date (nothing about its upstream)."""
    if env not in ENV_MODES:
        raise UsageError(f"--env must be one of {', '.join(ENV_MODES)}, not {env!r}.")
    out = []
    if stage.run_kind != "interactive":
        was, now = recorded_code(store, stage.run, stage.kind), current_code(stage)
        if was != now:
            out.append(
                reason("code", f"code changed {short(was)}→{short(now)}", recorded=was, current=now)
            )
    for path, recorded in sorted(stage.deps.items()):
        if not recorded:
            continue  # could not be hashed when read: no version to compare
        now = disk.hash(path)
        if now != recorded:
            name = pipeline.name(path)
            text = (
                f"input {name} is missing"
                if now is None
                else f"input {name} changed {short(recorded)}→{short(now)}"
            )
            out.append(reason("input", text, path=path, recorded=recorded, current=now))
    for path, recorded in sorted(stage.outs.items()):
        if not recorded:
            continue
        now = disk.hash(path)
        if now != recorded:
            name = pipeline.name(path)
            text = f"output {name} is missing" if now is None else f"output {name} was modified"
            out.append(reason("output", text, path=path, recorded=recorded, current=now))
    if env == "strict":
        out += environment_reasons(store, stage.run)
    return out


def evaluate(
    store: Store,
    pipeline: Pipeline,
    selected: set[str],
    *,
    env: str = "ignore",
    force: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """For each selected stage, in order, why it runs again (empty: up to date)."""
    disk = Disk(store)
    found: dict[str, list[dict[str, Any]]] = {}
    for path in pipeline.order:
        if path not in selected:
            continue
        stage = pipeline.stages[path]
        reasons = own_reasons(store, pipeline, stage, disk, env=env)
        for up in sorted(stage.upstream):
            if found.get(up):
                reasons.append(
                    reason(
                        "upstream",
                        f"upstream {pipeline.name(up)} runs again",
                        stage=up,
                    )
                )
        if force and not reasons:
            reasons.append(reason("forced", "--force"))
        found[path] = reasons
    return found
