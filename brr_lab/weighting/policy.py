"""One mechanism for class weighting: say which are active, refuse a stacked setup.

A class-weighting mechanism is anything that changes the odds of a positive as the
loss sees them: focal ``alpha`` (odds factor alpha / (1 - alpha)), ``pos_weight``
(factor pos_weight), and a sampler that over-draws positives (factor
``(f/(1-f)) / (pi/(1-pi))``). Two or more active mechanisms multiply: the
postmortem's fix (pos_weight 12 with a 50/50 sampler) trains under 144:1.

Nothing is dropped or changed here: the caller gets a report of exactly what was
configured, or a :class:`StackedWeightingError` that shows the effective ratio and
how to opt in (``allow_stacked=True``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from brr_lab import weighting
from brr_lab._validation import (
    PREVALENCE_ALLOWED, BrrLabError, check_alpha, check_fraction, check_gamma, check_pos_weight,
    check_sampler_fraction,
)

# A factor within this relative distance of 1 changes no odds: alpha=0.5, pos_weight=1,
# or a sampler drawing the natural prevalence. Documented, never an exact float test.
NEUTRAL_TOLERANCE = 1e-6

# Warn of over-correction once the effective ratio exceeds the data's imbalance by this factor.
OVER_CORRECTION_FACTOR = 1.5

_WHERE = "resolve_weighting"


class StackedWeightingError(BrrLabError):
    """Two or more class-weighting mechanisms are active and the caller did not opt in."""


@dataclass(frozen=True)
class Mechanism:
    name: str           # "alpha", "pos_weight" or "sampler"
    setting: str        # what was configured, e.g. "pos_weight=12"
    odds_factor: float  # how much it multiplies the odds of a positive
    active: bool

    def describe(self) -> str:
        if not self.active:
            return f"{self.setting} (neutral: odds x1)"
        direction = "up-weights" if self.odds_factor > 1 else "DOWN-weights"
        return f"{self.setting} {direction} positives (odds x{self.odds_factor:.3g})"


@dataclass(frozen=True)
class WeightingSetup:
    """What a configuration really trains under. Built by :func:`resolve_weighting`."""

    alpha: float | None
    gamma: float
    pos_weight: float | None
    sampler_fraction: float | None
    prevalence: float | None
    mechanisms: tuple[Mechanism, ...]
    ratio: float
    effective_ratio: float
    q_star: float
    allow_stacked: bool = False
    advice: tuple[tuple[str, str], ...] = field(default=())  # (kind, text); kinds: WARNING_KINDS

    @property
    def warnings(self) -> tuple[str, ...]:
        """The texts of :attr:`advice`: the one wording of each warning (the audit reuses it)."""
        return tuple(text for _, text in self.advice)

    def warning(self, kind: str) -> str | None:
        """The text of the warning of ``kind`` (one of :data:`WARNING_KINDS`), or None."""
        return dict(self.advice).get(kind)

    @property
    def active(self) -> tuple[Mechanism, ...]:
        return tuple(m for m in self.mechanisms if m.active)

    @property
    def active_names(self) -> list[str]:
        return [m.name for m in self.active]

    @property
    def stacked(self) -> bool:
        return len(self.active) > 1

    def summary(self) -> str:
        """A few lines stating the whole weighting setup, for logs and notebooks."""
        lines = [
            f"class weighting: {', '.join(self.active_names) or 'none'} active"
            + (" (STACKED, opted in)" if self.stacked else ""),
        ]
        lines += [f"  - {m.describe()}" for m in self.mechanisms]
        lines.append(f"  gamma={self.gamma:g} (focusing; not a class weight: q* at threshold 0.5 "
                     "does not depend on it, q* at other thresholds does)")
        lines.append(f"  effective ratio (positive:negative odds) = {self.effective_ratio:.4g}:1; "
                     f"q* = {self.q_star:.3g} (predict positive at 0.5 once P(seizure) > q*)")
        if self.prevalence is not None:
            lines.append(f"  dataset prevalence = {self.prevalence:.4f}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


WARNING_KINDS = ("alpha-down-weights", "partial-correction", "over-correction", "stacked")


def _warnings(alpha: float | None, prevalence: float | None, mechanisms: list,
              eff: float, qs: float) -> list[tuple[str, str]]:
    """A down-weighting alpha; a correction far short of, or far past, the imbalance; stacking."""
    warnings = []
    if alpha is not None and alpha < 0.5 - NEUTRAL_TOLERANCE:
        warnings.append(("alpha-down-weights", f"alpha={alpha:g} < 0.5 down-weights each positive "
                         f"(a positive weighs {alpha / (1 - alpha):.3g}x a negative)"))
    if prevalence is not None:
        imbalance = (1 - prevalence) / prevalence
        corrected = any(m.active for m in mechanisms)
        if corrected and eff == 0:  # the extreme of under-correction, not an exception to it
            warnings.append(("partial-correction", "partial correction: the effective 0:1 gives "
                             f"positives no weight at all against the data's {imbalance:.3g}:1 "
                             "imbalance (q* = 1: nothing is ever called positive)"))
        elif corrected and eff < imbalance / OVER_CORRECTION_FACTOR:
            warnings.append(("partial-correction", f"partial correction: the effective {eff:.3g}:1 "
                             f"is {imbalance / eff:.3g}x less than the data's {imbalance:.3g}:1 "
                             f"imbalance (q* = {qs:.3g})"))
        if eff > OVER_CORRECTION_FACTOR * imbalance:
            warnings.append(("over-correction", f"over-correction: the effective {eff:.3g}:1 "
                             f"exceeds the data's {imbalance:.3g}:1 imbalance by more than "
                             f"{OVER_CORRECTION_FACTOR:g}x; q* = {qs:.3g}, so windows far less "
                             "likely than even to be seizures are called positive at 0.5"))
    active = [m for m in mechanisms if m.active]
    if len(active) > 1:  # reached only with allow_stacked=True: reported, not refused
        warnings.append(("stacked", f"stacked class weighting: {' and '.join(m.setting for m in active)}"
                         f" multiply their odds factors to an effective {eff:.4g}:1 (q* = {qs:.3g}: "
                         "a window is called a seizure at 0.5 once P(seizure) > q*); use one "
                         "mechanism"))
    return warnings


def resolve_weighting(*, alpha: float | None = None, gamma: float = 2.0,
                      pos_weight: float | None = None, sampler_fraction: float | None = None,
                      prevalence: float | None = None, allow_stacked: bool = False) -> WeightingSetup:
    """Report the active class-weighting mechanisms; refuse stacked ones unless opted in.

    Args:
        alpha: focal alpha (weight of positives) in [0, 1], or None.
        gamma: focal gamma >= 0 (reported, never counted as a class weight).
        pos_weight: BCE-style positive weight > 0, or None.
        sampler_fraction: target positive fraction per batch in (0, 1), or None.
        prevalence: dataset prevalence in (0, 1); required when a sampler is set.
        allow_stacked: accept two or more active mechanisms (they are still reported).

    Raises:
        ValueError: a setting is out of range.
        StackedWeightingError: more than one mechanism is active and ``allow_stacked``
            is False. The message shows the effective ratio and q*.
    """
    alpha, gamma = check_alpha(alpha, _WHERE), check_gamma(gamma, _WHERE)
    pos_weight = check_pos_weight(pos_weight, _WHERE)
    sampler_fraction = check_sampler_fraction(sampler_fraction, _WHERE)
    if prevalence is not None:
        prevalence = check_fraction(prevalence, "prevalence", _WHERE, allowed=PREVALENCE_ALLOWED)
    elif sampler_fraction is not None:
        raise ValueError(f"The 'prevalence' parameter of {_WHERE} is required when a sampler is set "
                         f"(sampler_fraction={sampler_fraction}): the sampler's effect is its "
                         "fraction against the data's prevalence. Got None instead.")

    mechanisms = []
    if alpha is not None:
        factor = math.inf if alpha == 1 else alpha / (1 - alpha)
        mechanisms.append(Mechanism("alpha", f"alpha={alpha:g}", factor, _active(factor)))
    if pos_weight is not None:
        mechanisms.append(Mechanism("pos_weight", f"pos_weight={pos_weight:g}", pos_weight,
                                    _active(pos_weight)))
    if sampler_fraction is not None:
        factor = float(weighting.sampler_odds(prevalence, sampler_fraction))
        mechanisms.append(Mechanism("sampler", f"sampler(positive fraction={sampler_fraction:g})",
                                    factor, _active(factor)))

    pi_for_engine = prevalence if prevalence is not None else 0.5  # only the sampler needs it
    ratio = float(weighting.constant_weight_ratio(alpha, pos_weight))
    eff = float(weighting.effective_ratio(pi_for_engine, alpha, pos_weight, sampler_fraction))
    qs = float(weighting.q_star(pi_for_engine, alpha, pos_weight, sampler_fraction))

    advice = _warnings(alpha, prevalence, mechanisms, eff, qs)
    setup = WeightingSetup(alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                           sampler_fraction=sampler_fraction, prevalence=prevalence,
                           mechanisms=tuple(mechanisms), ratio=ratio, effective_ratio=eff,
                           q_star=qs, allow_stacked=allow_stacked, advice=tuple(advice))
    if setup.stacked and not allow_stacked:
        parts = " x ".join(f"{m.setting} (x{m.odds_factor:.3g})" for m in setup.active)
        raise StackedWeightingError(
            f"Stacked class weighting: {parts} gives an effective positive:negative ratio of "
            f"{eff:.4g}:1 and q* = {qs:.3g}. Use one mechanism (drop all but one), or pass "
            "allow_stacked=True to train this setup on purpose.")
    return setup


def _active(factor: float) -> bool:
    return not math.isclose(factor, 1.0, rel_tol=NEUTRAL_TOLERANCE, abs_tol=0.0)
