"""What the config audit found, and how it reads: per-config figures, drift, findings,
rendered as JSON (``as_dict``) or text (``to_text``, tables by ``tabulate``)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from tabulate import tabulate

__all__ = ["DEFAULT_PREVALENCE", "DRIFT_KEYS", "Finding", "ConfigReport", "DriftRow",
           "AuditResult", "format_value", "is_default_prevalence"]

# About 12 negative windows per positive, as in TUSZ.
DEFAULT_PREVALENCE = 1 / 13

# The loss and sampling settings compared across files.
DRIFT_KEYS = ("loss.kind", "loss.alpha", "loss.gamma", "loss.pos_weight",
              "sampler.balanced", "sampler.target_fraction")

@dataclass(frozen=True)
class Finding:
    file: str
    key: str | None
    severity: str  # "error", "warning" or "invalid"
    message: str
    line: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def to_line(self) -> str:
        """As compilers write it (SEVERITY file:line: key: message): editors and grep find it."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.severity.upper()} {where}:{f' {self.key}:' if self.key else ''} {self.message}"


@dataclass
class ConfigReport:
    """What one config trains under, in figures."""

    file: str
    layout: str
    settings: dict[str, Any]      # DRIFT_KEYS -> value (None: off, or unused by the loss)
    pos_weight_value: float | None
    sampler_fraction: float | None
    mechanisms: list[str]
    stacked: bool
    ratio: float
    sampler_odds: float
    effective_ratio: float
    q_star: float
    p_star: float
    prevalence: float
    summary: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def to_lines(self) -> list[str]:
        """Three or more lines: the file, what it sets, what that trains."""
        s = self.settings
        loss = f"loss {s['loss.kind']}"
        if s["loss.kind"] == "focal":
            loss += f" alpha={format_value(s['loss.alpha'])} gamma={format_value(s['loss.gamma'])}"
        loss += f" pos_weight={format_value(s['loss.pos_weight'])}"
        if self.pos_weight_value is not None and s["loss.pos_weight"] in ("auto", "sqrt"):
            loss += f" (= {self.pos_weight_value:.4g})"
        sampler = ("sampler off" if not s["sampler.balanced"] else
                   f"sampler balanced target_fraction={format_value(s['sampler.target_fraction'])}"
                   f" (= {self.sampler_fraction:.3g} positives per batch)")
        return [f"{self.file}  [{self.layout}]", f"  {loss}; {sampler}",
                f"  mechanisms: {', '.join(self.mechanisms) or 'none'}"
                f"{' (STACKED)' if self.stacked else ''}; effective ratio "
                f"{self.effective_ratio:.4g}:1; q* = {self.q_star:.3g}; p* = {self.p_star:.3g}",
                *(f"  note: {n}" for n in self.notes)]


@dataclass
class DriftRow:
    """One setting whose value differs between files."""

    key: str
    majority: Any                 # None when no value holds a strict majority of files
    has_majority: bool
    values: dict[str, list[str]]  # value (as text) -> files
    outliers: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class AuditResult:
    prevalence: float
    configs: list[ConfigReport]
    drift: list[DriftRow]
    findings: list[Finding]

    @property
    def exit_code(self) -> int:
        """0: nothing to report; 1: findings; 2: unreadable or invalid input."""
        if any(f.severity == "invalid" for f in self.findings):
            return 2
        return 1 if self.findings else 0

    def as_dict(self) -> dict:
        return {
            "prevalence": self.prevalence,
            "configs": [c.as_dict() for c in self.configs],
            "drift": [d.as_dict() for d in self.drift],
            "findings": [f.as_dict() for f in self.findings],
        }

    def to_text(self) -> str:
        """The human-readable report: header, one block per config, drift, findings."""
        pi = self.prevalence
        source = ("default: 1/13, TUSZ-like; set --prevalence" if is_default_prevalence(pi)
                  else "from --prevalence")
        lines = [f"prevalence {pi:.4g} ({source}): {(1 - pi) / pi:.3g} negatives per positive",
                 f"{len(self.configs)} config(s) audited", ""]
        for c in self.configs:
            lines += [*c.to_lines(), ""]
        lines += _drift_lines(self.drift, len(self.configs))
        if not self.findings:
            return "\n".join([*lines, "findings: none"])
        return "\n".join([*lines, f"findings ({len(self.findings)}):",
                          *(f"  {f.to_line()}" for f in self.findings)])


def _drift_lines(drift: list[DriftRow], n_configs: int) -> list[str]:
    if not drift:
        return (["drift: none (loss and sampling settings agree across files)", ""]
                if n_configs > 1 else [])
    table = []
    for row in drift:
        total = sum(len(f) for f in row.values.values())
        majority = (f"{format_value(row.majority)} ({len(row.values[format_value(row.majority)])}"
                    f" of {total})" if row.has_majority else "no majority")
        others = "; ".join(f"{value}: {', '.join(files)}" for value, files in row.values.items()
                           if not (row.has_majority and value == format_value(row.majority)))
        table.append((row.key, majority, others))
    return ["drift (loss and sampling settings that differ between files):",
            tabulate(table, headers=["setting", "majority", "other values"], tablefmt="simple",
                     maxcolwidths=[None, None, 70]), ""]



def format_value(value: Any) -> str:
    """A setting as YAML would write it: null, true, 0.5, auto."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def is_default_prevalence(prevalence: float) -> bool:
    """True when ``prevalence`` is the default 1/13 (the report says it was not chosen)."""
    return math.isclose(prevalence, DEFAULT_PREVALENCE, rel_tol=1e-12)
