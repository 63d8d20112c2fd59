"""The threshold explorer without a kernel: build it on hand-made predictions, move the slider,
read what it shows.

Expected figures come from ``brr_lab.scoring`` called directly on the same data, or from
counts written out here (window labels by overlap, AUROC from scikit-learn), never from
the panel itself.
"""
from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from brr_lab import scoring
from brr_lab.widgets import ThresholdExplorer, points_from_rows, readable, run_predictions
from brr_lab.widgets.threshold_explorer import threshold_grid

WINDOW_S, STRIDE_S, DURATION_S = 4.0, 2.0, 1200.0


def make_data(prefix: str, seed: int, n_seizure: int = 6, n_free: int = 4):
    """20-minute recordings, one 60-s seizure in the first ``n_seizure``; background windows
    score Beta(1, 6), seizure windows uniform in [0.3, 0.99]: a detector that ranks well."""
    rng = np.random.default_rng(seed)
    truth, columns = {}, ([], [], [], [])
    for i in range(n_seizure + n_free):
        name = f"{prefix}{i:02d}"
        seizures = [(400.0 + 53 * i, 460.0 + 53 * i)] if i < n_seizure else []
        truth[name] = {"duration_s": DURATION_S, "seizures": seizures}
        start = np.arange(0.0, DURATION_S - WINDOW_S + 1e-9, STRIDE_S)
        prob = rng.beta(1.0, 6.0, start.size)
        for a, b in seizures:
            inside = (start < b) & (start + WINDOW_S > a)
            prob[inside] = rng.uniform(0.3, 0.99, int(inside.sum()))
        for column, values in zip(columns, ([name] * start.size, start, start + WINDOW_S, prob)):
            column.extend(values)
    return scoring.scoring_data(truth, *columns)


def overlap_labels(data) -> np.ndarray:
    """Window labels written out: a window is a seizure window if it overlaps a seizure."""
    p = data.predictions
    return np.array([any(a < stop and b > start for a, b in data.truth[name].seizures)
                     for name, start, stop in zip(p.recording, p.start_s, p.stop_s)])


@pytest.fixture(scope="module")
def val():
    return make_data("val", seed=1)


@pytest.fixture(scope="module")
def cal():
    return make_data("cal", seed=2, n_seizure=4, n_free=2)


@pytest.fixture(scope="module")
def explorer(val, cal):
    return ThresholdExplorer(val, cal, title="hand-made")


def cell(e: ThresholdExplorer, css: str) -> str:
    html = e.scores.value + e.confusion.value
    match = re.search(rf'class="{css}"[^>]*>([^<]*)<', html)
    assert match, f"no cell {css}"
    return match.group(1)


def shown(s) -> dict[str, str]:
    """The texts the panel should show for scores ``s``, written independently of the panel."""
    (slo, shi), (flo, fhi) = s.sensitivity_ci, s.fa_per_24h_ci
    return {"brr-now-sensitivity": f"{s.sensitivity:.2f} [{slo:.2f}, {shi:.2f}], "
                                   f"{s.n_detected} of {s.n_seizures} seizures",
            "brr-now-fa": f"{s.fa_per_24h:.3g} [{flo:.3g}, {fhi:.3g}], {s.n_false_alarms} in "
                          f"{s.hours:.2f} h"}


def test_every_stop_shows_the_librarys_scores(explorer, val):
    labels = overlap_labels(val)
    prob = val.predictions.probability
    for t in explorer.thresholds[::4]:
        explorer.set_threshold(t)
        expected = scoring.score(val, float(t))
        assert explorer.current.as_dict() == expected.as_dict()
        for css, text in shown(expected).items():
            assert cell(explorer, css) == text
        called = prob >= t
        for css, count in (("brr-cm-tp", called & labels), ("brr-cm-fn", ~called & labels),
                           ("brr-cm-fp", called & ~labels), ("brr-cm-tn", ~called & ~labels)):
            assert cell(explorer, css) == str(int(count.sum()))
    explorer.set_threshold(0.5)


def test_moving_the_slider_changes_scores_matrix_and_points(explorer, val):
    explorer.set_threshold(0.5)
    before = (cell(explorer, "brr-now-fa"), cell(explorer, "brr-cm-fp"),
              explorer.figure.data[2].x, explorer.figure.data[5].x)
    low = max(t for t in explorer.thresholds if t < 0.2)
    explorer.slider.value = low  # what a drag does: the observer redraws
    after = scoring.score(val, low)
    assert after.n_false_alarms != scoring.score(val, 0.5).n_false_alarms  # the data make it move
    assert cell(explorer, "brr-now-fa") == shown(after)["brr-now-fa"] != before[0]
    assert cell(explorer, "brr-cm-fp") == str(after.window.fp) != before[1]
    assert explorer.figure.data[2].x == (after.window.sensitivity,) != before[2]
    assert explorer.figure.data[2].y == (after.window.precision,)
    assert explorer.figure.data[5].x == (after.fa_per_24h,) != before[3]
    assert explorer.figure.data[5].y == (after.sensitivity,)
    # What the page gets: the whole figure, current points included, as strict JSON.
    (output,) = explorer.plot.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    json.dumps(spec, allow_nan=False)
    points = [(t["x"], t["y"]) for t in spec["data"] if t["name"] == "this threshold"]
    assert points == [([after.window.sensitivity], [after.window.precision]),
                      ([after.fa_per_24h], [after.sensitivity])]
    explorer.set_threshold(0.5)


def test_nothing_called_is_a_gap_not_a_point_at_zero(explorer):
    explorer.set_threshold(max(explorer.thresholds))
    w = explorer.current.window
    assert w.tp + w.fp == 0  # the data make it so: precision is undefined (NaN)
    (output,) = explorer.plot.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    window_point = next(t for t in spec["data"] if t["name"] == "this threshold")
    assert window_point["x"] == [0.0] and window_point["y"] == [None]
    explorer.set_threshold(0.5)


def test_the_calibration_choice_is_marked_and_scored_on_validation(explorer, val, cal):
    choice = scoring.choose_threshold(cal, target_fa_per_24h=10.0)
    assert explorer.chosen.choice.threshold == choice.threshold
    assert explorer.marks == {"default": 0.5, "calibration, <= 10 FA/24h": choice.threshold}
    assert {0.5, choice.threshold} <= set(explorer.thresholds)
    validated = scoring.validate_threshold(choice, val).validation
    explorer.set_threshold(choice.threshold)
    assert explorer.current.as_dict() == validated.as_dict()
    marked = re.findall(r'class="brr-mark-fa"[^>]*>([^<]*)<', explorer.scores.value)
    assert marked == [shown(scoring.score(val, 0.5))["brr-now-fa"], shown(validated)["brr-now-fa"]]
    assert f"{choice.threshold:.4g}" in explorer.header.value
    explorer.set_threshold(0.5)


def test_auroc_is_sklearns_and_does_not_move(explorer, val):
    expected = roc_auc_score(overlap_labels(val), val.predictions.probability)
    assert explorer.auroc == pytest.approx(expected, abs=1e-12)
    shown_auroc = cell(explorer, "brr-auroc")
    explorer.set_threshold(explorer.thresholds[3])
    assert cell(explorer, "brr-auroc") == shown_auroc
    assert shown_auroc.startswith(f"{expected:.3f}, the same at every threshold")
    explorer.set_threshold(0.5)


def test_without_calibration_only_half_is_marked(val):
    e = ThresholdExplorer(val, threshold=0.3)
    assert e.chosen is None and e.marks == {"default": 0.5}
    assert e.slider.value == 0.3 and e.current.as_dict() == scoring.score(val, 0.3).as_dict()


def test_grid_spans_both_ends_and_keeps_extras_exactly():
    grid = threshold_grid([0.123456789, 0.5])
    assert np.all(np.diff(grid) > 0) and 0 < grid[0] < 0.002 and 0.998 < grid[-1] < 1
    assert 0.5 in grid and 0.123456789 in grid and 0.0012 in grid and 0.9988 in grid


@pytest.mark.parametrize("kwargs, param", [
    ({"validation": {"a": 1}}, "validation"),
    ({"calibration": "cal.csv"}, "calibration"),
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": float("nan")}, "threshold"),
    ({"target_fa_per_24h": -1}, "target_fa_per_24h"),
])
def test_bad_input_names_the_parameter(val, cal, kwargs, param):
    args = {"validation": val, "calibration": cal, **kwargs}
    with pytest.raises(ValueError, match=rf"'{param}' parameter of ThresholdExplorer .*Got"):
        ThresholdExplorer(args.pop("validation"), args.pop("calibration"), **args)


def test_calibration_sharing_validation_windows_is_refused():
    small = make_data("both", seed=4, n_seizure=2, n_free=1)
    with pytest.raises(ValueError, match="'calibration' parameter of ThresholdExplorer must be "
                                         "recordings that share no window"):
        ThresholdExplorer(small, small)


def test_validation_without_seizures_is_refused():
    free = make_data("free", seed=3, n_seizure=0, n_free=2)
    with pytest.raises(ValueError, match="'validation' .* at least one seizure. Got 'no seizure in 2"):
        ThresholdExplorer(free)


def test_a_threshold_off_the_slider_is_refused_not_rounded(explorer):
    with pytest.raises(ValueError, match=r"'threshold' .*one of the slider's stops.*Got 0\.333"):
        explorer.set_threshold(0.333)
    assert explorer.slider.value == 0.5


def test_run_predictions_refuses_unknown_scenarios_and_cohorts():
    with pytest.raises(ValueError, match="'scenario' parameter of run_predictions"):
        run_predictions("no-such-scenario", object())
    with pytest.raises(ValueError, match="'cohort' parameter of run_predictions .*Got 'dict'"):
        run_predictions("bce", {})


@pytest.fixture(scope="module")
def small_cohort():
    from brr_lab.eeg.cohort import cohort_from_windows, default_data_dir
    from brr_lab.eeg import load_windows

    return cohort_from_windows(load_windows(default_data_dir()), source="data_sample")


@pytest.fixture(scope="module")
def sample_run(small_cohort, tmp_path_factory):
    """One epoch of plain BCE on data_sample (no event recordings: its own parts are scored),
    cached in a temporary folder; yields (cohort, run)."""
    from brr_lab.experiments import repro

    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("runs")  # fixed: the real key hashes brr_lab's source
    mp.setattr(repro, "results_cache", lambda cohort, epochs, device: folder)
    cohort = dataclasses.replace(small_cohort, key="test-sample")
    yield cohort, run_predictions("bce", cohort, seed=0, epochs=1)
    mp.undo()


def test_run_predictions_are_what_the_row_was_scored_on(sample_run):
    cohort, run = sample_run
    labels = overlap_labels(run.validation)
    assert labels.sum() == cohort.validation.y.sum()  # the training labels' rule ("any" overlap)
    at_half = scoring.score(run.validation, 0.5)
    assert run.row["event_sensitivity"] == at_half.sensitivity
    assert run.row["fa_per_24h"] == at_half.fa_per_24h and run.row["event_hours"] == at_half.hours
    moved = ThresholdExplorer(run.validation, run.calibration).chosen
    assert run.row["threshold_moved"]["threshold"] == moved.choice.threshold
    assert run.row["threshold_moved"]["fa_per_24h"] == moved.validation.fa_per_24h


def test_run_predictions_come_back_from_the_cache(sample_run, monkeypatch):
    from brr_lab.experiments import repro

    cohort, run = sample_run
    monkeypatch.setattr(repro, "run_scenario", lambda *a, **k: pytest.fail("trained again"))
    again = run_predictions("bce", cohort, seed=0, epochs=1)
    assert json.dumps(again.row) == json.dumps(run.row)  # NaN included
    for part in ("calibration", "validation"):
        a, b = getattr(again, part), getattr(run, part)
        assert a.truth == b.truth
        for key in ("recording", "start_s", "stop_s", "probability"):
            np.testing.assert_array_equal(getattr(a.predictions, key), getattr(b.predictions, key))


def test_points_from_rows_and_readable(sample_run):
    _, run = sample_run
    points = points_from_rows([run.row])
    at_half, moved = scoring.score(run.validation, 0.5), run.row["threshold_moved"]
    assert list(points["threshold rule"]) == ["default", "calibration, <= 10 FA/24h"]
    assert points["FA/24h"][0] == at_half.fa_per_24h and points["FA/24h"][1] == moved["fa_per_24h"]
    assert (points["FA 95% low"][1], points["FA 95% high"][1]) == tuple(moved["fa_per_24h_ci"])
    assert points["seizures found"][0] == at_half.n_detected and points["hours"][0] == at_half.hours
    assert (points["window AUROC"] == run.row["auroc"]).all()
    text = readable(points)
    assert list(text.columns[:3]) == ["scenario", "seed", "threshold rule"]
    assert text["false alarms"][0] == f"{at_half.n_false_alarms} in {at_half.hours:.2f} h"
    lo, hi = at_half.sensitivity_ci
    assert text["event sensitivity [95% CI]"][0] == f"{at_half.sensitivity:.2f} [{lo:.2f}, {hi:.2f}]"
    assert text["FA/24h on calibration"][0] == ""
