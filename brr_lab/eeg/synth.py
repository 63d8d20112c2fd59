"""Synthetic TUSZ-like EEG: 19 referential channels, 1/f background, posterior alpha, seizures.

Real TUSZ cannot ship (data-use agreement) and nothing is downloaded at run time,
so the sample data are simulated, deterministically for a seed:

- background: 1/f^beta noise (FFT-shaped), mixed so that neighbouring electrodes
  correlate (correlation exp(-distance / 0.5) on a unit-disc head layout);
- a posterior alpha rhythm (9-11 Hz, waxing and waning, strongest at O1/O2,
  blocked during seizures);
- seizures: a focal onset at one electrode spreading to its neighbours (or, for
  ``gnsz``, over the whole head), rhythmic spike-and-wave whose frequency slows
  (about 6.5-8.5 Hz down to 2.5-3.5 Hz), amplitude ramping up and down, variable
  duration. Some recordings have none.

Seizure time is planned so that the default windowing (2 s windows, 1 s stride,
any-overlap rule) yields about ``target_prevalence`` positive windows (1/13: 12
background windows per seizure window, as in TUSZ). That is a design target of
the generator, stated here, not a property found in data.

:mod:`brr_lab.eeg.synth_long` makes the other kind a detector is judged on: long
recordings with rare seizures, from the same pieces.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass

import mne
import numpy as np

from brr_lab._validation import check_int, check_real
from brr_lab.eeg.annotations import binary_rows
from brr_lab.eeg.channels import STANDARD_CHANNELS
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.windowing import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S

_WHERE = "simulate_recordings"

SFREQ = 256.0
DEFAULT_N_RECORDINGS = 8
DEFAULT_DURATION_S = 150.0
# Focus-channel seizure RMS over background RMS; lower makes detection harder.
DEFAULT_SEIZURE_AMPLITUDE = 3.0
TARGET_PREVALENCE = 1.0 / 13.0
MIN_SEIZURE_S = 6.0
EDGE_MARGIN_S = 5.0  # no seizure closer than this to either end of a recording

# Electrode positions on a unit disc (nose up), for spatial correlation and spread.
POSITIONS: dict[str, tuple[float, float]] = {
    "Fp1": (-0.31, 0.95), "Fp2": (0.31, 0.95),
    "F7": (-0.81, 0.59), "F3": (-0.40, 0.52), "Fz": (0.0, 0.50), "F4": (0.40, 0.52), "F8": (0.81, 0.59),
    "T3": (-1.0, 0.0), "C3": (-0.50, 0.0), "Cz": (0.0, 0.0), "C4": (0.50, 0.0), "T4": (1.0, 0.0),
    "T5": (-0.81, -0.59), "P3": (-0.40, -0.52), "Pz": (0.0, -0.50), "P4": (0.40, -0.52), "T6": (0.81, -0.59),
    "O1": (-0.31, -0.95), "O2": (0.31, -0.95),
}
_XY = np.array([POSITIONS[name] for name in STANDARD_CHANNELS])
_DIST = np.linalg.norm(_XY[:, None, :] - _XY[None, :, :], axis=-1)


@dataclass(frozen=True)
class SyntheticSeizure:
    """What the generator put where: enough to write per-channel annotations and to check."""

    start_s: float
    stop_s: float
    focus: str
    seizure_type: str          # "fnsz" (focal) or "gnsz" (generalised)
    freq_start_hz: float
    freq_stop_hz: float
    amplitude: float           # focus-channel RMS over background RMS at the plateau
    involved: tuple[str, ...]  # channels reaching at least half the focus amplitude


def simulate_recordings(seed: int, *, n_recordings: int = DEFAULT_N_RECORDINGS,
                        duration_s: float = DEFAULT_DURATION_S,
                        seizure_amplitude: float = DEFAULT_SEIZURE_AMPLITUDE,
                        target_prevalence: float = TARGET_PREVALENCE,
                        n_seizure_free: int | None = None) -> list[Recording]:
    """Simulate ``n_recordings`` recordings in memory (no files), deterministic for ``seed``.

    Parameters
    ----------
    seed : int >= 0
        Seeds one NumPy generator; the same seed gives the same signals and seizures.
    n_recordings : int >= 1
    duration_s : float in [30, 3600]
        Length of each recording.
    seizure_amplitude : float in (0, 50]
        The difficulty knob (lower is harder): at the seizure plateau the focus
        channel's seizure RMS is this times the 1/f background RMS (each seizure
        varies by +-20%); other channels get less with distance from the focus.
    target_prevalence : float in (0, 0.5)
        Fraction of positive windows the seizure time is planned for, under the
        default windowing (2 s windows, 1 s stride, any overlap).
    n_seizure_free : int or None
        Recordings with no seizure; None gives a quarter of them (at least one when
        there are two or more recordings).

    Returns a list of :class:`Recording` with ``raw`` an ``mne.io.RawArray`` at
    256 Hz (channels ``Fp1`` ... ``O2``, volts), ``seiz`` annotations on the Raw,
    and ``meta["seizure_events"]`` listing each :class:`SyntheticSeizure`.
    """
    seed = check_int(seed, "seed", _WHERE, low=0, allowed="an integer >= 0")
    n_recordings = check_int(n_recordings, "n_recordings", _WHERE, low=1, allowed="an integer >= 1")
    duration_s = check_real(duration_s, "duration_s", _WHERE, low=30.0, high=3600.0)
    seizure_amplitude = check_real(seizure_amplitude, "seizure_amplitude", _WHERE, low=0.0, high=50.0,
                                   low_open=True)
    target_prevalence = check_real(target_prevalence, "target_prevalence", _WHERE, low=0.0, high=0.5,
                                   low_open=True, high_open=True)
    if n_seizure_free is None:
        n_seizure_free = max(1, round(n_recordings / 4)) if n_recordings >= 2 else 0
    n_seizure_free = check_int(n_seizure_free, "n_seizure_free", _WHERE, low=0, high=n_recordings - 1,
                               allowed=f"None or an integer in [0, {n_recordings - 1}]")

    rng = np.random.default_rng(int(seed))
    n_samples = int(round(duration_s * SFREQ))
    duration_s = n_samples / SFREQ
    free = set(rng.choice(n_recordings, size=n_seizure_free, replace=False).tolist())
    with_seizure = [i for i in range(n_recordings) if i not in free]
    durations = _plan_durations(rng, len(with_seizure), n_recordings, duration_s, target_prevalence)
    recordings = []
    for index in range(n_recordings):
        name = f"synth{int(seed):03d}_t{index:03d}"
        seizure_s = durations[with_seizure.index(index)] if index in with_seizure else None
        recordings.append(_simulate_one(rng, name, n_samples, seizure_s, seizure_amplitude))
    return recordings


def _plan_durations(rng: np.random.Generator, n_seizures: int, n_recordings: int, duration_s: float,
                    target_prevalence: float) -> list[float]:
    """Seizure durations whose default-window positives make ``target_prevalence``."""
    if n_seizures == 0:
        return []
    windows_per_recording = math.floor((duration_s - DEFAULT_WINDOW_S) / DEFAULT_STRIDE_S) + 1
    target_pos = target_prevalence * n_recordings * windows_per_recording
    # Under the any-overlap rule a seizure of D seconds touches about (D + window) / stride windows.
    total_s = target_pos * DEFAULT_STRIDE_S - n_seizures * DEFAULT_WINDOW_S
    room = duration_s - 2 * EDGE_MARGIN_S
    spare = total_s - n_seizures * MIN_SEIZURE_S
    if spare < 0 or total_s / n_seizures > room:
        raise ValueError(
            f"simulate_recordings cannot place {n_seizures} seizure(s) of {MIN_SEIZURE_S:g}-{room:g} s "
            f"totalling {total_s:.1f} s (target_prevalence={target_prevalence:g}, duration_s={duration_s:g}, "
            f"n_recordings={n_recordings}); change one of these."
        )
    shares = rng.dirichlet(np.full(n_seizures, 4.0))
    durations = MIN_SEIZURE_S + spare * shares
    # Move any excess over the room to the others, so the total is kept exactly.
    for _ in range(n_seizures):
        excess = np.clip(durations - room, 0, None)
        if excess.sum() <= 0:
            break
        durations = np.minimum(durations, room)
        open_ = durations < room
        durations[open_] += excess.sum() / open_.sum()
    return [float(d) for d in durations]


def _simulate_one(rng: np.random.Generator, name: str, n_samples: int, seizure_s: float | None,
                  seizure_amplitude: float) -> Recording:
    t = np.arange(n_samples) / SFREQ
    background_uv = rng.uniform(15.0, 30.0)
    background = _pink_background(rng, n_samples) * background_uv
    alpha = _alpha_rhythm(rng, t) * background_uv
    seizure_signal = np.zeros_like(background)
    events: list[SyntheticSeizure] = []
    if seizure_s is not None:
        duration_s = n_samples / SFREQ
        start = round(float(rng.uniform(EDGE_MARGIN_S, duration_s - EDGE_MARGIN_S - seizure_s)), 4)
        stop = round(start + seizure_s, 4)
        amplitude = seizure_amplitude * rng.uniform(0.8, 1.2)
        signal, event, blocked = _seizure(rng, t, start, stop, amplitude)
        seizure_signal = signal * background_uv
        alpha = alpha * (1.0 - blocked)  # the alpha rhythm disappears while the seizure is on
        events.append(event)
    return as_recording(name, (background + alpha + seizure_signal) * 1e-6, SFREQ, events, background_uv)


def as_recording(name: str, data_v: np.ndarray, sfreq: float, events: list[SyntheticSeizure],
                 background_uv: float) -> Recording:
    """A generated signal (volts, channels x samples) as a :class:`Recording`: an MNE Raw with
    one ``seiz`` annotation per event, its labels, and the events in ``meta``."""
    raw = mne.io.RawArray(data_v, mne.create_info(list(STANDARD_CHANNELS), sfreq, ch_types="eeg",
                                                  verbose=False), verbose=False)
    raw.set_meas_date(None)
    seizures = [(e.start_s, e.stop_s) for e in events]
    if seizures:
        raw.set_annotations(mne.Annotations(
            onset=[s for s, _ in seizures], duration=[b - a for a, b in seizures],
            description=["seiz"] * len(seizures),
        ))
    duration_s = data_v.shape[1] / sfreq
    labels_seen = dict(Counter(label for _, _, _, label, _ in binary_rows(seizures, duration_s)))
    return Recording(name=name, raw=raw, seizures=seizures, labels_seen=labels_seen, path=None,
                     meta={"seizure_events": events, "background_uv": background_uv})


def _pink_background(rng: np.random.Generator, n_samples: int, sfreq: float = SFREQ,
                     beta: float | None = None) -> np.ndarray:
    """Unit-variance 1/f^beta noise per channel, correlated between neighbouring electrodes.

    Below 256 Hz the variance is that of the 256 Hz process band-limited to the lower
    Nyquist frequency (what resampling a 256 Hz recording leaves), not 1. ``beta``: the
    1/f exponent, drawn from ``rng`` when None.
    """
    if beta is None:
        beta = rng.uniform(1.4, 2.0)
    freqs = np.fft.rfftfreq(n_samples, d=1.0 / sfreq)
    # (f + 1) keeps the lowest frequencies from drifting without bound; DC removed.
    shape = 1.0 / (freqs + 1.0) ** (beta / 2.0)
    shape /= np.sqrt(1.0 + (freqs / 30.0) ** 8)  # scalp EEG holds little power above ~30 Hz
    shape[0] = 0.0
    spectrum = (rng.standard_normal((len(STANDARD_CHANNELS), freqs.size))
                + 1j * rng.standard_normal((len(STANDARD_CHANNELS), freqs.size))) * shape
    sources = np.fft.irfft(spectrum, n=n_samples, axis=1)
    sources /= sources.std(axis=1, keepdims=True)
    if sfreq != SFREQ:
        sources *= _band_share(beta, sfreq)
    mixing = np.linalg.cholesky(np.exp(-_DIST / 0.5))
    return mixing @ sources


def _background_shape(freqs: np.ndarray, beta: float) -> np.ndarray:
    shape = 1.0 / (freqs + 1.0) ** (beta / 2.0)
    return shape / np.sqrt(1.0 + (freqs / 30.0) ** 8)


def _band_share(beta: float, sfreq: float) -> float:
    """RMS of the 256 Hz background below ``sfreq / 2``, relative to all of it."""
    freqs = np.linspace(0.0, SFREQ / 2, 2 ** 16 + 1)[1:]
    power = _background_shape(freqs, beta) ** 2
    return float(np.sqrt(power[freqs < sfreq / 2].sum() / power.sum()))


def _smooth_envelope(rng: np.random.Generator, t: np.ndarray, cutoff_hz: float,
                     sfreq: float = SFREQ) -> np.ndarray:
    """A slowly varying positive envelope (low-passed noise), mean about 1."""
    n = t.size
    freqs = np.fft.rfftfreq(n, d=1.0 / sfreq)
    spectrum = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) * (freqs < cutoff_hz)
    spectrum[0] = 0.0
    slow = np.fft.irfft(spectrum, n=n)
    slow /= slow.std() + 1e-12
    return np.exp(0.35 * slow)


def _alpha_rhythm(rng: np.random.Generator, t: np.ndarray, sfreq: float = SFREQ,
                  freq: float | None = None) -> np.ndarray:
    """Posterior alpha (9-11 Hz; ``freq`` drawn from ``rng`` when None), waxing and waning,
    in units of background RMS."""
    if freq is None:
        freq = rng.uniform(9.0, 11.0)
    # A random walk of the phase: the same spread per second at any rate.
    step = 0.01 if sfreq == SFREQ else 0.01 * math.sqrt(SFREQ / sfreq)
    phase_jitter = np.cumsum(rng.standard_normal(t.size)) * step
    wave = np.sin(2 * np.pi * freq * t + phase_jitter) * _smooth_envelope(rng, t, 0.3, sfreq)
    # Weight by distance from the occipital pole: O1/O2 full, frontal almost none.
    weight = np.exp(-np.linalg.norm(_XY - np.array([0.0, -1.0]), axis=1) ** 2 / (2 * 0.45 ** 2))
    return 0.9 * weight[:, None] * wave[None, :]


def _spike_and_wave(phase: np.ndarray) -> np.ndarray:
    """One spike-and-wave cycle per unit of phase: a sharp spike then a slow wave, unit RMS."""
    theta = phase % 1.0
    spike = -np.exp(-0.5 * ((theta - 0.12) / 0.035) ** 2)
    wave = 0.55 * np.exp(-0.5 * ((theta - 0.55) / 0.16) ** 2)
    grid = np.linspace(0, 1, 512, endpoint=False)
    ref = -np.exp(-0.5 * ((grid - 0.12) / 0.035) ** 2) + 0.55 * np.exp(-0.5 * ((grid - 0.55) / 0.16) ** 2)
    return (spike + wave - ref.mean()) / ref.std()


def _seizure(rng: np.random.Generator, t: np.ndarray, start: float, stop: float,
             amplitude: float, sfreq: float = SFREQ) -> tuple[np.ndarray, SyntheticSeizure, np.ndarray]:
    """Seizure signal (background-RMS units), its description, and a 0-1 'on' mask per channel,
    over the whole of ``t``."""
    (lo, signal_part), (a, blocked_part), event = _seizure_parts(rng, t, start, stop, amplitude, sfreq)
    signal = np.zeros((len(STANDARD_CHANNELS), t.size))
    signal[:, lo:lo + signal_part.shape[1]] = signal_part
    blocked = np.zeros_like(signal)
    blocked[:, a:a + blocked_part.shape[1]] = blocked_part
    return signal, event, blocked


def _seizure_parts(rng: np.random.Generator, t: np.ndarray, start: float, stop: float,
                   amplitude: float, sfreq: float = SFREQ):
    """``((first sample, signal), (first sample, 'on' mask), description)`` of one seizure;
    zero outside the samples returned.

    ``t``: the sample times at ``sfreq``. Below 256 Hz the signal is computed at 256 Hz over
    the seizure's seconds (plus a second each side) and FFT-resampled to ``sfreq``: the
    spikes hold power above the lower Nyquist frequency, which must be filtered, not aliased.
    """
    focus_index = int(rng.integers(len(STANDARD_CHANNELS)))
    generalised = rng.random() < 0.3
    radius = 3.0 if generalised else rng.uniform(0.45, 0.7)
    speed = rng.uniform(0.15, 0.4)  # disc units per second
    f0, f1 = rng.uniform(6.5, 8.5), rng.uniform(2.5, 3.5)
    distance = _DIST[focus_index]
    gain = np.exp(-distance ** 2 / (2 * radius ** 2))
    # Only the samples inside the seizure are computed; the rest stays zero.
    a, b = np.searchsorted(t, start, side="left"), np.searchsorted(t, stop, side="left")
    per_channel_env, wave = _seizure_shape(t[a:b], start, stop, f0, f1, distance, speed)
    if sfreq == SFREQ:
        lo, signal = a, amplitude * gain[:, None] * per_channel_env * wave
    else:
        k = int(round(SFREQ / sfreq))
        pad = int(math.ceil(sfreq))
        lo, hi = max(a - pad, 0), min(b + pad, t.size)
        fine_t = np.arange(lo * k, hi * k) / SFREQ
        inside = (fine_t >= start) & (fine_t < stop)
        fine_env, fine_wave = _seizure_shape(fine_t[inside], start, stop, f0, f1, distance, speed)
        fine = np.zeros((len(STANDARD_CHANNELS), fine_t.size))
        fine[:, inside] = amplitude * gain[:, None] * fine_env * fine_wave
        signal = _fft_resample(fine, hi - lo)
    blocked = np.clip(per_channel_env * 1.5, 0.0, 1.0)
    involved = tuple(ch for ch, g in zip(STANDARD_CHANNELS, gain) if g >= 0.5)
    event = SyntheticSeizure(start_s=start, stop_s=stop, focus=STANDARD_CHANNELS[focus_index],
                             seizure_type="gnsz" if generalised else "fnsz",
                             freq_start_hz=float(f0), freq_stop_hz=float(f1), amplitude=float(amplitude),
                             involved=involved)
    return (lo, signal), (a, blocked), event


def _fft_resample(x: np.ndarray, m: int) -> np.ndarray:
    """``x`` (channels, n samples) to ``m < n`` samples over the same span: the spectrum is cut
    below the new Nyquist frequency (its own bin dropped), amplitudes kept."""
    n = x.shape[1]
    spectrum = np.fft.rfft(x, axis=1)[:, : m // 2 + 1]
    if m % 2 == 0:
        spectrum[:, -1] = 0.0
    return np.fft.irfft(spectrum, n=m, axis=1) * (m / n)


def _seizure_shape(ts: np.ndarray, start: float, stop: float, f0: float, f1: float,
                   distance: np.ndarray, speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel envelope and spike-and-wave at the times ``ts`` (256 Hz steps) of one seizure."""
    duration = stop - start
    u = (ts - start) / duration
    freq = f0 + (f1 - f0) * u ** 0.7                       # slows from f0 to f1
    phase = np.cumsum(freq) / SFREQ
    ramp_up, ramp_down = 0.25, 0.2
    envelope = np.where(u < ramp_up, np.sin(0.5 * np.pi * u / ramp_up) ** 2,
                        np.where(u > 1 - ramp_down, np.sin(0.5 * np.pi * (1 - u) / ramp_down) ** 2, 1.0))
    delay = distance / speed                                 # onset spreads outwards from the focus
    recruited = 1.0 / (1.0 + np.exp(-((ts[None, :] - start) - delay[:, None]) / 0.5))
    per_channel_env = envelope[None, :] * recruited
    # Each channel lags the focus slightly, so the rhythm is not copied sample for sample.
    lag = (distance * 0.02)[:, None]
    wave = _spike_and_wave(phase[None, :] - lag * freq[None, :])
    return per_channel_env, wave


def seizure_event_dict(event: SyntheticSeizure) -> dict:
    """A JSON-ready dict of a :class:`SyntheticSeizure`."""
    return asdict(event)
