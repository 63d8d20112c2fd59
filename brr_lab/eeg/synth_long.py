"""Long synthetic recordings with rare seizures: what SzCORE false alarms per 24 h need.

:func:`simulate_long_recordings` makes recordings tens of minutes long in which seizures
are rare in time (1 to ``max_seizures`` per recording, at least ``min_gap_s`` apart, some
recordings with none), so that false alarms have hours of background to happen in. They
are built from the pieces of :mod:`brr_lab.eeg.synth` (the same background, alpha rhythm
and seizures, the same amplitude knob); seizure durations are 6 s plus a Gamma(4) share
with the short recordings' planned mean.

They are generated at the model's sampling rate directly (``sfreq``, a divisor of
256 Hz): the background and the alpha rhythm are drawn at that rate with the spectrum
they have at 256 Hz below its Nyquist frequency, and each seizure (whose spikes hold
power above it) is computed at 256 Hz over its own seconds and band-limited by FFT
resampling, what ``make_windows`` does to a whole 256 Hz recording. Measured on 30-minute
recordings: band powers (0.5-32 Hz) within 1.5% of generating at 256 Hz and resampling,
seizure RMS within 3%, about 4x faster.
"""
from __future__ import annotations

import math

import numpy as np

from brr_lab._validation import check_int, check_real, invalid
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.synth import (
    DEFAULT_DURATION_S, DEFAULT_N_RECORDINGS, DEFAULT_SEIZURE_AMPLITUDE, EDGE_MARGIN_S,
    MIN_SEIZURE_S, SFREQ, TARGET_PREVALENCE, SyntheticSeizure, _alpha_rhythm, _pink_background,
    _seizure_parts, as_recording,
)
from brr_lab.eeg.windowing import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S

__all__ = ["DEFAULT_LONG_DURATION_S", "DEFAULT_MAX_SEIZURES", "DEFAULT_MIN_GAP_S",
           "planned_mean_seizure_s", "simulate_long_recordings", "iter_long_recordings"]

DEFAULT_LONG_DURATION_S = 1800.0
DEFAULT_MAX_SEIZURES = 4
DEFAULT_MIN_GAP_S = 300.0  # beyond SzCORE's merging (90 s) and tolerances (30 s / 60 s)


def planned_mean_seizure_s(*, n_recordings: int = DEFAULT_N_RECORDINGS,
                           duration_s: float = DEFAULT_DURATION_S, n_seizure_free: int | None = None,
                           target_prevalence: float = TARGET_PREVALENCE) -> float:
    """The mean seizure duration :func:`simulate_recordings` plans for these settings."""
    if n_seizure_free is None:
        n_seizure_free = max(1, round(n_recordings / 4)) if n_recordings >= 2 else 0
    n_seizures = n_recordings - n_seizure_free
    windows_per_recording = math.floor((duration_s - DEFAULT_WINDOW_S) / DEFAULT_STRIDE_S) + 1
    total_s = (target_prevalence * n_recordings * windows_per_recording * DEFAULT_STRIDE_S
               - n_seizures * DEFAULT_WINDOW_S)
    return total_s / n_seizures


def simulate_long_recordings(seed: int, *, n_recordings: int = 8,
                             duration_s: float = DEFAULT_LONG_DURATION_S,
                             n_seizure_free: int | None = None,
                             max_seizures: int = DEFAULT_MAX_SEIZURES,
                             min_gap_s: float = DEFAULT_MIN_GAP_S,
                             mean_seizure_s: float | None = None,
                             seizure_amplitude: float = DEFAULT_SEIZURE_AMPLITUDE,
                             sfreq: float = SFREQ) -> list[Recording]:
    """Long recordings with rare seizures, for event scoring; see :func:`iter_long_recordings`."""
    return list(iter_long_recordings(seed, n_recordings=n_recordings, duration_s=duration_s,
                                     n_seizure_free=n_seizure_free, max_seizures=max_seizures,
                                     min_gap_s=min_gap_s, mean_seizure_s=mean_seizure_s,
                                     seizure_amplitude=seizure_amplitude, sfreq=sfreq))


def iter_long_recordings(seed: int, *, n_recordings: int = 8,
                         duration_s: float = DEFAULT_LONG_DURATION_S,
                         n_seizure_free: int | None = None,
                         max_seizures: int = DEFAULT_MAX_SEIZURES,
                         min_gap_s: float = DEFAULT_MIN_GAP_S,
                         mean_seizure_s: float | None = None,
                         seizure_amplitude: float = DEFAULT_SEIZURE_AMPLITUDE,
                         sfreq: float = SFREQ):
    """Yield ``n_recordings`` long recordings one at a time (memory: one recording), deterministic for ``seed``.

    TUSZ-like for event scoring: tens of minutes each, seizures rare in time.

    Parameters
    ----------
    seed : int >= 0
        Seeds its own streams (``numpy.random.default_rng([seed, 1, ...])``): these are not
        the recordings :func:`simulate_recordings` makes for the same seed. Each recording
        draws its plan (seizure times and shapes, background level) and its noise from
        two streams of its own, so the plan (also the 1/f exponent and the alpha frequency)
        is the same at every ``sfreq``. Names are
        ``synth{seed:03d}_long{index:03d}``.
    duration_s : float in [600, 14400]
    n_seizure_free : int or None
        Recordings without a seizure; None gives a quarter of them (at least one from two).
    max_seizures : int >= 1
        A recording with seizures holds 1 to ``max_seizures`` (uniform), at least
        ``min_gap_s`` apart and 5 s from either end.
    mean_seizure_s : float or None
        Mean seizure duration (6 s plus a Gamma(4) share, capped at 4x the mean); None: what
        :func:`simulate_recordings` plans at its defaults (:func:`planned_mean_seizure_s`).
    seizure_amplitude : float in (0, 50]
        As in :func:`simulate_recordings`.
    sfreq : float
        256 Hz or a divisor of it (128, 64, ...): generated at that rate directly.

    Each :class:`Recording` has ``raw`` at ``sfreq`` and ``meta["seizure_events"]``.
    """
    where = "simulate_long_recordings"
    seed = check_int(seed, "seed", where, low=0, allowed="an integer >= 0")
    n_recordings = check_int(n_recordings, "n_recordings", where, low=1, allowed="an integer >= 1")
    duration_s = check_real(duration_s, "duration_s", where, low=600.0, high=14400.0)
    max_seizures = check_int(max_seizures, "max_seizures", where, low=1, allowed="an integer >= 1")
    min_gap_s = check_real(min_gap_s, "min_gap_s", where, low=0.0)
    if mean_seizure_s is None:
        mean_seizure_s = planned_mean_seizure_s()
    mean_seizure_s = check_real(mean_seizure_s, "mean_seizure_s", where, low=MIN_SEIZURE_S, high=600.0)
    seizure_amplitude = check_real(seizure_amplitude, "seizure_amplitude", where, low=0.0, high=50.0,
                                   low_open=True)
    sfreq = check_real(sfreq, "sfreq", where, low=0.0, low_open=True)
    if abs(SFREQ / sfreq - round(SFREQ / sfreq)) > 1e-9:
        raise invalid("sfreq", where, f"{SFREQ:g} Hz or a whole divisor of it (128, 64, 32, ...)", sfreq)
    if n_seizure_free is None:
        n_seizure_free = max(1, round(n_recordings / 4)) if n_recordings >= 2 else 0
    n_seizure_free = check_int(n_seizure_free, "n_seizure_free", where, low=0, high=n_recordings - 1,
                               allowed=f"None or an integer in [0, {n_recordings - 1}]")
    longest = max_seizures * (mean_seizure_s * 4) + (max_seizures - 1) * min_gap_s + 2 * EDGE_MARGIN_S
    if longest > duration_s:
        raise invalid("duration_s", where, f"long enough for {max_seizures} seizures {min_gap_s:g} s "
                      f"apart (at least {longest:g} s; or lower max_seizures or min_gap_s)", duration_s)

    rng = np.random.default_rng([int(seed), 1])
    n_samples = int(round(duration_s * sfreq))
    free = set(rng.choice(n_recordings, size=n_seizure_free, replace=False).tolist())
    extra_mean = mean_seizure_s - MIN_SEIZURE_S
    for index in range(n_recordings):
        # Two streams per recording: the plan (seizure times, sizes, shapes, background level)
        # and the noise. The plan does not depend on the rate; the noise's draws do.
        plan = np.random.default_rng([int(seed), 1, index, 0])
        noise = np.random.default_rng([int(seed), 1, index, 1])
        name = f"synth{int(seed):03d}_long{index:03d}"
        spans = []
        if index not in free:
            k = int(plan.integers(1, max_seizures + 1))
            durations = MIN_SEIZURE_S + (plan.gamma(4.0, extra_mean / 4.0, size=k) if extra_mean > 0
                                         else np.zeros(k))
            durations = np.minimum(durations, mean_seizure_s * 4)  # keeps the room check above true
            room = duration_s - 2 * EDGE_MARGIN_S - durations.sum() - (k - 1) * min_gap_s
            shares = plan.dirichlet(np.ones(k + 1))
            at = EDGE_MARGIN_S + room * shares[0]
            for d, share in zip(durations, shares[1:]):
                spans.append((round(float(at), 4), round(float(at + d), 4)))
                at += d + min_gap_s + room * share
        yield _simulate_many(plan, noise, name, n_samples, sfreq, spans, seizure_amplitude)


def _simulate_many(plan: np.random.Generator, noise: np.random.Generator, name: str, n_samples: int,
                   sfreq: float, spans: list[tuple[float, float]], seizure_amplitude: float) -> Recording:
    """One recording at ``sfreq`` holding the seizures ``spans`` (none for an empty list)."""
    t = np.arange(n_samples) / sfreq
    background_uv = plan.uniform(15.0, 30.0)
    beta, alpha_hz = plan.uniform(1.4, 2.0), plan.uniform(9.0, 11.0)
    background = _pink_background(noise, n_samples, sfreq, beta) * background_uv
    alpha = _alpha_rhythm(noise, t, sfreq, alpha_hz) * background_uv
    data = background + alpha
    events: list[SyntheticSeizure] = []
    for start, stop in spans:
        amplitude = seizure_amplitude * plan.uniform(0.8, 1.2)
        (lo, signal), (a, blocked), event = _seizure_parts(plan, t, start, stop, amplitude, sfreq)
        data[:, a:a + blocked.shape[1]] -= alpha[:, a:a + blocked.shape[1]] * blocked  # alpha blocked
        data[:, lo:lo + signal.shape[1]] += signal * background_uv
        events.append(event)
    del background, alpha
    return as_recording(name, data * 1e-6, sfreq, events, background_uv)
