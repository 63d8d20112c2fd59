"""The postmortem's report card: every grade comes from its evidence, and other evidence flips it.

Trained grades are fed fabricated rows (the keys of ``run_repro`` rows) so each test shows
the grading logic reads the evidence; one slow test grades real runs.
"""
import math

import pytest

from brr_lab.postmortem import CLAIMS, GRADES, Grade, report_card
from brr_lab.postmortem import arithmetic as ar
from brr_lab.postmortem import trained as tr
from brr_lab.postmortem.claims import RETINANET_TABLE_1A, RETINANET_TABLE_1B, TRAINED
from brr_lab.postmortem.measured import Measured, by_scenario

SIZE = {"n_val_recordings": 56, "n_val_seizures": 42, "n_val_windows": 8344, "val_hours": 2.33}


def row(scenario, seed, auroc, ci, rate, rate_ci=None, **extra):
    lo, hi = ci
    return {"scenario": scenario, "seed": seed, "auroc": auroc, "auroc_ci": [lo, hi],
            "pred_pos_rate": rate, "pred_pos_rate_ci": list(rate_ci or (rate, rate)),
            "prevalence": 0.074, "effective_ratio": 12.0, **SIZE, **extra}


def runs(scenario, auroc, ci, rate, seeds=3, **extra):
    return Measured(scenario, tuple(row(scenario, s, auroc, ci, rate, **extra) for s in range(seeds)))


def healthy_rows(seeds=3):
    """Rows shaped like the measured ones: the bug learns, the fix + sampler calls everything."""
    spec = {"bce": (0.62, (0.55, 0.70), 0.0), "focal-alpha-0.25": (0.65, (0.58, 0.72), 0.002),
            "postmortem-bug": (0.86, (0.82, 0.89), 0.045), "postmortem-fix": (0.88, (0.86, 0.90), 0.05),
            "fix-plus-sampler": (0.89, (0.87, 0.90), 1.0), "one-mechanism": (0.89, (0.87, 0.91), 0.035),
            "bce-prior-init": (0.89, (0.86, 0.91), 0.033),
            "labels-all-zero": (math.nan, (math.nan, math.nan), 0.0)}
    return [row(name, s, a, ci, rate) for name, (a, ci, rate) in spec.items() for s in range(seeds)]


def test_card_grades_every_claim_in_the_vocabulary():
    card = report_card(healthy_rows())
    assert [g.claim.id for g in card.grades] == [c.id for c in CLAIMS]
    assert len(card.grades) >= 11 and len({c.id for c in CLAIMS}) == len(CLAIMS)
    assert all(g.grade in GRADES for g in card.grades)
    for g in card.grades:
        if g.claim.basis == TRAINED:  # trained evidence states its size and its intervals
            assert g.evidence_size == {"recordings": 56, "seizures": 42, "windows": 8344,
                                       "hours": 2.33, "seeds": 3}
            assert "95%" in g.evidence and "3 seeds" in g.evidence
    assert card["ratio-is-4"].evidence.startswith("checked by arithmetic")
    assert card["sampling-everywhere"].evidence.startswith("checked by arithmetic")
    records = card.records()
    assert all({"claim", "quote", "grade", "evidence", "reason"} <= set(r) for r in records)
    assert sum(card.tally().values()) == len(CLAIMS)


def test_card_text_is_a_table_then_reasons():
    text = report_card(healthy_rows()).to_text()
    assert text.splitlines()[0].split() == ["claim", "grade", "basis"]
    assert "bug-caused-collapse [not reproduced]" in text and "{" not in text


def test_missing_scenario_and_bad_rows_are_named():
    rows = [r for r in healthy_rows() if r["scenario"] != "one-mechanism"]
    with pytest.raises(ValueError, match="one-mechanism"):
        report_card(rows)
    with pytest.raises(ValueError, match="'rows'.*auroc_ci"):
        by_scenario([{"scenario": "bce"}], ["bce"])
    with pytest.raises(ValueError, match="'grade'.*right"):
        Grade(CLAIMS[0], "mostly fine", "", "")


# ------------------------------------------------------------------ arithmetic and cited grades
def test_arithmetic_grades_follow_the_setting():
    assert ar.grade_alpha_down_weights(0.25).grade == "right"
    assert ar.grade_alpha_down_weights(0.75).grade == "wrong"
    assert ar.grade_ratio_is_4().grade == "right" and ar.grade_ratio_is_4(pos_weight=3).grade == "wrong"
    assert ar.grade_double_counting().grade == "wrong"
    assert ar.grade_double_counting(alpha=0.75).grade == "right"  # both up-weight positives
    assert ar.grade_sampling_everywhere().grade == "wrong"
    assert ar.grade_sampling_everywhere(pos_weight=None).grade == "right"  # the sampler alone
    assert ar.grade_neutral_alpha_switch().grade == "incomplete"
    assert ar.grade_neutral_alpha_switch(rule=lambda a, pw: pw).grade == "wrong"  # stacks alpha + pw


def test_ratio_4_evidence_names_both_equivalent_pos_weights():
    text = ar.grade_ratio_is_4().evidence
    assert "q* = 0.20" in text and "pos_weight 4.00" in text and "pos_weight 7.96" in text


def test_alpha_backwards_reads_the_cited_tables():
    assert ar.grade_alpha_backwards().grade == "incomplete"  # right at gamma 0, wrong at gamma 2
    flat = {a: 30.0 for a in RETINANET_TABLE_1A}
    assert ar.grade_alpha_backwards(table_1a=flat).grade == "wrong"
    best_half = {**RETINANET_TABLE_1B, 2.0: (0.5, 34.0)}
    assert ar.grade_alpha_backwards(table_1b=best_half).grade == "right"


def test_batch_exposure_against_the_binomial():
    expected, p_none = tr.batch_exposure(64, 1 / 13)
    pmf = [math.comb(64, k) * (1 / 13) ** k * (12 / 13) ** (64 - k) for k in range(65)]
    assert expected == pytest.approx(sum(k * p for k, p in enumerate(pmf)))
    assert p_none == pytest.approx(pmf[0]) and p_none < 0.01


# ------------------------------------------------------------------ trained grades flip
def test_bug_caused_collapse_flips_with_the_runs():
    learns, stalls = runs("postmortem-bug", 0.86, (0.8, 0.9), 0.04), runs("postmortem-bug", 0.55, (0.5, 0.6), 0.0)
    fix_ok, fix_bad = runs("postmortem-fix", 0.88, (0.85, 0.9), 0.05), runs("postmortem-fix", 0.6, (0.5, 0.65), 0.0)
    assert tr.grade_bug_caused_collapse(learns, fix_ok).grade == "not reproduced"
    assert tr.grade_bug_caused_collapse(stalls, fix_ok).grade == "right"
    assert tr.grade_bug_caused_collapse(stalls, fix_bad).grade == "non-diagnostic"
    mixed = Measured("postmortem-bug", learns.rows[:2] + stalls.rows[2:])
    assert tr.grade_bug_caused_collapse(mixed, fix_ok).grade == "incomplete"


def test_ratio_should_be_12_flips_with_the_runs():
    bug = runs("postmortem-bug", 0.86, (0.82, 0.89), 0.04)
    assert tr.grade_ratio_should_be_12(bug, runs("postmortem-fix", 0.88, (0.85, 0.9), 0.05)).grade == "incomplete"
    assert tr.grade_ratio_should_be_12(bug, runs("postmortem-fix", 0.95, (0.93, 0.97), 0.05)).grade == "right"
    assert tr.grade_ratio_should_be_12(bug, runs("postmortem-fix", 0.7, (0.65, 0.75), 0.05)).grade == "wrong"


def test_auroc_half_flips_with_the_runs():
    labels = runs("labels-all-zero", math.nan, (math.nan, math.nan), 0.0)
    ranking = [runs("bce", 0.7, (0.62, 0.78), 0.0)]
    at_half = [runs("bce", 0.52, (0.45, 0.6), 0.0)]
    assert tr.grade_auroc_half(labels, ranking).grade == "wrong"
    assert tr.grade_auroc_half(labels, at_half).grade == "non-diagnostic"
    labels_fine = runs("labels-all-zero", 0.8, (0.7, 0.9), 0.05)
    assert tr.grade_auroc_half(labels_fine, at_half).grade == "right"
    assert tr.grade_auroc_half(labels_fine, ranking).grade == "incomplete"


def test_batch_exposure_flips_with_the_runs_and_the_prevalence():
    learns, stalls = runs("bce-prior-init", 0.89, (0.86, 0.91), 0.03), runs("bce-prior-init", 0.6, (0.5, 0.69), 0.0)
    assert tr.grade_batch_exposure(learns, batch_size=64).grade == "wrong"
    assert tr.grade_batch_exposure(stalls, batch_size=64).grade == "incomplete"
    assert tr.grade_batch_exposure(stalls, batch_size=64, prevalence=0.001).grade == "right"


def test_fix_auroc_reads_the_operating_point_and_the_events():
    over = runs("fix-plus-sampler", 0.89, (0.87, 0.9), 1.0)
    assert tr.grade_fix_auroc(over).grade == "incomplete"
    assert "not measured" in tr.grade_fix_auroc(over).evidence
    assert tr.grade_fix_auroc(runs("fix-plus-sampler", 0.89, (0.87, 0.9), 0.05)).grade == "right"
    assert tr.grade_fix_auroc(runs("fix-plus-sampler", 0.6, (0.55, 0.65), 1.0)).grade == "wrong"
    events = runs("fix-plus-sampler", 0.89, (0.87, 0.9), 1.0, event_sensitivity=1.0,
                  event_sensitivity_ci=[0.9, 1.0], fa_per_24h=31.0, fa_per_24h_ci=[12.0, 60.0],
                  n_event_seizures=42, event_hours=2.3)
    text = tr.grade_fix_auroc(events).evidence
    assert "event sensitivity 1.00 (per-seed 95% intervals within 0.90-1.00)" in text
    assert "31.0 false alarms per 24 h" in text and "42 seizures, 2.3 h" in text
    moved = {"threshold": 0.97, "target": {"fa_per_24h": 10.0}, "event_sensitivity": 0.6,
             "fa_per_24h": 9.5}
    text = tr.grade_fix_auroc(runs("fix-plus-sampler", 0.89, (0.87, 0.9), 1.0, threshold_moved=moved)).evidence
    assert "at thresholds 0.970 chosen on the calibration recordings for at most 10 false alarms per 24 h" in text
    assert "event sensitivity 0.60, 9.5 false alarms per 24 h" in text


def test_assert_auroc_flips_with_the_runs():
    labels = runs("labels-all-zero", math.nan, (math.nan, math.nan), 0.0)
    over = runs("fix-plus-sampler", 0.89, (0.87, 0.9), 1.0)
    sane = runs("fix-plus-sampler", 0.89, (0.87, 0.9), 0.05)
    silent = [runs("bce", 0.7, (0.62, 0.78), 0.0)]
    assert tr.grade_assert_auroc(over, labels, silent).grade == "incomplete"
    assert tr.grade_assert_auroc(sane, labels, [runs("bce", 0.5, (0.45, 0.55), 0.0)]).grade == "right"
    assert tr.grade_assert_auroc(sane, runs("labels-all-zero", 0.8, (0.7, 0.9), 0.0), silent).grade == "wrong"


def test_one_mechanism_flips_with_the_runs():
    assert tr.grade_one_mechanism(runs("one-mechanism", 0.89, (0.87, 0.91), 0.035)).grade == "right"
    over = runs("one-mechanism", 0.89, (0.87, 0.91), 0.5, rate_ci=(0.45, 0.55))
    assert tr.grade_one_mechanism(over).grade == "wrong"


@pytest.mark.slow
def test_card_from_real_runs(one_torch_thread):
    from brr_lab.postmortem import collect_rows

    card = report_card(collect_rows(seeds=1, epochs=1))
    assert [g.claim.id for g in card.grades] == [c.id for c in CLAIMS]
    assert card["sampling-everywhere"].grade == "wrong" and card["ratio-is-4"].grade == "right"
    assert all(g.evidence_size["seeds"] == 1 for g in card.grades if g.claim.basis == TRAINED)
