"""How long loading and windowing all of data_sample/ takes (target: under 5 s on 2 cores).

Run from the repository root:

    .venv/bin/python benchmarks/bench_loading.py [--repeats 5] [--folder data_sample]

Prints the median and range over the repeats of `load_recordings` (MNE reads every EDF
and its annotations) and `make_windows` (default windows, resampled to 64 Hz through MNE),
each timed in the same process after one warm-up run (imports excluded), plus a cold
`brr-lab inspect` run in a fresh process (imports included).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(Path(__file__).resolve().parent.parent / "data_sample"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    from brr_lab.eeg import load_recordings, make_windows

    print(f"cpus available: {len(os.sched_getaffinity(0))}, torch threads: {torch.get_num_threads()}")
    make_windows(load_recordings(args.folder))  # warm-up
    load_t, window_t, total_t = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        recordings = load_recordings(args.folder)
        t1 = time.perf_counter()
        windows = make_windows(recordings)
        t2 = time.perf_counter()
        load_t.append(t1 - t0)
        window_t.append(t2 - t1)
        total_t.append(t2 - t0)
    print(f"{len(recordings)} recordings -> {len(windows)} windows {tuple(windows.X.shape)}")
    rows = (("load_recordings", load_t), ("make_windows", window_t), ("load + windows", total_t))
    for label, values in rows:
        print(f"{label:<16} median {statistics.median(values):.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)})")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "brr_lab", "inspect", args.folder, "--json"], check=True,
                   stdout=subprocess.DEVNULL)
    cold = time.perf_counter() - t0
    print(f"cold `brr-lab inspect --json` (fresh process, imports included): {cold:.3f} s")


if __name__ == "__main__":
    main()
