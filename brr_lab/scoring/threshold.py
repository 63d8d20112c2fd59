"""Choose a decision threshold on a calibration set; score it on a separate validation set.

Candidates: every distinct per-second probability of the calibration set (after
the mask rule and any smoothing; detections change only there) plus one value just
above the highest (no detection at all). Up to ``max_candidates`` distinct values
every candidate is scored. With more (hours of recordings give tens of thousands,
and each score runs timescoring on every recording) the search is a bisection over
the candidates' ranks: sensitivity and false-alarm counts fall as the threshold
rises (up to SzCORE's merging and splitting, which can move a count by one), so the
edges the rules below look for (the lowest threshold within the false-alarm budget,
the highest reaching the sensitivity target, and the edges of their ties) are found
in about 15 scores each, and every candidate within ``neighbours`` ranks of each
edge is scored as well; the rule then picks among all candidates scored. Or pass
``candidates=`` (a fixed grid, searched as given). A second is positive when its
probability is ``>= threshold``.

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

from brr_lab._validation import check_int, check_real, invalid
from brr_lab.scoring.events import EventScorer, SzcoreParameters
from brr_lab.scoring.inputs import ScoringData, from_windowset, merge_spans
from brr_lab.scoring.masks import PostProcessing
from brr_lab.scoring.results import EventScores, json_safe

DEFAULT_MAX_CANDIDATES = 200
DEFAULT_NEIGHBOURS = 8
CANDIDATE_RULE = ("distinct per-second calibration probabilities plus one above the highest (all of them "
                  "up to {n}; beyond, bisection over their ranks for the rule's edges, with the {k} "
                  "candidates either side of each edge); positive if probability >= threshold")
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
    neighbours: int = DEFAULT_NEIGHBOURS
    calibration_spans: dict = field(repr=False, compare=False, default_factory=dict)
    parameters: SzcoreParameters = field(repr=False, default_factory=SzcoreParameters)
    postprocessing: PostProcessing = field(repr=False, default_factory=PostProcessing)

    def as_dict(self) -> dict:
        rule = (CANDIDATE_RULE.format(n=self.max_candidates, k=self.neighbours) if self.max_candidates
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
                     neighbours: int = DEFAULT_NEIGHBOURS,
                     parameters: SzcoreParameters | None = None,
                     postprocessing: PostProcessing | None = None) -> ThresholdChoice:
    """Pick a threshold on calibration data (a WindowSet and its probabilities, or ScoringData).

    Give ``target_sensitivity`` to aim at a sensitivity instead of the default
    10 false alarms per 24 h (the FA target is then ignored). See the module
    docstring for candidates, the search and ties.
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
    max_candidates = check_int(max_candidates, "max_candidates", where, low=2, allowed="an integer >= 2")
    neighbours = check_int(neighbours, "neighbours", where, low=0, allowed="an integer >= 0")
    scorer = EventScorer(data, parameters, postprocessing)
    values = scorer.candidate_values()
    none = float(np.nextafter(values[-1] if values.size else 0.0, np.inf))  # detects nothing
    if scorer.score(none).n_seizures == 0:
        raise invalid("cal_windows", where, "calibration data holding at least one seizure",
                      "recordings without seizures")

    def key(r: EventScores):  # larger is better
        sens = -1.0 if math.isnan(r.sensitivity) else r.sensitivity
        if target == "fa_per_24h":
            return (r.fa_per_24h <= goal + 1e-12, sens, -r.n_false_alarms, -r.threshold)
        ok = sens >= goal - 1e-12
        return (ok, -r.n_false_alarms if ok else sens, sens, r.threshold)

    if candidates is not None:
        results = {float(t): scorer.score(float(t)) for t in _grid(candidates)}
    elif values.size <= max_candidates:
        results = {float(t): scorer.score(float(t)) for t in np.append(values, none)}
    else:
        results = _bisection(scorer, np.append(values, none), target, goal, neighbours)
    best = max(results.values(), key=key)
    met = key(best)[0]
    return ThresholdChoice(threshold=best.threshold, target=target, target_value=goal, met_target=bool(met),
                           calibration=best, n_candidates=len(results),
                           max_candidates=None if candidates is not None else max_candidates,
                           neighbours=neighbours, calibration_spans=_spans(data),
                           parameters=scorer.parameters, postprocessing=scorer.post)


def _bisection(scorer: EventScorer, grid: np.ndarray, target: str, goal: float,
               neighbours: int) -> dict[float, EventScores]:
    """Scores at the edges the rule looks for, found by bisection over ``grid`` (ascending,
    its last value detecting nothing), and at ``neighbours`` candidates either side of each."""
    results: dict[float, EventScores] = {}
    last = grid.size - 1

    def at(i: int) -> EventScores:
        t = float(grid[i])
        if t not in results:
            results[t] = scorer.score(t)
        return results[t]

    def sens(i: int) -> float:
        value = at(i).sensitivity
        return -1.0 if math.isnan(value) else value

    def n_fa(i: int) -> int:
        return at(i).n_false_alarms

    def first(lo: int, hi: int, ok) -> int:
        """The lowest index in [lo, hi] where ``ok`` holds, ``ok(hi)`` assumed true."""
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def final(lo: int, hi: int, ok) -> int:
        """The highest index in [lo, hi] where ``ok`` holds, ``ok(lo)`` assumed true."""
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if ok(mid):
                lo = mid
            else:
                hi = mid - 1
        return lo

    eps = 1e-12
    if target == "fa_per_24h":
        # The lowest threshold within the budget (detecting nothing always is), then the
        # highest keeping its sensitivity, then the lowest with that one's false alarms.
        b = first(0, last, lambda i: at(i).fa_per_24h <= goal + eps)
        top = sens(b)
        c = final(b, last, lambda i: sens(i) >= top - eps)
        fewest = n_fa(c)
        edges = [b, c, first(b, c, lambda i: n_fa(i) <= fewest)]
    else:
        reach = sens(0) >= goal - eps
        floor = goal if reach else sens(0)  # not reachable: the highest sensitivity there is
        c = final(0, last, lambda i: sens(i) >= floor - eps)
        fewest = n_fa(c)
        d = first(0, c, lambda i: n_fa(i) <= fewest)
        top = sens(d)
        edges = [c, d, final(d, c, lambda i: sens(i) >= top - eps)]
    for edge in edges:
        for i in range(max(edge - neighbours, 0), min(edge + neighbours, last) + 1):
            at(i)
    return results


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
