"""The synthetic EEG generator: deterministic, TUSZ-like, seizures that behave like seizures."""
import numpy as np
import pytest
from scipy.signal import welch

from brr_lab.eeg import STANDARD_CHANNELS, make_windows, simulate_recordings
from brr_lab.eeg.synth import POSITIONS, SFREQ


def _data(rec):
    return rec.raw.get_data() * 1e6  # microvolts


@pytest.fixture(scope="module")
def long_seizure():
    """One 120 s recording holding one long seizure, at two amplitudes (same seed, same draws)."""
    kwargs = dict(n_recordings=1, duration_s=120.0, target_prevalence=0.3, n_seizure_free=0)
    return simulate_recordings(3, seizure_amplitude=3.0, **kwargs)[0], simulate_recordings(
        3, seizure_amplitude=1.0, **kwargs)[0]


def test_deterministic_for_a_seed():
    kwargs = dict(n_recordings=2, duration_s=40.0, target_prevalence=0.4)
    a = simulate_recordings(11, **kwargs)
    b = simulate_recordings(11, **kwargs)
    c = simulate_recordings(12, **kwargs)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.raw.get_data(), y.raw.get_data())
        assert x.seizures == y.seizures and x.name == y.name
    assert not np.allclose(a[0].raw.get_data(), c[0].raw.get_data())


def test_layout_matches_tusz():
    recs = simulate_recordings(0, n_recordings=4, duration_s=60.0, target_prevalence=0.2)
    for rec in recs:
        assert rec.raw.ch_names == list(STANDARD_CHANNELS)
        assert rec.raw.info["sfreq"] == SFREQ == 256.0
        assert rec.duration_s == 60.0 and rec.path is None
        assert [a["description"] for a in rec.raw.annotations] == ["seiz"] * len(rec.seizures)
        rms = _data(rec).std(axis=1)
        assert np.all((rms > 5) & (rms < 200)), rms  # scalp-EEG microvolts
    assert sum(1 for r in recs if not r.seizures) == 1  # a quarter without seizures


@pytest.mark.parametrize("seed", [1, 2, 3])  # seed 0 is data_sample/, checked in test_eeg_sample.py
def test_default_windows_hold_about_12_negatives_per_positive(seed):
    windows = make_windows(simulate_recordings(seed))
    report = windows.report()
    assert 1 / 16 <= report.prevalence <= 1 / 9, report.prevalence
    assert 800 <= report.n_windows <= 1500
    assert any(r.n_seizures == 0 for r in report.recordings.values())


def test_seizure_is_confined_to_its_annotation(long_seizure):
    strong, weak = long_seizure
    (start, stop), = strong.seizures
    diff = np.abs(_data(strong) - _data(weak)).max(axis=0)
    t = np.arange(diff.size) / SFREQ
    assert diff[(t < start) | (t >= stop)].max() == 0.0
    assert diff[(t > start + 2) & (t < stop - 2)].min() > 0.0
    assert stop - start > 25


def test_frequency_slows_during_the_seizure(long_seizure):
    strong, weak = long_seizure
    (start, stop), = strong.seizures
    event = strong.meta["seizure_events"][0]
    focus = STANDARD_CHANNELS.index(event.focus)
    seizure = (_data(strong) - _data(weak))[focus]  # the seizure component alone

    def peak(u0, u1):
        a, b = (int((start + u * (stop - start)) * SFREQ) for u in (u0, u1))
        f, p = welch(seizure[a:b], fs=SFREQ, nperseg=min(1024, b - a))
        return f[np.argmax(p)]

    early, late = peak(0.05, 0.35), peak(0.7, 0.98)
    assert early > late + 1.5, (early, late)
    assert event.freq_stop_hz - 0.7 <= late <= event.freq_stop_hz + 1.5


def test_onset_is_focal_and_amplitude_falls_with_distance(long_seizure):
    strong, weak = long_seizure
    (start, stop), = strong.seizures
    event = strong.meta["seizure_events"][0]
    seizure = _data(strong) - _data(weak)
    xy = np.array([POSITIONS[c] for c in STANDARD_CHANNELS])
    distance = np.linalg.norm(xy - np.array(POSITIONS[event.focus]), axis=1)
    rms = seizure[:, int(start * SFREQ):int(stop * SFREQ)].std(axis=1)
    assert STANDARD_CHANNELS[int(np.argmax(rms))] == event.focus or rms.max() / rms[
        STANDARD_CHANNELS.index(event.focus)] < 1.05
    if event.seizure_type == "fnsz":
        assert np.corrcoef(distance, rms)[0, 1] < -0.5
    # Recruitment: the first second holds less seizure far away than at the focus.
    first = seizure[:, int(start * SFREQ):int((start + 3) * SFREQ)].std(axis=1)
    far = int(np.argmax(distance))
    assert first[far] / rms[far] < first[STANDARD_CHANNELS.index(event.focus)] / rms[
        STANDARD_CHANNELS.index(event.focus)]


def test_amplitude_ramps_up_and_down(long_seizure):
    strong, weak = long_seizure
    (start, stop), = strong.seizures
    focus = STANDARD_CHANNELS.index(strong.meta["seizure_events"][0].focus)
    seizure = (_data(strong) - _data(weak))[focus]
    d = stop - start
    part = [seizure[int((start + u0 * d) * SFREQ):int((start + u1 * d) * SFREQ)].std()
            for u0, u1 in ((0.0, 0.1), (0.4, 0.6), (0.92, 1.0))]
    assert part[1] > 1.5 * part[0] and part[1] > 1.5 * part[2], part


def test_seizure_amplitude_is_the_rms_ratio_at_the_focus(long_seizure):
    strong, weak = long_seizure
    (start, stop), = strong.seizures
    event = strong.meta["seizure_events"][0]
    focus = STANDARD_CHANNELS.index(event.focus)
    seizure = ((_data(strong) - _data(weak)) * 1.5)[focus]  # 3x - 1x = 2x -> times 1.5 gives 3x
    d = stop - start
    plateau = seizure[int((start + 0.45 * d) * SFREQ):int((start + 0.75 * d) * SFREQ)].std()
    ratio = plateau / strong.meta["background_uv"]
    assert ratio == pytest.approx(event.amplitude, rel=0.15)
    assert 0.8 * 3.0 <= event.amplitude <= 1.2 * 3.0


def test_background_is_spatially_correlated_with_posterior_alpha():
    rec = simulate_recordings(5, n_recordings=2, duration_s=120.0, n_seizure_free=1, target_prevalence=0.2)
    free = next(r for r in rec if not r.seizures)
    data = _data(free)
    corr = np.corrcoef(data)
    i = {c: k for k, c in enumerate(STANDARD_CHANNELS)}
    assert corr[i["C3"], i["Cz"]] > 0.3
    assert abs(corr[i["Fp1"], i["O2"]]) < 0.15
    f, p = welch(data, fs=SFREQ, nperseg=1024)
    alpha = p[:, (f >= 8) & (f <= 12)].sum(axis=1)
    assert alpha[i["O1"]] > 3 * alpha[i["Fp1"]]
    high = p[:, f > 40].sum(axis=1) / p.sum(axis=1)
    assert np.all(high < 0.02)  # little power above 40 Hz, like scalp EEG


@pytest.mark.parametrize("kwargs, param", [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": 0, "n_recordings": 0}, "n_recordings"),
    ({"seed": 0, "seizure_amplitude": 0.0}, "seizure_amplitude"),
    ({"seed": 0, "duration_s": 10.0}, "duration_s"),
    ({"seed": 0, "n_recordings": 3, "n_seizure_free": 3}, "n_seizure_free"),
    ({"seed": 0, "target_prevalence": 0.5}, "target_prevalence"),
])
def test_bad_arguments_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter of simulate_recordings"):
        simulate_recordings(**kwargs)


def test_impossible_plan_is_refused():
    with pytest.raises(ValueError, match="cannot place"):
        simulate_recordings(0, n_recordings=8, duration_s=60.0, target_prevalence=0.01)
