"""Training configs: the one schema, YAML reading, the original project's layout, the audit.

* :mod:`~brr_lab.configs.schema` - :class:`TrainConfig` and its sections (pydantic).
* :mod:`~brr_lab.configs.yaml_reader` - untrusted YAML, bounded, with every key's line.
* :mod:`~brr_lab.configs.parsing` - schema errors as file:line: key: message.
* :mod:`~brr_lab.configs.legacy_keys`, :mod:`~brr_lab.configs.legacy` - the original
  project's (brain-go-brr-v2) layout, read as a brr_lab config.
* :mod:`~brr_lab.configs.loading` - :func:`load_config`, either layout.
* :mod:`~brr_lab.configs.audit` - stacked weighting per file, drift across files.
"""
from brr_lab.configs.errors import ConfigError, LoadedConfig, Problem
from brr_lab.configs.loading import load_config
from brr_lab.configs.parsing import closest_key, parse_config
from brr_lab.configs.schema import (
    DataSettings, EvalSettings, LossSettings, SamplerSettings, TrainConfig, TrainerSettings,
    effective_fraction, resolve_pos_weight,
)
from brr_lab.configs.yaml_reader import MAX_CONFIG_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES, read_yaml

__all__ = [
    "ConfigError", "Problem", "DataSettings", "LossSettings", "SamplerSettings",
    "TrainerSettings", "EvalSettings", "TrainConfig", "LoadedConfig", "load_config",
    "parse_config", "read_yaml", "closest_key", "effective_fraction", "resolve_pos_weight",
    "MAX_CONFIG_BYTES", "MAX_EXPANDED_NODES", "MAX_DEPTH",
]
