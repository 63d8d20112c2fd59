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
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from brr_lab._validation import check_real, invalid

__all__ = ["PARTS", "DEFAULT_FRACTIONS", "SPLIT_SEED", "SyntheticCohort", "Cohort",
           "split_recordings", "standardise", "load_cohort", "cohort_from_windows", "part_size", "cache_dir", "default_data_dir"]

PARTS = ("train", "calibration", "validation")
DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)
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

    def describe(self) -> str:
        return (f"synthetic cohort (generator seed {self.seed}, {self.n_recordings} recordings of "
                f"{self.duration_s:g} s, seizure amplitude {self.seizure_amplitude:g})")


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

    def part(self, name: str):
        if name not in PARTS:
            raise invalid("part", "Cohort.part", f"one of {list(PARTS)}", name)
        return getattr(self, name)

    def size(self, name: str = "validation") -> dict:
        """Recordings, seizures, windows, positive windows and hours of one part."""
        return part_size(self.part(name))

    def describe(self) -> str:
        """One line per part: what a result on this cohort rests on."""
        lines = [f"data: {self.source}; split by recording, stratified by seizure/no seizure, "
                 f"fractions {'/'.join(f'{f:g}' for f in self.fractions)}"]
        for name in PARTS:
            s = self.size(name)
            lines.append(f"  {name:11s} {s['n_recordings']:3d} recordings, {s['n_seizures']:3d} "
                         f"seizures, {s['n_windows']:6d} windows ({s['n_pos_windows']} positive), "
                         f"{s['hours']:.2f} h")
        return "\n".join(lines)


def part_size(windows) -> dict:
    """Recordings, seizures, windows, positive windows and hours of a WindowSet: what a
    figure measured on it rests on."""
    info = windows.recording_info
    return {"n_recordings": len(info), "n_seizures": sum(len(i["seizures"]) for i in info.values()),
            "n_windows": len(windows), "n_pos_windows": int(windows.y.sum()),
            "hours": sum(i["duration_s"] for i in info.values()) / 3600.0}


def default_data_dir() -> Path:
    """``data_sample/`` beside the package (a source checkout), else in the working directory."""
    beside = Path(__file__).resolve().parent.parent / "data_sample"
    return beside if beside.is_dir() else Path("data_sample")


def cache_dir() -> Path:
    """``$BRR_LAB_CACHE``, else ``~/.cache/brr_lab``: generated cohorts live here, never in the repository."""
    return Path(os.environ.get("BRR_LAB_CACHE") or Path.home() / ".cache" / "brr_lab")


def _check_fractions(fractions) -> tuple[float, float, float]:
    allowed = "three fractions (train, calibration, validation), each in (0, 1), summing to 1"
    if not isinstance(fractions, (tuple, list)) or len(fractions) != 3:
        raise invalid("fractions", "split_recordings", allowed, fractions)
    values = tuple(check_real(f, "fractions", "split_recordings", low=0, high=1, low_open=True,
                              high_open=True, allowed=allowed) for f in fractions)
    if abs(sum(values) - 1.0) > 1e-9:
        raise invalid("fractions", "split_recordings", allowed, fractions)
    return values


def split_recordings(has_seizure: Mapping[str, bool], *, fractions=DEFAULT_FRACTIONS,
                     seed: int = SPLIT_SEED) -> dict[str, list[str]]:
    """The split rule (see the module docstring): recording names per part.

    Per group (with / without a seizure): ``n_val = round(f_val * n)`` and ``n_cal =
    round(f_cal * n)``, at least 1 each in the seizure group, training keeps the rest
    and must keep at least one recording with a seizure.
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
        if index == 0:
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
                fractions=None, windowing: dict | None = None, cache: bool = True) -> Cohort:
    """The protocol's windows: a folder split by the rule, or the generated cohort.

    ``data``: a folder of EDF + annotation files (split with :data:`DEFAULT_FRACTIONS`
    unless ``fractions`` is given). None: :class:`SyntheticCohort`, with its
    ``seizure_amplitude`` set to ``difficulty`` when given (lower is harder).
    ``windowing``: keyword arguments of :func:`brr_lab.eeg.make_windows` (window_s,
    stride_s, label_rule, min_fraction, sfreq, l_freq, h_freq); the defaults otherwise.
    """
    from brr_lab import eeg

    # Settings equal to make_windows' defaults are dropped, so a config that spells them
    # out shares the cached cohort with one that does not.
    defaults = {k: p.default for k, p in inspect.signature(eeg.make_windows).parameters.items()
                if p.default is not inspect.Parameter.empty}
    windowing = {k: v for k, v in (windowing or {}).items() if k not in defaults or defaults[k] != v}
    from brr_lab import eeg

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
    else:
        spec = SyntheticCohort()
        if difficulty is not None:
            spec = dataclasses.replace(spec, seizure_amplitude=check_real(
                difficulty, "difficulty", _WHERE, low=0, high=50, low_open=True,
                allowed="a seizure amplitude in (0, 50] (seizure RMS over background RMS)"))
        windows = _synthetic_windows(spec, windowing, cache=cache)
        source = spec.describe()
        fractions = spec.fractions if fractions is None else fractions
        key = f"{_cache_path(spec, windowing).stem}-{'-'.join(f'{f:g}' for f in fractions)}"
        return dataclasses.replace(cohort_from_windows(windows, fractions=fractions, source=source),
                                   key=key)
    return cohort_from_windows(windows, fractions=fractions, source=source)


def cohort_from_windows(windows, *, fractions=DEFAULT_FRACTIONS, source: str = "windows") -> Cohort:
    """Split a :class:`brr_lab.eeg.WindowSet` by the rule and standardise it: a Cohort."""
    from brr_lab import eeg

    eeg.check_labels(windows.y, context=source)
    train, cal, val = _split_windows(windows, _check_fractions(fractions))
    train, cal, val, mean, std = standardise(train, cal, val)
    return Cohort(train=train, calibration=cal, validation=val, source=source,
                  fractions=tuple(fractions), mean=mean, std=std,
                  all_zero_error=_guard_message(windows))


# --------------------------------------------------------------------------- cache


def _code_digest() -> str:
    """The generator's and the windowing's source: a change to either makes a new cache entry."""
    here = Path(__file__).resolve().parent / "eeg"
    h = hashlib.sha256()
    for name in ("synth.py", "windowing.py", "recording.py", "annotations.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _cache_path(spec: SyntheticCohort, windowing: dict) -> Path:
    settings = {k: v for k, v in dataclasses.asdict(spec).items() if k != "fractions"}
    settings["windowing"] = windowing
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"cohort-{key}-{_code_digest()}.pt"


def _synthetic_windows(spec: SyntheticCohort, windowing: dict, *, cache: bool):
    from brr_lab import eeg

    path = _cache_path(spec, windowing)
    if cache and path.is_file():
        try:
            return _from_state(torch.load(path, weights_only=True))
        except Exception as err:  # a damaged cache entry is rebuilt, and said so
            warnings.warn(f"cohort cache {path} unreadable ({err}); regenerating it", stacklevel=2)
    recordings = eeg.simulate_recordings(spec.seed, n_recordings=spec.n_recordings,
                                         duration_s=spec.duration_s,
                                         seizure_amplitude=spec.seizure_amplitude,
                                         n_seizure_free=spec.n_seizure_free)
    windows = eeg.make_windows(recordings, **windowing)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            torch.save(_to_state(windows), tmp)
            os.replace(tmp, path)
            for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.pt"):
                if old != path:  # the same settings under older code: never read again
                    old.unlink(missing_ok=True)
        except OSError as err:
            warnings.warn(f"cohort not cached ({err}); it will be generated again next time",
                          stacklevel=2)
    return windows


def _to_state(w) -> dict:
    info = {name: {"duration_s": float(i["duration_s"]),
                   "seizures": [[float(a), float(b)] for a, b in i["seizures"]],
                   "labels_seen": {k: int(v) for k, v in i["labels_seen"].items()},
                   "extra_channels": list(i.get("extra_channels", []))}
            for name, i in w.recording_info.items()}
    return {"X": w.X, "y": w.y, "recording": list(w.recording),
            "start_s": torch.from_numpy(np.asarray(w.start_s, dtype=np.float64)),
            "seizure_fraction": torch.from_numpy(np.asarray(w.seizure_fraction, dtype=np.float64)),
            "channels": list(w.channels), "sfreq": float(w.sfreq), "label_rule": w.label_rule,
            "window_s": float(w.window_s), "stride_s": float(w.stride_s), "recording_info": info}


def _from_state(state: dict):
    from brr_lab.eeg import WindowSet

    info = {name: {**i, "seizures": [tuple(s) for s in i["seizures"]]}
            for name, i in state["recording_info"].items()}
    return WindowSet(X=state["X"], y=state["y"], recording=list(state["recording"]),
                     start_s=state["start_s"].numpy(), seizure_fraction=state["seizure_fraction"].numpy(),
                     channels=list(state["channels"]), sfreq=state["sfreq"],
                     label_rule=state["label_rule"], window_s=state["window_s"],
                     stride_s=state["stride_s"], recording_info=info)
