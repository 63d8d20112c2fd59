"""Cold start of the command line: `brr-lab --help` and `brr-lab weights ... --json`, each a new process.

    .venv/bin/python benchmarks/bench_cli.py [--repeat 3]

Prints the median wall time of each over --repeat runs (target: under 0.5 s on 2 cores).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "brr-lab --help": ["--help"],
    "brr-lab weights --json": ["weights", "--alpha", "0.25", "--gamma", "2", "--pos-weight", "12",
                               "--prevalence", "0.0769", "--json"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for label, argv in COMMANDS.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "brr_lab", *argv], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
        print(f"{label:26s} median {statistics.median(times):.3f} s "
              f"(runs {', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
