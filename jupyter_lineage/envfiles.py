"""``jupyter lineage env``: a run's recorded packages as a file a package manager accepts.

Every distribution is pinned to its recorded version. Those installed from a local folder, a
VCS commit or an archive URL (PEP 610 ``direct_url.json``, recorded at capture) are written as
that direct reference, with a comment saying so; runs recorded before origins were captured
simply pin everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import UsageError

FORMATS = ("requirements", "pylock", "conda", "json")
FILENAMES = {
    "requirements": "requirements.txt",
    "pylock": "pylock.toml",
    "conda": "environment.yml",
    "json": "environment.json",
}
_SYS_PLATFORM = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}


@dataclass(frozen=True)
class Requirement:
    """One recorded distribution and how pip can install it again."""

    name: str
    version: str
    origin: dict[str, Any] | None
    line: str  # pip requirement syntax: ``name==1.0``, ``name @ url``, ``-e /path``
    note: str | None  # why it is not a plain pin

    @property
    def local_path(self) -> str | None:
        return file_path((self.origin or {}).get("url", ""))


def file_path(url: str) -> str | None:
    """The folder or file a ``file://`` URL points at."""
    return unquote(urlsplit(url).path) if url.startswith("file:") else None


def _vcs_url(origin: dict[str, Any]) -> str:
    url = origin["url"]
    vcs = origin.get("vcs") or "git"
    if not url.startswith(f"{vcs}+"):
        url = f"{vcs}+{url}"
    if origin.get("commit"):
        url += f"@{origin['commit']}"
    return url


def requirement(name: str, version: str, origin: dict[str, Any] | None) -> Requirement:
    kind = (origin or {}).get("kind")
    sub = (origin or {}).get("subdirectory")
    fragment = f"#subdirectory={sub}" if sub else ""
    if origin and kind == "vcs":
        commit = origin.get("commit") or "unknown commit"
        return Requirement(
            name,
            version,
            origin,
            f"{name} @ {_vcs_url(origin)}{fragment}",
            f"{name} {version}, installed from {origin.get('vcs') or 'vcs'} at {commit[:12]}",
        )
    if origin and kind == "directory":
        editable = bool(origin.get("editable"))
        path = file_path(origin["url"]) or origin["url"]
        line = f"-e {path}{fragment}" if editable else f"{name} @ {origin['url']}{fragment}"
        how = "an editable install" if editable else "installed"
        return Requirement(
            name, version, origin, line, f"{name} {version}, {how} from a local folder"
        )
    if origin and kind == "archive":
        digest = next(iter(sorted((origin.get("hashes") or {}).items())), None)
        pin = f"#{digest[0]}={digest[1]}" if digest else ""
        where = "a local file" if origin["url"].startswith("file:") else "an archive URL"
        return Requirement(
            name,
            version,
            origin,
            f"{name} @ {origin['url']}{pin or fragment}",
            f"{name} {version}, installed from {where}",
        )
    return Requirement(name, version, None, f"{name}=={version}", None)


def requirements(environment: dict[str, Any]) -> list[Requirement]:
    origins = environment.get("origins") or {}
    return [
        requirement(name, version, origins.get(name))
        for name, version in sorted((environment.get("packages") or {}).items())
        if version
    ]


def _header(run: dict[str, Any], env: dict[str, Any]) -> list[str]:
    where = " ".join(str(env[k]) for k in ("system", "machine") if env.get(k))
    python = f"Python {env.get('python') or '?'} ({env.get('implementation') or 'CPython'})"
    return [
        f"Packages of jupyter-lineage run {run['id']}",
        f"notebook {run.get('notebook') or '-'}, started {run.get('started') or '-'}",
        f"{python}{' on ' + where if where else ''}",
    ]


def _requirements_txt(run: dict[str, Any], env: dict[str, Any]) -> str:
    lines = [f"# {h}" for h in _header(run, env)]
    lines.append("# Exact pins: create the environment with that Python, then pip install -r this.")
    for req in requirements(env):
        lines.append(f"{req.line}  # {req.note}" if req.note else req.line)
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_inline(table: dict[str, Any]) -> str:
    parts = []
    for key, value in table.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict):
            text = _toml_inline(value)
        else:
            text = _toml_str(str(value))
        parts.append(f"{key} = {text}")
    return "{" + ", ".join(parts) + "}"


def _pylock(run: dict[str, Any], env: dict[str, Any]) -> str:
    """PEP 751. What the store cannot supply is left out and said so: index packages get no
    ``wheels``/``sdist`` (file names, URLs and hashes are not recorded), and an archive whose
    hash pip did not record gets no ``archive`` table (the spec requires its hashes)."""
    lines = [f"# {h}" for h in _header(run, env)]
    lines += [
        "# Names and exact versions as recorded. Packages from an index carry no `wheels` or",
        "# `sdist` entries: their file names, URLs and hashes are not recorded, so a PEP 751",
        "# installer cannot fetch them from this file alone; `jupyter lineage env RUN --format",
        "# requirements` gives a list pip installs. Local folders and VCS commits are source",
        "# trees: per the spec they carry no version (the recorded one is under [packages.tool]).",
        'lock-version = "1.0"',
    ]
    platform = _SYS_PLATFORM.get(env.get("system") or "")
    markers = []
    if platform:
        markers.append(f"sys_platform == '{platform}'")
    if env.get("machine"):
        markers.append(f"platform_machine == '{env['machine']}'")
    if markers:
        lines.append(f"environments = [{_toml_str(' and '.join(markers))}]")
    if env.get("python"):
        lines.append(f"requires-python = {_toml_str('==' + env['python'])}")
    lines.append('created-by = "jupyter-lineage"')
    for req in requirements(env):
        lines += ["", "[[packages]]", f"name = {_toml_str(req.name)}"]
        origin = req.origin or {}
        kind = origin.get("kind")
        source: dict[str, Any] | None = None
        tool: dict[str, Any] = {}
        if kind == "vcs":
            source = {"type": origin.get("vcs") or "git", "url": origin["url"]}
            if origin.get("requested_revision"):
                source["requested-revision"] = origin["requested_revision"]
            source["commit-id"] = origin.get("commit") or ""
            if origin.get("subdirectory"):
                source["subdirectory"] = origin["subdirectory"]
            tool["recorded-version"] = req.version
        elif kind == "directory":
            source = {
                "path": req.local_path or origin["url"],
                "editable": bool(origin.get("editable")),
            }
            if origin.get("subdirectory"):
                source["subdirectory"] = origin["subdirectory"]
            tool["recorded-version"] = req.version
        elif kind == "archive":
            lines.append(f"version = {_toml_str(req.version)}")
            if origin.get("hashes"):
                key = "path" if req.local_path else "url"
                source = {key: req.local_path or origin["url"], "hashes": origin["hashes"]}
            else:
                tool["archive-url"] = origin["url"]  # no hash recorded: not a valid archive table
        else:
            lines.append(f"version = {_toml_str(req.version)}")
        if source is not None:
            lines.append(f"{kind} = {_toml_inline(source)}")
        if tool:
            lines += ["[packages.tool.jupyter-lineage]"]
            lines += [f"{k} = {_toml_str(str(v))}" for k, v in tool.items()]
    lines += [
        "",
        "[tool.jupyter-lineage]",
        f"run = {_toml_str(run['id'])}",
        f"python = {_toml_str(env.get('python') or '')}",
        f"implementation = {_toml_str(env.get('implementation') or '')}",
    ]
    return "\n".join(lines) + "\n"


def _conda(run: dict[str, Any], env: dict[str, Any]) -> str:
    """An environment.yml: Python pinned as conda knows it, every distribution under ``pip:``
    (they were installed by pip, not conda, as far as the record tells)."""
    lines = [f"# {h}" for h in _header(run, env)]
    lines += [
        f"name: lineage-{run['id'][:8]}",
        "channels:",
        "  - conda-forge",
        "dependencies:",
    ]
    if env.get("python"):
        lines.append(f"  - python={env['python']}")
    lines += ["  - pip", "  - pip:"]
    for req in requirements(env):
        entry = f"      - {json.dumps(req.line)}"
        lines.append(f"{entry}  # {req.note}" if req.note else entry)
    return "\n".join(lines) + "\n"


def _json(run: dict[str, Any], env: dict[str, Any]) -> str:
    data = {
        "run": run["id"],
        "notebook": run.get("notebook"),
        "python": env.get("python"),
        "implementation": env.get("implementation"),
        "system": env.get("system"),
        "machine": env.get("machine"),
        "packages": [
            {"name": r.name, "version": r.version, "requirement": r.line, "origin": r.origin}
            for r in requirements(env)
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], str]] = {
    "requirements": _requirements_txt,
    "pylock": _pylock,
    "conda": _conda,
    "json": _json,
}


def env_file(run: dict[str, Any], fmt: str) -> dict[str, Any]:
    """What ``jupyter lineage env RUN --json``, the REST API and ``api.env`` return."""
    return {"run": run["id"], "format": fmt, "text": render(run, fmt)}


def render(run: dict[str, Any], fmt: str) -> str:
    """RUN (as ``show`` returns it) as ``fmt``: requirements, pylock, conda or json."""
    if fmt not in RENDERERS:
        raise UsageError(f"Unknown environment format {fmt!r}: use one of {', '.join(FORMATS)}.")
    env = run.get("environment")
    if not env or not env.get("packages"):
        raise UsageError(
            f"Run {run['id']} has no recorded packages (its kernel ended before the environment "
            "was captured): there is nothing to export."
        )
    return RENDERERS[fmt](run, env)
