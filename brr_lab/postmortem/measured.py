"""What the trained runs of one scenario measured, with intervals and the evidence's size, in words.

Reads the rows of :func:`brr_lab.experiments.repro.run_repro` (one per seed). Event scores
(``event_sensitivity``, ``fa_per_24h``, with ``_ci`` intervals) are read when a row has
them and shown as "not measured" otherwise.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from brr_lab._validation import invalid

__all__ = ["Measured", "by_scenario", "is_nan"]

_ROW_KEYS = ("scenario", "seed", "auroc", "auroc_ci", "pred_pos_rate", "pred_pos_rate_ci",
             "prevalence", "effective_ratio", "n_val_recordings", "n_val_seizures", "n_val_windows",
             "val_hours")


def is_nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _range(values, fmt) -> str:
    return _span(min(values), max(values), fmt)


def _span(lo, hi, fmt) -> str:
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}-{fmt(hi)}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if x >= 0.1 else f"{100 * x:.1f}%"


def _f2(x: float) -> str:
    return f"{x:.2f}"


@dataclass(frozen=True)
class Measured:
    """The rows of one scenario (one per seed)."""

    scenario: str
    rows: tuple

    @property
    def n_seeds(self) -> int:
        return len(self.rows)

    def size(self) -> dict:
        """The evidence's size: validation recordings, seizures, windows, hours, and seeds."""
        r = self.rows[0]
        return {"recordings": r["n_val_recordings"], "seizures": r["n_val_seizures"],
                "windows": r["n_val_windows"], "hours": round(r["val_hours"], 2),
                "seeds": self.n_seeds}

    def size_text(self) -> str:
        s = self.size()
        return (f"{s['seizures']} seizures in {s['recordings']} validation recordings "
                f"({s['windows']} windows, {s['hours']:.1f} h), {s['seeds']} seeds")

    def count(self, test) -> int:
        """In how many seeds ``test(row)`` holds."""
        return sum(bool(test(r)) for r in self.rows)

    def aurocs(self) -> list[float]:
        return [r["auroc"] for r in self.rows if not is_nan(r["auroc"])]

    def auroc_text(self) -> str:
        values = self.aurocs()
        if not values:
            return f"AUROC undefined in all {self.n_seeds} seeds"
        lows = [r["auroc_ci"][0] for r in self.rows if not is_nan(r["auroc_ci"][0])]
        highs = [r["auroc_ci"][1] for r in self.rows if not is_nan(r["auroc_ci"][1])]
        same = _f2(min(values)) == _f2(max(values))
        text = (f"AUROC median {statistics.median(values):.2f} ("
                + (f"{_f2(values[0])} in every seed" if same else f"seeds {_range(values, _f2)}"))
        if lows and highs:
            text += f"; per-seed 95% intervals within {min(lows):.2f}-{max(highs):.2f}"
        return text + ")"

    def trained_ratio_text(self) -> str:
        """The effective ratio these runs trained at: the cohort's imbalance, not the postmortem's 12."""
        return f"trained at this cohort's effective {self.rows[0]['effective_ratio']:.3g}:1"

    def rate_text(self) -> str:
        """The share of validation windows called positive at the row's threshold."""
        rates = [r["pred_pos_rate"] for r in self.rows]
        lows = [r["pred_pos_rate_ci"][0] for r in self.rows]
        highs = [r["pred_pos_rate_ci"][1] for r in self.rows]
        return (f"{_range(rates, _pct)} of windows called positive at threshold 0.5 "
                f"(per-seed 95% intervals within {_span(min(lows), max(highs), _pct)}; "
                f"prevalence {_pct(self.rows[0]['prevalence'])})")

    def events_text(self, *, moved: bool = False) -> str:
        """Event sensitivity and false alarms per 24 h (at 0.5, or with ``moved`` at the
        calibration threshold), or "not measured" when the rows carry none."""
        rows = [r.get("threshold_moved") or {} for r in self.rows] if moved else list(self.rows)
        if moved and not all("threshold" in r for r in rows):
            return "at a threshold chosen on calibration recordings: not measured"
        if not rows or any(is_nan(r.get("event_sensitivity")) or is_nan(r.get("fa_per_24h"))
                           for r in rows):
            return "event sensitivity and false alarms per 24 h: not measured"
        sens = [r["event_sensitivity"] for r in rows]
        fas = [r["fa_per_24h"] for r in rows]
        text = (f"event sensitivity {_range(sens, _f2)}{self._ci(rows, 'event_sensitivity', _f2)}, "
                f"{_range(fas, lambda x: f'{x:.1f}')} false alarms per 24 h"
                f"{self._ci(rows, 'fa_per_24h', lambda x: f'{x:.1f}')}")
        if moved:
            thresholds = [r["threshold"] for r in rows if "threshold" in r]
            target = rows[0].get("target") or {}
            goal = (f" for at most {target['fa_per_24h']:g} false alarms per 24 h"
                    if isinstance(target, dict) and "fa_per_24h" in target else "")
            text = (f"at thresholds {_range(thresholds, lambda x: f'{x:.3f}')} chosen on the "
                    f"calibration recordings{goal}: " + text)
        first = self.rows[0]
        if first.get("n_event_seizures") is not None and first.get("event_hours") is not None:
            text += (f" (on {first['n_event_seizures']} seizures, "
                     f"{first['event_hours']:.1f} h of recordings)")
        return text

    @staticmethod
    def _ci(rows, key, fmt) -> str:
        cis = [r.get(f"{key}_ci") for r in rows]
        if any(ci is None or any(is_nan(v) for v in ci) for ci in cis):
            return ""
        return f" (per-seed 95% intervals within {fmt(min(c[0] for c in cis))}-{fmt(max(c[1] for c in cis))})"


def by_scenario(rows: list[dict], needed) -> dict[str, Measured]:
    """The rows grouped by scenario; an error naming what is missing if a needed one is absent."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
        raise invalid("rows", "brr_lab.postmortem", "a list of run_repro rows (dicts)", type(rows).__name__)
    for r in rows:
        missing = [k for k in _ROW_KEYS if k not in r]
        if missing:
            raise invalid("rows", "brr_lab.postmortem", f"rows with the keys {list(_ROW_KEYS)}",
                          f"a row without {missing}")
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["scenario"], []).append(r)
    absent = [name for name in needed if name not in groups]
    if absent:
        raise invalid("rows", "brr_lab.postmortem", f"rows of the scenarios {list(needed)}",
                      f"rows without {absent}")
    return {name: Measured(name, tuple(rs)) for name, rs in groups.items()}
