"""Notebook-ready plot of a recording with its seizures shaded (matplotlib)."""
from __future__ import annotations

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
