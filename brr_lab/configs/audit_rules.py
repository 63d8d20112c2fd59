"""The audit's rules: figures and findings for one config, drift across configs."""
from __future__ import annotations

from collections import Counter
from typing import Any

from brr_lab import weighting
from brr_lab.configs.audit_results import (
    DEFAULT_PREVALENCE, DRIFT_KEYS, ConfigReport, DriftRow, Finding, format_value,
)
from brr_lab.configs.errors import LoadedConfig
from brr_lab.configs.schema import effective_fraction, resolve_pos_weight
from brr_lab.weighting.policy import resolve_weighting

__all__ = ["audit_config", "drift_table"]


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
    return report, _findings(loaded, report, setup, prevalence)


def _findings(loaded: LoadedConfig, report: ConfigReport, setup, prevalence: float) -> list[Finding]:
    return [*_weighting_findings(loaded, report, setup, prevalence), *_setting_findings(loaded)]


def _at(loaded: LoadedConfig, native: str | list[str], severity: str, message: str) -> Finding:
    """A finding on the key(s) as written in the file (the original layout's names too)."""
    natives = [native] if isinstance(native, str) else native
    keys = [loaded.source_key(n) for n in natives]
    return Finding(loaded.file, ", ".join(dict.fromkeys(keys)), severity, message,
                   loaded.line_of(natives[0]))


def _weighting_findings(loaded: LoadedConfig, report: ConfigReport, setup,
                        prevalence: float) -> list[Finding]:
    """Stacking, a silently dropped pos_weight, a lone down-weighting alpha, over-correction."""

    def finding(native, severity, message):
        return _at(loaded, native, severity, message)

    findings: list[Finding] = []
    imbalance = (1 - prevalence) / prevalence
    eff, qs = report.effective_ratio, report.q_star
    # The texts are the policy's (one wording per warning); the audit adds where they apply.
    if setup.stacked:
        findings.append(finding([_MECHANISM_KEYS[m.name] for m in setup.active], "error",
                                f"{setup.warning('stacked')}, against the data's "
                                f"{imbalance:.3g}:1 imbalance."))
    if loaded.dropped_pos_weight:
        findings.append(finding("loss.alpha", "error",  # alpha decides the drop
                                f"{loaded.dropped_pos_weight}; the config does not show it. "
                                f"What trains: effective ratio {eff:.4g}:1, q* = {qs:.3g}."))
    if setup.active_names == ["alpha"] and setup.warning("alpha-down-weights"):
        findings.append(finding("loss.alpha", "warning",
                                f"focal {setup.warning('alpha-down-weights')}, and nothing else "
                                f"corrects the {imbalance:.3g}:1 imbalance: effective ratio "
                                f"{eff:.4g}:1, q* = {qs:.3g} (plain BCE: 0.5)."))
    if setup.warning("over-correction"):
        # Keyed to the sampler when there is one (its fraction is what over-draws), else
        # to the strongest mechanism.
        names = setup.active_names
        culprit = "sampler" if "sampler" in names else max(
            setup.active, key=lambda m: m.odds_factor).name
        findings.append(finding(_MECHANISM_KEYS[culprit], "warning",
                                setup.warning("over-correction") + "."))
    return findings


def _setting_findings(loaded: LoadedConfig) -> list[Finding]:
    """Settings the loss or the sampler ignores; a band-stop filter written as a band-pass."""
    cfg = loaded.config
    findings: list[Finding] = []

    def finding(native, severity, message):
        return _at(loaded, native, severity, message)

    if cfg.loss.kind != "focal":
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
    if cfg.data.label_rule == "any" and "data.min_fraction" in loaded.explicit:
        findings.append(finding("data.min_fraction", "warning",
                                "min_fraction is set but label_rule is 'any' (a window is a seizure "
                                "window on any overlap): the setting is ignored."))
    if not cfg.sampler.balanced and "sampler.target_fraction" in loaded.explicit:
        findings.append(finding("sampler.target_fraction", "warning",
                                "target_fraction is set but sampler.balanced is false: "
                                "the setting is ignored."))
    return findings


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
