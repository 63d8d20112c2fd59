"""Choose a decision threshold on a calibration set; score it on a separate validation set.

Candidates: every distinct per-second probability of the calibration set (after
the mask rule and any smoothing; detections change only there) plus one value just
above the highest (no detection at all). With more than ``max_candidates``
distinct values the search is coarse-to-fine: first ``max_candidates`` values
evenly spaced by rank (lowest and highest kept), then every distinct value
between the best coarse candidate's two neighbours. Or pass ``candidates=`` (a
fixed grid, searched as given). A second is positive when its probability is
``>= threshold``.

Rules (targets are met on the CALIBRATION set):

- ``target_fa_per_24h`` (default 10): among candidates with FA/24h <= target,
  the highest sensitivity; ties go to fewer false alarms, then to the LOWER
  threshold (the edge of the false-alarm budget, as "the threshold at X FA/24h"
  is usually read). Detecting nothing always qualifies, so a choice exists.
- ``target_sensitivity``: among candidates with sensitivity >= target, the
  fewest false alarms; ties go to higher sensitivity, then to the HIGHER
  threshold (the edge of the sensitivity target). If no candidate reaches the
  target, the highest sensitivity is taken and ``met_target`` is False.

:func:`validate_threshold` refuses validation windows that overlap calibration
windows (same recording, overlapping time): a threshold scored on the data it
was chosen on gives an optimistic operating point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from brr_lab._validation import check_real, invalid
from brr_lab.scoring.events import EventScorer, SzcoreParameters
from brr_lab.scoring.inputs import ScoringData, from_windowset, merge_spans
from brr_lab.scoring.masks import PostProcessing
from brr_lab.scoring.results import EventScores, json_safe

DEFAULT_MAX_CANDIDATES = 200
CANDIDATE_RULE = ("distinct per-second calibration probabilities plus one above the highest (coarse-to-"
                  "fine over {n} rank-spaced values when there are more); positive if probability >= "
                  "threshold")
TIE_RULE = {"fa_per_24h": "max sensitivity with FA/24h <= target; ties: fewer false alarms, then lower "
                          "threshold",
            "sensitivity": "min false alarms with sensitivity >= target; ties: higher sensitivity, then "
                           "higher threshold"}


def _as_data(data, probabilities, param: str, where: str) -> ScoringData:
    if isinstance(data, ScoringData):
        if probabilities is not None:
            raise invalid(f"{param}_probabilities", where, "None when ScoringData is given",
                          type(probabilities).__name__)
        return data
    if probabilities is None:
        raise invalid(f"{param}_probabilities", where, "one probability per window of the WindowSet",
                      None)
    return from_windowset(data, probabilities, where=where)


def _spans(data: ScoringData) -> dict[str, tuple[tuple[float, float], ...]]:
    pred = data.predictions
    return {name: merge_spans(zip(pred.start_s[idx], pred.stop_s[idx]))
            for name in data.truth if (idx := data.windows_of(name)).size}


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold chosen on calibration data, with the calibration operating point."""

    threshold: float
    target: str                 # "fa_per_24h" or "sensitivity"
    target_value: float
    met_target: bool
    calibration: EventScores
    n_candidates: int
    max_candidates: int | None
    calibration_spans: dict = field(repr=False, compare=False, default_factory=dict)
    parameters: SzcoreParameters = field(repr=False, default_factory=SzcoreParameters)
    postprocessing: PostProcessing = field(repr=False, default_factory=PostProcessing)

    def as_dict(self) -> dict:
        rule = (CANDIDATE_RULE.format(n=self.max_candidates) if self.max_candidates
                else "the thresholds given (candidates=)")
        cal = self.calibration.as_dict()
        cal.pop("recordings")
        return json_safe({"threshold": self.threshold, "target": self.target,
                          "target_value": self.target_value, "met_target": self.met_target,
                          "chosen_on": "calibration set only", "candidates": rule,
                          "n_candidates": self.n_candidates, "tie_rule": TIE_RULE[self.target],
                          "calibration": cal})

    def to_text(self) -> str:
        goal = ("FA/24h <= " if self.target == "fa_per_24h" else "sensitivity >= ") + f"{self.target_value:g}"
        met = "" if self.met_target else " (NOT met: highest sensitivity reachable taken)"
        return (f"threshold {self.threshold:.6g} chosen on the calibration set for {goal}{met}, "
                f"from {self.n_candidates} candidates ({TIE_RULE[self.target]})\n"
                f"calibration operating point:\n" + self.calibration.to_text())


@dataclass(frozen=True)
class ValidatedThreshold:
    """A calibration choice and its operating point on separate validation data."""

    choice: ThresholdChoice
    validation: EventScores

    def as_dict(self) -> dict:
        return json_safe({**self.validation.as_dict(), "threshold_choice": self.choice.as_dict()})

    def to_text(self) -> str:
        return (self.validation.to_text() + "\n\nthreshold chosen on a separate calibration set:\n"
                + self.choice.to_text())


def _grid(candidates) -> np.ndarray:
    grid = np.unique(np.asarray(candidates, dtype=np.float64).reshape(-1))
    if grid.size == 0 or not np.all(np.isfinite(grid)) or grid.min() < 0:
        raise invalid("candidates", "choose_threshold", "a non-empty list of finite thresholds >= 0",
                      candidates)
    return grid


def choose_threshold(cal_windows, cal_probabilities=None, target_fa_per_24h: float | None = 10.0, *,
                     target_sensitivity: float | None = None, candidates=None,
                     max_candidates: int = DEFAULT_MAX_CANDIDATES,
                     parameters: SzcoreParameters | None = None,
                     postprocessing: PostProcessing | None = None) -> ThresholdChoice:
    """Pick a threshold on calibration data (a WindowSet and its probabilities, or ScoringData).

    Give ``target_sensitivity`` to aim at a sensitivity instead of the default
    10 false alarms per 24 h (the FA target is then ignored). See the module
    docstring for candidates and ties.
    """
    where = "choose_threshold"
    data = _as_data(cal_windows, cal_probabilities, "cal", where)
    if target_sensitivity is not None:
        target, goal = "sensitivity", check_real(target_sensitivity, "target_sensitivity", where,
                                                 low=0.0, high=1.0)
    elif target_fa_per_24h is not None:
        target, goal = "fa_per_24h", check_real(target_fa_per_24h, "target_fa_per_24h", where, low=0.0)
    else:
        raise invalid("target_fa_per_24h", where, "a rate >= 0 unless target_sensitivity is given", None)
    if isinstance(max_candidates, bool) or not isinstance(max_candidates, int) or max_candidates < 2:
        raise invalid("max_candidates", where, "an integer >= 2", max_candidates)
    scorer = EventScorer(data, parameters, postprocessing)
    values = scorer.candidate_values()
    none = float(np.nextafter(values[-1], np.inf))  # detects nothing
    if scorer.score(none).n_seizures == 0:
        raise invalid("cal_windows", where, "calibration data holding at least one seizure",
                      "recordings without seizures")
    coarse = np.arange(values.size)
    if candidates is None and values.size > max_candidates:
        coarse = np.unique(np.round(np.linspace(0, values.size - 1, max_candidates)).astype(int))
    grid = _grid(candidates) if candidates is not None else np.append(values[coarse], none)
    results = {float(t): scorer.score(float(t)) for t in grid}

    def key(r: EventScores):  # larger is better
        sens = -1.0 if math.isnan(r.sensitivity) else r.sensitivity
        if target == "fa_per_24h":
            return (r.fa_per_24h <= goal + 1e-12, sens, -r.n_false_alarms, -r.threshold)
        ok = sens >= goal - 1e-12
        return (ok, -r.n_false_alarms if ok else sens, sens, r.threshold)

    best = max(results.values(), key=key)
    if candidates is None and coarse.size < values.size and best.threshold != none:
        at = int(np.searchsorted(values[coarse], best.threshold))
        lo, hi = coarse[max(at - 1, 0)], coarse[min(at + 1, coarse.size - 1)]
        results.update({float(t): scorer.score(float(t)) for t in values[lo:hi + 1]
                        if float(t) not in results})
        best = max(results.values(), key=key)
    met = key(best)[0]
    return ThresholdChoice(threshold=best.threshold, target=target, target_value=goal, met_target=bool(met),
                           calibration=best, n_candidates=len(results),
                           max_candidates=None if candidates is not None else max_candidates,
                           calibration_spans=_spans(data), parameters=scorer.parameters,
                           postprocessing=scorer.post)


def _overlapping(a: dict, b: dict) -> list[str]:
    shared = []
    for name in sorted(set(a) & set(b)):
        if any(x0 < y1 and y0 < x1 for x0, x1 in a[name] for y0, y1 in b[name]):
            shared.append(name)
    return shared


def validate_threshold(choice: ThresholdChoice, val_windows, val_probabilities=None) -> ValidatedThreshold:
    """Score ``choice.threshold`` on validation data that shares no window with the calibration data.

    The SzCORE parameters and post-processing are the ones the threshold was chosen with.
    """
    where = "validate_threshold"
    if not isinstance(choice, ThresholdChoice):
        raise invalid("choice", where, "a ThresholdChoice from choose_threshold", type(choice).__name__)
    data = _as_data(val_windows, val_probabilities, "val", where)
    clash = _overlapping(choice.calibration_spans, _spans(data))
    if clash:
        shown = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise invalid("val_windows", where,
                      "data the threshold was not chosen on (scoring a threshold on its own calibration "
                      "data gives an optimistic operating point)",
                      f"windows of {shown} that overlap the calibration windows")
    scores = EventScorer(data, choice.parameters, choice.postprocessing).score(choice.threshold)
    return ValidatedThreshold(choice=choice, validation=scores)
