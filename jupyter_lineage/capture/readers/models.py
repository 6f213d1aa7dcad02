"""Model libraries' save and load calls: written by a model-saving API is a model, whatever the
extension; torch's kind follows what was saved (a tensor dataset is data, a module a model)."""

from __future__ import annotations

import sys
from typing import Any

from .spec import Spec

_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "optimizer_state_dict")


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
        if keys and all(
            k.endswith((".weight", ".bias", "running_mean", "running_var")) or "." in k
            for k in keys
        ):
            return "model"  # a state_dict: parameter names are dotted module paths
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return "dataset"
    return None


def _saved(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> str | None:
    return torch_kind(args[0] if args else kwargs.get("obj"))


def _loaded(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> str | None:
    return torch_kind(result)


SPECS = (
    Spec("torch", "torch", "save", "write", None, 1, "f", kind_of=_saved),
    Spec("torch", "torch", "load", "read", None, 0, "f", kind_of=_loaded),
)
