"""Validate a dict against the schema; turn pydantic's errors into :class:`Problem` lines
(file, key path, line, value, what is allowed, the closest known key)."""
from __future__ import annotations

import difflib
import math
from typing import Any

from pydantic import BaseModel, ValidationError

from brr_lab.configs.errors import ConfigError, LoadedConfig, Problem
from brr_lab.configs.legacy_keys import LEGACY_KEYS
from brr_lab.configs.schema import NOT_FINITE, TrainConfig

__all__ = ["parse_config", "closest_key"]


def closest_key(key: str, known) -> str | None:
    """The known key most like ``key`` (difflib), or None when nothing is close."""
    found = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def parse_config(data: dict, lines: dict[str, int] | None = None, file: str = "<config>",
                 *, source_keys: dict[str, str] | None = None) -> LoadedConfig:
    """Validate a dict in the brr_lab layout. ``source_keys`` renames key paths in errors."""
    lines = lines or {}
    source_keys = source_keys or {}
    try:
        config = TrainConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(file, _problems(err, data, lines, source_keys)) from None
    return LoadedConfig(file=file, config=config, explicit=frozenset(_paths(data)),
                        source_keys=dict(source_keys), lines=lines)


def _paths(data: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        out.append(prefix + str(key))
        if isinstance(value, dict):
            out += _paths(value, prefix + str(key) + ".")
    return out


def _problems(err: ValidationError, data: dict, lines: dict[str, int],
              source_keys: dict[str, str]) -> list[Problem]:
    grouped: dict[tuple[str, ...], list[dict]] = {}
    for e in err.errors(include_url=False):
        grouped.setdefault(tuple(_loc_parts(e["loc"], data)), []).append(e)
    problems = []
    for parts, errors in grouped.items():
        loc = list(parts)
        native = ".".join(loc)
        e = errors[0]
        if len(errors) > 1:  # a union reports each branch: say what the key allows instead
            e = {**e, "msg": "Input is not an allowed value"}
        key = source_keys.get(native, native)
        line = lines.get(key)
        if e["type"] == "extra_forbidden":
            known = _known_fields(loc[:-1])
            hint = closest_key(loc[-1], known)
            msg = ("unknown key" + (f"; did you mean '{_join(loc[:-1], hint)}'?" if hint else ".")
                   + f" Known keys here: {', '.join(sorted(known))}.")
            if _is_legacy_key(loc):
                msg += (" (This key belongs to the brain-go-brr-v2 layout, which is recognised "
                        "by its top-level sections: training, experiment, model ...)")
        else:
            msg = _explain(loc, e, _value_at(data, loc))
        problems.append(Problem(key, line, msg))
    return sorted(problems, key=lambda p: (p.line or 0, p.key or ""))


def _loc_parts(loc, data: Any) -> list[str]:
    # Keys written in the file are kept even when they look like a union tag ("float").
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            parts.append(str(part))
            node = node[part]
        elif not _is_union_tag(part):
            parts.append(str(part))
            node = _MISSING
    return parts


def _is_legacy_key(loc: list[str]) -> bool:
    node: Any = LEGACY_KEYS
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _is_union_tag(part) -> bool:
    # pydantic adds the union branch ("function-before[...]", "literal['auto','sqrt']") to loc.
    return isinstance(part, str) and ("[" in part or part in ("float", "int", "str", "bool"))


def _join(parent: list[str], key: str) -> str:
    return ".".join([*parent, key])


def _known_fields(loc: list[str]) -> list[str]:
    model: type[BaseModel] = TrainConfig
    for part in loc:
        if part not in model.model_fields:
            return []
        ann = model.model_fields[part].annotation
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def _field_info(loc: list[str]):
    model: type[BaseModel] = TrainConfig
    info = None
    for part in loc:
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        ann = info.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return info


_MISSING = object()


def _value_at(data: Any, loc: list[str]) -> Any:
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _explain(loc: list[str], e: dict, value: Any) -> str:
    info = _field_info(loc)
    allowed = info.description if info is not None and info.description else None
    got = "" if value is _MISSING else f" Got {value!r} instead."
    reason = e["msg"]
    if isinstance(value, float) and not math.isfinite(value):
        reason = NOT_FINITE
    elif e["type"] == "value_error" and e.get("ctx", {}).get("error") is not None:
        reason = str(e["ctx"]["error"])
    if isinstance(value, str) and value.strip().lower() in ("none", "null", "~"):
        reason += " (write null, unquoted, for 'off')"
    text = reason
    if e["type"] in ("model_type", "dict_type"):
        text = "must be a mapping (a section) of settings"
    elif allowed:
        text += f"; expected {allowed}"
    return text + "." + got
