"""Load one config file in either layout: brr_lab's own, or the original project's."""
from __future__ import annotations

from pathlib import Path

from brr_lab.configs import legacy
from brr_lab.configs.errors import LoadedConfig
from brr_lab.configs.parsing import parse_config
from brr_lab.configs.yaml_reader import _read_yaml

__all__ = ["load_config"]


def load_config(path: str | Path) -> LoadedConfig:
    """Read, validate and (for the original project's layout) map one config file."""
    data, lines, notes = _read_yaml(path)
    if legacy.is_legacy(data):
        loaded = legacy.map_legacy(data, lines, str(path))
    else:
        loaded = parse_config(data, lines, str(path))
    loaded.notes = [*notes, *loaded.notes]
    return loaded
