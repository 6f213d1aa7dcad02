"""Secrets never reach the store from what a program printed or raised.

:func:`redact` is for cell outputs and error values: every URL cleaned (:mod:`jupyter_lineage.urls`),
and the values of this process's environment variables replaced by ``[redacted $NAME]`` — every
value of a variable named like a secret, and every value of 8 characters or more of any other
variable (except a few that hold no secret, such as ``PATH`` or ``HOME``, and values that are
paths of existing files).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from .urls import is_secret_name, scrub_text

# Variables that hold no secret and whose values are common in output (paths, locale, shell).
_HARMLESS = {
    "PATH",
    "HOME",
    "PWD",
    "OLDPWD",
    "SHELL",
    "TERM",
    "LANG",
    "LANGUAGE",
    "USER",
    "LOGNAME",
    "HOSTNAME",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SHLVL",
    "_",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "MPLBACKEND",
    "JUPYTER_LINEAGE_NOTEBOOK",
    "JUPYTER_LINEAGE_RUN_ID",
    "JUPYTER_LINEAGE_DB",
    "JPY_SESSION_NAME",
}
_TRIVIAL = {"true", "false", "none", "null", "yes", "no", "on", "off"}
_cache: tuple[tuple[tuple[str, str], ...], re.Pattern[str] | None, dict[str, str]] | None = None


def _is_path(value: str) -> bool:
    parts = [p for p in value.split(os.pathsep) if p]
    return bool(parts) and all(os.path.isabs(p) and os.path.exists(p) for p in parts)


def _secret_values(environ: Mapping[str, str]) -> dict[str, str]:
    """value -> the variable it comes from, for every value worth hiding."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        if not value or value.strip().lower() in _TRIVIAL or name in _HARMLESS:
            continue  # a harmless name first: `PWD` (the working folder) reads like a password
        if is_secret_name(name):
            if len(value) < 4:
                continue
        elif len(value) < 8 or name.startswith(("LC_", "XDG_")) or _is_path(value):
            continue
        found.setdefault(value, name)
        escaped = repr(value)[1:-1]  # as print(os.environ) shows it
        if escaped != value:
            found.setdefault(escaped, name)
    return found


def _pattern(environ: Mapping[str, str]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    global _cache
    key = tuple(sorted(environ.items()))
    if _cache is not None and _cache[0] == key:
        return _cache[1], _cache[2]
    values = _secret_values(environ)
    pattern = (
        re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
        if values
        else None
    )
    _cache = (key, pattern, values)
    return pattern, values


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Printed or raised text as stored: URLs cleaned, environment values replaced."""
    text = scrub_text(text)
    pattern, values = _pattern(os.environ if environ is None else environ)
    if pattern is None:
        return text
    return pattern.sub(lambda m: f"[redacted ${values[m.group(0)]}]", text)
