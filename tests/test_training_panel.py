"""The training panel without a kernel: set control values, call train(), read figure and output.

Data are small constructed windows (as in tests/test_repro.py), so each run takes well under
a second. The expected figures come from ``repro.run_scenario`` run separately with the
same settings (CPU runs repeat exactly for a seed), never from the panel itself.
"""
from __future__ import annotations

import html
import json
import math

import pytest
import torch

from brr_lab.experiments import repro
from brr_lab.training.trainer import Callback
from brr_lab.widgets import EPOCH_RANGE, PLOTTED, SEED_RANGE, TrainingPanel


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data():
    from conftest import make_tiny_cohort
    return make_tiny_cohort()


def shown(panel: TrainingPanel) -> dict:
    """The figure the plot shows, as the page receives it (one plotly JSON bundle)."""
    (output,) = panel.plot.outputs
    spec = output["data"]["application/vnd.plotly.v1+json"]
    json.dumps(spec, allow_nan=False)  # what the comm sends: strict JSON, no NaN
    return spec


def trace(panel: TrainingPanel, name: str, col: int = 1) -> dict:
    (t,) = [t for t in shown(panel)["data"]
            if t["name"] == name and t.get("xaxis", "x") == ("x" if col == 1 else f"x{col}")]
    return t


def stdout(panel: TrainingPanel) -> str:
    return "".join(o.get("text", "") for o in panel.out.outputs if o.get("name") == "stdout")


def test_run_scenario_passes_callbacks_to_the_trainer(data):
    seen = []

    class Spy(Callback):
        def on_fit_start(self, trainer):
            seen.append("start")

        def on_epoch_end(self, trainer, record):
            seen.append(record)

        def on_fit_end(self, trainer):
            seen.append("end")

    row = repro.run_scenario("postmortem-fix", data, seed=1, epochs=2, callbacks=[Spy()])
    assert seen[0] == "start" and seen[-1] == "end"
    assert [r["epoch"] for r in seen[1:-1]] == [1, 2]
    # Per epoch the callbacks see the monitor windows; the row scores the validation part.
    assert [r["val_auroc"] for r in seen[1:-1]] == row["monitor_auroc"]


def test_controls_list_every_scenario_and_describe_the_chosen_one(data):
    panel = TrainingPanel(data)
    assert list(panel.scenario_dropdown.options) == list(repro.SCENARIOS)
    assert panel.settings() == {"scenario": "postmortem-bug", "seed": 0,
                                "epochs": repro.DEFAULT_EPOCHS}
    panel.scenario_dropdown.value = "fix-plus-sampler"
    assert html.escape(repro.SCENARIOS["fix-plus-sampler"].description) in panel.about.value
    assert not panel.epochs_slider.continuous_update
    assert (panel.epochs_slider.min, panel.epochs_slider.max) == EPOCH_RANGE


@pytest.mark.parametrize("scenario", ["postmortem-bug", "fix-plus-sampler"])
def test_train_draws_what_run_scenario_measures(data, scenario):
    panel = TrainingPanel(data)
    panel.scenario_dropdown.value = scenario
    panel.seed_input.value = 2
    panel.epochs_slider.value = 2
    sent = []  # every figure the page gets: one at the start, then one per epoch
    panel.plot.observe(lambda change: sent.append(change["new"]), names="outputs")
    row = panel.train()
    expected = repro.run_scenario(scenario, data, seed=2, epochs=2)
    assert len(sent) == 3
    for epochs_so_far, (output,) in enumerate(sent):
        traces = output["data"]["application/vnd.plotly.v1+json"]["data"]
        assert [t["x"] for t in traces] == [list(range(1, epochs_so_far + 1))] * len(PLOTTED)
    for key in ("auroc", "auprc", "pred_pos_rate", "recall", "diagnosis", "escape_epoch",
                "effective_ratio", "event_sensitivity", "fa_per_24h", "event_sensitivity_ci",
                "fa_per_24h_ci", "threshold_moved"):
        assert row[key] == expected[key], key
    assert [r["epoch"] for r in panel.history] == [1, 2]
    for key, name, col, _, _ in PLOTTED:
        t = trace(panel, name, col)
        assert t["x"] == [1, 2]
        assert t["y"] == [r[key] for r in panel.history], name
    assert trace(panel, "AUROC")["y"][-1] == expected["monitor_auroc"][-1]  # per epoch: monitor windows
    monitor_prevalence = panel.history[-1]["val_prevalence"]
    assert set(trace(panel, "prevalence")["y"]) == {monitor_prevalence}
    assert shown(panel)["layout"]["xaxis"]["range"] == [0.5, 2.5]
    assert (panel.progress.value, panel.progress.max) == (2, 2)
    assert panel.progress.description == "epoch 2/2"
    text = stdout(panel)
    assert "epoch 1: AUROC" in text and "epoch 2: AUROC" in text
    assert "effective ratio" in text  # the weighting setup, stated at the start
    assert f"{expected['n_val_seizures']} seizure(s) in {expected['n_val_recordings']}" in text
    assert "too little to judge" in text  # a constructed cohort with 2 validation seizures
    assert f"diagnosis: {expected['diagnosis']}" in text
    assert f"diagnosis: {expected['diagnosis']}</b>" in panel.result.value
    assert panel.diagnosis.state == expected["diagnosis"]
    assert not panel.train_button.disabled
    # The final model's event figures, at 0.5 and at the calibration threshold, with their basis.
    moved = expected["threshold_moved"]
    assert "brr-events" in panel.result.value
    assert (f"events (SzCORE) at 0.5: sensitivity {expected['event_sensitivity']:.2f} "
            f"({expected['event_sensitivity_ci'][0]:.2f}-{expected['event_sensitivity_ci'][1]:.2f}), "
            f"false alarms per 24 h {expected['fa_per_24h']:.1f}") in text
    assert (f"events (SzCORE) at {moved['threshold']:.3g}, chosen on calibration for <= 10 FA/24h: "
            f"sensitivity {moved['event_sensitivity']:.2f}") in text
    assert (f"event scores rest on {expected['n_event_seizures']} seizure(s) in "
            f"{expected['n_event_recordings']} validation recording(s), "
            f"{expected['event_hours']:.2f} h: fewer than 40 seizures and under 10 hours") in text
    assert html.escape(moved["chosen_on"]) in panel.result.value


def test_a_second_run_replaces_the_first(data):
    panel = TrainingPanel(data, epochs=2)
    panel.train()
    panel.epochs_slider.value = 1
    panel.train()
    assert [t["x"] for t in shown(panel)["data"]] == [[1]] * len(PLOTTED)
    assert stdout(panel).count("epoch 1: AUROC") == 1 and "epoch 2:" not in stdout(panel)


def test_labels_all_zero_shows_the_guard_then_the_signature(data):
    panel = TrainingPanel(data, scenario="labels-all-zero", epochs=1)
    row = panel.train()
    assert row["guard"] == data.all_zero_error
    assert "SingleClassLabelsError" in panel.result.value and "label guard" in panel.result.value
    assert data.all_zero_error in stdout(panel)
    assert trace(panel, "AUROC")["y"] == [None]  # undefined: a gap, not a point at 0 or 0.5
    assert trace(panel, "predicted positive (at 0.5)", 2)["y"] == [0.0]
    assert math.isnan(row["auroc"]) and row["diagnosis"] == "single-class labels"
    assert panel.progress.bar_style == "danger"
    assert "no threshold could be chosen on calibration" in panel.result.value


def test_the_button_runs_train(data):
    panel = TrainingPanel(data, scenario="bce", epochs=1)
    panel.train_button.click()
    assert panel.row is not None and panel.row["scenario"] == "bce"
    assert len(panel.history) == 1


def test_a_click_with_a_bad_seed_shows_the_error(data):
    panel = TrainingPanel(data, epochs=1)
    panel.seed_input.value = -1
    panel.train_button.click()
    assert panel.row is None and panel.history == []
    errors = "".join(o["text"] for o in panel.out.outputs if o.get("name") == "stderr")
    assert "BrrLabError" in errors and "'seed'" in errors and "-1" in errors
    assert "BrrLabError" in panel.result.value
    with pytest.raises(ValueError, match="seed"):
        panel.train()


def test_threads_are_restored(data):
    torch.set_num_threads(2)
    seen = []
    panel = TrainingPanel(data, epochs=1)
    original = panel._on_epoch_end
    panel._on_epoch_end = lambda record: (seen.append(torch.get_num_threads()), original(record))
    panel.train()
    assert seen == [1] and torch.get_num_threads() == 2


@pytest.mark.parametrize("kwargs, name", [
    ({"scenario": "postmortem"}, "scenario"),
    ({"seed": -1}, "seed"),
    ({"seed": SEED_RANGE[1] + 1}, "seed"),
    ({"seed": 1.0}, "seed"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": EPOCH_RANGE[1] + 1}, "epochs"),
    ({"epochs": True}, "epochs"),
    ({"threads": 0}, "threads"),
    ({"data": "data_sample"}, "data"),
])
def test_bad_settings_raise(kwargs, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        TrainingPanel(**kwargs)


def test_set_validates_before_moving_anything(data):
    panel = TrainingPanel(data)
    with pytest.raises(ValueError, match="'epochs'"):
        panel.set(seed=3, epochs=EPOCH_RANGE[1] + 1)  # the slider would clamp it silently
    assert panel.settings()["seed"] == 0 and panel.settings()["epochs"] == repro.DEFAULT_EPOCHS
    panel.set(scenario="one-mechanism", seed=3, epochs=4)
    assert panel.settings() == {"scenario": "one-mechanism", "seed": 3, "epochs": 4}
