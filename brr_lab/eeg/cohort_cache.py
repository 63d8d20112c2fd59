"""Where the generated cohort lives between runs: the cache outside the repository.

:func:`cache_dir` is ``$BRR_LAB_CACHE`` or ``~/.cache/brr_lab``. The short recordings'
windows (``cohort-*.pt``) and the event recordings' signals (``events-*.pt``) are kept
there, keyed by the generator settings and by the source of the generator and windowing
code: a change to either makes a new entry (and the old one for the same settings is
deleted). A damaged entry is regenerated, with a warning.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from brr_lab.eeg.cohort import SyntheticCohort

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """``$BRR_LAB_CACHE``, else ``~/.cache/brr_lab``: generated cohorts live here, never in the repository."""
    return Path(os.environ.get("BRR_LAB_CACHE") or Path.home() / ".cache" / "brr_lab")


def _event_source(spec: SyntheticCohort) -> str:
    return (f"{spec.n_event_recordings} recordings of {spec.event_duration_s / 60:g} min from the "
            f"generator's long-recording stream (seed {spec.seed}, {spec.n_event_seizure_free} without "
            f"a seizure, 1-{spec.max_event_seizures} seizures in the others)")


def _event_layout(spec: SyntheticCohort, windowing: dict) -> str:
    stride = spec.event_stride_s if spec.event_stride_s is not None else windowing.get("window_s", 2.0)
    return f"{'-'.join(f'{f:g}' for f in spec.event_fractions)}-s{stride:g}"


def _code_digest() -> str:
    """The generator's and the windowing's source: a change to either makes a new cache entry."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("synth.py", "synth_long.py", "windowing.py", "signals.py", "recording.py",
                 "annotations.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


_EVENT_FIELDS = ("n_event_recordings", "n_event_seizure_free", "event_duration_s", "max_event_seizures",
                 "event_fractions", "event_stride_s")


def _cache_path(spec: SyntheticCohort, windowing: dict) -> Path:
    settings = {k: v for k, v in dataclasses.asdict(spec).items()
                if k != "fractions" and k not in _EVENT_FIELDS}
    settings["windowing"] = windowing
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"cohort-{key}-{_code_digest()}.pt"


def _event_cache_path(spec: SyntheticCohort, windowing: dict) -> Path:
    """The event recordings' signals depend on the generator settings and on the rate and
    filters, not on the split or the stride."""
    settings = {k: v for k, v in dataclasses.asdict(spec).items()
                if k not in ("fractions", "event_fractions", "event_stride_s")}
    settings["signal"] = {k: windowing[k] for k in ("sfreq", "l_freq", "h_freq") if k in windowing}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"events-{key}-{_code_digest()}.pt"


def _store(path: Path, state: dict, what: str) -> None:
    """Write ``state`` to ``path`` atomically; drop entries of the same settings under older code."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)
        for old in path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.pt"):
            if old != path:  # the same settings under older code: never read again
                old.unlink(missing_ok=True)
    except OSError as err:
        warnings.warn(f"{what} not cached ({err}); it will be generated again next time", stacklevel=3)


def _synthetic_events(spec: SyntheticCohort, windowing: dict, *, cache: bool):
    """The event recordings as a SignalSet in microvolts, from the cache or generated.

    Generated at the windowing's rate when it divides the generator's 256 Hz (the default
    64 Hz does), else at 256 Hz and resampled like the short recordings.
    """
    from brr_lab import eeg
    from brr_lab.eeg import synth
    from brr_lab.eeg import synth_long
    from brr_lab.eeg import windowing as ew

    path = _event_cache_path(spec, windowing)
    stride = spec.event_stride_s if spec.event_stride_s is not None else windowing.get(
        "window_s", ew.DEFAULT_WINDOW_S)
    if cache and path.is_file():
        try:
            state = torch.load(path, weights_only=True)
            rule = windowing.get("label_rule", "any")
            info = {n: {**i, "seizures": [tuple(x) for x in i["seizures"]]}
                    for n, i in state["recording_info"].items()}
            return eeg.SignalSet(signals=state["signals"], channels=list(state["channels"]),
                                 sfreq=state["sfreq"], window_s=windowing.get("window_s", ew.DEFAULT_WINDOW_S),
                                 stride_s=stride, label_rule=rule,
                                 min_fraction=windowing.get("min_fraction", 0.5) if rule == "fraction" else None,
                                 recording_info=info)
        except Exception as err:  # a damaged cache entry is rebuilt, and said so
            warnings.warn(f"event recordings cache {path} unreadable ({err}); regenerating them",
                          stacklevel=2)
    rate = windowing.get("sfreq", ew.DEFAULT_SFREQ)
    direct = rate is not None and abs(synth.SFREQ / rate - round(synth.SFREQ / rate)) < 1e-9
    recordings = synth_long.iter_long_recordings(
        spec.seed, n_recordings=spec.n_event_recordings, duration_s=spec.event_duration_s,
        n_seizure_free=spec.n_event_seizure_free, max_seizures=spec.max_event_seizures,
        mean_seizure_s=synth_long.planned_mean_seizure_s(n_recordings=spec.n_recordings,
                                                    duration_s=spec.duration_s,
                                                    n_seizure_free=spec.n_seizure_free),
        seizure_amplitude=spec.seizure_amplitude, sfreq=rate if direct else synth.SFREQ)
    signals = eeg.make_signals(recordings, **{**windowing, "stride_s": stride})
    if cache:
        info = {n: {"duration_s": float(i["duration_s"]),
                    "seizures": [[float(a), float(b)] for a, b in i["seizures"]],
                    "labels_seen": {k: int(v) for k, v in i["labels_seen"].items()},
                    "extra_channels": list(i.get("extra_channels", []))}
                for n, i in signals.recording_info.items()}
        _store(path, {"signals": signals.signals, "channels": list(signals.channels),
                      "sfreq": float(signals.sfreq), "recording_info": info}, "event recordings")
    return signals


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
        _store(path, _to_state(windows), "cohort")
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
