"""Audit a set of training configs: stacked class weighting per file, drift across files.

Per config, the weighting mechanisms are resolved by :func:`brr_lab.policy.resolve_weighting`
(``allow_stacked=True``: reported, not refused) and the effective ratio, q* and p* come
from :mod:`brr_lab.weighting`. ``pos_weight: auto``/``sqrt`` and a ``sqrt`` sampler depend
on the data's prevalence, which the caller states (default 1/13, TUSZ-like).

Severities: ``error`` - the config does not train what it appears to (stacked mechanisms,
a pos_weight the original code drops silently); ``warning`` - a likely mistake (alpha < 0.5
with no other correction, over-correction, a setting the loss ignores, drift);
``invalid`` - a file that cannot be read or does not validate.
"""
from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from brr_lab import weighting
from brr_lab._validation import check_real
from brr_lab.config import (ConfigError, LoadedConfig, effective_fraction, load_config,
                            resolve_pos_weight)
from brr_lab.policy import OVER_CORRECTION_FACTOR, resolve_weighting

__all__ = [
    "DEFAULT_PREVALENCE",
    "DRIFT_KEYS",
    "Finding",
    "ConfigReport",
    "DriftRow",
    "AuditResult",
    "collect_files",
    "audit_config",
    "drift_table",
    "audit_paths",
    "format_value",
    "is_default_prevalence",
]

# About 12 negative windows per positive, as in TUSZ.
DEFAULT_PREVALENCE = 1 / 13

# The loss and sampling settings compared across files.
DRIFT_KEYS = ("loss.kind", "loss.alpha", "loss.gamma", "loss.pos_weight",
              "sampler.balanced", "sampler.target_fraction")

CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Finding:
    file: str
    key: str | None
    severity: str  # "error", "warning" or "invalid"
    message: str
    line: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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


# --------------------------------------------------------------------------- files


def collect_files(paths) -> tuple[list[Path], list[Finding]]:
    """Config files named directly, plus each folder's *.yaml / *.yml (not recursive)."""
    files: list[Path] = []
    problems: list[Finding] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in CONFIG_SUFFIXES)
            if not found:
                problems.append(Finding(str(raw), None, "invalid",
                                        "no config files (*.yaml, *.yml) in this folder"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Finding(str(raw), None, "invalid", "no such file or folder"))
    # A file named twice (also by another path: ./a.yaml and a.yaml, a symlink, a hard
    # link) is audited once, under the first name given.
    unique: dict[Any, Path] = {}
    for path in files:
        try:
            st = os.stat(path)
            identity: Any = (st.st_dev, st.st_ino)
        except OSError:
            identity = str(path.resolve())
        unique.setdefault(identity, path)
    return list(unique.values()), problems


# --------------------------------------------------------------------------- one config


def _settings(cfg) -> dict[str, Any]:
    focal = cfg.loss.kind == "focal"
    return {
        "loss.kind": cfg.loss.kind,
        "loss.alpha": cfg.loss.alpha if focal else None,   # BCE has no alpha or gamma
        "loss.gamma": cfg.loss.gamma if focal else None,
        "loss.pos_weight": cfg.loss.pos_weight,
        "sampler.balanced": cfg.sampler.balanced,
        "sampler.target_fraction": cfg.sampler.target_fraction if cfg.sampler.balanced else None,
    }


_MECHANISM_KEYS = {"alpha": "loss.alpha", "pos_weight": "loss.pos_weight",
                   "sampler": "sampler.target_fraction"}


def audit_config(loaded: LoadedConfig, prevalence: float = DEFAULT_PREVALENCE
                 ) -> tuple[ConfigReport, list[Finding]]:
    """Figures and findings for one validated config."""
    cfg = loaded.config
    file = loaded.file
    settings = _settings(cfg)
    focal = cfg.loss.kind == "focal"
    alpha = settings["loss.alpha"]
    gamma = cfg.loss.gamma if focal else 0.0  # BCE is focal loss with gamma 0
    pos_weight = resolve_pos_weight(cfg.loss.pos_weight, prevalence)
    fraction = (effective_fraction(cfg.sampler.target_fraction, prevalence)
                if cfg.sampler.balanced else None)

    setup = resolve_weighting(alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                              sampler_fraction=fraction, prevalence=prevalence,
                              allow_stacked=True)
    figures = weighting.analyze(prevalence, alpha, gamma, pos_weight, fraction).as_dict()
    report = ConfigReport(
        file=file, layout=loaded.layout, settings=settings, pos_weight_value=pos_weight,
        sampler_fraction=fraction, mechanisms=setup.active_names, stacked=setup.stacked,
        ratio=figures["ratio"], sampler_odds=figures["sampler_odds"],
        effective_ratio=figures["effective_ratio"], q_star=figures["q_star"],
        p_star=figures["p_star"], prevalence=prevalence, summary=setup.summary(),
        notes=list(loaded.notes))

    def finding(native: str | list[str], severity: str, message: str) -> Finding:
        natives = [native] if isinstance(native, str) else native
        keys = [loaded.source_key(n) for n in natives]
        return Finding(file, ", ".join(dict.fromkeys(keys)), severity, message,
                       loaded.line_of(natives[0]))

    findings: list[Finding] = []
    imbalance = (1 - prevalence) / prevalence
    eff, qs = report.effective_ratio, report.q_star
    if setup.stacked:
        parts = " x ".join(m.describe() for m in setup.active)
        findings.append(finding(
            [_MECHANISM_KEYS[m.name] for m in setup.active], "error",
            f"stacked class weighting: {parts} multiply to an effective positive:negative "
            f"ratio of {eff:.4g}:1 (q* = {qs:.3g}: a window is called a seizure at 0.5 once "
            f"P(seizure) > q*), against the data's {imbalance:.3g}:1 imbalance. "
            "Use one mechanism."))
    if loaded.dropped_pos_weight:
        findings.append(finding("loss.alpha", "error",  # alpha decides the drop
                                f"{loaded.dropped_pos_weight}; the config does not show it. "
                                f"What trains: effective ratio {eff:.4g}:1, q* = {qs:.3g}."))
    if alpha is not None and setup.active_names == ["alpha"] and alpha < 0.5:
        findings.append(finding(
            "loss.alpha", "warning",
            f"focal alpha={alpha:g} < 0.5 down-weights every positive and nothing else "
            f"corrects the {imbalance:.3g}:1 imbalance: effective ratio {eff:.4g}:1, "
            f"q* = {qs:.3g} (plain BCE: 0.5)."))
    if eff > OVER_CORRECTION_FACTOR * imbalance:
        # Keyed to the sampler when there is one (its fraction is what over-draws), else
        # to the strongest mechanism.
        names = setup.active_names
        culprit = "sampler" if "sampler" in names else max(
            setup.active, key=lambda m: m.odds_factor).name
        findings.append(finding(
            _MECHANISM_KEYS[culprit], "warning",
            f"over-correction: the effective {eff:.4g}:1 exceeds the data's {imbalance:.3g}:1 "
            f"imbalance by more than {OVER_CORRECTION_FACTOR:g}x; q* = {qs:.3g}, so windows "
            "far less likely than even to be seizures are called positive at 0.5."))
    if not focal:
        for key in ("loss.alpha", "loss.gamma"):
            if key in loaded.explicit:
                findings.append(finding(key, "warning",
                                        f"{loaded.source_key(key)} is set but the loss is bce, "
                                        "which has no alpha or gamma: the setting is ignored."))
    l_freq, h_freq = cfg.data.l_freq, cfg.data.h_freq
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        findings.append(finding(["data.l_freq", "data.h_freq"], "error",
                                f"high-pass edge l_freq={l_freq:g} Hz is not below low-pass edge "
                                f"h_freq={h_freq:g} Hz: MNE would build a band-stop filter "
                                "(removing that band) instead of a band-pass. Swap them."))
    if not cfg.sampler.balanced and "sampler.target_fraction" in loaded.explicit:
        findings.append(finding("sampler.target_fraction", "warning",
                                "target_fraction is set but sampler.balanced is false: "
                                "the setting is ignored."))
    return report, findings


# --------------------------------------------------------------------------- drift


def format_value(value: Any) -> str:
    """A setting as YAML would write it: null, true, 0.5, auto."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def drift_table(reports: list[ConfigReport], loaded: dict[str, LoadedConfig] | None = None
                ) -> tuple[list[DriftRow], list[Finding]]:
    """Every DRIFT_KEYS setting whose value differs between files, with majority and outliers."""
    rows: list[DriftRow] = []
    findings: list[Finding] = []
    if len(reports) < 2:
        return rows, findings
    n = len(reports)
    for key in DRIFT_KEYS:
        by_file = {r.file: r.settings[key] for r in reports}
        counts = Counter(format_value(v) for v in by_file.values())
        if len(counts) < 2:
            continue
        (top, top_n), (_, second_n) = counts.most_common(2)
        has_majority = top_n > second_n
        values: dict[str, list[str]] = {}
        for file, value in by_file.items():
            values.setdefault(format_value(value), []).append(file)
        majority_value = next((v for v in by_file.values() if format_value(v) == top), None)
        outliers = [f for f, v in by_file.items() if not has_majority or format_value(v) != top]
        rows.append(DriftRow(key, majority_value if has_majority else None, has_majority,
                             values, outliers))
        for file in outliers:
            lc = (loaded or {}).get(file)
            shown = lc.source_key(key) if lc else key
            line = lc.line_of(key) if lc else None
            value = format_value(by_file[file])
            if has_majority:
                msg = (f"drift: {key}={value} here, while {top_n} of {n} files have {top}")
            else:
                spread = ", ".join(f"{v} ({c})" for v, c in counts.most_common())
                msg = f"drift: {key}={value} here; no majority across {n} files: {spread}"
            findings.append(Finding(file, shown, "warning", msg, line))
    return rows, findings


# --------------------------------------------------------------------------- all


def audit_paths(paths, prevalence: float = DEFAULT_PREVALENCE) -> AuditResult:
    """Audit every config file in ``paths`` (files or folders)."""
    prevalence = check_real(prevalence, "prevalence", "audit", low=0, high=1, low_open=True,
                            high_open=True, allowed="a fraction of positive windows in (0, 1)")
    files, findings = collect_files(paths)
    reports: list[ConfigReport] = []
    loaded_by_file: dict[str, LoadedConfig] = {}
    for path in files:
        # One bad file is reported (exit 2) and the others are still audited.
        try:
            loaded = load_config(path)
        except ConfigError as err:
            findings += [Finding(err.file, p.key, "invalid", p.message, p.line)
                         for p in err.problems]
            continue
        except Exception as err:  # noqa: BLE001 - never lose the rest of the folder
            findings.append(Finding(str(path), None, "invalid",
                                    f"cannot read this config ({type(err).__name__}: {err})"))
            continue
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                report, found = audit_config(loaded, prevalence)
        except Exception as err:  # noqa: BLE001 - the file is named, the folder goes on
            findings.append(Finding(str(path), None, "invalid",
                                    f"cannot audit this config ({type(err).__name__}: {err})"))
            continue
        reports.append(report)
        loaded_by_file[loaded.file] = loaded
        findings += found
    rows, drift_findings = drift_table(reports, loaded_by_file)
    findings += drift_findings
    return AuditResult(prevalence=prevalence, configs=reports, drift=rows, findings=findings)


def is_default_prevalence(prevalence: float) -> bool:
    """True when ``prevalence`` is the default 1/13 (the report says it was not chosen)."""
    return math.isclose(prevalence, DEFAULT_PREVALENCE, rel_tol=1e-12)
