"""The p-versus-q panel without a kernel: the curve, q* and the slider, against references.

Expected values come from closed forms written here, from a brute-force minimisation of
the library's loss (``binary_focal_loss``), or from hand-counted confusion matrices; never
from the panel itself.
"""
from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from brr_lab import weighting
from brr_lab.losses import binary_focal_loss
from brr_lab.widgets import THRESHOLD_RANGE, PVsQ, WeightsExplorer
from brr_lab.widgets.figure_output import plain, show_figure

PI = 1 / 13


def shown_q_star(panel: PVsQ) -> str:
    match = re.search(r'class="brr-q-star">([^<]*)<', panel.q_star_note.value)
    assert match, panel.q_star_note.value
    return match.group(1)


def brute_force_p(q: float, *, alpha, gamma, pos_weight, s: float = 1.0) -> float:
    """argmin over a fine p grid of the expected focal loss, from the library's torch loss."""
    z = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    kw = dict(alpha=alpha, gamma=gamma, reduction="none",
              pos_weight=None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64))
    loss_pos = binary_focal_loss(z, torch.ones_like(z), **kw)
    loss_neg = binary_focal_loss(z, torch.zeros_like(z), **kw)
    expected = q * s * loss_pos + (1 - q) * loss_neg
    return float(torch.sigmoid(z[torch.argmin(expected)]))


def test_plain_bce_curve_is_the_diagonal():
    panel = PVsQ(alpha=None, gamma=0.0, pos_weight=None)
    q, p = panel.curve
    np.testing.assert_allclose(p, q, atol=1e-9)
    assert panel.q_star == pytest.approx(0.5)


@pytest.mark.parametrize("alpha, pos_weight, fraction", [(0.25, 12.0, None), (0.5, 12.0, 0.5),
                                                         (0.25, None, None), (0.9, 2.0, 0.3)])
def test_weighted_bce_curve_is_the_closed_form(alpha, pos_weight, fraction):
    """At gamma 0 the expected loss is minimised at p = a / (a + b), a = q s w_pos, b = (1-q) w_neg."""
    panel = PVsQ(alpha=alpha, gamma=0.0, pos_weight=pos_weight, sampler_fraction=fraction)
    q, p = panel.curve
    s = 1.0 if fraction is None else (fraction / (1 - fraction)) / (PI / (1 - PI))
    a = q * s * alpha * (pos_weight or 1.0)
    b = (1 - q) * (1 - alpha)
    np.testing.assert_allclose(p, a / (a + b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("q", [0.01, 0.077, 0.3, 0.8])
def test_focal_curve_minimises_the_librarys_loss(gamma, q):
    got = float(weighting.optimal_prediction(q, PI, alpha=0.25, gamma=gamma, pos_weight=12.0))
    assert got == pytest.approx(brute_force_p(q, alpha=0.25, gamma=gamma, pos_weight=12.0), abs=2e-4)


def test_curve_at_the_prevalence_is_p_star():
    kw = dict(alpha=0.5, gamma=2.0, pos_weight=12.0, sampler_fraction=0.5)
    assert float(weighting.optimal_prediction(PI, PI, **kw)) == pytest.approx(
        float(weighting.best_constant_prediction(PI, **kw)), rel=1e-9)


@pytest.mark.parametrize("threshold", [0.05, 0.2, 0.5, 0.8])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_q_star_is_where_the_curve_crosses_the_threshold(threshold, gamma):
    panel = PVsQ(alpha=0.25, gamma=gamma, pos_weight=12.0, threshold=threshold, n_points=2001)
    q, p = panel.curve
    assert np.all(np.diff(p) > 0)  # one crossing
    i = np.flatnonzero(p >= threshold)[0]
    assert q[i - 1] <= panel.q_star <= q[i]
    # The plot marks the same point, on the threshold line.
    assert panel.figure.data[3].x == (panel.q_star,) and panel.figure.data[3].y == (threshold,)
    assert set(panel.figure.data[2].y) == {threshold}


def test_q_star_closed_forms():
    # At 0.5 the focal factors cancel: (1 - alpha) / ((1 - alpha) + alpha * pos_weight).
    for gamma in (0.0, 2.0, 5.0):
        assert float(weighting.q_star_at(0.5, PI, 0.25, gamma, 12.0)) == pytest.approx(0.75 / 3.75)
    # At gamma 0 and threshold t: odds(q*) = (t / (1 - t)) * w_neg / w_pos = 0.25 * 0.75 / 3.
    assert float(weighting.q_star_at(0.2, PI, 0.25, 0.0, 12.0)) == pytest.approx(1 / 17)
    # With gamma 2 the same threshold calls windows about ten times less likely (0.006 vs 0.059).
    with_gamma = float(weighting.q_star_at(0.2, PI, 0.25, 2.0, 12.0))
    assert (1 / 17) / 11 < with_gamma < (1 / 17) / 9
    assert float(weighting.optimal_prediction(with_gamma, PI, 0.25, 2.0, 12.0)) == pytest.approx(0.2)


def test_moving_the_threshold_slider_moves_q_star_and_the_plot():
    panel = PVsQ(alpha=0.25, gamma=2.0, pos_weight=12.0)
    assert shown_q_star(panel) == "0.2"
    curve_before = panel.curve[1].copy()
    panel.threshold_slider.value = 0.2
    expected = float(weighting.q_star_at(0.2, PI, 0.25, 2.0, 12.0))
    assert panel.q_star == pytest.approx(expected)
    assert shown_q_star(panel) == f"{expected:.2g}" == "0.006"
    assert panel.figure.data[3].x == (panel.q_star,)
    np.testing.assert_array_equal(panel.curve[1], curve_before)  # the threshold reads the curve


def test_follows_the_weights_explorer():
    explorer = WeightsExplorer(alpha=0.25, gamma=2.0, pos_weight=12.0, prevalence=PI)
    panel = PVsQ(explorer=explorer, threshold=0.2)
    at_gamma_2 = panel.q_star
    explorer.gamma_slider.value = 0.0
    assert panel.q_star == pytest.approx(1 / 17) and at_gamma_2 < panel.q_star / 5
    np.testing.assert_allclose(panel.figure.data[1].y,
                               weighting.optimal_prediction(panel.curve[0], PI, 0.25, 0.0, 12.0))
    explorer.set(alpha=0.5, sampler=True)
    assert panel.settings()["sampler_fraction"] == 0.5
    panel.threshold_slider.value = 0.5
    assert panel.q_star == pytest.approx(1 / 145)  # the fix with its sampler: 144:1


def test_confusion_matrix_and_pr_point_at_the_threshold():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.4, 0.3, 0.1, 0.1, 0.05, 0.0])
    panel = PVsQ(predictions=(y, p), threshold=0.5)
    cells = [int(c) for c in re.findall(r"monospace\">([\d,]+)<", panel.confusion.value)]
    assert cells == [2, 1, 1, 6]  # tp fn / fp tn, counted by hand
    assert panel.pr_figure.data[2].x == (2 / 3,) and panel.pr_figure.data[2].y == (2 / 3,)
    panel.threshold_slider.value = 0.15
    cells = [int(c) for c in re.findall(r"monospace\">([\d,]+)<", panel.confusion.value)]
    assert cells == [3, 0, 3, 4]
    assert panel.pr_figure.data[2].x == (1.0,) and panel.pr_figure.data[2].y == (0.5,)


def shown_traces(out) -> dict[str, dict]:
    """The traces an ``Output`` shows, by name, as the page receives them (one plotly bundle)."""
    (output,) = out.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    json.dumps(spec, allow_nan=False)  # what the comm sends: strict JSON, no NaN
    return {t["name"]: t for t in spec["data"]}


def test_the_plot_shows_the_whole_current_curve_as_plain_numbers():
    explorer = WeightsExplorer(alpha=0.25, gamma=2.0, pos_weight=12.0, prevalence=PI)
    panel = PVsQ(explorer=explorer, threshold=0.2)
    explorer.set(alpha=0.6, gamma=1.0)  # a redraw from code, after the panel was built
    curve = shown_traces(panel.plot)["loss optimum p(q)"]
    assert isinstance(curve["y"], list) and all(isinstance(v, float) for v in curve["y"])
    np.testing.assert_allclose(curve["x"], panel.curve[0], rtol=0, atol=0)
    np.testing.assert_allclose(curve["y"], weighting.optimal_prediction(
        np.asarray(curve["x"]), PI, alpha=0.6, gamma=1.0, pos_weight=12.0), rtol=1e-12)
    assert max(curve["y"]) - min(curve["y"]) > 0.5  # not flat
    assert shown_traces(panel.plot)["q*"]["x"] == [panel.q_star]


def test_the_pr_plot_marks_the_threshold_and_a_gap_stays_a_gap():
    y = np.array([1, 1, 0, 0])
    panel = PVsQ(predictions=(y, np.array([0.9, 0.6, 0.7, 0.1])), threshold=0.5)
    assert shown_traces(panel.pr_plot)["at the threshold"]["x"] == [1.0]
    assert plain([0.5, np.nan, np.inf, np.float32(0.25)]) == [0.5, None, None, 0.25]
    fig = go.Figure(go.Scatter(x=[0.0, 1.0], y=np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match="'fig'.*plain lists"):
        show_figure(panel.plot, fig)  # numpy would arrive as base64, not as numbers


def test_log_axis():
    panel = PVsQ(q_scale="log")
    assert panel.figure.layout.xaxis.type == "log"
    panel.scale_toggle.value = "linear"
    assert panel.figure.layout.xaxis.type == "linear"


@pytest.mark.parametrize("kwargs, param", [
    ({"threshold": THRESHOLD_RANGE[1] + 0.005}, "threshold"),
    ({"threshold": 0.0}, "threshold"),
    ({"q_scale": "symlog"}, "q_scale"),
    ({"n_points": 2}, "n_points"),
    ({"alpha": 1.5}, "alpha"),
    ({"predictions": ([0, 1], [0.5])}, "scores"),
    ({"predictions": ([0, 1], [0.5, 1.5])}, "predictions"),
    ({"predictions": [0, 1, 0]}, "predictions"),
])
def test_bad_settings_raise(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        PVsQ(**kwargs)
