"""Which collapse is this? Tell apart the signatures that one AUROC number hides.

The checks run in this order; the first that matches names the state:

0. ``diverged``: the outputs hold NaN or inf; no metric is defined.
1. ``single-class labels``: the validation labels hold one class. AUROC is undefined;
   no model setting can cause or fix this (the postmortem's real cause).
2. ``constant output``: the logits' standard deviation is below
   :data:`CONSTANT_LOGIT_STD`. The model outputs one value; AUROC is 0.5 by
   construction and says nothing about ranking.
3. ``does not generalise``: validation AUROC is below :data:`RANKS_AUROC` while the
   training AUROC (when given) reaches it: the model ranks the windows it trains on but
   not held-out ones (over-fitting, or recordings that differ). Not a weighting signature.
4. ``stalled``: outputs vary but AUROC is below :data:`RANKS_AUROC` (and so is the
   training AUROC, or it is unknown). The model has not (yet) learned features that rank
   seizures above background ("near chance" when AUROC is within :data:`CHANCE_BAND` of
   0.5; "inverted" below 0.5 - CHANCE_BAND).
5. ``ranks but all-negative``: AUROC >= :data:`RANKS_AUROC` but at most
   :data:`ONE_SIDE_RATE` of windows are predicted positive at the threshold: the
   ranking is there, the threshold sits above it (under-correction or a prior shift).
6. ``ranks but all-positive``: AUROC >= :data:`RANKS_AUROC` and at least
   ``1 - ONE_SIDE_RATE`` predicted positive.
7. ``over-correction``: the predicted-positive rate exceeds
   :data:`OVER_CORRECTION_RATE_FACTOR` x prevalence. Above twice the prevalence at
   least half of the predicted positives are false alarms, whatever the ranking.
8. ``healthy``: ranks, and calls positive at a rate within a factor 2 of prevalence.

Thresholds are module constants, compared with ``<``/``>=``, never exact float equality.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

from brr_lab.training.metrics import UndefinedMetricWarning, binary_metrics

__all__ = [
    "DIVERGED", "SINGLE_CLASS", "CONSTANT_OUTPUT", "NO_TRANSFER", "STALLED", "ALL_NEGATIVE", "ALL_POSITIVE",
    "OVER_CORRECTION", "HEALTHY", "STATES",
    "CONSTANT_LOGIT_STD", "RANKS_AUROC", "CHANCE_BAND", "ONE_SIDE_RATE",
    "OVER_CORRECTION_RATE_FACTOR", "Diagnosis", "diagnose", "diagnose_metrics",
]

SINGLE_CLASS = "single-class labels"
CONSTANT_OUTPUT = "constant output"
NO_TRANSFER = "does not generalise"
STALLED = "stalled"
ALL_NEGATIVE = "ranks but all-negative"
ALL_POSITIVE = "ranks but all-positive"
OVER_CORRECTION = "over-correction"
HEALTHY = "healthy"
DIVERGED = "diverged"
STATES = (DIVERGED, SINGLE_CLASS, CONSTANT_OUTPUT, NO_TRANSFER, STALLED, ALL_NEGATIVE, ALL_POSITIVE,
          OVER_CORRECTION, HEALTHY)

# Logit standard deviation below which the output counts as constant. Trained models
# on standardised EEG spread their logits by 0.1 or more; float32 noise is ~1e-6.
CONSTANT_LOGIT_STD = 1e-4
# AUROC from which a model "ranks": the postmortem's own success line (AUROC > 0.7).
RANKS_AUROC = 0.7
# |AUROC - 0.5| within this band is called "near chance" in the stalled message.
CHANCE_BAND = 0.1
# At most this share predicted positive counts as "all negative" (and at least
# 1 - this share as "all positive"): 1% leaves room for a stray window.
ONE_SIDE_RATE = 0.01
# Predicted-positive rate above this multiple of prevalence means precision <= 1/2.
OVER_CORRECTION_RATE_FACTOR = 2.0

_NEXT = {
    DIVERGED: [
        "The model's outputs hold NaN or inf: training diverged, no metric is defined.",
        "Lower the learning rate, clip gradients (trainer.grad_clip), and check the inputs "
        "for NaN/inf and their scale (standardised?).",
        "Class weights this large multiply the gradient too: a stacked correction can diverge.",
    ],
    SINGLE_CLASS: [
        "Check the labels before the model: count positives per recording.",
        "Check the annotation parser (do event lines parse? are channel names read as numbers?).",
        "Check the label vocabulary: are seizure types (fnsz, gnsz, ...) mapped, not only 'seiz'?",
        "Check the window rule (any overlap vs a minimum seizure fraction) and the split.",
    ],
    CONSTANT_OUTPUT: [
        "The model outputs one value: look at the input scale (standardised?) and for NaN/inf.",
        "Check the learning rate (too high can kill ReLUs; too low moves nothing) and that "
        "the optimizer holds the model's parameters.",
        "AUROC 0.5 here is by construction, not evidence about class weighting.",
    ],
    NO_TRANSFER: [
        "The model ranks its training windows but not the validation ones: it learned "
        "something that does not carry over to held-out recordings.",
        "Check the split (by recording or patient), how many recordings with seizures train "
        "and validation hold, and per-recording normalisation.",
        "More recordings, augmentation or a smaller model help; class weighting does not.",
    ],
    STALLED: [
        "Outputs vary but do not rank: features are not learned (yet).",
        "Look at positives' share of the gradient: under-weighted positives learn slowly.",
        "Train longer (--long) to see whether it escapes late or stays stuck.",
        "Check the task difficulty (signal strength), input normalisation and learning rate.",
    ],
    ALL_NEGATIVE: [
        "The model ranks seizures above background, but the threshold 0.5 sits above them.",
        "Compare q* of the weighting setup with the posterior a seizure window reaches: "
        "q* >= 0.5 (plain BCE, focal alpha < 0.5) calls only very sure windows positive.",
        "Use one correction (pos_weight n_neg/n_pos, a balanced sampler, or logit "
        "adjustment) or pick the threshold on validation data.",
    ],
    ALL_POSITIVE: [
        "The model ranks, but nearly every window is called positive: the threshold is "
        "below the background's scores.",
        "Look for stacked class weighting (sampler x pos_weight): the effective ratio and "
        "q* in the start block.",
        "Use one mechanism, or adjust logits back to the true prior before thresholding.",
    ],
    OVER_CORRECTION: [
        "More than half of the predicted positives are false alarms.",
        "Check the effective ratio against the data's imbalance (n_neg/n_pos): stacked "
        "weighting gives q* far below 0.5.",
        "Drop all corrections but one, or adjust logits / the threshold back to the true prior.",
    ],
    HEALTHY: [
        "Ranks and calls positive at a rate near the prevalence.",
        "Report AUPRC beside the prevalence, and choose the operating threshold on "
        "validation data for a target sensitivity or false-alarm rate.",
    ],
}


@dataclass(frozen=True)
class Diagnosis:
    """One named state, the figures it was read from, and what to check next."""

    state: str
    reason: str
    evidence: dict
    next_steps: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"diagnosis: {self.state} - {self.reason}"]
        lines += [f"  next: {step}" for step in self.next_steps]
        return "\n".join(lines)


def diagnose_metrics(metrics: dict, *, setup=None) -> Diagnosis:
    """Classify from figures already computed (keys as in ``brr_lab.training.metrics.binary_metrics``).

    Needs ``auroc``, ``prevalence``, ``pred_pos_rate`` and ``logit_std``; ``train_auroc``
    is optional (it separates "does not generalise" from "stalled"). ``setup`` (a
    ``brr_lab.weighting.policy.WeightingSetup``) adds its effective ratio and q* to the advice.
    """
    missing = [k for k in ("auroc", "prevalence", "pred_pos_rate", "logit_std") if k not in metrics]
    if missing:
        raise ValueError(f"The 'metrics' parameter of diagnose_metrics must hold the keys "
                         f"auroc, prevalence, pred_pos_rate, logit_std. Missing: {missing}.")
    roc = metrics["auroc"]
    pi = metrics["prevalence"]
    rate = metrics["pred_pos_rate"]
    spread = metrics["logit_std"]
    train_roc = metrics.get("train_auroc")
    if train_roc is None or math.isnan(train_roc):
        train_roc = -math.inf  # unknown: never evidence of transfer failure
    evidence = {k: metrics[k] for k in ("auroc", "train_auroc", "auprc", "prevalence",
                                        "pred_pos_rate", "recall", "precision", "logit_std")
                if k in metrics}

    if metrics.get("n_non_finite"):
        state = DIVERGED
        reason = f"{metrics['n_non_finite']} output(s) are NaN or inf"
    elif pi <= 0 or pi >= 1 or (isinstance(roc, float) and math.isnan(roc)):
        state = SINGLE_CLASS
        reason = f"every validation label is {int(round(pi))}; AUROC is undefined"
    elif spread < CONSTANT_LOGIT_STD:
        state = CONSTANT_OUTPUT
        reason = f"logit spread {spread:.2g} < {CONSTANT_LOGIT_STD:g}; AUROC {roc:.3f} is by construction"
    elif roc < RANKS_AUROC and train_roc >= RANKS_AUROC:
        state = NO_TRANSFER
        reason = (f"validation AUROC {roc:.3f} < {RANKS_AUROC:g} while training AUROC is "
                  f"{train_roc:.3f}")
    elif roc < RANKS_AUROC:
        kind = ("near chance" if abs(roc - 0.5) <= CHANCE_BAND else
                "inverted: ranks seizures below background" if roc < 0.5 else "weak")
        reason = (f"AUROC {roc:.3f} {kind} (< {RANKS_AUROC:g}) "
                  f"with varied outputs (logit spread {spread:.3g})")
        state = STALLED
    elif rate <= ONE_SIDE_RATE:
        state = ALL_NEGATIVE
        reason = f"AUROC {roc:.3f} but {rate:.1%} predicted positive (prevalence {pi:.1%})"
    elif rate >= 1 - ONE_SIDE_RATE:
        state = ALL_POSITIVE
        reason = f"AUROC {roc:.3f} but {rate:.1%} predicted positive (prevalence {pi:.1%})"
    elif rate > OVER_CORRECTION_RATE_FACTOR * pi:
        state = OVER_CORRECTION
        reason = (f"{rate:.1%} predicted positive, over {OVER_CORRECTION_RATE_FACTOR:g}x the "
                  f"prevalence {pi:.1%} (AUROC {roc:.3f})")
    else:
        state = HEALTHY
        reason = f"AUROC {roc:.3f}, {rate:.1%} predicted positive vs prevalence {pi:.1%}"

    steps = list(_NEXT[state])
    if setup is not None and state in (ALL_NEGATIVE, ALL_POSITIVE, OVER_CORRECTION, STALLED):
        steps.append(f"This run's setup: effective ratio {setup.effective_ratio:.3g}:1, "
                     f"q* = {setup.q_star:.3g}, active: {', '.join(setup.active_names) or 'none'}.")
    return Diagnosis(state=state, reason=reason, evidence=evidence, next_steps=steps)


def diagnose(y_true, logits, *, threshold: float = 0.5, setup=None,
             train_auroc: float | None = None) -> Diagnosis:
    """Classify a model's state from validation labels and logits (see the module docstring).

    ``train_auroc``: the same model's AUROC on its training data, if known.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # the diagnosis names it
        metrics = binary_metrics(y_true, logits, threshold=threshold)
    if train_auroc is not None:
        metrics["train_auroc"] = train_auroc
    return diagnose_metrics(metrics, setup=setup)
