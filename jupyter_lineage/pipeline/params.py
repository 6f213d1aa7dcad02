"""Parameters as papermill understands them, checked against the notebook before anything runs."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
import yaml

from ..errors import UsageError
from ..inputs import check_path


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
            text = Path(check_path("--parameters-file", path)).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"Cannot read the parameters file {path}: {exc.strerror}.") from None
        except UnicodeDecodeError:
            raise UsageError(
                f"The parameters file {path} is not text (UTF-8); give a YAML file of NAME: VALUE."
            ) from None
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
    p = Path(check_path("the notebook", path))
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


def kernel_name(nb: nbformat.NotebookNode) -> str | None:
    """The notebook's kernel, when its metadata names one (it may be missing or malformed)."""
    spec = nb.metadata.get("kernelspec")
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else None


def declared_parameters(
    nb: nbformat.NotebookNode, kernel: str | None = None, language: str | None = None
) -> dict[str, Any]:
    """What the parameters cell defines, read by papermill's translator for the kernel's
    language (given, so a notebook without kernel metadata still works with --kernel)."""
    from papermill.exceptions import PapermillException
    from papermill.translators import papermill_translators

    index = parameters_cell(nb)
    if index is None:
        return {}
    kernel = kernel or kernel_name(nb) or "python3"
    if language is None:
        info = nb.metadata.get("language_info")
        language = info.get("name") if isinstance(info, dict) else None
    try:
        translator = papermill_translators.find_translator(kernel, language or "python")
    except PapermillException:
        raise UsageError(
            f"papermill cannot pass parameters to a notebook of kernel '{kernel}' (language "
            f"'{language}'); run it without -p, or with --kernel of a supported language."
        ) from None
    try:
        found = translator.inspect(nb.cells[index])
    except NotImplementedError:
        return {}
    return {p.name: p for p in found}


def validate(
    path: str,
    nb: nbformat.NotebookNode,
    params: dict[str, Any],
    *,
    kernel_name: str | None = None,
    language: str | None = None,
) -> None:
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
    known = declared_parameters(nb, kernel_name, language)
    unknown = [n for n in params if n not in known]
    if unknown:
        defined = ", ".join(known) or "nothing"
        raise UsageError(
            f"{path}'s parameters cell does not define {', '.join(unknown)} (it defines: "
            f"{defined}). Check the spelling, or add it to that cell."
        )
