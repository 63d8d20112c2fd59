"""The weights explorer without a kernel: build it, set slider values, read the table and figure.

Expected figures come from hand-written formulas (the constant-weight ratio, q*) or from
the engine functions the panel is meant to show, never from the panel itself.
"""
from __future__ import annotations

import itertools
import json
import re
import warnings

import numpy as np
import pytest

from brr_lab import weighting
from brr_lab.widgets import CURVE_SCALES, SLIDER_RANGES, WeightsExplorer

PI = 1 / 13  # 12 negatives per positive


def cell(explorer: WeightsExplorer, key: str) -> str:
    """Text shown in the table cell of one figure."""
    css = "brr-" + key.replace("_", "-")
    match = re.search(rf'class="{css}"[^>]*>([^<]*)<', explorer.table.value)
    assert match, f"no cell {css} in the table"
    return match.group(1)


def shown(explorer: WeightsExplorer) -> list[dict]:
    """The traces the plot shows, as the page receives them (one plotly JSON bundle)."""
    (output,) = explorer.plot.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    json.dumps(spec, allow_nan=False)  # what the comm sends: strict JSON, no NaN
    return spec["data"]


def curve(explorer: WeightsExplorer, name: str) -> np.ndarray:
    (trace,) = [t for t in shown(explorer) if t["name"] == name]
    return np.asarray(trace["y"], dtype=float)


@pytest.fixture(scope="module")
def explorer() -> WeightsExplorer:
    return WeightsExplorer()


def test_default_is_the_postmortems_bug_setup(explorer):
    assert explorer.settings() == {"alpha": 0.25, "gamma": 2.0, "pos_weight": 12.0,
                                   "prevalence": PI, "sampler_fraction": None}
    assert cell(explorer, "ratio") == "4"  # 12*0.25 : 0.75
    assert cell(explorer, "imbalance") == "12"
    assert cell(explorer, "q_star") == "0.2"
    assert explorer.setup.stacked and explorer.setup.active_names == ["alpha", "pos_weight"]
    assert "STACKED" in explorer.notes.value
    assert "alpha=0.25" in explorer.notes.value and "warning" in explorer.notes.value


@pytest.mark.parametrize("alpha", [0.1, 0.25, 0.5, 0.73, 0.99])
@pytest.mark.parametrize("pos_weight", [1.0, 3.5, 12.0])
def test_moving_alpha_and_pos_weight_updates_the_table(alpha, pos_weight):
    e = WeightsExplorer()
    e.alpha_slider.value = alpha
    e.pos_weight_slider.value = pos_weight
    ratio = alpha * pos_weight / (1 - alpha)
    assert e.rows()["ratio"] == pytest.approx(ratio)
    assert cell(e, "ratio") == f"{ratio:.4g}"
    assert e.rows()["q_star"] == pytest.approx((1 - alpha) / ((1 - alpha) + alpha * pos_weight))
    expected = weighting.analyze(PI, alpha, 2.0, pos_weight).as_dict()
    for key in ("p_star", "equivalent_pos_weight", "pos_grad_share_at_init",
                "pos_grad_share_at_prior"):
        assert e.rows()[key] == pytest.approx(expected[key])


def test_moving_alpha_redraws_the_curves(explorer):
    before = curve(explorer, "positive loss").copy()
    explorer.alpha_slider.value = 0.5
    after = curve(explorer, "positive loss")
    ref = weighting.loss_curves(np.asarray(shown(explorer)[0]["x"]), alpha=0.5, gamma=2.0, pos_weight=12.0)
    np.testing.assert_allclose(after, ref["loss_pos"])
    np.testing.assert_allclose(curve(explorer, "negative |dL/dz|"), ref["grad_neg"])
    np.testing.assert_allclose(after, before * 2)  # alpha*pos_weight went from 3 to 6
    explorer.alpha_slider.value = 0.25
    np.testing.assert_allclose(curve(explorer, "positive loss"), before)


def test_gamma_moves_p_star_not_q_star():
    e = WeightsExplorer(gamma=0.0)
    q0, p0 = e.rows()["q_star"], e.rows()["p_star"]
    e.gamma_slider.value = 2.0
    assert e.rows()["q_star"] == q0
    assert e.rows()["p_star"] != pytest.approx(p0, abs=1e-3)
    # The dashed p* line follows the report.
    assert shown(e)[4]["x"] == [e.report.p_star] * 2


def test_the_fix_with_a_sampler_stacks_to_144():
    e = WeightsExplorer(alpha=0.5, pos_weight=12.0)
    assert not e.setup.stacked and "STACKED" not in e.notes.value
    assert e.sampler_fraction_slider.disabled
    assert cell(e, "effective_ratio") == "12"
    e.sampler_checkbox.value = True
    assert not e.sampler_fraction_slider.disabled
    assert e.settings()["sampler_fraction"] == 0.5
    assert cell(e, "sampler_odds") == "12"
    assert cell(e, "effective_ratio") == "144"
    assert e.rows()["q_star"] == pytest.approx(1 / 145)
    assert e.setup.active_names == ["pos_weight", "sampler"]
    assert "STACKED" in e.notes.value and "over-correction" in e.notes.value
    e.sampler_fraction_slider.value = 0.25
    s = (0.25 / 0.75) / (PI / (1 - PI))
    assert e.rows()["effective_ratio"] == pytest.approx(12 * s)


def test_class_mix_gradient_curves_cross_at_p_star():
    e = WeightsExplorer(sampler=True, curves="class mix", n_points=999)
    p = np.asarray(shown(e)[2]["x"])
    diff = curve(e, "positive |dL/dz|") - curve(e, "negative |dL/dz|")
    crossings = np.flatnonzero(np.diff(np.sign(diff)))
    assert len(crossings) == 1
    i = crossings[0]
    assert p[i] <= e.report.p_star <= p[i + 1]
    # Per example, the sampler changes no curve.
    per_example = curve(e, "positive loss").copy()
    e.curves_toggle.value = "per example"
    np.testing.assert_allclose(curve(e, "positive loss"), per_example / 0.5)


def test_set_moves_several_controls_at_once():
    e = WeightsExplorer()
    calls = []
    original = e.update
    e.update = lambda: (calls.append(1), original())[1]
    e.set(alpha=0.5, gamma=0.0, pos_weight=1.0, prevalence=0.2, sampler=False)
    assert len(calls) == 1
    assert e.rows()["ratio"] == 1.0
    assert e.rows()["p_star"] == pytest.approx(0.2)  # plain BCE learns the prior
    assert not e.setup.active


@pytest.mark.parametrize("name", sorted(SLIDER_RANGES))
def test_values_outside_a_slider_range_raise_instead_of_clamping(name):
    low, high, _ = SLIDER_RANGES[name]
    with pytest.raises(ValueError, match=rf"'{name}'.*\[{low:g}, {high:g}\].*{high + 1!r}"):
        WeightsExplorer(**{name: high + 1})
    e = WeightsExplorer()
    before = e.settings()
    with pytest.raises(ValueError, match=name):
        e.set(**{name: low - 1})
    assert e.settings() == before


@pytest.mark.parametrize("kwargs, param", [
    ({"sampler": "yes"}, "sampler"),
    ({"curves": "log"}, "curves"),
    ({"n_points": 2}, "n_points"),
    ({"alpha": float("nan")}, "alpha"),
])
def test_other_bad_settings_raise(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        WeightsExplorer(**kwargs)


def test_curve_scales_are_the_toggle_options():
    assert WeightsExplorer().curves_toggle.options == CURVE_SCALES


def test_each_redraw_sends_the_whole_figure_once():
    """One message per change (a slider move, a ``set``), each holding every trace whole:
    x and y of every curve, as plain numbers, so a page that missed earlier messages (a
    slow one, see brr_lab.widgets.figure_output) still draws the current curves."""
    e = WeightsExplorer(n_points=11)
    sent = []
    e.plot.observe(lambda change: sent.append(change["new"]), names="outputs")
    e.alpha_slider.value = 0.3
    assert len(sent) == 1
    e.set(sampler=True, curves="class mix", gamma=1.0)
    assert len(sent) == 2
    ref = weighting.loss_curves(np.linspace(0.005, 0.995, 11), alpha=0.3, gamma=1.0, pos_weight=12.0)
    (output,) = sent[-1]
    traces = output["data"]["application/vnd.plotly.v1+json"]["data"]
    assert [t["name"] for t in traces[:4]] == ["positive loss", "negative loss",
                                                "positive |dL/dz|", "negative |dL/dz|"]
    for t in traces[:4]:
        assert t["x"] == pytest.approx(list(np.linspace(0.005, 0.995, 11)), abs=1e-15)
        assert len(t["y"]) == 11 and all(isinstance(v, float) for v in t["y"])
    np.testing.assert_allclose(traces[0]["y"], 0.5 * ref["loss_pos"])  # class mix: sampler's 0.5
    np.testing.assert_allclose(traces[3]["y"], 0.5 * ref["grad_neg"])
    assert traces[4]["x"] == traces[5]["x"] == [e.report.p_star] * 2


def test_every_corner_of_the_sliders_gives_finite_figures():
    """No slider position produces a NaN, an infinity or a warning in the table or plots."""
    e = WeightsExplorer(n_points=21)
    names = ("alpha", "gamma", "pos_weight", "prevalence", "sampler_fraction")
    corners = itertools.product(*[SLIDER_RANGES[n][:2] for n in names], (False, True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for *values, sampler in corners:
            e.set(**dict(zip(names, values)), sampler=sampler, curves="class mix")
            assert np.all(np.isfinite(list(e.rows().values()))), (values, sampler)
            for trace in shown(e):
                assert np.all(np.isfinite(np.asarray(trace["y"], dtype=float))), (values, sampler)


def test_frame_is_the_table_as_shown():
    e = WeightsExplorer(alpha=0.5, pos_weight=12.0, sampler=True)
    frame = e.frame()
    assert len(frame) == 9
    assert frame.loc["effective ratio", "value"] == cell(e, "effective_ratio") == "144"
    assert frame.loc["constant-weight ratio", "value"] == "12"  # no float noise
    assert frame.loc["BCE pos_weight with the same p*", "value"] == cell(e, "equivalent_pos_weight")


def test_listeners_run_after_every_redraw():
    e = WeightsExplorer()
    seen = []
    e.on_update(lambda: seen.append(e.settings()["gamma"]))
    e.gamma_slider.value = 1.0
    e.set(gamma=0.0, alpha=0.5)
    assert seen == [1.0, 0.0]


def test_notes_say_gamma_moves_q_star_away_from_0_5():
    assert "q* at any threshold but 0.5" in WeightsExplorer().notes.value
