"""What the trainer says: before its first epoch, the class-weighting setup it is about to
train under (mechanisms, effective ratio, q*, the sampler's batch mix, the prevalence);
after a Ctrl-C, what the history, the checkpoint and the model in memory hold."""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from brr_lab._validation import invalid
from brr_lab.losses import BinaryFocalLoss

if TYPE_CHECKING:
    from brr_lab.training.trainer import Trainer

__all__ = ["loss_weighting", "start_lines", "interrupt_state"]


def loss_weighting(loss_fn) -> dict | None:
    """alpha, gamma and pos_weight of a known loss (BinaryFocalLoss, BCEWithLogitsLoss)."""
    def scalar(w):
        if w is None:
            return None
        if w.numel() != 1:
            raise invalid("loss_fn.pos_weight", "Trainer", "a single value (per-class "
                          "pos_weight tensors are not summarised)", f"shape {tuple(w.shape)}")
        return float(w)
    if isinstance(loss_fn, BinaryFocalLoss):
        return {"alpha": loss_fn.alpha, "gamma": loss_fn.gamma, "pos_weight": scalar(loss_fn.pos_weight)}
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return {"alpha": None, "gamma": 0.0, "pos_weight": scalar(loss_fn.pos_weight)}
    return None


def start_lines(trainer: "Trainer", y_train: Tensor, y_val: Tensor | None) -> list[str]:
    """The start block, one line per fact, for ``trainer`` about to fit on these labels."""
    cfg = trainer.settings
    n_pos, n = int(y_train.sum()), len(y_train)
    prevalence = n_pos / n
    amp = {None: "off", torch.bfloat16: "bfloat16", torch.float16: "float16"}[trainer.amp_dtype]
    lines = [f"{type(trainer.model).__name__} on {trainer.device} (mixed precision {amp}), "
             f"{cfg.epochs} epochs, batch {cfg.batch_size}, Adam lr {cfg.lr:g}, seed {cfg.seed}",
             f"train: {n} windows, {n_pos} positive (prevalence {prevalence:.4f}, "
             f"{n - n_pos}:{n_pos} = {(n - n_pos) / max(n_pos, 1):.3g}:1)"]
    if y_val is not None:
        vp = int(y_val.sum())
        lines.append(f"held out: {len(y_val)} windows, {vp} positive (prevalence {vp / len(y_val):.4f})")
    return [*lines, *_weighting_lines(trainer, prevalence)]


def _weighting_lines(trainer: "Trainer", prevalence: float) -> list[str]:
    lines = []
    if trainer.setup is not None:
        lines.append(f"loss: {trainer.loss_fn!r}")
        lines += trainer.setup.summary().splitlines()
    elif loss_weighting(trainer.loss_fn) is None:
        lines.append(f"loss: {type(trainer.loss_fn).__name__} (custom: class weighting not "
                     "inspected; the sampler below still counts)")
    else:
        lines.append("weighting not resolved: the training labels hold one class "
                     "(allow_single_class=True)")
    if trainer.sampler is not None:
        lines.append(trainer.sampler.report().describe())
    else:
        lines.append(f"batches: plain shuffling, expected {prevalence:.1%} positive per batch "
                     "(the dataset prevalence)")
    if trainer.eval_logit_shift:
        # z + shift >= logit(t)  <=>  sigmoid(z) >= sigmoid(logit(t) - shift)
        t = trainer.threshold
        q = 1 / (1 + math.exp(-(math.log(t / (1 - t)) - trainer.eval_logit_shift)))
        lines.append(f"evaluation adds {trainer.eval_logit_shift:+.4g} to the logits (logit "
                     f"adjustment): threshold {t:g} on the adjusted output = {q:.3g} on the raw one")
    return lines


def interrupt_state(trainer: "Trainer") -> str:
    """What the history, the checkpoint and the model in memory hold after an interrupt."""
    done = trainer.history[-1]["epoch"] if trainer.history else None
    text = f"kept the history of {len(trainer.history)} completed epoch(s)"
    if trainer.settings.checkpoint_dir and trainer.history:
        text += f"; {Path(trainer.settings.checkpoint_dir) / 'last.pt'} holds epoch {done}"
    if trainer.in_epoch is not None:
        return text + f". The model in memory holds part of epoch {trainer.in_epoch}."
    if trainer.last_trained_epoch is None:
        return text + ". The model in memory holds its initial weights."
    if trainer.last_trained_epoch != done:
        return text + (f". The model in memory holds all of epoch {trainer.last_trained_epoch}, "
                       "whose diagnostics and checkpoint were not completed.")
    return text + f". The model in memory holds epoch {done}."
