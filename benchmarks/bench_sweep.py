"""Benchmark: a grid of K weighting settings, one Trainer run at a time vs the vectorised sweep.

Both ways train the same settings on the protocol's cohort (brr_lab.eeg.cohort.load_cohort)
and score the validation recordings; the loop is what a user writes with the library's
Trainer. Prints one JSON object per grid size: median wall times over --repeat runs,
their ratio (`speedup`) and the largest gap between the two ways' validation logits.

    .venv/bin/python benchmarks/bench_sweep.py                        # CPU: K = 1, 4, 16
    .venv/bin/python benchmarks/bench_sweep.py --sizes 64,256,1024 --loop-subset 16 --device cuda

Settings: seeds x alpha {none, 0.25, 0.5, 0.75} x pos_weight {none, 12} x sampler
{none, 0.5}, taken in that order up to K (more seeds are added for K > 16).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch

from brr_lab.experiments import sweep
from brr_lab.eeg.cohort import load_cohort
from brr_lab.losses import BinaryFocalLoss
from brr_lab.training.models import EEGWindowCNN
from brr_lab.training.trainer import Trainer, seed_everything


def grid(k: int) -> list[sweep.SweepSetting]:
    n_seeds = math.ceil(k / 16)
    settings = sweep.make_grid(alpha=[None, 0.25, 0.5, 0.75], pos_weight=[None, 12.0],
                               sampler_fraction=[None, 0.5], seeds=list(range(n_seeds)))
    settings.sort(key=lambda s: s.seed)  # the first 16 cover the 16 weightings
    return settings[:k]


def trainer_loop(cohort, settings, epochs: int, device: str) -> torch.Tensor:
    """One Trainer per setting (no per-epoch diagnostics): the plain way, for the baseline."""
    out = []
    for s in settings:
        seed_everything(s.seed)
        model = EEGWindowCNN(n_channels=cohort.train.X.shape[1])
        loss = BinaryFocalLoss(alpha=s.alpha, gamma=s.gamma, pos_weight=s.pos_weight)
        trainer = Trainer(model, loss, epochs=epochs, seed=s.seed, device=device,
                          sampler_fraction=s.sampler_fraction, allow_stacked=True,
                          diagnostics=False, progress=False, verbose=False)
        trainer.fit(cohort.train)
        out.append(trainer.predict_logits(cohort.validation.X))
    return torch.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16", help="grid sizes K (default 1,4,16)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per way; medians")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--loop-subset", type=int, default=None,
                        help="time the loop on at most this many settings and scale to K")
    args = parser.parse_args()
    torch.set_num_threads(1 if args.device == "cpu" else torch.get_num_threads())
    cohort = load_cohort()
    for k in (int(t) for t in args.sizes.split(",")):
        settings = grid(k)
        looped = settings[:args.loop_subset] if args.loop_subset else settings
        loop_s, vec_s = [], []
        for _ in range(args.repeat):  # interleaved, so drifting load hits both alike
            t0 = time.perf_counter()
            loop_logits = trainer_loop(cohort, looped, args.epochs, args.device)
            loop_s.append((time.perf_counter() - t0) * len(settings) / len(looped))
            t0 = time.perf_counter()
            # events=False: the loop scores no event recordings either (training is compared).
            result = sweep.train_sweep(cohort, settings, epochs=args.epochs, device=args.device,
                                       intervals=False, events=False)
            vec_s.append(time.perf_counter() - t0)
        gap = float((loop_logits - result.val_logits[:len(looped)]).abs().max())
        print(json.dumps({"device": args.device, "n_settings": k, "epochs": args.epochs,
                          "n_train": len(cohort.train), "n_val": len(cohort.validation),
                          "repeat": args.repeat, "loop_seconds": statistics.median(loop_s),
                          "vectorised_seconds": statistics.median(vec_s),
                          "speedup": statistics.median(loop_s) / statistics.median(vec_s),
                          "loop_timed_settings": len(looped), "max_abs_val_logit_diff": gap}),
              flush=True)


if __name__ == "__main__":
    main()
