"""The effective-weights notebook in a real browser: JupyterLab + headless Debian chromium.

Starts ``jupyter lab`` on 127.0.0.1 with a token and a free port, opens
``01_effective_weights.ipynb``, runs all cells, presses ArrowRight on the alpha slider
and checks that the displayed ratio and the plotted curve change (and that the new ratio
is the engine's for the slider's new value). A screenshot of the panel goes to
``test-artifacts/``.

The browser is Debian's ``chromium`` driven by Playwright through ``executable_path``:
no browser is ever downloaded. Without chromium the test skips, except when the ``CI``
environment variable is set, where a missing browser is a failure.

The notebook runs from a copy in a temporary folder, with autosave off, so the
committed (output-free) notebook is never rewritten by the test.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from brr_lab import weighting

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_effective_weights.ipynb"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
SERVER_START_S = 90
RUN_ALL_S = 180


def _skip_or_fail(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so the browser test must run: this is a failure.")
    pytest.skip(reason)


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        _skip_or_fail("Debian's chromium is not installed (apt-get install chromium); "
                      "the browser test never downloads a browser")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _jupyter_config(config_dir: Path) -> None:
    """Lab settings for a quiet, deterministic page: no news pop-up, no autosave,
    and every cell rendered (no windowing), so the panel is in the DOM wherever it is."""
    _write_json(config_dir / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    _write_json(settings / "docmanager-extension" / "plugin.jupyterlab-settings",
                {"autosave": False})
    _write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab serving a temporary copy of the notebook: (base_url, token)."""
    _chromium()
    root = tmp_path_factory.mktemp("lab_root")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    config_dir = tmp_path_factory.mktemp("jupyter_config")
    _jupyter_config(config_dir)
    port, token = _free_port(), secrets.token_hex(16)
    # Temporary Jupyter and IPython folders: a user's own kernelspecs, extensions or
    # startup files cannot change what the test runs. The kernel is the venv's python
    # (the kernelspec says "python", which jupyter_client maps to the server's interpreter).
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
    env.update(JUPYTER_CONFIG_DIR=str(config_dir),
               JUPYTER_DATA_DIR=str(tmp_path_factory.mktemp("jupyter_data")),
               JUPYTER_RUNTIME_DIR=str(tmp_path_factory.mktemp("jupyter_runtime")),
               IPYTHONDIR=str(tmp_path_factory.mktemp("ipython")))
    log_path = root.parent / "jupyterlab.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_S} s:\n"
                                f"{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        # SIGTERM lets the server shut its kernels down; kill only if it hangs.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# JavaScript run in the page. JupyterLab exposes itself as window.jupyterapp
# (--LabApp.expose_app_in_browser).
KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""
ALL_CELLS_DONE = """() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const code = nb.widgets.filter(c => c.model.type === 'code');
  const errored = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return errored || (k.status === 'idle' && code.every(c => c.model.executionCount !== null));
}"""
CELL_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .flatMap(c => c.model.outputs.toJSON())
  .filter(o => o.output_type === 'error')
  .map(o => o.ename + ': ' + o.evalue)"""
RATIO_TEXT = "() => document.querySelector('.brr-weights-explorer .brr-ratio').textContent"
IMBALANCE_TEXT = "() => document.querySelector('.brr-weights-explorer .brr-imbalance').textContent"
POSITIVE_LOSS = """() => {
  const plot = document.querySelector('.brr-weights-explorer .js-plotly-plot');
  const trace = plot && plot.data && plot.data.find(t => t.name === 'positive loss');
  return trace && trace.y ? Array.from(trace.y) : null;
}"""
# x of every curve, as drawn (a trace without x is drawn against the point index).
CURVE_XS = """() => document.querySelector('.brr-weights-explorer .js-plotly-plot').data
  .filter(t => t.name !== 'p*').map(t => t.x ? Array.from(t.x) : null)"""


@pytest.mark.browser
def test_alpha_slider_redraws_ratio_and_plot(lab):
    from playwright.sync_api import sync_playwright  # imported here: only this test needs it

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_timeout(500)  # let the first cell enter the queue
            page.wait_for_function(ALL_CELLS_DONE, timeout=RUN_ALL_S * 1000)
            errors = page.evaluate(CELL_ERRORS)
            assert not errors, f"cells raised: {errors}"

            panel = page.locator(".brr-weights-explorer").first
            panel.scroll_into_view_if_needed()
            page.wait_for_function(f"() => ({POSITIVE_LOSS})() !== null", timeout=60_000)
            ratio_before = page.evaluate(RATIO_TEXT)
            curve_before = page.evaluate(POSITIVE_LOSS)
            # Drawing the sliders must not change a setting: 1/13 stays 12:1.
            assert page.evaluate(IMBALANCE_TEXT) == "12"
            alpha_before = float(panel.locator(".brr-alpha .widget-readout").inner_text())
            assert ratio_before == f"{float(weighting.constant_weight_ratio(alpha_before, 12)):.4g}"

            handle = panel.locator(".brr-alpha .noUi-handle")
            handle.focus()
            handle.press("ArrowRight")
            page.wait_for_function(f"before => ({RATIO_TEXT})() !== before", arg=ratio_before,
                                   timeout=30_000)
            page.wait_for_function(
                f"before => {{ const now = ({POSITIVE_LOSS})(); "
                "return !!now && now.some((v, i) => v !== before[i]); }",
                arg=curve_before, timeout=30_000)
            alpha_after = float(panel.locator(".brr-alpha .widget-readout").inner_text())
            ratio_after = page.evaluate(RATIO_TEXT)
            curve_after = page.evaluate(POSITIVE_LOSS)
            imbalance_after = page.evaluate(IMBALANCE_TEXT)
            xs_after = page.evaluate(CURVE_XS)
            panel.screenshot(path=str(ARTIFACTS / "weights_explorer.png"))
        finally:
            browser.close()

    assert alpha_after > alpha_before
    assert imbalance_after == "12"  # only alpha moved
    # Every curve is drawn against the p grid of the panel, after the redraw too.
    assert len(xs_after) == 4
    for xs in xs_after:
        assert xs is not None and len(xs) == len(curve_after)
        assert 0 < xs[0] and xs[-1] < 1 and np.all(np.diff(xs) > 0)
    assert ratio_after == f"{float(weighting.constant_weight_ratio(alpha_after, 12)):.4g}"
    # The positive loss scales with alpha * pos_weight, so the curve grows by alpha's ratio.
    assert len(curve_after) == len(curve_before)
    scale = [a / b for a, b in zip(curve_after, curve_before) if b > 0]
    assert scale and all(abs(x - alpha_after / alpha_before) < 1e-6 for x in scale)


def test_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        _chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        _chromium()
