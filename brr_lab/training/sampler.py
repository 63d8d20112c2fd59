"""A balanced batch sampler: a fixed share of positives in every batch, and a report of it.

A sampler that over-draws positives is a class-weighting mechanism in its own right:
it multiplies the odds of a positive, as the loss sees them, by
``s = (f / (1 - f)) / (pi / (1 - pi))`` (12 for 50/50 batches at 1:12). Pass
:attr:`BalancedBatchSampler.batch_fraction` to ``brr_lab.weighting.policy.resolve_weighting``
(``sampler_fraction=``) so the single-mechanism policy counts it; the trainer does this.

Each batch holds exactly ``round(pos_fraction * batch_size)`` positives. Within an epoch
positives are drawn without replacement from a shuffled pool that is refilled when it
runs out (so every positive is repeated about equally often); negatives likewise. Each
epoch's draw depends only on ``(seed, epoch)``, so a resumed run repeats exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import torch
from torch import Tensor
from torch.utils.data import Sampler

from brr_lab._validation import check_fraction, check_int, check_seed, invalid

__all__ = ["BalancedBatchSampler", "SamplerReport", "batch_composition", "shuffled_batches",
           "epoch_seed"]

_WHERE = "BalancedBatchSampler"


@dataclass(frozen=True)
class SamplerReport:
    """What the sampler produces, against what the data holds."""

    target_fraction: float        # asked for
    batch_fraction: float         # produced: n_pos_per_batch / batch_size
    n_pos_per_batch: int
    n_neg_per_batch: int
    batch_size: int
    n_batches: int                # per epoch
    n_pos: int                    # in the data
    n_neg: int
    prevalence: float             # of the data
    odds_factor: float            # how much the sampler multiplies a positive's odds
    positive_repeats: float       # times each positive is drawn per epoch, on average
    negative_coverage: float      # share of the negatives drawn per epoch (capped at 1 per pass)

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line for a training log."""
        return (f"sampler: {self.n_pos_per_batch} positives + {self.n_neg_per_batch} negatives "
                f"per batch of {self.batch_size} (target {self.target_fraction:.0%} positive, "
                f"produced {self.batch_fraction:.1%}) vs dataset prevalence {self.prevalence:.2%}; "
                f"odds x{self.odds_factor:.3g}; each positive drawn ~{self.positive_repeats:.2g}x "
                f"per epoch, {self.negative_coverage:.0%} of negatives seen per epoch")


class BalancedBatchSampler(Sampler[list[int]]):
    """Yield batches of indices with a fixed number of positives each.

    Args:
        labels: 1-D tensor (or sequence) of 0/1 labels, one per example.
        batch_size: examples per batch, >= 2.
        pos_fraction: target share of positives per batch in (0, 1); 0.5 by default.
            It is rounded to a whole number of positives per batch, which must be at
            least 1 and at most ``batch_size - 1``; :attr:`batch_fraction` is what is
            really produced.
        n_batches: batches per epoch; default ``ceil(n_examples / batch_size)``, so an
            epoch draws as many examples as the data holds.
        seed: seeds each epoch's draw together with the epoch number.

    Works as a ``batch_sampler`` for ``torch.utils.data.DataLoader`` (yields lists);
    :meth:`epoch_batches` gives one epoch as a ``(n_batches, batch_size)`` tensor.
    """

    def __init__(self, labels, *, batch_size: int = 64, pos_fraction: float = 0.5,
                 n_batches: int | None = None, seed: int = 0) -> None:
        y = _label_vector(labels, _WHERE)
        if y.numel() == 0:
            raise invalid("labels", _WHERE, "a non-empty sequence of 0/1 labels", "an empty one")
        if not bool(((y == 0) | (y == 1)).all()):
            raise invalid("labels", _WHERE, "0/1 labels", f"values {sorted(set(y.tolist()))[:5]}")
        batch_size = check_int(batch_size, "batch_size", _WHERE, low=2)
        self.target_fraction = check_fraction(pos_fraction, "pos_fraction", _WHERE,
                                              allowed="a positive fraction per batch in (0, 1)")
        k = round(self.target_fraction * batch_size)
        if not 1 <= k <= batch_size - 1:
            raise invalid("pos_fraction", _WHERE,
                          f"a fraction that gives 1 to {batch_size - 1} positives in a batch of "
                          f"{batch_size}", f"{pos_fraction} ({k} positives per batch)")
        self.pos_index = torch.nonzero(y == 1).flatten()
        self.neg_index = torch.nonzero(y == 0).flatten()
        if len(self.pos_index) == 0 or len(self.neg_index) == 0:
            raise invalid("labels", _WHERE, "labels with both classes (a balanced sampler needs "
                          "positives and negatives)",
                          f"{len(self.pos_index)} positives and {len(self.neg_index)} negatives")
        if n_batches is None:
            n_batches = math.ceil(y.numel() / batch_size)
        n_batches = check_int(n_batches, "n_batches", _WHERE, low=1, allowed="None or an int >= 1")
        seed = check_seed(seed, "seed", _WHERE)
        self.batch_size = batch_size
        self.n_pos_per_batch = k
        self.n_batches = n_batches
        self.seed = seed
        self._epoch = 0

    @property
    def batch_fraction(self) -> float:
        """The positive share every batch really has (the target, rounded to whole examples)."""
        return self.n_pos_per_batch / self.batch_size

    def __len__(self) -> int:
        return self.n_batches

    def epoch_batches(self, epoch: int) -> Tensor:
        """All batches of one epoch: a ``(n_batches, batch_size)`` int64 tensor of indices."""
        epoch = check_int(epoch, "epoch", f"{_WHERE}.epoch_batches", low=0)
        gen = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
        k = self.n_pos_per_batch
        pos = _draw(self.pos_index, self.n_batches * k, gen).view(self.n_batches, k)
        neg = _draw(self.neg_index, self.n_batches * (self.batch_size - k), gen)
        batches = torch.cat([pos, neg.view(self.n_batches, -1)], dim=1)
        # Shuffle positions inside each batch so positives are not always first.
        order = torch.argsort(torch.rand(batches.shape, generator=gen), dim=1)
        return torch.gather(batches, 1, order)

    def __iter__(self):
        batches = self.epoch_batches(self._epoch)
        self._epoch += 1
        for row in batches:
            yield row.tolist()

    def report(self) -> SamplerReport:
        n_pos, n_neg = len(self.pos_index), len(self.neg_index)
        pi = n_pos / (n_pos + n_neg)
        f = self.batch_fraction
        k_neg = self.batch_size - self.n_pos_per_batch
        return SamplerReport(
            target_fraction=self.target_fraction, batch_fraction=f,
            n_pos_per_batch=self.n_pos_per_batch, n_neg_per_batch=k_neg,
            batch_size=self.batch_size, n_batches=self.n_batches, n_pos=n_pos, n_neg=n_neg,
            prevalence=pi, odds_factor=(f / (1 - f)) / (pi / (1 - pi)),
            positive_repeats=self.n_batches * self.n_pos_per_batch / n_pos,
            negative_coverage=min(1.0, self.n_batches * k_neg / n_neg),
        )


def epoch_seed(seed: int, epoch: int) -> int:
    """The generator seed of one epoch's draw: every sampler here depends on (seed, epoch) only."""
    return seed * 1_000_003 + epoch


def shuffled_batches(n: int, *, batch_size: int, seed: int, epoch: int) -> tuple[Tensor, ...]:
    """Plain shuffling (no sampler): one epoch's batches of indices, the last one shorter.

    The trainer and the sweep both draw through this, so one setting and seed sees the
    same batches wherever it trains.
    """
    where = "shuffled_batches"
    n = check_int(n, "n", where, low=0)
    batch_size = check_int(batch_size, "batch_size", where, low=1)
    seed = check_seed(seed, "seed", where)
    epoch = check_int(epoch, "epoch", where, low=0)
    gen = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return torch.randperm(n, generator=gen).split(batch_size)


def _draw(pool: Tensor, count: int, gen: torch.Generator) -> Tensor:
    """``count`` items from ``pool``: whole shuffled passes, then part of one more."""
    passes = [pool[torch.randperm(len(pool), generator=gen)] for _ in range(-(-count // len(pool)))]
    return torch.cat(passes)[:count]


def _label_vector(labels, where: str) -> Tensor:
    """``labels`` as one label per example: shape (N,) or (N, 1), never a one-hot (N, 2),
    whose flattening would double the examples and count every one as a positive."""
    try:
        y = torch.as_tensor(labels).detach().cpu()
    except (TypeError, ValueError, RuntimeError):
        raise invalid("labels", where, "a 1-D sequence of 0/1 labels", type(labels).__name__) from None
    if y.dim() > 2 or (y.dim() == 2 and y.shape[1] != 1):
        raise invalid("labels", where, "one 0/1 label per example: shape (N,) or (N, 1)",
                      f"shape {tuple(y.shape)}")
    return y.flatten()


def batch_composition(labels, batches) -> dict:
    """Measure the positive share of batches of indices (any sampler, or plain shuffling).

    Returns ``mean``, ``min`` and ``max`` of the per-batch positive fraction and
    ``n_batches``: the figures to check a sampler against its target.
    """
    y = _label_vector(labels, "batch_composition").float()
    fractions = []
    for i, batch in enumerate(batches):
        index = torch.as_tensor(list(batch) if not torch.is_tensor(batch) else batch, dtype=torch.long)
        if index.numel() == 0:
            raise invalid("batches", "batch_composition", "batches of at least one index",
                          f"an empty batch at position {i}")
        fractions.append(float(y[index].mean()))
    if not fractions:
        raise invalid("batches", "batch_composition", "at least one batch", "none")
    return {"mean": sum(fractions) / len(fractions), "min": min(fractions),
            "max": max(fractions), "n_batches": len(fractions)}
