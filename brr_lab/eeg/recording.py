"""The :class:`Recording` every EEG function passes around: an MNE Raw plus its seizure intervals."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mne


@dataclass
class Recording:
    """One EEG recording, read from a file or simulated in memory.

    ``raw`` holds the 19 referential channels under their 10-20 names (``Fp1``,
    ``T3``, ...), in :data:`~brr_lab.eeg.channels.STANDARD_CHANNELS` order, in volts.
    ``seizures`` are merged ``(start_s, stop_s)`` intervals; ``labels_seen`` counts
    the annotation rows per label as read (known or not). ``extra_channels`` lists
    the file's channels that are not among the 19 and were left out (reported, not
    hidden). ``meta`` holds whatever the source knows beyond that (the generator
    stores each seizure's focus, type and frequencies there).
    """

    name: str
    raw: mne.io.BaseRaw
    seizures: list[tuple[float, float]]
    labels_seen: dict[str, int]
    path: Path | None = None
    extra_channels: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds (number of samples / sampling rate)."""
        return self.raw.n_times / self.raw.info["sfreq"]

    @property
    def seizure_seconds(self) -> float:
        """Total seizure time in seconds."""
        return float(sum(stop - start for start, stop in self.seizures))
