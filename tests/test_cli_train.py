"""`brr-lab train`: trains what a config says, refuses what the audit flags, before any step."""
import json
from pathlib import Path

import pytest
import torch

from brr_lab.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXAMPLES = Path(__file__).resolve().parent.parent / "configs" / "examples"


def test_clean_config_trains_and_writes_its_record(tmp_path, capsys):
    assert main(["train", str(EXAMPLES / "clean" / "train.yaml"), "--epochs", "1",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "diagnosis:" in out and "evidence: rests on" in out
    assert "events (SzCORE) at 0.5: event sensitivity" in out and "event scores rest on" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1]
    result = json.loads((tmp_path / "result.json").read_text())
    assert {"auroc", "auroc_ci", "n_val_seizures", "diagnosis", "event_sensitivity", "fa_per_24h",
            "event_hours", "n_event_seizures", "threshold_moved"} <= set(result)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert state["config"]["trainer"]["epochs"] == 1
    assert state["config"]["trainer"]["prior_bias_init"] is True


def test_stacked_config_is_refused_before_training(tmp_path, capsys):
    assert main(["train", str(EXAMPLES / "after_fix" / "train.yaml"), "--epochs", "1",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "stacked class weighting" in err and "nothing was trained" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_trains_or_is_refused_with_a_reason(path, tmp_path, capsys):
    code = main(["train", str(path), "--epochs", "1", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code in (0, 2), captured.err
    if code == 2:  # the audit's reason, before any data are read or anything is trained
        assert "refused" in captured.err and "nothing was trained" in captured.err
        assert str(path.name) in captured.err and not any(tmp_path.iterdir())
    else:
        assert (tmp_path / "result.json").is_file()
    assert code == (0 if path.parent.name == "clean" else 2)


def test_stale_results_never_sit_beside_an_interrupted_run(tmp_path, monkeypatch, capsys):
    from brr_lab.training.trainer import Trainer
    (tmp_path / "result.json").write_text("{}")
    (tmp_path / "best.pt").write_bytes(b"old")
    real_fit = Trainer.fit

    def interrupted_fit(self, *args, **kwargs):
        self.interrupted = True
        return []

    monkeypatch.setattr(Trainer, "fit", interrupted_fit)
    assert main(["train", str(EXAMPLES / "clean" / "smoke.yaml"), "--epochs", "1",
                 "--out", str(tmp_path)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "result.json").exists() and not (tmp_path / "best.pt").exists()
    assert real_fit


def test_missing_data_folder_names_the_key_and_file(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  path: no_such_folder\n")
    assert main(["train", str(config), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "'data.path'" in err and "c.yaml" in err and "no_such_folder" in err


def test_epochs_below_one_names_the_flag(capsys):
    assert main(["train", str(EXAMPLES / "clean" / "smoke.yaml"), "--epochs", "0"]) == 2
    assert "'--epochs' parameter of brr-lab train must be an integer >= 1. Got 0" in capsys.readouterr().err
