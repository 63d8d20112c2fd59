"""brr_lab.scoring reproduces timescoring's SzCORE scores; intervals, mask rule and threshold choice."""
import json
import math

import numpy as np
import pytest
from timescoring.annotations import Annotation
from timescoring.scoring import EventScoring

from brr_lab.scoring import (
    PostProcessing, SzcoreParameters, binomial_ci, choose_threshold, poisson_rate_ci, score,
    score_predictions, score_windowset, scoring_data, second_probabilities, validate_threshold,
)


def one_second_windows(name, duration, detections, *, window=1.0, stride=1.0):
    """Windows of `window` s every `stride` s; probability 1 where the window overlaps a detection."""
    starts = np.arange(0.0, duration - window + 1e-9, stride)
    stops = starts + window
    prob = np.array([float(any(a < e and b > s for a, b in detections)) for s, e in zip(starts, stops)])
    return [name] * starts.size, starts, stops, prob


def ours(cases, threshold=0.5, **kw):
    """cases: {name: (duration, seizures, detections)} scored through brr_lab.scoring."""
    truth = {n: {"duration_s": d, "seizures": s} for n, (d, s, _) in cases.items()}
    cols = [[], [], [], []]
    for n, (d, _, det) in cases.items():
        for col, part in zip(cols, one_second_windows(n, d, det)):
            col.extend(part)
    return score_predictions(truth, *cols, threshold, **kw)


def reference(cases):
    """timescoring itself on the same events, pooled over recordings (micro-average)."""
    tp = fp = ref = seconds = 0
    for d, seizures, det in cases.values():
        n = math.ceil(d)
        r = EventScoring(Annotation(list(seizures), 1, n), Annotation(list(det), 1, n))
        tp, fp, ref, seconds = tp + r.tp, fp + r.fp, ref + r.refTrue, seconds + n
    days = seconds / 86400
    return {"sensitivity": tp / ref if ref else math.nan,
            "precision": tp / (tp + fp) if tp + fp else math.nan,
            "f1": 2 * tp / (2 * tp + fp + ref - tp) if ref + fp else math.nan,
            "fa_per_24h": fp / days, "tp": tp, "fp": fp, "ref": ref}


def assert_matches(result, expected):
    assert (result.n_detected, result.n_false_alarms, result.n_seizures) == \
        (expected["tp"], expected["fp"], expected["ref"])
    for key in ("sensitivity", "precision", "f1", "fa_per_24h"):
        got, want = getattr(result, key), expected[key]
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want), key


CASES = {
    "perfect": {"r": (600.0, [(200.0, 260.0)], [(200.0, 260.0)])},
    "late_20s_inside_tolerance": {"r": (600.0, [(200.0, 210.0)], [(230.0, 240.0)])},
    "late_100s_beyond_tolerance": {"r": (600.0, [(200.0, 210.0)], [(310.0, 320.0)])},
    "early_40s_beyond_tolerance": {"r": (600.0, [(200.0, 210.0)], [(150.0, 160.0)])},
    "no_seizure_no_detection": {"r": (3600.0, [], [])},
    "two_recordings_pooled": {"a": (900.0, [(100.0, 150.0), (600.0, 640.0)], [(110.0, 120.0)]),
                              "b": (1800.0, [], [(50.0, 60.0), (1000.0, 1010.0)])},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reproduces_timescoring(name):
    assert_matches(ours(CASES[name]), reference(CASES[name]))


def test_shift_inside_and_beyond_tolerance_figures():
    inside = ours(CASES["late_20s_inside_tolerance"])
    beyond = ours(CASES["late_100s_beyond_tolerance"])
    assert (inside.sensitivity, inside.precision, inside.n_false_alarms) == (1.0, 1.0, 0)
    assert (beyond.sensitivity, beyond.precision, beyond.n_false_alarms) == (0.0, 0.0, 1)
    assert beyond.fa_per_24h == pytest.approx(144.0)  # one false alarm in 10 minutes


def test_all_positive_on_long_seizure_free_recording_counts_false_alarms():
    cases = {"long": (7200.0, [], [(0.0, 7200.0)])}
    result = ours(cases)
    assert_matches(result, reference(cases))
    assert result.n_false_alarms == 24  # SzCORE splits the 2 h detection into 5-minute events
    assert result.fa_per_24h == pytest.approx(288.0)
    assert result.hours == pytest.approx(2.0)


def test_all_positive_on_short_recording_with_seizure_looks_perfect():
    # Why long recordings: 150 s recordings hide false alarms inside SzCORE's tolerance and merging.
    cases = {f"s{i}": (150.0, [(60.0, 90.0)], [(0.0, 150.0)]) for i in range(8)}
    result = ours(cases)
    assert_matches(result, reference(cases))
    assert (result.sensitivity, result.precision, result.n_false_alarms) == (1.0, 1.0, 0)
    assert result.window.precision == pytest.approx(30 / 150)  # the window level still sees it
    assert "calls every second a seizure scores no false alarm" in result.as_dict()["notes"][0]
    assert ours(CASES["perfect"]).notes == []


def test_recording_without_seizure_and_zero_false_alarms_interval():
    result = ours({"quiet": (7200.0, [], [])})
    assert result.n_seizures == 0 and math.isnan(result.sensitivity)
    assert result.fa_per_24h == 0.0
    assert result.fa_per_24h_ci == pytest.approx((0.0, 44.27), abs=0.01)
    d = result.as_dict()
    json.dumps(d, allow_nan=False)
    assert d["sensitivity"] is None and d["sensitivity_ci"] == [None, None] and d["hours"] == 2.0


def test_intervals():
    assert poisson_rate_ci(0, 2.0)[1] == pytest.approx(44.27, abs=0.01)
    assert poisson_rate_ci(0, 10.0)[1] == pytest.approx(8.85, abs=0.01)
    lo, hi = poisson_rate_ci(1, 2.0)  # one false alarm in 2 h = 12 per 24 h
    assert lo < 12 < hi and lo == pytest.approx(0.3038, abs=1e-3) and hi == pytest.approx(66.86, abs=0.01)
    assert binomial_ci(2, 3) == pytest.approx((0.0943, 0.9916), abs=1e-4)  # Clopper-Pearson
    assert binomial_ci(5, 5)[1] == 1.0 and binomial_ci(0, 5)[0] == 0.0
    assert all(math.isnan(x) for x in binomial_ci(0, 0))


def test_overlapping_windows_take_the_highest_probability_per_second():
    prob, uncovered = second_probabilities(10.0, np.array([0.0, 2.0, 4.0]), np.array([4.0, 6.0, 8.0]),
                                           np.array([0.2, 0.9, 0.1]))
    assert prob.tolist() == [0.2, 0.2, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.0, 0.0]
    assert uncovered == 2
    prob, uncovered = second_probabilities(5.0, np.array([0.5]), np.array([2.5]), np.array([0.7]))
    assert prob.tolist() == [0.7, 0.7, 0.7, 0.0, 0.0] and uncovered == 2  # any overlap covers a second


def test_overlapping_windows_score_like_timescoring_on_the_max_mask():
    duration, seizures = 1200.0, [(400.0, 430.0)]
    starts = np.arange(0.0, duration - 10 + 1e-9, 2.0)  # 10 s windows, 2 s stride
    stops = starts + 10
    prob = np.where((starts < 425) & (stops > 415), 0.8, 0.1)  # the windows touching 415-425
    prob[(starts >= 900) & (starts < 904)] = 0.6  # a false alarm, seconds 900-913
    result = score_predictions({"r": (duration, seizures)}, ["r"] * starts.size, starts, stops, prob, 0.5)
    expected = reference({"r": (duration, seizures, [(406.0, 434.0), (900.0, 914.0)])})
    assert_matches(result, expected)
    assert (result.n_detected, result.n_false_alarms, result.uncovered_seconds) == (1, 1, 0)


def test_uncovered_seconds_are_counted_and_scored_as_zero():
    truth = {"r": (100.0, [(50.0, 60.0)])}
    result = score_predictions(truth, ["r", "r"], [0.0, 60.0], [10.0, 70.0], [1.0, 1.0], 0.5)
    assert result.uncovered_seconds == 80
    assert result.as_dict()["uncovered_seconds"] == 80


def test_output_names_parameters_and_averaging():
    result = ours(CASES["perfect"])
    d = result.as_dict()
    for key in ("sensitivity", "precision", "f1", "fa_per_24h", "threshold", "hours", "n_seizures",
                "parameters", "fa_per_24h_ci", "sensitivity_ci", "averaging"):
        assert key in d
    p = d["parameters"]
    assert (p["tolerance_start_s"], p["tolerance_end_s"], p["min_gap_s"], p["max_event_s"]) == (30, 60, 90, 300)
    assert p["szcore_defaults"] and p["post_processing"] == [] and p["averaging"] == "micro"
    assert "pooled over all recordings" in d["averaging"]
    text = result.to_text()
    assert "micro-averaged" in text and "SzCORE defaults" in text and "Clopper-Pearson" in text


def test_post_processing_is_off_by_default_and_named_when_used():
    cases = {"r": (1200.0, [(400.0, 430.0)], [(400.0, 430.0), (800.0, 803.0)])}
    plain = ours(cases)
    assert plain.n_false_alarms == 1
    filtered = ours(cases, postprocessing=PostProcessing(min_event_s=5))
    assert filtered.n_false_alarms == 0 and filtered.n_detected == 1
    assert filtered.parameters["post_processing"] == ["min_event_s=5"]
    assert "min_event_s=5" in filtered.to_text()
    smoothed = ours(cases, postprocessing=PostProcessing(smoothing_s=9))
    assert smoothed.n_false_alarms == 0 and smoothed.parameters["smoothing_s"] == 9
    other = ours(cases, parameters=SzcoreParameters(tolerance_end_s=0))
    assert not other.parameters["szcore_defaults"] and "NOT SzCORE defaults" in other.to_text()


@pytest.mark.parametrize("field, value, needle", [
    ("probability", [0.5, 1.5], "[0, 1]"),
    ("probability", [0.5, float("nan")], "finite"),
    ("start_s", [0.0, 0.0], "duplicate"),
    ("start_s", [5.0, 0.0], "out of order"),
    ("recording", ["r", "nope"], "'nope' at window 1"),
    ("stop_s", [1.0, 500.0], "at most the duration"),
])
def test_bad_arrays_are_refused(field, value, needle):
    cols = {"recording": ["r", "r"], "start_s": [0.0, 1.0], "stop_s": [1.0, 2.0], "probability": [0.1, 0.2]}
    cols[field] = value
    if field == "start_s":
        cols["stop_s"] = [v + 1 for v in value]
    with pytest.raises(ValueError, match="parameter of score_predictions") as err:
        score_predictions({"r": (100.0, [])}, cols["recording"], cols["start_s"], cols["stop_s"],
                          cols["probability"])
    assert needle in str(err.value)


def _split_data(seed, names, duration=3600.0):
    """Recordings with one 40 s seizure each and noisy probabilities; 4 s windows, 2 s stride."""
    rng = np.random.default_rng(seed)
    truth, cols = {}, [[], [], [], []]
    for k, name in enumerate(names):
        onset = 600.0 + 400.0 * (k % 5)
        truth[name] = (duration, [(onset, onset + 40.0)])
        starts = np.arange(0.0, duration - 4 + 1e-9, 2.0)
        prob = rng.beta(1, 12, starts.size)
        prob[(starts < onset + 40) & (starts + 4 > onset)] += 0.5
        for col, part in zip(cols, ([name] * starts.size, starts, starts + 4, np.clip(prob, 0, 1))):
            col.extend(part)
    return scoring_data(truth, *cols)


def test_choose_threshold_meets_the_target_on_calibration_and_validates_separately():
    cal = _split_data(0, [f"cal{i}" for i in range(6)])
    val = _split_data(1, [f"val{i}" for i in range(6)])
    choice = choose_threshold(cal, target_fa_per_24h=10.0)
    assert choice.met_target and choice.calibration.fa_per_24h <= 10.0
    assert choice.calibration.sensitivity == 1.0
    loose = choose_threshold(cal, target_fa_per_24h=1000.0)
    assert loose.threshold <= choice.threshold
    checked = validate_threshold(choice, val)
    assert checked.validation.threshold == choice.threshold
    d = checked.as_dict()
    json.dumps(d, allow_nan=False)
    assert d["threshold_choice"]["chosen_on"] == "calibration set only"
    assert "hours" in d and "fa_per_24h_ci" in d
    by_sens = choose_threshold(cal, target_sensitivity=0.5)
    assert by_sens.calibration.sensitivity >= 0.5 and by_sens.target == "sensitivity"


def test_threshold_depends_only_on_calibration_and_own_data_is_refused():
    cal = _split_data(0, [f"cal{i}" for i in range(4)])
    choice = choose_threshold(cal)
    again = choose_threshold(_split_data(0, [f"cal{i}" for i in range(4)]))
    assert again.threshold == choice.threshold
    a = validate_threshold(choice, _split_data(1, ["v0", "v1"]))
    b = validate_threshold(choice, _split_data(2, ["v0", "v1", "v2"]))
    assert a.choice.threshold == b.choice.threshold == choice.threshold
    with pytest.raises(ValueError, match="not chosen on"):
        validate_threshold(choice, cal)
    with pytest.raises(ValueError, match="overlap the calibration windows"):
        validate_threshold(choice, _split_data(5, ["cal2"]))  # same recording, same times


@pytest.mark.parametrize("target", [{"target_fa_per_24h": 10.0}, {"target_fa_per_24h": 100.0},
                                    {"target_sensitivity": 0.5}, {"target_sensitivity": 1.0}],
                         ids=lambda t: "-".join(f"{k}={v:g}" for k, v in t.items()))
def test_bisection_search_equals_the_exhaustive_one_and_grids_are_searched_as_given(target):
    """Beyond max_candidates the search bisects for the rule's edges; on these data it picks
    what scoring every candidate picks, in far fewer scores."""
    cal = _split_data(3, [f"cal{i}" for i in range(3)], duration=1800.0)
    exhaustive = choose_threshold(cal, max_candidates=10**6, **target)
    fast = choose_threshold(cal, max_candidates=10, **target)
    assert fast.threshold == exhaustive.threshold and fast.n_candidates < exhaustive.n_candidates / 10
    assert fast.met_target == exhaustive.met_target
    assert "bisection" in fast.as_dict()["candidates"] and "all of them up to" in fast.as_dict()["candidates"]
    grid = choose_threshold(cal, candidates=[0.3, 0.5, 0.7, 0.9])
    assert grid.threshold in (0.3, 0.5, 0.7, 0.9) and grid.n_candidates == 4
    assert "the thresholds given" in grid.as_dict()["candidates"]


def test_choose_threshold_needs_seizures_in_calibration():
    data = scoring_data({"r": (600.0, [])}, ["r"], [0.0], [1.0], [0.3])
    with pytest.raises(ValueError, match="at least one seizure"):
        choose_threshold(data)


def test_windowset_convenience():
    torch = pytest.importorskip("torch")
    from brr_lab.eeg.windowing import WindowSet

    starts = np.arange(0.0, 148.0 + 1e-9, 1.0)
    n = starts.size
    windows = WindowSet(
        X=torch.zeros(n, 1, 2), y=torch.zeros(n), recording=["a"] * n, start_s=starts,
        seizure_fraction=np.zeros(n), channels=["C3"], sfreq=1.0, label_rule="any", window_s=2.0,
        stride_s=1.0, recording_info={"a": {"duration_s": 150.0, "seizures": [(60.0, 90.0)],
                                            "labels_seen": {}}},
    )
    probs = torch.ones(n)
    result = score_windowset(windows, probs, threshold=0.5)
    assert (result.sensitivity, result.precision, result.n_false_alarms) == (1.0, 1.0, 0)
    shuffled = windows.subset(np.random.default_rng(0).permutation(n))
    assert score_windowset(shuffled, probs, threshold=0.5).as_dict() == result.as_dict()
    with pytest.raises(ValueError, match="one probability per window"):
        score_windowset(windows, probs[:-1])
    with pytest.raises(ValueError, match="cal_probabilities"):
        choose_threshold(windows)
    assert score(scoring_data({"a": (150.0, [(60.0, 90.0)])}, ["a"] * n, starts, starts + 2,
                              np.ones(n))).as_dict() == result.as_dict()


def test_second_probabilities_is_the_highest_covering_window_per_second():
    """The vectorised mask rule against the rule written as a loop, on random windows."""
    from brr_lab.scoring.masks import n_seconds

    def loop(duration, starts, stops, probs):
        n = n_seconds(duration)
        prob, covered = np.zeros(n), np.zeros(n, dtype=bool)
        for a, b, p in zip(starts, stops, probs):
            first, last = math.floor(a + 1e-9), min(math.ceil(b - 1e-9), n)
            if last > first:
                prob[first:last] = np.maximum(prob[first:last], p)
                covered[first:last] = True
        return prob, int(n - covered.sum())

    rng = np.random.default_rng(0)
    for _ in range(200):
        duration, k = float(rng.uniform(5, 300)), int(rng.integers(0, 40))
        starts = np.sort(rng.uniform(0, duration, k))
        stops = np.minimum(starts + rng.uniform(0.1, 10, k), duration)
        probs = rng.random(k)
        got, want = second_probabilities(duration, starts, stops, probs), loop(duration, starts, stops, probs)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1] == want[1]
