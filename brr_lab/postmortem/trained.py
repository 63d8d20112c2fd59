"""Grades that trained runs decide: each reads :class:`~brr_lab.postmortem.measured.Measured`
rows (the runs of :func:`brr_lab.experiments.repro.run_repro`) and decides on every seed's 95% interval,
so other measurements give another grade (the tests feed fabricated rows to show it).

The runs are one small CNN on one generated EEG cohort at one training budget: a claim that
does not show here is "not reproduced", never "wrong everywhere".
"""
from __future__ import annotations

from brr_lab import weighting
from brr_lab.postmortem.arithmetic import CLAIM, POS_WEIGHT, PREVALENCE
from brr_lab.postmortem.claims import (INCOMPLETE, NON_DIAGNOSTIC, NOT_REPRODUCED, RIGHT, WRONG,
                                       Grade)
from brr_lab.postmortem.measured import Measured, is_nan
from brr_lab.experiments.scenarios import ESCAPE_AUROC

__all__ = ["COLLAPSE_RATE", "EXPOSURE_RISK", "grade_ratio_should_be_12", "grade_bug_caused_collapse",
           "grade_auroc_half", "grade_batch_exposure", "grade_fix_auroc", "grade_assert_auroc",
           "grade_one_mechanism", "batch_exposure"]

# "All predictions 0": fewer than 1% of validation windows called positive.
COLLAPSE_RATE = 0.01
# A batch without a seizure counts as a real risk above this probability.
EXPOSURE_RISK = 0.05


def _ranks(r) -> bool:
    """The whole 95% AUROC interval above the postmortem's own line, 0.7."""
    return not is_nan(r["auroc_ci"][0]) and r["auroc_ci"][0] > ESCAPE_AUROC


def _stalls(r) -> bool:
    """The whole 95% AUROC interval below 0.7 (or AUROC undefined)."""
    return is_nan(r["auroc_ci"][1]) or r["auroc_ci"][1] < ESCAPE_AUROC


def _covers_half(r) -> bool:
    lo, hi = r["auroc_ci"]
    return is_nan(lo) or is_nan(hi) or lo <= 0.5 <= hi


def _by_grade(k: int, n: int, all_: str, none: str) -> str:
    return all_ if k == n else none if k == 0 else INCOMPLETE


def grade_ratio_should_be_12(bug: Measured, fix: Measured) -> Grade:
    """Same seeds, ratio 4 (postmortem-bug) against ratio 12 (postmortem-fix)."""
    fix_by_seed = {r["seed"]: r for r in fix.rows}
    pairs = [(b, fix_by_seed[b["seed"]]) for b in bug.rows if b["seed"] in fix_by_seed]
    better = sum(not is_nan(f["auroc_ci"][0]) and f["auroc_ci"][0] > b["auroc_ci"][1] for b, f in pairs)
    worse = sum(not is_nan(b["auroc_ci"][0]) and b["auroc_ci"][0] > f["auroc_ci"][1] for b, f in pairs)
    grade = (RIGHT if pairs and better == len(pairs) else
             WRONG if pairs and worse == len(pairs) else INCOMPLETE)
    q12 = float(weighting.q_star(PREVALENCE, 0.5, POS_WEIGHT))
    q4 = float(weighting.q_star(PREVALENCE, 0.25, POS_WEIGHT))
    evidence = (f"arithmetic: ratio {POS_WEIGHT:g} puts q* at {q12:.3f}, the prevalence "
                f"{PREVALENCE:.3f}. Trained on {bug.size_text()}: ratio 4 {bug.auroc_text()}, "
                f"{bug.rate_text()}; ratio 12 {fix.auroc_text()}, {fix.rate_text()}; ratio 12 "
                f"ranks clearly better (intervals apart) in {better} of {len(pairs)} seeds")
    reason = ("The weight ratio is a cost choice, not a truth: 12:1 calls a window a seizure as "
              "soon as its seizure probability exceeds the base rate, 4:1 once it exceeds "
              f"{100 * q4:.0f}%, and a threshold moved after training reaches any of these "
              "operating points. The measured question is whether 4 instead of 12 held learning "
              "back: " + ("here ratio 12 ranked clearly better in every seed." if grade == RIGHT else
                          "here ratio 4 ranked clearly better in every seed." if grade == WRONG else
                          f"here ratio 12 ranked clearly better in {better} of {len(pairs)} seeds "
                          "only, so 4 did not consistently hold learning back."))
    return Grade(CLAIM["ratio-should-be-12"], grade, evidence, reason, bug.size())


def grade_bug_caused_collapse(bug: Measured, fix: Measured) -> Grade:
    n = bug.n_seeds
    learned, stalled = bug.count(lambda r: _ranks(r) and r["pred_pos_rate"] > 0), bug.count(_stalls)
    fix_learned = fix.count(_ranks)
    if learned == n:
        grade = NOT_REPRODUCED
    elif stalled == n:
        grade = RIGHT if fix_learned == fix.n_seeds else NON_DIAGNOSTIC
    else:
        grade = INCOMPLETE
    evidence = (f"postmortem's setting (focal alpha 0.25, gamma 2, pos_weight n_neg/n_pos) on "
                f"{bug.size_text()}: {bug.auroc_text()}, {bug.rate_text()}; learned (interval "
                f"above {ESCAPE_AUROC:g}, some windows called positive) in {learned}/{n} seeds, "
                f"stalled (interval below {ESCAPE_AUROC:g}) in {stalled}/{n}; the fix learned in "
                f"{fix_learned}/{fix.n_seeds}")
    reason = {NOT_REPRODUCED: "The setting the postmortem blamed learned to rank seizures in every "
              "seed and called some windows positive: the collapse is not reproduced here. This "
              "is one model on one generated task at one budget; whether a 3x under-correction "
              "stalls a harder task or another model was not measured here.",
              RIGHT: "The blamed setting stalled in every seed while the fix learned in every "
              "seed: on this task the under-correction is enough to stop learning.",
              NON_DIAGNOSTIC: "The blamed setting stalled, but so did the fix: these runs "
              "cannot say that the weighting is what stopped it.",
              INCOMPLETE: "The blamed setting stalled in some seeds and learned in others: the "
              "under-correction slows learning, but does not by itself decide it."}[grade]
    return Grade(CLAIM["bug-caused-collapse"], grade, evidence, reason, bug.size())


def grade_auroc_half(zero_labels: Measured, under_weighted: list[Measured]) -> Grade:
    """Where does "AUROC 0.5, all predictions 0" come from: all-zero labels, or a weak class weight?"""
    n_zero = zero_labels.n_seeds
    labels = zero_labels.count(lambda r: (is_nan(r["auroc"]) or abs(r["auroc"] - 0.5) < 1e-9)
                               and r["pred_pos_rate"] == 0)
    collapsed = [r for m in under_weighted for r in m.rows if r["pred_pos_rate"] < COLLAPSE_RATE]
    at_half = sum(_covers_half(r) for r in collapsed)
    n_runs = sum(m.n_seeds for m in under_weighted)
    if labels == n_zero:
        grade = WRONG if at_half == 0 else NON_DIAGNOSTIC
    else:
        grade = RIGHT if collapsed and at_half == len(collapsed) else INCOMPLETE
    names = " and ".join(m.scenario for m in under_weighted)
    evidence = (f"all-zero labels on {zero_labels.size_text()}: AUROC undefined or 0.5 with no "
                f"window called positive in {labels}/{n_zero} seeds (a fallback such as "
                f"'except ValueError: auroc = 0.5' reports 0.5). Under-weighted losses ({names}): "
                f"{len(collapsed)}/{n_runs} runs called under {100 * COLLAPSE_RATE:g}% of windows "
                f"positive; of those, {at_half} had a 95% AUROC interval containing 0.5; "
                + "; ".join(f"{m.scenario}: {m.auroc_text()}" for m in under_weighted))
    reason = {WRONG: "Every seed with all-zero labels shows the postmortem's symptom, and no "
              "under-weighted run that called nothing positive sits at AUROC 0.5: those models "
              "still rank (AUROC measurably away from 0.5), they only sit below the threshold. "
              "AUROC 0.5 points to the labels or a constant output, not to the weighting.",
              NON_DIAGNOSTIC: "All-zero labels produce 'all predictions 0' in every seed, with "
              "AUROC undefined (0.5 only through a fallback), and at least "
              "one under-weighted run that called nothing positive has an AUROC interval "
              "containing 0.5 (the evidence counts them): the symptom does not tell the causes "
              "apart. Check the labels first.",
              RIGHT: "The labels did not produce the symptom here, and every under-weighted run "
              "that called nothing positive sat at AUROC 0.5.",
              INCOMPLETE: "The labels did not produce the symptom in every seed, and only some "
              "under-weighted runs sat at AUROC 0.5."}[grade]
    return Grade(CLAIM["auroc-half-means-weighting"], grade, evidence, reason, zero_labels.size())


def batch_exposure(batch_size: int, prevalence: float = PREVALENCE) -> tuple[float, float]:
    """(expected positives per batch, probability of a batch without one) for plain shuffling."""
    return batch_size * prevalence, (1 - prevalence) ** batch_size


def grade_batch_exposure(no_sampler: Measured, *, batch_size: int,
                         prevalence: float = PREVALENCE) -> Grade:
    """``no_sampler``: runs without any sampler or class weight (bce-prior-init)."""
    expected, p_none = batch_exposure(batch_size, prevalence)
    at_risk = p_none > EXPOSURE_RISK
    learned = no_sampler.count(_ranks)
    n = no_sampler.n_seeds
    if at_risk:
        grade = RIGHT if learned == 0 else INCOMPLETE
    else:
        grade = WRONG if learned == n else INCOMPLETE
    evidence = (f"computed: a shuffled batch of {batch_size} at prevalence {prevalence:.3f} "
                f"holds {expected:.1f} seizure windows on average, and none with probability "
                f"{p_none:.3f}. Trained without sampler or class weight ({no_sampler.scenario}) "
                f"on {no_sampler.size_text()}: {no_sampler.auroc_text()}, AUROC interval above "
                f"{ESCAPE_AUROC:g} in {learned}/{n} seeds")
    reason = (("Balanced batches do show seizures, but plain batches already did: with this "
               f"lab's batch of {batch_size} (the postmortem does not state its own) about "
               f"{expected:.0f} per batch, and a batch without one is rare. " if not at_risk else
               f"Plain batches miss seizures often here (a batch holds {expected:.1f} on "
               "average), so balancing does add exposure. ")
              + "What the sampler also changes is the prior the model learns (0.5 instead of the "
              "prevalence). "
              + ("Here a model without sampler or class weight, started at the prior, learned "
                 "in every seed." if learned == n else
                 f"Here a model without sampler or class weight learned in {learned} of {n} seeds."))
    return Grade(CLAIM["balanced-batches-exposure"], grade, evidence, reason, no_sampler.size())


def grade_fix_auroc(fix_sampler: Measured) -> Grade:
    """The fix as the postmortem ran it: alpha 0.5 + pos_weight + a balanced sampler."""
    n = fix_sampler.n_seeds
    ranks, stalls = fix_sampler.count(_ranks), fix_sampler.count(_stalls)
    over = fix_sampler.count(lambda r: r["pred_pos_rate"] > 0.5)
    if ranks == n:
        grade = RIGHT if over == 0 else INCOMPLETE
    else:
        grade = WRONG if stalls == n else INCOMPLETE
    evidence = (f"fix + balanced sampler on {fix_sampler.size_text()}: {fix_sampler.auroc_text()}; "
                f"interval above {ESCAPE_AUROC:g} in {ranks}/{n} seeds; {fix_sampler.rate_text()}, "
                f"more than half in {over}/{n} seeds; at 0.5: {fix_sampler.events_text()}; "
                f"{fix_sampler.events_text(moved=True)}")
    reason = ("AUROC measures ranking only. " + (
        "The fix as configured (with its balanced sampler) ranks above 0.7 in every seed, but "
        "at 0.5 it calls most windows seizures: 'can actually detect seizures' holds only with a threshold chosen afterwards, "
        "and event scores, not AUROC, say what it detects and at how many false alarms."
        if grade == INCOMPLETE and ranks == n else
        "The fix as configured ranks above 0.7 in every seed and calls a plausible share of "
        "windows positive." if grade == RIGHT else
        "The fix as configured stayed below AUROC 0.7 in every seed." if grade == WRONG else
        f"The fix as configured ranked above 0.7 in {ranks} of {n} seeds only."))
    return Grade(CLAIM["fix-auroc"], grade, evidence, reason, fix_sampler.size())


def grade_assert_auroc(fix_sampler: Measured, zero_labels: Measured,
                       under_weighted: list[Measured]) -> Grade:
    """Which failures an ``assert auroc > 0.5`` catches (NaN and 0.5 fail it)."""
    caught = zero_labels.count(lambda r: not (r["auroc"] > 0.5))  # NaN compares False: caught
    missed_over = fix_sampler.count(lambda r: _ranks(r) and r["pred_pos_rate"] > 0.5)
    missed_silent = sum(r["auroc_ci"][0] > 0.5 and r["pred_pos_rate"] < COLLAPSE_RATE
                        for m in under_weighted for r in m.rows if not is_nan(r["auroc_ci"][0]))
    missed = missed_over + missed_silent
    grade = (WRONG if caught == 0 else
             RIGHT if caught == zero_labels.n_seeds and missed == 0 else INCOMPLETE)
    n_under = sum(m.n_seeds for m in under_weighted)
    evidence = (f"caught all-zero labels in {caught}/{zero_labels.n_seeds} seeds; passed by the fix + "
                f"sampler while calling more than half the windows positive in {missed_over}/"
                f"{fix_sampler.n_seeds} seeds, and by under-weighted runs calling under "
                f"{100 * COLLAPSE_RATE:g}% positive (whole 95% AUROC interval above 0.5) in "
                f"{missed_silent}/{n_under}; fix + sampler {fix_sampler.auroc_text()}; on "
                f"{zero_labels.size_text()}")
    reason = ("An AUROC assertion catches undefined or constant outputs, which is the labels bug. "
              "It cannot see the threshold: a model that ranks but calls every window a seizure, "
              "or none, passes it. Assert on the labels (both classes present) and on the "
              "predicted-positive rate against the prevalence as well.")
    return Grade(CLAIM["assert-auroc-above-half"], grade, evidence, reason, zero_labels.size())


def grade_one_mechanism(one: Measured, prior_init: Measured | None = None) -> Grade:
    n = one.n_seeds
    ok = one.count(lambda r: _ranks(r) and r["pred_pos_rate_ci"][1] <= 2 * r["prevalence"])
    grade = _by_grade(ok, n, RIGHT, WRONG)
    evidence = (f"a 50/50 sampler alone (logits shifted back to the true prior) on "
                f"{one.size_text()}: {one.auroc_text()}, {one.rate_text()}; AUROC interval above "
                f"{ESCAPE_AUROC:g} with at most twice the prevalence called positive in {ok}/{n} seeds")
    if prior_init is not None:
        evidence += f"; no class weight at all, output bias at the prior: {prior_init.auroc_text()}"
    reason = ("One mechanism corrects the imbalance once: " + (
        "it learned without over-correcting in every seed." if grade == RIGHT else
        "it failed that in every seed here." if grade == WRONG else
        f"it learned without over-correcting in {ok} of {n} seeds.")
        + " Starting the output at the prior (RetinaNet, Section 3.3) is a further option that "
        "changes the initialisation, not the loss.")
    return Grade(CLAIM["one-mechanism"], grade, evidence, reason, one.size())

