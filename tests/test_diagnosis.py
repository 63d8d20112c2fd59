"""Each diagnosis state, from a constructed case of labels and logits."""
import math
import numpy as np
import pytest

from brr_lab.training import diagnosis as d
from brr_lab.weighting.policy import resolve_weighting

N_NEG, N_POS = 240, 20
Y = np.array([0] * N_NEG + [1] * N_POS, dtype=float)
RNG = np.random.default_rng(0)
NOISE = RNG.normal(size=Y.size)


def test_single_class_labels():
    out = d.diagnose(np.zeros(100), RNG.normal(size=100))
    assert out.state == d.SINGLE_CLASS
    assert any("annotation" in step for step in out.next_steps)


def test_constant_output():
    assert d.diagnose(Y, np.full(Y.size, -2.3)).state == d.CONSTANT_OUTPUT


def test_stalled_varied_outputs_no_ranking():
    out = d.diagnose(Y, NOISE - 3.0)  # spread 1, no relation to the labels
    assert out.state == d.STALLED
    assert "near chance" in out.reason


def test_inverted_ranking_is_stalled_and_says_so():
    out = d.diagnose(Y, -(NOISE * 0.3 + 2.0 * Y))
    assert out.state == d.STALLED and "inverted" in out.reason


def test_does_not_generalise_when_training_ranks():
    out = d.diagnose(Y, NOISE - 3.0, train_auroc=0.99)
    assert out.state == d.NO_TRANSFER
    assert d.diagnose(Y, NOISE - 3.0, train_auroc=0.55).state == d.STALLED


def test_ranks_but_all_negative():
    logits = NOISE * 0.3 + 2.0 * Y - 5.0  # separates well, every logit < 0
    out = d.diagnose(Y, logits)
    assert out.state == d.ALL_NEGATIVE
    assert out.evidence["auroc"] > d.RANKS_AUROC and out.evidence["pred_pos_rate"] == 0


def test_ranks_but_all_positive():
    out = d.diagnose(Y, NOISE * 0.3 + 2.0 * Y + 5.0)
    assert out.state == d.ALL_POSITIVE


def test_over_correction():
    # Ranks; positives all above 0, and so are a third of the negatives.
    logits = np.where(Y == 1, 3.0, NOISE - 0.5)
    out = d.diagnose(Y, logits)
    rate = out.evidence["pred_pos_rate"]
    assert d.OVER_CORRECTION_RATE_FACTOR * Y.mean() < rate < 1 - d.ONE_SIDE_RATE
    assert out.state == d.OVER_CORRECTION


def test_healthy():
    logits = np.where(Y == 1, 2.0, -2.0) + 0.5 * NOISE
    out = d.diagnose(Y, logits)
    assert out.state == d.HEALTHY


def test_setup_adds_its_ratio_and_q_star_to_the_advice():
    setup = resolve_weighting(alpha=0.5, pos_weight=12.0, sampler_fraction=0.5,
                              prevalence=1 / 13, allow_stacked=True)
    out = d.diagnose(Y, NOISE * 0.3 + 2.0 * Y + 5.0, setup=setup)
    assert "q* = 0.00" in str(out)  # 144:1 gives q* = 0.0069


def test_states_are_exhaustive_and_distinct():
    assert len(set(d.STATES)) == 9


def test_missing_metric_keys_are_named():
    with pytest.raises(ValueError, match="logit_std"):
        d.diagnose_metrics({"auroc": 0.5, "prevalence": 0.1, "pred_pos_rate": 0.0})



def test_a_diverged_model_is_named_not_scored():
    """NaN logits: every figure NaN, the count of bad outputs, and the state 'diverged'."""
    import torch
    from brr_lab.training.metrics import binary_metrics
    y = torch.tensor([0.0, 1.0, 0.0, 1.0])
    z = torch.tensor([0.1, float("nan"), -0.3, 2.0])
    m = binary_metrics(y, z)
    assert m["n_non_finite"] == 1 and math.isnan(m["auroc"]) and m["prevalence"] == 0.5
    assert d.diagnose(y, z).state == d.DIVERGED
