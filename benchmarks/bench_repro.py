"""Wall time of the default `brr-lab repro` (every scenario, 5 seeds, the generated cohort)
and of one scenario and seed including its evaluation, each in a new process; the share of
a run spent on SzCORE event scoring; and, with --cold, generating the cohort from an empty
cache (what CI pays once).

    .venv/bin/python benchmarks/bench_repro.py [--repeat 3] [--skip-full] [--cold]

Prints medians over --repeat runs, wall and CPU seconds (on a shared machine the CPU time
is the steadier figure). Targets on 2 CPU cores: the default run under 3 minutes, one
scenario and seed under 6 s of work, of which the event scoring (36,000 windows of the
20 hours of event recordings, and the threshold search on calibration) is about half;
the process's imports (5-8 s cold) are printed apart.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(args: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "brr_lab", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cold_cohort() -> str:
    """Generate the default cohort (short recordings and event recordings) into an empty cache."""
    import os
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        code = ("import time, resource; t = time.perf_counter(); from brr_lab.eeg.cohort import load_cohort; "
                "c = load_cohort(); u = resource.getrusage(resource.RUSAGE_SELF); "
                "print(f'{time.perf_counter() - t:.1f} s wall, {u.ru_utime + u.ru_stime:.1f} s CPU, "
                "peak memory {u.ru_maxrss / 1024:.0f} MB')")
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                             env={**os.environ, "BRR_LAB_CACHE": folder}).stdout.strip()
        size = sum(p.stat().st_size for p in Path(folder).glob("*.pt"))
    return f"{out}; cache {size / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="time one scenario only")
    parser.add_argument("--cold", action="store_true", help="also time generating the cohort "
                        "into an empty cache")
    args = parser.parse_args()
    if args.cold:
        print(f"default cohort from an empty cache (80 short + 40 event recordings): {cold_cohort()}")
    from brr_lab.eeg.cohort import load_cohort
    from brr_lab.experiments import repro
    import torch

    torch.set_num_threads(1)
    from brr_lab.experiments.evaluation import evaluate_events
    from brr_lab.training.trainer import Callback

    class Keep(Callback):
        def on_fit_end(self, trainer):
            self.trainer = trainer

    cohort = load_cohort()  # fills the cache
    one, events = [], []
    for _ in range(args.repeat):
        keep = Keep()
        t0 = time.perf_counter()
        repro.run_scenario("postmortem-fix", cohort, seed=0, callbacks=[keep])
        one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        evaluate_events(keep.trainer, cohort.event_part("calibration"), cohort.event_part("validation"))
        events.append(time.perf_counter() - t0)
    cold = [timed(["repro", "--scenario", "postmortem-fix", "--seeds", "1", "--workers", "1", "--json"])
            for _ in range(args.repeat)]
    print(f"one scenario and seed (training + evaluation on {len(cohort.validation)} validation "
          f"windows + intervals), in process: median {statistics.median(one):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in one)}; the first pays torch's warm-up)")
    print(f"of which SzCORE event scoring ({len(cohort.event_part('calibration'))} calibration + "
          f"{len(cohort.event_part('validation'))} validation event windows, threshold search): "
          f"median {statistics.median(events):.2f} s")
    print(f"the same as a cold `brr-lab repro --scenario postmortem-fix --seeds 1` process "
          f"(imports, cached cohort, warm-up): median {statistics.median(cold):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in cold)})")
    if not args.skip_full:
        full = [timed(["repro", "--json"]) for _ in range(args.repeat)]
        print(f"default `brr-lab repro` (10 scenarios x 5 seeds, 2 workers), cold process: "
              f"median {statistics.median(full):.1f} s (runs {', '.join(f'{t:.1f}' for t in full)})")


if __name__ == "__main__":
    main()
