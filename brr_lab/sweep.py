"""Train a grid of weighting settings at once: K copies of the default model in one vectorised run.

Each setting (alpha, gamma, pos_weight, sampler fraction, seed) gets its own copy of
:class:`brr_lab.models.EEGWindowCNN`. The copies' parameters are stacked
(``torch.func.stack_module_state``) and one forward pass runs all of them
(``torch.func.vmap`` over ``functional_call``: convolutions become one grouped
convolution), on data that sits on the device once. On the CPU, where grouped
convolutions measured slower, the default runs the copies' forward one after another
inside each step instead (``strategy="per_copy"``); everything else stays shared. Every copy keeps its own:

* initial weights: ``torch.manual_seed(seed)`` before building the model;
* batch order: its own ``RandomSampler`` (or ``WeightedRandomSampler`` for a sampler
  fraction) drawn from ``torch.Generator().manual_seed(seed)``, the very sampler objects
  the reference loop hands to its ``DataLoader``, so both paths see the same batches;
* loss: :func:`vectorised_focal_loss`, term for term the arithmetic of
  :func:`brr_lab.losses.binary_focal_loss`, with per-setting alpha/gamma/pos_weight;
* optimiser state: one ``torch.optim.Adam`` over the stacked tensors. Adam is
  elementwise, and the summed loss gives each copy exactly its own gradient, so this
  is K independent Adams.

:func:`train_reference` is the plain loop (one setting, a ``DataLoader``, as users write
it); tests check that each copy of :func:`train_sweep` matches it, and the benchmark
times both. Validation AUROC, AUPRC and predicted-positive rate are computed for all
copies in one pass (:func:`ranking_metrics`).
"""
from __future__ import annotations

import copy
import functools
import itertools
import math
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.func import functional_call, stack_module_state, vmap
from torch.utils.data import DataLoader, RandomSampler, Sampler, TensorDataset, WeightedRandomSampler

from brr_lab import weighting
from brr_lab._validation import check_real, invalid
from brr_lab.losses import binary_focal_loss
from brr_lab.models import EEGWindowCNN
from brr_lab.trainer import resolve_device as trainer_resolve_device

__all__ = [
    "SweepSetting",
    "SweepConfig",
    "SweepResult",
    "LossWeights",
    "make_grid",
    "resolve_device",
    "make_sampler",
    "epoch_order",
    "vectorised_focal_loss",
    "ranking_metrics",
    "train_sweep",
    "train_reference",
    "train_reference_loop",
    "split_by_recording",
    "benchmark",
]

STRATEGIES = ("auto", "vmap", "per_copy")
METRICS = ("auroc", "auprc", "predicted_positive_rate", "train_loss")
SETTING_KEYS = ("alpha", "gamma", "pos_weight", "sampler_fraction", "seed")

# Validation forward passes hold (copies x windows) activations of 16 x 128 floats each;
# this bounds one chunk to about 2**15 of them (~256 MB), whatever K is.
_EVAL_BUDGET = 2 ** 15


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SweepSetting:
    """One point of the grid. ``None`` means "off" (alpha: both classes weigh 1;
    pos_weight: 1; sampler_fraction: plain shuffling). ``sampler_fraction`` is the share
    of positives a ``WeightedRandomSampler`` draws (0.5 = balanced batches)."""

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


@dataclass(frozen=True)
class SweepConfig:
    """What every copy shares. Defaults: 6 epochs, batches of 64, Adam lr 1e-3 (the
    budget of the domain brief's measurements); ``n_filters``/``kernel_size`` go to
    :class:`EEGWindowCNN`."""

    epochs: int = 6
    batch_size: int = 64
    lr: float = 1e-3
    n_filters: int = 16
    kernel_size: int = 7

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "n_filters", "kernel_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise invalid(name, "SweepConfig", "an int >= 1", value)
        object.__setattr__(self, "lr", check_real(self.lr, "lr", "SweepConfig", low=0.0,
                                                  low_open=True, allowed="a float > 0"))


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The trainer's device rule (``"auto"`` -> CUDA when available), also taking a torch.device."""
    return trainer_resolve_device(str(device) if isinstance(device, torch.device) else device)


# --------------------------------------------------------------------------- data


def _check_data(X: Tensor, y: Tensor, name: str, where: str) -> None:
    if not torch.is_tensor(X) or X.dtype != torch.float32 or X.dim() != 3:
        got = f"a {X.dtype} tensor of shape {tuple(X.shape)}" if torch.is_tensor(X) else type(X).__name__
        raise invalid(f"X_{name}", where, "a float32 tensor (n_windows, n_channels, n_samples)", got)
    if not torch.is_tensor(y) or y.dim() != 1 or y.shape[0] != X.shape[0]:
        got = f"shape {tuple(y.shape)}" if torch.is_tensor(y) else type(y).__name__
        raise invalid(f"y_{name}", where, f"a 1-D tensor with one label per window ({X.shape[0]})", got)
    values = torch.unique(y)
    if not bool(((values == 0) | (values == 1)).all()):
        raise invalid(f"y_{name}", where, "0/1 labels", values[:5].tolist())
    if values.numel() < 2:
        raise invalid(f"y_{name}", where,
                      "labels holding both classes (check annotation parsing, the label "
                      "vocabulary and the window rule)", f"all {X.shape[0]} labels = {values.tolist()}")


def make_sampler(y: Tensor, setting: SweepSetting) -> Sampler[int]:
    """The sampler a user hands to ``DataLoader(sampler=...)`` for this setting.

    No sampler fraction: ``RandomSampler`` (what ``shuffle=True`` builds). A fraction f:
    ``WeightedRandomSampler`` with replacement, ``len(y)`` draws per epoch, positives
    weighted ``f / n_pos`` and negatives ``(1 - f) / n_neg``. Either way the generator is
    ``torch.Generator().manual_seed(setting.seed)``.
    """
    generator = torch.Generator().manual_seed(setting.seed)
    n = int(y.shape[0])
    if setting.sampler_fraction is None:
        return RandomSampler(range(n), generator=generator)
    f = setting.sampler_fraction
    pos = y.detach().cpu().double() == 1
    n_pos = int(pos.sum())
    weights = torch.where(pos, f / n_pos, (1.0 - f) / (n - n_pos))
    return WeightedRandomSampler(weights, num_samples=n, replacement=True, generator=generator)


def epoch_order(sampler: Sampler[int]) -> Tensor:
    """One epoch of ``sampler``'s indices as a tensor, exactly what ``list(sampler)`` gives.

    ``list()`` over a sampler converts every index to a Python int; for hundreds of
    copies that costs seconds per epoch. For the two samplers :func:`make_sampler` builds,
    the same random draws are made directly, when :func:`_fast_order_is_exact` has
    confirmed on this torch version that they reproduce ``list(sampler)``.
    """
    fast = _fast_order_is_exact()
    if fast and type(sampler) is RandomSampler and _plain_permutation(sampler):
        n = len(sampler.data_source)
        order = torch.randperm(n, generator=sampler.generator)
        # RandomSampler draws a second permutation for the remainder (num_samples % n,
        # here 0 indices) after the first: drawing it keeps the generator in step.
        torch.randperm(n, generator=sampler.generator)
        return order
    if fast and type(sampler) is WeightedRandomSampler and sampler.generator is not None:
        return torch.multinomial(sampler.weights, sampler.num_samples, sampler.replacement,
                                 generator=sampler.generator)
    return torch.as_tensor(list(sampler), dtype=torch.long)


def _plain_permutation(sampler: RandomSampler) -> bool:
    return (sampler.generator is not None and not sampler.replacement
            and sampler.num_samples == len(sampler.data_source))


@functools.lru_cache(maxsize=None)
def _fast_order_is_exact() -> bool:
    """Check the direct draws against ``list(sampler)`` over two epochs, once per process."""
    y = torch.zeros(50)
    y[:7] = 1.0
    for setting in (SweepSetting(seed=3), SweepSetting(seed=3, sampler_fraction=0.5)):
        slow, fast = make_sampler(y, setting), make_sampler(y, setting)
        for _ in range(2):
            want = torch.as_tensor(list(slow), dtype=torch.long)
            if type(fast) is RandomSampler:
                got = torch.randperm(50, generator=fast.generator)
                torch.randperm(50, generator=fast.generator)
            else:
                got = torch.multinomial(fast.weights, fast.num_samples, fast.replacement,
                                        generator=fast.generator)
            if not torch.equal(got, want):
                return False
    return True


def _fresh_model(setting: SweepSetting, config: SweepConfig, n_channels: int) -> EEGWindowCNN:
    # fork_rng: seeding for the init must not reset the caller's global random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        return EEGWindowCNN(n_channels=n_channels, n_filters=config.n_filters,
                            kernel_size=config.kernel_size)


def split_by_recording(windows, *, val_every: int = 3):
    """Hold out whole recordings: every ``val_every``-th one (the 3rd, 6th, ... by default).

    Windows of one recording never sit on both sides (neighbouring windows overlap and
    share a seizure). Interleaving, rather than the last recordings, keeps a folder sorted
    by session or patient from sending all of one kind to validation. Order is that of
    ``windows.recordings``. Returns ``(train, val)`` WindowSets.
    """
    where = "split_by_recording"
    if isinstance(val_every, bool) or not isinstance(val_every, int) or val_every < 2:
        raise invalid("val_every", where, "an int >= 2", val_every)
    names = list(windows.recordings)
    held = set(names[val_every - 1::val_every])
    if not held:
        raise invalid("windows", where,
                      f"windows from at least {val_every} recordings (every {val_every}-th is held out)",
                      f"{len(names)} recording(s)")
    is_val = np.array([r in held for r in windows.recording])
    return windows.subset(np.flatnonzero(~is_val)), windows.subset(np.flatnonzero(is_val))


# --------------------------------------------------------------------------- loss


@dataclass(frozen=True)
class LossWeights:
    """Per-setting loss constants as (K, 1) tensors, built once per run.

    ``alpha=None`` becomes 1 for both classes and ``pos_weight=None`` becomes 1; a
    multiplication by exactly 1.0 changes no float, so this equals skipping them.
    """

    alpha_pos: Tensor
    alpha_neg: Tensor
    gamma: Tensor
    pos_weight: Tensor

    @classmethod
    def from_settings(cls, settings: Sequence[SweepSetting], device=None,
                      dtype: torch.dtype = torch.float32) -> "LossWeights":
        def col(values):
            # float64 first, as binary_focal_loss holds pos_weight, then one cast to dtype.
            return torch.tensor(values, dtype=torch.float64).to(device=device, dtype=dtype)[:, None]
        return cls(
            alpha_pos=col([1.0 if s.alpha is None else s.alpha for s in settings]),
            alpha_neg=col([1.0 if s.alpha is None else 1.0 - s.alpha for s in settings]),
            gamma=col([s.gamma for s in settings]),
            pos_weight=col([1.0 if s.pos_weight is None else s.pos_weight for s in settings]),
        )


def vectorised_focal_loss(logits: Tensor, targets: Tensor, weights: LossWeights) -> Tensor:
    """Mean binary focal loss of each row: ``logits`` and ``targets`` of shape (K, B) -> (K,).

    Row k equals ``binary_focal_loss(logits[k], targets[k], alpha=..., gamma=...,
    pos_weight=..., reduction="mean")`` with setting k's values, in the same order of
    operations (so float32 results agree to the last bit or nearly).
    """
    if logits.dim() != 2 or targets.shape != logits.shape:
        raise invalid("logits/targets", "vectorised_focal_loss", "two (K, B) tensors of one shape",
                      f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    if weights.gamma.shape[0] != logits.shape[0]:
        raise invalid("weights", "vectorised_focal_loss", f"one row per setting ({logits.shape[0]})",
                      f"{weights.gamma.shape[0]} rows")
    log_p = torch.nn.functional.logsigmoid(logits)
    log_not_p = torch.nn.functional.logsigmoid(-logits)
    pos_term = -log_p * torch.exp(weights.gamma * log_not_p)   # exp(0 * x) == 1 exactly
    neg_term = -log_not_p * torch.exp(weights.gamma * log_p)
    pos_term = pos_term * weights.pos_weight
    pos_term = weights.alpha_pos * pos_term
    neg_term = weights.alpha_neg * neg_term
    loss = targets * pos_term + (1.0 - targets) * neg_term
    return loss.mean(dim=1)


# --------------------------------------------------------------------------- metrics


@torch.no_grad()
def ranking_metrics(scores: Tensor, y: Tensor) -> dict[str, np.ndarray]:
    """AUROC, AUPRC (average precision) and predicted-positive rate of each row of ``scores``.

    ``scores``: (K, n) logits or probabilities (a monotone map changes no ranking);
    ``y``: (n,) 0/1 labels with both classes. AUROC is the Mann-Whitney statistic with
    tied scores counted one half (scikit-learn's ``roc_auc_score``); AUPRC is
    scikit-learn's ``average_precision_score`` (one step per distinct score). The
    predicted-positive rate counts logits > 0, i.e. p > 0.5: pass logits. A row holding
    NaN or inf (a diverged copy) gets NaN for all three, never a number.
    """
    if scores.dim() != 2 or y.dim() != 1 or scores.shape[1] != y.shape[0]:
        raise invalid("scores", "ranking_metrics", f"a (K, {y.shape[0]}) tensor", tuple(scores.shape))
    s = scores.double()
    yk = y.to(device=s.device, dtype=torch.float64).expand_as(s)
    n_pos = y.sum().item()
    n_neg = y.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        raise invalid("y", "ranking_metrics", "labels holding both classes",
                      f"{n_pos:g} positives and {n_neg:g} negatives")
    # AUROC from mid-ranks: tied scores share the mean of their ranks.
    ordered = torch.sort(s, dim=1).values
    below = torch.searchsorted(ordered, s, side="left").double()
    not_above = torch.searchsorted(ordered, s, side="right").double()
    mid_rank = (below + not_above + 1.0) / 2.0
    auroc = ((mid_rank * yk).sum(1) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    # AUPRC: precision at each distinct threshold, weighted by the recall it adds.
    desc, order = torch.sort(s, dim=1, descending=True)
    tp = torch.gather(yk, 1, order).cumsum(1)
    seen = torch.arange(1, s.shape[1] + 1, device=s.device, dtype=torch.float64)
    last_of_tie = torch.ones_like(desc, dtype=torch.bool)
    last_of_tie[:, :-1] = desc[:, 1:] != desc[:, :-1]
    tp_at = torch.where(last_of_tie, tp, torch.zeros_like(tp))
    tp_before = torch.cat([torch.zeros_like(tp[:, :1]), tp_at.cummax(1).values[:, :-1]], dim=1)
    auprc = torch.where(last_of_tie, (tp - tp_before) * tp / seen, torch.zeros_like(tp)).sum(1) / n_pos
    rate = (s > 0).double().mean(1)
    finite = torch.isfinite(s).all(dim=1)
    nan = torch.full_like(rate, math.nan)
    return {name: torch.where(finite, value, nan).cpu().numpy()
            for name, value in (("auroc", auroc), ("auprc", auprc), ("predicted_positive_rate", rate))}


# --------------------------------------------------------------------------- results


@dataclass
class SweepResult:
    """Per-setting figures after training (arrays have one entry per setting)."""

    settings: list[SweepSetting]
    auroc: np.ndarray
    auprc: np.ndarray
    predicted_positive_rate: np.ndarray
    train_loss: np.ndarray          # mean loss over the last epoch's batches
    val_logits: Tensor = field(repr=False)   # (K, n_val), on the CPU
    train_prevalence: float = math.nan
    val_prevalence: float = math.nan
    n_train: int = 0
    n_val: int = 0
    config: SweepConfig = field(default_factory=SweepConfig)
    device: str = "cpu"
    method: str = "vectorised"      # or "reference"
    seconds: float = math.nan       # wall time of training + validation

    def q_star(self) -> np.ndarray:
        """q* of each setting at the training prevalence (``brr_lab.weighting.q_star``)."""
        return np.array([float(weighting.q_star(self.train_prevalence, s.alpha, s.pos_weight,
                                                s.sampler_fraction)) for s in self.settings])

    def rows(self) -> list[dict]:
        """One plain dict per setting: the setting, its q* and its metrics."""
        q = self.q_star()
        return [{**s.as_dict(), "q_star": float(q[k]),
                 **{m: float(getattr(self, m)[k]) for m in METRICS}}
                for k, s in enumerate(self.settings)]

    def as_dict(self) -> dict:
        """Everything except the logits, ready for JSON."""
        return {"method": self.method, "device": self.device, "seconds": self.seconds,
                "n_settings": len(self.settings), "n_train": self.n_train, "n_val": self.n_val,
                "train_prevalence": self.train_prevalence, "val_prevalence": self.val_prevalence,
                "config": asdict(self.config), "settings": self.rows()}

    def pivot(self, metric: str, index: str = "alpha", columns: str = "pos_weight",
              **fixed) -> tuple[list, list, np.ndarray]:
        """A 2-D table of ``metric`` over two setting keys, averaged over seeds.

        Every other key that varies in the grid must be pinned in ``fixed`` (for example
        ``gamma=2.0``), so no cell silently mixes settings. Returns ``(index_values,
        column_values, table)``; a combination absent from the grid is NaN.
        """
        if metric not in METRICS + ("q_star",):
            raise invalid("metric", "SweepResult.pivot", f"one of {list(METRICS) + ['q_star']}", metric)
        for name in (index, columns, *fixed):
            if name not in SETTING_KEYS:
                raise invalid("index/columns/fixed", "SweepResult.pivot",
                              f"setting keys from {list(SETTING_KEYS)}", name)
        values = self.q_star() if metric == "q_star" else getattr(self, metric)
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


def _result(settings, metrics, train_loss, val_logits, y, y_val, config, device, method, seconds):
    return SweepResult(
        settings=list(settings), auroc=metrics["auroc"], auprc=metrics["auprc"],
        predicted_positive_rate=metrics["predicted_positive_rate"], train_loss=train_loss,
        val_logits=val_logits, train_prevalence=float(y.float().mean()),
        val_prevalence=float(y_val.float().mean()), n_train=int(y.shape[0]),
        n_val=int(y_val.shape[0]), config=config, device=str(device), method=method,
        seconds=seconds)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --------------------------------------------------------------------------- vectorised


def train_sweep(X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor,
                settings: Sequence[SweepSetting], *, config: SweepConfig = SweepConfig(),
                device: str | torch.device = "auto", strategy: str = "auto") -> SweepResult:
    """Train one model per setting, all at once, and validate them in one pass.

    ``strategy``: how a step's forward runs the K copies. ``"vmap"``: one batched call
    (``torch.func.vmap``; convolutions become grouped convolutions), what fills a GPU.
    ``"per_copy"``: K plain calls inside the step, on the same stacked parameters, shared
    data, losses and Adam; on 2 CPU cores the default per-channel model's grouped
    convolutions measured about 25% slower than K single ones, so ``"auto"`` picks
    ``"vmap"`` on CUDA and ``"per_copy"`` on the CPU.

    ``X``: (n, channels, samples) float32, ``y``: (n,) 0/1 with both classes; the same
    for the validation pair. Copy k equals :func:`train_reference` on ``settings[k]``
    up to float rounding (grouped versus single convolutions).
    """
    where = "train_sweep"
    if strategy not in STRATEGIES:
        raise invalid("strategy", where, f"one of {list(STRATEGIES)}", strategy)
    settings = _check_settings(settings, where)
    _check_data(X, y, "train", where)
    _check_data(X_val, y_val, "val", where)
    device = resolve_device(device)
    start = time.perf_counter()

    models = [_fresh_model(s, config, X.shape[1]) for s in settings]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().to(device).requires_grad_() for k, v in params.items()}
    buffers = {k: v.to(device) for k, v in buffers.items()}
    template = copy.deepcopy(models[0]).to("meta")

    def forward(p, b, x):
        return functional_call(template, (p, b), (x,))

    if strategy == "auto":
        strategy = "vmap" if device.type == "cuda" else "per_copy"
    if strategy == "vmap" and len(settings) > 1:
        batched = vmap(forward, in_dims=(0, 0, 0))
    else:  # for K = 1 vmap's reshaping would only add overhead
        batched = _per_copy(forward, len(settings))
    optimizer = torch.optim.Adam(list(params.values()), lr=config.lr)
    weights = LossWeights.from_settings(settings, device=device)
    samplers = [make_sampler(y, s) for s in settings]
    X_dev, y_dev = X.to(device), y.to(device=device, dtype=torch.float32)
    n, K = X.shape[0], len(settings)

    for _ in range(config.epochs):
        # Each copy's batch order for this epoch, drawn from its own sampler: (K, n).
        order = torch.stack([epoch_order(s) for s in samplers]).to(device)
        epoch_loss = torch.zeros(K, device=device)
        for start_i in range(0, n, config.batch_size):
            idx = order[:, start_i:start_i + config.batch_size]
            logits = batched(params, buffers, X_dev[idx])
            loss = vectorised_focal_loss(logits, y_dev[idx], weights)
            optimizer.zero_grad(set_to_none=True)
            # Copies share no parameter, so the gradient of the sum is each copy's own.
            loss.sum().backward()
            optimizer.step()
            epoch_loss += loss.detach()
    n_batches = math.ceil(n / config.batch_size)
    val_logits = _predict_all(forward, params, buffers, X_val.to(device))
    metrics = ranking_metrics(val_logits, y_val.to(device))
    train_loss = (epoch_loss / n_batches).cpu().numpy()
    _sync(device)
    seconds = time.perf_counter() - start
    return _result(settings, metrics, train_loss, val_logits.cpu(), y, y_val, config, device,
                   "vectorised", seconds)


def _per_copy(forward, n_copies: int):
    """K plain calls, copy i on its own slice of the stacked parameters and batches."""
    def call(p, b, x):
        return torch.stack([forward({k: v[i] for k, v in p.items()}, {k: v[i] for k, v in b.items()}, x[i])
                            for i in range(n_copies)])
    return call


@torch.no_grad()
def _predict_all(forward, params, buffers, X_val: Tensor) -> Tensor:
    """(K, n_val) logits, in chunks of copies and windows that bound the memory."""
    K = next(iter(params.values())).shape[0]
    n = X_val.shape[0]
    k_chunk = max(1, min(K, _EVAL_BUDGET // max(1, min(n, 256))))
    n_chunk = max(1, min(n, _EVAL_BUDGET // k_chunk))
    shared_x = vmap(forward, in_dims=(0, 0, None))
    rows = []
    for k0 in range(0, K, k_chunk):
        p = {k: v[k0:k0 + k_chunk].detach() for k, v in params.items()}
        b = {k: v[k0:k0 + k_chunk] for k, v in buffers.items()}
        rows.append(torch.cat([shared_x(p, b, X_val[i:i + n_chunk]) for i in range(0, n, n_chunk)], dim=1))
    return torch.cat(rows, dim=0)


def _check_settings(settings, where: str) -> list[SweepSetting]:
    settings = list(settings) if isinstance(settings, Sequence) else settings
    if (not isinstance(settings, list) or not settings
            or not all(isinstance(s, SweepSetting) for s in settings)):
        raise invalid("settings", where, "a non-empty list of SweepSetting", settings)
    return settings


# --------------------------------------------------------------------------- reference


def train_reference(X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor, setting: SweepSetting, *,
                    config: SweepConfig = SweepConfig(),
                    device: str | torch.device = "auto") -> SweepResult:
    """Train one setting the way users write it: a model, a DataLoader, Adam, a loop.

    The baseline of the benchmark and the ground truth of the equivalence test.
    """
    where = "train_reference"
    _check_data(X, y, "train", where)
    _check_data(X_val, y_val, "val", where)
    if not isinstance(setting, SweepSetting):
        raise invalid("setting", where, "a SweepSetting", setting)
    device = resolve_device(device)
    start = time.perf_counter()

    model = _fresh_model(setting, config, X.shape[1]).to(device)
    loader = DataLoader(TensorDataset(X, y.float()), batch_size=config.batch_size,
                        sampler=make_sampler(y, setting))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for _ in range(config.epochs):
        losses = []
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = binary_focal_loss(model(xb), yb, alpha=setting.alpha, gamma=setting.gamma,
                                     pos_weight=setting.pos_weight, reduction="mean")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
    model.eval()
    with torch.no_grad():
        val_logits = model(X_val.to(device))[None, :]
    metrics = ranking_metrics(val_logits, y_val.to(device))
    train_loss = torch.stack(losses).mean().reshape(1).cpu().numpy()
    _sync(device)
    seconds = time.perf_counter() - start
    return _result([setting], metrics, train_loss, val_logits.cpu(), y, y_val, config, device,
                   "reference", seconds)


def train_reference_loop(X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor,
                         settings: Sequence[SweepSetting], *, config: SweepConfig = SweepConfig(),
                         device: str | torch.device = "auto") -> SweepResult:
    """:func:`train_reference` for each setting in turn, gathered into one result."""
    settings = _check_settings(settings, "train_reference_loop")
    start = time.perf_counter()
    runs = [train_reference(X, y, X_val, y_val, s, config=config, device=device) for s in settings]
    seconds = time.perf_counter() - start
    first = runs[0]
    return replace(
        first, settings=list(settings),
        auroc=np.concatenate([r.auroc for r in runs]),
        auprc=np.concatenate([r.auprc for r in runs]),
        predicted_positive_rate=np.concatenate([r.predicted_positive_rate for r in runs]),
        train_loss=np.concatenate([r.train_loss for r in runs]),
        val_logits=torch.cat([r.val_logits for r in runs]), seconds=seconds)


# --------------------------------------------------------------------------- benchmark


def benchmark(X: Tensor, y: Tensor, X_val: Tensor, y_val: Tensor, settings: Sequence[SweepSetting], *,
              config: SweepConfig = SweepConfig(), device: str | torch.device = "auto",
              repeat: int = 1, loop_subset: int | None = None, strategy: str = "auto") -> dict:
    """Time the plain loop and the vectorised run on the same grid; medians over ``repeat``.

    ``loop_subset``: time the loop on the first N settings only and scale its time to the
    whole grid (for grids of hundreds, where the loop would take minutes); the JSON says
    so in ``loop_timed_settings`` and ``loop_seconds_extrapolated``.

    One untimed warm-up of each way on a single setting and one epoch comes first: the
    first optimiser built in a process imports torch's compiler stack (seconds), a cost
    that would otherwise land on whichever way ran first.
    """
    settings = _check_settings(settings, "benchmark")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise invalid("repeat", "benchmark", "an int >= 1", repeat)
    if loop_subset is not None and (isinstance(loop_subset, bool) or not isinstance(loop_subset, int)
                                    or not 1 <= loop_subset <= len(settings)):
        raise invalid("loop_subset", "benchmark", f"None or an int in [1, {len(settings)}]", loop_subset)
    device = resolve_device(device)
    data = (X, y, X_val, y_val)
    looped = settings if loop_subset is None else settings[:loop_subset]
    warm = replace(config, epochs=1)
    train_reference_loop(*data, settings[:1], config=warm, device=device)
    train_sweep(*data, settings[:2], config=warm, device=device, strategy=strategy)
    loop_s, vec_s = [], []
    for _ in range(repeat):
        loop = train_reference_loop(*data, looped, config=config, device=device)
        vec = train_sweep(*data, settings, config=config, device=device, strategy=strategy)
        loop_s.append(loop.seconds * len(settings) / len(looped))
        vec_s.append(vec.seconds)
    loop_med, vec_med = statistics.median(loop_s), statistics.median(vec_s)
    return {
        "device": str(device),
        "strategy": strategy if strategy != "auto" else ("vmap" if device.type == "cuda" else "per_copy"),
        "n_settings": len(settings),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "n_train": int(data[0].shape[0]),
        "n_val": int(data[2].shape[0]),
        "repeat": repeat,
        "loop_seconds": loop_med,
        "vectorised_seconds": vec_med,
        "loop_seconds_per_setting": loop_med / len(settings),
        "loop_timed_settings": len(looped),
        "loop_seconds_extrapolated": len(looped) < len(settings),
        "speedup": loop_med / vec_med,
        "loop_seconds_all": loop_s,
        "vectorised_seconds_all": vec_s,
        # Same seeds, same batches: the two ways should agree (last timed run).
        "max_abs_val_logit_diff": float((loop.val_logits - vec.val_logits[:len(looped)]).abs().max()),
        "max_abs_auroc_diff": float(abs(loop.auroc - vec.auroc[:len(looped)]).max()),
    }
