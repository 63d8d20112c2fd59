"""Grades that arithmetic (:mod:`brr_lab.weighting`, :mod:`brr_lab.weighting.policy`) or RetinaNet's cited
figures decide. Each takes the setting it checks as arguments (the postmortem's by default), so
a test can feed another setting and see the grade change; a measured effect, when passed, is
shown beside the arithmetic, never used to decide it.
"""
from __future__ import annotations

import math

from brr_lab import weighting
from brr_lab.weighting.policy import resolve_weighting
from brr_lab.postmortem.claims import (INCOMPLETE, RETINANET, RETINANET_ALPHA_HALF_GAP_AT_GAMMA_2,
                                       RETINANET_TABLE_1A, RETINANET_TABLE_1B, RIGHT, WRONG, Grade)
from brr_lab.postmortem.claims import CLAIMS as _CLAIMS

__all__ = ["PREVALENCE", "POS_WEIGHT", "ALPHA_BUG", "ALPHA_FIX", "GAMMA", "postmortem_switch",
           "grade_alpha_down_weights", "grade_alpha_backwards", "grade_ratio_is_4", "grade_double_counting",
           "grade_neutral_alpha_switch", "grade_sampling_everywhere"]

# The postmortem's setting: about 12 background windows per seizure window (TUSZ).
PREVALENCE = 1 / 13
POS_WEIGHT = 12.0
ALPHA_BUG, ALPHA_FIX, GAMMA = 0.25, 0.5, 2.0
CLAIM = {c.id: c for c in _CLAIMS}


def postmortem_switch(alpha: float, pos_weight: float | None) -> float | None:
    """The postmortem's switch, verbatim: ``if abs(focal_alpha - 0.5) > 1e-6: pos_weight = None``."""
    return None if abs(alpha - 0.5) > 1e-6 else pos_weight


def grade_alpha_down_weights(alpha: float = ALPHA_BUG) -> Grade:
    ratio = float(weighting.constant_weight_ratio(alpha))
    grade = RIGHT if ratio < 1 else WRONG
    return Grade(CLAIM["alpha-down-weights"], grade,
                 f"checked by arithmetic: with alpha {alpha:g} alone one positive weighs "
                 f"{alpha:g} : {1 - alpha:g} = {ratio:.2f} of a negative",
                 "In the focal loss (RetinaNet, Eq. 5) alpha multiplies the positive term and "
                 "1 - alpha the negative one, so only an alpha below 0.5 makes each positive weigh "
                 f"less than each negative: {'true' if grade == RIGHT else 'not true'} for alpha "
                 f"{alpha:g} alone. The postmortem's loss also carried pos_weight 12, which turned "
                 "the net weight of a positive to 4x a negative's (claim ratio-is-4).")


def grade_alpha_backwards(table_1a: dict = RETINANET_TABLE_1A,
                          table_1b: dict = RETINANET_TABLE_1B) -> Grade:
    backwards_at_0 = table_1a[0.25] < table_1a[0.75]
    best_at_2 = table_1b[2.0][0]
    backwards_at_2 = not math.isclose(best_at_2, 0.25)
    grade = (RIGHT if backwards_at_0 and backwards_at_2 else
             WRONG if not (backwards_at_0 or backwards_at_2) else INCOMPLETE)
    live = weighting.balancing_alpha(PREVALENCE, [0.0, 2.0])
    evidence = (f"cited from {RETINANET}: Table 1a (gamma 0): alpha 0.25 gives {table_1a[0.25]:g} AP, "
                f"alpha 0.75 gives {table_1a[0.75]:g} AP; Table 1b (gamma 2): the best alpha is "
                f"{best_at_2:g} ({table_1b[2.0][1]:.1f} AP), and alpha 0.5 is "
                f"{RETINANET_ALPHA_HALF_GAP_AT_GAMMA_2:g} AP lower (Section 5.1). Computed at 12:1: "
                f"the alpha that gives positives half the gradient at the prior is {live[0]:.2f} at "
                f"gamma 0 and {live[1]:.3f} at gamma 2")
    lost = 1 - table_1a[0.25] / table_1a[0.75]
    at_0 = ("Without focusing (gamma 0) alpha 0.25 is backwards: against alpha 0.75, RetinaNet's "
            f"own grid loses {lost:.0%} of its AP there. " if backwards_at_0 else
            "Without focusing (gamma 0) the cited grid does not favour alpha 0.75 over 0.25. ")
    at_2 = ("With gamma 2 (RetinaNet's default and the setting trained here; the postmortem does "
            "not state its gamma) alpha 0.25 is the value RetinaNet found best, because gamma "
            "already silences the many easy negatives ('lower alpha for higher gamma', Section "
            "5.1). " if not backwards_at_2 else
            f"With gamma 2 the cited best alpha is {best_at_2:g}, not 0.25. ")
    reason = (at_0 + at_2 + "The computed balancing alpha falls with gamma as well, but to far "
              "lower values than RetinaNet's: only the direction agrees.")
    return Grade(CLAIM["alpha-backwards"], grade, evidence, reason)


def grade_ratio_is_4(alpha: float = ALPHA_BUG, pos_weight: float = POS_WEIGHT,
                     prevalence: float = PREVALENCE, measured=None) -> Grade:
    """``measured``: the postmortem-bug runs (:class:`~brr_lab.postmortem.measured.Measured`)."""
    ratio = float(weighting.constant_weight_ratio(alpha, pos_weight))
    q = float(weighting.q_star(prevalence, alpha, pos_weight))
    p = float(weighting.best_constant_prediction(prevalence, alpha, GAMMA, pos_weight))
    eq_p = float(weighting.equivalent_pos_weight(prevalence, alpha, GAMMA, pos_weight))
    grade = RIGHT if math.isclose(ratio, 4.0, rel_tol=1e-9) else WRONG
    evidence = (f"checked by arithmetic: {pos_weight:g}*{alpha:g} : {1 - alpha:g} = {ratio:.2f}; "
                f"at threshold 0.5 windows are called positive from a true seizure probability of "
                f"q* = {q:.2f}, as BCE with pos_weight {(1 - q) / q:.2f} does; at the best constant "
                f"prediction (p* = {p:.2f} with gamma {GAMMA:g}) it matches BCE with pos_weight "
                f"{eq_p:.2f}")
    if measured is not None:
        evidence += (f". Measured beside it, the postmortem's setting trained on "
                     f"{measured.size_text()}: {measured.auroc_text()}, {measured.rate_text()}")
    reason = (f"Alpha and pos_weight multiply, so the positive:negative weight ratio is "
              f"{ratio:.2f}: the postmortem's 4 is {'right' if grade == RIGHT else 'wrong'}. "
              "'Equivalent pos_weight' has no single value once gamma is on: "
              f"matched where windows are called (the threshold) it is {(1 - q) / q:.3g}, matched at "
              f"the constant optimum it is {eq_p:.3g}.")
    return Grade(CLAIM["ratio-is-4"], grade, evidence, reason)


def grade_double_counting(alpha: float = ALPHA_BUG, pos_weight: float = POS_WEIGHT,
                          prevalence: float = PREVALENCE, measured=None) -> Grade:
    """``measured``: the fix-plus-sampler runs, shown beside the 144:1 arithmetic."""
    alpha_factor = float(weighting.constant_weight_ratio(alpha))
    same_direction = (alpha_factor - 1) * (pos_weight - 1) > 0
    grade = RIGHT if same_direction else WRONG
    stacked = float(weighting.effective_ratio(prevalence, ALPHA_FIX, pos_weight, 0.5))
    q = float(weighting.q_star(prevalence, ALPHA_FIX, pos_weight, 0.5))
    evidence = (f"checked by arithmetic: alpha {alpha:g} multiplies a positive's odds by "
                f"{alpha_factor:.2f}, pos_weight {pos_weight:g} by {pos_weight:g}: "
                f"{'the same' if same_direction else 'opposite'} directions, net "
                f"{alpha_factor * pos_weight:.2f}. The fix's pos_weight {pos_weight:g} x a 50/50 "
                f"sampler's odds {1 / prevalence - 1:.0f} = {stacked:.0f}:1 (q* = {q:.3f})")
    if measured is not None:
        evidence += (f"; measured on {measured.size_text()}, {measured.trained_ratio_text()}: "
                     f"{measured.rate_text()}")
    reason = (("Two class weights were on, but they pulled in opposite directions: "
               f"alpha {alpha:g} multiplied positives by {alpha_factor:.2f}, pos_weight by "
               f"{pos_weight:g}, and the net {alpha_factor * pos_weight:.2f}:1 under-corrects "
               "rather than double counts. " if not same_direction else
               "Both weights raise positives: that is a double count. ")
              + "The real double count of the postmortem is the fix's: "
              "pos_weight kept next to a balanced sampler, two corrections in the same "
              f"direction that multiply to {stacked:.0f}:1.")
    return Grade(CLAIM["double-counting"], grade, evidence, reason)


def grade_neutral_alpha_switch(pos_weight: float = POS_WEIGHT, rule=postmortem_switch) -> Grade:
    """``rule(alpha, pos_weight) -> pos_weight kept or None``: the postmortem's switch by default."""
    def ratio(a):
        return float(weighting.constant_weight_ratio(a, rule(a, pos_weight)))

    single = all(rule(a, pos_weight) is None for a in (0.25, 0.51))
    loses = ratio(0.51) < ratio(0.5) / 2
    grade = INCOMPLETE if single and loses else RIGHT if single else WRONG
    scale = float(weighting.class_weights(ALPHA_FIX)[0])
    evidence = (f"checked by arithmetic, replaying the switch: alpha 0.5 keeps pos_weight "
                f"(ratio {ratio(0.5):.2f}), alpha 0.51 drops it without a word (ratio "
                f"{ratio(0.51):.2f}), the original alpha 0.25 is left with alpha alone (ratio "
                f"{ratio(0.25):.2f}); alpha 0.5 multiplies every term by {scale:g}")
    reason = (("The switch does keep alpha and pos_weight from stacking, but it tests a float "
               "for equality and silently discards a user's pos_weight: alpha 0.51 falls from "
               f"{ratio(0.5):.3g}:1 to {ratio(0.51):.3g}:1, and the original alpha 0.25 ends up "
               f"at {ratio(0.25):.2f}:1, more under-corrected than the 4:1 it replaced. "
               if single else "The switch leaves alpha and pos_weight stacked. ")
              + "Halving every term changes nothing under Adam, which "
              "divides the scale out, but does under SGD or a fixed gradient-clipping threshold. "
              "And it leaves the sampler out of the count (claim sampling-everywhere).")
    return Grade(CLAIM["neutral-alpha-switch"], grade, evidence, reason)


def grade_sampling_everywhere(alpha: float = ALPHA_FIX, pos_weight: float | None = POS_WEIGHT,
                              prevalence: float = PREVALENCE, sampler_fraction: float = 0.5,
                              measured=None, without_sampler=None) -> Grade:
    """``measured``/``without_sampler``: fix-plus-sampler and postmortem-fix runs, shown beside."""
    setup = resolve_weighting(alpha=alpha, gamma=GAMMA, pos_weight=pos_weight,
                              sampler_fraction=sampler_fraction, prevalence=prevalence,
                              allow_stacked=True)
    grade = WRONG if setup.stacked else RIGHT
    evidence = (f"checked by arithmetic: active mechanisms {', '.join(setup.active_names)}; "
                f"effective ratio {setup.effective_ratio:.0f}:1 against a {1 / prevalence - 1:.0f}:1 "
                f"imbalance, q* = {setup.q_star:.3f}")
    if measured is not None:
        evidence += (f". Measured on {measured.size_text()}: with the sampler "
                     f"({measured.trained_ratio_text()}) {measured.rate_text()}")
    if without_sampler is not None:
        evidence += f"; without it {without_sampler.rate_text()}"
    reason = (("With pos_weight kept, the sampler multiplies the odds of a positive a second "
               "time: the stacked correction calls a window a seizure once its true seizure "
               f"probability passes {100 * setup.q_star:.1f}%, so nearly every window is called "
               "positive at 0.5. " if setup.stacked else "One mechanism is active: no stacking. ")
              + "One mechanism (the sampler alone, or pos_weight alone) corrects "
              "the imbalance once.")
    return Grade(CLAIM["sampling-everywhere"], grade, evidence, reason)
