"""The effective-weights notebook in a real browser: JupyterLab + headless Debian chromium.

Opens ``02_effective_weights.ipynb`` (served by :mod:`browser_lab`), runs all cells,
presses ArrowRight on the alpha slider and checks that the displayed ratio and the plotted
curve change (and that the new ratio is the engine's for the slider's new value), and that
the p-versus-q panel linked to it plots the engine's curve p(q) for the new alpha, not a flat
line; then presses ArrowRight on the threshold slider of the first p-versus-q panel and
checks that the displayed q* and the plotted q* mark move to the engine's value and that its
plotted curve is the engine's p(q). Both tests load widget scripts as slowly as a busy
machine does (``browser_lab.SLOW_MODULES``): a plotly FigureWidget stays empty on such a
page (see brr_lab.widgets.figure_output). Screenshots of the panels go to ``test-artifacts/``.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from brr_lab import weighting
from browser_lab import ARTIFACTS, NOTEBOOKS, PLOTTED, chromium, lab_server, open_page, settled

NOTEBOOK = NOTEBOOKS / "02_effective_weights.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_server([NOTEBOOK], tmp_path_factory) as served:
        yield served


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


# The p-versus-q panel that follows the weights explorer: the notebook's last one.
LINKED = [".brr-p-vs-q", -1]
FLAT = 0.5  # the curves here rise from about 0 to above 0.9: a span under 0.5 is a flat line


def pvq_curve(traces) -> tuple[np.ndarray, np.ndarray]:
    """(q, p) of the plotted loss-optimum curve, from ``PLOTTED``'s traces."""
    (curve,) = [t for t in traces if t["name"] == "loss optimum p(q)"]
    assert curve["drawn"] == len(curve["x"]) == len(curve["y"]) > 100
    empty = sum(x is None or y is None for x, y in zip(curve["x"], curve["y"]))
    assert empty == 0, f"{empty} of {len(curve['x'])} points of p(q) empty"
    return np.asarray(curve["x"]), np.asarray(curve["y"])


def check_pvq_curve(traces, **setting) -> None:
    """The plotted curve is not flat, and is the engine's p(q) for ``setting`` at the plotted q."""
    q, p = pvq_curve(traces)
    assert p.max() - p.min() > FLAT, f"flat p(q): plotted values span only {p.max() - p.min():.3g}"
    np.testing.assert_allclose(p, weighting.optimal_prediction(q, **setting), rtol=1e-9, atol=1e-12)


@pytest.mark.browser
def test_alpha_slider_redraws_ratio_and_plot(lab):
    from playwright.sync_api import sync_playwright  # imported here: only this test needs it

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    ready = f"() => ({POSITIVE_LOSS})() !== null && ({PLOTTED})({LINKED}) !== null"
    with sync_playwright() as pw, open_page(pw, base, token, NOTEBOOK.name,
                                            panel=".brr-weights-explorer", ready=ready,
                                            slow_modules=True) as (page, panel):
        ratio_before = page.evaluate(RATIO_TEXT)
        curve_before = page.evaluate(POSITIVE_LOSS)
        linked_before = settled(page, PLOTTED, LINKED)
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
        linked_after = settled(page, PLOTTED, LINKED)
        panel.screenshot(path=str(ARTIFACTS / "weights_explorer.png"))

    # The linked panel plots the engine's p(q) for the explorer's alpha, before and after.
    for traces, alpha in ((linked_before, alpha_before), (linked_after, alpha_after)):
        check_pvq_curve(traces, **{**PVQ_SETTING, "alpha": alpha})
    assert not np.allclose(pvq_curve(linked_after)[1], pvq_curve(linked_before)[1])
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


# The first p-versus-q panel of the notebook: alpha 0.25, gamma 2, pos_weight 12, 12:1 data.
PVQ_SETTING = dict(prevalence=1 / 13, alpha=0.25, gamma=2.0, pos_weight=12.0)
Q_STAR_TEXT = "() => document.querySelector('.brr-p-vs-q .brr-q-star').textContent"
Q_STAR_MARK = """() => {
  const plot = document.querySelector('.brr-p-vs-q .js-plotly-plot');
  const mark = plot && plot.data && plot.data.find(t => t.name === 'q*');
  return mark && mark.x ? [Array.from(mark.x)[0], Array.from(mark.y)[0]] : null;
}"""


@pytest.mark.browser
def test_threshold_slider_moves_q_star_text_and_mark(lab):
    from playwright.sync_api import sync_playwright

    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw, open_page(pw, base, token, NOTEBOOK.name, panel=".brr-p-vs-q",
                                            ready=f"() => ({Q_STAR_MARK})() !== null",
                                            slow_modules=True) as (page, panel):
        text_before, mark_before = page.evaluate(Q_STAR_TEXT), page.evaluate(Q_STAR_MARK)
        t_before = float(panel.locator(".brr-threshold .widget-readout").inner_text())
        handle = panel.locator(".brr-threshold .noUi-handle")
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function(
            f"before => {{ const now = ({Q_STAR_MARK})(); return !!now && now[0] !== before[0]; }}",
            arg=mark_before, timeout=30_000)
        t_after = float(panel.locator(".brr-threshold .widget-readout").inner_text())
        text_after, mark_after = page.evaluate(Q_STAR_TEXT), page.evaluate(Q_STAR_MARK)
        traces_after = settled(page, PLOTTED, [".brr-p-vs-q", 0])
        panel.screenshot(path=str(ARTIFACTS / "p_vs_q.png"))

    q_before = float(weighting.q_star_at(t_before, **PVQ_SETTING))
    q_after = float(weighting.q_star_at(t_after, **PVQ_SETTING))
    assert t_after > t_before
    assert text_before == f"{q_before:.2g}" and text_after == f"{q_after:.2g}"
    assert text_after != text_before
    # The mark sits on the threshold line at the engine's q*.
    assert mark_before == pytest.approx([q_before, t_before])
    assert mark_after == pytest.approx([q_after, t_after])
    # After the move the curve is still drawn whole: the engine's p(q), not a flat line.
    check_pvq_curve(traces_after, **PVQ_SETTING)


def test_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        chromium()
