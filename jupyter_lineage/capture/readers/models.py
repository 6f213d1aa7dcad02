"""Model libraries' save and load calls: written by a model-saving API is a model, whatever the
extension (a LightGBM ``model.txt`` too); their data loaders (``DMatrix``, ``lgb.Dataset``,
``Pool``) read datasets. torch's kind follows what was saved (a tensor dataset is data)."""

from __future__ import annotations

import sys
from typing import Any

from .spec import Spec, Target, path_of

_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "optimizer_state_dict")
# A module's own parameters and buffers, as a state dict names them (the last dotted part).
_PARAMETER_NAMES = frozenset(
    {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
)


def torch_kind(obj: Any) -> str | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if isinstance(obj, torch.nn.Module):
        return "model"
    if isinstance(obj, torch.Tensor | torch.utils.data.Dataset):
        return "dataset"
    if isinstance(obj, list | tuple) and obj and all(isinstance(x, torch.Tensor) for x in obj):
        return "dataset"
    if isinstance(obj, dict) and obj:
        keys = [k for k in obj if isinstance(k, str)]
        if any(k in _CHECKPOINT_KEYS for k in keys):
            return "model"
        if getattr(obj, "_metadata", None) is not None:
            return "model"  # Module.state_dict() marks what it returns (load keeps it)
        if keys and all("." in k or k in _PARAMETER_NAMES for k in keys):
            return "model"  # a state_dict: parameter names are dotted module paths
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return "dataset"
    return None


def _saved(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> str | None:
    return torch_kind(args[0] if args else kwargs.get("obj"))


def _loaded(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> str | None:
    return torch_kind(result)


def _dmatrix(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Target]:
    """``DMatrix('train.csv?format=csv')``: a URI with XGBoost's own query string."""
    path = path_of(args[1] if len(args) > 1 else kwargs.get("data"))
    return [(path.split("?", 1)[0], "read", "dataset")] if path else []


def _model(library: str, module: str, target: str, role: str, arg: int, keyword: str) -> Spec:
    return Spec(library, module, target, role, "model", arg, keyword)


def _data(library: str, module: str, target: str, arg: int, keyword: str) -> Spec:
    return Spec(library, module, target, "read", "dataset", arg, keyword, expand=True)


TORCH = (
    Spec("torch", "torch", "save", "write", None, 1, "f", kind_of=_saved),
    Spec("torch", "torch", "load", "read", None, 0, "f", kind_of=_loaded),
)
XGBOOST = (
    _model("xgboost", "xgboost", "Booster.save_model", "write", 1, "fname"),
    _model("xgboost", "xgboost", "Booster.load_model", "read", 1, "fname"),
    _model("xgboost", "xgboost", "XGBModel.save_model", "write", 1, "fname"),
    _model("xgboost", "xgboost", "XGBModel.load_model", "read", 1, "fname"),
    Spec("xgboost", "xgboost", "DMatrix.__init__", targets=_dmatrix),
)
LIGHTGBM = (
    _model("lightgbm", "lightgbm", "Booster.save_model", "write", 1, "filename"),
    _model("lightgbm", "lightgbm", "Booster.__init__", "read", 3, "model_file"),
    _data("lightgbm", "lightgbm", "Dataset.__init__", 1, "data"),
    Spec("lightgbm", "lightgbm", "Dataset.save_binary", "write", "dataset", 1, "filename"),
)
CATBOOST = (
    _model("catboost", "catboost", "CatBoost.save_model", "write", 1, "fname"),
    _model("catboost", "catboost", "CatBoost.load_model", "read", 1, "fname"),
    _data("catboost", "catboost", "Pool.__init__", 1, "data"),
)
ONNX = (
    _model("onnx", "onnx", "save_model", "write", 1, "f"),
    _model("onnx", "onnx", "load_model", "read", 0, "f"),
    _model("onnx", "onnx", "save", "write", 1, "f"),  # the same functions under short names
    _model("onnx", "onnx", "load", "read", 0, "f"),
    _model("onnxruntime", "onnxruntime", "InferenceSession.__init__", "read", 1, "path_or_bytes"),
)
SAFETENSORS = (
    _model("safetensors", "safetensors.numpy", "save_file", "write", 1, "filename"),
    _model("safetensors", "safetensors.numpy", "load_file", "read", 0, "filename"),
    _model("safetensors", "safetensors.torch", "save_file", "write", 1, "filename"),
    _model("safetensors", "safetensors.torch", "load_file", "read", 0, "filename"),
    _model("safetensors", "safetensors.torch", "save_model", "write", 1, "filename"),
    _model("safetensors", "safetensors.torch", "load_model", "read", 1, "filename"),
)
KERAS = (
    _model("keras", "keras", "Model.save", "write", 1, "filepath"),
    _model("keras", "keras", "Model.save_weights", "write", 1, "filepath"),
    _model("keras", "keras", "Model.load_weights", "read", 1, "filepath"),
    _model("keras", "keras", "saving.load_model", "read", 0, "filepath"),
    _model("keras", "keras", "models.load_model", "read", 0, "filepath"),
)
# save_pretrained writes a folder (config, weights, tokenizer files): every file the call wrote.
# Without torch, transformers' PreTrainedModel is a placeholder: its specs are optional.
TRANSFORMERS = tuple(
    spec
    for cls in ("PreTrainedModel", "PretrainedConfig", "PreTrainedTokenizerBase")
    for spec in (
        Spec(
            "transformers",
            "transformers",
            f"{cls}.save_pretrained",
            "write",
            "model",
            1,
            "save_directory",
            expand=True,
            optional=cls == "PreTrainedModel",
        ),
        Spec(
            "transformers",
            "transformers",
            f"{cls}.from_pretrained",
            "read",
            "model",
            1,
            "pretrained_model_name_or_path",
            expand=True,
            optional=cls == "PreTrainedModel",
        ),
    )
)

SPECS = (*TORCH, *XGBOOST, *LIGHTGBM, *CATBOOST, *ONNX, *SAFETENSORS, *KERAS, *TRANSFORMERS)
