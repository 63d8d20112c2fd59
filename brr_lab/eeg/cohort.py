"""The data half of the one experiment protocol: which recordings train, calibrate and validate.

Every path that trains and reports (``brr-lab repro``, ``brr-lab sweep``, ``brr-lab
train``, the notebook panels, the benchmarks) gets its windows from :func:`load_cohort`:

* **The split rule** (:func:`split_recordings`): whole recordings, never windows (windows
  of one recording overlap and share a seizure). Recordings with a seizure and
  recordings without are split separately (stratified), each group in the order of a
  fixed-seed permutation of the sorted names, into training, calibration (for
  thresholds) and validation parts by ``fractions``; calibration and validation each get
  at least one recording with a seizure. A folder (``--data DIR``) is split with
  :data:`DEFAULT_FRACTIONS`.
* **One standardisation** (:func:`standardise`): per channel, with the training windows'
  mean and standard deviation, applied to every part.
* **The default cohort** (:class:`SyntheticCohort`): 80 recordings of 150 s from the
  synthetic generator (seed 1, 20 without a seizure), split 10/20/70 %: 8 training
  recordings (the size of ``data_sample/``), 16 for calibration, and 56 for validation
  (42 seizures, 2.3 hours), so a verdict rests on dozens of held-out seizures, not one
  or two. It is generated in memory (about 10 s) and cached outside the repository
  (:func:`cache_dir`), keyed by its settings and by the generator's source code.
  ``data_sample/`` is the generator's seed 0: the recordings people look at.
* **The event recordings** (:class:`EventSet`, ``Cohort.events``): SzCORE event scores
  (seizures found, false alarms per 24 h) need what 150-second recordings that each hold
  a seizure cannot give: hours of background in which a false alarm can happen and be
  counted (on a 150 s recording SzCORE's tolerance and merging turn even "everything is
  a seizure" into one correct detection). So the default cohort also holds 40 recordings
  of 30 minutes from the same generator (its long-recording stream, same seizure
  amplitude), seizures rare in time (1-4 per recording, at least 5 minutes apart, 12
  recordings without any): never trained on, split by the same rule (whole recordings,
  stratified, the same seeded permutation) with fractions 0 / 0.4 / 0.6 into 16 for
  calibration (8 h: where a threshold is chosen for a false-alarm target; at 10 per 24 h
  that allows 3 false alarms there, so the target is not decided by one alarm) and 24
  for validation (12 h, of which over 11.8 h are background: more than the 10 hours a
  false-alarm rate of about 10 per 24 h needs to be counted, about 5 alarms, rather
  than guessed), standardised with the training windows' statistics like every part.
  They are generated at the model's sampling rate (64 Hz), kept as continuous signals
  (:class:`brr_lab.eeg.SignalSet`, float32, about 350 MB) and windowed chunk by chunk
  when scored, with windows of the model's length laid end to end (stride = window
  length: each second is seen by one window, half the cost of the 1 s stride; see
  ``event_stride_s``). Cached beside the cohort. A folder (``--data DIR``) has no
  separate event recordings: its calibration and validation recordings are scored as
  they are, and a result says how many hours that is.
"""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from brr_lab._validation import check_real, invalid
from brr_lab.eeg.cohort_cache import (
    _cache_path, _event_cache_path, _event_layout, _event_source, _synthetic_events, _synthetic_windows,
    cache_dir,
)

__all__ = ["PARTS", "EVENT_PARTS", "DEFAULT_FRACTIONS", "DEFAULT_EVENT_FRACTIONS", "SPLIT_SEED",
           "SyntheticCohort", "Cohort", "EventSet", "split_recordings", "standardise", "load_cohort",
           "cohort_from_windows", "part_size", "event_size", "cache_dir", "default_data_dir"]

PARTS = ("train", "calibration", "validation")
EVENT_PARTS = ("calibration", "validation")
DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)
DEFAULT_EVENT_FRACTIONS = (0.4, 0.6)  # event recordings: calibration, validation (none trains)
SPLIT_SEED = 0
_WHERE = "load_cohort"


@dataclass(frozen=True)
class SyntheticCohort:
    """The generated cohort: its generator settings and the fractions the split rule uses."""

    seed: int = 1
    n_recordings: int = 80
    n_seizure_free: int = 20
    duration_s: float = 150.0
    seizure_amplitude: float = 3.0
    fractions: tuple[float, float, float] = (0.1, 0.2, 0.7)
    # The event recordings (see the module docstring): long, seizures rare, held out only.
    n_event_recordings: int = 40
    n_event_seizure_free: int = 12
    event_duration_s: float = 1800.0
    max_event_seizures: int = 4
    event_fractions: tuple[float, float] = DEFAULT_EVENT_FRACTIONS
    event_stride_s: float | None = None   # None: the window length (windows end to end)

    def describe(self) -> str:
        text = (f"synthetic cohort (generator seed {self.seed}, {self.n_recordings} recordings of "
                f"{self.duration_s:g} s, seizure amplitude {self.seizure_amplitude:g}")
        if self.n_event_recordings:
            text += (f"; plus {self.n_event_recordings} event recordings of "
                     f"{self.event_duration_s / 60:g} min, held out")
        return text + ")"


@dataclass
class Cohort:
    """Standardised windows of the three parts, and where they came from."""

    train: object          # brr_lab.eeg.WindowSet
    calibration: object
    validation: object
    source: str
    fractions: tuple[float, float, float]
    mean: torch.Tensor     # per-channel standardisation, from the training windows
    std: torch.Tensor
    all_zero_error: str    # the label guard's message on this data with every label 0
    key: str | None = None # names these exact windows (code and settings); None: not cacheable
    events: "EventSet | None" = None  # None: event scores on the calibration/validation windows

    def part(self, name: str):
        if name not in PARTS:
            raise invalid("part", "Cohort.part", f"one of {list(PARTS)}", name)
        return getattr(self, name)

    def size(self, name: str = "validation") -> dict:
        """Recordings, seizures, windows, positive windows and hours of one part."""
        return part_size(self.part(name))

    def event_part(self, name: str):
        """What event scores of part ``name`` ("calibration" or "validation") rest on: the
        event recordings' part, or without them the part's own windows."""
        if name not in EVENT_PARTS:
            raise invalid("part", "Cohort.event_part", f"one of {list(EVENT_PARTS)}", name)
        return self.events.part(name) if self.events is not None else self.part(name)

    def event_size(self, name: str = "validation") -> dict:
        """:func:`event_size` of :meth:`event_part`."""
        return event_size(self.event_part(name))

    def describe(self) -> str:
        """One line per part: what a result on this cohort rests on."""
        lines = [f"data: {self.source}; split by recording, stratified by seizure/no seizure, "
                 f"fractions {'/'.join(f'{f:g}' for f in self.fractions)}"]
        for name in PARTS:
            s = self.size(name)
            lines.append(f"  {name:11s} {s['n_recordings']:3d} recordings, {s['n_seizures']:3d} "
                         f"seizures, {s['n_windows']:6d} windows ({s['n_pos_windows']} positive), "
                         f"{s['hours']:.2f} h")
        if self.events is not None:
            lines.append(self.events.describe())
        else:
            lines.append("event scores (SzCORE): on the calibration and validation recordings "
                         "above, as they are")
        return "\n".join(lines)


@dataclass
class EventSet:
    """Held-out recordings for SzCORE event scores, never trained on: thresholds are chosen on
    ``calibration``, scored on ``validation``. Each a :class:`brr_lab.eeg.SignalSet`,
    standardised with the training windows' statistics."""

    calibration: object    # brr_lab.eeg.SignalSet
    validation: object
    source: str
    fractions: tuple[float, float]

    def part(self, name: str):
        if name not in EVENT_PARTS:
            raise invalid("part", "EventSet.part", f"one of {list(EVENT_PARTS)}", name)
        return getattr(self, name)

    def size(self, name: str = "validation") -> dict:
        return event_size(self.part(name))

    def describe(self) -> str:
        first = self.validation
        lines = [f"event recordings (SzCORE event scores; held out, never trained on): {self.source}; "
                 f"split by the same rule, fractions 0/{'/'.join(f'{f:g}' for f in self.fractions)}; "
                 f"windows of {first.window_s:g} s every {first.stride_s:g} s"]
        for name in EVENT_PARTS:
            s = self.size(name)
            lines.append(f"  {name:11s} {s['n_recordings']:3d} recordings ({s['n_seizure_free']} "
                         f"without a seizure), {s['n_seizures']:3d} seizures, {s['hours']:.2f} h "
                         f"({s['background_hours']:.2f} h background)")
        return "\n".join(lines)


def part_size(windows) -> dict:
    """Recordings, seizures, windows, positive windows and hours of a WindowSet: what a
    figure measured on it rests on."""
    info = windows.recording_info
    return {"n_recordings": len(info), "n_seizures": sum(len(i["seizures"]) for i in info.values()),
            "n_windows": len(windows), "n_pos_windows": int(windows.y.sum()),
            "hours": sum(i["duration_s"] for i in info.values()) / 3600.0}


def event_size(part) -> dict:
    """What event scores on ``part`` (a WindowSet or SignalSet) rest on: recordings (and
    how many hold no seizure), seizures, windows, hours, and background hours (outside
    seizures)."""
    info = part.recording_info
    seizure_s = sum(b - a for i in info.values() for a, b in i["seizures"])
    hours = sum(i["duration_s"] for i in info.values()) / 3600.0
    return {"n_recordings": len(info), "n_seizure_free": sum(not i["seizures"] for i in info.values()),
            "n_seizures": sum(len(i["seizures"]) for i in info.values()), "n_windows": len(part),
            "hours": hours, "background_hours": hours - seizure_s / 3600.0}


def default_data_dir() -> Path:
    """``data_sample/`` beside the package (a source checkout), else in the working directory."""
    beside = Path(__file__).resolve().parents[2] / "data_sample"
    return beside if beside.is_dir() else Path("data_sample")


def _check_fractions(fractions) -> tuple[float, float, float]:
    allowed = ("three fractions (train, calibration, validation), each in (0, 1) (train may be 0: "
               "held-out recordings only), summing to 1")
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise invalid("fractions", "split_recordings", allowed, fractions)
    values = tuple(check_real(f, "fractions", "split_recordings", low=0, high=1, low_open=k > 0,
                              high_open=True, allowed=allowed) for k, f in enumerate(fractions))
    if abs(sum(values) - 1.0) > 1e-9:
        raise invalid("fractions", "split_recordings", allowed, fractions)
    return values


def split_recordings(has_seizure: Mapping[str, bool], *, fractions=DEFAULT_FRACTIONS,
                     seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """The split rule (see the module docstring): recording names per part.

    Per group (with / without a seizure): ``n_val = round(f_val * n)`` and ``n_cal =
    round(f_cal * n)``, at least 1 each in the seizure group, training keeps the rest
    and must keep at least one recording with a seizure. A training fraction of 0 splits
    recordings that are held out only (the event recordings): calibration keeps the rest.
    """
    fractions = _check_fractions(fractions)
    out: dict[str, list[str]] = {p: [] for p in PARTS}
    groups = ([n for n in sorted(has_seizure) if has_seizure[n]],
              [n for n in sorted(has_seizure) if not has_seizure[n]])
    for index, names in enumerate(groups):
        if not names:
            continue
        order = [names[i] for i in np.random.default_rng([seed, index]).permutation(len(names))]
        n_val = round(fractions[2] * len(names))
        n_cal = round(fractions[1] * len(names))
        if fractions[0] == 0:
            n_val = max(1, n_val) if index == 0 else n_val
            n_cal = len(names) - n_val
            if index == 0 and (n_cal < 1 or n_val < 1):
                raise invalid("data", "split_recordings", "at least 2 recordings with a seizure "
                              "(one each for calibration and validation)",
                              f"{len(names)} recording(s) with a seizure among {len(has_seizure)}")
        elif index == 0:
            n_val, n_cal = max(1, n_val), max(1, n_cal)
            if len(names) - n_val - n_cal < 1:
                raise invalid("data", "split_recordings", "at least 3 recordings with a seizure "
                              "(one each for training, calibration and validation)",
                              f"{len(names)} recording(s) with a seizure among {len(has_seizure)}")
        n_val = min(n_val, len(names))
        n_cal = min(n_cal, len(names) - n_val)
        out["validation"] += order[:n_val]
        out["calibration"] += order[n_val:n_val + n_cal]
        out["train"] += order[n_val + n_cal:]
    if not groups[0]:
        raise invalid("data", "split_recordings", "recordings with seizures",
                      f"none among {len(has_seizure)} recordings")
    return {p: sorted(v) for p, v in out.items()}


def standardise(train, *others):
    """Per-channel standardisation with the training windows' statistics; returns
    ``(parts..., mean, std)``, the parts as new WindowSets (``units`` "z")."""
    mean = train.X.mean(dim=(0, 2), keepdim=True)
    std = train.X.std(dim=(0, 2), keepdim=True).clamp_min(1e-12)
    parts = [dataclasses.replace(w, X=(w.X - mean) / std, units="z") for w in (train, *others)]
    return (*parts, mean, std)


def _split_windows(windows, fractions) -> tuple:
    has_seizure = {n: bool(i["seizures"]) for n, i in windows.recording_info.items()}
    names = split_recordings(has_seizure, fractions=fractions)
    owner = np.asarray(windows.recording, dtype=object)
    return tuple(windows.subset(np.isin(owner, names[p])) for p in PARTS)


def _guard_message(windows) -> str:
    """What the label guard says when every label is 0 (the parser bug), on this data."""
    from brr_lab import eeg
    try:
        eeg.check_labels(torch.zeros_like(windows.y), context="labels-all-zero")
    except eeg.SingleClassLabelsError as err:
        return f"{type(err).__name__}: {err}"
    return ""


def load_cohort(data: str | Path | None = None, *, difficulty: float | None = None,
                fractions=None, windowing: dict | None = None, cache: bool = True,
                events: bool = True) -> Cohort:
    """The protocol's windows: a folder split by the rule, or the generated cohort.

    ``data``: a folder of EDF + annotation files (split with :data:`DEFAULT_FRACTIONS`
    unless ``fractions`` is given). None: :class:`SyntheticCohort`, with its
    ``seizure_amplitude`` set to ``difficulty`` when given (lower is harder).
    ``windowing``: keyword arguments of :func:`brr_lab.eeg.make_windows` (window_s,
    stride_s, label_rule, min_fraction, sfreq, l_freq, h_freq); the defaults otherwise.
    ``events``: with the generated cohort, its event recordings (:class:`EventSet`; the
    first call generates them, about half a minute, then they are cached). False leaves
    them out: event scores then rest on the short calibration and validation recordings.
    """
    from brr_lab import eeg

    # Settings equal to make_windows' defaults are dropped, so a config that spells them
    # out shares the cached cohort with one that does not.
    defaults = {k: p.default for k, p in inspect.signature(eeg.make_windows).parameters.items()
                if p.default is not inspect.Parameter.empty}
    windowing = {k: v for k, v in (windowing or {}).items() if k not in defaults or defaults[k] != v}

    if data is not None:
        if difficulty is not None:
            raise invalid("difficulty", _WHERE, "None when a data folder is given (difficulty "
                          "sets the generated cohort's seizure amplitude)", difficulty)
        folder = Path(data)
        if not folder.is_dir():
            raise invalid("data", _WHERE, "a folder of EDF recordings with .csv_bi/.csv annotations",
                          str(folder))
        windows = eeg.make_windows(eeg.load_recordings(folder), **windowing)
        source = f"{folder} ({len(windows.recordings)} recordings)"
        fractions = DEFAULT_FRACTIONS if fractions is None else fractions
        return cohort_from_windows(windows, fractions=fractions, source=source)
    spec = SyntheticCohort()
    if difficulty is not None:
        spec = dataclasses.replace(spec, seizure_amplitude=check_real(
            difficulty, "difficulty", _WHERE, low=0, high=50, low_open=True,
            allowed="a seizure amplitude in (0, 50] (seizure RMS over background RMS)"))
    if not events:
        spec = dataclasses.replace(spec, n_event_recordings=0)
    windows = _synthetic_windows(spec, windowing, cache=cache)
    fractions = spec.fractions if fractions is None else fractions
    key = f"{_cache_path(spec, windowing).stem}-{'-'.join(f'{f:g}' for f in fractions)}"
    signals = None
    if spec.n_event_recordings:
        signals = _synthetic_events(spec, windowing, cache=cache)
        key += f"-{_event_cache_path(spec, windowing).stem}-{_event_layout(spec, windowing)}"
    cohort = cohort_from_windows(windows, fractions=fractions, source=spec.describe(),
                                 event_recordings=signals, event_fractions=spec.event_fractions,
                                 event_source=_event_source(spec), _owned=True)
    return dataclasses.replace(cohort, key=key)


def cohort_from_windows(windows, *, fractions=DEFAULT_FRACTIONS, source: str = "windows",
                        event_recordings=None, event_fractions=DEFAULT_EVENT_FRACTIONS,
                        event_source: str = "event recordings", _owned: bool = False) -> Cohort:
    """Split a :class:`brr_lab.eeg.WindowSet` by the rule and standardise it: a Cohort.

    ``event_recordings``: a :class:`brr_lab.eeg.SignalSet` of held-out recordings (none of
    them among ``windows``), split by the same rule into calibration and validation by
    ``event_fractions`` and standardised with the training windows' statistics: the
    cohort's :class:`EventSet`. None: event scores rest on the calibration and validation
    windows.
    """
    from brr_lab import eeg

    eeg.check_labels(windows.y, context=source)
    train, cal, val = _split_windows(windows, _check_fractions(fractions))
    train, cal, val, mean, std = standardise(train, cal, val)
    events = None
    if event_recordings is not None:
        shared = sorted(set(event_recordings.recordings) & set(windows.recordings))
        if shared:
            raise invalid("event_recordings", "cohort_from_windows", "recordings that are not among "
                          "the windows (event recordings are held out)", shared[:5])
        f_cal, f_val = (check_real(f, "event_fractions", "cohort_from_windows", low=0, high=1,
                                   low_open=True, high_open=True) for f in event_fractions)
        names = split_recordings({n: bool(i["seizures"]) for n, i in event_recordings.recording_info.items()},
                                 fractions=(0.0, f_cal, f_val))
        # _owned: load_cohort's own signals, standardised where they lie (no second copy).
        ev_cal = event_recordings.subset(names["calibration"]).standardised(mean, std, inplace=_owned)
        ev_val = event_recordings.subset(names["validation"]).standardised(mean, std, inplace=_owned)
        events = EventSet(calibration=ev_cal, validation=ev_val, source=event_source,
                          fractions=(f_cal, f_val))
    return Cohort(train=train, calibration=cal, validation=val, source=source,
                  fractions=tuple(fractions), mean=mean, std=std,
                  all_zero_error=_guard_message(windows), events=events)
