"""binary_focal_loss against an independent reference formula, special cases and bad input."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from brr_lab.losses import BinaryFocalLoss, binary_focal_loss


def reference_focal(z, y, alpha, gamma, pos_weight):
    """Lin et al. Eq. 5 written term by term from p = sigmoid(z), in float64."""
    p = torch.sigmoid(z.double())
    y = y.double()
    a_pos = 1.0 if alpha is None else alpha
    a_neg = 1.0 if alpha is None else 1.0 - alpha
    w = 1.0 if pos_weight is None else pos_weight
    pos = -a_pos * w * (1 - p) ** gamma * torch.log(p)
    neg = -a_neg * p ** gamma * torch.log(1 - p)
    return y * pos + (1 - y) * neg


def _data(seed, n=257, scale=4.0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator=g, dtype=torch.float64) * scale
    y = (torch.rand(n, generator=g) < 0.2).double()
    return z, y


@pytest.mark.parametrize("alpha,gamma,pos_weight,seed", list(itertools.product(
    [None, 0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.5, 1.0, 2.0, 5.0], [None, 0.3, 1.0, 12.0], [0, 1])))
def test_matches_reference_formula_float64(alpha, gamma, pos_weight, seed):
    z, y = _data(seed)
    got = binary_focal_loss(z, y, alpha=alpha, gamma=gamma, pos_weight=pos_weight, reduction="none")
    want = reference_focal(z, y, alpha, gamma, pos_weight)
    # atol: the reference's log(sigmoid(z)) itself loses digits where the loss is ~1e-6.
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-14)


def test_reductions():
    z, y = _data(3)
    per = binary_focal_loss(z, y, alpha=0.25, reduction="none")
    assert binary_focal_loss(z, y, alpha=0.25, reduction="sum") == pytest.approx(per.sum().item())
    assert binary_focal_loss(z, y, alpha=0.25, reduction="mean") == pytest.approx(per.mean().item())
    n_pos = int(y.sum())
    assert n_pos > 1
    assert binary_focal_loss(z, y, alpha=0.25, reduction="positives") == pytest.approx(per.sum().item() / n_pos)
    # no positives: divided by max(1, 0) = 1
    zero = torch.zeros_like(y)
    assert binary_focal_loss(z, zero, reduction="positives") == pytest.approx(
        binary_focal_loss(z, zero, reduction="sum").item())


@pytest.mark.parametrize("pos_weight", [None, 0.5, 12.0])
def test_gamma0_no_alpha_equals_bce_with_gradients(pos_weight):
    z, y = _data(4)
    z1 = z.clone().requires_grad_(True)
    z2 = z.clone().requires_grad_(True)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    ours = binary_focal_loss(z1, y, gamma=0.0, pos_weight=pos_weight)
    bce = F.binary_cross_entropy_with_logits(z2, y, pos_weight=pw)
    torch.testing.assert_close(ours, bce, rtol=1e-12, atol=0)
    ours.backward()
    bce.backward()
    torch.testing.assert_close(z1.grad, z2.grad, rtol=1e-10, atol=1e-15)


def test_tensor_pos_weight_per_class_matches_bce():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(32, 3, generator=g, dtype=torch.float64)
    y = (torch.rand(32, 3, generator=g) < 0.3).double()
    pw = torch.tensor([1.0, 4.0, 12.0], dtype=torch.float64)
    torch.testing.assert_close(binary_focal_loss(z, y, gamma=0, pos_weight=pw),
                               F.binary_cross_entropy_with_logits(z, y, pos_weight=pw))


@pytest.mark.parametrize("alpha,gamma,pos_weight", [(0.25, 2.0, 12.0), (None, 0.5, None), (0.9, 3.0, 0.5)])
def test_gradcheck_float64(alpha, gamma, pos_weight):
    z, y = _data(5, n=20, scale=2.0)
    z.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: binary_focal_loss(t, y, alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                                    reduction="none"), (z,))


def test_pt_comes_from_sigmoid_not_from_exp_minus_loss():
    # A confident, correct positive: with pos_weight=12 a p_t of exp(-bce) would be p**12
    # and its focal factor large; from the sigmoid it is tiny.
    z = torch.tensor([3.0], dtype=torch.float64)
    y = torch.tensor([1.0], dtype=torch.float64)
    loss = binary_focal_loss(z, y, gamma=2.0, pos_weight=12.0, reduction="sum")
    p = torch.sigmoid(z)
    assert loss.item() == pytest.approx((12 * (1 - p) ** 2 * -torch.log(p)).item(), rel=1e-12)
    wrong_pt = torch.exp(-F.binary_cross_entropy_with_logits(z, y, pos_weight=torch.tensor(12.0, dtype=torch.float64)))
    assert (1 - wrong_pt) ** 2 > 10 * (1 - p) ** 2


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("pos_weight", [None, 12.0])
def test_extreme_logits_finite_float32(gamma, pos_weight):
    z = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4] * 2, dtype=torch.float32, requires_grad=True)
    y = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], dtype=torch.float32)
    loss = binary_focal_loss(z, y, alpha=0.25, gamma=gamma, pos_weight=pos_weight, reduction="sum")
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z.grad).all()
    # a confidently wrong positive (z = -1e4) costs about alpha * pos_weight * 1e4
    assert loss.item() > 1e3


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_finite_under_autocast(dtype):
    lin = torch.nn.Linear(4, 1)
    x = torch.randn(16, 4) * 1e3
    y = (torch.arange(16) % 4 == 0).float()
    with torch.autocast("cpu", dtype=dtype):
        logits = lin(x).squeeze(-1)
        loss = binary_focal_loss(logits, y, alpha=0.25, gamma=2.0, pos_weight=12.0)
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in lin.parameters())


def test_half_precision_inputs_directly():
    z = torch.tensor([-1e4, 0.0, 1e4], dtype=torch.float16, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0])
    loss = binary_focal_loss(z, y, alpha=0.5, pos_weight=12.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_module_wrapper_matches_function_and_moves_pos_weight():
    z, y = _data(6)
    module = BinaryFocalLoss(alpha=0.25, gamma=2.0, pos_weight=12.0, reduction="sum")
    assert module(z, y).item() == pytest.approx(
        binary_focal_loss(z, y, alpha=0.25, gamma=2.0, pos_weight=12.0, reduction="sum").item())
    assert "alpha=0.25" in repr(module)
    assert module.pos_weight is not None and "pos_weight" not in module.state_dict()


@pytest.mark.parametrize("kwargs,param,value", [
    (dict(alpha=1.5), "alpha", "1.5"),
    (dict(alpha=-0.1), "alpha", "-0.1"),
    (dict(alpha=float("nan")), "alpha", "nan"),
    (dict(gamma=-1.0), "gamma", "-1.0"),
    (dict(gamma=float("inf")), "gamma", "inf"),
    (dict(pos_weight=0.0), "pos_weight", "0.0"),
    (dict(pos_weight=-3), "pos_weight", "-3"),
    (dict(pos_weight=torch.tensor([1.0, -2.0])), "pos_weight", "-2.0"),
    (dict(reduction="avg"), "reduction", "avg"),
])
def test_bad_settings_name_parameter_value_and_range(kwargs, param, value):
    z, y = _data(0, n=2)
    with pytest.raises(ValueError) as err:
        binary_focal_loss(z, y, **kwargs)
    msg = str(err.value)
    assert f"'{param}'" in msg and value in msg and "must be" in msg


@pytest.mark.parametrize("targets,fragment", [
    (torch.tensor([0.0, 2.0, 1.0]), "2.0"),
    (torch.tensor([0.0, -1.0, 1.0]), "-1.0"),
    (torch.tensor([0.0, float("nan"), 1.0]), "nan"),
])
def test_targets_outside_unit_interval(targets, fragment):
    with pytest.raises(ValueError, match=r"'targets'.*\[0, 1\].*" + fragment):
        binary_focal_loss(torch.zeros(3), targets)


@pytest.mark.parametrize("z_shape,y_shape", [((4,), (5,)), ((4, 1), (4,)), ((3,), (2, 3))])
def test_shapes_that_do_not_broadcast_to_logits(z_shape, y_shape):
    with pytest.raises(ValueError, match=r"'targets'.*shape"):
        binary_focal_loss(torch.zeros(z_shape), torch.zeros(y_shape))


def test_broadcasting_targets_is_allowed_when_shape_is_kept():
    z = torch.zeros(4, 3)
    assert binary_focal_loss(z, torch.ones(3), reduction="none").shape == (4, 3)


def test_module_validates_at_construction():
    with pytest.raises(ValueError, match="'alpha'"):
        BinaryFocalLoss(alpha=2.0)
    with pytest.raises(ValueError, match="'reduction'"):
        BinaryFocalLoss(reduction="Mean")


# --------------------------------------------------------------------------- one loss for all


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pos_weight", [None, 0.5, 12.0])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gamma0_no_alpha_is_bit_identical_to_bce(dtype, pos_weight, reduction):
    z, y = _data(7)
    z, y = z.to(dtype), y.to(dtype)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=dtype)
    ours = binary_focal_loss(z, y, gamma=0.0, pos_weight=pos_weight, reduction=reduction)
    bce = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction=reduction)
    assert torch.equal(ours, bce)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pos_weight", [None, 12.0])
def test_each_class_term_is_bce_itself(dtype, pos_weight):
    """The general path (a tensor gamma of 0) builds each term on BCE: same values, bit for bit."""
    z, y = _data(8)
    z, y = z.to(dtype), y.to(dtype)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=dtype)
    ours = binary_focal_loss(z, y, gamma=torch.tensor(0.0), pos_weight=pos_weight, reduction="none")
    assert torch.equal(ours, F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none"))


def test_tensor_settings_per_copy_equal_scalar_calls():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4, 50, generator=g) * 3
    y = (torch.rand(4, 50, generator=g) < 0.2).float()
    alphas, gammas, weights = [None, 0.25, 0.5, 0.75], [0.0, 2.0, 1.0, 5.0], [1.0, 12.0, 4.0, 0.5]
    alpha = torch.tensor([float("nan") if a is None else a for a in alphas], dtype=torch.float64)[:, None]
    batched = binary_focal_loss(z, y, alpha=alpha, gamma=torch.tensor(gammas, dtype=torch.float64)[:, None],
                                pos_weight=torch.tensor(weights, dtype=torch.float64)[:, None],
                                reduction="none").mean(dim=-1)
    for k in range(4):
        alone = binary_focal_loss(z[k], y[k], alpha=alphas[k], gamma=gammas[k], pos_weight=weights[k])
        torch.testing.assert_close(batched[k], alone, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name,value", [("alpha", [0.5, 1.5]), ("gamma", [1.0, -1.0]),
                                        ("pos_weight", [1.0, 0.0]), ("gamma", [1.0, float("inf")])])
def test_bad_tensor_settings_are_named(name, value):
    z, y = torch.zeros(2, 3), torch.zeros(2, 3)
    with pytest.raises(ValueError, match=f"'{name}'"):
        binary_focal_loss(z, y, **{name: torch.tensor(value)[:, None]})


def test_tensor_settings_may_not_enlarge_the_logits():
    with pytest.raises(ValueError, match="'gamma'"):
        binary_focal_loss(torch.zeros(3), torch.zeros(3), gamma=torch.zeros(2, 1))


@pytest.mark.parametrize("kwargs", [dict(gamma=0.0), dict(gamma=2.0), dict(gamma=0.0, alpha=0.5),
                                    dict(gamma=2.0, alpha=0.25, pos_weight=torch.tensor(3.0))])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "positives"])
def test_broadcast_targets_give_the_loss_of_the_expanded_targets(kwargs, reduction):
    # Targets that broadcast are allowed; every path and reduction must treat them as expanded
    # (the positives count was taken before broadcasting, and plain BCE refused them).
    z = torch.tensor([[0.3, -1.2, 2.0], [0.1, 0.5, -0.4]])
    y = torch.tensor([1.0, 0.0, 1.0])
    got = binary_focal_loss(z, y, reduction=reduction, **kwargs)
    want = binary_focal_loss(z, y.expand(2, 3).clone(), reduction=reduction, **kwargs)
    assert torch.allclose(got, want)
