"""What kind of artifact a path is: by the API that touched it (a model-saving call makes a model
whatever the extension), then by role (an image read is data, one written a figure), and by its
extension last."""

from __future__ import annotations

import functools

MODEL = {
    ".joblib",
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".onnx",
    ".safetensors",
    ".h5",
    ".keras",
    ".ckpt",
    ".model",
    ".bin",
    ".cbm",
    ".lgb",
    ".xgb",
    ".ubj",
    ".mlmodel",
    ".tflite",
    ".pb",
}
DATASET = {
    ".csv",
    ".tsv",
    ".parquet",
    ".pq",
    ".json",
    ".jsonl",
    ".ndjson",
    ".npy",
    ".npz",
    ".feather",
    ".arrow",
    ".xlsx",
    ".xls",
    ".hdf5",
    ".hdf",
    ".avro",
    ".orc",
    ".txt",
    ".dat",
    ".sqlite",
    ".db",
    ".zarr",
    ".nc",
    ".xml",
    ".yaml",
    ".yml",
    ".gz",
    ".bz2",
    ".zip",
    ".xz",
}
FIGURE = {
    ".png",
    ".svg",
    ".pdf",
    ".jpg",
    ".jpeg",
    ".gif",
    ".eps",
    ".tif",
    ".tiff",
    ".webp",
    ".html",
}
IMAGES = {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp", ".bmp"}
NOTEBOOK = {".ipynb"}
KINDS = ("dataset", "model", "figure", "notebook", "other")


_COMPRESSED = (".gz", ".bz2", ".xz", ".zip")


def _suffix(path: str) -> str:
    name = path[path.rfind("/") + 1 :].lower()
    if name.endswith(_COMPRESSED) and name.count(".") > 1:
        name = name[: name.rfind(".")]
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def kind_of(path: str, api_kind: str | None = None, role: str = "write") -> str:
    if api_kind:
        return api_kind
    return _by_suffix(_suffix(path.split("?", 1)[0]), role)


_EXT_KINDS: dict[str, dict[str, str]] = {"read": {}, "write": {}}


def file_kind(path: str, role: str) -> str:
    """:func:`kind_of` for a local file's name (no query string to cut): once per file read, so
    remembered by the name's raw last extension where that alone decides it."""
    dot = path.rfind(".")
    ext = path[dot:]
    memo = _EXT_KINDS[role]
    kind = memo.get(ext)
    if kind is None:
        kind = _by_suffix(_suffix(path), role)
        # ".bashrc" (a name starting with its dot), "x.csv.gz" and no dot at all: by name only
        named = dot > 0 and "/" not in ext and path[dot - 1] != "/"
        if named and not ext.lower().endswith(_COMPRESSED) and len(memo) < 512:
            memo[ext] = kind
    return kind


@functools.lru_cache(maxsize=1024)  # on every file a cell touches: a few suffixes, again and again
def _by_suffix(ext: str, role: str) -> str:
    if role == "read" and ext in IMAGES:
        return "dataset"  # training images, scans: what a cell reads is its data
    if ext in MODEL:
        return "model"
    if ext in FIGURE:
        return "figure"
    if ext in NOTEBOOK:
        return "notebook"
    if ext in DATASET:
        return "dataset"
    return "other"


def is_data_file(path: str) -> bool:
    """Data a package ships (e.g. scikit-learn's bundled CSVs), as opposed to its code."""
    ext = _suffix(path)
    return (ext in DATASET and ext not in {".json", ".txt", ".yaml", ".yml", ".xml"}) or ext in {
        ".csv",
        ".tsv",
    }
