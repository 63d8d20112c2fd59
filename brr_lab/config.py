"""The brr_lab training config: one validated schema, read from YAML with ``yaml.safe_load``.

Layout (every section optional; defaults are listed in the models below)::

    name: after_fix
    data:    {path, window_s, stride_s, label_rule, min_fraction, sfreq, l_freq, h_freq}
    loss:    {kind: bce|focal, alpha, gamma, pos_weight: <number>|auto|sqrt|null}
    sampler: {balanced: true|false, target_fraction: <(0, 1)>|sqrt}
    trainer: {epochs, batch_size, lr, weight_decay, grad_clip, seed, device, prior_bias_init}
    eval:    {threshold}

Every mistake is an error, never ignored: an unknown key (with the closest known key
suggested), a wrong type or range (naming the file, the key path, its line and the
value), a duplicate key (which ``yaml.safe_load`` would resolve silently to the last
one), an empty file. Files in the original project's layout (brain-go-brr-v2) are
read through :mod:`brr_lab.legacy_config`.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from brr_lab._validation import BOM_RULE, BrrLabError, TextReadError, read_utf8

__all__ = [
    "ConfigError",
    "Problem",
    "DataSettings",
    "LossSettings",
    "SamplerSettings",
    "TrainerSettings",
    "EvalSettings",
    "TrainConfig",
    "LoadedConfig",
    "load_config",
    "parse_config",
    "read_yaml",
    "closest_key",
    "effective_fraction",
    "resolve_pos_weight",
    "MAX_CONFIG_BYTES",
    "MAX_EXPANDED_NODES",
    "MAX_DEPTH",
]

# Bounds on untrusted YAML, checked while the file is parsed, before anything is built
# from it. A real config has under 300 nodes, nested 4 deep, in a few KB.
MAX_CONFIG_BYTES = 256 * 1024   # file size
MAX_EXPANDED_NODES = 10_000     # nodes counted with every alias expanded (the schema, the
                                # key-line walk and JSON output all follow aliases)
MAX_DEPTH = 64                  # nesting of mappings and lists, aliases expanded

# PyYAML follows YAML 1.1, where `1e-3` (no dot) is a string, not a float. Real configs
# (the original project's among them) write learning rates that way; a number written
# in scientific notation means that number, so such strings are read as floats.
_SCIENTIFIC = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$")


def _yaml12_float(value: Any) -> Any:
    if isinstance(value, str) and _SCIENTIFIC.match(value.strip()):
        return float(value)
    return value


_NOT_FINITE = "must be a finite number (.inf, -.inf and .nan are not allowed)"


def _finite(value: float) -> float:
    # .inf passes "> 0" and ".nan" breaks every comparison: refuse both outright.
    if not math.isfinite(value):
        raise ValueError(_NOT_FINITE)
    return value


Real = Annotated[float, BeforeValidator(_yaml12_float), AfterValidator(_finite)]


class _Section(BaseModel):
    # strict: "30" is not 30 and true is not 1; extra="forbid": unknown keys are errors.
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class DataSettings(_Section):
    """Where the windows come from and how they are cut and labelled."""

    path: str | None = Field(None, description="a folder of EDF + .csv_bi files, or null "
                             "(synthetic recordings)")
    window_s: Real = Field(2.0, gt=0, description="a window length in seconds > 0")
    stride_s: Real = Field(1.0, gt=0, description="a step between windows in seconds > 0")
    label_rule: Literal["any", "fraction"] = Field(
        "any", description="'any' (a window with any seizure is positive) or 'fraction' (at "
        "least min_fraction of it)")
    min_fraction: Real = Field(0.5, gt=0, le=1, description="a fraction in (0, 1], used by "
                               "label_rule 'fraction'")
    sfreq: Real | None = Field(64.0, gt=0, description="a sampling rate in Hz > 0 to resample "
                               "to, or null (native rate)")
    l_freq: Real | None = Field(None, ge=0, description="a high-pass edge in Hz >= 0, or null")
    h_freq: Real | None = Field(None, gt=0, description="a low-pass edge in Hz > 0, or null")


class LossSettings(_Section):
    """The loss and its class weights: alpha multiplies positives, pos_weight too."""

    kind: Literal["bce", "focal"] = Field("bce", description="'bce' or 'focal'")
    alpha: Real | None = Field(None, ge=0, le=1, description="a float in [0, 1] (focal alpha, "
                               "the weight of POSITIVES), or null (off)")
    gamma: Real = Field(2.0, ge=0, description="a float >= 0 (focusing; not a class weight)")
    pos_weight: Union[Annotated[Real, Field(gt=0)], Literal["auto", "sqrt"], None] = Field(
        None, description="a number > 0, 'auto' (= n_neg/n_pos), 'sqrt' (its square root), "
        "or null (off)")


class SamplerSettings(_Section):
    """A batch sampler that over-draws positives (a class weight by another name)."""

    balanced: bool = Field(False, description="true or false (draw batches with "
                           "target_fraction positives)")
    target_fraction: Union[Annotated[Real, Field(gt=0, lt=1)], Literal["sqrt"]] = Field(
        0.5, description="a positive fraction per batch in (0, 1), or 'sqrt' (positives drawn "
        "with weight sqrt(n_neg/n_pos), as the original project's sampler did)")


class TrainerSettings(_Section):
    """Optimisation and run settings the brr_lab trainer reads."""

    epochs: int = Field(6, ge=1, description="an integer >= 1 (6: the budget of `brr-lab repro`)")
    batch_size: int = Field(64, ge=1, description="an integer >= 1")
    lr: Real = Field(1e-3, gt=0, description="a learning rate > 0")
    weight_decay: Real = Field(0.0, ge=0, description="a float >= 0")
    grad_clip: Real | None = Field(None, gt=0, description="a max gradient norm > 0, or null "
                                   "(off)")
    seed: int = Field(0, ge=0, description="an integer >= 0")
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
                        description="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    prior_bias_init: bool = Field(
        False, description="true or false (output bias = log(pi/(1-pi)), RetinaNet 3.3)")
    amp: Literal["auto", "off"] = Field("auto", description="'auto' (mixed precision on CUDA "
                                        "only) or 'off'")
    data_on_device: Literal["auto", "always", "never"] = Field(
        "auto", description="'auto' (move the data to the GPU once when it fits in half the "
        "free memory), 'always' or 'never'")
    eval_batch_size: int = Field(256, ge=1, description="an integer >= 1 (256 measured 3x faster than 1024 on a CPU: activations stay in cache)")
    log_every_n_steps: int | None = Field(None, ge=1, description="an integer >= 1, or null")
    checkpoint_dir: str | None = Field(None, description="a folder for best.pt/last.pt, or "
                                       "null (no checkpoints)")


class EvalSettings(_Section):
    threshold: Real = Field(0.5, gt=0, lt=1, description="a decision threshold on p in (0, 1)")


class TrainConfig(_Section):
    """A whole brr_lab training config. ``TrainConfig()`` holds every default."""

    name: str | None = Field(None, description="a string, or null")
    description: str | None = Field(None, description="a string, or null")
    data: DataSettings = Field(default_factory=DataSettings)
    loss: LossSettings = Field(default_factory=LossSettings)
    sampler: SamplerSettings = Field(default_factory=SamplerSettings)
    trainer: TrainerSettings = Field(default_factory=TrainerSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        """Read and validate a YAML file (either layout); raises ConfigError, a ValueError."""
        return load_config(path).config

    def loss_kwargs(self, prevalence: float) -> dict:
        """``alpha``, ``gamma``, ``pos_weight`` for ``brr_lab.losses.binary_focal_loss``.

        BCE is focal loss with gamma 0 and no alpha; 'auto'/'sqrt' are resolved against
        ``prevalence`` (the training data's fraction of positives).
        """
        focal = self.loss.kind == "focal"
        return {"alpha": self.loss.alpha if focal else None,
                "gamma": self.loss.gamma if focal else 0.0,
                "pos_weight": resolve_pos_weight(self.loss.pos_weight, prevalence)}

    def sampler_fraction(self, prevalence: float) -> float | None:
        """The balanced sampler's positive share per batch, or None (plain shuffling);
        'sqrt' is resolved against ``prevalence`` (the training data's)."""
        if not self.sampler.balanced:
            return None
        return effective_fraction(self.sampler.target_fraction, prevalence)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: where (key path, line) and what."""

    key: str | None
    line: int | None
    message: str

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(BrrLabError):
    """A config file that cannot be read or does not validate. Lists every problem found."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = list(problems)
        super().__init__("\n".join(p.format(file) for p in self.problems))


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedConfig:
    """A validated config plus what the audit needs to know about where it came from."""

    file: str
    config: TrainConfig
    layout: str = "brr_lab"                        # or "brain-go-brr-v2"
    explicit: frozenset[str] = frozenset()         # native key paths written in the file
    source_keys: dict[str, str] = field(default_factory=dict)  # native path -> key in the file
    lines: dict[str, int] = field(default_factory=dict)        # key in the file -> line
    notes: list[str] = field(default_factory=list)             # what the mapping assumed
    dropped_pos_weight: str | None = None  # set when the original code drops its pos_weight

    def source_key(self, native: str) -> str:
        return self.source_keys.get(native, native)

    def line_of(self, native: str) -> int | None:
        return self.lines.get(self.source_key(native))


class _Refused(Exception):
    """A YAML document past one of the bounds; raised while it is composed."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (same tags, same values) that counts while it composes.

    Every node's size (nodes under it with aliases expanded) and depth are computed as it
    is composed; an alias adds the size of the node it names. A document is refused as
    soon as a node passes :data:`MAX_EXPANDED_NODES` or :data:`MAX_DEPTH`, or an alias
    names a node that contains it, so an alias bomb costs what its text costs.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._size: dict[int, int] = {}
        self._deep: dict[int, int] = {}
        self._open = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None and id(node) not in self._size:
                raise _Refused(event.start_mark.line + 1,
                               f"the alias *{event.anchor} refers to a node that contains it "
                               "(a recursive structure); a config is a finite tree")
            return super().compose_node(parent, index)
        self._open += 1
        if self._open > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Refused(mark.line + 1, f"nested more than {MAX_DEPTH} levels deep (the "
                           f"limit); a config is a few levels of sections")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open -= 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        size = 1 + sum(self._size[id(c)] for c in children)
        depth = 1 + max((self._deep[id(c)] for c in children), default=0)
        if size > MAX_EXPANDED_NODES:
            raise _Refused(node.start_mark.line + 1,
                           f"more than {MAX_EXPANDED_NODES} values once aliases (*name) are "
                           "expanded (the limit; an alias bomb?); a config has a few hundred")
        if depth > MAX_DEPTH:
            raise _Refused(node.start_mark.line + 1,
                           f"nested more than {MAX_DEPTH} levels deep once aliases (*name) "
                           "are expanded (the limit)")
        self._size[id(node)] = size
        self._deep[id(node)] = depth
        return node


def read_yaml(path: str | Path) -> tuple[dict, dict[str, int]]:
    """Read one YAML mapping with ``yaml.safe_load`` semantics; also return each key path's line.

    Raises ConfigError for an unreadable file, malformed YAML, more than one document, an
    empty file, a top level that is not a mapping, a key that is not text, or a key written
    twice in one mapping; also for a file past the bounds (:data:`MAX_CONFIG_BYTES`,
    :data:`MAX_EXPANDED_NODES` with aliases expanded, :data:`MAX_DEPTH`), which are
    checked while the file is parsed. A UTF-8 byte-order mark at the start is skipped
    (:data:`brr_lab._validation.BOM_RULE`).
    """
    return _read_yaml(path)[:2]


def _read_yaml(path: str | Path) -> tuple[dict, dict[str, int], list[str]]:
    file = str(path)
    notes: list[str] = []
    try:
        size = Path(path).stat().st_size
    except OSError as err:
        raise ConfigError(file, [Problem(None, None, f"cannot read the file "
                                         f"({err.strerror or err})")]) from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(file, [Problem(None, None, f"the file is {size} bytes, over the "
                                         f"{MAX_CONFIG_BYTES}-byte limit for a config")])
    try:
        text, had_bom = read_utf8(path)
    except TextReadError as err:
        raise ConfigError(file, [Problem(None, err.line, err.problem)]) from None
    if had_bom:
        notes.append(f"the file starts with a UTF-8 byte-order mark (BOM), skipped. Rule: {BOM_RULE}")
    loader = None
    try:
        # One pass: compose (with line marks and the bounds), then build plain Python data
        # from the same nodes, as yaml.safe_load would.
        loader = _BoundedLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as err:
        raise ConfigError(file, [Problem(None, err.line, f"refused: {err.message}")]) from None
    except yaml.reader.ReaderError as err:  # a control character: no mark, a position
        line = text[:max(err.position, 0)].count("\n") + 1
        raise ConfigError(file, [Problem(None, line, f"malformed YAML: character "
                                         f"#x{err.character:04x} is not allowed in YAML "
                                         "(a control character)")]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err)
        if what == "but found another document":
            what = ("the file holds more than one YAML document: another starts here (after a "
                    "'---' or '...' line); a config is one document, so split the file or "
                    "remove the separator")
            raise ConfigError(file, [Problem(None, line, what)]) from None
        raise ConfigError(file, [Problem(None, line, f"malformed YAML: {what}")]) from None
    except RecursionError:  # not reached within MAX_DEPTH; kept so no input escapes
        raise ConfigError(file, [Problem(None, None, "refused: nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        raise ConfigError(file, [Problem(None, None, "the file is empty: expected a mapping of "
                                         "settings")])
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(file, [Problem(None, line, "the top level must be a mapping of settings. "
                                         f"Got a {type(data).__name__} instead.")])
    lines: dict[str, int] = {}
    duplicates: list[Problem] = []
    _walk_marks(node, "", lines, duplicates)
    if duplicates:
        raise ConfigError(file, duplicates)
    return data, lines, notes


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _walk_marks(node, prefix: str, lines: dict[str, int], duplicates: list[Problem]) -> None:
    # Follows aliases (a shared node is walked once per reference): bounded because the
    # loader refused documents past MAX_EXPANDED_NODES and MAX_DEPTH.
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == _MERGE_TAG:  # `<<: *base` brings base's keys to this level
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for part in merged:
                _walk_marks(part, prefix, lines, duplicates)
            continue
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else \
                f"a {key_node.id}"
            duplicates.append(Problem(prefix.rstrip(".") or None, line,
                                      f"a key must be a name (text). Got {shown!r} instead."))
            continue
        key = f"{prefix}{key_node.value}"
        if key in seen:
            duplicates.append(Problem(key, line, "this key is written twice in one mapping; "
                                      "YAML would keep the last value silently"))
        seen.add(key)
        lines.setdefault(key, line)
        _walk_marks(value_node, key + ".", lines, duplicates)


def closest_key(key: str, known) -> str | None:
    """The known key most like ``key`` (difflib), or None when nothing is close."""
    found = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def load_config(path: str | Path) -> LoadedConfig:
    """Read, validate and (for the original project's layout) map one config file."""
    data, lines, notes = _read_yaml(path)
    from brr_lab import legacy_config  # local import: it builds on this module

    if legacy_config.is_legacy(data):
        loaded = legacy_config.map_legacy(data, lines, str(path))
    else:
        loaded = parse_config(data, lines, str(path))
    loaded.notes = [*notes, *loaded.notes]
    return loaded


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
    from brr_lab.legacy_config import LEGACY_KEYS

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
        reason = _NOT_FINITE
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


def effective_fraction(target_fraction, prevalence: float) -> float:
    """The sampler's positive fraction per batch; 'sqrt' depends on the prevalence.

    A sampler that gives each positive weight sqrt(n_neg/n_pos) multiplies the odds of a
    positive by that factor: odds pi/(1-pi) become sqrt(pi/(1-pi)).
    """
    if target_fraction == "sqrt":
        odds = math.sqrt(prevalence / (1 - prevalence))
        return odds / (1 + odds)
    return float(target_fraction)


def resolve_pos_weight(pos_weight, prevalence: float) -> float | None:
    """A number for pos_weight: 'auto' = n_neg/n_pos, 'sqrt' = its square root."""
    if pos_weight == "auto":
        return (1 - prevalence) / prevalence
    if pos_weight == "sqrt":
        return math.sqrt((1 - prevalence) / prevalence)
    return None if pos_weight is None else float(pos_weight)
