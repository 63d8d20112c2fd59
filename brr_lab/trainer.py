"""A small, model-agnostic trainer for binary detectors, with the diagnostics attached.

It trains any ``model(x) -> logits of shape (batch,)`` with any
``loss_fn(logits, targets) -> scalar``, under one config: :class:`brr_lab.configs.TrainConfig`
(the schema ``brr-lab train`` and ``brr-lab audit`` read from YAML). What it adds to a
plain loop:

* a start block stating the class-weighting setup (active mechanisms, effective ratio,
  q*, the sampler's batch mix, dataset prevalence), via ``brr_lab.policy``, which also
  refuses stacked weighting unless ``allow_stacked=True``;
* a refusal of single-class training labels (the loaders' message) unless
  ``allow_single_class=True``;
* a per-epoch history; the diagnostics in it (running train AUROC, positives' share of
  the gradient, held-out AUROC/AUPRC, calls at the threshold, the diagnosis) come from
  :class:`brr_lab.monitor.MonitorCallback`, attached through the same callback hooks a
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
import random
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError
from torch import Tensor, nn
from tqdm.auto import tqdm

from brr_lab._validation import check_real, invalid
from brr_lab.configs import TrainConfig
from brr_lab.diagnosis import Diagnosis
from brr_lab.losses import BinaryFocalLoss
from brr_lab.monitor import MonitorCallback
from brr_lab.policy import WeightingSetup, resolve_weighting
from brr_lab.sampler import BalancedBatchSampler, shuffled_batches

__all__ = ["TrainConfig", "Trainer", "Callback", "seed_everything", "resolve_device",
           "load_checkpoint", "loss_weighting"]

_WHERE = "Trainer"
# Keyword overrides that are not fields of TrainConfig.trainer.
_SHORTCUTS = ("threshold", "sampler_fraction")


def _with_overrides(config: TrainConfig, overrides: dict) -> TrainConfig:
    """``config`` with ``Trainer(..., epochs=3, threshold=0.4, sampler_fraction=0.5)`` applied."""
    known = set(type(config.trainer).model_fields) | set(_SHORTCUTS)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise invalid("overrides", _WHERE, f"keywords among {sorted(known)}", unknown)
    data = config.model_dump()
    for key, value in overrides.items():
        if key == "threshold":
            data["eval"]["threshold"] = value
        elif key == "sampler_fraction":
            if value is None:
                data["sampler"]["balanced"] = False
            else:
                data["sampler"].update(balanced=True, target_fraction=value)
        else:
            data["trainer"][key] = value
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        section, field = (list(first["loc"]) + [None, None])[:2]
        name = {"threshold": "threshold", "target_fraction": "sampler_fraction"}.get(field, field)
        model = type(getattr(config, section)) if section in type(config).model_fields else None
        info = model.model_fields.get(field) if model is not None else None
        allowed = info.description if info is not None and info.description else first["msg"]
        raise invalid(str(name), _WHERE, allowed, overrides.get(name, first.get("input"))) from None


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
    """Hooks into the loop. Set ``trainer.stop_training = True`` to stop after this epoch.

    ``on_batch_forward`` runs after the loss and before ``backward`` (register tensor
    hooks on ``logits`` there); ``on_epoch_end`` may add keys to ``record`` before it
    enters the history and the checkpoint.
    """

    def on_fit_start(self, trainer: "Trainer") -> None: ...
    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_batch_forward(self, trainer: "Trainer", step: int, logits: Tensor, targets: Tensor,
                         loss: Tensor) -> None: ...
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
        config: a :class:`~brr_lab.configs.TrainConfig` (or a dict of it). The trainer reads
            its ``trainer`` section, ``eval.threshold`` and ``sampler``; the loss and the
            data are the caller's (:meth:`from_config` builds them from the file).
        callbacks: :class:`Callback` instances, after the diagnostics monitor.
        log: where start-block and diagnosis lines go (``print`` by default).
        allow_stacked: train a setup with two or more class-weighting mechanisms.
        allow_single_class: train on labels of one class (only to show what a pipeline
            without the label guard reports).
        eval_logit_shift: added to held-out logits before the metrics (logit adjustment).
        diagnostics: attach :class:`brr_lab.monitor.MonitorCallback` (default True).
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
            config = _with_overrides(config, overrides)
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
            from brr_lab.models import init_prior_bias
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

    def _prepare_data(self, x: Tensor, y: Tensor, extra_bytes: int) -> tuple[Tensor, Tensor]:
        """Keep CPU data where it is; on CUDA move it once when it fits (else per batch)."""
        if self.device.type != "cuda":
            return x, y
        mode = self.settings.data_on_device
        fits = True
        if mode == "auto":
            free, _ = torch.cuda.mem_get_info(self.device)
            fits = x.element_size() * x.nelement() + extra_bytes < 0.5 * free
        if mode == "always" or (mode == "auto" and fits):
            return x.to(self.device), y.to(self.device)
        return x.pin_memory(), y.pin_memory()

    def _check_labels(self, y_train: Tensor) -> None:
        n_pos = int(y_train.sum())
        if 0 < n_pos < len(y_train) or self.allow_single_class:
            return
        from brr_lab.eeg.guards import check_labels  # the loaders' guard and message
        check_labels(y_train, context="Trainer.fit training labels (pass allow_single_class=True "
                     "to train anyway, only to show what a pipeline without this guard reports)")

    def _start_block(self, y_train: Tensor, y_val: Tensor | None) -> None:
        cfg = self.settings
        n_pos = int(y_train.sum())
        n = len(y_train)
        prevalence = n_pos / n
        weights = loss_weighting(self.loss_fn)
        fraction = self.config.sampler_fraction(prevalence) if 0 < prevalence < 1 else None
        if fraction is not None:
            self.sampler = BalancedBatchSampler(y_train, batch_size=cfg.batch_size,
                                                pos_fraction=fraction, seed=cfg.seed)
        fraction = self.sampler.batch_fraction if self.sampler else None
        if weights is not None and 0 < prevalence < 1:
            self.setup = resolve_weighting(**weights, sampler_fraction=fraction,
                                           prevalence=prevalence, allow_stacked=self.allow_stacked)
        amp = {None: "off", torch.bfloat16: "bfloat16", torch.float16: "float16"}[self.amp_dtype]
        lines = [f"[brr-lab] {type(self.model).__name__} on {self.device} (mixed precision {amp}), "
                 f"{cfg.epochs} epochs, batch {cfg.batch_size}, Adam lr {cfg.lr:g}, seed {cfg.seed}",
                 f"[brr-lab] train: {n} windows, {n_pos} positive (prevalence {prevalence:.4f}, "
                 f"{n - n_pos}:{n_pos} = {(n - n_pos) / max(n_pos, 1):.3g}:1)"]
        if y_val is not None:
            vp = int(y_val.sum())
            lines.append(f"[brr-lab] held out: {len(y_val)} windows, {vp} positive "
                         f"(prevalence {vp / len(y_val):.4f})")
        if self.setup is not None:
            lines.append(f"[brr-lab] loss: {self.loss_fn!r}")
            lines += ["[brr-lab] " + line for line in self.setup.summary().splitlines()]
        elif weights is None:
            lines.append(f"[brr-lab] loss: {type(self.loss_fn).__name__} (custom: class weighting "
                         "not inspected; the sampler below still counts)")
        else:
            lines.append("[brr-lab] weighting not resolved: the training labels hold one class "
                         "(allow_single_class=True)")
        if self.sampler is not None:
            lines.append("[brr-lab] " + self.sampler.report().describe())
        else:
            lines.append(f"[brr-lab] batches: plain shuffling, expected {prevalence:.1%} positive "
                         "per batch (the dataset prevalence)")
        if self.eval_logit_shift:
            # z + shift >= logit(t)  <=>  sigmoid(z) >= sigmoid(logit(t) - shift)
            cut = math.log(self.threshold / (1 - self.threshold)) - self.eval_logit_shift
            q = 1 / (1 + math.exp(-cut))
            lines.append(f"[brr-lab] evaluation adds {self.eval_logit_shift:+.4g} to the logits "
                         f"(logit adjustment): threshold {self.threshold:g} on the adjusted output "
                         f"= {q:.3g} on the raw one")
        self.log("\n".join(lines))

    # ------------------------------------------------------------------ loop
    def fit(self, train, val=None, *, resume: bool | str | os.PathLike = False) -> list[dict]:
        """Train; return the per-epoch history (also kept in ``self.history``).

        ``val``: the held-out windows the per-epoch diagnostics are measured on.
        ``resume=True`` continues from ``<checkpoint_dir>/last.pt``; a path names a checkpoint.
        A KeyboardInterrupt stops training, keeps the history of completed epochs and
        the last checkpoint (written at the end of each completed epoch), sets
        ``self.interrupted`` and returns.
        """
        cfg = self.settings
        x_train, y_train = _as_xy(train, "train")
        self._check_labels(y_train)
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
        self.val_data = None if x_val is None else self._prepare_data(x_val, y_val, 0)
        if self.device.type == "cuda":
            where = ("kept on the GPU" if x_train.is_cuda else
                     "in pinned CPU memory, moved per batch (it does not fit)")
            self.log(f"[brr-lab] training data {where}")
        for cb in self.callbacks:
            cb.on_fit_start(self)

        self.stop_training = False
        self.interrupted = False
        self._in_epoch = None
        self._last_trained_epoch = start_epoch - 1 if self.history or start_epoch > 1 else None
        bar = tqdm(range(start_epoch, cfg.epochs + 1), desc="train", unit="epoch",
                   disable=not self.progress, leave=False)
        try:
            for epoch in bar:
                self._in_epoch = epoch
                record = self._train_epoch(epoch, x_train, y_train)
                self._in_epoch = None   # the model now holds the whole epoch
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
            self.log("[brr-lab] interrupted: " + self._interrupt_state())
        finally:
            bar.close()
        if self.history and self.diagnosis is not None:
            self.log(f"[brr-lab] after epoch {self.history[-1]['epoch']}: {self.diagnosis}")
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return self.history

    def _interrupt_state(self) -> str:
        """What the history, the checkpoint and the model in memory hold after an interrupt."""
        done = self.history[-1]["epoch"] if self.history else None
        text = f"kept the history of {len(self.history)} completed epoch(s)"
        if self.settings.checkpoint_dir and self.history:
            text += f"; {Path(self.settings.checkpoint_dir) / 'last.pt'} holds epoch {done}"
        if self._in_epoch is not None:
            return text + f". The model in memory holds part of epoch {self._in_epoch}."
        if self._last_trained_epoch is None:
            return text + ". The model in memory holds its initial weights."
        if self._last_trained_epoch != done:
            return text + (f". The model in memory holds all of epoch {self._last_trained_epoch}, "
                           "whose diagnostics and checkpoint were not completed.")
        return text + f". The model in memory holds epoch {done}."

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
        self._last_trained_epoch = epoch
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
    def _state(self, record: dict) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": record["epoch"],
            "history": [dict(r) for r in self.history],
            "best_auroc": self.best_auroc,
            "config": self.config.model_dump(),
        }

    def _checkpoint(self, record: dict) -> None:
        auroc = record.get("val_auroc", math.nan)
        improved = not math.isnan(auroc) and auroc > self.best_auroc
        if improved:
            self.best_auroc = auroc
        if not self.settings.checkpoint_dir:
            return
        folder = Path(self.settings.checkpoint_dir)
        folder.mkdir(parents=True, exist_ok=True)
        state = self._state(record)
        _atomic_save(state, folder / "last.pt")
        if improved:
            _atomic_save(state, folder / "best.pt")

    def _load(self, resume) -> int:
        if resume is True:
            if not self.settings.checkpoint_dir:
                raise invalid("resume", "Trainer.fit", "a checkpoint path, or True with "
                              "config.checkpoint_dir set", resume)
            resume = Path(self.settings.checkpoint_dir) / "last.pt"
        path = Path(resume)
        if not path.is_file():
            raise invalid("resume", "Trainer.fit", "an existing checkpoint file", str(path))
        from brr_lab import checkpoints  # names the file when it is truncated or corrupt

        state = checkpoints.load(path, map_location=self.device)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.history = list(state["history"])
        self.best_auroc = state["best_auroc"]
        self.log(f"[brr-lab] resumed from {path} after epoch {state['epoch']}")
        return int(state["epoch"])


def _atomic_save(obj, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    from brr_lab import checkpoints

    checkpoints.atomic_save(obj, path)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a trainer checkpoint safely (``weights_only=True``); errors name the file."""
    from brr_lab import checkpoints

    return checkpoints.load(path, map_location=map_location)
