"""``brr-lab app`` as a test runs it: a context manager that starts it on a free port and waits.

The app is started through the real command (``python -m brr_lab app --no-browser``), with
temporary Jupyter and IPython folders, so a user's own settings cannot change what the test
sees. ``started_s`` on the result is the measured time from launch to the first answer of
the lesson list.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from browser_lab import REPO, _free_port

START_LIMIT_S = 60  # generous for a loaded CI machine; the 15 s target is measured and reported


@dataclass
class App:
    base: str
    started_s: float
    log: Path
    proc: subprocess.Popen


def _isolated_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


@contextlib.contextmanager
def app_server(tmp: Path, *, extra_args: tuple[str, ...] = ()):
    """A running ``brr-lab app``: yields an :class:`App` (base URL, start time, log path)."""
    port = _free_port()
    log_path = tmp / "brr-lab-app.log"
    log = open(log_path, "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "brr_lab", "app", "--no-browser",
                             f"--port={port}", *extra_args],
                            stdout=log, stderr=subprocess.STDOUT, env=_isolated_env(tmp), cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"brr-lab app exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > START_LIMIT_S:
                pytest.fail(f"brr-lab app did not answer within {START_LIMIT_S} s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield App(base=base, started_s=time.monotonic() - t0, log=log_path, proc=proc)
    finally:
        # SIGINT is Ctrl-C: Voila shuts its kernels down; kill only if it hangs.
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
