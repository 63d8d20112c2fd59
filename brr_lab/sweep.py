"""Train a grid of weighting settings at once: K copies of the default model in one run.

The same protocol as ``brr-lab repro`` (:mod:`brr_lab.cohort` data, the trainer's batches,
loss, optimiser and threshold rule), with the copies side by side. Each setting (alpha,
gamma, pos_weight, sampler fraction, seed) gets its own copy of
:class:`brr_lab.models.EEGWindowCNN`; the copies' parameters are stacked
(``torch.func.stack_module_state``) and each step runs every copy on its own batch.
What each copy shares with a :class:`brr_lab.trainer.Trainer` run of the same setting:

* initial weights: ``torch.manual_seed(seed)`` before building the model;
* batches: :func:`brr_lab.sampler.shuffled_batches`, or a
  :class:`brr_lab.sampler.BalancedBatchSampler` for a sampler fraction, each drawn from
  (seed, epoch) as the trainer draws them (a shorter last batch is padded and masked);
* loss: :func:`brr_lab.losses.binary_focal_loss` with (K, 1) tensors of alpha, gamma and
  pos_weight, one mean per copy;
* optimiser: one ``torch.optim.Adam`` over the stacked tensors. Adam is elementwise and
  the summed loss gives each copy exactly its own gradient: K independent Adams;
* scores: :func:`brr_lab.metrics.binary_metrics` (``p >= threshold``) and
  :func:`brr_lab.evidence.bootstrap_intervals` on the validation recordings, per copy.

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
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.func import functional_call, stack_module_state, vmap

from brr_lab import weighting
from brr_lab._validation import check_real, invalid
from brr_lab.cohort import Cohort
from brr_lab.config import TrainerSettings
from brr_lab.evaluation import THRESHOLD, evidence_size
from brr_lab.evidence import bootstrap_intervals
from brr_lab.losses import binary_focal_loss
from brr_lab.metrics import binary_metrics
from brr_lab.models import EEGWindowCNN
from brr_lab.sampler import BalancedBatchSampler, shuffled_batches
from brr_lab.trainer import resolve_device

__all__ = ["SweepSetting", "SweepResult", "STRATEGIES", "METRICS", "make_grid", "train_sweep"]

STRATEGIES = ("auto", "vmap", "per_copy")
METRICS = ("auroc", "auprc", "pred_pos_rate", "recall", "train_loss")
SETTING_KEYS = ("alpha", "gamma", "pos_weight", "sampler_fraction", "seed")
_DEFAULTS = TrainerSettings()   # the one config's defaults: 6 epochs, batch 64, Adam lr 1e-3
# Validation forward passes hold (copies x windows) activations; this bounds one chunk.
_EVAL_BUDGET = 2 ** 15


@dataclass(frozen=True)
class SweepSetting:
    """One point of the grid. ``None`` means "off" (alpha: both classes weigh 1;
    pos_weight: 1; sampler_fraction: plain shuffling). ``sampler_fraction`` is the share
    of positives per batch of a :class:`~brr_lab.sampler.BalancedBatchSampler`."""

    alpha: float | None = None
    gamma: float = 2.0
    pos_weight: float | None = None
    sampler_fraction: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        where = "SweepSetting"
        if self.alpha is not None:
            object.__setattr__(self, "alpha", check_real(
                self.alpha, "alpha", where, low=0.0, high=1.0,
                allowed="None or a float in [0, 1] (the weight of the positive class)"))
        object.__setattr__(self, "gamma", check_real(self.gamma, "gamma", where, low=0.0,
                                                     allowed="a finite float >= 0"))
        if self.pos_weight is not None:
            object.__setattr__(self, "pos_weight", check_real(
                self.pos_weight, "pos_weight", where, low=0.0, low_open=True,
                allowed="None or a positive finite number"))
        if self.sampler_fraction is not None:
            object.__setattr__(self, "sampler_fraction", check_real(
                self.sampler_fraction, "sampler_fraction", where, low=0.0, high=1.0,
                low_open=True, high_open=True,
                allowed="None (plain shuffling) or a positive share per batch in (0, 1)"))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise invalid("seed", where, "an int >= 0", self.seed)

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
    return [SweepSetting(alpha=a, gamma=g, pos_weight=w, sampler_fraction=f, seed=s)
            for a, g, w, f, s in itertools.product(alpha, gamma, pos_weight, sampler_fraction, seeds)]


@dataclass
class SweepResult:
    """Per-setting figures after training: ``rows`` (one dict per setting) and the logits."""

    settings: list[SweepSetting]
    rows: list[dict]
    val_logits: Tensor = field(repr=False)   # (K, n_val), on the CPU
    train_prevalence: float
    evidence: dict                          # n_val_recordings, n_val_seizures, n_val_windows, ...
    epochs: int
    device: str
    strategy: str
    seconds: float

    def values(self, metric: str) -> np.ndarray:
        if metric == "q_star":
            return np.array([r["q_star"] for r in self.rows], dtype=float)
        if metric not in METRICS:
            raise invalid("metric", "SweepResult", f"one of {list(METRICS) + ['q_star']}", metric)
        return np.array([np.nan if r[metric] is None else r[metric] for r in self.rows], dtype=float)

    def as_dict(self) -> dict:
        """Everything except the logits, ready for JSON."""
        return {"device": self.device, "strategy": self.strategy, "seconds": self.seconds,
                "epochs": self.epochs, "n_settings": len(self.settings),
                "train_prevalence": self.train_prevalence, **self.evidence, "settings": self.rows}

    def pivot(self, metric: str, index: str = "alpha", columns: str = "pos_weight",
              **fixed) -> tuple[list, list, np.ndarray]:
        """A 2-D table of ``metric`` over two setting keys, averaged over seeds.

        Every other key that varies in the grid must be pinned in ``fixed`` (for example
        ``gamma=2.0``), so no cell silently mixes settings. Returns ``(index_values,
        column_values, table)``; a combination absent from the grid is NaN.
        """
        values = self.values(metric)
        for name in (index, columns, *fixed):
            if name not in SETTING_KEYS:
                raise invalid("index/columns/fixed", "SweepResult.pivot",
                              f"setting keys from {list(SETTING_KEYS)}", name)
        chosen = [k for k, s in enumerate(self.settings)
                  if all(getattr(s, key) == v for key, v in fixed.items())]
        free = {key for key in SETTING_KEYS if key not in (index, columns, "seed", *fixed)
                and len({getattr(self.settings[k], key) for k in chosen}) > 1}
        if free:
            raise invalid("fixed", "SweepResult.pivot",
                          f"a value for every other key that varies (here {sorted(free)})", fixed)
        rows = _ordered({getattr(self.settings[k], index) for k in chosen})
        cols = _ordered({getattr(self.settings[k], columns) for k in chosen})
        table = np.full((len(rows), len(cols)), np.nan)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                cell = [values[k] for k in chosen if getattr(self.settings[k], index) == r
                        and getattr(self.settings[k], columns) == c]
                if cell:
                    table[i, j] = float(np.mean(cell))
        return rows, cols, table


def _ordered(values: set) -> list:
    # None ("off") first, then numbers ascending.
    return sorted(values, key=lambda v: (v is not None, -math.inf if v is None else v))


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
                device: str = "auto", strategy: str = "auto", intervals: bool = True) -> SweepResult:
    """Train one model per setting on ``data.train``, all at once; score each on
    ``data.validation`` (at threshold 0.5, with 95% intervals when ``intervals``)."""
    where = "train_sweep"
    if strategy not in STRATEGIES:
        raise invalid("strategy", where, f"one of {list(STRATEGIES)}", strategy)
    if not isinstance(data, Cohort):
        raise invalid("data", where, "a brr_lab.cohort.Cohort (from load_cohort)", type(data).__name__)
    settings = list(settings) if isinstance(settings, Sequence) else settings
    if not isinstance(settings, list) or not settings or not all(isinstance(s, SweepSetting) for s in settings):
        raise invalid("settings", where, "a non-empty list of SweepSetting", settings)
    TrainerSettings(epochs=epochs, batch_size=batch_size, lr=lr)  # the one config's checks
    device = resolve_device(str(device))
    if strategy == "auto":
        strategy = "vmap" if device.type == "cuda" else "per_copy"
    start = time.perf_counter()

    X, y = data.train.X, data.train.y
    models = [_fresh_model(s, X.shape[1]) for s in settings]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().to(device).requires_grad_() for k, v in params.items()}
    buffers = {k: v.to(device) for k, v in buffers.items()}
    template = copy.deepcopy(models[0]).to("meta")

    def forward(p, b, x):
        return functional_call(template, (p, b), (x,))

    batched = vmap(forward) if strategy == "vmap" and len(settings) > 1 else _per_copy(forward, len(settings))
    optimizer = torch.optim.Adam(list(params.values()), lr=lr)
    loss_settings = _loss_settings(settings, device)
    samplers = [None if s.sampler_fraction is None else
                BalancedBatchSampler(y, batch_size=batch_size, pos_fraction=s.sampler_fraction, seed=s.seed)
                for s in settings]
    X_dev, y_dev = X.to(device), y.to(device=device, dtype=torch.float32)
    # The trainer's precision rule (amp "auto"): bfloat16 autocast on CUDA, float32 elsewhere.
    amp = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None

    def autocast():
        return torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None)

    for epoch in range(1, epochs + 1):
        idx, mask = _epoch_batches(settings, samplers, len(y), batch_size, epoch)
        idx, mask = idx.to(device), mask.to(device)
        epoch_loss = torch.zeros(len(settings), device=device)
        for j in range(idx.shape[1]):
            with autocast():
                logits = batched(params, buffers, X_dev[idx[:, j]])
            per_window = binary_focal_loss(logits, y_dev[idx[:, j]], reduction="none", **loss_settings)
            m = mask[:, j]
            loss = (per_window * m).sum(dim=1) / m.sum(dim=1)   # each copy's own batch mean
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()   # copies share no parameter: each gets its own gradient
            optimizer.step()
            epoch_loss += loss.detach() * m.sum(dim=1)
    with autocast():
        val_logits = _predict_all(forward, params, buffers, data.validation.X.to(device),
                                  strategy).float().cpu()
    train_loss = (epoch_loss / len(y)).cpu().tolist()
    rows = [_row(s, data, val_logits[k], train_loss[k], intervals) for k, s in enumerate(settings)]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    evidence = {**evidence_size(data.validation), "val_prevalence": float(data.validation.y.mean())}
    return SweepResult(settings=settings, rows=rows, val_logits=val_logits,
                       train_prevalence=float(y.mean()), evidence=evidence, epochs=epochs,
                       device=str(device), strategy=strategy, seconds=time.perf_counter() - start)


def _row(setting: SweepSetting, data: Cohort, logits: Tensor, train_loss: float, intervals: bool) -> dict:
    val = data.validation
    pi = float(data.train.y.mean())
    row = {**setting.as_dict(), "q_star": float(weighting.q_star(pi, setting.alpha, setting.pos_weight,
                                                                  setting.sampler_fraction)),
           "train_loss": train_loss}
    if not torch.isfinite(logits).all():  # a diverged copy gets no figures, never a number
        return {**row, **{k: None for k in ("auroc", "auprc", "pred_pos_rate", "recall")}, "diverged": True}
    m = binary_metrics(val.y, logits, threshold=THRESHOLD)
    row.update({k: m[k] for k in ("auroc", "auprc", "pred_pos_rate", "recall")})
    if intervals:
        row.update(bootstrap_intervals(val.y, logits, val.recording, threshold=THRESHOLD))
    return row


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
