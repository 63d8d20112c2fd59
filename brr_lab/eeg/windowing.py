"""Fixed-length windows with a stated label rule, as tensors plus per-window metadata.

Label rules (``label_rule``):

- ``"any"`` (default): a window is positive if any part of it overlaps a seizure.
  This is how the original project counted positives for its sampler.
- ``"fraction"``: positive if the seizure fraction of the window is at least
  ``min_fraction``.

Every window carries its recording, start time and seizure fraction, so a rule can
be re-applied or audited later. Windows start at 0 and step by ``stride_s``; the
tail shorter than one window is not windowed (at most ``window_s`` seconds), and
the report counts any seizure no positive window covers.

Long recordings (hours of them) are better kept whole: :class:`brr_lab.eeg.signals.SignalSet`
holds each recording's samples once, prepared as here, and cuts the same windows on demand.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import torch

from brr_lab._validation import check_real, invalid
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.report import DatasetReport, RecordingSummary

DEFAULT_WINDOW_S = 2.0
DEFAULT_STRIDE_S = 1.0
DEFAULT_SFREQ = 64.0
LABEL_RULES = ("any", "fraction")
_WHERE = "make_windows"


@dataclass
class WindowSet:
    """Windows ready for a model: ``X`` (n_windows, n_channels, n_samples) in microvolts, ``y`` 0/1."""

    X: torch.Tensor
    y: torch.Tensor
    recording: list[str]
    start_s: np.ndarray
    seizure_fraction: np.ndarray
    channels: list[str]
    sfreq: float
    label_rule: str
    window_s: float = DEFAULT_WINDOW_S
    stride_s: float = DEFAULT_STRIDE_S
    min_fraction: float | None = None
    units: str = "uV"
    # Per recording: duration_s, seizures, labels_seen, extra_channels (for the report).
    recording_info: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def recordings(self) -> list[str]:
        """Names of the recordings in this set, in order of first appearance."""
        return list(dict.fromkeys(self.recording))

    def subset(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> "WindowSet":
        """The windows at ``indices`` (integers, or a boolean mask of length ``len(self)``)."""
        idx = indices.cpu().numpy() if isinstance(indices, torch.Tensor) else np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise invalid("indices", "WindowSet.subset", f"a boolean mask of length {len(self)}",
                              f"mask of shape {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise invalid("indices", "WindowSet.subset", "integer indices or a boolean mask", idx.dtype)
        idx = idx.astype(np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise invalid("indices", "WindowSet.subset", f"indices in [0, {len(self) - 1}]",
                          f"indices from {idx.min()} to {idx.max()}")
        names = [self.recording[i] for i in idx]
        kept = set(names)
        return replace(
            self, X=self.X[torch.as_tensor(idx)], y=self.y[torch.as_tensor(idx)], recording=names,
            start_s=self.start_s[idx], seizure_fraction=self.seizure_fraction[idx],
            recording_info={k: v for k, v in self.recording_info.items() if k in kept},
        )

    def report(self) -> DatasetReport:
        """Class counts, prevalence, seizure seconds per recording and labels seen."""
        y = self.y.cpu().numpy()
        names = np.asarray(self.recording, dtype=object)
        summaries: dict[str, RecordingSummary] = {}
        labels_total: dict[str, int] = {}
        for name in self.recording_info:
            info = self.recording_info[name]
            mask = names == name
            pos = mask & (y > 0.5)
            seizures = info["seizures"]
            missed = sum(
                1 for a, b in seizures
                if not np.any(pos & (self.start_s < b) & (self.start_s + self.window_s > a))
            )
            summaries[name] = RecordingSummary(
                n_windows=int(mask.sum()), n_pos=int(pos.sum()),
                seizure_seconds=float(sum(b - a for a, b in seizures)), n_seizures=len(seizures),
                n_seizures_without_positive_window=int(missed), duration_s=float(info["duration_s"]),
                labels_seen=dict(info["labels_seen"]),
                extra_channels=list(info.get("extra_channels", [])),
            )
            for label, count in info["labels_seen"].items():
                labels_total[label] = labels_total.get(label, 0) + int(count)
        n_pos = int((y > 0.5).sum())
        return DatasetReport(
            n_windows=len(self), n_pos=n_pos, n_neg=len(self) - n_pos,
            prevalence=(n_pos / len(self)) if len(self) else None,
            recordings=summaries, labels_seen=dict(sorted(labels_total.items())),
            label_rule=self.label_rule, min_fraction=self.min_fraction, window_s=self.window_s,
            stride_s=self.stride_s, sfreq=self.sfreq, n_channels=len(self.channels),
        )


def _samples(seconds: float, sfreq: float, param: str) -> int:
    """Seconds as a whole number of samples; a window cannot hold part of a sample."""
    n = seconds * sfreq
    if abs(n - round(n)) > 1e-6 or round(n) < 1:
        raise invalid(param, _WHERE, f"a whole, positive number of samples at {sfreq:g} Hz "
                                     f"(a multiple of {1 / sfreq:g} s)", seconds)
    return int(round(n))


def _check_settings(window_s, stride_s, label_rule, min_fraction, sfreq, l_freq, h_freq, where: str):
    window_s = check_real(window_s, "window_s", where, low=0.0, low_open=True)
    stride_s = check_real(stride_s, "stride_s", where, low=0.0, low_open=True)
    if label_rule not in LABEL_RULES:
        raise invalid("label_rule", where, f"one of {LABEL_RULES}", label_rule)
    min_fraction = check_real(min_fraction, "min_fraction", where, low=0.0, high=1.0, low_open=True)
    if sfreq is not None:
        sfreq = check_real(sfreq, "sfreq", where, low=0.0, low_open=True)
    for name, value in (("l_freq", l_freq), ("h_freq", h_freq)):
        if value is not None:
            check_real(value, name, where, low=0.0, low_open=True)
    return window_s, stride_s, min_fraction, sfreq


def _check_recordings(recordings, where: str) -> None:
    if not all(isinstance(r, Recording) for r in recordings):
        raise invalid("recordings", where, "a list of Recording",
                      sorted({type(r).__name__ for r in recordings}))


def _prepared(rec: Recording, channels: list[str], first: str, rate: float | None, window_s: float,
              stride_s: float, sfreq: float | None, l_freq: float | None, h_freq: float | None,
              where: str) -> tuple[np.ndarray, float, float, int, int]:
    """One recording filtered and resampled as asked: ``(data in volts, its rate, the common
    rate, window samples, stride samples)``. The recording passed in is not changed."""
    if list(rec.raw.ch_names) != channels:
        raise ValueError(f"Recording {rec.name!r} has channels {rec.raw.ch_names}, but "
                         f"{first!r} has {channels}; all recordings must share channels.")
    raw = rec.raw
    if l_freq is not None or h_freq is not None or (sfreq is not None and raw.info["sfreq"] != sfreq):
        raw = raw.copy().load_data()
        if l_freq is not None or h_freq is not None:
            raw.filter(l_freq, h_freq, verbose="error")
        if sfreq is not None and raw.info["sfreq"] != sfreq:
            raw.resample(sfreq, verbose="error")
    fs = float(raw.info["sfreq"])
    if rate is None:
        rate = fs
    elif fs != rate:
        raise invalid("sfreq", where, "a rate to resample to when recordings differ in rate",
                      f"None, with {rec.name!r} at {fs:g} Hz and others at {rate:g} Hz")
    win = _samples(window_s, fs, "window_s")
    step = _samples(stride_s, fs, "stride_s")
    data = raw.get_data()
    if data.shape[1] < win:
        raise invalid("window_s", where, f"at most the length of every recording; recording "
                      f"{rec.name!r} lasts {data.shape[1] / fs:g} s ({data.shape[1]} samples at "
                      f"{fs:g} Hz)", window_s)
    return data, fs, rate, win, step


def seizure_fractions(starts_s: np.ndarray, window_s: float,
                      seizures: list[tuple[float, float]]) -> np.ndarray:
    """Fraction of each window ``[start, start + window_s]`` covered by the (merged) seizures."""
    if not seizures or starts_s.size == 0:
        return np.zeros(starts_s.shape, dtype=np.float64)
    spans = np.asarray(seizures, dtype=np.float64)
    lo = np.maximum(starts_s[:, None], spans[None, :, 0])
    hi = np.minimum(starts_s[:, None] + window_s, spans[None, :, 1])
    return np.clip(hi - lo, 0.0, None).sum(axis=1) / window_s


def make_windows(recordings: Sequence[Recording], *, window_s: float = DEFAULT_WINDOW_S,
                 stride_s: float = DEFAULT_STRIDE_S, label_rule: str = "any", min_fraction: float = 0.5,
                 sfreq: float | None = DEFAULT_SFREQ, l_freq: float | None = None,
                 h_freq: float | None = None) -> WindowSet:
    """Cut every recording into fixed-length windows and label them.

    Parameters
    ----------
    recordings : list of Recording
        All with the same channels (as :func:`~brr_lab.eeg.loader.load_recordings`
        and :func:`~brr_lab.eeg.synth.simulate_recordings` give).
    window_s, stride_s : float > 0
        Window length and step in seconds (whole numbers of samples at ``sfreq``).
    label_rule : {"any", "fraction"}
        ``"any"``: positive if the window overlaps a seizure at all; ``"fraction"``:
        positive if its seizure fraction is >= ``min_fraction``.
    min_fraction : float in (0, 1]
        Used by ``label_rule="fraction"`` only.
    sfreq : float or None
        Resample through MNE (``raw.resample``) to this rate; None keeps the native rate
        (which must then agree across recordings).
    l_freq, h_freq : float or None
        Band-pass through MNE (``raw.filter``) before resampling; None leaves that edge open.

    The recordings passed in are not changed (filtering and resampling work on copies).
    """
    if isinstance(recordings, Recording):
        raise invalid("recordings", _WHERE, "a list of Recording", "a single Recording")
    recordings = list(recordings)
    _check_recordings(recordings, _WHERE)
    if not recordings:
        raise invalid("recordings", _WHERE, "a non-empty list of Recording", recordings)
    window_s, stride_s, min_fraction, sfreq = _check_settings(window_s, stride_s, label_rule,
                                                              min_fraction, sfreq, l_freq, h_freq, _WHERE)
    names = [r.name for r in recordings]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise invalid("recordings", _WHERE, "recordings with distinct names", f"duplicates {duplicates}")

    channels = list(recordings[0].raw.ch_names)
    X_parts, starts, fractions, owners, info = [], [], [], [], {}
    rate: float | None = None
    for rec in recordings:
        data, fs, rate, win, step = _prepared(rec, channels, recordings[0].name, rate, window_s,
                                              stride_s, sfreq, l_freq, h_freq, _WHERE)
        n = (data.shape[1] - win) // step + 1
        view = np.lib.stride_tricks.sliding_window_view(data, win, axis=1)[:, : n * step : step]
        X_parts.append(np.ascontiguousarray(view.transpose(1, 0, 2), dtype=np.float32) * np.float32(1e6))
        start = np.arange(n) * step / fs
        starts.append(start)
        fractions.append(seizure_fractions(start, window_s, rec.seizures))
        owners += [rec.name] * n
        info[rec.name] = {"duration_s": rec.duration_s, "seizures": list(rec.seizures),
                          "labels_seen": dict(rec.labels_seen),
                          "extra_channels": list(rec.extra_channels)}
    fraction = np.concatenate(fractions)
    positive = fraction > 0 if label_rule == "any" else fraction >= min_fraction - 1e-12
    return WindowSet(
        X=torch.from_numpy(np.concatenate(X_parts)), y=torch.from_numpy(positive.astype(np.float32)),
        recording=owners, start_s=np.concatenate(starts), seizure_fraction=fraction, channels=channels,
        sfreq=float(rate), label_rule=label_rule, window_s=window_s, stride_s=stride_s,
        min_fraction=min_fraction if label_rule == "fraction" else None, recording_info=info,
    )

