"""How sure is a figure: 95% bootstrap intervals over validation recordings, all resamples at once.

Windows of one recording are not independent (they overlap and share a seizure), so
the unit of resampling is the recording: each resample draws recordings with
replacement, separately among those with a seizure and those without (stratified, so
every resample holds both classes), and a recording drawn k times counts k times.
That is scikit-learn's ``sample_weight`` with weight k on the recording's windows, and
the tests check every resample against ``roc_auc_score`` and
``average_precision_score`` with those weights. The interval is the 2.5th and 97.5th
percentile of :data:`N_BOOT` resamples (seeded, so a figure repeats).

Why not a library call per resample: 1000 calls on 8,000 windows take seconds per run,
and a default ``brr-lab repro`` has 50 runs. Here AUROC comes from the matrix of
positive-negative pair counts between recordings (one sort), AUPRC from cumulative
sums over one descending order, and the predicted-positive rate from per-recording
counts: well under a second per run.
"""
from __future__ import annotations

import math

import numpy as np

from brr_lab._validation import invalid
from brr_lab.training.metrics import calls

__all__ = ["N_BOOT", "LEVEL", "BOOT_SEED", "METHOD", "bootstrap_intervals", "resample_counts"]

N_BOOT = 1000
LEVEL = 0.95
BOOT_SEED = 0
METHOD = ("95% percentile bootstrap over validation recordings (1000 resamples, stratified by "
          "recordings with / without a seizure)")


def resample_counts(has_positive: np.ndarray, *, n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> np.ndarray:
    """``(n_boot, n_recordings)`` draw counts: each stratum resampled to its own size."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, has_positive.size), dtype=np.int64)
    for stratum in (np.flatnonzero(has_positive), np.flatnonzero(~has_positive)):
        if stratum.size:
            counts[:, stratum] = rng.multinomial(stratum.size, np.full(stratum.size, 1 / stratum.size),
                                                 size=n_boot)
    return counts


def _auroc(y: np.ndarray, z: np.ndarray, rec: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """AUROC of every resample from pair counts M[r, s] = #(pos in r above neg in s) + ties / 2.

    Memory grows with the number of recordings squared, not with windows x recordings.
    """
    n_rec = counts.shape[1]
    pos, neg = y == 1, y == 0
    z_pos, rec_pos = z[pos], rec[pos]
    pairs = np.zeros((n_rec, n_rec))
    for s in range(n_rec):
        negs = np.sort(z[neg & (rec == s)])
        if negs.size:
            lo = np.searchsorted(negs, z_pos, side="left")
            hi = np.searchsorted(negs, z_pos, side="right")
            pairs[:, s] = np.bincount(rec_pos, weights=lo + 0.5 * (hi - lo), minlength=n_rec)
    n_pos = np.bincount(rec_pos, minlength=n_rec)
    n_neg = np.bincount(rec[neg], minlength=n_rec)
    c = counts.astype(np.float64)
    num = np.einsum("br,rs,bs->b", c, pairs, c)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample without one class: NaN
        return num / ((c @ n_pos) * (c @ n_neg))


def _at_or_above(values: np.ndarray, cuts: np.ndarray, rec: np.ndarray, n_rec: int) -> np.ndarray:
    """``(len(cuts), n_rec)``: how many of each recording's ``values`` are >= each cut."""
    out = np.zeros((cuts.size, n_rec))
    for r in range(n_rec):
        mine = np.sort(values[rec == r])
        out[:, r] = mine.size - np.searchsorted(mine, cuts, side="left")
    return out


_CUT_CHUNK = 2048  # cuts per block: bounds memory to (block x recordings) + (block x resamples)


def _auprc(y: np.ndarray, z: np.ndarray, rec: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Average precision of every resample (scikit-learn's step-wise definition, weighted).

    Recall only changes at the positives' scores, so precision is needed there only:
    true and false positives at or above each such score, per recording, in blocks of
    cuts; each resample is then a matrix product with its counts.
    """
    n_rec = counts.shape[1]
    pos = y == 1
    cuts = np.unique(z[pos])[::-1]                         # descending distinct positive scores
    c = counts.T.astype(np.float64)                        # (n_rec, n_boot)
    total = c.T @ np.bincount(rec[pos], minlength=n_rec)   # positives in each resample
    ap = np.zeros(counts.shape[0])
    recall_before = np.zeros(counts.shape[0])
    for start in range(0, cuts.size, _CUT_CHUNK):
        block = cuts[start:start + _CUT_CHUNK]
        tp = _at_or_above(z[pos], block, rec[pos], n_rec) @ c
        fp = _at_or_above(z[~pos], block, rec[~pos], n_rec) @ c
        recall = tp / total
        gain = np.diff(np.vstack([recall_before, recall]), axis=0)
        seen = tp + fp
        precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)  # gain is 0 there
        ap += np.sum(gain * precision, axis=0)
        recall_before = recall[-1]
    return ap


def bootstrap_intervals(y_true, logits, recording, *, threshold: float = 0.5, n_boot: int = N_BOOT,
                        seed: int = BOOT_SEED, level: float = LEVEL) -> dict:
    """Intervals for AUROC, AUPRC and the predicted-positive rate at ``threshold``.

    ``recording``: the recording of each window. Returns ``auroc_ci``, ``auprc_ci``,
    ``pred_pos_rate_ci`` (each ``[low, high]``), ``n_boot`` and ``method``. With one
    class in the labels the ranking intervals are ``[nan, nan]`` (undefined, as the
    point figures are).
    """
    y = np.asarray(y_true, dtype=np.float64).ravel()
    z = np.asarray(logits, dtype=np.float64).ravel()
    names = np.asarray(recording, dtype=object).ravel()
    if not (y.size == z.size == names.size) or y.size == 0:
        raise invalid("y_true/logits/recording", "bootstrap_intervals",
                      "three non-empty sequences of one length", f"{y.size}, {z.size}, {names.size}")
    nan_pair = [math.nan, math.nan]
    if not np.isfinite(z).all():  # a diverged model: no interval is defined either
        return {"auroc_ci": nan_pair, "auprc_ci": nan_pair, "pred_pos_rate_ci": list(nan_pair),
                "n_boot": n_boot, "method": METHOD}
    index: dict = {}
    rec = np.fromiter((index.setdefault(n, len(index)) for n in names), dtype=np.int64, count=names.size)
    n_rec = len(index)
    has_pos = np.bincount(rec, weights=y, minlength=n_rec) > 0
    counts = resample_counts(has_pos, n_boot=n_boot, seed=seed)
    tail = (1 - level) / 2

    def interval(values: np.ndarray) -> list[float]:
        if np.isnan(values).any():
            return [math.nan, math.nan]
        low, high = np.quantile(values, [tail, 1 - tail])
        return [float(low), float(high)]

    positive = calls(z, threshold)
    rate = (counts @ np.bincount(rec, weights=positive, minlength=n_rec)) / (
        counts @ np.bincount(rec, minlength=n_rec))
    # A stratum of one recording is the same in every resample: with fewer than two recordings
    # holding a seizure the positives never vary, and an interval would claim a certainty
    # the data cannot give. Undefined instead, and said so.
    ranking_varies = int(has_pos.sum()) >= 2
    rate_varies = max(int(has_pos.sum()), int((~has_pos).sum())) >= 2
    both = 0 < y.sum() < y.size and ranking_varies
    nan = np.full(n_boot, math.nan)
    method = (METHOD if (n_boot, level) == (N_BOOT, LEVEL) else
              f"{level:.0%} percentile bootstrap over recordings ({n_boot} resamples, stratified)")
    if not ranking_varies:
        method += ("; AUROC/AUPRC intervals undefined: fewer than 2 recordings hold a seizure"
                   + ("" if rate_varies else ", and no stratum has 2 recordings"))
    return {
        "auroc_ci": interval(_auroc(y, z, rec, counts) if both else nan),
        "auprc_ci": interval(_auprc(y, z, rec, counts) if y.sum() > 0 and ranking_varies else nan),
        "pred_pos_rate_ci": interval(rate if rate_varies else nan),
        "n_boot": n_boot,
        "method": method,
    }
