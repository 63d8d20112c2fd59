"""The thresholds notebook in a real browser: JupyterLab + headless Debian chromium.

Opens ``04_thresholds_and_false_alarms.ipynb`` (served by :mod:`browser_lab`), runs all
cells, presses ArrowRight on the first threshold explorer's slider and checks that the
displayed event sensitivity, false-alarm rate and confusion matrix change, and that they
are ``brr_lab.scoring``'s figures for the slider's new threshold on the same run's
predictions. It reads what the page plotted, too: the two current points (window recall and
precision; false alarms per 24 h and event sensitivity) sit at those figures before and after
the move, and the curves hold every point they should (the window precision-recall curve,
one point per slider stop). The page loads widget scripts as slowly as a busy machine does
(``browser_lab.SLOW_MODULES``): the explorer's plotly FigureWidget stayed empty there. A
screenshot of the panel goes to ``test-artifacts/``.
"""
from __future__ import annotations

import math

import pytest

from browser_lab import ARTIFACTS, NOTEBOOKS, PLOTTED, lab_server, open_page, settled

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
# The two "this threshold" points as plotted: [[recall, precision], [FA/24h, sensitivity]].
POINTS = f"""() => {{ const traces = ({PLOTTED})(['{PANEL}', 0]);
  return traces && traces.filter(t => t.name === 'this threshold').map(t => [t.x[0], t.y[0]]); }}"""
PLOT_READY = f"() => {{ const p = ({POINTS})(); return !!p && p.length === 2; }}"


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
    with sync_playwright() as pw, open_page(pw, base, token, NOTEBOOK.name, panel=PANEL,
                                            ready=PLOT_READY, slow_modules=True) as (page, panel):
        before, points_before = page.evaluate(READ), page.evaluate(POINTS)
        handle = panel.locator(".brr-threshold .noUi-handle")
        handle.focus()
        for _ in range(PRESSES):
            handle.press("ArrowRight")
        page.wait_for_function(
            f"before => {{ const now = ({READ})(); return now.threshold !== before.threshold "
            "&& now['brr-now-fa'] !== before['brr-now-fa'] "
            "&& now['brr-cm-fp'] !== before['brr-cm-fp']; }", arg=before, timeout=30_000)
        after, points_after = settled(page, READ), settled(page, POINTS)  # all presses redrawn
        traces = {t["name"]: t for t in settled(page, PLOTTED, [PANEL, 0])}
        panel.screenshot(path=str(ARTIFACTS / "threshold_explorer.png"))

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
    # The plotted points sit at the library's figures, before and after: they moved.
    for points, t in ((points_before, 0.5), (points_after, float(stops[now]))):
        assert points == expected_points(scoring.score(run.validation, t))
    assert points_after != points_before, "the plotted operating point did not move"
    check_curves(traces, run.validation, stops)


def expected_points(s) -> list:
    """[[window recall, window precision], [FA/24h, event sensitivity]], None for NaN (a gap)."""
    finite = [None if v is None or not math.isfinite(v) else pytest.approx(v, rel=1e-12)
              for v in (s.window.sensitivity, s.window.precision, s.fa_per_24h, s.sensitivity)]
    return [finite[:2], finite[2:]]


def check_curves(traces: dict, validation, stops) -> None:
    """Every point of the window PR curve and one point per slider stop, drawn, none empty."""
    from sklearn.metrics import precision_recall_curve

    from brr_lab.scoring import EventScorer

    scorer = EventScorer(validation)
    precision, recall, _ = precision_recall_curve(scorer.window_positive,
                                                  validation.predictions.probability,
                                                  drop_intermediate=True)
    curve, events = traces["window PR curve"], traces["slider stops (events)"]
    assert curve["drawn"] == len(recall) and events["drawn"] == len(stops)
    for trace in (curve, events):  # no empty (null) point
        empty = sum(x is None or y is None for x, y in zip(trace["x"], trace["y"]))
        assert empty == 0, f"{trace['name']}: {empty} of {len(trace['x'])} points empty"
    assert curve["x"] == pytest.approx(list(recall)) and curve["y"] == pytest.approx(list(precision))
    scores = [scorer.score(float(t)) for t in stops]
    assert events["x"] == pytest.approx([s.fa_per_24h for s in scores])
    assert events["y"] == pytest.approx([s.sensitivity for s in scores])
