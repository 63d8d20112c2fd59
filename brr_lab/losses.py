"""Binary focal loss with exact, documented semantics (Lin et al. 2017, Eq. 5).

Who multiplies what, in one place:

* ``alpha`` multiplies every POSITIVE term; ``1 - alpha`` multiplies every negative term.
  ``alpha=0.25`` gives each positive one third of a negative's weight. ``None`` switches
  alpha weighting off (both classes weight 1).
* ``pos_weight`` multiplies the positive term only, exactly as in
  ``torch.nn.BCEWithLogitsLoss``. With ``alpha`` set too, a positive weighs
  ``alpha * pos_weight`` against a negative's ``1 - alpha``: two class weights.
* ``gamma`` scales each term by ``(1 - p_t) ** gamma``. It is not a class weight: at
  p = 0.5 both classes get the same factor.

p_t always comes from the sigmoid of the logits, never from ``exp(-loss)``: with
pos_weight inside the loss that shortcut turns p_t into p ** pos_weight and silently
switches focusing off for positives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from brr_lab._validation import check_alpha, check_gamma, check_pos_weight, invalid

REDUCTIONS = ("none", "mean", "sum", "positives")
_WHERE = "binary_focal_loss"


def binary_focal_loss(
    logits: Tensor,
    targets: Tensor,
    *,
    alpha: float | Tensor | None = None,
    gamma: float | Tensor = 2.0,
    pos_weight: float | Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Binary focal loss on logits.

    .. math::
        \ell = -\,y\,\alpha\,w_+\,(1-p)^\gamma \log p \;-\; (1-y)(1-\alpha)\,p^\gamma \log(1-p),
        \qquad p = \sigma(z)

    Args:
        logits: raw scores z, any shape, floating point.
        targets: labels in [0, 1] (soft labels allowed), with a shape that broadcasts
            to ``logits.shape`` without enlarging it.
        alpha: weight of the positive class in [0, 1]; negatives get ``1 - alpha``.
            ``None`` (default) means no alpha weighting.
        gamma: focusing parameter, ``>= 0``. ``0`` gives (weighted) cross-entropy.
        pos_weight: ``> 0``; multiplies the positive term as in ``BCEWithLogitsLoss``.
            ``None`` means 1.
        reduction: ``"none"``, ``"mean"``, ``"sum"``, or ``"positives"`` (sum divided by
            ``max(1, targets.sum())``, the number of positives for hard labels, as in
            RetinaNet).

    Settings per copy: ``alpha``, ``gamma`` and ``pos_weight`` may each be a tensor that
    broadcasts to the logits' shape, for example ``(K, 1)`` against ``(K, B)`` logits
    when K models train at once (``brr_lab.experiments.sweep``); take ``reduction="none"`` and
    ``.mean(dim=-1)`` for one loss per copy. In a tensor ``alpha``, NaN means "no alpha
    weighting" for that entry (the tensor form of ``None``).

    Each class's term is ``F.binary_cross_entropy_with_logits`` itself (target 1 with
    ``pos_weight``, target 0), so at ``gamma=0`` and ``alpha=None`` with hard labels the
    loss is bit-identical to ``BCEWithLogitsLoss`` (with or without ``pos_weight``); with
    scalar settings that case calls it directly, gradients included.

    Value checks (ranges of tensor settings and targets) run on CPU tensors only: on
    CUDA they would force a host synchronisation every step. Half-precision inputs are
    computed in float32 (as autocast does for BCE), so the loss and its gradients stay
    finite for logits up to +-1e4.
    """
    alpha, gamma, pos_weight = _check_settings(alpha, gamma, pos_weight, logits)
    if reduction not in REDUCTIONS:
        raise invalid("reduction", _WHERE, f"one of {list(REDUCTIONS)}", reduction)
    if not torch.is_tensor(logits) or not logits.is_floating_point():
        raise invalid("logits", _WHERE, "a floating-point tensor", _describe(logits))
    if not torch.is_tensor(targets):
        raise invalid("targets", _WHERE, "a tensor", _describe(targets))
    _check_shapes(logits, targets)
    _check_targets(targets)

    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    targets = torch.broadcast_to(targets.to(logits.dtype), logits.shape)  # one per logit, every path
    if pos_weight is not None:
        pos_weight = pos_weight.to(device=logits.device, dtype=logits.dtype)

    plain = (alpha is None and not torch.is_tensor(gamma) and gamma == 0.0
             and reduction in ("none", "mean", "sum"))
    if plain:  # exactly BCEWithLogitsLoss, forward and backward
        return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight,
                                                  reduction=reduction)

    pos_term = F.binary_cross_entropy_with_logits(
        logits, torch.ones_like(logits), pos_weight=pos_weight, reduction="none")   # -w log p
    neg_term = F.binary_cross_entropy_with_logits(
        logits, torch.zeros_like(logits), reduction="none")                         # -log(1-p)
    if torch.is_tensor(gamma) or gamma != 0.0:
        g = gamma.to(device=logits.device, dtype=logits.dtype) if torch.is_tensor(gamma) else gamma
        # exp(gamma * log(1 - p)) instead of (1 - p) ** gamma: finite gradient at p -> 1.
        pos_term = pos_term * torch.exp(g * F.logsigmoid(-logits))
        neg_term = neg_term * torch.exp(g * F.logsigmoid(logits))
    if torch.is_tensor(alpha):
        off = torch.isnan(alpha)
        a_pos = torch.where(off, torch.ones_like(alpha), alpha)
        a_neg = torch.where(off, torch.ones_like(alpha), 1.0 - alpha)  # float64 here: exact 1 - a
        pos_term = a_pos.to(device=logits.device, dtype=logits.dtype) * pos_term
        neg_term = a_neg.to(device=logits.device, dtype=logits.dtype) * neg_term
    elif alpha is not None:
        pos_term = alpha * pos_term
        neg_term = (1.0 - alpha) * neg_term
    loss = targets * pos_term + (1.0 - targets) * neg_term

    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    # "positives": RetinaNet normalises by the number of positive examples.
    n_pos = targets.sum().clamp(min=1.0)
    return loss.sum() / n_pos


class BinaryFocalLoss(nn.Module):
    """Module form of :func:`binary_focal_loss`; the arguments mean exactly the same."""

    def __init__(self, *, alpha: float | None = None, gamma: float = 2.0,
                 pos_weight: float | Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        alpha, gamma, pos_weight = _check_settings(alpha, gamma, pos_weight, None)
        if reduction not in REDUCTIONS:
            raise invalid("reduction", "BinaryFocalLoss", f"one of {list(REDUCTIONS)}", reduction)
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
        # A buffer so that .to(device) moves it with the module.
        self.register_buffer("pos_weight", pos_weight, persistent=False)

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        return binary_focal_loss(logits, targets, alpha=self.alpha, gamma=self.gamma,
                                 pos_weight=self.pos_weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        pw = None if self.pos_weight is None else self.pos_weight.tolist()
        return f"alpha={self.alpha}, gamma={self.gamma}, pos_weight={pw}, reduction={self.reduction!r}"


def _check_settings(alpha, gamma, pos_weight, logits):
    if torch.is_tensor(alpha):
        alpha = _check_tensor(alpha, "alpha", logits, lambda a: ~torch.isnan(a) & ((a < 0) | (a > 1)),
                              "None, a float in [0, 1], or a tensor of them (NaN: no alpha)")
    else:
        alpha = check_alpha(alpha, _WHERE)
    if torch.is_tensor(gamma):
        gamma = _check_tensor(gamma, "gamma", logits, lambda g: ~torch.isfinite(g) | (g < 0),
                              "a finite float >= 0, or a tensor of them")
    else:
        gamma = check_gamma(gamma, _WHERE)
    if torch.is_tensor(pos_weight):
        pos_weight = _check_tensor(pos_weight, "pos_weight", logits,
                                   lambda w: ~torch.isfinite(w) | (w <= 0),
                                   "None or a positive finite number (or tensor of them)")
    elif pos_weight is not None:
        pos_weight = torch.tensor(check_pos_weight(pos_weight, _WHERE), dtype=torch.float64)
    return alpha, gamma, pos_weight


def _check_tensor(value: Tensor, name: str, logits, bad_values, allowed: str) -> Tensor:
    """A setting given as a tensor: float64 unless it already floats, values checked on the
    CPU only (a CUDA check would synchronise every step), and a shape that broadcasts to the
    logits without enlarging them."""
    if not value.is_floating_point():
        value = value.double()
    if value.device.type == "cpu":
        bad = bad_values(value.detach())
        if bad.any():
            raise invalid(name, _WHERE, allowed, value.detach()[bad].flatten()[0].item())
    if logits is not None and torch.is_tensor(logits):
        try:
            shape = torch.broadcast_shapes(logits.shape, value.shape)
        except RuntimeError:
            shape = None
        if shape != logits.shape:
            raise invalid(name, _WHERE, f"broadcastable to the logits' shape {tuple(logits.shape)}",
                          f"a tensor of shape {tuple(value.shape)}")
    return value


def _check_shapes(logits: Tensor, targets: Tensor) -> None:
    # Broadcasting that enlarges the logits ((N, 1) against (N,)) is a classic silent bug.
    try:
        shape = torch.broadcast_shapes(logits.shape, targets.shape)
    except RuntimeError:
        shape = None
    if shape != logits.shape:
        raise invalid("targets", _WHERE,
                      f"a tensor whose shape broadcasts to the logits' shape {tuple(logits.shape)}",
                      f"a tensor of shape {tuple(targets.shape)}")


def _check_targets(targets: Tensor) -> None:
    if targets.numel() == 0 or targets.device.type != "cpu":
        return
    values = targets.detach()
    if values.is_floating_point():
        bad = torch.isnan(values) | (values < 0) | (values > 1)
    else:
        bad = (values < 0) | (values > 1)
    if bad.any():
        raise invalid("targets", _WHERE, "labels in [0, 1]",
                      f"{values[bad].flatten()[0].item()} (at least one label outside)")


def _describe(x) -> str:
    if torch.is_tensor(x):
        return f"a {x.dtype} tensor"
    return type(x).__name__
