"""What alpha, gamma, pos_weight and a sampler do together: the effective-weight engine.

Everything here is NumPy and vectorised: pass arrays of settings (they broadcast
against each other) and get arrays back. The formulas, for prevalence ``pi``:

* per-example class weights: a positive weighs ``w_pos = alpha * pos_weight``, a
  negative ``w_neg = 1 - alpha`` (``alpha=None`` means 1 and 1);
* constant-weight ratio ``w_pos / w_neg`` (the postmortem's 12*0.25 : 0.75 = 4);
* a sampler that draws positives with fraction ``f`` per batch multiplies the odds of
  a positive by ``s = (f / (1 - f)) / (pi / (1 - pi))`` (12 for 50/50 at 1:12);
* effective ratio ``w_pos * s / w_neg``: the class odds the loss really trains under;
* q*: at p = 0.5 the focal factors of both classes are equal (p_t = 0.5), so the
  loss minimiser predicts positive where the true posterior q exceeds
  ``q* = w_neg / (w_neg + w_pos * s)``; gamma does not move it;
* p*: the constant prediction that minimises the expected loss on the (sampled) class
  mix, what a model with no features converges to; gamma pulls it toward 0.5;
* the equivalent BCE pos_weight: the pos_weight that gives plain BCE the same p*;
* positives' share of the total gradient |dL/dz| when every example is predicted p.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict

import numpy as np

from brr_lab._validation import invalid

__all__ = [
    "prevalence_from_counts",
    "class_weights",
    "constant_weight_ratio",
    "sampler_odds",
    "effective_ratio",
    "q_star",
    "best_constant_prediction",
    "equivalent_pos_weight",
    "positive_gradient_share",
    "loss_curves",
    "analyze",
    "WeightingReport",
]

_WHERE = "brr_lab.weighting"


def prevalence_from_counts(n_pos, n_neg) -> np.ndarray:
    """Prevalence ``n_pos / (n_pos + n_neg)``; both counts must be >= 0 and not both 0."""
    n_pos = np.asarray(n_pos, dtype=float)
    n_neg = np.asarray(n_neg, dtype=float)
    for name, value in (("n_pos", n_pos), ("n_neg", n_neg)):
        if np.any(~np.isfinite(value) | (value < 0)):
            raise invalid(name, _WHERE, "a count >= 0", value.tolist())
    total = n_pos + n_neg
    if np.any(total == 0):
        raise invalid("n_pos + n_neg", _WHERE, "> 0", total.tolist())
    return n_pos / total


def _prevalence(prevalence) -> np.ndarray:
    pi = np.asarray(prevalence, dtype=float)
    if np.any(~np.isfinite(pi) | (pi <= 0) | (pi >= 1)):
        raise invalid("prevalence", _WHERE, "a float in (0, 1)", _show(pi))
    return pi


def _alpha(alpha):
    if alpha is None:
        return None
    a = np.asarray(alpha, dtype=float)
    if np.any(~np.isfinite(a) | (a < 0) | (a > 1)):
        raise invalid("alpha", _WHERE, "None or a float in [0, 1]", _show(a))
    return a


def _gamma(gamma) -> np.ndarray:
    g = np.asarray(gamma, dtype=float)
    if np.any(~np.isfinite(g) | (g < 0)):
        raise invalid("gamma", _WHERE, "a finite float >= 0", _show(g))
    return g


def _pos_weight(pos_weight) -> np.ndarray:
    if pos_weight is None:
        return np.asarray(1.0)
    w = np.asarray(pos_weight, dtype=float)
    if np.any(~np.isfinite(w) | (w <= 0)):
        raise invalid("pos_weight", _WHERE, "None or a finite float > 0", _show(w))
    return w


def _sampler_fraction(fraction):
    if fraction is None:
        return None
    f = np.asarray(fraction, dtype=float)
    if np.any(~np.isfinite(f) | (f <= 0) | (f >= 1)):
        raise invalid("sampler_fraction", _WHERE,
                      "None (no sampler) or a positive fraction per batch in (0, 1)", _show(f))
    return f


def _show(a: np.ndarray):
    return a.item() if a.ndim == 0 else a.tolist()


def class_weights(alpha=None, pos_weight=None) -> tuple[np.ndarray, np.ndarray]:
    """Per-example loss weights ``(w_pos, w_neg)``: ``alpha * pos_weight`` and ``1 - alpha``."""
    a = _alpha(alpha)
    w = _pos_weight(pos_weight)
    if a is None:
        return w * 1.0, np.ones_like(w, dtype=float)
    return a * w, np.broadcast_to(1.0 - a, np.broadcast(a, w).shape).astype(float)


def constant_weight_ratio(alpha=None, pos_weight=None) -> np.ndarray:
    """``w_pos / w_neg``: how much one positive weighs against one negative, sampler aside.

    ``inf`` when ``alpha == 1`` (negatives weigh nothing), 0 when ``alpha == 0``.
    """
    w_pos, w_neg = class_weights(alpha, pos_weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w_neg > 0, w_pos / np.where(w_neg > 0, w_neg, 1.0), np.inf)


def sampler_odds(prevalence, sampler_fraction=None) -> np.ndarray:
    """Factor by which a sampler multiplies the odds of a positive (1 without a sampler)."""
    pi = _prevalence(prevalence)
    f = _sampler_fraction(sampler_fraction)
    if f is None:
        return np.ones_like(pi)
    return (f / (1.0 - f)) / (pi / (1.0 - pi))


def _batch_prevalence(pi: np.ndarray, f) -> np.ndarray:
    return pi if f is None else np.broadcast_to(f, np.broadcast(pi, f).shape)


def effective_ratio(prevalence, alpha=None, pos_weight=None, sampler_fraction=None) -> np.ndarray:
    """Constant-weight ratio times the sampler's odds factor: the total correction applied."""
    return constant_weight_ratio(alpha, pos_weight) * sampler_odds(prevalence, sampler_fraction)


def q_star(prevalence, alpha=None, pos_weight=None, sampler_fraction=None) -> np.ndarray:
    """True posterior above which the loss minimiser predicts positive at threshold 0.5.

    ``q* = w_neg / (w_neg + w_pos * s)``; gamma cancels at p = 0.5. Plain BCE gives 0.5.
    """
    w_pos, w_neg = class_weights(alpha, pos_weight)
    s = sampler_odds(prevalence, sampler_fraction)
    return w_neg / (w_neg + w_pos * s)


def _grad_pos(p, gamma):
    """|d/dz| of the unweighted positive focal term -(1-p)^g log p, at p = sigmoid(z)."""
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        g_term = np.where(p > 0, gamma * p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return q ** gamma * (q - g_term)


def _grad_neg(p, gamma):
    """|d/dz| of the unweighted negative focal term -p^g log(1-p)."""
    return _grad_pos(1.0 - p, gamma)


def _loss_pos(p, gamma):
    with np.errstate(divide="ignore"):
        return -((1.0 - p) ** gamma) * np.log(p)


def _loss_neg(p, gamma):
    return _loss_pos(1.0 - p, gamma)


def best_constant_prediction(prevalence, alpha=None, gamma=2.0, pos_weight=None,
                             sampler_fraction=None) -> np.ndarray:
    """p*: the constant prediction minimising the expected loss on the class mix the loss sees.

    Found by bisection on the logit (the expected gradient goes from negative to positive
    exactly once): with BCE, p* is the prevalence; pos_weight = n_neg/n_pos gives 0.5.
    """
    pi = _prevalence(prevalence)
    g = _gamma(gamma)
    w_pos, w_neg = class_weights(alpha, pos_weight)
    pb = _batch_prevalence(pi, _sampler_fraction(sampler_fraction))
    a = pb * w_pos      # weight of the positive gradient
    b = (1.0 - pb) * w_neg
    a, b, g = np.broadcast_arrays(a, b, g)
    lo = np.full(a.shape, -40.0)
    hi = np.full(a.shape, 40.0)
    for _ in range(100):  # halves a 80-wide interval to below 1e-28
        mid = 0.5 * (lo + hi)
        p = 1.0 / (1.0 + np.exp(-mid))
        slope = b * _grad_neg(p, g) - a * _grad_pos(p, g)
        rising = slope > 0
        hi = np.where(rising, mid, hi)
        lo = np.where(rising, lo, mid)
    z = 0.5 * (lo + hi)
    return 1.0 / (1.0 + np.exp(-z))


def equivalent_pos_weight(prevalence, alpha=None, gamma=2.0, pos_weight=None,
                          sampler_fraction=None) -> np.ndarray:
    """The BCE pos_weight whose best constant prediction equals this setup's p*.

    BCE with pos_weight w on prevalence pi has p* = pi*w / (pi*w + 1 - pi), so
    ``w = p* (1 - pi) / (pi (1 - p*))``. Sampler included, relative to the true prior.
    """
    pi = _prevalence(prevalence)
    p = best_constant_prediction(pi, alpha, gamma, pos_weight, sampler_fraction)
    return p * (1.0 - pi) / (pi * (1.0 - p))


def positive_gradient_share(p, prevalence, alpha=None, gamma=2.0, pos_weight=None,
                            sampler_fraction=None) -> np.ndarray:
    """Positives' share of the summed |dL/dz| when every example is predicted ``p``.

    The class mix is the one the loss sees (the sampler's fraction when there is one).
    At p = 0.5 (a fresh model) plain BCE gives the prevalence; at p = prior, focal loss
    gives positives nearly all of it: the prior is no resting point.
    """
    p = np.asarray(p, dtype=float)
    if np.any(~np.isfinite(p) | (p <= 0) | (p >= 1)):
        raise invalid("p", _WHERE, "a predicted probability in (0, 1)", _show(p))
    pi = _prevalence(prevalence)
    g = _gamma(gamma)
    w_pos, w_neg = class_weights(alpha, pos_weight)
    pb = _batch_prevalence(pi, _sampler_fraction(sampler_fraction))
    pos = pb * w_pos * _grad_pos(p, g)
    neg = (1.0 - pb) * w_neg * _grad_neg(p, g)
    total = pos + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, pos / np.where(total > 0, total, 1.0), np.nan)


def loss_curves(p, alpha=None, gamma=2.0, pos_weight=None) -> dict[str, np.ndarray]:
    """Per-example weighted loss and |dL/dz| against p, one curve per class, for plotting.

    Keys: ``p``, ``loss_pos``, ``loss_neg``, ``grad_pos``, ``grad_neg``. A positive
    predicted p has p_t = p; a negative has p_t = 1 - p.
    """
    p = np.asarray(p, dtype=float)
    if np.any(~np.isfinite(p) | (p <= 0) | (p >= 1)):
        raise invalid("p", _WHERE, "predicted probabilities in (0, 1)", "values outside")
    g = _gamma(gamma)
    if g.ndim:
        raise invalid("gamma", "loss_curves", "a single float >= 0", _show(g))
    w_pos, w_neg = class_weights(alpha, pos_weight)
    if np.ndim(w_pos):
        raise invalid("alpha/pos_weight", "loss_curves", "single values", "arrays")
    return {
        "p": p,
        "loss_pos": w_pos * _loss_pos(p, g),
        "loss_neg": w_neg * _loss_neg(p, g),
        "grad_pos": w_pos * _grad_pos(p, g),
        "grad_neg": w_neg * _grad_neg(p, g),
    }


@dataclass(frozen=True)
class WeightingReport:
    """All figures for one setting (floats) or a grid of them (arrays)."""

    prevalence: np.ndarray
    alpha: float | None
    gamma: np.ndarray
    pos_weight: np.ndarray
    sampler_fraction: float | None
    ratio: np.ndarray
    sampler_odds: np.ndarray
    effective_ratio: np.ndarray
    q_star: np.ndarray
    p_star: np.ndarray
    equivalent_pos_weight: np.ndarray
    pos_grad_share_at_init: np.ndarray
    pos_grad_share_at_prior: np.ndarray

    def as_dict(self) -> dict:
        """Plain Python values (floats or nested lists), ready for JSON."""
        out = {}
        for key, value in asdict(self).items():
            if isinstance(value, np.ndarray):
                value = value.item() if value.ndim == 0 else value.tolist()
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
        return out


def analyze(prevalence, alpha=None, gamma=2.0, pos_weight=None, sampler_fraction=None) -> WeightingReport:
    """Compute every figure of the engine for one setting or a broadcast grid of settings."""
    pi = _prevalence(prevalence)
    a = _alpha(alpha)
    g = _gamma(gamma)
    w = _pos_weight(pos_weight)
    f = _sampler_fraction(sampler_fraction)
    return WeightingReport(
        prevalence=pi,
        alpha=a if a is None or a.ndim else float(a),
        gamma=g,
        pos_weight=w,
        sampler_fraction=f if f is None or f.ndim else float(f),
        ratio=constant_weight_ratio(a, w),
        sampler_odds=sampler_odds(pi, f),
        effective_ratio=effective_ratio(pi, a, w, f),
        q_star=q_star(pi, a, w, f),
        p_star=best_constant_prediction(pi, a, g, w, f),
        equivalent_pos_weight=equivalent_pos_weight(pi, a, g, w, f),
        pos_grad_share_at_init=positive_gradient_share(0.5, pi, a, g, w, f),
        pos_grad_share_at_prior=positive_gradient_share(pi, pi, a, g, w, f),
    )
