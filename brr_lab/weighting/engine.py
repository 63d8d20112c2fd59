"""What alpha, gamma, pos_weight and a sampler do together: the effective-weight engine.

Everything here is NumPy and vectorised: pass arrays of settings (they broadcast
against each other) and get arrays back. The formulas, for prevalence ``pi``:

* per-example class weights: a positive weighs ``w_pos = alpha * pos_weight``, a
  negative ``w_neg = 1 - alpha`` (``alpha=None`` means 1 and 1);
* constant-weight ratio ``w_pos / w_neg`` (the postmortem's 12*0.25 : 0.75 = 4);
* a sampler that draws positives with fraction ``f`` per batch multiplies the odds of
  a positive by ``s = (f / (1 - f)) / (pi / (1 - pi))`` (12 for 50/50 at 1:12);
* effective ratio ``w_pos * s / w_neg``: the class odds the loss really trains under;
* p(q): the prediction minimising the expected loss of a window whose true posterior
  is q; q*: where p(q) crosses the threshold. At 0.5 the focal factors cancel (p_t = 0.5
  for both classes): ``q* = w_neg / (w_neg + w_pos * s)``, gamma does not move it; at any
  other threshold it does (:func:`q_star_at`);
* p*: the constant prediction that minimises the expected loss on the (sampled) class
  mix, what a model with no features converges to; gamma pulls it toward 0.5;
* the equivalent BCE pos_weight matched at p* (matched at q*, it is the effective ratio);
* positives' share of the total gradient |dL/dz| when every example is predicted p.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict

import numpy as np

from brr_lab._validation import (ALPHA_ALLOWED, GAMMA_ALLOWED, POS_WEIGHT_ALLOWED, PREVALENCE_ALLOWED,
                                 SAMPLER_FRACTION_ALLOWED, invalid)

__all__ = [
    "prevalence_from_counts",
    "class_weights",
    "constant_weight_ratio",
    "sampler_odds",
    "effective_ratio",
    "q_star",
    "optimal_prediction",
    "q_star_at",
    "balancing_alpha",
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
    # Counts: whole numbers >= 0 (1.5 or True is no count).
    n_pos = _checked(n_pos, "n_pos", lambda x: (x < 0) | (x != np.round(x)), "a count (an integer >= 0)")
    n_neg = _checked(n_neg, "n_neg", lambda x: (x < 0) | (x != np.round(x)), "a count (an integer >= 0)")
    total = n_pos + n_neg
    if np.any(total == 0):
        raise invalid("n_pos + n_neg", _WHERE, "> 0", total.tolist())
    return n_pos / total


def _checked(value, name: str, bad, allowed: str) -> np.ndarray:
    """``value`` as a float array; ``invalid`` (one template, the vocabulary's wording of what is
    allowed) where it is not finite or ``bad``. Arrays, so not the scalar checkers."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":  # True, "0.25": refused here as the loss and policy refuse them
        raise invalid(name, _WHERE, allowed, value)
    a = raw.astype(float)
    if np.any(~np.isfinite(a) | bad(a)):
        raise invalid(name, _WHERE, allowed, _show(a))
    return a


def _prevalence(prevalence) -> np.ndarray:
    return _checked(prevalence, "prevalence", lambda x: (x <= 0) | (x >= 1), PREVALENCE_ALLOWED)


def _alpha(alpha):
    if alpha is None:
        return None
    return _checked(alpha, "alpha", lambda x: (x < 0) | (x > 1), ALPHA_ALLOWED)


def _gamma(gamma) -> np.ndarray:
    return _checked(gamma, "gamma", lambda x: x < 0, GAMMA_ALLOWED)


def _pos_weight(pos_weight) -> np.ndarray:
    if pos_weight is None:
        return np.asarray(1.0)
    return _checked(pos_weight, "pos_weight", lambda x: x <= 0, POS_WEIGHT_ALLOWED)


def _sampler_fraction(fraction):
    if fraction is None:
        return None
    return _checked(fraction, "sampler_fraction", lambda x: (x <= 0) | (x >= 1),
                    SAMPLER_FRACTION_ALLOWED)


def _open_probability(x, name: str) -> np.ndarray:
    return _checked(x, name, lambda v: (v <= 0) | (v >= 1), "a probability in (0, 1)")


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
    return _minimiser(pb * w_pos, (1.0 - pb) * w_neg, g)


def _minimiser(a, b, g) -> np.ndarray:
    """argmin over p of ``a * loss_pos(p) + b * loss_neg(p)``, by bisection on the logit."""
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
    # A class with no weight pulls p to its bound exactly (alpha 0 or 1), not to sigmoid(+-40).
    return np.where(a == 0, 0.0, np.where(b == 0, 1.0, 1.0 / (1.0 + np.exp(-z))))


def optimal_prediction(posterior, prevalence, alpha=None, gamma=2.0, pos_weight=None,
                       sampler_fraction=None) -> np.ndarray:
    """p(q): the p minimising ``q s w_pos loss_pos(p) + (1 - q) w_neg loss_neg(p)``.

    The prediction a loss optimum makes for a window whose true posterior is q (``s``: the
    sampler's odds factor). At q = prevalence it is p*; plain BCE gives p(q) = q.
    """
    q = _checked(posterior, "posterior", lambda v: (v < 0) | (v > 1), "a probability in [0, 1]")
    g = _gamma(gamma)
    w_pos, w_neg = class_weights(alpha, pos_weight)
    s = sampler_odds(prevalence, sampler_fraction)
    return _minimiser(q * s * w_pos, (1.0 - q) * w_neg, g)


def q_star_at(threshold, prevalence, alpha=None, gamma=2.0, pos_weight=None,
              sampler_fraction=None) -> np.ndarray:
    """q*(t): the true posterior above which p(q) reaches ``threshold`` (:func:`q_star` at 0.5).

    At p(q) = t the expected gradient is 0: odds(q*) = w_neg g-(t) / (s w_pos g+(t)), g = |dL/dz|.
    """
    t = _open_probability(threshold, "threshold")
    g = _gamma(gamma)
    w_pos, w_neg = class_weights(alpha, pos_weight)
    s = sampler_odds(prevalence, sampler_fraction)
    with np.errstate(divide="ignore", invalid="ignore"):  # alpha 0: odds inf, q* = 1 exactly
        odds = w_neg * _grad_neg(t, g) / (s * w_pos * _grad_pos(t, g))
        return np.where(np.isinf(odds), 1.0, odds / (1.0 + odds))


def balancing_alpha(prevalence, gamma=2.0, pos_weight=None) -> np.ndarray:
    """The alpha giving positives half of |dL/dz| when every window is predicted the prior.

    0.5 without focusing, lower as gamma grows: "lower alpha for higher gamma" in one number.
    """
    pi = _prevalence(prevalence)
    g = _gamma(gamma)
    pos = pi * _pos_weight(pos_weight) * _grad_pos(pi, g)
    neg = (1.0 - pi) * _grad_neg(pi, g)
    return neg / (pos + neg)


def equivalent_pos_weight(prevalence, alpha=None, gamma=2.0, pos_weight=None,
                          sampler_fraction=None) -> np.ndarray:
    """The BCE pos_weight whose best constant prediction equals this setup's p*.

    BCE with pos_weight w on prevalence pi has p* = pi*w / (pi*w + 1 - pi), so
    ``w = p* (1 - pi) / (pi (1 - p*))``. Sampler included, relative to the true prior.
    One of two matches: the BCE pos_weight with the same q* (at 0.5) is :func:`effective_ratio`.
    """
    pi = _prevalence(prevalence)
    p = best_constant_prediction(pi, alpha, gamma, pos_weight, sampler_fraction)
    with np.errstate(divide="ignore"):  # p* = 1 (alpha 1): no finite pos_weight matches it
        return p * (1.0 - pi) / (pi * (1.0 - p))


def positive_gradient_share(p, prevalence, alpha=None, gamma=2.0, pos_weight=None,
                            sampler_fraction=None) -> np.ndarray:
    """Positives' share of the summed |dL/dz| when every example is predicted ``p``.

    The class mix is the one the loss sees (the sampler's fraction when there is one).
    At p = 0.5 (a fresh model) plain BCE gives the prevalence; at p = prior only unweighted
    BCE balances (50%): any class weight or focusing gives positives most of it.
    """
    p = _open_probability(p, "p")
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
    p = _open_probability(p, "p")
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
        return {key: _plain(value) for key, value in asdict(self).items()}


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    return value.item() if isinstance(value, np.generic) else value


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
