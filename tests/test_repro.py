"""Reproduction: scenario definitions, rows, the guard scenario, the verdicts, the command."""
import dataclasses
import json
import math

import pytest
import torch

from brr_lab import repro
from brr_lab.cli import main

NAMES = ["bce", "focal-alpha-0.25", "postmortem-bug", "postmortem-fix", "fix-plus-sampler",
         "one-mechanism", "labels-all-zero"]
KEYS = {"scenario", "seed", "auroc", "auprc", "pred_pos_rate", "recall", "diagnosis", "escape_epoch"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@dataclasses.dataclass
class Windows:  # the two fields of a WindowSet that run_scenario uses
    X: torch.Tensor
    y: torch.Tensor


def _tiny(n=260, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 13 == 0).float()
    x = torch.randn(n, 3, 32, generator=g)
    x[y == 1] += 2.0 * torch.sin(torch.arange(32) / 1.5)
    cut = n * 2 // 3
    return repro.ReproData(train=Windows(x[:cut], y[:cut]), val=Windows(x[cut:], y[cut:]),
                           source="constructed", all_zero_error="SingleClassLabelsError: all 0")


def test_scenarios_are_named_exactly():
    assert list(repro.SCENARIOS) == NAMES


def test_rows_have_the_issue_keys_and_consistent_escape():
    row = repro.run_scenario("postmortem-fix", _tiny(), seed=0, epochs=2)
    assert KEYS <= set(row)
    assert row["epochs"] == 2 and row["seed"] == 0
    assert row["escape_epoch"] is None or row["escape_epoch"] in (1, 2)


def test_settings_reach_the_trainer():
    data = _tiny()
    n_pos = int(data.train.y.sum())
    n_neg = len(data.train.y) - n_pos
    stacked = repro.run_scenario("fix-plus-sampler", data, seed=0, epochs=1)
    # pos_weight n_neg/n_pos times a 50/50 sampler's odds (n_neg/n_pos again)
    assert stacked["effective_ratio"] == pytest.approx((n_neg / n_pos) ** 2)
    bug = repro.run_scenario("postmortem-bug", data, seed=0, epochs=1)
    assert bug["effective_ratio"] == pytest.approx(n_neg / n_pos * 0.25 / 0.75)
    plain = repro.run_scenario("bce", data, seed=0, epochs=1)
    assert plain["q_star"] == pytest.approx(0.5)


def test_labels_all_zero_is_stopped_then_shows_the_signature():
    row = repro.run_scenario("labels-all-zero", _tiny(), seed=0, epochs=1)
    assert row["guard"].startswith("SingleClassLabelsError")
    # AUROC undefined whatever the model does; the predicted-positive rate is measured
    # (how fast it reaches 0 depends on the budget), so it is not asserted here.
    assert math.isnan(row["auroc"]) and math.isnan(row["recall"])
    assert row["diagnosis"] == "single-class labels" and row["escape_epoch"] is None


def test_runs_repeat_for_a_seed():
    data = _tiny()
    a = repro.run_scenario("one-mechanism", data, seed=1, epochs=2)
    b = repro.run_scenario("one-mechanism", data, seed=1, epochs=2)
    assert (a["auroc"], a["pred_pos_rate"]) == (b["auroc"], b["pred_pos_rate"])


def _row(name, auroc, rate, escape=None, guard=None, prevalence=0.08):
    return {"scenario": name, "seed": 0, "auroc": auroc, "auprc": 0.1, "pred_pos_rate": rate,
            "recall": 0.0, "diagnosis": "x", "escape_epoch": escape, "prevalence": prevalence,
            "guard": guard}


def test_verdicts_follow_the_numbers_both_ways():
    v = repro.verdicts([_row("postmortem-fix", 0.9, 0.1, 1), _row("postmortem-fix", 0.8, 0.1, 1)])
    assert v["postmortem-fix"][0] == "agrees"
    v = repro.verdicts([_row("postmortem-fix", 0.5, 0.1), _row("postmortem-fix", 0.9, 0.1, 1)])
    assert v["postmortem-fix"][0] == "MIXED"
    v = repro.verdicts([_row("bce", 0.5, 0.02)])
    assert v["bce"][0] == "DISAGREES"
    v = repro.verdicts([_row("fix-plus-sampler", 0.8, 1.0, 1)])
    assert v["fix-plus-sampler"][0] == "DISAGREES" and "trains correctly" in v["fix-plus-sampler"][1]
    v = repro.verdicts([_row("fix-plus-sampler", 0.58, 0.1, 1)])
    assert v["fix-plus-sampler"][0] == "DISAGREES"
    v = repro.verdicts([_row("fix-plus-sampler", 0.9, 0.1, 1)])
    assert v["fix-plus-sampler"][0] == "agrees"
    v = repro.verdicts([_row("postmortem-bug", 0.5, 0.02), _row("postmortem-fix", 0.5, 0.05)])
    assert v["postmortem-bug"][0] == "UNCLEAR"
    v = repro.verdicts([_row("postmortem-bug", 0.5, 0.02), _row("postmortem-fix", 0.9, 0.05, 1)])
    assert v["postmortem-bug"][0] == "agrees"
    v = repro.verdicts([_row("postmortem-bug", 0.9, 0.05, 2)])
    assert "did not stop learning" in v["postmortem-bug"][1]
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


def test_split_keeps_recordings_apart():
    names = [f"r{i}" for i in range(6) for _ in range(10)]
    y = torch.tensor([float(i % 10 == 0 and int(n[1:]) < 4) for i, n in enumerate(names)])
    windows = type("W", (), {"recording": names, "y": y, "recordings": sorted(set(names))})()
    train, val = repro._split(windows)
    assert not {names[i] for i in train} & {names[i] for i in val}
    assert y[val].sum() > 0 and y[train].sum() > 0


@pytest.mark.parametrize("kwargs,param", [({"seeds": 0}, "seeds"), ({"epochs": 0}, "epochs"),
                                          ({"scenarios": ["nope"]}, "scenario"),
                                          ({"data": "x", "difficulty": 1.0}, "difficulty")])
def test_bad_arguments_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        repro.run_repro(**kwargs)


@pytest.mark.slow
def test_command_json_on_the_sample(capsys):
    if not repro.default_data_dir().is_dir():
        pytest.skip("data_sample/ is not there")
    assert main(["repro", "--scenario", "labels-all-zero", "--scenario", "bce", "--seeds", "1",
                 "--epochs", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in rows] == ["labels-all-zero", "bce"]
    assert KEYS <= set(rows[0]) and rows[0]["auroc"] is None  # NaN -> null
    assert rows[1]["seed"] == 0 and rows[1]["escape_epoch"] in (None, 1)
