"""What the trainer checks and sets up before it trains: its config with keyword
overrides, the device, the seeds, the ``(X, y)`` data and where the data lives."""
from __future__ import annotations

import random

import numpy as np
import torch
from pydantic import ValidationError
from torch import Tensor

from brr_lab._validation import check_seed, invalid
from brr_lab.configs import TrainConfig

__all__ = ["with_overrides", "resolve_device", "seed_everything", "as_xy", "place_data"]

_WHERE = "Trainer"
# Keyword overrides that are not fields of TrainConfig.trainer.
_SHORTCUTS = ("threshold", "sampler_fraction")


def with_overrides(config: TrainConfig, overrides: dict) -> TrainConfig:
    """``config`` with ``Trainer(..., epochs=3, threshold=0.4, sampler_fraction=0.5)`` applied."""
    known = set(type(config.trainer).model_fields) | set(_SHORTCUTS)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise invalid("overrides", _WHERE, f"keywords among {sorted(known)}", unknown)
    data = config.model_dump()
    for key, value in overrides.items():
        if key == "threshold":
            data["eval"]["threshold"] = value
        elif key == "sampler_fraction":
            if value is None:
                data["sampler"]["balanced"] = False
            else:
                data["sampler"].update(balanced=True, target_fraction=value)
        else:
            data["trainer"][key] = value
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        section, field = (list(first["loc"]) + [None, None])[:2]
        name = {"threshold": "threshold", "target_fraction": "sampler_fraction"}.get(field, field)
        model = type(getattr(config, section)) if section in type(config).model_fields else None
        info = model.model_fields.get(field) if model is not None else None
        allowed = info.description if info is not None and info.description else first["msg"]
        raise invalid(str(name), _WHERE, allowed, overrides.get(name, first.get("input"))) from None


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are checked and returned."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or not (device in ("cpu", "mps") or device.startswith("cuda")):
        raise invalid("device", _WHERE, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise invalid("device", _WHERE, "'auto' or 'cpu' on a machine without CUDA", device)
    if device == "mps" and not torch.backends.mps.is_available():
        raise invalid("device", _WHERE, "'auto' or 'cpu' on a machine without MPS", device)
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (model initialisation draws from torch's global RNG)."""
    seed = check_seed(seed, "seed", "seed_everything")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def as_xy(data, name: str) -> tuple[Tensor, Tensor]:
    """Accept ``(X, y)`` or anything with ``.X`` and ``.y`` (a ``WindowSet``)."""
    if hasattr(data, "X") and hasattr(data, "y"):
        x, y = data.X, data.y
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise invalid(name, "Trainer.fit", "(X, y) tensors or an object with .X and .y",
                      type(data).__name__)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if len(x) != len(y) or y.dim() != 1:
        raise invalid(name, "Trainer.fit", "X with one row per label and 1-D labels y",
                      f"X of shape {tuple(x.shape)} and y of shape {tuple(y.shape)}")
    if len(y) == 0:
        raise invalid(name, "Trainer.fit", "at least one example", "none")
    if not bool(((y == 0) | (y == 1)).all()):
        raise invalid(name, "Trainer.fit", "0/1 labels", sorted(set(y.tolist()))[:5])
    return x.float(), y.float()


def place_data(x: Tensor, y: Tensor, device: torch.device, mode: str,
               extra_bytes: int) -> tuple[Tensor, Tensor]:
    """Keep CPU data where it is; on CUDA move it once when it fits (``mode`` 'auto': in
    half the free memory, ``extra_bytes`` counted too; 'always'; 'never'), else pin it
    and move it per batch."""
    if device.type != "cuda":
        return x, y
    fits = True
    if mode == "auto":
        free, _ = torch.cuda.mem_get_info(device)
        fits = x.element_size() * x.nelement() + extra_bytes < 0.5 * free
    if mode == "always" or (mode == "auto" and fits):
        return x.to(device), y.to(device)
    return x.pin_memory(), y.pin_memory()
