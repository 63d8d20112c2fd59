"""Read untrusted YAML as ``yaml.safe_load`` would, with every key's line, inside fixed bounds.

Every mistake is an error, never ignored: a duplicate key (which ``yaml.safe_load``
would resolve silently to the last one), an empty file, more than one document, a file
past :data:`MAX_CONFIG_BYTES`, :data:`MAX_EXPANDED_NODES` or :data:`MAX_DEPTH`.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from brr_lab._validation import BOM_RULE, TextReadError, read_utf8
from brr_lab.configs.errors import ConfigError, Problem

__all__ = ["read_yaml", "MAX_CONFIG_BYTES", "MAX_EXPANDED_NODES", "MAX_DEPTH"]

# Bounds on untrusted YAML, checked while the file is parsed, before anything is built
# from it. A real config has under 300 nodes, nested 4 deep, in a few KB.
MAX_CONFIG_BYTES = 256 * 1024   # file size
MAX_EXPANDED_NODES = 10_000     # nodes counted with every alias expanded (the schema, the
                                # key-line walk and JSON output all follow aliases)
MAX_DEPTH = 64                  # nesting of mappings and lists, aliases expanded

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
    inherited: set[str] = set()
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
        if not node.start_mark.index <= key_node.start_mark.index <= node.end_mark.index:
            # Brought in by `<<: *base` (the composer puts the base's keys here): a key written
            # in this mapping may override it, as YAML defines; that is no duplicate.
            inherited.add(key)
            lines.setdefault(key, line)
            _walk_marks(value_node, key + ".", lines, duplicates)
            continue
        if key in seen:
            duplicates.append(Problem(key, line, "this key is written twice in one mapping; "
                                      "YAML would keep the last value silently"))
        if key in inherited and key not in seen:
            lines[key] = line  # the override is where the value comes from
        seen.add(key)
        lines.setdefault(key, line)
        _walk_marks(value_node, key + ".", lines, duplicates)
