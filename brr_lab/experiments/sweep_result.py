"""A sweep's result: one row per setting, scored as ``brr-lab repro`` scores a run, and tables of them.

Each row holds the setting, ``q_star`` and the training loss; on the validation windows at
0.5 the AUROC, AUPRC, predicted-positive rate and recall (with 95% intervals); and, when
event recordings were scored, the SzCORE event keys of :data:`brr_lab.experiments.evaluation.EVENT_KEYS`
at 0.5 and ``threshold_moved`` (the calibration threshold for 10 false alarms per 24 h and
the same figures at it), exactly as :func:`brr_lab.experiments.evaluation.evaluate_run` writes them.
:meth:`SweepResult.values` reads a metric per setting; the ``moved_*`` metrics read
``threshold_moved`` (``moved_event_sensitivity``: event sensitivity at the fixed
false-alarm budget).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from brr_lab import weighting
from brr_lab._validation import invalid
from brr_lab.eeg.cohort import Cohort
from brr_lab.experiments.evaluation import (EVENT_METHOD, THRESHOLD, TARGET_FA_PER_24H, EventEvaluation,
                                threshold_moved_row)
from brr_lab.experiments.evidence import bootstrap_intervals
from brr_lab.training.metrics import binary_metrics

if TYPE_CHECKING:
    from brr_lab.experiments.sweep import SweepSetting

__all__ = ["METRICS", "EVENT_METRICS", "SETTING_KEYS", "SweepResult", "score_row", "event_evidence"]

METRICS = ("auroc", "auprc", "pred_pos_rate", "recall", "train_loss")
# Event metrics at 0.5 and (moved_*) at the calibration threshold for 10 false alarms per 24 h.
EVENT_METRICS = ("event_sensitivity", "fa_per_24h", "moved_event_sensitivity", "moved_fa_per_24h",
                 "moved_threshold")
SETTING_KEYS = ("alpha", "gamma", "pos_weight", "sampler_fraction", "seed")
_WINDOW_KEYS = ("auroc", "auprc", "pred_pos_rate", "recall")


def score_row(setting, data: Cohort, logits: Tensor, train_loss: float, intervals: bool,
              events: EventEvaluation | None = None) -> dict:
    """One setting's row (see the module docstring); a diverged copy gets no figures, never a number."""
    val = data.validation
    pi = float(data.train.y.mean())
    row = {**setting.as_dict(), "q_star": float(weighting.q_star(pi, setting.alpha, setting.pos_weight,
                                                                  setting.sampler_fraction)),
           "train_loss": train_loss}
    finite = bool(torch.isfinite(logits).all())
    if finite:
        m = binary_metrics(val.y, logits, threshold=THRESHOLD)
        row.update({k: m[k] for k in _WINDOW_KEYS})
        if intervals:
            row.update(bootstrap_intervals(val.y, logits, val.recording, threshold=THRESHOLD))
    else:
        row.update({k: None for k in _WINDOW_KEYS}, diverged=True)
    if events is not None:
        row.update(events.at(THRESHOLD), event_method=EVENT_METHOD)
        row["threshold_moved"] = threshold_moved_row(events, val.y, logits) if finite else None
    return row


def event_evidence(data: Cohort) -> dict:
    """What a sweep's event scores rest on: validation and calibration event recordings."""
    val, cal = data.event_size("validation"), data.event_size("calibration")
    return {"n_event_recordings": val["n_recordings"], "n_event_seizures": val["n_seizures"],
            "event_hours": val["hours"], "event_background_hours": val["background_hours"],
            "calibration_event_hours": cal["hours"], "target_fa_per_24h": TARGET_FA_PER_24H}


@dataclass
class SweepResult:
    """Per-setting figures after training: ``rows`` (one dict per setting) and the logits."""

    settings: list["SweepSetting"]
    rows: list[dict]
    val_logits: Tensor = field(repr=False)   # (K, n_val), on the CPU
    train_prevalence: float
    evidence: dict                          # n_val_recordings, n_val_seizures, n_val_windows, ...
    epochs: int
    device: str
    strategy: str
    seconds: float

    def values(self, metric: str) -> np.ndarray:
        """``metric`` per setting, NaN where undefined: one of :data:`METRICS`,
        :data:`EVENT_METRICS` or ``q_star``."""
        if metric == "q_star":
            return np.array([r["q_star"] for r in self.rows], dtype=float)
        if metric not in METRICS + EVENT_METRICS:
            raise invalid("metric", "SweepResult", f"one of {list(METRICS + EVENT_METRICS) + ['q_star']}",
                          metric)
        if metric in EVENT_METRICS and "event_sensitivity" not in self.rows[0]:
            raise invalid("metric", "SweepResult", "a metric the sweep measured (train_sweep(events=True) "
                          "for event metrics)", metric)

        def read(row):
            if metric.startswith("moved_"):
                moved = row.get("threshold_moved")
                key = "threshold" if metric == "moved_threshold" else metric[len("moved_"):]
                return None if moved is None else moved[key]
            return row[metric]
        return np.array([np.nan if read(r) is None else read(r) for r in self.rows], dtype=float)

    def as_dict(self) -> dict:
        """Everything except the logits, ready for JSON."""
        return {"device": self.device, "strategy": self.strategy, "seconds": self.seconds,
                "epochs": self.epochs, "n_settings": len(self.settings),
                "train_prevalence": self.train_prevalence, **self.evidence, "settings": self.rows}

    def to_text(self, source: str) -> str:
        """The sweep as a terminal table (``brr-lab sweep``): one line per setting, then what
        the figures rest on; ``source`` names the data (``Cohort.describe()``)."""
        from tabulate import tabulate

        e, events = self.evidence, bool(self.rows) and "event_sensitivity" in self.rows[0]
        head = ["alpha", "gamma", "pos_w", "sampler", "seed", "q*", "AUROC", "95% CI", "AUPRC", "pred+"]
        if events:
            head += ["sens@.5", "FA/d", f"thr@{TARGET_FA_PER_24H:g}", "sens", "FA/d"]
        body = [_text_row(r, events) for r in self.rows]
        lines = [source, f"{len(self.rows)} settings, {self.epochs} epochs, {self.seconds:.1f} s on "
                 f"{self.device}; scored on {e['n_val_recordings']} validation recordings "
                 f"({e['n_val_seizures']} seizures, {e['n_val_windows']} windows)", "",
                 tabulate(body, headers=head, tablefmt="simple", disable_numparse=True,
                          colalign=("right",) * len(head)), "",
                 f"AUPRC of a constant model = validation prevalence ({e['val_prevalence']:.3f}); "
                 "pred+ = share of validation windows with p >= 0.5; q* = posterior above which the "
                 "loss minimiser says positive at 0.5; 95% CI: bootstrap over validation recordings."]
        if events:
            lines.append(f"events (SzCORE) on {e['n_event_seizures']} seizures in "
                         f"{e['n_event_recordings']} validation event recordings ({e['event_hours']:.1f} h): "
                         f"sens = event sensitivity, FA/d = false alarms per 24 h, at 0.5 and at "
                         f"thr@{TARGET_FA_PER_24H:g}, the threshold chosen on "
                         f"{e['calibration_event_hours']:.1f} h of calibration recordings for at most "
                         f"{TARGET_FA_PER_24H:g} per 24 h.")
        return "\n".join(lines)

    def pivot(self, metric: str, index: str = "alpha", columns: str = "pos_weight",
              **fixed) -> tuple[list, list, np.ndarray]:
        """A 2-D table of ``metric`` over two setting keys, averaged over seeds.

        Every other key that varies in the grid must be pinned in ``fixed`` (for example
        ``gamma=2.0``), so no cell silently mixes settings. Returns ``(index_values,
        column_values, table)``; a combination absent from the grid is NaN.
        """
        values = self.values(metric)
        for name in (index, columns, *fixed):
            if name not in SETTING_KEYS:
                raise invalid("index/columns/fixed", "SweepResult.pivot",
                              f"setting keys from {list(SETTING_KEYS)}", name)
        chosen = [k for k, s in enumerate(self.settings)
                  if all(getattr(s, key) == v for key, v in fixed.items())]
        free = {key for key in SETTING_KEYS if key not in (index, columns, "seed", *fixed)
                and len({getattr(self.settings[k], key) for k in chosen}) > 1}
        if free:
            raise invalid("fixed", "SweepResult.pivot",
                          f"a value for every other key that varies (here {sorted(free)})", fixed)
        rows = _ordered({getattr(self.settings[k], index) for k in chosen})
        cols = _ordered({getattr(self.settings[k], columns) for k in chosen})
        table = np.full((len(rows), len(cols)), np.nan)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                cell = [values[k] for k in chosen if getattr(self.settings[k], index) == r
                        and getattr(self.settings[k], columns) == c]
                if cell:
                    table[i, j] = float(np.mean(cell))
        return rows, cols, table


def _text_row(r: dict, events: bool) -> list[str]:
    def fmt(v, spec):  # None and NaN (undefined) read as "none", like a missing value
        return "none" if v is None or v != v else format(v, spec)
    ci = r.get("auroc_ci") or [None, None]
    row = [fmt(r["alpha"], "g"), f"{r['gamma']:g}", fmt(r["pos_weight"], "g"),
           fmt(r["sampler_fraction"], "g"), str(r["seed"]), f"{r['q_star']:.3f}", fmt(r["auroc"], ".3f"),
           "n/a" if None in ci else f"{ci[0]:.2f}-{ci[1]:.2f}", fmt(r["auprc"], ".3f"),
           fmt(r["pred_pos_rate"], ".1%")]
    if events:
        m = r.get("threshold_moved") or {}
        row += [fmt(r["event_sensitivity"], ".2f"), fmt(r["fa_per_24h"], ".1f"),
                fmt(m.get("threshold"), ".3g"), fmt(m.get("event_sensitivity"), ".2f"),
                fmt(m.get("fa_per_24h"), ".1f")]
    return row


def _ordered(values: set) -> list:
    # None ("off") first, then numbers ascending.
    return sorted(values, key=lambda v: (v is not None, -math.inf if v is None else v))
