"""Windowing: label rules, seizure fractions, metadata, subset and report."""
import mne
import numpy as np
import pytest
import torch

from brr_lab.eeg import Recording, STANDARD_CHANNELS, make_windows
from brr_lab.eeg.windowing import seizure_fractions


def recording(name, seizures, duration_s=20.0, sfreq=128.0, value=None):
    n = int(duration_s * sfreq)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((len(STANDARD_CHANNELS), n)) * 1e-5 if value is None else value(n)
    raw = mne.io.RawArray(data, mne.create_info(list(STANDARD_CHANNELS), sfreq, "eeg", verbose=False),
                          verbose=False)
    return Recording(name=name, raw=raw, seizures=seizures, labels_seen={"bckg": 2, "seiz": len(seizures)})


def brute_fraction(start, window, seizures, step=1e-3):
    t = np.arange(start, start + window, step) + step / 2
    inside = np.zeros_like(t, dtype=bool)
    for a, b in seizures:
        inside |= (t >= a) & (t < b)
    return inside.mean()


def test_seizure_fractions_match_brute_force():
    seizures = [(3.3, 7.1), (12.0, 12.4)]
    starts = np.arange(0, 18, 0.5)
    got = seizure_fractions(starts, 2.0, seizures)
    expected = [brute_fraction(s, 2.0, seizures) for s in starts]
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_any_and_fraction_rules():
    rec = recording("r", [(5.5, 8.0)])
    any_rule = make_windows([rec], sfreq=None)
    assert len(any_rule) == 19  # (20 - 2) / 1 + 1
    np.testing.assert_array_equal(any_rule.start_s, np.arange(19.0))
    # Windows starting at 4..7 overlap [5.5, 8): any -> 4 positives.
    assert any_rule.y.nonzero().flatten().tolist() == [4, 5, 6, 7]
    np.testing.assert_allclose(any_rule.seizure_fraction[[3, 4, 5, 6, 7, 8]], [0, 0.25, 0.75, 1.0, 0.5, 0])
    half = make_windows([rec], sfreq=None, label_rule="fraction", min_fraction=0.5)
    assert half.y.nonzero().flatten().tolist() == [5, 6, 7]
    assert half.min_fraction == 0.5 and any_rule.min_fraction is None
    full = make_windows([rec], sfreq=None, label_rule="fraction", min_fraction=1.0)
    assert full.y.nonzero().flatten().tolist() == [6]


def test_window_values_are_the_signal_in_microvolts():
    ramp = lambda n: np.tile(np.arange(n, dtype=float), (len(STANDARD_CHANNELS), 1)) * 1e-6
    rec = recording("r", [], duration_s=10.0, sfreq=100.0, value=ramp)
    ws = make_windows([rec], window_s=2.0, stride_s=0.5, sfreq=None)
    assert ws.X.dtype == torch.float32 and ws.y.dtype == torch.float32
    assert ws.X.shape == (17, 19, 200) and ws.units == "uV"
    assert ws.X[3, 5, 0].item() == pytest.approx(150.0)  # window 3 starts at 1.5 s = sample 150
    assert ws.X[3, 5, -1].item() == pytest.approx(349.0)


def test_resample_and_filter_go_through_mne_without_touching_input():
    rec = recording("r", [(2.0, 4.0)], sfreq=256.0)
    before = rec.raw.get_data().copy()
    ws = make_windows([rec], sfreq=64.0, l_freq=1.0, h_freq=20.0)
    assert ws.sfreq == 64.0 and ws.X.shape[-1] == 128
    np.testing.assert_array_equal(rec.raw.get_data(), before)
    assert rec.raw.info["sfreq"] == 256.0


def test_metadata_subset_and_report():
    recs = [recording("a", [(5.5, 8.0)]), recording("b", []), recording("c", [(0.0, 1.0), (19.5, 20.0)])]
    recs[1].extra_channels = ["EKG"]
    ws = make_windows(recs, sfreq=None)
    assert ws.recordings == ["a", "b", "c"] and len(ws) == 57
    assert ws.recording[:19] == ["a"] * 19 and ws.channels == list(STANDARD_CHANNELS)
    report = ws.report()
    d = report.as_dict()
    assert (d["n_windows"], d["n_pos"], d["n_neg"]) == (57, 4 + 0 + 2, 51)
    assert d["prevalence"] == pytest.approx(6 / 57)
    assert d["recordings"]["c"]["seizure_seconds"] == pytest.approx(1.5)
    assert d["recordings"]["b"]["extra_channels"] == ["EKG"]
    assert d["labels_seen"] == {"bckg": 6, "seiz": 3}
    # Both of c's seizures are covered: [0, 1) by window 0, [19.5, 20) by window 18 (18-20 s).
    assert d["recordings"]["c"]["n_seizures_without_positive_window"] == 0
    assert "prevalence: 0.1053" in report.to_text()
    assert "channels left out (not among the 19): b: EKG" in report.to_text()
    sub = ws.subset(np.flatnonzero(np.asarray(ws.recording) != "a"))
    assert sub.recordings == ["b", "c"] and len(sub) == 38
    assert set(sub.report().recordings) == {"b", "c"}
    mask = ws.subset(ws.y.numpy() > 0.5)
    assert len(mask) == 6 and mask.y.min().item() == 1.0
    assert len(ws.subset(torch.tensor([0, 1]))) == 2


def test_report_counts_a_seizure_no_window_labels():
    rec = recording("a", [(19.2, 19.9)])
    ws = make_windows([rec], window_s=2.0, stride_s=2.0, sfreq=None)  # windows end at 20 s: covered
    assert ws.report().recordings["a"].n_seizures_without_positive_window == 0
    ws = make_windows([rec], window_s=3.0, stride_s=3.0, sfreq=None)  # last window ends at 18 s
    report = ws.report()
    assert report.recordings["a"].n_seizures_without_positive_window == 1
    assert "seizures with no positive window" in report.to_text()


@pytest.mark.parametrize("kwargs, param", [
    ({"window_s": 0.0}, "window_s"), ({"window_s": 1.003}, "window_s"), ({"stride_s": -1}, "stride_s"),
    ({"label_rule": "majority"}, "label_rule"), ({"min_fraction": 0.0}, "min_fraction"),
    ({"min_fraction": 1.5}, "min_fraction"), ({"sfreq": 0.0}, "sfreq"), ({"l_freq": -1.0}, "l_freq"),
])
def test_bad_arguments_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter of make_windows"):
        make_windows([recording("r", [])], **kwargs)


def test_recordings_must_agree():
    a = recording("a", [], sfreq=128.0)
    with pytest.raises(ValueError, match="'recordings' parameter of make_windows"):
        make_windows([a, recording("a", [])])
    with pytest.raises(ValueError, match="'sfreq' parameter of make_windows"):
        make_windows([a, recording("b", [], sfreq=256.0)], sfreq=None)
    other = recording("c", [])
    other.raw.rename_channels({"Fp1": "X"})
    with pytest.raises(ValueError, match="all recordings must share channels"):
        make_windows([a, other])
    with pytest.raises(ValueError, match="'recordings' parameter"):
        make_windows([])
    with pytest.raises(ValueError, match="bad index|indices"):
        make_windows([a], sfreq=None).subset([100])
