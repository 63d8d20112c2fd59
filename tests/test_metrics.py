"""Metrics: scikit-learn values, NaN (never 0.5) for AUROC on one class."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from brr_lab.training.metrics import UndefinedMetricWarning, auprc, auroc, binary_metrics, threshold_metrics


def test_auroc_and_auprc_match_scikit_learn():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.1).astype(float)
    s = rng.normal(size=300) + 1.5 * y
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert auprc(torch.tensor(y), torch.tensor(s)) == pytest.approx(average_precision_score(y, s))


def test_auroc_on_single_class_labels_is_nan_with_a_warning():
    with pytest.warns(UndefinedMetricWarning, match="all 50 labels are 0"):
        value = auroc(np.zeros(50), np.linspace(0, 1, 50))
    assert math.isnan(value)


def test_constant_scores_give_half_and_prevalence():
    y = np.array([0] * 12 + [1])
    assert auroc(y, np.zeros(13)) == 0.5
    assert auprc(y, np.zeros(13)) == pytest.approx(1 / 13)


def test_threshold_metrics_counts():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.2, 0.6, 0.1, 0.4])
    m = threshold_metrics(y, p)
    assert m["pred_pos_rate"] == pytest.approx(0.4)
    assert m["recall"] == pytest.approx(0.5)
    assert m["precision"] == pytest.approx(0.5)
    nothing = threshold_metrics(y, np.zeros(5))
    assert nothing["pred_pos_rate"] == 0 and math.isnan(nothing["precision"])


def test_binary_metrics_all_zero_labels_give_the_postmortem_signature():
    with pytest.warns(UndefinedMetricWarning):
        m = binary_metrics(torch.zeros(40), torch.full((40,), -3.0))
    assert math.isnan(m["auroc"]) and m["pred_pos_rate"] == 0 and m["prevalence"] == 0


def test_binary_metrics_spread_and_mean_prob():
    m = binary_metrics([0, 1, 0, 1], [-1.0, 1.0, -1.0, 1.0])
    assert m["logit_std"] == pytest.approx(1.0)
    assert m["mean_prob"] == pytest.approx(0.5)
    assert m["auroc"] == 1.0


@pytest.mark.parametrize("y,s,param", [
    ([0, 1, 2], [0.1, 0.2, 0.3], "y_true"),
    ([0, 1], [0.1], "scores"),
    ([0, 1], [0.1, float("nan")], "scores"),
])
def test_bad_input_names_the_parameter(y, s, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        auroc(y, s)
