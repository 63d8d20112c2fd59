"""A JupyterLab server and headless Debian chromium for browser tests (no browser is downloaded).

``lab_server(notebooks, tmp_path_factory)`` serves temporary copies of notebooks (so the
committed, output-free ones are never rewritten) on 127.0.0.1 with a token and a free
port; ``open_and_run_all(page, base, token, name)`` opens one, runs every cell and fails on
a cell error; ``open_page(pw, base, token, name, panel=..., ready=...)`` does that in a new
chromium page and waits until a panel's plot is drawn. Without chromium a test skips,
except when ``CI`` is set, where a missing browser is a failure.
"""
from __future__ import annotations

import contextlib
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

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
SERVER_START_S = 90
RUN_ALL_S = 480  # notebook 04 may train two runs when its cache is cold
PLOT_S = 180     # a loaded CI machine drew the explorer's plot 60 s after its cell ran
VIEWPORT = {"width": 1400, "height": 2000}
# anywidget 0.11 gives a widget 2 s to load its script (a blob: module; plotly's FigureWidget
# sends 5 MB) and then drops every message to it, silently: on a busy machine a FigureWidget
# then stayed empty. ``open_page(..., slow_modules=True)`` makes every such load this slow.
SLOW_MODULE_MS = 2500
SLOW_MODULES = """(() => {
  const make = URL.createObjectURL.bind(URL);
  URL.createObjectURL = b => (b instanceof Blob && b.type === 'text/javascript')
    ? make(new Blob(['await new Promise(r => setTimeout(r, %d));\\n', b], {type: b.type}))
    : make(b);
})();""" % SLOW_MODULE_MS


def skip_or_fail(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so the browser test must run: this is a failure.")
    pytest.skip(reason)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        skip_or_fail("Debian's chromium is not installed (apt-get install chromium); "
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


def isolated_env(make_dir) -> dict:
    """This environment with fresh Jupyter and IPython folders (``make_dir(name) -> Path``):
    a user's own kernelspecs, extensions or startup files cannot change what a test sees."""
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[name] = str(make_dir(name.lower()))
    return env


@contextlib.contextmanager
def served(argv: list[str], ready_url: str, *, name: str, env: dict, log_path: Path,
           limit_s: float, stop=signal.SIGTERM, cwd=None):
    """Run a server until ``ready_url`` answers 200: yields ``(process, seconds to ready)``;
    stops it with ``stop`` afterwards (it shuts its kernels down), killed only if it hangs."""
    log = open(log_path, "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > limit_s:
                pytest.fail(f"{name} did not answer within {limit_s} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield proc, time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@contextlib.contextmanager
def lab_server(notebooks: list[Path], tmp_path_factory):
    """A running JupyterLab serving temporary copies of ``notebooks``: (base_url, token)."""
    chromium()
    root = tmp_path_factory.mktemp("lab_root")
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    # The kernel is the venv's python (the kernelspec says "python", which jupyter_client
    # maps to the server's interpreter).
    env = isolated_env(tmp_path_factory.mktemp)
    _jupyter_config(Path(env["JUPYTER_CONFIG_DIR"]))
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"]
    with served(argv, f"{base}/api/status?token={token}", name="jupyter lab", env=env,
                log_path=root.parent / "jupyterlab.log", limit_s=SERVER_START_S):
        yield base, token


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


def launch(pw):
    """Debian's chromium, headless, through Playwright."""
    return pw.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)


def open_and_run_all(page, base: str, token: str, name: str) -> None:
    """Open notebook ``name`` in the served lab, run all cells, fail on any cell error."""
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(500)  # let the first cell enter the queue
    page.wait_for_function(ALL_CELLS_DONE, timeout=RUN_ALL_S * 1000)
    errors = page.evaluate(CELL_ERRORS)
    assert not errors, f"cells raised: {errors}"


# The plotted traces of the first plotly plot in panel ``which`` (-1: the last) of those
# matching ``sel``, read from the page: x and y as sent (``data``), and how many points
# plotly drew from them (``_fullData``'s ``_length``). Argument: [sel, which].
PLOTTED = """([sel, which]) => {
  const panels = document.querySelectorAll(sel);
  const panel = panels[which < 0 ? panels.length + which : which];
  const plot = panel && panel.querySelector('.js-plotly-plot');
  if (!plot || !plot.data || !plot._fullData) return null;
  const values = a => a ? Array.from(a) : null;
  return plot.data.map((t, i) => ({name: t.name, x: values(t.x), y: values(t.y),
                                   drawn: plot._fullData[i] ? plot._fullData[i]._length : null}));
}"""


def settled(page, script: str, arg=None, *, pause_ms: int = 700, tries: int = 30):
    """The value of JavaScript ``script`` once two reads ``pause_ms`` apart agree and are not
    null: a slider's key presses each redraw, and a plot is briefly absent while redrawn."""
    last = page.evaluate(script, arg)
    for _ in range(tries):
        page.wait_for_timeout(pause_ms)
        now = page.evaluate(script, arg)
        if now is not None and now == last:
            return now
        last = now
    pytest.fail(f"the page did not settle within {tries * pause_ms / 1000:g} s: {last!r}")


@contextlib.contextmanager
def open_page(pw, base: str, token: str, name: str, *, panel: str, ready: str,
              slow_modules: bool = False):
    """A chromium page with notebook ``name`` opened and run (:func:`open_and_run_all`), its
    first ``panel`` (a CSS selector) scrolled into view, once the JavaScript condition
    ``ready`` holds (a plot drawn): yields ``(page, panel_locator)``; closes the browser.
    ``slow_modules``: widget scripts load as slowly as on a busy machine (``SLOW_MODULES``)."""
    browser = launch(pw)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        if slow_modules:
            page.add_init_script(SLOW_MODULES)
        open_and_run_all(page, base, token, name)
        locator = page.locator(panel).first
        locator.scroll_into_view_if_needed()
        try:
            page.wait_for_function(ready, timeout=PLOT_S * 1000)
        except Exception:  # noqa: BLE001 - say what did not happen
            pytest.fail(f"{name}: {panel}'s plot was not drawn within {PLOT_S} s")
        yield page, locator
    finally:
        browser.close()
