"""The vectorised sweep equals training each setting alone, and its pieces equal their references."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from brr_lab import sweep, weighting
from brr_lab.cli import main
from brr_lab.losses import binary_focal_loss
from brr_lab.sweep import LossWeights, SweepConfig, SweepSetting, make_grid

# Stated tolerance of the equivalence on this small grid (2 epochs, 4 batches each):
# validation logits of each vectorised copy are within this (absolute) of the same
# setting trained alone. Measured gap on CPU: about 1e-7 (float32 rounding of grouped
# vs single convolutions); a mixed-up setting, seed or batch order moves them by 2e-3
# or more (same seed, alpha off vs 0.25). Rounding differences grow with training: on
# data_sample (6 epochs, 894 windows, 84 Adam steps) strategy="vmap" measured up to 3e-3
# in logits and 2e-4 in AUROC, strategy="per_copy" 1.4e-6 and 0 (`--benchmark` reports both).
LOGIT_ATOL = 1e-4


def _data(n: int, seed: int, n_channels: int = 19, n_samples: int = 64):
    """Windows with a weak rhythmic seizure-like signal on 4 channels, prevalence ~1/8."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=g) < 0.125).float()
    y[:2] = torch.tensor([1.0, 0.0])  # both classes, whatever the draw
    X = torch.randn(n, n_channels, n_samples, generator=g)
    wave = torch.sin(torch.arange(n_samples) / 3.0)
    X[:, :4, :] += 0.8 * y[:, None, None] * wave
    return X, y


@pytest.fixture(scope="module")
def data():
    # 100 windows with batches of 32: three full batches and a partial one of 4.
    X, y = _data(100, seed=1)
    X_val, y_val = _data(60, seed=2)
    return X, y, X_val, y_val


GRID = [
    SweepSetting(alpha=None, gamma=0.0, pos_weight=None, seed=0),          # plain BCE
    SweepSetting(alpha=0.25, gamma=2.0, pos_weight=None, seed=0),          # the "bug"
    SweepSetting(alpha=0.25, gamma=2.0, pos_weight=12.0, seed=1),
    SweepSetting(alpha=0.5, gamma=2.0, pos_weight=12.0, sampler_fraction=0.5, seed=0),  # "fix"
    SweepSetting(alpha=0.75, gamma=1.0, pos_weight=None, sampler_fraction=0.3, seed=2),
    SweepSetting(alpha=0.25, gamma=2.0, pos_weight=None, seed=0),          # GRID[1] again
]
N_VAL = 60
CONFIG = SweepConfig(epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def both_ways(data):
    vec = sweep.train_sweep(*data, GRID, config=CONFIG, device="cpu")  # auto: per_copy on CPU
    ref = sweep.train_reference_loop(*data, GRID, config=CONFIG, device="cpu")
    return vec, ref


# --------------------------------------------------------------------------- equivalence


def test_each_copy_matches_training_that_setting_alone(both_ways):
    vec, ref = both_ways
    assert vec.val_logits.shape == ref.val_logits.shape == (len(GRID), N_VAL)
    torch.testing.assert_close(vec.val_logits, ref.val_logits, rtol=0.0, atol=LOGIT_ATOL)
    np.testing.assert_allclose(vec.train_loss, ref.train_loss, rtol=1e-4)
    np.testing.assert_allclose(vec.auroc, ref.auroc, atol=1e-3)
    # At most one window may sit on the other side of p = 0.5.
    np.testing.assert_allclose(vec.predicted_positive_rate, ref.predicted_positive_rate,
                               atol=1 / N_VAL + 1e-9)


def test_vmap_strategy_matches_too(data, both_ways):
    _, ref = both_ways
    vec = sweep.train_sweep(*data, GRID, config=CONFIG, device="cpu", strategy="vmap")
    torch.testing.assert_close(vec.val_logits, ref.val_logits, rtol=0.0, atol=LOGIT_ATOL)
    with pytest.raises(ValueError, match="'strategy'"):
        sweep.train_sweep(*data, GRID, config=CONFIG, device="cpu", strategy="fast")


def test_equivalence_is_not_trivial(both_ways):
    # Copies of different settings differ by over ten times the tolerance, so matching the
    # reference setting for setting is a real check (a mix-up of settings would fail).
    vec, ref = both_ways
    for k in range(len(GRID)):
        for j in range(len(GRID)):
            if GRID[j] != GRID[k]:
                assert (vec.val_logits[k] - ref.val_logits[j]).abs().max() > 10 * LOGIT_ATOL


def test_same_setting_twice_gives_identical_copies(both_ways):
    vec, _ = both_ways
    assert GRID[1] == GRID[-1]
    torch.testing.assert_close(vec.val_logits[1], vec.val_logits[-1], rtol=0, atol=1e-6)


def test_sweep_leaves_global_random_state_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    X, y, X_val, y_val = data
    sweep.train_sweep(X[:40], y[:40], X_val, y_val, GRID[:1], config=SweepConfig(epochs=1), device="cpu")
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(data, both_ways):
    vec_cpu, _ = both_ways
    vec_gpu = sweep.train_sweep(*data, GRID, config=CONFIG, device="cuda")
    assert vec_gpu.device.startswith("cuda")
    torch.testing.assert_close(vec_gpu.val_logits, vec_cpu.val_logits, rtol=0.0, atol=1e-3)


# --------------------------------------------------------------------------- loss


LOSS_SETTINGS = [SweepSetting(alpha=a, gamma=g, pos_weight=w)
                 for a in (None, 0.0, 0.25, 0.5, 1.0) for g in (0.0, 0.5, 2.0, 5.0)
                 for w in (None, 0.3, 12.0)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vectorised_loss_equals_binary_focal_loss(dtype):
    g = torch.Generator().manual_seed(0)
    K, B = len(LOSS_SETTINGS), 40
    logits = (torch.randn(K, B, generator=g) * 4).to(dtype)
    logits[:, :4] = torch.tensor([-80.0, 80.0, 0.0, 1e-3], dtype=dtype)  # extremes stay finite
    targets = (torch.rand(K, B, generator=g) < 0.3).to(dtype)
    logits.requires_grad_(True)
    got = sweep.vectorised_focal_loss(logits, targets, LossWeights.from_settings(LOSS_SETTINGS, dtype=dtype))
    (grad,) = torch.autograd.grad(got.sum(), logits)
    assert torch.isfinite(got).all() and torch.isfinite(grad).all()
    for k, s in enumerate(LOSS_SETTINGS):
        z = logits[k].detach().clone().requires_grad_(True)
        want = binary_focal_loss(z, targets[k], alpha=s.alpha, gamma=s.gamma, pos_weight=s.pos_weight)
        want.backward()
        torch.testing.assert_close(got[k], want.detach(), rtol=1e-6, atol=0.0, msg=s.label())
        torch.testing.assert_close(grad[k], z.grad, rtol=1e-6, atol=1e-12, msg=s.label())


def test_vectorised_loss_rejects_mismatched_shapes():
    weights = LossWeights.from_settings(LOSS_SETTINGS[:2])
    with pytest.raises(ValueError, match="logits/targets"):
        sweep.vectorised_focal_loss(torch.zeros(2, 5), torch.zeros(2, 4), weights)
    with pytest.raises(ValueError, match="weights"):
        sweep.vectorised_focal_loss(torch.zeros(3, 5), torch.zeros(3, 5), weights)


# --------------------------------------------------------------------------- metrics


def test_ranking_metrics_equal_scikit_learn_with_ties():
    g = torch.Generator().manual_seed(3)
    n = 120
    y = (torch.rand(n, generator=g) < 0.2).float()
    y[:2] = torch.tensor([1.0, 0.0])
    scores = torch.randn(6, n, generator=g)
    scores[1] = torch.round(scores[1] * 2) / 2      # many ties
    scores[2] = 0.0                                  # constant: AUROC 0.5, AUPRC = prevalence
    scores[3] = y * 2 - 1                            # perfect ranking
    got = sweep.ranking_metrics(scores, y)
    for k in range(scores.shape[0]):
        assert got["auroc"][k] == pytest.approx(roc_auc_score(y, scores[k]), abs=1e-12)
        assert got["auprc"][k] == pytest.approx(average_precision_score(y, scores[k]), abs=1e-12)
        assert got["predicted_positive_rate"][k] == pytest.approx(float((scores[k] > 0).float().mean()))
    assert got["auroc"][2] == 0.5 and got["auprc"][2] == pytest.approx(float(y.mean()))
    assert got["auroc"][3] == 1.0 and got["auprc"][3] == 1.0


def test_ranking_metrics_give_nan_for_a_diverged_row():
    y = torch.tensor([0.0, 1.0, 0.0, 1.0])
    got = sweep.ranking_metrics(torch.tensor([[0.1, 0.9, 0.2, 0.8], [0.1, math.nan, 0.2, 0.8]]), y)
    assert got["auroc"][0] == 1.0
    assert all(math.isnan(got[m][1]) for m in ("auroc", "auprc", "predicted_positive_rate"))


def test_ranking_metrics_refuse_single_class_labels():
    with pytest.raises(ValueError, match="both classes"):
        sweep.ranking_metrics(torch.randn(2, 5), torch.zeros(5))


# --------------------------------------------------------------------------- samplers


def test_samplers_draw_what_they_promise():
    y = torch.zeros(1300)
    y[:100] = 1.0
    plain = list(sweep.make_sampler(y, SweepSetting(seed=4)))
    assert sorted(plain) == list(range(1300))  # a permutation: each window once per epoch
    drawn = torch.tensor(list(sweep.make_sampler(y, SweepSetting(sampler_fraction=0.5, seed=4))))
    assert len(drawn) == 1300
    assert abs(float(y[drawn].mean()) - 0.5) < 0.05
    again = list(sweep.make_sampler(y, SweepSetting(seed=4)))
    assert again == plain  # deterministic for a seed


@pytest.mark.parametrize("fraction", [None, 0.5, 0.2])
def test_epoch_order_is_what_the_dataloader_sampler_yields(fraction):
    # The vectorised run draws each epoch's order directly; the reference loop iterates
    # the sampler. Same generator, same draws, epoch after epoch.
    y = torch.zeros(137)
    y[::9] = 1.0
    setting = SweepSetting(sampler_fraction=fraction, seed=11)
    direct, iterated = sweep.make_sampler(y, setting), sweep.make_sampler(y, setting)
    for _ in range(3):
        assert torch.equal(sweep.epoch_order(direct), torch.as_tensor(list(iterated)))


# --------------------------------------------------------------------------- settings and results


def test_grid_is_the_product_and_rejects_bad_values():
    grid = make_grid(alpha=[None, 0.25], pos_weight=[1.0, 12.0, None], seeds=[0, 1])
    assert len(grid) == 12 and len(set(grid)) == 12
    with pytest.raises(ValueError, match="'alpha'.*Got 1.5"):
        SweepSetting(alpha=1.5)
    with pytest.raises(ValueError, match="'pos_weight'"):
        SweepSetting(pos_weight=0.0)
    with pytest.raises(ValueError, match="'sampler_fraction'"):
        SweepSetting(sampler_fraction=1.0)
    with pytest.raises(ValueError, match="'seed'"):
        SweepSetting(seed=-1)
    with pytest.raises(ValueError, match="'gamma'"):
        make_grid(gamma=[])
    with pytest.raises(ValueError, match="'epochs'"):
        SweepConfig(epochs=0)


def test_bad_data_and_device_are_refused(data):
    X, y, X_val, y_val = data
    with pytest.raises(ValueError, match="'y_train'.*both classes"):
        sweep.train_sweep(X, torch.zeros_like(y), X_val, y_val, GRID[:1], config=CONFIG, device="cpu")
    with pytest.raises(ValueError, match="'X_val'"):
        sweep.train_sweep(X, y, X_val.double(), y_val, GRID[:1], config=CONFIG, device="cpu")
    with pytest.raises(ValueError, match="'device'"):
        sweep.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'device'.*without CUDA"):
            sweep.resolve_device("cuda")


def test_pivot_averages_seeds_and_refuses_mixed_cells(both_ways):
    vec, _ = both_ways
    result = sweep.SweepResult(
        settings=make_grid(alpha=[0.25, 0.5], pos_weight=[None, 12.0], gamma=[0.0, 2.0], seeds=[0, 1]),
        auroc=np.arange(16.0), auprc=np.zeros(16), predicted_positive_rate=np.zeros(16),
        train_loss=np.zeros(16), val_logits=torch.zeros(16, 1), train_prevalence=0.1)
    with pytest.raises(ValueError, match="gamma"):
        result.pivot("auroc")
    rows, cols, table = result.pivot("auroc", gamma=2.0)
    assert rows == [0.25, 0.5] and cols == [None, 12.0]
    # index = 8*alpha + 4*gamma + 2*pos_weight + seed (alpha slowest, seed fastest)
    np.testing.assert_array_equal(table, [[4.5, 6.5], [12.5, 14.5]])
    _, _, q = result.pivot("q_star", gamma=2.0)
    np.testing.assert_allclose(q[0], [0.75, 0.75 / (0.75 + 0.25 * 12.0)])


def test_rows_carry_q_star_from_the_weighting_engine(both_ways):
    vec, _ = both_ways
    rows = vec.rows()
    assert rows[0]["q_star"] == pytest.approx(0.5)          # plain BCE
    assert rows[1]["q_star"] == pytest.approx(0.75)         # alpha 0.25
    assert rows[2]["q_star"] == pytest.approx(0.2)          # alpha 0.25, pos_weight 12
    assert {"auroc", "auprc", "predicted_positive_rate", "train_loss"} <= set(rows[0])


def test_map_figure_draws_the_pivot_and_q_star_lines():
    from brr_lab.sweep_plot import map_figure
    result = sweep.SweepResult(
        settings=make_grid(alpha=[0.25, 0.5], pos_weight=[1.0, 12.0]),
        auroc=np.array([0.5, 0.6, 0.7, 0.8]), auprc=np.zeros(4), predicted_positive_rate=np.zeros(4),
        train_loss=np.zeros(4), val_logits=torch.zeros(4, 1), train_prevalence=1 / 13)
    fig = map_figure(result, "auroc", q_levels=(0.2, 0.5))
    heat = [t for t in fig.data if isinstance(t, go.Heatmap)]
    lines = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(heat) == 1 and len(lines) == 2
    np.testing.assert_array_equal(np.asarray(heat[0].z), [[0.5, 0.6], [0.7, 0.8]])
    # The contour is the weighting engine's q* at the training prevalence.
    alpha, log_w = lines[0].y[10], lines[0].x[20]
    assert lines[0].z[10][20] == pytest.approx(float(weighting.q_star(1 / 13, alpha, 2.0 ** log_w)))
    with pytest.raises(ValueError, match="numeric alpha"):
        map_figure(sweep.SweepResult(
            settings=make_grid(alpha=[None, 0.5]), auroc=np.zeros(2), auprc=np.zeros(2),
            predicted_positive_rate=np.zeros(2), train_loss=np.zeros(2),
            val_logits=torch.zeros(2, 1), train_prevalence=0.1), "auroc")


# --------------------------------------------------------------------------- command


SMALL = ["--n-recordings", "4", "--duration-s", "120", "--val-every", "2", "--epochs", "1"]


def test_cli_sweep_json(capsys):
    import json
    assert main(["sweep", *SMALL, "--alpha", "0.25,none", "--pos-weight", "12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_settings"] == 2 and out["method"] == "vectorised"
    assert [s["alpha"] for s in out["settings"]] == [0.25, None]


def test_cli_sweep_benchmark_prints_speedup(capsys):
    import json
    assert main(["sweep", *SMALL, "--alpha", "0.5", "--pos-weight", "none,12", "--benchmark"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["speedup"] == pytest.approx(out["loop_seconds"] / out["vectorised_seconds"])
    assert out["n_settings"] == 2 and out["max_abs_val_logit_diff"] < LOGIT_ATOL


def test_cli_sweep_bad_value_exits_2(capsys):
    assert main(["sweep", *SMALL, "--alpha", "1.5"]) == 2
    assert "'alpha'" in capsys.readouterr().err
