"""The weighting engine against worked figures and against independent computations."""
import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from brr_lab import weighting as W
from brr_lab.losses import binary_focal_loss

PI = 1 / 13  # 12 negatives per positive


def test_postmortem_arithmetic_ratio_is_4():
    assert W.constant_weight_ratio(alpha=0.25, pos_weight=12) == pytest.approx(4.0)
    assert W.constant_weight_ratio(alpha=0.25) == pytest.approx(1 / 3)
    assert W.constant_weight_ratio() == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs,q", [
    (dict(), 0.500),
    (dict(alpha=0.25), 0.750),
    (dict(alpha=0.25, pos_weight=12), 0.200),
    (dict(alpha=0.5, pos_weight=12), 0.077),
    (dict(alpha=0.5, pos_weight=12, sampler_fraction=0.5), 0.007),
])
def test_q_star_domain_figures(kwargs, q):
    assert round(float(W.q_star(PI, **kwargs)), 3) == q


def test_sampler_odds_for_balanced_batches_is_imbalance():
    assert W.sampler_odds(PI, 0.5) == pytest.approx(12.0)
    assert W.sampler_odds(PI, None) == 1.0
    assert W.effective_ratio(PI, alpha=0.5, pos_weight=12, sampler_fraction=0.5) == pytest.approx(144.0)


@pytest.mark.parametrize("kwargs,p", [
    (dict(gamma=0), 0.077),
    (dict(gamma=0, pos_weight=12), 0.500),
    (dict(alpha=0.25, gamma=2), 0.208),
    (dict(alpha=0.25, gamma=2, pos_weight=12), 0.399),
    (dict(alpha=0.5, gamma=2, pos_weight=12), 0.500),
    (dict(alpha=0.5, gamma=2), 0.284),
])
def test_p_star_domain_figures(kwargs, p):
    assert round(float(W.best_constant_prediction(PI, **kwargs)), 3) == p


@pytest.mark.parametrize("kwargs,share", [
    (dict(gamma=0), 0.077),
    (dict(gamma=0, pos_weight=12), 0.500),
    (dict(alpha=0.25, gamma=2), 0.027),
    (dict(alpha=0.25, gamma=2, pos_weight=12), 0.250),
    (dict(alpha=0.5, gamma=2, pos_weight=12), 0.500),
])
def test_gradient_share_at_half_domain_figures(kwargs, share):
    assert round(float(W.positive_gradient_share(0.5, PI, **kwargs)), 3) == share


def test_gradient_share_at_prior_focal_vs_bce():
    settings = [dict(alpha=0.25), dict(alpha=0.25, pos_weight=12), dict(alpha=0.5, pos_weight=12),
                dict(alpha=0.5), dict(alpha=None)]
    shares = [float(W.positive_gradient_share(PI, PI, gamma=2, **s)) for s in settings]
    assert min(shares) >= 0.95 and max(shares) <= 0.9995  # worked figure: 96-99.9%
    assert W.positive_gradient_share(PI, PI, gamma=0) == pytest.approx(0.5)  # BCE rests at the prior


def _expected_loss(p, pi_batch, alpha, gamma, pw):
    z = torch.tensor([np.log(p / (1 - p))] * 2, dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    per = binary_focal_loss(z, y, alpha=alpha, gamma=gamma, pos_weight=pw, reduction="none")
    return pi_batch * per[0].item() + (1 - pi_batch) * per[1].item()


@pytest.mark.parametrize("alpha,gamma,pw,fraction", [
    (0.25, 2.0, 12.0, None), (0.5, 2.0, None, None), (0.9, 1.0, 3.0, None),
    (None, 4.0, 2.0, 0.5), (0.5, 2.0, 12.0, 0.5), (0.1, 0.5, None, 0.3),
])
def test_p_star_is_the_minimiser_of_the_torch_loss(alpha, gamma, pw, fraction):
    pi_batch = PI if fraction is None else fraction
    found = minimize_scalar(lambda z: _expected_loss(1 / (1 + np.exp(-z)), pi_batch, alpha, gamma, pw),
                            bounds=(-15, 15), method="bounded", options={"xatol": 1e-10}).x
    p_star = float(W.best_constant_prediction(PI, alpha, gamma, pw, fraction))
    assert p_star == pytest.approx(1 / (1 + np.exp(-found)), abs=1e-5)


@pytest.mark.parametrize("alpha,gamma,pw,fraction", [
    (0.25, 2.0, 12.0, None), (0.25, 0.0, None, None), (0.5, 3.0, 12.0, 0.5)])
def test_q_star_is_where_the_minimiser_crosses_half(alpha, gamma, pw, fraction):
    """For a true posterior q, the sampled mix has odds q/(1-q) * s; p* crosses 0.5 at q*."""
    q_star = float(W.q_star(PI, alpha, pw, fraction))
    s = float(W.sampler_odds(PI, fraction))
    for q, above in ((q_star * 0.9, False), (min(0.999, q_star * 1.1), True)):
        odds = q / (1 - q) * s
        mix = odds / (1 + odds)
        found = minimize_scalar(lambda z: _expected_loss(1 / (1 + np.exp(-z)), mix, alpha, gamma, pw),
                                bounds=(-15, 15), method="bounded", options={"xatol": 1e-10}).x
        assert (found > 0) == above


def test_loss_curves_gradients_match_autograd():
    p = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    c = W.loss_curves(p, alpha=0.25, gamma=2.0, pos_weight=12.0)
    z = torch.tensor(np.log(p / (1 - p)), requires_grad=True)
    for y, loss_key, grad_key in ((1.0, "loss_pos", "grad_pos"), (0.0, "loss_neg", "grad_neg")):
        zz = z.detach().clone().requires_grad_(True)
        loss = binary_focal_loss(zz, torch.full_like(zz, y), alpha=0.25, gamma=2.0, pos_weight=12.0,
                                 reduction="none")
        loss.sum().backward()
        np.testing.assert_allclose(c[loss_key], loss.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(c[grad_key], np.abs(zz.grad.numpy()), rtol=1e-8)


def test_vectorised_over_a_grid_matches_scalar_calls():
    alphas = np.array([0.1, 0.25, 0.5, 0.75])[:, None]
    pws = np.array([1.0, 4.0, 12.0])[None, :]
    grid = W.analyze(PI, alpha=alphas, gamma=2.0, pos_weight=pws)
    assert grid.q_star.shape == grid.p_star.shape == (4, 3)
    for i, a in enumerate(alphas[:, 0]):
        for j, w in enumerate(pws[0]):
            one = W.analyze(PI, alpha=float(a), gamma=2.0, pos_weight=float(w))
            assert grid.p_star[i, j] == pytest.approx(float(one.p_star), rel=1e-12)
            assert grid.q_star[i, j] == pytest.approx(float(one.q_star), rel=1e-12)


def test_gamma_moves_p_star_toward_half_but_not_q_star():
    gammas = np.array([0.0, 1.0, 2.0, 5.0])
    p = W.best_constant_prediction(PI, alpha=0.5, gamma=gammas)
    assert np.all(np.diff(p) > 0) and p[-1] < 0.5
    assert np.allclose(W.q_star(PI, alpha=0.5), 0.5)


def test_equivalent_pos_weight_round_trips_bce():
    assert W.equivalent_pos_weight(PI, gamma=0, pos_weight=7.0) == pytest.approx(7.0, rel=1e-9)
    assert W.equivalent_pos_weight(PI, gamma=0) == pytest.approx(1.0, rel=1e-9)


def test_prevalence_from_counts():
    assert W.prevalence_from_counts(1, 12) == pytest.approx(PI)
    with pytest.raises(ValueError, match="'n_pos'"):
        W.prevalence_from_counts(-1, 12)
    with pytest.raises(ValueError, match="n_pos \\+ n_neg"):
        W.prevalence_from_counts(0, 0)


@pytest.mark.parametrize("call,param", [
    (lambda: W.q_star(0.0), "prevalence"),
    (lambda: W.q_star(1.2), "prevalence"),
    (lambda: W.q_star(PI, alpha=1.1), "alpha"),
    (lambda: W.q_star(PI, alpha=np.array([0.2, np.nan])), "alpha"),
    (lambda: W.q_star(PI, pos_weight=0), "pos_weight"),
    (lambda: W.q_star(PI, sampler_fraction=1.0), "sampler_fraction"),
    (lambda: W.best_constant_prediction(PI, gamma=-2), "gamma"),
    (lambda: W.positive_gradient_share(1.0, PI), "p"),
])
def test_bad_values_name_the_parameter(call, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        call()


def test_report_as_dict_is_json_ready():
    import json
    d = W.analyze(0.0769, alpha=0.25, gamma=2, pos_weight=12).as_dict()
    json.dumps(d)
    assert round(d["ratio"], 3) == 4.0 and round(d["q_star"], 2) == 0.20 and round(d["p_star"], 3) == 0.399


def test_balancing_alpha_balances_the_gradient_at_the_prior():
    gammas = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    alpha = W.balancing_alpha(PI, gammas)
    share = W.positive_gradient_share(PI, PI, alpha=alpha, gamma=gammas)
    np.testing.assert_allclose(share, 0.5)
    assert alpha[0] == pytest.approx(0.5)  # BCE: alpha 0.5 rests at the prior
    assert np.all(np.diff(alpha) < 0)      # "lower alpha for higher gamma"


def test_prior_is_a_resting_point_for_unweighted_bce_only():
    # |dL/dz| is (1-p) for positives and p for negatives; at p = pi the two classes give
    # 12*pi*(1-pi) against (1-pi)*pi, so positives get 12/13.
    assert float(W.positive_gradient_share(PI, PI, gamma=0.0, pos_weight=12)) == pytest.approx(12 / 13)
    assert float(W.positive_gradient_share(PI, PI, gamma=0.0)) == pytest.approx(0.5)


@pytest.mark.parametrize("call,param", [
    (lambda: W.q_star_at(0.0, PI), "threshold"),
    (lambda: W.q_star_at(1.0, PI), "threshold"),
    (lambda: W.optimal_prediction(1.5, PI), "posterior"),
])
def test_p_vs_q_bad_values_name_the_parameter(call, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        call()


def test_equivalent_pos_weight_depends_on_where_it_is_matched():
    """Matched at q* (threshold 0.5): the effective ratio; matched at p*: another number."""
    for kw in (dict(alpha=0.25, pos_weight=12), dict(alpha=0.5, pos_weight=12, sampler_fraction=0.5)):
        r = float(W.effective_ratio(PI, **kw))
        # plain BCE with pos_weight r has the same q* ...
        assert float(W.q_star(PI, pos_weight=r)) == pytest.approx(float(W.q_star(PI, **kw)))
        # ... but not the same p*, which BCE reaches with equivalent_pos_weight instead.
        at_p = float(W.equivalent_pos_weight(PI, gamma=2.0, **kw))
        p_star = float(W.best_constant_prediction(PI, gamma=2.0, **kw))
        assert float(W.best_constant_prediction(PI, gamma=0.0, pos_weight=at_p)) == pytest.approx(p_star)
        assert abs(at_p - r) > 1


@pytest.mark.parametrize("kwargs, param", [
    (dict(prevalence=0.0769, alpha=True), "alpha"),
    (dict(prevalence=0.0769, alpha="0.25"), "alpha"),
    (dict(prevalence="0.1", pos_weight=2.0), "prevalence"),
    (dict(prevalence=0.0769, pos_weight=True), "pos_weight"),
])
def test_engine_refuses_bools_and_strings_as_the_loss_does(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        W.effective_ratio(**kwargs)


@pytest.mark.parametrize("n_pos, n_neg", [(1.5, 10), (True, 10), (-1, 10)])
def test_counts_are_whole_numbers(n_pos, n_neg):
    with pytest.raises(ValueError, match="'n_pos' parameter"):
        W.prevalence_from_counts(n_pos, n_neg)


def test_alpha_at_its_bounds_gives_exact_limits_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero RuntimeWarning leaks to a user
        assert float(W.best_constant_prediction(0.0769, alpha=0.0)) == 0.0
        assert float(W.equivalent_pos_weight(0.0769, alpha=0.0)) == 0.0
        assert float(W.q_star_at(0.3, 0.0769, alpha=0.0)) == 1.0 == float(W.q_star(0.0769, alpha=0.0))
        assert float(W.best_constant_prediction(0.0769, alpha=1.0)) == 1.0
        assert float(W.equivalent_pos_weight(0.0769, alpha=1.0)) == float("inf")
