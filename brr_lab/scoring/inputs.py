"""Scoring inputs as plain data, checked once: truth per recording and window predictions.

Truth: recording name -> duration in seconds and ``(start_s, stop_s)`` seizure
intervals. Predictions: four equal-length arrays (recording, start_s, stop_s,
probability), one entry per window, so any model's outputs can be scored.

Rules (each broken rule is a ``ValueError`` naming the parameter, what is allowed,
and the window at fault):

- probabilities are finite numbers in [0, 1] (logits are refused, not squashed);
- ``0 <= start_s < stop_s <= duration_s`` (+1 ms for rounding in files);
- within a recording, windows come in strictly increasing ``start_s``: the same
  start twice is a duplicate, a smaller one is out of order;
- every window's recording is in the truth. Every recording in the truth is
  scored, including those without windows (their seconds count as uncovered).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from brr_lab._validation import check_real, invalid

TOLERANCE_S = 1e-3  # TUSZ times carry 4 decimals; nothing is clamped beyond this


@dataclass(frozen=True)
class RecordingTruth:
    """One recording's length and its merged, sorted seizure intervals (seconds)."""

    duration_s: float
    seizures: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Predictions:
    """Per-window model outputs: ``recording`` (names), ``start_s``, ``stop_s``, ``probability``."""

    recording: np.ndarray
    start_s: np.ndarray
    stop_s: np.ndarray
    probability: np.ndarray

    def __len__(self) -> int:
        return int(self.probability.shape[0])


@dataclass(frozen=True)
class ScoringData:
    """Checked truth and predictions; build with :func:`scoring_data` or :func:`from_windowset`."""

    truth: dict[str, RecordingTruth]
    predictions: Predictions

    def windows_of(self, name: str) -> np.ndarray:
        """Indices of the windows of recording ``name``, in time order."""
        index = self.__dict__.get("_index")
        if index is None:  # once per data set: name -> its window indices
            names = self.predictions.recording
            order = np.argsort(names, kind="stable")
            keys, starts = np.unique(names[order], return_index=True)
            index = dict(zip(keys.tolist(), np.split(order, starts[1:])))
            object.__setattr__(self, "_index", index)
        return index.get(name, np.zeros(0, dtype=np.int64))


def merge_spans(spans) -> tuple[tuple[float, float], ...]:
    """Union of intervals, sorted; touching or overlapping spans become one."""
    merged: list[list[float]] = []
    for start, stop in sorted((float(a), float(b)) for a, b in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return tuple((a, b) for a, b in merged)


def as_truth(truth: Mapping[str, Any], where: str = "scoring_data") -> dict[str, RecordingTruth]:
    """Normalise truth given as RecordingTruth, ``{"duration_s", "seizures"}`` or ``(duration_s, seizures)``."""
    if not isinstance(truth, Mapping) or not truth:
        raise invalid("truth", where, "a non-empty mapping of recording name -> duration and seizures",
                      type(truth).__name__ if not isinstance(truth, Mapping) else truth)
    out: dict[str, RecordingTruth] = {}
    for name, item in truth.items():
        if not isinstance(name, str) or not name:
            raise invalid("truth", where, "recording names that are non-empty strings", name)
        if isinstance(item, RecordingTruth):
            duration, seizures = item.duration_s, item.seizures
        elif isinstance(item, Mapping):
            try:
                duration, seizures = item["duration_s"], item["seizures"]
            except KeyError:
                raise invalid("truth", where, "entries with keys 'duration_s' and 'seizures'",
                              f"{sorted(item)} for {name!r}") from None
        else:
            try:
                duration, seizures = item
            except (TypeError, ValueError):
                raise invalid("truth", where, "(duration_s, seizures) per recording",
                              f"{item!r} for {name!r}") from None
        duration = check_real(duration, "truth", where, low=0.0, low_open=True,
                              allowed=f"a duration_s > 0 for {name!r}")
        for span in seizures:
            try:
                a, b = (float(x) for x in span)
            except (TypeError, ValueError):
                raise invalid("truth", where, f"(start_s, stop_s) seizure pairs for {name!r}", span) from None
            if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b <= duration + TOLERANCE_S):
                raise invalid("truth", where, f"seizures with 0 <= start_s < stop_s <= {duration:g} "
                                              f"(the duration) for {name!r}", span)
        out[name] = RecordingTruth(duration_s=duration, seizures=merge_spans(seizures))
    return out


def _window(i: int, locate: Callable[[int], str] | None) -> str:
    return locate(i) if locate is not None else f"window {i}"


def _floats(values, param: str, n: int, where: str, locate) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise invalid(param, where, f"a 1-D array of length {n} (as long as 'recording')",
                      f"shape {arr.shape}")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        bad = next(i for i, v in enumerate(values) if not _is_number(v))
        raise invalid(param, where, "numbers", f"{values[bad]!r} at {_window(bad, locate)}") from None
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise invalid(param, where, "finite numbers", f"{float(arr[bad[0]])!r} at {_window(int(bad[0]), locate)}")
    return arr


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def scoring_data(truth: Mapping[str, Any], recording, start_s, stop_s, probability, *,
                 locate: Callable[[int], str] | None = None, where: str = "scoring_data") -> ScoringData:
    """Check and bundle truth and per-window predictions (see the module docstring for the rules).

    ``locate(i)`` names window ``i`` in error messages (e.g. a file and line);
    by default ``"window i"``.
    """
    checked = as_truth(truth, where)
    names = np.asarray([str(r) if isinstance(r, str) else r for r in recording], dtype=object)
    n = names.shape[0]
    if n == 0:
        raise invalid("recording", where, "at least one window", "no windows")
    starts = _floats(start_s, "start_s", n, where, locate)
    stops = _floats(stop_s, "stop_s", n, where, locate)
    probs = _floats(probability, "probability", n, where, locate)
    for i, name in enumerate(names):
        if not isinstance(name, str) or name not in checked:
            raise invalid("recording", where, "names of recordings in the truth (a recording with no "
                                              "annotation is unknown)", f"{name!r} at {_window(i, locate)}")
    bad = np.flatnonzero((probs < 0) | (probs > 1))
    if bad.size:
        i = int(bad[0])
        raise invalid("probability", where, "probabilities in [0, 1] (apply a sigmoid to logits)",
                      f"{float(probs[i])!r} at {_window(i, locate)}")
    bad = np.flatnonzero((starts < 0) | (stops <= starts))
    if bad.size:
        i = int(bad[0])
        raise invalid("start_s", where, "0 <= start_s < stop_s",
                      f"start_s={float(starts[i])!r}, stop_s={float(stops[i])!r} at {_window(i, locate)}")
    last: dict[str, int] = {}
    for i, name in enumerate(names):
        duration = checked[name].duration_s
        if stops[i] > duration + TOLERANCE_S:
            raise invalid("stop_s", where, f"at most the duration of {name!r} ({duration:g} s)",
                          f"{float(stops[i])!r} at {_window(i, locate)}")
        j = last.get(name)
        if j is not None and starts[i] <= starts[j]:
            kind = "a duplicate window (same start_s as" if starts[i] == starts[j] else "out of order (after"
            raise invalid("start_s", where, "strictly increasing start_s within each recording",
                          f"{float(starts[i])!r} at {_window(i, locate)}, {kind} {_window(j, locate)})")
        last[name] = i
    return ScoringData(truth=checked, predictions=Predictions(recording=names, start_s=starts,
                                                              stop_s=stops, probability=probs))


def from_windowset(windows, probabilities, *, where: str = "from_windowset") -> ScoringData:
    """Scoring data from a :class:`~brr_lab.eeg.windowing.WindowSet` and one probability per window.

    Truth comes from ``windows.recording_info`` (``duration_s``, ``seizures``); each
    window spans ``[start_s, start_s + window_s]``. Windows are put in time order
    per recording first (a shuffled subset scores like the ordered one).
    """
    if not hasattr(windows, "recording_info") or not hasattr(windows, "start_s"):
        raise invalid("windows", where, "a WindowSet", type(windows).__name__)
    if hasattr(probabilities, "detach"):
        probabilities = probabilities.detach().cpu().numpy()
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1) if np.ndim(probabilities) else None
    if probs is None or probs.shape[0] != len(windows.recording):
        raise invalid("probabilities", where, f"one probability per window ({len(windows.recording)})",
                      f"shape {np.shape(probabilities)}")
    truth = {name: {"duration_s": info["duration_s"], "seizures": info["seizures"]}
             for name, info in windows.recording_info.items()}
    names = np.asarray(windows.recording, dtype=object)
    starts = np.asarray(windows.start_s, dtype=np.float64)
    order_of = {name: k for k, name in enumerate(dict.fromkeys(windows.recording))}
    order = np.lexsort((starts, np.asarray([order_of[r] for r in names], dtype=np.int64)))
    return scoring_data(truth, names[order], starts[order], starts[order] + float(windows.window_s),
                        probs[order], where=where)
