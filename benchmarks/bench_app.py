"""Cold start of the teaching app: `brr-lab app --no-browser`, a new process each time.

    .venv/bin/python benchmarks/bench_app.py [--repeat 3]

Prints, as medians over --repeat starts: the seconds from launch until the lesson list
answers (target: under 15 s on 2 cores), and until the first lesson page has run its
cells and arrived whole (Voila starts a kernel for it). Each start gets fresh Jupyter and
IPython folders, so no earlier start warms a cache the next one reads.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

FIRST_PAGE = "voila/render/01_the_postmortem.ipynb"
LIMIT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ok(url: str, t0: float) -> float:
    """Seconds since ``t0`` when ``url`` first answered 200 with its whole body."""
    while time.monotonic() - t0 < LIMIT_S:
        try:
            with urllib.request.urlopen(url, timeout=LIMIT_S) as answer:
                answer.read()
                if answer.status == 200:
                    return time.monotonic() - t0
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {LIMIT_S} s")


def one_start() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[name] = os.path.join(tmp, name.lower())
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "brr_lab", "app", "--no-browser", f"--port={port}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            listed = _wait_ok(f"{base}/", t0)
            first = _wait_ok(f"{base}/{FIRST_PAGE}", t0)
        finally:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: Voila shuts its kernels down
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        return listed, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    starts = [one_start() for _ in range(args.repeat)]
    for label, times in (("lesson list answers", [s[0] for s in starts]),
                         ("first lesson page whole", [s[1] for s in starts])):
        print(f"{label:26s} median {statistics.median(times):.1f} s "
              f"(runs {', '.join(f'{t:.1f}' for t in times)}; seconds from launch)")


if __name__ == "__main__":
    main()
