"""Notebook-ready plots: a recording with its seizures shaded, and one channel's spectrogram (matplotlib)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from brr_lab._validation import check_real, invalid
from brr_lab.eeg.recording import Recording


def plot_recording(recording: Recording, *, start_s: float = 0.0, duration_s: float | None = None,
                   channels: Sequence[str] | None = None, spacing_uv: float | None = None, ax=None):
    """Stacked traces of ``recording`` (microvolts) with every seizure interval shaded.

    ``start_s``/``duration_s`` pick the time span (default: all of it); ``channels``
    a subset (default: all); ``spacing_uv`` the vertical offset between traces
    (default: 6 x the median channel standard deviation). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    where = "plot_recording"
    raw = recording.raw
    total = recording.duration_s
    start_s = check_real(start_s, "start_s", where, low=0.0, high=total, high_open=True)
    stop_s = total if duration_s is None else start_s + check_real(
        duration_s, "duration_s", where, low=0.0, high=total - start_s, low_open=True)
    names = list(raw.ch_names) if channels is None else list(channels)
    unknown = [ch for ch in names if ch not in raw.ch_names]
    if unknown or not names:
        raise invalid("channels", where, f"a non-empty list of channels from {raw.ch_names}", channels)
    fs = raw.info["sfreq"]
    a, b = int(round(start_s * fs)), int(round(stop_s * fs))
    data = raw.get_data(picks=names, start=a, stop=b) * 1e6
    t = np.arange(a, a + data.shape[1]) / fs
    if spacing_uv is None:
        spacing_uv = 6.0 * float(np.median(data.std(axis=1))) or 1.0
    if ax is None:
        fig, ax = plt.subplots(figsize=(12, 0.35 * len(names) + 1.5))
    else:
        fig = ax.figure
    offsets = -np.arange(len(names)) * spacing_uv
    ax.plot(t, (data + offsets[:, None]).T, color="black", linewidth=0.5)
    shaded = 0
    for s0, s1 in recording.seizures:
        if s1 > start_s and s0 < stop_s:
            ax.axvspan(max(s0, start_s), min(s1, stop_s), color="tab:red", alpha=0.2,
                       label=None if shaded else "seizure")
            shaded += 1
    ax.set_yticks(offsets, names)
    ax.set_xlim(t[0] if t.size else start_s, t[-1] if t.size else stop_s)
    ax.set_xlabel("time (s)")
    ax.set_title(f"{recording.name}: {len(recording.seizures)} seizure(s), "
                 f"{recording.seizure_seconds:.1f} s; traces {spacing_uv:.0f} uV apart")
    if shaded:
        ax.legend(loc="upper right")
    return fig


# --- Spectrogram of one channel: the evolving seizure rhythm, as numbers and as a plot ---

@dataclass(frozen=True)
class Spectrogram:
    """Power spectral density of one channel over time (``scipy.signal.spectrogram``, Hann segments).

    ``power[i, j]`` is the density (uV^2/Hz) at ``freqs[i]`` in the segment centred at
    ``times[j]`` (seconds from the start of the recording). ``seizures`` are the
    recording's seizure intervals, kept for plotting.
    """

    recording: str
    channel: str
    freqs: np.ndarray
    times: np.ndarray
    power: np.ndarray
    seizures: tuple[tuple[float, float], ...]
    segment_s: float

    def _columns(self, start_s: float, stop_s: float, where: str) -> np.ndarray:
        start_s = check_real(start_s, "start_s", where)
        stop_s = check_real(stop_s, "stop_s", where, low=start_s, low_open=True,
                            allowed=f"a real number above start_s={start_s:g}")
        cols = (self.times >= start_s) & (self.times <= stop_s)
        if not cols.any():
            raise invalid("stop_s", where, f"a span holding at least one segment centre "
                                           f"(centres run from {self.times[0]:g} to {self.times[-1]:g} s)",
                          (start_s, stop_s))
        return cols

    def _rows(self, fmin: float, fmax: float, where: str) -> np.ndarray:
        fmin = check_real(fmin, "fmin", where, low=0.0)
        fmax = check_real(fmax, "fmax", where, low=fmin, low_open=True,
                          allowed=f"a real number above fmin={fmin:g}")
        rows = (self.freqs >= fmin) & (self.freqs <= fmax)
        if not rows.any():
            raise invalid("fmax", where, f"a band holding at least one frequency bin "
                                         f"(bins {self.freqs[1] - self.freqs[0]:g} Hz apart)", (fmin, fmax))
        return rows

    def dominant_frequency(self, start_s: float, stop_s: float, *, fmin: float = 2.0,
                           fmax: float = 20.0) -> float:
        """Frequency (Hz) of the highest mean power in ``[fmin, fmax]`` over segments centred in the span.

        ``fmin`` defaults to 2 Hz because the 1/f background always peaks at the lowest bins.
        """
        where = "Spectrogram.dominant_frequency"
        cols, rows = self._columns(start_s, stop_s, where), self._rows(fmin, fmax, where)
        mean = self.power[np.ix_(rows, cols)].mean(axis=1)
        return float(self.freqs[rows][int(np.argmax(mean))])

    def band_power(self, start_s: float, stop_s: float, *, fmin: float, fmax: float) -> float:
        """Mean power (uV^2/Hz) in ``[fmin, fmax]`` over segments centred in ``[start_s, stop_s]``."""
        where = "Spectrogram.band_power"
        cols, rows = self._columns(start_s, stop_s, where), self._rows(fmin, fmax, where)
        return float(self.power[np.ix_(rows, cols)].mean())


def channel_spectrogram(recording: Recording, channel: str, *, segment_s: float = 2.0,
                        step_s: float = 0.5) -> Spectrogram:
    """Spectrogram of ``channel`` (microvolts) over the whole recording.

    ``segment_s`` sets the frequency resolution (1 / segment_s Hz) and ``step_s`` the
    time between segment centres (at most ``segment_s``).
    """
    from scipy.signal import spectrogram

    where = "channel_spectrogram"
    raw = recording.raw
    if channel not in raw.ch_names:
        raise invalid("channel", where, f"one of {raw.ch_names}", channel)
    fs = float(raw.info["sfreq"])
    segment_s = check_real(segment_s, "segment_s", where, low=2.0 / fs, high=recording.duration_s)
    step_s = check_real(step_s, "step_s", where, low=1.0 / fs, high=segment_s)
    n_segment = int(round(segment_s * fs))
    n_step = max(1, int(round(step_s * fs)))
    x = raw.get_data(picks=[channel])[0] * 1e6
    freqs, times, power = spectrogram(x, fs=fs, window="hann", nperseg=n_segment,
                                      noverlap=n_segment - n_step, scaling="density", mode="psd")
    return Spectrogram(recording=recording.name, channel=channel, freqs=freqs, times=times, power=power,
                       seizures=tuple(recording.seizures), segment_s=n_segment / fs)


def plot_spectrogram(spec: Spectrogram, *, start_s: float | None = None, stop_s: float | None = None,
                     fmax: float = 20.0, ax=None):
    """Draw ``spec`` in dB (10 log10 uV^2/Hz) up to ``fmax`` Hz, seizure edges as dashed lines.

    ``start_s``/``stop_s`` limit the time axis (default: all). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    where = "plot_spectrogram"
    lo = spec.times[0] if start_s is None else check_real(start_s, "start_s", where)
    hi = spec.times[-1] if stop_s is None else check_real(stop_s, "stop_s", where, low=lo, low_open=True,
                                                           allowed=f"a real number above start_s={lo:g}")
    cols = (spec.times >= lo) & (spec.times <= hi)
    rows = spec.freqs <= check_real(fmax, "fmax", where, low=spec.freqs[1], allowed=(
        f"a real number >= {spec.freqs[1]:g} Hz (one frequency bin)"))
    if not cols.any():
        raise invalid("stop_s", where, "a span holding at least one segment centre", (start_s, stop_s))
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3), layout="constrained")
    else:
        fig = ax.figure
    db = 10 * np.log10(spec.power[np.ix_(rows, cols)] + np.finfo(float).tiny)
    mesh = ax.pcolormesh(spec.times[cols], spec.freqs[rows], db, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="dB (uV$^2$/Hz)")
    for s0, s1 in spec.seizures:
        for edge in (s0, s1):
            if lo <= edge <= hi:
                ax.axvline(edge, color="white", linestyle="--", linewidth=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(f"{spec.recording}, {spec.channel}: spectrogram ({spec.segment_s:g} s segments); "
                 "dashed: seizure start/stop")
    return fig
