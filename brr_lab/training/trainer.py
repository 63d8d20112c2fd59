"""A small, model-agnostic trainer for binary detectors, with the diagnostics attached.

It trains any ``model(x) -> logits of shape (batch,)`` with any
``loss_fn(logits, targets) -> scalar``, under one config: :class:`brr_lab.configs.TrainConfig`
(the schema ``brr-lab train`` and ``brr-lab audit`` read from YAML). What it adds to a
plain loop:

* a start block stating the class-weighting setup (active mechanisms, effective ratio,
  q*, the sampler's batch mix, dataset prevalence), via ``brr_lab.weighting.policy``, which also
  refuses stacked weighting unless ``allow_stacked=True``;
* a refusal of single-class training labels (the loaders' message) unless
  ``allow_single_class=True``;
* a per-epoch history; the diagnostics in it (running train AUROC, positives' share of
  the gradient, held-out AUROC/AUPRC, calls at the threshold, the diagnosis) come from
  :class:`brr_lab.training.monitor.MonitorCallback`, attached through the same callback hooks a
  user's own diagnostics use;
* atomic ``best.pt``/``last.pt`` checkpoints that load with ``torch.load(...,
  weights_only=True)``, resume, and a KeyboardInterrupt that keeps the history of
  completed epochs and says what the model in memory holds;
* device "auto", mixed precision on CUDA only, data kept on the GPU when it fits, and
  exact repeats on CPU for a seed (batches depend only on ``(seed, epoch)``).
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from brr_lab.training import checkpoints
from brr_lab._validation import check_real, invalid
from brr_lab.training.callbacks import Callback
from brr_lab.configs import TrainConfig
from brr_lab.training.diagnosis import Diagnosis
from brr_lab.losses import BinaryFocalLoss
from brr_lab.training.monitor import MonitorCallback
from brr_lab.weighting.policy import WeightingSetup, resolve_weighting
from brr_lab.training.sampler import BalancedBatchSampler, shuffled_batches
from brr_lab.training.start_report import interrupt_state, loss_weighting, start_lines
from brr_lab.training.inputs import (
    as_xy, place_data, resolve_device, seed_everything, with_overrides,
)

__all__ = ["TrainConfig", "Trainer", "Callback", "seed_everything", "resolve_device",
           "load_checkpoint", "loss_weighting"]

_WHERE = "Trainer"


class Trainer:
    """Train ``model`` with ``loss_fn``; see the module docstring.

    Length: one job, the training loop and its state (optimiser, scaler, sampler,
    history, interrupt bookkeeping), which every hook reads through ``self``; the checks,
    messages and files around it live in :mod:`brr_lab.training.inputs`,
    :mod:`brr_lab.training.start_report` and :mod:`brr_lab.training.checkpoints`.

    Args:
        model: any ``nn.Module`` mapping ``(batch, ...)`` inputs to ``(batch,)`` logits.
            Its initial weights are the caller's (call :func:`seed_everything` first).
        loss_fn: ``loss_fn(logits, targets)``; BinaryFocalLoss and BCEWithLogitsLoss are
            read for the weighting summary, others are reported as not inspected.
        config: a :class:`~brr_lab.configs.TrainConfig` (or a dict of it). The trainer reads
            its ``trainer`` section, ``eval.threshold`` and ``sampler``; the loss and the
            data are the caller's (:meth:`from_config` builds them from the file).
        callbacks: :class:`Callback` instances, after the diagnostics monitor.
        log: where start-block and diagnosis lines go (``print`` by default).
        allow_stacked: train a setup with two or more class-weighting mechanisms.
        allow_single_class: train on labels of one class (only to show what a pipeline
            without the label guard reports).
        eval_logit_shift: added to held-out logits before the metrics (logit adjustment).
        diagnostics: attach :class:`brr_lab.training.monitor.MonitorCallback` (default True).
        progress, verbose: a tqdm bar; start block and diagnosis lines.
        **overrides: fields of ``config.trainer`` (``epochs=3``), ``threshold`` and
            ``sampler_fraction`` (None, or the positive share per batch).
    """

    def __init__(self, model: nn.Module, loss_fn, config: TrainConfig | dict | None = None, *,
                 callbacks=(), log=None, allow_stacked: bool = False,
                 allow_single_class: bool = False, eval_logit_shift: float = 0.0,
                 diagnostics: bool = True, progress: bool = True, verbose: bool = True,
                 **overrides) -> None:
        if config is None:
            config = TrainConfig()
        elif isinstance(config, dict):
            config = TrainConfig.model_validate(config)
        elif not isinstance(config, TrainConfig):
            raise invalid("config", _WHERE, "a brr_lab.configs.TrainConfig, a dict of one, or None",
                          type(config).__name__)
        if overrides:
            config = with_overrides(config, overrides)
        self.config = config
        self.settings = config.trainer
        self.threshold = config.eval.threshold
        self.eval_logit_shift = check_real(eval_logit_shift, "eval_logit_shift", _WHERE,
                                           allowed="a finite float")
        self.allow_stacked = bool(allow_stacked)
        self.allow_single_class = bool(allow_single_class)
        self.progress, self.verbose = bool(progress), bool(verbose)
        self.model = model
        self.loss_fn = loss_fn
        self.callbacks = ([MonitorCallback()] if diagnostics else []) + list(callbacks)
        self.device = resolve_device(self.settings.device)
        self.amp_dtype = None
        if self.device.type == "cuda" and self.settings.amp == "auto":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self._log = log or print
        self.history: list[dict] = []
        self.step_history: list[dict] = []
        self.setup: WeightingSetup | None = None
        self.sampler: BalancedBatchSampler | None = None
        self.diagnosis: Diagnosis | None = None
        self.val_data: tuple[Tensor, Tensor] | None = None
        self.best_auroc = -math.inf
        self.stop_training = False
        self.interrupted = False
        self.in_epoch: int | None = None            # set while an epoch is under way
        self.last_trained_epoch: int | None = None  # the last epoch the model holds in full
        self.optimizer = None
        self.scaler = None

    @classmethod
    def from_config(cls, config: TrainConfig, model: nn.Module, *, prevalence: float,
                    **kwargs) -> "Trainer":
        """A trainer with the loss the config names (``loss`` section; ``pos_weight:
        auto``/``sqrt`` resolved against ``prevalence``, the training data's). With
        ``trainer.prior_bias_init`` the model's last ``nn.Linear`` (one output) gets the
        bias log(pi/(1-pi)) (RetinaNet 3.3); a model without one is refused."""
        loss = BinaryFocalLoss(**config.loss_kwargs(prevalence))
        if config.trainer.prior_bias_init:
            from brr_lab.training.models import init_prior_bias
            linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
            if not linears or linears[-1].out_features != 1 or linears[-1].bias is None:
                raise invalid("trainer.prior_bias_init", "Trainer.from_config", "false for a model "
                              "whose last layer is not an nn.Linear with one output and a bias",
                              True)
            init_prior_bias(linears[-1], prevalence)
        return cls(model, loss, config, **kwargs)

    # ------------------------------------------------------------------ set-up
    def log(self, text: str) -> None:
        if self.verbose:
            for line in text.splitlines():
                tqdm.write(line) if self._log is print else self._log(line)

    def _check_labels(self, y_train: Tensor) -> None:
        n_pos = int(y_train.sum())
        if 0 < n_pos < len(y_train) or self.allow_single_class:
            return
        from brr_lab.eeg.guards import check_labels  # the loaders' guard and message
        check_labels(y_train, context="Trainer.fit training labels (pass allow_single_class=True "
                     "to train anyway, only to show what a pipeline without this guard reports)")

    def _start_block(self, y_train: Tensor, y_val: Tensor | None) -> None:
        """Build the sampler, resolve the weighting (stacking refused unless allowed), say so."""
        cfg = self.settings
        prevalence = int(y_train.sum()) / len(y_train)
        fraction = self.config.sampler_fraction(prevalence) if 0 < prevalence < 1 else None
        if fraction is not None:
            self.sampler = BalancedBatchSampler(y_train, batch_size=cfg.batch_size,
                                                pos_fraction=fraction, seed=cfg.seed)
        weights = loss_weighting(self.loss_fn)
        if weights is not None and 0 < prevalence < 1:
            self.setup = resolve_weighting(
                **weights, sampler_fraction=self.sampler.batch_fraction if self.sampler else None,
                prevalence=prevalence, allow_stacked=self.allow_stacked)
        self.log("\n".join("[brr-lab] " + line for line in start_lines(self, y_train, y_val)))

    # ------------------------------------------------------------------ loop
    def fit(self, train, val=None, *, resume: bool | str | os.PathLike = False) -> list[dict]:
        """Train; return the per-epoch history (also kept in ``self.history``).

        ``val``: the held-out windows the per-epoch diagnostics are measured on.
        ``resume=True`` continues from ``<checkpoint_dir>/last.pt``; a path names a checkpoint.
        A KeyboardInterrupt stops training, keeps the history of completed epochs and
        the last checkpoint (written at the end of each completed epoch), sets
        ``self.interrupted`` and returns.
        """
        x_train, y_train, start_epoch = self._begin(train, val, resume)
        for cb in self.callbacks:
            cb.on_fit_start(self)

        self.stop_training = False
        self.interrupted = False
        self.in_epoch = None
        self.last_trained_epoch = start_epoch - 1 if self.history or start_epoch > 1 else None
        bar = tqdm(range(start_epoch, self.settings.epochs + 1), desc="train", unit="epoch",
                   disable=not self.progress, leave=False)
        try:
            for epoch in bar:
                self.in_epoch = epoch
                record = self._train_epoch(epoch, x_train, y_train)
                self.in_epoch = None   # the model now holds the whole epoch
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                self.history.append(record)
                self._checkpoint(record)
                bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                                auroc=f"{record.get('val_auroc', math.nan):.3f}",
                                pos=f"{record.get('pred_pos_rate', math.nan):.0%}")
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.interrupted = True
            self.log("[brr-lab] interrupted: " + interrupt_state(self))
        finally:
            bar.close()
        if self.history and self.diagnosis is not None:
            self.log(f"[brr-lab] after epoch {self.history[-1]['epoch']}: {self.diagnosis}")
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return self.history

    def _begin(self, train, val, resume) -> tuple[Tensor, Tensor, int]:
        """Check the data, build the optimiser, resume, say what trains, place the data."""
        cfg = self.settings
        x_train, y_train = as_xy(train, "train")
        self._check_labels(y_train)
        x_val, y_val = as_xy(val, "val") if val is not None else (None, None)
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr,
                                          weight_decay=cfg.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        if hasattr(self.loss_fn, "to"):
            self.loss_fn.to(self.device)
        self.history, self.step_history, self.best_auroc = [], [], -math.inf
        start_epoch = checkpoints.resume(self, resume) + 1 if resume else 1
        self._start_block(y_train, y_val)
        extra = 0 if x_val is None else x_val.element_size() * x_val.nelement()
        x_train, y_train = place_data(x_train, y_train, self.device, cfg.data_on_device, extra)
        self.val_data = None if x_val is None else place_data(
            x_val, y_val, self.device, cfg.data_on_device, 0)
        if self.device.type == "cuda":
            where = ("kept on the GPU" if x_train.is_cuda else
                     "in pinned CPU memory, moved per batch (it does not fit)")
            self.log(f"[brr-lab] training data {where}")
        return x_train, y_train, start_epoch

    def _epoch_batches(self, epoch: int, n: int, device: torch.device) -> Tensor | tuple[Tensor, ...]:
        """One epoch's batches of indices, drawn on the CPU from (seed, epoch), moved once."""
        if self.sampler is not None:
            return self.sampler.epoch_batches(epoch).to(device)
        return tuple(b.to(device) for b in shuffled_batches(
            n, batch_size=self.settings.batch_size, seed=self.settings.seed, epoch=epoch))

    def _train_epoch(self, epoch: int, x: Tensor, y: Tensor) -> dict:
        cfg = self.settings
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        self.model.train()
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=self.device)  # on the device: one sync per epoch
        n_seen = 0
        for step, idx in enumerate(self._epoch_batches(epoch, len(y), x.device)):
            xb = x[idx].to(self.device, non_blocking=True)
            yb = y[idx].to(self.device, non_blocking=True)
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                enabled=self.amp_dtype is not None):
                logits = self.model(xb)
                if logits.shape != yb.shape:
                    raise invalid("model", _WHERE, f"logits of shape {tuple(yb.shape)} (one "
                                  "per example)", f"shape {tuple(logits.shape)}")
                loss = self.loss_fn(logits, yb)
            for cb in self.callbacks:
                cb.on_batch_forward(self, step, logits, yb, loss)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            loss_sum += loss.detach().float() * len(yb)
            n_seen += len(yb)
            for cb in self.callbacks:
                cb.on_batch_end(self, step, loss.detach())
            if cfg.log_every_n_steps and step % cfg.log_every_n_steps == 0:
                self.step_history.append({"epoch": epoch, "step": step, "loss": float(loss.detach())})
        self.last_trained_epoch = epoch
        return {"epoch": epoch, "train_loss": float(loss_sum) / n_seen,
                "seconds": time.perf_counter() - t0}

    @torch.inference_mode()
    def predict_logits(self, x: Tensor) -> Tensor:
        """Raw logits (no evaluation shift) for ``x``, in batches, as a CPU float tensor."""
        was_training = self.model.training
        self.model.eval()
        out = []
        for xb in torch.as_tensor(x).split(self.settings.eval_batch_size):
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                enabled=self.amp_dtype is not None):
                out.append(self.model(xb.to(self.device, non_blocking=True)).float())
        self.model.train(was_training)
        return torch.cat(out).cpu()

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint(self, record: dict) -> None:
        auroc = record.get("val_auroc", math.nan)
        improved = not math.isnan(auroc) and auroc > self.best_auroc
        if improved:
            self.best_auroc = auroc
        if self.settings.checkpoint_dir:
            checkpoints.save_epoch(self, record, Path(self.settings.checkpoint_dir), improved)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a trainer checkpoint safely (``weights_only=True``); errors name the file."""
    return checkpoints.load(path, map_location=map_location)
