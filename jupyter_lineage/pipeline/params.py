"""Parameters as papermill understands them, checked against the notebook before anything runs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import yaml

from ..errors import UsageError


def resolve_type(value: str) -> Any:
    """papermill's own inference for ``-p NAME VALUE``: True/False/None, int, float, else text."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def collect(
    pairs: Iterable[tuple[str, str]] = (),
    yaml_texts: Iterable[str] = (),
    yaml_files: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge ``-f FILE``, then ``-y YAML``, then ``-p NAME VALUE`` (later wins), as papermill does."""
    params: dict[str, Any] = {}
    for path in yaml_files:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"Cannot read the parameters file {path}: {exc.strerror}.") from None
        params.update(_yaml_mapping(text, f"the parameters file {path}"))
    for text in yaml_texts:
        params.update(_yaml_mapping(text, "-y"))
    for name, value in pairs:
        params[name] = resolve_type(value)
    return params


def _yaml_mapping(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where} is not valid YAML ({str(exc).splitlines()[0]}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{where} must be a YAML mapping of NAME: VALUE.")
    return {str(k): v for k, v in data.items()}


def load_notebook(path: str | os.PathLike[str]) -> nbformat.NotebookNode:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"Notebook {path} does not exist.")
    if not p.is_file():
        raise UsageError(f"{path} is not a notebook file.")
    try:
        return nbformat.read(str(p), as_version=4)
    except Exception as exc:
        raise UsageError(f"{path} is not a readable notebook ({type(exc).__name__}).") from None


def parameters_cell(nb: nbformat.NotebookNode) -> int | None:
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def declared_parameters(path: str) -> dict[str, Any]:
    import papermill

    return dict(papermill.inspect_notebook(path))


def validate(path: str, nb: nbformat.NotebookNode, params: dict[str, Any]) -> None:
    """Refuse parameters the notebook cannot take, instead of papermill's easy-to-miss warning."""
    for name in params:
        if not str(name).isidentifier():
            raise UsageError(f"'{name}' is not a valid parameter name.")
    if not params:
        return
    if parameters_cell(nb) is None:
        names = ", ".join(params)
        raise UsageError(
            f"{path} has no cell tagged 'parameters', so {names} cannot be injected. Tag the cell "
            "that sets the defaults with 'parameters' (JupyterLab: Property Inspector > Cell Tags)."
        )
    known = declared_parameters(path)
    unknown = [n for n in params if n not in known]
    if unknown:
        defined = ", ".join(known) or "nothing"
        raise UsageError(
            f"{path}'s parameters cell does not define {', '.join(unknown)} (it defines: "
            f"{defined}). Check the spelling, or add it to that cell."
        )
