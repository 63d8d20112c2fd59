"""Live diagnostics for any training loop: gradient share, running AUROC, calls at the threshold, diagnosis.

:class:`TrainingMonitor` needs nothing from :class:`brr_lab.training.trainer.Trainer`; a plain
PyTorch loop uses it in three calls::

    monitor = TrainingMonitor()
    for epoch in range(epochs):
        monitor.start_epoch()
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            monitor.watch_batch(logits, yb, loss)   # before backward: hooks dL/dlogits
            optimizer.zero_grad(); loss.backward(); optimizer.step()
        with torch.no_grad():
            record = monitor.end_epoch(model(X_val), y_val)   # a dict, diagnosis included

The trainer attaches the same monitor through :class:`MonitorCallback`. Sums stay on the
logits' device until :meth:`TrainingMonitor.end_epoch`: one synchronisation per epoch.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from brr_lab._validation import check_probability, invalid
from brr_lab.training.diagnosis import Diagnosis, diagnose_metrics
from brr_lab.training.metrics import UndefinedMetricWarning, auroc, binary_metrics

__all__ = ["TrainingMonitor", "MonitorCallback"]


class TrainingMonitor:
    """Per-epoch diagnostics from the batches a loop trains on and a held-out set.

    Args:
        threshold: decision threshold on sigmoid(logits) for the calls (``p >= threshold``).
        setup: a :class:`brr_lab.weighting.policy.WeightingSetup`, so the diagnosis can name the
            weighting (optional).
        logit_shift: added to held-out logits before the metrics (logit adjustment).
    """

    def __init__(self, *, threshold: float = 0.5, setup=None, logit_shift: float = 0.0) -> None:
        self.threshold = check_probability(threshold, "threshold", "TrainingMonitor")
        self.setup = setup
        self.logit_shift = logit_shift
        self.diagnosis: Diagnosis | None = None
        self.start_epoch()

    def start_epoch(self) -> None:
        """Forget the previous epoch's batches."""
        self._logits: list[Tensor] = []
        self._labels: list[Tensor] = []
        self._loss_sum: Tensor | float = 0.0
        self._grad_pos: Tensor | float = 0.0
        self._grad_all: Tensor | float = 0.0

    def watch_batch(self, logits: Tensor, targets: Tensor, loss: Tensor | None = None) -> None:
        """Record one training batch; call it after the loss and before ``backward``."""
        if tuple(logits.shape) != tuple(targets.shape):  # (B, 1) against (B,) would broadcast
            raise invalid("logits/targets", "TrainingMonitor.watch_batch", "two tensors of one "
                          "shape (the logits the loss saw, and their targets)",
                          f"shapes {tuple(logits.shape)} and {tuple(targets.shape)}")
        y = targets.detach().float()
        if logits.requires_grad:
            def on_grad(grad: Tensor) -> None:  # positives' share of |dL/dz|, read at backward
                g = grad.detach().abs().float()
                self._grad_pos = self._grad_pos + (g * y).sum()
                self._grad_all = self._grad_all + g.sum()
            logits.register_hook(on_grad)
        self._logits.append(logits.detach().float())
        self._labels.append(y)
        if loss is not None:
            self._loss_sum = self._loss_sum + loss.detach().float() * len(y)

    def end_epoch(self, val_logits: Tensor | None = None, val_targets: Tensor | None = None) -> dict:
        """The epoch's figures: training side from the watched batches, held-out side and the
        diagnosis from ``val_logits``/``val_targets`` when given."""
        record: dict = {}
        if self._labels:
            y = torch.cat(self._labels).cpu()
            z = torch.cat(self._logits).cpu()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedMetricWarning)  # one-class batches
                # Running AUROC: the logits as the batches were drawn (the model moves
                # during the epoch); no extra pass over the training data.
                record["train_auroc"] = auroc(y, z) if bool(torch.isfinite(z).all()) else math.nan
            record["batch_pos_fraction"] = float(y.mean())
            all_grad = float(self._grad_all)
            record["pos_grad_share"] = float(self._grad_pos) / all_grad if all_grad > 0 else math.nan
            if not isinstance(self._loss_sum, float):
                record["train_loss"] = float(self._loss_sum) / len(y)
        if val_logits is not None:
            record.update(self.evaluate(val_logits, val_targets, record.get("train_auroc")))
        return record

    def evaluate(self, logits: Tensor, targets: Tensor, train_auroc: float | None = None) -> dict:
        """Held-out metrics at the threshold and the diagnosis (``val_*`` keys)."""
        z = logits.detach().float().cpu() + self.logit_shift
        m = binary_metrics(targets.detach().cpu(), z, threshold=self.threshold)
        self.diagnosis = diagnose_metrics({**m, "train_auroc": train_auroc}, setup=self.setup)
        return {
            "val_auroc": m["auroc"], "val_auprc": m["auprc"], "val_prevalence": m["prevalence"],
            "pred_pos_rate": m["pred_pos_rate"], "recall": m["recall"],
            "precision": m["precision"], "mean_prob": m["mean_prob"],
            "logit_mean": m["logit_mean"], "logit_std": m["logit_std"],
            "diagnosis": self.diagnosis.state,
        }


class MonitorCallback:
    """A :class:`TrainingMonitor` attached to a :class:`~brr_lab.training.trainer.Trainer` through its
    callback hooks; the trainer adds one unless told not to (``diagnostics=False``)."""

    def __init__(self, monitor: TrainingMonitor | None = None) -> None:
        self.monitor = monitor

    def on_fit_start(self, trainer) -> None:
        if self.monitor is None:
            self.monitor = TrainingMonitor(threshold=trainer.threshold, setup=trainer.setup,
                                           logit_shift=trainer.eval_logit_shift)
        else:
            self.monitor.setup = self.monitor.setup or trainer.setup

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.monitor.start_epoch()

    def on_batch_forward(self, trainer, step: int, logits: Tensor, targets: Tensor, loss: Tensor) -> None:
        self.monitor.watch_batch(logits, targets, loss)

    def on_batch_end(self, trainer, step: int, loss: Tensor) -> None: ...

    def on_epoch_end(self, trainer, record: dict) -> None:
        val = trainer.val_data
        logits = None if val is None else trainer.predict_logits(val[0])
        previous = trainer.history[-1].get("diagnosis") if trainer.history else None
        record.update(self.monitor.end_epoch(logits, None if val is None else val[1]))
        trainer.diagnosis = self.monitor.diagnosis
        if "diagnosis" in record and previous not in (None, record["diagnosis"]):
            d = self.monitor.diagnosis
            trainer.log(f"[brr-lab] epoch {record['epoch']}: diagnosis now '{d.state}' ({d.reason})")

    def on_fit_end(self, trainer) -> None: ...
