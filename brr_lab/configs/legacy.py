"""Read configs written for the original project (brain-go-brr-v2) as brr_lab configs.

A user of that code base can audit their folder unchanged. Every key its schema
(``src/brain_brr/config/schemas.py``) and its ``configs/`` files use is accepted; a key
that is not among them (a misspelling) is an error that names the closest known key.
Only the keys in :data:`KEY_MAP` are read and validated; the others (model, post-
processing, logging ...) are accepted as they are, since brr_lab does not use them.

What the original training loop did without a config key is made explicit, because
the audit must see it (docs/config_mapping.md gives the sources):

* it computed ``pos_weight = sqrt(n_neg / n_pos)`` from the data and passed it to BCE
  always, and to focal loss only when ``|focal_alpha - 0.5| < 1e-6``: otherwise it
  dropped it silently. Mapped to ``loss.pos_weight: sqrt`` or ``null`` (+ a note).
* ``data.use_balanced_sampling: true`` built a ``WeightedRandomSampler`` giving each
  positive window weight ``sqrt(n_neg / n_pos)``: ``sampler.target_fraction: sqrt``.
* keys left out take the original schema's defaults (:data:`DEFAULTS`).
"""
from __future__ import annotations

from typing import Any

from brr_lab.configs.errors import ConfigError, LoadedConfig, Problem
from brr_lab.configs.legacy_keys import DEFAULTS, KEY_MAP, LEGACY_KEYS
from brr_lab.configs.parsing import closest_key, parse_config

__all__ = ["LEGACY_KEYS", "KEY_MAP", "DEFAULTS", "is_legacy", "check_keys", "map_legacy"]

LAYOUT = "brain-go-brr-v2"

# The original loop's test for "alpha is neutral, keep pos_weight" (loop.py).
ORIGINAL_ALPHA_TOLERANCE = 1e-6


# Defaults the audit's verdict depends on: say so when one applies.
_WEIGHTING_KEYS = ("training.loss", "training.focal_alpha", "training.focal_gamma",
                   "data.use_balanced_sampling")

_LEGACY_ONLY = frozenset(LEGACY_KEYS) - {"data"}


def is_legacy(data: dict) -> bool:
    """True when a top-level key only the original layout has (training, experiment ...) is there."""
    return any(key in _LEGACY_ONLY for key in data)


def check_keys(data: dict, lines: dict[str, int], tree: dict = LEGACY_KEYS,
               prefix: str = "") -> list[Problem]:
    """Every key not in the original layout, with the closest known key suggested."""
    problems = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in tree:
            hint = closest_key(key, tree)
            msg = "unknown key for the brain-go-brr-v2 layout" + (
                f"; did you mean '{prefix}{hint}'?" if hint else ".")
            msg += f" Known keys here: {', '.join(sorted(tree))}."
            problems.append(Problem(path, lines.get(path), msg))
        elif isinstance(tree[key], dict):
            if isinstance(value, dict):
                problems += check_keys(value, lines, tree[key], path + ".")
            elif value is not None:
                problems.append(Problem(path, lines.get(path),
                                        f"must be a mapping (a section). Got {value!r} instead."))
    return problems


def _get(data: dict, path: str, default: Any = None) -> tuple[Any, bool]:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default, False
        node = node[part]
    return node, True


def _set(out: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        out = out.setdefault(part, {})
    out[last] = value


def map_legacy(data: dict, lines: dict[str, int], file: str) -> LoadedConfig:
    """Validate a config in the original layout and return it as a brr_lab config."""
    problems = check_keys(data, lines)
    if problems:
        raise ConfigError(file, problems)

    native: dict = {}
    source_keys: dict[str, str] = {}
    written: set[str] = set()
    notes: list[str] = []
    for old, new in KEY_MAP.items():
        value, present = _get(data, old, DEFAULTS.get(old))
        if present:
            written.add(new)
        elif old in DEFAULTS and old in _WEIGHTING_KEYS:
            notes.append(f"{old} not set: the original schema's default {DEFAULTS[old]!r} applies")
        if present or old in DEFAULTS:
            if old == "training.gradient_clip" and value == 0:
                value = None  # the original schema: "0 = disabled"
            _set(native, new, value)
        source_keys[new] = old

    bandpass, present = _get(data, "preprocessing.bandpass")
    if present:
        if (isinstance(bandpass, list) and len(bandpass) == 2):
            _set(native, "data.l_freq", bandpass[0])
            _set(native, "data.h_freq", bandpass[1])
            source_keys["data.l_freq"] = source_keys["data.h_freq"] = "preprocessing.bandpass"
        else:
            raise ConfigError(file, [Problem("preprocessing.bandpass",
                                              lines.get("preprocessing.bandpass"),
                                              "must be a list [low_hz, high_hz]. "
                                              f"Got {bandpass!r} instead.")])

    # What the original loop did with no config key: pos_weight and the sampler's weights.
    kind = native["loss"]["kind"]
    alpha = native["loss"]["alpha"]
    dropped = None
    if kind == "focal" and isinstance(alpha, (int, float)) and not isinstance(alpha, bool) \
            and abs(alpha - 0.5) >= ORIGINAL_ALPHA_TOLERANCE:
        native["loss"]["pos_weight"] = None
        dropped = (f"the original loop computes pos_weight = sqrt(n_neg/n_pos) and drops it "
                   f"silently because focal_alpha={alpha:g} != 0.5")
    else:
        native["loss"]["pos_weight"] = "sqrt"
        notes.append("pos_weight = sqrt(n_neg/n_pos), computed from the data by the original "
                     "training loop (no config key)")
    # No key holds it: findings about pos_weight point at the loss that uses it.
    source_keys["loss.pos_weight"] = "training.loss"
    if native["sampler"]["balanced"] is True:
        native["sampler"]["target_fraction"] = "sqrt"
        notes.append("balanced sampling = positives drawn with weight sqrt(n_neg/n_pos), "
                     "as the original sampler did")
    source_keys["sampler.target_fraction"] = "data.use_balanced_sampling"

    loaded = parse_config(native, lines, file, source_keys=source_keys)
    loaded.layout = LAYOUT
    loaded.explicit = frozenset(written)
    loaded.notes = notes
    loaded.dropped_pos_weight = dropped
    return loaded
