"""Validation metrics for a binary detector, with undefined values kept undefined.

AUROC and AUPRC come from scikit-learn. AUROC on labels that hold one class is
undefined: it is NaN plus a :class:`UndefinedMetricWarning`, never a silent 0.5 (the
postmortem's "AUROC = 0.5" was all-zero labels run through a wrapper that did that).
AUPRC is reported with the prevalence beside it: a constant model scores AUPRC =
prevalence, not 0.5.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from brr_lab._validation import check_real, invalid

__all__ = ["UndefinedMetricWarning", "auroc", "auprc", "probabilities", "calls", "threshold_metrics",
           "binary_metrics", "f1_threshold"]


class UndefinedMetricWarning(UserWarning):
    """A metric was asked for where it is undefined (for example AUROC on one class)."""


def _arrays(y_true, scores, where: str) -> tuple[np.ndarray, np.ndarray]:
    y = _numpy(y_true).astype(float).ravel()
    s = _numpy(scores).astype(float).ravel()
    if y.shape != s.shape:
        raise invalid("scores", where, f"one score per label ({y.size} labels)", f"{s.size} scores")
    if y.size == 0:
        raise invalid("y_true", where, "at least one label", "none")
    if not np.all((y == 0) | (y == 1)):
        raise invalid("y_true", where, "0/1 labels", f"values {np.unique(y)[:5].tolist()}")
    if not np.all(np.isfinite(s)):
        raise invalid("scores", where, "finite scores", "NaN or inf among them")
    return y, s


def _numpy(x) -> np.ndarray:
    if torch.is_tensor(x):
        return x.detach().float().cpu().numpy()
    return np.asarray(x)


def auroc(y_true, scores) -> float:
    """Area under the ROC curve; NaN with a warning when ``y_true`` holds one class."""
    y, s = _arrays(y_true, scores, "auroc")
    if y.min() == y.max():
        warnings.warn(f"AUROC is undefined: all {y.size} labels are {int(y[0])}. Check the "
                      "labels (annotation parsing, label vocabulary, window rule) before the model.",
                      UndefinedMetricWarning, stacklevel=2)
        return math.nan
    return float(roc_auc_score(y, s))


def auprc(y_true, scores) -> float:
    """Average precision (area under the precision-recall curve); NaN with a warning
    when there are no positives (it has nothing to measure then)."""
    y, s = _arrays(y_true, scores, "auprc")
    if y.max() == 0:
        warnings.warn(f"AUPRC is undefined: none of the {y.size} labels is positive.",
                      UndefinedMetricWarning, stacklevel=2)
        return math.nan
    return float(average_precision_score(y, s))


def probabilities(logits) -> np.ndarray:
    """sigmoid(logits) in float64 (clipped at +-60, where it is 0 or 1 to float precision)."""
    z = _numpy(logits).astype(np.float64)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def calls(logits, threshold: float = 0.5) -> np.ndarray:
    """The one threshold rule: a window is called positive when ``sigmoid(logit) >= threshold``.

    A model whose logits are all 0 (p = 0.5) calls everything positive at 0.5.
    """
    return probabilities(logits) >= threshold


def threshold_metrics(y_true, probs, *, threshold: float = 0.5) -> dict:
    """Counts-based figures at one threshold on predicted probabilities.

    Returns ``pred_pos_rate`` (share predicted positive), ``recall`` (NaN without
    positives), ``precision`` (NaN when nothing is predicted positive), and the counts
    ``tp``, ``fp``, ``fn``, ``tn``.
    """
    threshold = check_real(threshold, "threshold", "threshold_metrics", low=0, high=1,
                           allowed="a probability threshold in [0, 1]")
    y, p = _arrays(y_true, probs, "threshold_metrics")
    pred = p >= threshold
    pos = y == 1
    tp = int(np.sum(pred & pos))
    fp = int(np.sum(pred & ~pos))
    fn = int(np.sum(~pred & pos))
    tn = int(np.sum(~pred & ~pos))
    return {
        "pred_pos_rate": float(pred.mean()),
        "recall": tp / (tp + fn) if tp + fn else math.nan,
        "precision": tp / (tp + fp) if tp + fp else math.nan,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }


def binary_metrics(y_true, logits, *, threshold: float = 0.5) -> dict:
    """Everything the trainer logs about a set of logits against labels.

    Keys: ``auroc``, ``auprc``, ``prevalence``, ``pred_pos_rate``, ``recall``,
    ``precision`` (at ``threshold`` on sigmoid(logits)), ``mean_prob``, ``logit_mean``,
    ``logit_std`` (the logit spread: 0 for a constant output), ``logit_min``, ``logit_max``.
    Logits holding NaN or inf (a diverged model) give NaN for every figure but the
    prevalence, plus ``n_non_finite``; :mod:`brr_lab.training.diagnosis` names that state.
    """
    z_all = _numpy(logits).astype(float).ravel()
    bad = ~np.isfinite(z_all)
    if bad.any() and z_all.size == _numpy(y_true).size:
        # A diverged model: no figure is defined. Said, counted and diagnosed, never a number.
        y = _numpy(y_true).astype(float).ravel()
        nan = math.nan
        return {"auroc": nan, "auprc": nan, "prevalence": float(y.mean()) if y.size else nan,
                "pred_pos_rate": nan, "recall": nan, "precision": nan, "mean_prob": nan,
                "logit_mean": nan, "logit_std": nan, "logit_min": nan, "logit_max": nan,
                "n_non_finite": int(bad.sum())}
    y, z = _arrays(y_true, logits, "binary_metrics")
    probs = probabilities(z)
    with warnings.catch_warnings():
        # Re-raise as our own warning once, at the caller.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        roc = auroc(y, z)
        ap = auprc(y, z)
    if math.isnan(roc):
        warnings.warn(f"AUROC is undefined on labels of one class (all {int(y[0])}); "
                      "reported as NaN.", UndefinedMetricWarning, stacklevel=2)
    out = {"auroc": roc, "auprc": ap, "prevalence": float(y.mean())}
    counts = threshold_metrics(y, probs, threshold=threshold)
    out.update({k: counts[k] for k in ("pred_pos_rate", "recall", "precision")})
    out.update({
        "mean_prob": float(probs.mean()),
        "logit_mean": float(z.mean()),
        "logit_std": float(z.std()),
        "logit_min": float(z.min()),
        "logit_max": float(z.max()),
    })
    return out


def f1_threshold(y_true, logits) -> float:
    """The probability threshold with the highest F1 on these windows (scikit-learn's
    ``precision_recall_curve``; the lowest such threshold on a tie).

    Choose it on calibration data and apply it to other data: chosen and scored on the
    same windows, its F1 is optimistic.
    """
    from sklearn.metrics import precision_recall_curve

    y, z = _arrays(y_true, logits, "f1_threshold")
    if y.min() == y.max():
        raise invalid("y_true", "f1_threshold", "labels with both classes", f"all {int(y[0])}")
    precision, recall, thresholds = precision_recall_curve(y, probabilities(z))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(thresholds[int(np.argmax(f1[:-1]))])
