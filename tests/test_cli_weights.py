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
    (["--alpha", "1.5"], "'alpha'"),
    (["--pos-weight", "-1"], "'pos_weight'"),
    (["--sampler-fraction", "1"], "'sampler_fraction'"),
])
def test_bad_values_exit_nonzero_with_library_message(args, fragment, capsys):
    assert main(["weights", "--prevalence", "0.08"] + args) == 2
    assert fragment in capsys.readouterr().err


def test_console_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "brr_lab"] + BUG + ["--json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["ratio"] == pytest.approx(4.0)
