"""Benchmark: a grid of K weighting settings trained one at a time (DataLoader loop) vs vectorised.

Prints one JSON object per grid size with the median wall times of both ways, their
ratio (`speedup`) and how far the two ways' validation logits are apart. Goals (issue 7):
on 2 CPU cores the ratio is >= 1.0 and 16 settings train in under 20 s; on one H100/H200,
>= 50x at 256 settings and 1024 settings in under 5 s, validation metrics included.

    .venv/bin/python benchmarks/bench_sweep.py                        # CPU: K = 1, 4, 16
    .venv/bin/python benchmarks/bench_sweep.py --sizes 64,256,1024 --loop-subset 16 --device cuda

Settings: seeds x alpha {none, 0.25, 0.5, 0.75} x pos_weight {none, 12} x sampler
{none, 0.5}, taken in that order up to K (more seeds are added for K > 16).
Data: the simulated recordings behind data_sample (seed 0), every 3rd held out.
"""
from __future__ import annotations

import argparse
import json
import math

from brr_lab import sweep
from brr_lab.eeg import make_windows, simulate_recordings


def grid(k: int) -> list[sweep.SweepSetting]:
    n_seeds = math.ceil(k / 16)
    settings = sweep.make_grid(alpha=[None, 0.25, 0.5, 0.75], pos_weight=[None, 12.0],
                               sampler_fraction=[None, 0.5], seeds=list(range(n_seeds)))
    # Seed varies fastest in make_grid; reorder so the first 16 cover the 16 weightings.
    settings.sort(key=lambda s: s.seed)
    return settings[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16", help="grid sizes K (default 1,4,16)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per way; medians")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--loop-subset", type=int, default=None,
                        help="time the loop on at most this many settings and scale to K")
    args = parser.parse_args()
    train, val = sweep.split_by_recording(make_windows(simulate_recordings(0)))
    data = (train.X, train.y, val.X, val.y)
    config = sweep.SweepConfig(epochs=args.epochs)
    for k in (int(t) for t in args.sizes.split(",")):
        subset = None if args.loop_subset is None else min(k, args.loop_subset)
        out = sweep.benchmark(*data, grid(k), config=config, device=args.device,
                              repeat=args.repeat, loop_subset=subset)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
