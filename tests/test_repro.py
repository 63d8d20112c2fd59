"""Reproduction: scenario definitions, rows, the guard scenario, the verdicts, interrupts, the command."""
import json
import math
import signal
import subprocess
import sys
import threading
import time

import pytest

from brr_lab.experiments import repro
from brr_lab.cli import main

NAMES = ["bce", "focal-alpha-0.25", "postmortem-bug", "postmortem-fix", "fix-plus-sampler",
         "one-mechanism", "bce-prior-init", "focal-alpha-0.25-prior-init", "threshold-moved",
         "labels-all-zero"]
EVENT_KEYS = {"event_sensitivity", "event_sensitivity_ci", "fa_per_24h", "fa_per_24h_ci", "event_hours",
              "n_event_seizures", "n_event_recordings", "n_event_detected", "n_false_alarms"}
KEYS = {"scenario", "seed", "auroc", "auprc", "pred_pos_rate", "recall", "diagnosis", "escape_epoch",
        "n_val_recordings", "n_val_seizures", "n_val_windows", "auroc_ci", "auprc_ci",
        "pred_pos_rate_ci", "threshold_moved"} | EVENT_KEYS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_scenarios_are_named_exactly():
    assert list(repro.SCENARIOS) == NAMES


def test_rows_carry_the_keys_the_evidence_size_and_intervals(tiny_cohort):
    row = repro.run_scenario("postmortem-fix", tiny_cohort, seed=0, epochs=2)
    assert KEYS <= set(row)
    assert row["epochs"] == 2 and row["seed"] == 0
    size = tiny_cohort.size("validation")
    assert (row["n_val_recordings"], row["n_val_seizures"], row["n_val_windows"]) == (
        size["n_recordings"], size["n_seizures"], size["n_windows"])
    for key in ("auroc", "auprc", "pred_pos_rate"):
        low, high = row[f"{key}_ci"]
        assert low <= row[key] <= high, key
    assert len(row["monitor_auroc"]) == 2


def test_settings_reach_the_trainer(tiny_cohort):
    n_pos = int(tiny_cohort.train.y.sum())
    n_neg = len(tiny_cohort.train.y) - n_pos
    stacked = repro.run_scenario("fix-plus-sampler", tiny_cohort, seed=0, epochs=1)
    # pos_weight n_neg/n_pos times a 50/50 sampler's odds (n_neg/n_pos again)
    assert stacked["effective_ratio"] == pytest.approx((n_neg / n_pos) ** 2)
    bug = repro.run_scenario("postmortem-bug", tiny_cohort, seed=0, epochs=1)
    assert bug["effective_ratio"] == pytest.approx(n_neg / n_pos * 0.25 / 0.75)
    plain = repro.run_scenario("bce", tiny_cohort, seed=0, epochs=1)
    assert plain["q_star"] == pytest.approx(0.5)


def test_prior_init_starts_at_the_prior(tiny_cohort):
    """Before any step the prior-initialised model predicts the training prevalence."""
    from brr_lab.training.models import EEGWindowCNN
    pi = float(tiny_cohort.train.y.mean())
    model = EEGWindowCNN(n_channels=3, prior=pi)
    assert float(model.head.bias.detach()) == pytest.approx(math.log(pi / (1 - pi)))
    row = repro.run_scenario("bce-prior-init", tiny_cohort, seed=0, epochs=1)
    assert row["q_star"] == pytest.approx(0.5)  # an initialisation, not a class weight


def test_rows_carry_event_scores_at_half_and_at_the_moved_threshold(tiny_cohort):
    row = repro.run_scenario("postmortem-fix", tiny_cohort, seed=0, epochs=2)
    size = tiny_cohort.event_size("validation")
    assert (row["n_event_recordings"], row["n_event_seizures"]) == (size["n_recordings"], size["n_seizures"])
    assert row["event_hours"] == pytest.approx(size["hours"]) and size["n_recordings"] == 5
    assert not set(tiny_cohort.events.validation.recordings) & set(tiny_cohort.validation.recordings)
    moved = row["threshold_moved"]
    assert EVENT_KEYS <= set(moved) and moved["target"] == {"fa_per_24h": 10.0}
    for r in (row, moved):
        low, high = r["event_sensitivity_ci"]
        assert low <= r["event_sensitivity"] <= high
        low, high = r["fa_per_24h_ci"]
        assert low <= r["fa_per_24h"] <= high
        assert r["n_event_detected"] == round(r["event_sensitivity"] * r["n_event_seizures"])
        assert r["fa_per_24h"] == pytest.approx(r["n_false_alarms"] * 24 / r["event_hours"])
    assert "calibration event recordings (3 recordings" in moved["chosen_on"]
    assert moved["calibration_fa_per_24h"] <= 10.0 and moved["met_target"]
    assert "SzCORE" in row["event_method"]


def test_threshold_moved_is_bce_judged_at_the_calibration_threshold(tiny_cohort):
    bce = repro.run_scenario("bce", tiny_cohort, seed=0, epochs=2)
    moved = repro.run_scenario("threshold-moved", tiny_cohort, seed=0, epochs=2)
    assert moved["auroc"] == bce["auroc"]            # same model, same ranking
    assert moved["threshold"] == bce["threshold_moved"]["threshold"] != 0.5
    assert bce["threshold"] == 0.5
    for key in ("pred_pos_rate", "recall", *EVENT_KEYS):
        assert moved[key] == bce["threshold_moved"][key], key
    assert moved["threshold_moved"] == bce["threshold_moved"]


def _keep():
    """A trainer callback that keeps the trainer, to read its model after a run."""
    from brr_lab.training.trainer import Callback

    class Keep(Callback):
        def on_fit_end(self, trainer):
            self.trainer = trainer
    return Keep()


def test_threshold_is_chosen_on_calibration_never_on_validation(tiny_cohort, monkeypatch):
    """The moved threshold is choose_threshold on the calibration event recordings' predictions
    and nothing else: what it sees is calibration only, and validation changes never move it."""
    import dataclasses

    from brr_lab import scoring
    from brr_lab.experiments.evaluation import event_predictions

    seen = []
    real = scoring.choose_threshold

    def spy(data, *args, **kwargs):
        seen.append(set(data.truth))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(scoring, "choose_threshold", spy)
    keep = _keep()
    row = repro.run_scenario("threshold-moved", tiny_cohort, seed=0, epochs=1, callbacks=[keep])
    cal, val = (set(tiny_cohort.events.part(p).recordings) for p in ("calibration", "validation"))
    assert seen == [cal] and not cal & val
    predictions = event_predictions(keep.trainer, tiny_cohort)
    assert set(predictions.calibration.truth) == cal and set(predictions.validation.truth) == val
    assert row["threshold"] == real(predictions.calibration, target_fa_per_24h=10.0).threshold
    assert row["threshold"] != real(predictions.validation, target_fa_per_24h=10.0).threshold
    # Validation without any seizure, and with other signals: the threshold does not move.
    ev = tiny_cohort.events
    other = dataclasses.replace(ev.validation.without_seizures(), signals={
        n: x.flip(1) for n, x in ev.validation.signals.items()})
    changed = dataclasses.replace(tiny_cohort, events=dataclasses.replace(ev, validation=other))
    again = repro.run_scenario("threshold-moved", changed, seed=0, epochs=1)
    assert again["threshold"] == row["threshold"] and again["n_event_seizures"] == 0
    # Calibration data as validation: refused, never scored on its own calibration data.
    same = dataclasses.replace(tiny_cohort, events=dataclasses.replace(ev, validation=ev.calibration))
    with pytest.raises(ValueError, match="not chosen on"):
        repro.run_scenario("threshold-moved", same, seed=0, epochs=1)


def test_without_event_recordings_the_short_parts_are_scored(one_torch_thread):
    from conftest import make_tiny_cohort
    plain = make_tiny_cohort(events=False)
    assert plain.events is None and "as they are" in plain.describe()
    row = repro.run_scenario("postmortem-fix", plain, seed=0, epochs=1)
    assert row["n_event_recordings"] == row["n_val_recordings"]
    assert row["event_hours"] == pytest.approx(plain.size("validation")["hours"])


def test_labels_all_zero_is_stopped_then_shows_the_signature(tiny_cohort):
    row = repro.run_scenario("labels-all-zero", tiny_cohort, seed=0, epochs=1)
    assert row["guard"].startswith("SingleClassLabelsError")
    assert math.isnan(row["auroc"]) and math.isnan(row["recall"])
    assert all(math.isnan(v) for v in row["auroc_ci"])
    assert row["diagnosis"] == "single-class labels" and row["escape_epoch"] is None
    # The parser bug reads no seizure in the event recordings either: nothing to find, and
    # no threshold can be chosen for a false-alarm target without a seizure to weigh it by.
    assert row["n_event_seizures"] == 0 and math.isnan(row["event_sensitivity"])
    assert row["threshold_moved"] is None and row["event_hours"] > 0


def test_runs_repeat_for_a_seed(tiny_cohort):
    a = repro.run_scenario("one-mechanism", tiny_cohort, seed=1, epochs=2)
    b = repro.run_scenario("one-mechanism", tiny_cohort, seed=1, epochs=2)
    assert (a["auroc"], a["pred_pos_rate"], a["auroc_ci"]) == (b["auroc"], b["pred_pos_rate"], b["auroc_ci"])


def test_two_workers_give_the_rows_one_worker_gives(tiny_cohort):
    kwargs = dict(cohort=tiny_cohort, scenarios=["bce", "postmortem-fix"], seeds=2, epochs=1)
    one = repro.run_repro(workers=1, **kwargs)
    two = repro.run_repro(workers=2, **kwargs)
    assert [(r["scenario"], r["seed"]) for r in two] == [(r["scenario"], r["seed"]) for r in one]
    for a, b in zip(one, two):
        assert (a["auroc"], a["pred_pos_rate"]) == (b["auroc"], b["pred_pos_rate"])


def test_threshold_moved_shares_bce_training_in_one_run(tiny_cohort):
    rows = repro.run_repro(cohort=tiny_cohort, scenarios=["bce", "threshold-moved"], seeds=1, epochs=2)
    assert [r["scenario"] for r in rows] == ["bce", "threshold-moved"]
    assert rows[1]["trained_with"] == ["bce", "threshold-moved"]
    alone = repro.run_scenario("threshold-moved", tiny_cohort, seed=0, epochs=2)
    for key in ("auroc", "threshold", "pred_pos_rate", "auroc_ci", "event_sensitivity", "fa_per_24h"):
        assert rows[1][key] == alone[key], key


def _row(name, auroc, rate, escape=None, guard=None, prevalence=0.08, recall=0.0, threshold=0.5):
    return {"scenario": name, "seed": 0, "auroc": auroc, "auprc": 0.1, "pred_pos_rate": rate,
            "recall": recall, "diagnosis": "x", "escape_epoch": escape, "prevalence": prevalence,
            "guard": guard, "auroc_ci": [auroc - 0.02, auroc + 0.02], "threshold": threshold,
            "n_val_seizures": 42, "n_val_recordings": 56, "n_val_windows": 8344, "val_hours": 2.3}


def test_verdicts_follow_the_numbers_both_ways():
    v = repro.verdicts([_row("postmortem-fix", 0.9, 0.1, 1), _row("postmortem-fix", 0.8, 0.1, 1)])
    assert v["postmortem-fix"][0] == "agrees"
    assert "42 seizures in 56 validation recordings" in v["postmortem-fix"][1]
    v = repro.verdicts([_row("postmortem-fix", 0.5, 0.1), _row("postmortem-fix", 0.9, 0.1, 1)])
    assert v["postmortem-fix"][0] == "MIXED"
    v = repro.verdicts([_row("bce", 0.5, 0.02)])
    assert v["bce"][0] == "DISAGREES"
    v = repro.verdicts([_row("fix-plus-sampler", 0.8, 1.0, 1)])
    assert v["fix-plus-sampler"][0] == "DISAGREES" and "trains correctly" in v["fix-plus-sampler"][1]
    v = repro.verdicts([_row("fix-plus-sampler", 0.9, 0.1, 1)])
    assert v["fix-plus-sampler"][0] == "agrees"
    v = repro.verdicts([_row("postmortem-bug", 0.5, 0.02), _row("postmortem-fix", 0.5, 0.05)])
    assert v["postmortem-bug"][0] == "UNCLEAR"
    v = repro.verdicts([_row("postmortem-bug", 0.5, 0.02), _row("postmortem-fix", 0.9, 0.05, 1)])
    assert v["postmortem-bug"][0] == "agrees"
    v = repro.verdicts([_row("postmortem-bug", 0.9, 0.05, 2)])
    assert "did not stop learning" in v["postmortem-bug"][1]
    v = repro.verdicts([_row("bce-prior-init", 0.9, 0.03), _row("bce", 0.3, 0.0)])
    assert v["bce-prior-init"][0] == "agrees" and "median AUROC 0.300" in v["bce-prior-init"][1]
    v = repro.verdicts([_row("bce-prior-init", 0.6, 0.0)])
    assert v["bce-prior-init"][0] == "DISAGREES"
    v = repro.verdicts([_row("threshold-moved", 0.8, 0.1, recall=0.5, threshold=0.2)])
    assert v["threshold-moved"][0] == "agrees"
    v = repro.verdicts([_row("threshold-moved", 0.8, 0.5, recall=0.9, threshold=0.01)])
    assert v["threshold-moved"][0] == "DISAGREES"  # over-correction: 0.5 > 2 x 0.08
    v = repro.verdicts([_row("labels-all-zero", math.nan, 0.0, guard="SingleClassLabelsError: x")])
    assert v["labels-all-zero"][0] == "agrees"
    v = repro.verdicts([_row("labels-all-zero", math.nan, 0.0, guard="not stopped")])
    assert v["labels-all-zero"][0] == "DISAGREES"


def test_summary_mentions_under_threshold_ranking():
    text = repro.summarize([_row("focal-alpha-0.25", 0.85, 0.0)])
    assert "[agrees]" in text and "not the postmortem's 'AUROC = 0.5'" in text


def test_summary_names_inverted_ranking():
    text = repro.summarize([_row("bce", 0.05, 0.0)])
    assert "BELOW background" in text


@pytest.mark.parametrize("kwargs,param", [({"seeds": 0}, "seeds"), ({"epochs": 0}, "epochs"),
                                          ({"workers": 0}, "workers"),
                                          ({"scenarios": ["nope"]}, "scenario"),
                                          ({"data": "x", "difficulty": 1.0}, "difficulty")])
def test_bad_arguments_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        repro.run_repro(**kwargs)


def test_interrupt_stops_at_once_and_keeps_completed_rows(tiny_cohort, monkeypatch):
    calls = []
    real = repro._run_group

    def second_raises(names, data, **kw):
        calls.append(names)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(names, data, **kw)

    monkeypatch.setattr(repro, "_run_group", second_raises)
    with pytest.raises(repro.Interrupted) as stop:
        repro.run_repro(cohort=tiny_cohort, scenarios=["bce", "postmortem-fix"], seeds=2, epochs=1)
    assert [(r["scenario"], r["seed"]) for r in stop.value.rows] == [("bce", 0)]
    assert stop.value.not_run == [("bce", 1), ("postmortem-fix", 0), ("postmortem-fix", 1)]
    assert len(calls) == 2  # nothing ran after the interrupt


def test_an_interrupted_run_is_never_a_result(tiny_cohort):
    from brr_lab.training.trainer import Callback

    class Stop(Callback):
        def on_batch_end(self, trainer, step, loss):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        repro.run_scenario("bce", tiny_cohort, seed=0, epochs=2, callbacks=[Stop()])


def _interrupt_repro(delay_s: float) -> tuple[int, str, str]:
    """Start `brr-lab repro`, press Ctrl-C ``delay_s`` after training starts; (status, out, err)."""
    proc = subprocess.Popen([sys.executable, "-m", "brr_lab", "repro", "--data", "data_sample",
                             "--scenario", "bce", "--seeds", "3", "--epochs", "200", "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines, started = [], threading.Event()

    def read_stderr():  # every line is kept: nothing is lost in a reader's buffer
        for line in proc.stderr:
            err_lines.append(line)
            if line.startswith("  validation"):  # the cohort's description ends; training starts
                started.set()
        started.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    started.wait(120)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    out = proc.stdout.read()
    proc.wait(60)
    reader.join(10)
    return proc.returncode, out, "".join(err_lines)


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.3, 1.0, 2.0])  # during torch's first step, and later
def test_ctrl_c_on_the_command_exits_130_with_what_completed(delay_s):
    code, out, err = _interrupt_repro(delay_s)
    assert code == 130, f"status {code}\nstdout:\n{out}\nstderr:\n{err}"
    assert "Traceback" not in err and "Traceback" not in out
    assert "interrupted" in out and "not run: bce seed" in out


@pytest.mark.slow
def test_command_json_on_the_sample(capsys):
    assert main(["repro", "--data", "data_sample", "--scenario", "labels-all-zero", "--scenario",
                 "bce", "--seeds", "1", "--epochs", "1", "--json", "--workers", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in rows] == ["labels-all-zero", "bce"]
    assert KEYS <= set(rows[0]) and rows[0]["auroc"] is None  # NaN -> null
    assert rows[1]["seed"] == 0 and rows[1]["n_val_seizures"] >= 1
    assert list(rows[1])[:8] == ["scenario", "seed", "auroc", "auprc", "pred_pos_rate", "recall",
                                 "diagnosis", "escape_epoch"]


def test_results_cache_reads_back_what_it_wrote(tiny_cohort, tmp_path, monkeypatch):
    import dataclasses
    monkeypatch.setenv("BRR_LAB_CACHE", str(tmp_path))
    keyed = dataclasses.replace(tiny_cohort, key="tiny-test")
    first = repro.run_repro(cohort=keyed, scenarios=["postmortem-fix"], seeds=1, epochs=1, cache=True)
    assert len(list(tmp_path.rglob("*.json"))) == 1
    monkeypatch.setattr(repro, "_run_group", lambda *a, **k: pytest.fail("trained again"))
    again = repro.run_repro(cohort=keyed, scenarios=["postmortem-fix"], seeds=1, epochs=1, cache=True)
    assert again[0]["auroc"] == first[0]["auroc"] and again[0]["auroc_ci"] == first[0]["auroc_ci"]


def test_a_cached_group_serves_one_of_its_scenarios(tiny_cohort, tmp_path, monkeypatch):
    """repro trains bce once for bce and threshold-moved; asking for bce alone reads that run."""
    import dataclasses
    monkeypatch.setenv("BRR_LAB_CACHE", str(tmp_path))
    keyed = dataclasses.replace(tiny_cohort, key="tiny-test")
    both = repro.run_repro(cohort=keyed, scenarios=["bce", "threshold-moved"], seeds=1, epochs=1,
                           cache=True)
    monkeypatch.setattr(repro, "_run_group", lambda *a, **k: pytest.fail("trained again"))
    monkeypatch.setattr(repro, "_run_jobs", lambda jobs, *a: jobs and pytest.fail(f"forked for {jobs}"))
    alone = repro.run_repro(cohort=keyed, scenarios=["bce"], seeds=1, epochs=1, cache=True, workers=2)
    assert [r["scenario"] for r in alone] == ["bce"] and alone[0]["auroc"] == both[0]["auroc"]


def test_run_cache_key_follows_the_run_layers_only(tmp_path):
    """Editing a run's code makes a new cache entry; editing a panel or a lesson does not."""
    for rel in ("training/trainer.py", "losses.py", "widgets/panel.py", "app/page.py"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    before = repro.run_code_digest(tmp_path)
    (tmp_path / "widgets/panel.py").write_text("x = 2\n")
    (tmp_path / "app/page.py").write_text("x = 2\n")
    assert repro.run_code_digest(tmp_path) == before
    (tmp_path / "training/trainer.py").write_text("x = 2\n")
    assert repro.run_code_digest(tmp_path) != before


def test_a_diverged_run_is_reported_not_crashed(tiny_cohort, monkeypatch):
    """Outputs that overflow: the row says 'diverged' with undefined figures, no crash."""
    from brr_lab.training.models import EEGWindowCNN
    real_forward = EEGWindowCNN.forward
    monkeypatch.setattr(EEGWindowCNN, "forward", lambda self, x: real_forward(self, x) * float("inf"))
    row = repro.run_scenario("bce", tiny_cohort, seed=0, epochs=1)
    assert row["diagnosis"] == "diverged" and math.isnan(row["auroc"])
    assert all(math.isnan(v) for v in row["auroc_ci"]) and row["threshold_moved"] is None
    assert math.isnan(row["event_sensitivity"]) and math.isnan(row["fa_per_24h"])
    assert row["n_event_seizures"] > 0  # what it would have rested on


def test_event_predictions_for_a_trainer_or_a_module(tiny_cohort):
    """What the threshold notebook reads: per-window probabilities with recording names and
    window times, calibration and validation apart, as brr_lab.scoring scores them."""
    import numpy as np
    import torch

    from brr_lab.experiments.evaluation import event_predictions
    from brr_lab.training.metrics import probabilities
    from brr_lab.training.models import EEGWindowCNN
    from brr_lab.scoring import EventScorer, ScoringData

    keep = _keep()
    row = repro.run_scenario("one-mechanism", tiny_cohort, seed=0, epochs=1, callbacks=[keep])
    trainer = keep.trainer
    assert trainer.eval_logit_shift != 0  # the scenario's logit adjustment applies
    p = event_predictions(trainer, tiny_cohort)
    assert isinstance(p.calibration, ScoringData) and isinstance(p.validation, ScoringData)
    val = tiny_cohort.events.validation
    pred = p.validation.predictions
    assert len(pred) == len(val) and set(pred.recording) == set(val.recordings)
    np.testing.assert_array_equal(pred.stop_s - pred.start_s, np.full(len(val), val.window_s))
    expected = probabilities(trainer.predict_logits(val.to_windowset().X) + trainer.eval_logit_shift)
    np.testing.assert_allclose(pred.probability, expected)
    assert EventScorer(p.validation).score(0.5).n_false_alarms == row["n_false_alarms"]
    model = EEGWindowCNN(n_channels=3)
    bare = event_predictions(model, tiny_cohort, logit_shift=-1.0)
    with torch.inference_mode():
        z = model(tiny_cohort.events.calibration.to_windowset().X)
    np.testing.assert_allclose(bare.calibration.predictions.probability, probabilities(z - 1.0), rtol=1e-6)
    with pytest.raises(ValueError, match="'model'"):
        event_predictions("not a model", tiny_cohort)
