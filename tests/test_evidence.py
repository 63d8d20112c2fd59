"""Bootstrap intervals over recordings: every resample equals scikit-learn with weights."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from brr_lab.experiments import evidence


def _data(seed=0, n_rec=20, per=40, ties=True):
    rng = np.random.default_rng(seed)
    rec = np.repeat(np.arange(n_rec), per)
    y = np.zeros(rec.size)
    for r in range(0, n_rec, 2):
        y[r * per + 5:r * per + 9] = 1
    z = rng.normal(size=rec.size) + 1.0 * y
    if ties:
        z[::5] = np.round(z[::5], 1)
    return y, z, rec


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_resample_equals_sklearn_with_recording_weights(seed):
    y, z, rec = _data(seed)
    has = np.bincount(rec, weights=y) > 0
    counts = evidence.resample_counts(has, n_boot=25, seed=seed)
    auroc = evidence._auroc(y, z, rec, counts)
    auprc = evidence._auprc(y, z, rec, counts)
    for b in range(25):
        w = counts[b][rec]
        assert auroc[b] == pytest.approx(roc_auc_score(y, z, sample_weight=w), abs=1e-12)
        assert auprc[b] == pytest.approx(average_precision_score(y, z, sample_weight=w), abs=1e-12)


def test_resampling_is_stratified_and_by_recording():
    has = np.array([True] * 5 + [False] * 3)
    counts = evidence.resample_counts(has, n_boot=200)
    assert (counts[:, :5].sum(axis=1) == 5).all() and (counts[:, 5:].sum(axis=1) == 3).all()


def test_intervals_hold_the_point_figure_and_repeat():
    y, z, rec = _data(3)
    names = np.array([f"r{r}" for r in rec], dtype=object)
    a = evidence.bootstrap_intervals(y, z, names)
    assert a == evidence.bootstrap_intervals(y, z, names)
    assert a["auroc_ci"][0] <= roc_auc_score(y, z) <= a["auroc_ci"][1]
    assert a["auprc_ci"][0] <= average_precision_score(y, z) <= a["auprc_ci"][1]
    rate = float(np.mean(1 / (1 + np.exp(-z)) >= 0.5))
    assert a["pred_pos_rate_ci"][0] <= rate <= a["pred_pos_rate_ci"][1]
    assert "recordings" in a["method"]


def test_one_class_gives_undefined_intervals_and_bad_input_is_named():
    y, z, rec = _data(0)
    out = evidence.bootstrap_intervals(np.zeros_like(y), z, rec)
    assert all(np.isnan(out["auroc_ci"])) and all(np.isnan(out["auprc_ci"]))
    with pytest.raises(ValueError, match="one length"):
        evidence.bootstrap_intervals(y, z[:-1], rec)


def test_blocks_of_cuts_give_the_same_average_precision(monkeypatch):
    y, z, rec = _data(4, ties=False)
    has = np.bincount(rec, weights=y) > 0
    counts = evidence.resample_counts(has, n_boot=30)
    whole = evidence._auprc(y, z, rec, counts)
    monkeypatch.setattr(evidence, "_CUT_CHUNK", 7)
    assert np.allclose(evidence._auprc(y, z, rec, counts), whole, rtol=0, atol=1e-12)



def test_one_recording_with_a_seizure_gives_no_interval_rather_than_a_zero_width_one():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(45), np.ones(5), np.zeros(100)]
    z = rng.normal(size=y.size) + 2 * y
    # r1 holds the seizure; r2 and r3 are seizure-free: only the rate can vary.
    one = evidence.bootstrap_intervals(y, z, ["r1"] * 50 + ["r2"] * 50 + ["r3"] * 50)
    assert np.isnan(one["auroc_ci"]).all() and np.isnan(one["auprc_ci"]).all()
    assert "fewer than 2 recordings hold a seizure" in one["method"]
    assert not np.isnan(one["pred_pos_rate_ci"]).any()
    # One recording per stratum: nothing varies, no interval at all.
    two = evidence.bootstrap_intervals(y[:100], z[:100], ["r1"] * 50 + ["r2"] * 50)
    assert np.isnan(two["pred_pos_rate_ci"]).all() and "no stratum has 2" in two["method"]
    # Ten recordings with a seizure: defined, and not of zero width.
    ok = evidence.bootstrap_intervals(*_data())
    assert ok["auroc_ci"][0] < ok["auroc_ci"][1] and "undefined" not in ok["method"]
