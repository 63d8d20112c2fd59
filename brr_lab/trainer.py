"""A small, model-agnostic trainer for binary detectors, with the diagnostics built in.

It trains any ``model(x) -> logits of shape (batch,)`` with any
``loss_fn(logits, targets) -> scalar``. What it adds to a plain loop:

* a start block stating the class-weighting setup (active mechanisms, effective ratio,
  q*, the sampler's batch mix, dataset prevalence), via ``brr_lab.policy``, which also
  refuses stacked weighting unless ``allow_stacked=True``;
* a per-epoch history (optionally per step) with train loss, a running train AUROC
  (on the logits of the epoch's training batches as they were drawn: no extra pass,
  the model moves during the epoch), validation AUROC/AUPRC
  beside the prevalence, predicted-positive rate, recall and precision at the threshold,
  mean predicted probability, positives' share of the gradient on the output logits,
  the logit spread, and a diagnosis (``brr_lab.diagnosis``);
* atomic ``best.pt``/``last.pt`` checkpoints that load with ``torch.load(...,
  weights_only=True)``, resume, and a KeyboardInterrupt that keeps history and the last
  checkpoint;
* device "auto", mixed precision on CUDA only, data kept on the GPU when it fits, and
  exact repeats on CPU for a seed (shuffling depends only on ``(seed, epoch)``).

Diagnostics attach through :class:`Callback` hooks instead of edits to the loop.
"""
from __future__ import annotations

import dataclasses
import math
import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from brr_lab._validation import check_real, invalid
from brr_lab.diagnosis import Diagnosis, diagnose_metrics
from brr_lab.losses import BinaryFocalLoss
from brr_lab.metrics import UndefinedMetricWarning, auroc, binary_metrics
from brr_lab.policy import WeightingSetup, resolve_weighting
from brr_lab.sampler import BalancedBatchSampler

__all__ = ["TrainConfig", "Trainer", "Callback", "seed_everything", "resolve_device",
           "load_checkpoint", "loss_weighting"]

_WHERE = "TrainConfig"


@dataclass
class TrainConfig:
    """Every setting of a run, in one place. Unknown keys are an error.

    device: "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N".
    amp: "auto" (mixed precision on CUDA only), "off". Never used on CPU.
    sampler_fraction: None (plain shuffling) or the target positive share per batch of a
        :class:`~brr_lab.sampler.BalancedBatchSampler` (counted as a weighting mechanism).
    eval_logit_shift: added to the logits before validation metrics: logit adjustment
        back to the true prior (e.g. ``-log(sampler odds)``); 0 means none.
    data_on_device: "auto" (move the data to the GPU once when it fits in half the free
        memory), "always", "never".
    """

    epochs: int = 6
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    sampler_fraction: float | None = None
    allow_stacked: bool = False
    threshold: float = 0.5
    eval_logit_shift: float = 0.0
    grad_clip: float | None = None
    log_every_n_steps: int | None = None
    checkpoint_dir: str | None = None
    data_on_device: str = "auto"
    eval_batch_size: int = 1024
    progress: bool = True
    verbose: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            _check_int(getattr(self, name), name, 1)
        _check_int(self.seed, "seed", None)
        if self.log_every_n_steps is not None:
            _check_int(self.log_every_n_steps, "log_every_n_steps", 1)
        check_real(self.lr, "lr", _WHERE, low=0, low_open=True, allowed="a float > 0")
        check_real(self.weight_decay, "weight_decay", _WHERE, low=0, allowed="a float >= 0")
        check_real(self.threshold, "threshold", _WHERE, low=0, high=1, low_open=True,
                   high_open=True, allowed="a probability threshold in (0, 1)")
        check_real(self.eval_logit_shift, "eval_logit_shift", _WHERE, allowed="a finite float")
        if self.grad_clip is not None:
            check_real(self.grad_clip, "grad_clip", _WHERE, low=0, low_open=True,
                       allowed="None or a float > 0")
        if self.sampler_fraction is not None:
            check_real(self.sampler_fraction, "sampler_fraction", _WHERE, low=0, high=1,
                       low_open=True, high_open=True,
                       allowed="None or a positive fraction per batch in (0, 1)")
        if self.amp not in ("auto", "off"):
            raise invalid("amp", _WHERE, "'auto' (CUDA only) or 'off'", self.amp)
        if self.data_on_device not in ("auto", "always", "never"):
            raise invalid("data_on_device", _WHERE, "'auto', 'always' or 'never'", self.data_on_device)
        resolve_device(self.device)  # validates the name

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise invalid("config", _WHERE, f"keys among {sorted(known)}", unknown)
        return cls(**values)


def _check_int(value, name: str, low: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        raise invalid(name, _WHERE, "an int" + (f" >= {low}" if low is not None else ""), value)


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are checked and returned."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, str) or not (device in ("cpu", "mps") or device.startswith("cuda")):
        raise invalid("device", _WHERE, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise invalid("device", _WHERE, "'auto' or 'cpu' on a machine without CUDA", device)
    if device == "mps" and not torch.backends.mps.is_available():
        raise invalid("device", _WHERE, "'auto' or 'cpu' on a machine without MPS", device)
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (model initialisation draws from torch's global RNG)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Callback:
    """Hooks into the loop. Set ``trainer.stop_training = True`` to stop after this epoch."""

    def on_fit_start(self, trainer: "Trainer") -> None: ...
    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_batch_end(self, trainer: "Trainer", step: int, loss: Tensor) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", record: dict) -> None: ...
    def on_fit_end(self, trainer: "Trainer") -> None: ...


def _as_xy(data, name: str) -> tuple[Tensor, Tensor]:
    """Accept ``(X, y)`` or anything with ``.X`` and ``.y`` (a ``WindowSet``)."""
    if hasattr(data, "X") and hasattr(data, "y"):
        x, y = data.X, data.y
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise invalid(name, "Trainer.fit", "(X, y) tensors or an object with .X and .y",
                      type(data).__name__)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if len(x) != len(y) or y.dim() != 1:
        raise invalid(name, "Trainer.fit", "X with one row per label and 1-D labels y",
                      f"X of shape {tuple(x.shape)} and y of shape {tuple(y.shape)}")
    if len(y) == 0:
        raise invalid(name, "Trainer.fit", "at least one example", "none")
    if not bool(((y == 0) | (y == 1)).all()):
        raise invalid(name, "Trainer.fit", "0/1 labels", sorted(set(y.tolist()))[:5])
    return x.float(), y.float()


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


class Trainer:
    """Train ``model`` with ``loss_fn``; see the module docstring.

    Args:
        model: any ``nn.Module`` mapping ``(batch, ...)`` inputs to ``(batch,)`` logits.
            Its initial weights are the caller's (call :func:`seed_everything` first).
        loss_fn: ``loss_fn(logits, targets)``; BinaryFocalLoss and BCEWithLogitsLoss are
            read for the weighting summary, others are reported as not inspected.
        config: a :class:`TrainConfig` or a dict of its fields; keyword overrides too.
        callbacks: :class:`Callback` instances.
        log: where start-block and diagnosis lines go (``print`` by default; quiet when
            ``config.verbose`` is False).
    """

    def __init__(self, model: nn.Module, loss_fn, config: TrainConfig | dict | None = None, *,
                 callbacks=(), log=None, **overrides) -> None:
        if config is None:
            config = TrainConfig()
        if isinstance(config, dict):
            config = TrainConfig.from_dict(config)
        if overrides:
            config = TrainConfig.from_dict({**dataclasses.asdict(config), **overrides})
        self.config = config
        self.model = model
        self.loss_fn = loss_fn
        self.callbacks = list(callbacks)
        self.device = resolve_device(config.device)
        self.amp_dtype = None
        if self.device.type == "cuda" and config.amp == "auto":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self._log = log or print
        self.history: list[dict] = []
        self.step_history: list[dict] = []
        self.setup: WeightingSetup | None = None
        self.sampler: BalancedBatchSampler | None = None
        self.diagnosis: Diagnosis | None = None
        self.best_auroc = -math.inf
        self.stop_training = False
        self.interrupted = False
        self.optimizer = None
        self.scaler = None

    # ------------------------------------------------------------------ set-up
    def log(self, text: str) -> None:
        if self.config.verbose:
            for line in text.splitlines():
                tqdm.write(line) if self._log is print else self._log(line)

    def _prepare_data(self, x: Tensor, y: Tensor, extra_bytes: int) -> tuple[Tensor, Tensor]:
        """Keep CPU data where it is; on CUDA move it once when it fits (else per batch)."""
        if self.device.type != "cuda":
            return x, y
        mode = self.config.data_on_device
        fits = True
        if mode == "auto":
            free, _ = torch.cuda.mem_get_info(self.device)
            fits = x.element_size() * x.nelement() + extra_bytes < 0.5 * free
        if mode == "always" or (mode == "auto" and fits):
            return x.to(self.device), y.to(self.device)
        return x.pin_memory(), y.pin_memory()

    def _start_block(self, y_train: Tensor, y_val: Tensor | None) -> None:
        cfg = self.config
        n_pos = int(y_train.sum())
        n = len(y_train)
        prevalence = n_pos / n
        weights = loss_weighting(self.loss_fn)
        if cfg.sampler_fraction is not None:
            self.sampler = BalancedBatchSampler(y_train, batch_size=cfg.batch_size,
                                                pos_fraction=cfg.sampler_fraction, seed=cfg.seed)
        fraction = self.sampler.batch_fraction if self.sampler else None
        if weights is not None and 0 < prevalence < 1:
            self.setup = resolve_weighting(**weights, sampler_fraction=fraction,
                                           prevalence=prevalence, allow_stacked=cfg.allow_stacked)
        amp = {None: "off", torch.bfloat16: "bfloat16", torch.float16: "float16"}[self.amp_dtype]
        lines = [f"[brr-lab] {type(self.model).__name__} on {self.device} (mixed precision {amp}), "
                 f"{cfg.epochs} epochs, batch {cfg.batch_size}, Adam lr {cfg.lr:g}, seed {cfg.seed}",
                 f"[brr-lab] train: {n} windows, {n_pos} positive (prevalence {prevalence:.4f}, "
                 f"{n - n_pos}:{n_pos} = {(n - n_pos) / max(n_pos, 1):.3g}:1)"]
        if y_val is not None:
            vp = int(y_val.sum())
            lines.append(f"[brr-lab] validation: {len(y_val)} windows, {vp} positive "
                         f"(prevalence {vp / len(y_val):.4f})")
        if self.setup is not None:
            lines.append(f"[brr-lab] loss: {self.loss_fn!r}")
            lines += ["[brr-lab] " + line for line in self.setup.summary().splitlines()]
        elif weights is None:
            lines.append(f"[brr-lab] loss: {type(self.loss_fn).__name__} (custom: class weighting "
                         "not inspected; the sampler below still counts)")
        else:
            lines.append("[brr-lab] weighting not resolved: the training labels hold one class")
        if self.sampler is not None:
            lines.append("[brr-lab] " + self.sampler.report().describe())
        else:
            lines.append(f"[brr-lab] batches: plain shuffling, expected {prevalence:.1%} positive "
                         "per batch (the dataset prevalence)")
        if cfg.eval_logit_shift:
            # z + shift >= logit(t)  <=>  sigmoid(z) >= sigmoid(logit(t) - shift)
            cut = math.log(cfg.threshold / (1 - cfg.threshold)) - cfg.eval_logit_shift
            q = 1 / (1 + math.exp(-cut))
            lines.append(f"[brr-lab] evaluation adds {cfg.eval_logit_shift:+.4g} to the logits "
                         f"(logit adjustment): threshold {cfg.threshold:g} on the adjusted output "
                         f"= {q:.3g} on the raw one")
        self.log("\n".join(lines))

    # ------------------------------------------------------------------ loop
    def fit(self, train, val=None, *, resume: bool | str | os.PathLike = False) -> list[dict]:
        """Train; return the per-epoch history (also kept in ``self.history``).

        ``resume=True`` continues from ``<checkpoint_dir>/last.pt``; a path names a checkpoint.
        A KeyboardInterrupt stops training, keeps the history of completed epochs and
        the last checkpoint (written at the end of each completed epoch), and returns.
        """
        cfg = self.config
        x_train, y_train = _as_xy(train, "train")
        x_val = y_val = None
        if val is not None:
            x_val, y_val = _as_xy(val, "val")
        self.model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr,
                                          weight_decay=cfg.weight_decay)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        if hasattr(self.loss_fn, "to"):
            self.loss_fn.to(self.device)
        start_epoch = 1
        self.history, self.step_history, self.best_auroc = [], [], -math.inf
        if resume:
            start_epoch = self._load(resume) + 1
        self._start_block(y_train, y_val)
        extra = 0 if x_val is None else x_val.element_size() * x_val.nelement()
        x_train, y_train = self._prepare_data(x_train, y_train, extra)
        if x_val is not None:
            x_val, y_val = self._prepare_data(x_val, y_val, 0)
        if self.device.type == "cuda":
            where = ("kept on the GPU" if x_train.is_cuda else
                     "in pinned CPU memory, moved per batch (it does not fit)")
            self.log(f"[brr-lab] training data {where}")
        for cb in self.callbacks:
            cb.on_fit_start(self)

        self.stop_training = False
        self.interrupted = False
        bar = tqdm(range(start_epoch, cfg.epochs + 1), desc="train", unit="epoch",
                   disable=not cfg.progress, leave=False)
        try:
            for epoch in bar:
                record = self._train_epoch(epoch, x_train, y_train)
                if x_val is not None:
                    record.update(self._validate(x_val, y_val, epoch, record["train_auroc"]))
                self.history.append(record)
                self._checkpoint(record)
                bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                                auroc=f"{record.get('val_auroc', math.nan):.3f}",
                                pos=f"{record.get('pred_pos_rate', math.nan):.0%}")
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.interrupted = True
            where = (f"; last checkpoint: {Path(cfg.checkpoint_dir) / 'last.pt'}"
                     if cfg.checkpoint_dir and self.history else "")
            self.log(f"[brr-lab] interrupted: kept the history of {len(self.history)} completed "
                     f"epoch(s){where}. The model in memory holds the partial epoch's weights.")
        finally:
            bar.close()
        if self.history and self.diagnosis is not None:
            self.log(f"[brr-lab] after epoch {self.history[-1]['epoch']}: {self.diagnosis}")
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return self.history

    def _epoch_batches(self, epoch: int, n: int, device: torch.device) -> Tensor | tuple[Tensor, ...]:
        """One epoch's batches of indices, drawn on the CPU from (seed, epoch), moved once."""
        if self.sampler is not None:
            return self.sampler.epoch_batches(epoch).to(device)
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        return torch.randperm(n, generator=gen).to(device).split(self.config.batch_size)

    def _train_epoch(self, epoch: int, x: Tensor, y: Tensor) -> dict:
        cfg = self.config
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        self.model.train()
        t0 = time.perf_counter()
        # Sums stay on the device: one synchronisation per epoch, not per step.
        loss_sum = torch.zeros((), device=self.device)
        grad_pos = torch.zeros((), device=self.device)
        grad_all = torch.zeros((), device=self.device)
        n_pos_seen = torch.zeros((), device=self.device)
        n_seen = 0
        seen_logits, seen_labels = [], []  # for the running train AUROC, at no extra pass
        batches = self._epoch_batches(epoch, len(y), x.device)
        for step, idx in enumerate(batches):
            xb = x[idx].to(self.device, non_blocking=True)
            yb = y[idx].to(self.device, non_blocking=True)
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                enabled=self.amp_dtype is not None):
                logits = self.model(xb)
                if logits.shape != yb.shape:
                    raise invalid("model", "Trainer", f"logits of shape {tuple(yb.shape)} (one "
                                  "per example)", f"shape {tuple(logits.shape)}")
                loss = self.loss_fn(logits, yb)
            logits.retain_grad()  # positives' share of dL/dz, read after backward
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if cfg.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            with torch.no_grad():
                g = logits.grad.abs().float()
                grad_pos += (g * yb).sum()
                grad_all += g.sum()
                loss_sum += loss.detach().float() * len(yb)
                n_pos_seen += yb.sum()
                n_seen += len(yb)
                seen_logits.append(logits.detach().float())
                seen_labels.append(yb)
            for cb in self.callbacks:
                cb.on_batch_end(self, step, loss.detach())
            if cfg.log_every_n_steps and step % cfg.log_every_n_steps == 0:
                self.step_history.append({"epoch": epoch, "step": step, "loss": float(loss.detach())})
        all_grad = float(grad_all)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)  # one-class training labels
            train_auroc = auroc(torch.cat(seen_labels).cpu(), torch.cat(seen_logits).cpu())
        return {
            "epoch": epoch,
            "train_loss": float(loss_sum) / n_seen,
            "train_auroc": train_auroc,
            "batch_pos_fraction": float(n_pos_seen) / n_seen,
            "pos_grad_share": float(grad_pos) / all_grad if all_grad > 0 else math.nan,
            "seconds": time.perf_counter() - t0,
        }

    @torch.no_grad()
    def predict_logits(self, x: Tensor) -> Tensor:
        """Raw logits (no evaluation shift) for ``x``, in batches, as a CPU float tensor."""
        was_training = self.model.training
        self.model.eval()
        out = []
        for xb in torch.as_tensor(x).split(self.config.eval_batch_size):
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                enabled=self.amp_dtype is not None):
                out.append(self.model(xb.to(self.device, non_blocking=True)).float())
        self.model.train(was_training)
        return torch.cat(out).cpu()

    def _validate(self, x: Tensor, y: Tensor, epoch: int, train_auroc: float) -> dict:
        logits = self.predict_logits(x) + self.config.eval_logit_shift
        # Single-class labels: NaN AUROC plus an UndefinedMetricWarning, then diagnosed.
        m = binary_metrics(y.cpu(), logits, threshold=self.config.threshold)
        self.diagnosis = diagnose_metrics({**m, "train_auroc": train_auroc}, setup=self.setup)
        if self.history and self.history[-1].get("diagnosis") not in (None, self.diagnosis.state):
            self.log(f"[brr-lab] epoch {epoch}: diagnosis now "
                     f"'{self.diagnosis.state}' ({self.diagnosis.reason})")
        return {
            "val_auroc": m["auroc"], "val_auprc": m["auprc"], "val_prevalence": m["prevalence"],
            "pred_pos_rate": m["pred_pos_rate"], "recall": m["recall"],
            "precision": m["precision"], "mean_prob": m["mean_prob"],
            "logit_mean": m["logit_mean"], "logit_std": m["logit_std"],
            "diagnosis": self.diagnosis.state,
        }

    # ------------------------------------------------------------------ checkpoints
    def _state(self, record: dict) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": record["epoch"],
            "history": [dict(r) for r in self.history],
            "best_auroc": self.best_auroc,
            "config": dataclasses.asdict(self.config),
        }

    def _checkpoint(self, record: dict) -> None:
        auroc = record.get("val_auroc", math.nan)
        improved = not math.isnan(auroc) and auroc > self.best_auroc
        if improved:
            self.best_auroc = auroc
        if not self.config.checkpoint_dir:
            return
        folder = Path(self.config.checkpoint_dir)
        folder.mkdir(parents=True, exist_ok=True)
        state = self._state(record)
        _atomic_save(state, folder / "last.pt")
        if improved:
            _atomic_save(state, folder / "best.pt")

    def _load(self, resume) -> int:
        if resume is True:
            if not self.config.checkpoint_dir:
                raise invalid("resume", "Trainer.fit", "a checkpoint path, or True with "
                              "config.checkpoint_dir set", resume)
            resume = Path(self.config.checkpoint_dir) / "last.pt"
        path = Path(resume)
        if not path.is_file():
            raise invalid("resume", "Trainer.fit", "an existing checkpoint file", str(path))
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.history = list(state["history"])
        self.best_auroc = state["best_auroc"]
        self.log(f"[brr-lab] resumed from {path} after epoch {state['epoch']}")
        return int(state["epoch"])


def _atomic_save(obj, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a trainer checkpoint safely (``weights_only=True``)."""
    return torch.load(path, map_location=map_location, weights_only=True)
