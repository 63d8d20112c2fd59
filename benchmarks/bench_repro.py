"""Wall time of the default `brr-lab repro` (every scenario, 5 seeds, the generated cohort)
and of one scenario and seed including its evaluation, each in a new process.

    .venv/bin/python benchmarks/bench_repro.py [--repeat 3] [--skip-full]

Prints medians over --repeat runs. Targets on 2 CPU cores: the default run under 90 s,
one scenario and seed under 3 s of work (the process's imports, 5-8 s cold, are printed
apart). The cohort is generated once beforehand (it is cached; about 10 s when not).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "brr_lab", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="time one scenario only")
    args = parser.parse_args()
    from brr_lab.cohort import load_cohort
    from brr_lab import repro
    import torch

    torch.set_num_threads(1)
    cohort = load_cohort()  # fills the cache
    one = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        repro.run_scenario("postmortem-fix", cohort, seed=0)
        one.append(time.perf_counter() - t0)
    cold = [timed(["repro", "--scenario", "postmortem-fix", "--seeds", "1", "--workers", "1", "--json"])
            for _ in range(args.repeat)]
    print(f"one scenario and seed (training + evaluation on {len(cohort.validation)} validation "
          f"windows + intervals), in process: median {statistics.median(one):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in one)}; the first pays torch's warm-up)")
    print(f"the same as a cold `brr-lab repro --scenario postmortem-fix --seeds 1` process "
          f"(imports, cached cohort, warm-up): median {statistics.median(cold):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in cold)})")
    if not args.skip_full:
        full = [timed(["repro", "--json"]) for _ in range(args.repeat)]
        print(f"default `brr-lab repro` (10 scenarios x 5 seeds, 2 workers), cold process: "
              f"median {statistics.median(full):.1f} s (runs {', '.join(f'{t:.1f}' for t in full)})")


if __name__ == "__main__":
    main()
