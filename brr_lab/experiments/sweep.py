"""Train a grid of weighting settings at once: K copies of the default model in one run.

The same protocol as ``brr-lab repro`` (:mod:`brr_lab.eeg.cohort` data, the trainer's batches,
loss, optimiser and threshold rule), with the copies side by side. Each setting (alpha,
gamma, pos_weight, sampler fraction, seed) gets its own copy of
:class:`brr_lab.training.models.EEGWindowCNN`; the copies' parameters are stacked
(``torch.func.stack_module_state``) and each step runs every copy on its own batch.
What each copy shares with a :class:`brr_lab.training.trainer.Trainer` run of the same setting:

* initial weights: ``torch.manual_seed(seed)`` before building the model;
* batches: :func:`brr_lab.training.sampler.shuffled_batches`, or a
  :class:`brr_lab.training.sampler.BalancedBatchSampler` for a sampler fraction, each drawn from
  (seed, epoch) as the trainer draws them (a shorter last batch is padded and masked);
* loss: :func:`brr_lab.losses.binary_focal_loss` with (K, 1) tensors of alpha, gamma and
  pos_weight, one mean per copy;
* optimiser: one ``torch.optim.Adam`` over the stacked tensors. Adam is elementwise and
  the summed loss gives each copy exactly its own gradient: K independent Adams;
* scores: :func:`brr_lab.training.metrics.binary_metrics` (``p >= threshold``) and
  :func:`brr_lab.experiments.evidence.bootstrap_intervals` on the validation recordings, per copy;
  SzCORE event scores on the event recordings at 0.5 and at the calibration threshold
  for 10 false alarms per 24 h (:mod:`brr_lab.experiments.sweep_result`, by the functions repro's
  rows use).

How a step runs the K copies (``strategy``): ``"vmap"`` (one batched call through
``torch.func.vmap``: convolutions become grouped convolutions, what fills a GPU) or
``"per_copy"`` (K plain calls on slices of the stacked parameters; on 2 CPU cores the
grouped convolutions of this model measured slower). ``"auto"`` picks vmap on CUDA.
Copy k matches the trainer on ``settings[k]`` to float rounding (tests).
"""
from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import asdict, dataclass
from typing import Sequence

import torch
from torch import Tensor
from torch.func import functional_call, stack_module_state, vmap

from brr_lab._validation import (check_alpha, check_gamma, check_pos_weight, check_seed,
                                 check_sampler_fraction, invalid)
from brr_lab.eeg.cohort import Cohort
from brr_lab.configs import TrainerSettings
from brr_lab.experiments.evaluation import events_from_logits, evidence_size
from brr_lab.losses import binary_focal_loss
from brr_lab.training.models import EEGWindowCNN
from brr_lab.training.sampler import BalancedBatchSampler, shuffled_batches
from brr_lab.experiments.sweep_result import (
    EVENT_METRICS, METRICS, SETTING_KEYS, SweepResult, event_evidence, score_row,
)
from brr_lab.training.trainer import resolve_device

__all__ = ["SweepSetting", "SweepResult", "STRATEGIES", "METRICS", "EVENT_METRICS", "SETTING_KEYS",
           "make_grid", "train_sweep"]

STRATEGIES = ("auto", "vmap", "per_copy")
_DEFAULTS = TrainerSettings()   # the one config's defaults: 6 epochs, batch 64, Adam lr 1e-3
# Validation forward passes hold (copies x windows) activations; this bounds one chunk.
_EVAL_BUDGET = 2 ** 15


@dataclass(frozen=True)
class SweepSetting:
    """One point of the grid. ``None`` means "off" (alpha: both classes weigh 1;
    pos_weight: 1; sampler_fraction: plain shuffling). ``sampler_fraction`` is the share
    of positives per batch of a :class:`~brr_lab.training.sampler.BalancedBatchSampler`."""

    alpha: float | None = None
    gamma: float = 2.0
    pos_weight: float | None = None
    sampler_fraction: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        where = "SweepSetting"
        for name, check in (("alpha", check_alpha), ("gamma", check_gamma),
                            ("pos_weight", check_pos_weight), ("sampler_fraction", check_sampler_fraction)):
            object.__setattr__(self, name, check(getattr(self, name), where))
        check_seed(self.seed, "seed", where)

    def label(self) -> str:
        """Short text such as ``a=0.25 g=2 pw=12 sampler=0.5 seed=0``."""
        def fmt(v):
            return "none" if v is None else f"{v:g}"
        return (f"a={fmt(self.alpha)} g={fmt(self.gamma)} pw={fmt(self.pos_weight)} "
                f"sampler={fmt(self.sampler_fraction)} seed={self.seed}")

    def as_dict(self) -> dict:
        return asdict(self)


def make_grid(*, alpha: Sequence[float | None] = (None,), gamma: Sequence[float] = (2.0,),
              pos_weight: Sequence[float | None] = (None,),
              sampler_fraction: Sequence[float | None] = (None,),
              seeds: Sequence[int] = (0,)) -> list[SweepSetting]:
    """Every combination of the given values (alpha varies slowest, seed fastest)."""
    lists = {"alpha": alpha, "gamma": gamma, "pos_weight": pos_weight,
             "sampler_fraction": sampler_fraction, "seeds": seeds}
    for name, values in lists.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise invalid(name, "make_grid", "a non-empty list of values", values)
        if len(set(values)) < len(values):  # the same model twice would read as two seeds
            raise invalid(name, "make_grid", "a list without repeated values", list(values))
    return [SweepSetting(alpha=a, gamma=g, pos_weight=w, sampler_fraction=f, seed=s)
            for a, g, w, f, s in itertools.product(alpha, gamma, pos_weight, sampler_fraction, seeds)]


def _fresh_model(setting: SweepSetting, n_channels: int) -> EEGWindowCNN:
    # fork_rng: seeding for the init must not reset the caller's global random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        return EEGWindowCNN(n_channels=n_channels)


def _epoch_batches(settings, samplers, n: int, batch_size: int, epoch: int) -> tuple[Tensor, Tensor]:
    """``(K, n_batches, batch_size)`` indices and a mask of the real entries: each copy's
    batches exactly as the trainer draws them, the shorter last batch of plain shuffling
    padded (with index 0, masked out)."""
    per_copy = []
    for s, sampler in zip(settings, samplers):
        if sampler is not None:
            per_copy.append(list(sampler.epoch_batches(epoch)))
        else:
            per_copy.append(list(shuffled_batches(n, batch_size=batch_size, seed=s.seed, epoch=epoch)))
    n_batches = max(len(b) for b in per_copy)
    idx = torch.zeros(len(settings), n_batches, batch_size, dtype=torch.long)
    mask = torch.zeros(len(settings), n_batches, batch_size)
    for k, batches in enumerate(per_copy):
        for j, b in enumerate(batches):
            idx[k, j, :len(b)] = b
            mask[k, j, :len(b)] = 1.0
    return idx, mask


def _loss_settings(settings, device) -> dict[str, Tensor]:
    """alpha (NaN: off), gamma and pos_weight as (K, 1) float64 tensors for binary_focal_loss."""
    def col(values):
        return torch.tensor(values, dtype=torch.float64, device=device)[:, None]
    return {"alpha": col([math.nan if s.alpha is None else s.alpha for s in settings]),
            "gamma": col([s.gamma for s in settings]),
            "pos_weight": col([1.0 if s.pos_weight is None else s.pos_weight for s in settings])}


def train_sweep(data: Cohort, settings: Sequence[SweepSetting], *, epochs: int = _DEFAULTS.epochs,
                batch_size: int = _DEFAULTS.batch_size, lr: float = _DEFAULTS.lr,
                device: str = "auto", strategy: str = "auto", intervals: bool = True,
                events: bool = True) -> SweepResult:
    """Train one model per setting on ``data.train``, all at once; score each on
    ``data.validation`` (at threshold 0.5, with 95% intervals when ``intervals``) and,
    with ``events``, on the event recordings (SzCORE event sensitivity and false alarms
    per 24 h at 0.5 and at the calibration threshold for 10 per 24 h, as ``brr-lab
    repro`` rows: :func:`brr_lab.experiments.evaluation.evaluate_run`)."""
    where = "train_sweep"
    if strategy not in STRATEGIES:
        raise invalid("strategy", where, f"one of {list(STRATEGIES)}", strategy)
    if not isinstance(data, Cohort):
        raise invalid("data", where, "a brr_lab.eeg.cohort.Cohort (from load_cohort)", type(data).__name__)
    settings = list(settings) if isinstance(settings, Sequence) else settings
    if not isinstance(settings, list) or not settings or not all(isinstance(s, SweepSetting) for s in settings):
        raise invalid("settings", where, "a non-empty list of SweepSetting", settings)
    TrainerSettings(epochs=epochs, batch_size=batch_size, lr=lr)  # the one config's checks
    device = resolve_device(str(device))
    if strategy == "auto":
        strategy = "vmap" if device.type == "cuda" else "per_copy"
    start = time.perf_counter()
    stack = _Stack(settings, data.train.X.shape[1], device, strategy)
    train_loss = stack.fit(data.train, batch_size=batch_size, lr=lr, epochs=epochs)
    val_logits = stack.predict(data.validation.X)
    scored = None
    if events:
        parts = [data.event_part(p) for p in ("calibration", "validation")]
        scored = [events_from_logits(*parts, z_cal, z_val)
                  for z_cal, z_val in zip(*(stack.predict_part(part) for part in parts))]
    rows = [score_row(s, data, val_logits[k], train_loss[k], intervals, None if scored is None else scored[k])
            for k, s in enumerate(settings)]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    evidence = {**evidence_size(data.validation), "val_prevalence": float(data.validation.y.mean())}
    if events:
        evidence.update(event_evidence(data))
    return SweepResult(settings=settings, rows=rows, val_logits=val_logits,
                       train_prevalence=float(data.train.y.mean()), evidence=evidence, epochs=epochs,
                       device=str(device), strategy=strategy, seconds=time.perf_counter() - start)


class _Stack:
    """K copies of the default model, their parameters stacked, on ``device``."""

    def __init__(self, settings: list[SweepSetting], n_channels: int, device, strategy: str):
        self.settings, self.device, self.strategy = settings, device, strategy
        models = [_fresh_model(s, n_channels) for s in settings]
        params, buffers = stack_module_state(models)
        self.params = {k: v.detach().to(device).requires_grad_() for k, v in params.items()}
        self.buffers = {k: v.to(device) for k, v in buffers.items()}
        template = copy.deepcopy(models[0]).to("meta")

        def forward(p, b, x):
            return functional_call(template, (p, b), (x,))
        self.forward = forward
        self.batched = (vmap(forward) if strategy == "vmap" and len(settings) > 1
                        else _per_copy(forward, len(settings)))
        # The trainer's precision rule (amp "auto"): bfloat16 autocast on CUDA, float32 elsewhere.
        self.amp = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None)

    def fit(self, train, *, batch_size: int, lr: float, epochs: int) -> list[float]:
        """Train every copy on its own batches; each copy's mean loss in the last epoch."""
        settings, device = self.settings, self.device
        X, y = train.X, train.y
        optimizer = torch.optim.Adam(list(self.params.values()), lr=lr)
        loss_settings = _loss_settings(settings, device)
        samplers = [None if s.sampler_fraction is None else
                    BalancedBatchSampler(y, batch_size=batch_size, pos_fraction=s.sampler_fraction, seed=s.seed)
                    for s in settings]
        X_dev, y_dev = X.to(device), y.to(device=device, dtype=torch.float32)
        for epoch in range(1, epochs + 1):
            idx, mask = _epoch_batches(settings, samplers, len(y), batch_size, epoch)
            idx, mask = idx.to(device), mask.to(device)
            epoch_loss = torch.zeros(len(settings), device=device)
            for j in range(idx.shape[1]):
                with self.autocast():
                    logits = self.batched(self.params, self.buffers, X_dev[idx[:, j]])
                per_window = binary_focal_loss(logits, y_dev[idx[:, j]], reduction="none", **loss_settings)
                m = mask[:, j]
                loss = (per_window * m).sum(dim=1) / m.sum(dim=1)   # each copy's own batch mean
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()   # copies share no parameter: each gets its own gradient
                optimizer.step()
                epoch_loss += loss.detach() * m.sum(dim=1)
        return (epoch_loss / len(y)).cpu().tolist()

    def predict(self, X: Tensor) -> Tensor:
        """(K, n) logits on the CPU."""
        with self.autocast():
            return _predict_all(self.forward, self.params, self.buffers, X.to(self.device),
                                self.strategy).float().cpu()

    def predict_part(self, part) -> list[Tensor]:
        """Each copy's logits on every window of an event part, a SignalSet chunk by chunk."""
        if hasattr(part, "chunks"):
            chunks = [self.predict(chunk) for chunk in part.chunks()]
            z = torch.cat(chunks, dim=1) if chunks else torch.zeros(len(self.settings), 0)
        else:
            z = self.predict(part.X)
        return list(z)


def _per_copy(forward, n_copies: int):
    """K plain calls, copy i on its own slice of the stacked parameters and batches."""
    def call(p, b, x):
        return torch.stack([forward({k: v[i] for k, v in p.items()}, {k: v[i] for k, v in b.items()}, x[i])
                            for i in range(n_copies)])
    return call


@torch.no_grad()
def _predict_all(forward, params, buffers, X_val: Tensor, strategy: str) -> Tensor:
    """(K, n_val) logits. ``vmap``: chunks of copies and windows that bound the memory.
    ``per_copy``: each copy on batches of the trainer's ``eval_batch_size`` (256), which
    measured several times faster on a CPU than large batches (activations stay in cache)."""
    K = next(iter(params.values())).shape[0]
    n = X_val.shape[0]
    if strategy == "per_copy":
        return torch.stack([
            torch.cat([forward({k: v[i] for k, v in params.items()}, {k: v[i] for k, v in buffers.items()}, xb)
                       for xb in X_val.split(_DEFAULTS.eval_batch_size)])
            for i in range(K)])
    k_chunk = max(1, min(K, _EVAL_BUDGET // max(1, min(n, 256))))
    n_chunk = max(1, min(n, _EVAL_BUDGET // k_chunk))
    shared_x = vmap(forward, in_dims=(0, 0, None))
    rows = []
    for k0 in range(0, K, k_chunk):
        p = {k: v[k0:k0 + k_chunk].detach() for k, v in params.items()}
        b = {k: v[k0:k0 + k_chunk] for k, v in buffers.items()}
        rows.append(torch.cat([shared_x(p, b, X_val[i:i + n_chunk]) for i in range(0, n, n_chunk)], dim=1))
    return torch.cat(rows, dim=0)
