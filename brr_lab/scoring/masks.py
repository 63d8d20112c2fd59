"""From window probabilities to the per-second detections SzCORE scores.

The mask rule (windows may overlap, stride shorter than window):

1. A recording of ``duration_s`` seconds becomes ``ceil(duration_s)`` one-second
   bins ``[k, k + 1)``.
2. A window ``[start_s, stop_s)`` covers every second it overlaps by more than
   nothing: seconds ``floor(start_s)`` to ``ceil(stop_s) - 1``.
3. Each second takes the HIGHEST probability of the windows covering it (a
   seizure seen by any window stays seen). Seconds no window covers get 0 and
   are counted (``uncovered_seconds``) in every result.
4. Optional smoothing (off by default): a centred moving mean of the
   per-second probabilities over ``smoothing_s`` seconds.
5. A second is positive when its probability is ``>= threshold``.
6. Optional minimum event duration (off by default): positive runs shorter
   than ``min_event_s`` seconds are dropped.

SzCORE's own post-processing (merge events closer than 90 s, split events
longer than 5 min) happens afterwards, inside ``timescoring``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brr_lab._validation import check_real, invalid

MASK_RULE = ("per 1-s bin: highest probability of the windows overlapping it; "
             "uncovered seconds are 0 and counted; positive if >= threshold")
_EPS = 1e-9


@dataclass(frozen=True)
class PostProcessing:
    """Post-processing beyond SzCORE's own; all off by default (0)."""

    smoothing_s: float = 0.0   # centred moving mean over this many seconds (whole seconds; <= 1 is off)
    min_event_s: float = 0.0   # drop detected runs shorter than this (seconds; 0 is off)

    def __post_init__(self):
        for name in ("smoothing_s", "min_event_s"):
            value = check_real(getattr(self, name), name, "PostProcessing", low=0.0)
            object.__setattr__(self, name, value)
        if self.smoothing_s != int(self.smoothing_s):
            raise invalid("smoothing_s", "PostProcessing", "a whole number of seconds >= 0", self.smoothing_s)

    @property
    def active(self) -> list[str]:
        """Names of the steps in use, e.g. ``['min_event_s=10']``; empty when off."""
        steps = []
        if self.smoothing_s > 1:
            steps.append(f"smoothing_s={self.smoothing_s:g}")
        if self.min_event_s > 0:
            steps.append(f"min_event_s={self.min_event_s:g}")
        return steps

    def as_dict(self) -> dict:
        return {"smoothing_s": self.smoothing_s if self.smoothing_s > 1 else None,
                "min_event_s": self.min_event_s if self.min_event_s > 0 else None}


def n_seconds(duration_s: float) -> int:
    """Number of one-second bins for a recording (the last may be partial)."""
    return max(1, math.ceil(duration_s - _EPS))


def second_probabilities(duration_s: float, start_s: np.ndarray, stop_s: np.ndarray,
                         probability: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-second probabilities by rules 1-3, and how many seconds no window covers."""
    n = n_seconds(duration_s)
    prob = np.zeros(n, dtype=np.float64)
    covered = np.zeros(n, dtype=bool)
    first = np.floor(np.asarray(start_s, dtype=np.float64) + _EPS).astype(np.int64)
    last = np.minimum(np.ceil(np.asarray(stop_s, dtype=np.float64) - _EPS).astype(np.int64), n)
    p = np.asarray(probability, dtype=np.float64)
    keep = last > first
    first, last, p = first[keep], last[keep], p[keep]
    if first.size:
        # Every (window, second it covers) pair at once; each second keeps its highest value.
        lengths = last - first
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        seconds = np.repeat(first, lengths) + offsets
        np.maximum.at(prob, seconds, np.repeat(p, lengths))
        covered[seconds] = True
    return prob, int(n - covered.sum())


def smooth(prob: np.ndarray, width_s: float) -> np.ndarray:
    """Centred moving mean over ``width_s`` seconds; edges average what exists (rule 4)."""
    width = int(width_s)
    if width <= 1:
        return prob
    half_lo, half_hi = (width - 1) // 2, width // 2
    csum = np.concatenate([[0.0], np.cumsum(prob)])
    idx = np.arange(prob.size)
    lo = np.clip(idx - half_lo, 0, prob.size)
    hi = np.clip(idx + half_hi + 1, 0, prob.size)
    return (csum[hi] - csum[lo]) / (hi - lo)


def drop_short_runs(mask: np.ndarray, min_event_s: float) -> np.ndarray:
    """Remove positive runs shorter than ``min_event_s`` seconds (rule 6)."""
    if min_event_s <= 0 or not mask.any():
        return mask
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = mask.copy()
    for a, b in zip(starts, stops):
        if b - a < min_event_s - _EPS:
            out[a:b] = False
    return out


def detection_mask(prob: np.ndarray, threshold: float, post: PostProcessing) -> np.ndarray:
    """Rules 5-6 on probabilities that already went through rules 1-4."""
    return drop_short_runs(prob >= threshold, post.min_event_s)
