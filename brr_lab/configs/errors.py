"""What a config file got wrong (:class:`Problem`, :class:`ConfigError`) and what a valid
one is with its provenance (:class:`LoadedConfig`: layout, keys written, lines, notes)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from brr_lab._validation import BrrLabError

if TYPE_CHECKING:
    from brr_lab.configs.schema import TrainConfig

__all__ = ["Problem", "ConfigError", "LoadedConfig"]


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
