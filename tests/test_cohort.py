"""The protocol's data: the split rule, standardisation, the generated cohort and its cache."""
import numpy as np
import pytest
import torch

from brr_lab.eeg import cohort


def _groups(n_with, n_without):
    return {**{f"s{i:02d}": True for i in range(n_with)}, **{f"f{i:02d}": False for i in range(n_without)}}


def test_split_is_by_recording_stratified_and_deterministic():
    has = _groups(60, 20)
    parts = cohort.split_recordings(has, fractions=(0.1, 0.2, 0.7))
    assert parts == cohort.split_recordings(dict(reversed(list(has.items()))), fractions=(0.1, 0.2, 0.7))
    names = [n for p in cohort.PARTS for n in parts[p]]
    assert sorted(names) == sorted(has)                     # every recording, once
    count = {p: (sum(has[n] for n in parts[p]), sum(not has[n] for n in parts[p])) for p in cohort.PARTS}
    assert count == {"train": (6, 2), "calibration": (12, 4), "validation": (42, 14)}


def test_small_folders_still_get_a_seizure_in_every_part():
    parts = cohort.split_recordings(_groups(3, 0))
    assert all(len(parts[p]) == 1 for p in cohort.PARTS)
    with pytest.raises(ValueError, match="at least 3 recordings with a seizure"):
        cohort.split_recordings(_groups(2, 5))
    with pytest.raises(ValueError, match="'fractions'"):
        cohort.split_recordings(_groups(9, 0), fractions=(0.5, 0.5, 0.5))


def test_standardisation_uses_training_statistics_only(tiny_cohort):
    x = tiny_cohort.train.X
    assert torch.allclose(x.mean(dim=(0, 2)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(x.std(dim=(0, 2)), torch.ones(3), atol=1e-4)
    assert tiny_cohort.validation.units == "z"


def test_parts_never_share_a_recording(tiny_cohort):
    seen = [set(tiny_cohort.part(p).recording) for p in cohort.PARTS]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    size = tiny_cohort.size("validation")
    assert size["n_seizures"] >= 1 and size["n_windows"] == len(tiny_cohort.validation)
    assert "validation" in tiny_cohort.describe()


@pytest.mark.slow
def test_the_default_cohort_holds_the_evidence_the_protocol_promises():
    """At least 40 validation seizures and 2 hours, and calibration apart from both."""
    c = cohort.load_cohort()
    val = c.size("validation")
    assert val["n_seizures"] >= 40 and val["hours"] >= 2.0
    assert c.size("calibration")["n_seizures"] >= 10
    assert not set(c.validation.recording) & set(c.train.recording)
    assert not set(c.calibration.recording) & (set(c.train.recording) | set(c.validation.recording))


def test_cache_round_trip_and_damaged_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("BRR_LAB_CACHE", str(tmp_path))
    spec = cohort.SyntheticCohort(n_recordings=3, n_seizure_free=1, duration_s=120.0)
    first = cohort._synthetic_windows(spec, {}, cache=True)
    files = list(tmp_path.glob("cohort-*.pt"))
    assert len(files) == 1
    from brr_lab import eeg
    real = eeg.simulate_recordings
    monkeypatch.setattr(eeg, "simulate_recordings", lambda *a, **k: pytest.fail("not read from the cache"))
    again = cohort._synthetic_windows(spec, {}, cache=True)
    monkeypatch.setattr(eeg, "simulate_recordings", real)
    assert torch.equal(first.X, again.X) and first.recording == again.recording
    assert np.array_equal(first.start_s, again.start_s)
    assert again.recording_info == first.recording_info
    files[0].write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="unreadable"):
        third = cohort._synthetic_windows(spec, {}, cache=True)
    assert torch.equal(third.X, first.X)


def test_bad_data_names_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="'data'"):
        cohort.load_cohort(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="'difficulty'"):
        cohort.load_cohort("data_sample", difficulty=2.0)
    with pytest.raises(ValueError, match="'difficulty'"):
        cohort.load_cohort(difficulty=-1.0)


# ------------------------------------------------------------------ event recordings


def test_held_out_only_split_keeps_the_rule():
    """Training fraction 0: no training part, both held-out parts get a seizure, stratified."""
    has = _groups(28, 12)
    parts = cohort.split_recordings(has, fractions=(0.0, 0.4, 0.6))
    assert parts["train"] == [] and parts == cohort.split_recordings(has, fractions=(0, 0.4, 0.6))
    count = {p: (sum(has[n] for n in parts[p]), sum(not has[n] for n in parts[p]))
             for p in ("calibration", "validation")}
    assert count == {"calibration": (11, 5), "validation": (17, 7)}
    with pytest.raises(ValueError, match="at least 2 recordings with a seizure"):
        cohort.split_recordings(_groups(1, 4), fractions=(0.0, 0.4, 0.6))


def test_signal_set_windows_are_make_windows_windows():
    from brr_lab.eeg import make_signals, make_windows, simulate_recordings

    recs = simulate_recordings(0, n_recordings=3, duration_s=60.0, target_prevalence=0.2)
    windows = make_windows(recs)
    signals = make_signals(iter(recs))
    again = signals.to_windowset()
    assert torch.equal(windows.X, again.X) and torch.equal(windows.y, again.y)
    assert windows.recording == again.recording and np.array_equal(windows.start_s, again.start_s)
    assert max(len(c) for c in signals.chunks(max_windows=50)) == 50
    assert torch.equal(torch.cat(list(signals.chunks(max_windows=50))), windows.X)
    end_to_end = make_signals(recs, stride_s=2.0)
    assert len(end_to_end) == 3 * 30 and end_to_end.start_s[:3].tolist() == [0.0, 2.0, 4.0]


def test_long_recordings_at_64_hz_match_256_hz_resampled():
    """Generated at the model's rate: the same plan (seizure times) and, within a few percent,
    the same band powers and seizure strength as generating at 256 Hz and resampling."""
    from scipy.signal import welch

    from brr_lab.eeg import simulate_long_recordings

    kwargs = dict(n_recordings=1, duration_s=600.0, n_seizure_free=0, max_seizures=2)
    direct, = simulate_long_recordings(4, sfreq=64.0, **kwargs)
    slow, = simulate_long_recordings(4, sfreq=256.0, **kwargs)
    slow.raw.resample(64.0, verbose="error")
    assert direct.seizures == slow.seizures and direct.seizures and direct.raw.info["sfreq"] == 64.0
    a, b = direct.raw.get_data() * 1e6, slow.raw.get_data() * 1e6
    f, pa = welch(a, fs=64.0, nperseg=256)
    _, pb = welch(b, fs=64.0, nperseg=256)
    for lo, hi in ((0.5, 4), (4, 8), (8, 13), (13, 30)):
        band = (f >= lo) & (f < hi)
        assert pa[:, band].sum() / pb[:, band].sum() == pytest.approx(1.0, abs=0.05), (lo, hi)
    for start, stop in direct.seizures:
        i, j = int(start * 64), int(stop * 64)
        assert a[:, i:j].std() / b[:, i:j].std() == pytest.approx(1.0, abs=0.1)
        assert a[:, i:j].std() > 1.2 * a[:, :i].std()  # a seizure stands out of its background


def test_event_recordings_round_trip_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BRR_LAB_CACHE", str(tmp_path))
    spec = cohort.SyntheticCohort(n_event_recordings=3, n_event_seizure_free=1, event_duration_s=600.0,
                                  max_event_seizures=1)
    first = cohort._synthetic_events(spec, {}, cache=True)
    assert len(list(tmp_path.glob("events-*.pt"))) == 1
    assert first.sfreq == 64.0 and first.stride_s == 2.0 and len(first.recordings) == 3
    from brr_lab.eeg import synth_long
    monkeypatch.setattr(synth_long, "iter_long_recordings",
                        lambda *a, **k: pytest.fail("not read from the cache"))
    again = cohort._synthetic_events(spec, {}, cache=True)
    assert again.recording_info == first.recording_info
    assert all(torch.equal(first.signals[n], again.signals[n]) for n in first.recordings)


def test_a_cohort_holds_its_event_recordings_apart(tiny_cohort):
    ev = tiny_cohort.events
    names = {p: set(ev.part(p).recordings) for p in cohort.EVENT_PARTS}
    assert not names["calibration"] & names["validation"]
    windows = {n for p in cohort.PARTS for n in tiny_cohort.part(p).recording}
    assert not (names["calibration"] | names["validation"]) & windows
    assert all(ev.part(p).units == "z" for p in cohort.EVENT_PARTS)
    assert tiny_cohort.event_part("validation") is ev.validation
    size = tiny_cohort.event_size("validation")
    assert size["n_seizure_free"] >= 1 and size["n_seizures"] >= 1
    assert size["background_hours"] < size["hours"]
    assert "event recordings" in tiny_cohort.describe()
    # Standardised with the training windows' statistics, not their own.
    from conftest import make_tiny_events
    raw = make_tiny_events()
    name = ev.validation.recordings[0]
    expected = (raw.signals[name] - tiny_cohort.mean.reshape(-1, 1)) / tiny_cohort.std.reshape(-1, 1)
    assert torch.allclose(ev.validation.signals[name], expected)


@pytest.mark.slow
def test_the_default_event_recordings_hold_what_false_alarm_rates_need():
    """Tens of minutes each, seizures rare in time, over 10 h of background in validation and
    enough calibration hours that 10 false alarms per 24 h allows 3 of them there."""
    c = cohort.load_cohort()
    val, cal = c.event_size("validation"), c.event_size("calibration")
    assert val["background_hours"] >= 10.0 and val["n_seizures"] >= 40 and val["n_seizure_free"] >= 5
    assert cal["hours"] * 10.0 / 24.0 >= 3 and cal["n_seizures"] >= 20
    for part in (c.events.calibration, c.events.validation):
        assert part.sfreq == 64.0 and part.stride_s == part.window_s == 2.0
        assert min(i["duration_s"] for i in part.recording_info.values()) >= 20 * 60
    assert 1 - val["background_hours"] / val["hours"] < 0.02  # seizures rare in time
    windows = {n for p in cohort.PARTS for n in c.part(p).recording}
    assert not windows & (set(c.events.calibration.recordings) | set(c.events.validation.recordings))
