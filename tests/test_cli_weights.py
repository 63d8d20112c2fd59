"""`brr-lab weights`: the worked figures from the command line, and clear errors."""
import json
import subprocess
import sys

import pytest

from brr_lab.cli import main

BUG = ["weights", "--alpha", "0.25", "--gamma", "2", "--pos-weight", "12", "--prevalence", "0.0769"]


def test_json_reproduces_domain_figures(capsys):
    assert main(BUG + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"ratio", "q_star", "p_star", "equivalent_pos_weight",
                        "pos_grad_share_at_init", "pos_grad_share_at_prior", "mechanisms"}
    assert round(out["ratio"], 3) == 4.0
    assert round(out["q_star"], 2) == 0.20
    assert round(out["p_star"], 3) == 0.399
    assert out["mechanisms"] == ["alpha", "pos_weight"]


def test_table_has_warnings(capsys):
    assert main(BUG) == 0
    text = capsys.readouterr().out
    assert "0.399" in text and "0.200" in text
    assert "down-weights" in text and "stacked" in text and "q* means" in text


def test_balanced_sampler_stacking(capsys):
    assert main(["weights", "--alpha", "0.5", "--pos-weight", "12", "--sampler", "balanced",
                 "--prevalence", str(1 / 13), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert round(out["effective_ratio"]) == 144 and round(out["q_star"], 3) == 0.007
    assert out["mechanisms"] == ["pos_weight", "sampler"]


@pytest.mark.parametrize("args,fragment", [
    (["--alpha", "1.5"], "'--alpha' parameter of brr-lab weights must be None or a float in [0, 1]"),
    (["--pos-weight", "-1"], "'--pos-weight' parameter of brr-lab weights must be None or a finite float > 0"),
    (["--sampler-fraction", "1"], "'--sampler-fraction' parameter of brr-lab weights must be None or a positive fraction"),
    (["--gamma=-2"], "'--gamma' parameter of brr-lab weights must be a finite float >= 0"),
])
def test_bad_values_exit_nonzero_naming_the_flag_typed(args, fragment, capsys):
    assert main(["weights", "--prevalence", "0.08"] + args) == 2
    err = capsys.readouterr().err
    assert fragment in err and "resolve_weighting" not in err, err


def test_a_bad_prevalence_names_its_flag_in_every_command(capsys):
    assert main(["weights", "--prevalence", "0"]) == 2
    assert "'--prevalence' parameter of brr-lab weights must be a fraction" in capsys.readouterr().err
    assert main(["audit", "configs/examples/after_fix", "--prevalence", "2"]) == 2
    assert "'--prevalence' parameter of brr-lab audit must be a fraction" in capsys.readouterr().err


def test_a_list_flag_names_the_value_refused(capsys):
    assert main(["sweep", "--alpha", "none,0.25,2", "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert "'--alpha' parameter of brr-lab sweep must be None or a float in [0, 1]" in err, err
    assert "Got 2.0 instead" in err, err


def test_a_parameter_not_typed_as_that_flag_keeps_the_library_name():
    from argparse import Namespace

    from brr_lab._validation import invalid
    from brr_lab.cli import _as_typed

    # --epochs 5 typed, but the refused 0 came from elsewhere (a config file): not the flag's fault.
    err = invalid("epochs", "TrainConfig", "an int >= 1", 0)
    typed = Namespace(command="train", epochs=5)
    assert _as_typed(err, typed, ["train", "cfg.yaml", "--epochs", "5"]) == str(err)
    # The same parameter without the flag typed.
    assert _as_typed(err, Namespace(command="train", epochs=0), ["train", "cfg.yaml"]) == str(err)
    assert _as_typed(err, Namespace(command="train", epochs=0), ["train", "--epochs", "0"]) == \
        "The '--epochs' parameter of brr-lab train must be an int >= 1. Got 0 instead."


def test_console_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "brr_lab"] + BUG + ["--json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["ratio"] == pytest.approx(4.0)
