"""The thresholds notebook in a real browser: JupyterLab + headless Debian chromium.

Opens ``04_thresholds_and_false_alarms.ipynb`` (served by :mod:`browser_lab`), runs all
cells, presses ArrowRight on the first threshold explorer's slider and checks that the
displayed event sensitivity, false-alarm rate and confusion matrix change, and that they
are ``brr_lab.scoring``'s figures for the slider's new threshold on the same run's
predictions. A screenshot of the panel goes to ``test-artifacts/``.
"""
from __future__ import annotations

import pytest

from browser_lab import ARTIFACTS, NOTEBOOKS, lab_server, launch, open_and_run_all

NOTEBOOK = NOTEBOOKS / "04_thresholds_and_false_alarms.ipynb"
PANEL = ".brr-threshold-explorer"
SHOWN = ["brr-now-sensitivity", "brr-now-fa", "brr-cm-tp", "brr-cm-fn", "brr-cm-fp", "brr-cm-tn"]
READ = f"""() => {{
  const panel = document.querySelector('{PANEL}');
  const out = {{}};
  for (const css of {SHOWN}) {{
    const el = panel && panel.querySelector('.' + css);
    out[css] = el ? el.textContent : null;
  }}
  const readout = panel && panel.querySelector('.brr-threshold .widget-readout');
  out.threshold = readout ? readout.textContent.trim() : null;
  return out;
}}"""
PRESSES = 3


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_server([NOTEBOOK], tmp_path_factory) as served:
        yield served


def expected_text(s) -> dict[str, str]:
    """What the panel should show for scores ``s``, written out here, not taken from the panel."""
    (slo, shi), (flo, fhi), w = s.sensitivity_ci, s.fa_per_24h_ci, s.window
    return {"brr-now-sensitivity": f"{s.sensitivity:.2f} [{slo:.2f}, {shi:.2f}], "
                                   f"{s.n_detected} of {s.n_seizures} seizures",
            "brr-now-fa": f"{s.fa_per_24h:.3g} [{flo:.3g}, {fhi:.3g}], {s.n_false_alarms} in "
                          f"{s.hours:.2f} h",
            "brr-cm-tp": str(w.tp), "brr-cm-fn": str(w.fn), "brr-cm-fp": str(w.fp),
            "brr-cm-tn": str(w.tn)}


@pytest.mark.browser
def test_threshold_slider_redraws_event_scores_and_matrix(lab):
    from playwright.sync_api import sync_playwright  # imported here: only this test needs it

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            open_and_run_all(page, base, token, NOTEBOOK.name)
            panel = page.locator(PANEL).first
            panel.scroll_into_view_if_needed()
            page.wait_for_function(f"() => ({READ})()['brr-now-fa'] !== null", timeout=60_000)
            before = page.evaluate(READ)
            handle = panel.locator(".brr-threshold .noUi-handle")
            handle.focus()
            for _ in range(PRESSES):
                handle.press("ArrowRight")
            page.wait_for_function(
                f"before => {{ const now = ({READ})(); return now.threshold !== before.threshold "
                "&& now['brr-now-fa'] !== before['brr-now-fa'] "
                "&& now['brr-cm-fp'] !== before['brr-cm-fp']; }", arg=before, timeout=30_000)
            page.wait_for_timeout(500)  # the last key press's redraw, if still in flight
            after = page.evaluate(READ)
            panel.screenshot(path=str(ARTIFACTS / "threshold_explorer.png"))
        finally:
            browser.close()

    # The library's figures for the same run (read back from the cache the notebook filled).
    from brr_lab import scoring
    from brr_lab.eeg.cohort import load_cohort
    from brr_lab.widgets import run_predictions
    from brr_lab.widgets.threshold_explorer import threshold_grid

    run = run_predictions("fix-plus-sampler", load_cohort(), seed=0)
    stops = threshold_grid([0.5, run.row["threshold_moved"]["threshold"]])
    labels = [f"{t:.4g}" for t in stops]
    assert before["threshold"] == "0.5"
    start, now = labels.index(before["threshold"]), labels.index(after["threshold"])
    assert now == start + PRESSES  # one stop per key press
    for state, t in ((before, 0.5), (after, float(stops[now]))):
        shown = {k: v for k, v in state.items() if k != "threshold"}
        assert shown == expected_text(scoring.score(run.validation, t))
