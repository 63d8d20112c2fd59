"""The protocol's data: the split rule, standardisation, the generated cohort and its cache."""
import numpy as np
import pytest
import torch

from brr_lab import cohort


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
