"""Whole recordings kept as continuous signals, windowed on demand: hours of EEG without GBs of windows.

A :class:`SignalSet` holds each recording's samples once, prepared as
:func:`brr_lab.eeg.windowing.make_windows` prepares them (filter, resample, microvolts,
float32), and cuts the very same windows on demand (``Tensor.unfold``, chunk by chunk),
so overlapping windows never sit in memory all at once. :func:`make_signals` builds one.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import torch

from brr_lab._validation import invalid
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.windowing import (
    DEFAULT_SFREQ, DEFAULT_STRIDE_S, DEFAULT_WINDOW_S, WindowSet, _check_recordings, _check_settings,
    _prepared, _samples, seizure_fractions,
)

__all__ = ["CHUNK_WINDOWS", "SignalSet", "make_signals"]

CHUNK_WINDOWS = 4096  # windows cut at once by SignalSet.chunks: 40 MB at 19 x 128 float32


@dataclass
class SignalSet:
    """Whole recordings as continuous signals; the windows of :func:`make_windows` cut on demand.

    ``signals``: per recording, ``(n_channels, n_samples)`` float32 at ``sfreq`` (microvolts,
    or ``units`` "z" once standardised). Windows of ``window_s`` start at 0 and step by
    ``stride_s``, as in :func:`make_windows`; they are views (``Tensor.unfold``) until
    :meth:`chunks` copies a bounded number of them. Labels follow ``label_rule`` on the
    seizures in ``recording_info`` (the same keys as :attr:`WindowSet.recording_info`).

    Per-window attributes (``recording``, ``start_s``, ``seizure_fraction``, ``y``) are
    computed once, in recording order, so a SignalSet scores like a WindowSet
    (:func:`brr_lab.eeg.cohort.part_size`, :func:`brr_lab.scoring.from_windowset`).
    """

    signals: dict[str, torch.Tensor]
    channels: list[str]
    sfreq: float
    window_s: float = DEFAULT_WINDOW_S
    stride_s: float = DEFAULT_STRIDE_S
    label_rule: str = "any"
    min_fraction: float | None = None
    units: str = "uV"
    recording_info: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._win = _samples(self.window_s, self.sfreq, "window_s")
        self._step = _samples(self.stride_s, self.sfreq, "stride_s")
        short = [n for n, x in self.signals.items() if x.shape[1] < self._win]
        if short:
            raise invalid("window_s", "SignalSet", "at most the length of every recording",
                          f"{self.window_s:g} s, longer than {short[:3]}")

    @property
    def recordings(self) -> list[str]:
        return list(self.signals)

    def n_windows_of(self, name: str) -> int:
        return (self.signals[name].shape[1] - self._win) // self._step + 1

    def __len__(self) -> int:
        return sum(self.n_windows_of(n) for n in self.signals)

    def window_starts(self, name: str) -> np.ndarray:
        """Start times (s) of one recording's windows."""
        return np.arange(self.n_windows_of(name)) * self._step / self.sfreq

    @cached_property
    def recording(self) -> list[str]:
        return [n for n in self.signals for _ in range(self.n_windows_of(n))]

    @cached_property
    def start_s(self) -> np.ndarray:
        return np.concatenate([self.window_starts(n) for n in self.signals]) if self.signals \
            else np.zeros(0)

    @cached_property
    def seizure_fraction(self) -> np.ndarray:
        parts = [seizure_fractions(self.window_starts(n), self.window_s,
                                   list(self.recording_info.get(n, {}).get("seizures", [])))
                 for n in self.signals]
        return np.concatenate(parts) if parts else np.zeros(0)

    @cached_property
    def y(self) -> torch.Tensor:
        f = self.seizure_fraction
        positive = f > 0 if self.label_rule == "any" else f >= (self.min_fraction or 0.0) - 1e-12
        return torch.from_numpy(positive.astype(np.float32))

    def windows(self, name: str) -> torch.Tensor:
        """``(n_windows, n_channels, window samples)``: a view of one recording's signal."""
        x = self.signals[name]
        return x.unfold(1, self._win, self._step).transpose(0, 1)

    def chunks(self, max_windows: int = CHUNK_WINDOWS) -> Iterator[torch.Tensor]:
        """Every window in order (recording by recording), as contiguous float32 tensors of at
        most ``max_windows`` windows: memory holds one chunk, never all windows."""
        for name in self.signals:
            view = self.windows(name)
            for i in range(0, view.shape[0], max_windows):
                yield view[i:i + max_windows].to(torch.float32).contiguous()

    def subset(self, names: Iterable[str]) -> "SignalSet":
        """The recordings ``names`` (in this set's order); unknown names are refused."""
        keep = set(names)
        unknown = sorted(keep - set(self.signals))
        if unknown:
            raise invalid("names", "SignalSet.subset", f"names among {len(self.signals)} recordings",
                          unknown[:5])
        return replace(self, signals={n: x for n, x in self.signals.items() if n in keep},
                       recording_info={n: i for n, i in self.recording_info.items() if n in keep})

    def standardised(self, mean: torch.Tensor, std: torch.Tensor, *, inplace: bool = False) -> "SignalSet":
        """``(x - mean) / std`` per channel (shapes ``(1, n_channels, 1)`` as
        :func:`brr_lab.eeg.cohort.standardise` gives, or ``(n_channels,)``); units "z".
        ``inplace``: overwrite these signals (no second copy in memory; this set is then
        standardised too, whatever its ``units`` say)."""
        m = mean.reshape(-1, 1).to(torch.float32)
        sd = std.reshape(-1, 1).to(torch.float32)
        if inplace:
            signals = {n: x.sub_(m).div_(sd) for n, x in self.signals.items()}
        else:
            signals = {n: (x - m) / sd for n, x in self.signals.items()}
        return replace(self, signals=signals, units="z")

    def without_seizures(self) -> "SignalSet":
        """The same signals with no seizure annotated (what a parser that reads none gives)."""
        return replace(self, recording_info={n: {**i, "seizures": []}
                                             for n, i in self.recording_info.items()})

    def hours(self) -> float:
        return sum(i["duration_s"] for i in self.recording_info.values()) / 3600.0

    def to_windowset(self) -> WindowSet:
        """All windows materialised: for small sets and tests (memory grows with the overlap)."""
        X = torch.cat(list(self.chunks())) if self.signals else torch.zeros(0, len(self.channels), self._win)
        return WindowSet(X=X, y=self.y.clone(), recording=list(self.recording), start_s=self.start_s.copy(),
                         seizure_fraction=self.seizure_fraction.copy(), channels=list(self.channels),
                         sfreq=self.sfreq, label_rule=self.label_rule, window_s=self.window_s,
                         stride_s=self.stride_s, min_fraction=self.min_fraction, units=self.units,
                         recording_info={n: dict(i) for n, i in self.recording_info.items()})


def make_signals(recordings: Iterable[Recording], *, window_s: float = DEFAULT_WINDOW_S,
                 stride_s: float = DEFAULT_STRIDE_S, label_rule: str = "any", min_fraction: float = 0.5,
                 sfreq: float | None = DEFAULT_SFREQ, l_freq: float | None = None,
                 h_freq: float | None = None) -> SignalSet:
    """Recordings prepared as :func:`make_windows` prepares them (filter, resample, microvolts,
    float32), kept whole: a :class:`SignalSet` whose windows equal ``make_windows``' windows.

    ``recordings`` may be an iterator: each recording is converted and released in turn,
    so memory holds one recording at its native precision, not all of them.
    """
    where = "make_signals"
    window_s, stride_s, min_fraction, sfreq = _check_settings(window_s, stride_s, label_rule,
                                                              min_fraction, sfreq, l_freq, h_freq, where)
    signals: dict[str, torch.Tensor] = {}
    info: dict[str, dict[str, Any]] = {}
    channels: list[str] | None = None
    first = ""
    rate: float | None = None
    for rec in recordings:
        _check_recordings([rec], where)
        if channels is None:
            channels, first = list(rec.raw.ch_names), rec.name
        if rec.name in signals:
            raise invalid("recordings", where, "recordings with distinct names", f"duplicate {rec.name!r}")
        data, _, rate, _, _ = _prepared(rec, channels, first, rate, window_s, stride_s, sfreq, l_freq,
                                        h_freq, where)
        signals[rec.name] = torch.from_numpy(np.asarray(data, dtype=np.float32) * np.float32(1e6))
        info[rec.name] = {"duration_s": rec.duration_s, "seizures": list(rec.seizures),
                          "labels_seen": dict(rec.labels_seen),
                          "extra_channels": list(rec.extra_channels)}
    if channels is None:
        raise invalid("recordings", where, "a non-empty list of Recording", "none")
    return SignalSet(signals=signals, channels=channels, sfreq=float(rate), window_s=window_s,
                     stride_s=stride_s, label_rule=label_rule,
                     min_fraction=min_fraction if label_rule == "fraction" else None, recording_info=info)
