"""The sweep: the same protocol as repro, copies side by side; grid, pivot, bad input, the command."""
import json
import math

import numpy as np
import pytest
import torch

from brr_lab.experiments import repro, sweep
from brr_lab.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Stated tolerance: a copy of the sweep and the trainer run the same arithmetic except for
# the order of float sums (masked batch means, stacked parameters), ~1e-6 on these logits.
LOGIT_TOL = 1e-4
METRIC_TOL = 1e-3


def _pos_weight(cohort):
    n_pos = int(cohort.train.y.sum())
    return (len(cohort.train.y) - n_pos) / n_pos


@pytest.mark.parametrize("scenario,setting", [
    ("postmortem-bug", dict(alpha=0.25, gamma=2.0, use_pw=True, sampler_fraction=None)),
    ("fix-plus-sampler", dict(alpha=0.5, gamma=2.0, use_pw=True, sampler_fraction=0.5)),
    ("bce", dict(alpha=None, gamma=0.0, use_pw=False, sampler_fraction=None)),
])
def test_sweep_matches_repro_alone_and_inside_a_grid(tiny_cohort, scenario, setting):
    """One setting and seed through repro and through the sweep, alone and in a grid."""
    pw = _pos_weight(tiny_cohort) if setting["use_pw"] else None
    target = sweep.SweepSetting(alpha=setting["alpha"], gamma=setting["gamma"], pos_weight=pw,
                                sampler_fraction=setting["sampler_fraction"], seed=1)
    others = [sweep.SweepSetting(alpha=0.75, gamma=1.0, seed=0),
              sweep.SweepSetting(pos_weight=3.0, sampler_fraction=0.25, seed=2)]
    row = repro.run_scenario(scenario, tiny_cohort, seed=1, epochs=3)
    alone = sweep.train_sweep(tiny_cohort, [target], epochs=3, device="cpu")
    grid = sweep.train_sweep(tiny_cohort, [others[0], target, others[1]], epochs=3, device="cpu")
    for result, k in ((alone, 0), (grid, 1)):
        got = result.rows[k]
        for key in ("auroc", "auprc", "pred_pos_rate", "recall"):
            if isinstance(row[key], float) and math.isnan(row[key]):
                assert math.isnan(got[key])
            else:
                assert got[key] == pytest.approx(row[key], abs=METRIC_TOL), key
    assert torch.allclose(alone.val_logits[0], grid.val_logits[1], atol=LOGIT_TOL)


def test_rows_carry_the_evidence_and_intervals(tiny_cohort):
    result = sweep.train_sweep(tiny_cohort, sweep.make_grid(alpha=[None, 0.5], seeds=[0, 1]),
                               epochs=1, device="cpu")
    size = tiny_cohort.size("validation")
    d = result.as_dict()
    assert (d["n_val_recordings"], d["n_val_seizures"], d["n_val_windows"]) == (
        size["n_recordings"], size["n_seizures"], size["n_windows"])
    for r in d["settings"]:
        for key in ("auroc_ci", "auprc_ci", "pred_pos_rate_ci"):
            assert len(r[key]) == 2
        assert r["auroc_ci"][0] <= r["auroc"] <= r["auroc_ci"][1]


def test_pivot_averages_seeds_and_refuses_mixed_cells(tiny_cohort):
    settings = sweep.make_grid(alpha=[0.25, 0.5], pos_weight=[1.0, 4.0], gamma=[0.0, 2.0], seeds=[0])
    result = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cpu", intervals=False)
    with pytest.raises(ValueError, match="'fixed'"):
        result.pivot("auroc")
    rows, cols, table = result.pivot("auroc", gamma=2.0)
    assert rows == [0.25, 0.5] and cols == [1.0, 4.0] and table.shape == (2, 2)
    q_rows, q_cols, q = result.pivot("q_star", gamma=0.0)
    assert q[0, 0] == pytest.approx(0.75)  # alpha .25, pos_weight 1: q* = 0.75


def test_alpha_none_is_not_alpha_half(tiny_cohort):
    """NaN in the alpha tensor means 'off' (both classes weigh 1), not 0.5 (half the scale)."""
    a = sweep.train_sweep(tiny_cohort, [sweep.SweepSetting(alpha=None, seed=0),
                                        sweep.SweepSetting(alpha=0.5, seed=0)], epochs=1,
                          device="cpu", intervals=False)
    assert a.rows[0]["train_loss"] == pytest.approx(2 * a.rows[1]["train_loss"], rel=1e-4)


@pytest.mark.parametrize("kwargs,param", [
    (dict(settings=[]), "settings"), (dict(strategy="fast"), "strategy"),
])
def test_bad_arguments_name_the_parameter(tiny_cohort, kwargs, param):
    args = {"settings": [sweep.SweepSetting()], **kwargs}
    with pytest.raises(ValueError, match=f"'{param}'"):
        sweep.train_sweep(tiny_cohort, **args)


def test_bad_settings_name_the_parameter():
    with pytest.raises(ValueError, match="'alpha'"):
        sweep.SweepSetting(alpha=1.5)
    with pytest.raises(ValueError, match="'sampler_fraction'"):
        sweep.SweepSetting(sampler_fraction=1.0)
    with pytest.raises(ValueError, match="'seeds'"):
        sweep.make_grid(seeds=[])


def test_data_must_be_a_cohort():
    with pytest.raises(ValueError, match="'data'"):
        sweep.train_sweep((torch.zeros(3), torch.zeros(3)), [sweep.SweepSetting()])


def test_vmap_and_per_copy_agree(tiny_cohort):
    settings = sweep.make_grid(alpha=[0.25, 0.75], seeds=[0])
    a = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cpu", strategy="vmap", intervals=False)
    b = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cpu", strategy="per_copy", intervals=False)
    assert torch.allclose(a.val_logits, b.val_logits, atol=LOGIT_TOL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(tiny_cohort):  # pragma: no cover - CI has no GPU
    settings = sweep.make_grid(alpha=[0.25, 0.5], seeds=[0])
    cpu = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cpu", intervals=False)
    gpu = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cuda", intervals=False)
    assert torch.allclose(cpu.val_logits, gpu.val_logits, atol=1e-3)


@pytest.mark.slow
def test_command_json_with_seeds(capsys):
    assert main(["sweep", "--data", "data_sample", "--alpha", "0.25,0.5", "--pos-weight", "none",
                 "--seeds", "2", "--epochs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_settings"] == 4 and {r["seed"] for r in out["settings"]} == {0, 1}
    for key in ("n_val_recordings", "n_val_seizures", "n_val_windows"):
        assert out[key] >= 1
    assert {"auroc_ci", "auprc_ci", "pred_pos_rate_ci"} <= set(out["settings"][0])
    # data_sample has no event recordings: its calibration and validation recordings are scored.
    assert {"event_sensitivity", "fa_per_24h", "threshold_moved"} <= set(out["settings"][0])
    assert out["event_hours"] > 0 and out["target_fa_per_24h"] == 10.0


def test_rows_carry_event_scores_as_repro_writes_them(tiny_cohort):
    """The same setting through repro and the sweep: the same events found and false alarms
    counted, at 0.5 and at the calibration threshold for 10 per 24 h."""
    row = repro.run_scenario("bce", tiny_cohort, seed=1, epochs=2)
    result = sweep.train_sweep(tiny_cohort, [sweep.SweepSetting(alpha=None, gamma=0.0, seed=1)],
                               epochs=2, device="cpu", intervals=False)
    got = result.rows[0]
    for key in ("n_event_detected", "n_false_alarms", "n_event_seizures", "event_hours"):
        assert got[key] == row[key], key
    moved, expected = got["threshold_moved"], row["threshold_moved"]
    assert moved["threshold"] == pytest.approx(expected["threshold"], rel=1e-3)
    assert moved["target"] == {"fa_per_24h": 10.0}
    for key in ("n_event_detected", "n_false_alarms", "event_sensitivity", "fa_per_24h"):
        assert moved[key] == expected[key], key
    assert result.values("moved_event_sensitivity")[0] == moved["event_sensitivity"]
    assert result.values("moved_threshold")[0] == moved["threshold"]
    d = result.as_dict()
    size = tiny_cohort.event_size("validation")
    assert (d["n_event_seizures"], d["event_hours"]) == (size["n_seizures"], size["hours"])
    assert d["calibration_event_hours"] == pytest.approx(tiny_cohort.event_size("calibration")["hours"])


def test_event_scores_can_be_left_out(tiny_cohort):
    result = sweep.train_sweep(tiny_cohort, [sweep.SweepSetting(seed=0)], epochs=1, device="cpu",
                               intervals=False, events=False)
    assert "event_sensitivity" not in result.rows[0] and "event_hours" not in result.evidence
    with pytest.raises(ValueError, match="'metric'"):
        result.values("moved_event_sensitivity")


def test_panel_puts_event_sensitivity_beside_auroc_and_calls(tiny_cohort):
    from brr_lab.experiments.sweep_plot import PANEL_METRICS, map_panel

    settings = sweep.make_grid(alpha=[0.25, 0.75], pos_weight=[1.0, 4.0], seeds=[0])
    result = sweep.train_sweep(tiny_cohort, settings, epochs=1, device="cpu", intervals=False)
    fig = map_panel(result)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == len(PANEL_METRICS) == 3
    _, _, table = result.pivot("moved_event_sensitivity")
    np.testing.assert_array_equal(np.asarray(heatmaps[2].z, dtype=float), table)
    assert "FA/24h" in heatmaps[2].text[0][0]
    titles = [a.text for a in fig.layout.annotations]
    assert any("10 false alarms" in t for t in titles) and "events:" in fig.layout.title.text


def test_a_repeated_grid_value_is_refused():
    # Two identical models would read as two seeds in the result.
    with pytest.raises(ValueError, match="'alpha' parameter of make_grid must be a list without repeated values"):
        sweep.make_grid(alpha=[0.25, 0.25])
