"""SzCORE event scoring of per-window probabilities, through ``timescoring``.

Each recording goes through the mask rule of :mod:`brr_lab.scoring.masks`, then
``timescoring.scoring.EventScoring`` with SzCORE's parameters: a seizure counts
as found on any overlap, with 30 s tolerance before and 60 s after; events (true
and detected) closer than 90 s are merged and events longer than 5 min split.
Counts are pooled over recordings before any ratio (micro-averaging, as
EpilepsyBench reports); hours are the scored seconds (each recording's duration
rounded up to whole seconds), as ``timescoring`` divides by them.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from brr_lab._validation import check_real
from brr_lab.scoring.inputs import ScoringData, from_windowset, scoring_data
from brr_lab.scoring.masks import (
    MASK_RULE, PostProcessing, detection_mask, n_seconds, second_probabilities, smooth,
)
from brr_lab.scoring.results import EventScores, RecordingCounts, WindowScores


@dataclass(frozen=True)
class SzcoreParameters:
    """``timescoring.EventScoring.Parameters`` under readable names; defaults are SzCORE's."""

    tolerance_start_s: float = 30.0
    tolerance_end_s: float = 60.0
    min_overlap: float = 0.0
    max_event_s: float = 300.0
    min_gap_s: float = 90.0

    def __post_init__(self):
        for name in ("tolerance_start_s", "tolerance_end_s", "max_event_s", "min_gap_s"):
            object.__setattr__(self, name, check_real(getattr(self, name), name, "SzcoreParameters",
                                                      low=0.0, low_open=name == "max_event_s"))
        object.__setattr__(self, "min_overlap", check_real(self.min_overlap, "min_overlap",
                                                           "SzcoreParameters", low=0.0, high=1.0,
                                                           high_open=True))

    def to_timescoring(self):
        from timescoring.scoring import EventScoring

        return EventScoring.Parameters(toleranceStart=self.tolerance_start_s,
                                       toleranceEnd=self.tolerance_end_s, minOverlap=self.min_overlap,
                                       maxEventDuration=self.max_event_s,
                                       minDurationBetweenEvents=self.min_gap_s)


@functools.lru_cache(maxsize=None)  # a metadata lookup: was a third of choosing a threshold
def _timescoring_version() -> str:
    try:
        return version("timescoring")
    except PackageNotFoundError:  # pragma: no cover - installed with brr_lab
        return "unknown"


def describe(parameters: SzcoreParameters, post: PostProcessing) -> dict:
    """The ``parameters`` block of every result: what was scored, and how."""
    return {"method": f"SzCORE event scoring (timescoring {_timescoring_version()})",
            **asdict(parameters), "szcore_defaults": parameters == SzcoreParameters(),
            "post_processing": post.active, **post.as_dict(), "mask_rule": MASK_RULE,
            "averaging": "micro"}


class EventScorer:
    """Scores one data set at any threshold; per-recording results are cached by detection mask.

    Build once and call :meth:`score` for many thresholds (threshold sweeps do).
    ``window_positive`` holds each window's label under the scoring rule (a window is a
    seizure window when it overlaps an annotated seizure), in the predictions' order.
    """

    def __init__(self, data: ScoringData, parameters: SzcoreParameters | None = None,
                 postprocessing: PostProcessing | None = None):
        self.data = data
        self.parameters = parameters if parameters is not None else SzcoreParameters()
        self.post = postprocessing if postprocessing is not None else PostProcessing()
        self._ts_parameters = self.parameters.to_timescoring()
        pred = data.predictions
        self._seconds: dict[str, tuple[np.ndarray, int]] = {}
        for name, truth in data.truth.items():
            idx = data.windows_of(name)
            prob, uncovered = second_probabilities(truth.duration_s, pred.start_s[idx], pred.stop_s[idx],
                                                   pred.probability[idx])
            self._seconds[name] = (smooth(prob, self.post.smoothing_s), uncovered)
        self.window_positive = np.zeros(len(pred), dtype=bool)
        for name, truth in data.truth.items():
            idx = data.windows_of(name)
            if idx.size and truth.seizures:
                spans = np.asarray(truth.seizures)
                self.window_positive[idx] = ((spans[None, :, 0] < pred.stop_s[idx, None])
                                              & (spans[None, :, 1] > pred.start_s[idx, None])).any(axis=1)
        self._cache: dict[tuple[str, bytes], tuple[int, int, int]] = {}

    def second_probabilities(self, name: str) -> np.ndarray:
        """Per-second probabilities of one recording (mask rules 1-4)."""
        return self._seconds[name][0]

    def candidate_values(self) -> np.ndarray:
        """Every distinct per-second probability above 0: the thresholds where detections can
        change (0 is no threshold: see :meth:`score`)."""
        values = np.unique(np.concatenate([p for p, _ in self._seconds.values()]))
        return values[values > 0]

    def _counts(self, name: str, mask: np.ndarray) -> tuple[int, int, int]:
        key = (name, hashlib.blake2b(np.packbits(mask).tobytes(), digest_size=16).digest())
        if key not in self._cache:
            from timescoring.annotations import Annotation
            from timescoring.scoring import EventScoring

            truth = self.data.truth[name]
            ref = Annotation(list(truth.seizures), 1, n_seconds(truth.duration_s))
            hyp = Annotation(mask, 1)
            result = EventScoring(ref, hyp, self._ts_parameters)
            self._cache[key] = (int(result.refTrue), int(result.tp), int(result.fp))
        return self._cache[key]

    def score(self, threshold: float) -> EventScores:
        """SzCORE event scores and window-level scores at ``threshold`` (positive if >= threshold)."""
        # At 0 every second would be a detection, those no window covers included (they are 0).
        threshold = check_real(threshold, "threshold", "score", low=0.0, low_open=True,
                               allowed="a real number > 0 (at 0 every second, covered by a window "
                                       "or not, is a detection; above 1 nothing is)")
        rows = []
        for name, truth in self.data.truth.items():
            prob, uncovered = self._seconds[name]
            n_ref, tp, fp = self._counts(name, detection_mask(prob, threshold, self.post))
            rows.append(RecordingCounts(name=name, duration_s=truth.duration_s,
                                        scored_seconds=prob.size, n_seizures=n_ref, n_detected=tp,
                                        n_false_alarms=fp, uncovered_seconds=uncovered))
        called = self.data.predictions.probability >= threshold
        pos = self.window_positive
        window = WindowScores(n_windows=int(pos.size), n_positive=int(pos.sum()),
                              tp=int((called & pos).sum()), fp=int((called & ~pos).sum()),
                              fn=int((~called & pos).sum()), tn=int((~called & ~pos).sum()))
        return EventScores(threshold=threshold, recordings=tuple(rows), window=window,
                           parameters=describe(self.parameters, self.post))


def score(data: ScoringData, threshold: float = 0.5, *, parameters: SzcoreParameters | None = None,
          postprocessing: PostProcessing | None = None) -> EventScores:
    """SzCORE event scores of checked :class:`ScoringData` at one threshold."""
    return EventScorer(data, parameters, postprocessing).score(threshold)


def score_predictions(truth, recording, start_s, stop_s, probability, threshold: float = 0.5, *,
                      parameters: SzcoreParameters | None = None,
                      postprocessing: PostProcessing | None = None) -> EventScores:
    """Score plain arrays against ``truth`` (name -> duration_s and seizure intervals)."""
    data = scoring_data(truth, recording, start_s, stop_s, probability, where="score_predictions")
    return score(data, threshold, parameters=parameters, postprocessing=postprocessing)


def score_windowset(windows, probabilities, threshold: float = 0.5, *,
                    parameters: SzcoreParameters | None = None,
                    postprocessing: PostProcessing | None = None) -> EventScores:
    """Score one probability per window of a ``WindowSet`` against its recordings' seizures."""
    data = from_windowset(windows, probabilities, where="score_windowset")
    return score(data, threshold, parameters=parameters, postprocessing=postprocessing)
