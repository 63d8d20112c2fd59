"""Audit a set of training configs: stacked class weighting per file, drift across files.

Per config, the weighting mechanisms are resolved by :func:`brr_lab.weighting.policy.resolve_weighting`
(``allow_stacked=True``: reported, not refused) and the effective ratio, q* and p* come
from :mod:`brr_lab.weighting`. ``pos_weight: auto``/``sqrt`` and a ``sqrt`` sampler depend
on the data's prevalence, which the caller states (default 1/13, TUSZ-like).

Severities: ``error`` - the config does not train what it appears to (stacked mechanisms,
a pos_weight the original code drops silently); ``warning`` - a likely mistake (alpha < 0.5
with no other correction, over-correction, a setting the loss ignores, drift);
``invalid`` - a file that cannot be read or does not validate.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from brr_lab._validation import check_real
from brr_lab.configs.audit_results import (
    DEFAULT_PREVALENCE, DRIFT_KEYS, AuditResult, ConfigReport, DriftRow, Finding, format_value,
    is_default_prevalence,
)
from brr_lab.configs.audit_rules import audit_config, drift_table
from brr_lab.configs.errors import ConfigError, LoadedConfig
from brr_lab.configs.loading import load_config

__all__ = [
    "DEFAULT_PREVALENCE", "DRIFT_KEYS", "Finding", "ConfigReport", "DriftRow", "AuditResult",
    "collect_files", "audit_config", "drift_table", "audit_paths", "format_value",
    "is_default_prevalence",
]

CONFIG_SUFFIXES = (".yaml", ".yml")


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
