"""Datasets that libraries download and cache: scikit-learn's ``fetch_*`` (the cache files they
read are datasets, whatever their extension) and Hugging Face ``datasets`` on local files (the
files ``load_dataset`` is given are recorded even when it answers from its own cache)."""

from __future__ import annotations

import os
from typing import Any

from .spec import Spec, Target, paths_in

_SKLEARN = (
    "fetch_california_housing",
    "fetch_covtype",
    "fetch_kddcup99",
    "fetch_lfw_pairs",
    "fetch_lfw_people",
    "fetch_olivetti_faces",
    "fetch_openml",
    "fetch_rcv1",
    "fetch_species_distributions",
    "fetch_20newsgroups",
    "fetch_20newsgroups_vectorized",
)


def _nothing(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    return []


def _data_files(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [p for v in value.values() for p in _data_files(v)]
    return list(paths_in(value))


def _load_dataset(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    """``load_dataset("csv", data_files=…)`` or ``load_dataset("data/folder")``."""
    found = _data_files(kwargs.get("data_files") if "data_files" in kwargs else args[3:4])
    path = args[0] if args else kwargs.get("path")
    if not found and isinstance(path, str) and os.path.exists(path):
        found = [path]
    data_dir = kwargs.get("data_dir") if "data_dir" in kwargs else (args[2:3] or [None])[0]
    if not found and isinstance(data_dir, str) and os.path.isdir(data_dir):
        found = [data_dir]
    return [(p, "read", "dataset") for p in found]


SPECS = (
    *(
        Spec("scikit-learn", "sklearn.datasets", name, targets=_nothing, inner_kind="dataset")
        for name in _SKLEARN
    ),
    Spec(
        "datasets",
        "datasets",
        "load_dataset",
        expand=True,
        targets=_load_dataset,
        inner_kind="dataset",
    ),
    Spec(
        "datasets", "datasets", "load_from_disk", "read", "dataset", 0, "dataset_path", expand=True
    ),
    *(
        Spec(
            "datasets",
            "datasets",
            f"{cls}.save_to_disk",
            "write",
            "dataset",
            1,
            "dataset_path",
            expand=True,
        )
        for cls in ("Dataset", "DatasetDict")
    ),
    *(
        Spec("datasets", "datasets", f"Dataset.to_{fmt}", "write", "dataset", 1, "path_or_buf")
        for fmt in ("parquet", "csv", "json")
    ),
)
