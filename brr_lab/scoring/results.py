"""Result types of event scoring: dataclasses with ``as_dict()`` (JSON-safe) and ``to_text()``."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np

from brr_lab.scoring.intervals import BINOMIAL_METHOD, POISSON_METHOD

AVERAGING = "micro: seizure, detection and false-alarm counts and hours pooled over all recordings " \
            "(as EpilepsyBench reports), then one ratio"


def json_safe(value: Any) -> Any:
    """Plain JSON types: non-finite floats become None, tuples and arrays lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return json_safe(value.as_dict() if hasattr(value, "as_dict") else
                         {f.name: getattr(value, f.name) for f in fields(value)})
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _f(value: float, spec: str = ".3f") -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, spec)


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


@dataclass(frozen=True)
class RecordingCounts:
    """One recording's SzCORE counts (seizures after SzCORE's merge/split)."""

    name: str
    duration_s: float
    scored_seconds: int
    n_seizures: int
    n_detected: int
    n_false_alarms: int
    uncovered_seconds: int

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class WindowScores:
    """Window-level scores: a window is a seizure window if it overlaps a seizure; threshold only."""

    n_windows: int
    n_positive: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def sensitivity(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def specificity(self) -> float:
        return _ratio(self.tn, self.tn + self.fp)

    @property
    def f1(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def as_dict(self) -> dict:
        return json_safe({"rule": "a window is positive if it overlaps a seizure; predicted positive if "
                                  "probability >= threshold (no post-processing)",
                          "n_windows": self.n_windows, "n_positive": self.n_positive, "tp": self.tp,
                          "fp": self.fp, "fn": self.fn, "tn": self.tn, "sensitivity": self.sensitivity,
                          "precision": self.precision, "specificity": self.specificity, "f1": self.f1})


@dataclass(frozen=True)
class EventScores:
    """SzCORE event scores at one threshold, pooled over recordings, with 95% intervals."""

    threshold: float
    recordings: tuple[RecordingCounts, ...]
    window: WindowScores
    parameters: dict

    @property
    def n_recordings(self) -> int:
        return len(self.recordings)

    @property
    def n_seizures(self) -> int:
        return sum(r.n_seizures for r in self.recordings)

    @property
    def n_detected(self) -> int:
        return sum(r.n_detected for r in self.recordings)

    @property
    def n_false_alarms(self) -> int:
        return sum(r.n_false_alarms for r in self.recordings)

    @property
    def hours(self) -> float:
        return sum(r.scored_seconds for r in self.recordings) / 3600.0

    @property
    def uncovered_seconds(self) -> int:
        return sum(r.uncovered_seconds for r in self.recordings)

    @property
    def sensitivity(self) -> float:
        return _ratio(self.n_detected, self.n_seizures)

    @property
    def precision(self) -> float:
        return _ratio(self.n_detected, self.n_detected + self.n_false_alarms)

    @property
    def f1(self) -> float:
        tp, fp, fn = self.n_detected, self.n_false_alarms, self.n_seizures - self.n_detected
        return _ratio(2 * tp, 2 * tp + fp + fn)

    @property
    def fa_per_24h(self) -> float:
        return _ratio(self.n_false_alarms * 24.0, self.hours)

    @property
    def sensitivity_ci(self) -> tuple[float, float]:
        from brr_lab.scoring.intervals import binomial_ci
        return binomial_ci(self.n_detected, self.n_seizures)

    @property
    def precision_ci(self) -> tuple[float, float]:
        """Clopper-Pearson on the detections that were seizures, each detection one trial."""
        from brr_lab.scoring.intervals import binomial_ci
        return binomial_ci(self.n_detected, self.n_detected + self.n_false_alarms)

    @property
    def fa_per_24h_ci(self) -> tuple[float, float]:
        from brr_lab.scoring.intervals import poisson_rate_ci
        return poisson_rate_ci(self.n_false_alarms, self.hours) if self.hours > 0 else (math.nan, math.nan)

    @property
    def notes(self) -> list[str]:
        """Cautions about what these scores can show (short recordings holding seizures)."""
        limit = self.parameters.get("max_event_s", 300.0)
        short = sum(1 for r in self.recordings if r.n_seizures and r.scored_seconds <= limit)
        if not short:
            return []
        return [f"{short} recording(s) hold a seizure and last <= {limit:g} s (SzCORE's longest event): "
                f"there a detector that calls every second a seizure scores no false alarm. False-alarm "
                f"rates need long seizure-free stretches (hours)."]

    def as_dict(self) -> dict:
        return json_safe({
            "threshold": self.threshold, "sensitivity": self.sensitivity,
            "sensitivity_ci": self.sensitivity_ci, "precision": self.precision,
            "precision_ci": self.precision_ci, "f1": self.f1,
            "fa_per_24h": self.fa_per_24h, "fa_per_24h_ci": self.fa_per_24h_ci, "hours": self.hours,
            "n_seizures": self.n_seizures, "n_detected": self.n_detected,
            "n_false_alarms": self.n_false_alarms, "n_recordings": self.n_recordings,
            "uncovered_seconds": self.uncovered_seconds, "averaging": AVERAGING,
            "intervals": {"sensitivity_ci": BINOMIAL_METHOD, "precision_ci": BINOMIAL_METHOD,
                          "fa_per_24h_ci": POISSON_METHOD, "f1": "no interval (no exact one)"},
            "parameters": self.parameters, "window_level": self.window.as_dict(),
            "notes": self.notes, "recordings": [r.as_dict() for r in self.recordings],
        })

    def to_text(self) -> str:
        s_lo, s_hi = self.sensitivity_ci
        p_lo, p_hi = self.precision_ci
        f_lo, f_hi = self.fa_per_24h_ci
        w = self.window
        p = self.parameters
        post = ", ".join(p["post_processing"]) or "none beyond SzCORE's"
        lines = [
            f"SzCORE event scores at threshold {self.threshold:g}: micro-averaged, counts pooled over "
            f"{self.n_recordings} recording(s), {self.hours:.2f} h",
            f"  sensitivity  {_f(self.sensitivity)}  95% CI [{_f(s_lo)}, {_f(s_hi)}]  "
            f"({self.n_detected} of {self.n_seizures} seizures; Clopper-Pearson)",
            f"  precision    {_f(self.precision)}  95% CI [{_f(p_lo)}, {_f(p_hi)}]  "
            f"({self.n_detected} of {self.n_detected + self.n_false_alarms} detections; Clopper-Pearson)",
            f"  F1           {_f(self.f1)}  (no interval: none is exact)",
            f"  FA per 24 h  {_f(self.fa_per_24h, '.2f')}  95% CI [{_f(f_lo, '.2f')}, {_f(f_hi, '.2f')}]  "
            f"({self.n_false_alarms} false alarm(s) in {self.hours:.2f} h; exact Poisson)",
            f"window level: sensitivity {_f(w.sensitivity)}, precision {_f(w.precision)}, F1 {_f(w.f1)}, "
            f"specificity {_f(w.specificity)} ({w.n_positive} seizure windows of {w.n_windows})",
            f"parameters: tolerance -{p['tolerance_start_s']:g} s / +{p['tolerance_end_s']:g} s, "
            f"min overlap {p['min_overlap']:g}, merge events < {p['min_gap_s']:g} s apart, split events "
            f"> {p['max_event_s']:g} s ({'SzCORE defaults' if p['szcore_defaults'] else 'NOT SzCORE defaults'}); "
            f"post-processing: {post}",
            f"seconds no window covers (scored as 0): {self.uncovered_seconds}",
        ] + [f"note: {n}" for n in self.notes]
        return "\n".join(lines)
