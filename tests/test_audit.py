"""`brr-lab audit`: stacked weighting per config, drift across configs, linter exit codes."""
import json
import shutil
from pathlib import Path

import pytest

from brr_lab import weighting
from brr_lab.configs.audit import DEFAULT_PREVALENCE, audit_paths
from brr_lab.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "configs" / "examples"
PI = DEFAULT_PREVALENCE
IMBALANCE = (1 - PI) / PI  # 12 negatives per positive

CLEAN = """
loss: {kind: focal, alpha: null, gamma: 2.0, pos_weight: auto}
sampler: {balanced: false}
"""


def run_json(capsys, *args):
    code = main(["audit", *map(str, args), "--json"])
    return code, json.loads(capsys.readouterr().out)


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def by_key(findings, file_part, severity=None):
    return [f for f in findings if file_part in f["file"]
            and (severity is None or f["severity"] == severity)]


# --------------------------------------------------------------------------- the postmortem


def test_after_fix_is_flagged_stacked_with_effective_ratio(capsys):
    code, out = run_json(capsys, EXAMPLES / "after_fix")
    assert code == 1
    expected = float(weighting.effective_ratio(PI, 0.5, IMBALANCE, 0.5))  # pos_weight x sampler
    assert expected == pytest.approx(IMBALANCE ** 2)                    # 144:1 at 1:12
    q = float(weighting.q_star(PI, 0.5, IMBALANCE, 0.5))
    for name in ("train.yaml", "smoke.yaml", "dev.yaml"):
        config = next(c for c in out["configs"] if c["file"].endswith("after_fix/" + name))
        assert config["mechanisms"] == ["pos_weight", "sampler"] and config["stacked"]
        assert config["effective_ratio"] == pytest.approx(expected)
        assert config["q_star"] == pytest.approx(q)
        errors = [f for f in by_key(out["findings"], name, "error") if "stacked" in f["message"]]
        assert len(errors) == 1
        assert f"{expected:.4g}:1" in errors[0]["message"]
        assert f"q* = {q:.3g}" in errors[0]["message"]
        assert "loss.pos_weight" in errors[0]["key"] and "sampler" in errors[0]["key"]
        over = [f for f in by_key(out["findings"], name, "warning")
                if "over-correction" in f["message"]]
        assert over and over[0]["key"] == "sampler.target_fraction"


def test_after_fix_folder_drift_names_the_drifted_file(capsys):
    _, out = run_json(capsys, EXAMPLES / "after_fix")
    rows = {row["key"]: row for row in out["drift"]}
    assert set(rows) == {"loss.alpha", "sampler.balanced", "sampler.target_fraction"}
    alpha = rows["loss.alpha"]
    assert alpha["has_majority"] and alpha["majority"] == 0.5
    assert [Path(f).name for f in alpha["outliers"]] == ["eval_drifted.yaml"]
    assert rows["sampler.balanced"]["majority"] is True
    drift = [f for f in out["findings"] if f["message"].startswith("drift")]
    assert {Path(f["file"]).name for f in drift} == {"eval_drifted.yaml"}
    assert any("3 of 4 files" in f["message"] for f in drift)


def test_before_fix_ratio_is_four_not_twelve(capsys):
    code, out = run_json(capsys, EXAMPLES / "before_fix")
    assert code == 1
    (config,) = out["configs"]
    ratio = IMBALANCE * 0.25 / 0.75
    assert config["effective_ratio"] == pytest.approx(ratio)
    (finding,) = out["findings"]
    assert finding["severity"] == "error" and f"{ratio:.4g}:1" in finding["message"]


def test_clean_folder_exits_zero(capsys):
    code, out = run_json(capsys, EXAMPLES / "clean")
    assert code == 0
    assert out["findings"] == [] and out["drift"] == []
    assert all(c["mechanisms"] == ["pos_weight"] for c in out["configs"])
    assert all(c["q_star"] == pytest.approx(PI) for c in out["configs"])


def test_clean_text_report_states_prevalence(capsys):
    assert main(["audit", str(EXAMPLES / "clean")]) == 0
    text = capsys.readouterr().out
    assert "prevalence 0.07692 (default: 1/13" in text and "findings: none" in text


def test_json_shape(capsys):
    _, out = run_json(capsys, EXAMPLES / "after_fix")
    assert {"configs", "drift", "findings"} <= set(out)
    for f in out["findings"]:
        assert {"file", "key", "severity", "message"} <= set(f)
        assert f["severity"] in ("error", "warning", "invalid")


def test_prevalence_option_changes_auto_and_sampler(capsys):
    _, out = run_json(capsys, EXAMPLES / "after_fix" / "train.yaml", "--prevalence", "0.2")
    (config,) = out["configs"]
    assert out["prevalence"] == 0.2
    assert config["pos_weight_value"] == pytest.approx(4.0)
    assert config["effective_ratio"] == pytest.approx(16.0)  # 4 x sampler odds 4


@pytest.mark.parametrize("value", ["0", "1", "-0.1", "nan"])
def test_bad_prevalence_exits_two(capsys, value):
    assert main(["audit", str(EXAMPLES / "clean"), "--prevalence", value]) == 2
    assert "prevalence" in capsys.readouterr().err


# --------------------------------------------------------------------------- bad input


def test_empty_folder_exits_two(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a config")
    code, out = run_json(capsys, tmp_path)
    assert code == 2
    (finding,) = out["findings"]
    assert finding["severity"] == "invalid" and "no config files" in finding["message"]


def test_missing_path_exits_two(tmp_path, capsys):
    code, out = run_json(capsys, tmp_path / "nope")
    assert code == 2 and "no such file" in out["findings"][0]["message"]


def test_malformed_file_exits_two_and_others_are_still_audited(tmp_path, capsys):
    write(tmp_path, "good.yaml", CLEAN)
    write(tmp_path, "bad.yaml", "loss:\n  kind: focal\n  alpha: [0.25\n")
    code, out = run_json(capsys, tmp_path)
    assert code == 2
    assert [Path(c["file"]).name for c in out["configs"]] == ["good.yaml"]
    (finding,) = out["findings"]
    assert finding["severity"] == "invalid" and finding["line"] is not None
    assert "malformed YAML" in finding["message"]


def test_unknown_key_exits_two_with_suggestion(tmp_path, capsys):
    write(tmp_path, "c.yaml", "loss:\n  kind: focal\n  alpah: 0.25\n")
    assert main(["audit", str(tmp_path)]) == 2
    text = capsys.readouterr().out
    assert "c.yaml:3: loss.alpah:" in text and "did you mean 'loss.alpha'?" in text


def test_wrong_type_exits_two(tmp_path, capsys):
    write(tmp_path, "c.yaml", "trainer:\n  epochs: 3.5\n")
    code, out = run_json(capsys, tmp_path)
    assert code == 2
    (finding,) = out["findings"]
    assert finding["key"] == "trainer.epochs" and "Got 3.5 instead" in finding["message"]


# --------------------------------------------------------------------------- findings


def test_one_drifted_file_in_a_folder(tmp_path, capsys):
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        write(tmp_path, name, CLEAN)
    write(tmp_path, "d.yaml", CLEAN.replace("gamma: 2.0", "gamma: 1.0"))
    code, out = run_json(capsys, tmp_path)
    assert code == 1
    (row,) = out["drift"]
    assert row["key"] == "loss.gamma" and row["majority"] == 2.0
    assert [Path(f).name for f in row["outliers"]] == ["d.yaml"]
    (finding,) = out["findings"]
    assert finding["severity"] == "warning" and Path(finding["file"]).name == "d.yaml"


def test_drift_without_majority_lists_every_file(tmp_path, capsys):
    write(tmp_path, "a.yaml", CLEAN)
    write(tmp_path, "b.yaml", CLEAN.replace("kind: focal", "kind: bce"))
    _, out = run_json(capsys, tmp_path)
    row = next(r for r in out["drift"] if r["key"] == "loss.kind")
    assert row["has_majority"] is False and row["majority"] is None
    assert len(row["outliers"]) == 2


def test_identical_configs_have_no_drift(tmp_path):
    write(tmp_path, "a.yaml", CLEAN)
    write(tmp_path, "b.yaml", CLEAN + "trainer: {epochs: 2}\n")  # trainer settings may differ
    result = audit_paths([tmp_path])
    assert result.drift == [] and result.exit_code == 0


def test_sampler_alone_is_one_mechanism(tmp_path):
    write(tmp_path, "a.yaml", "loss: {kind: bce}\nsampler: {balanced: true, target_fraction: 0.5}\n")
    result = audit_paths([tmp_path])
    assert result.exit_code == 0
    assert result.configs[0].effective_ratio == pytest.approx(IMBALANCE)


def test_alpha_below_half_alone_is_flagged(tmp_path):
    write(tmp_path, "a.yaml", "loss: {kind: focal, alpha: 0.25}\n")
    result = audit_paths([tmp_path])
    (finding,) = result.findings
    q = float(weighting.q_star(PI, 0.25))
    assert finding.key == "loss.alpha" and finding.severity == "warning"
    assert f"q* = {q:.3g}" in finding.message and "nothing else" in finding.message


def test_over_correcting_sampler_fraction(tmp_path):
    write(tmp_path, "a.yaml", "sampler: {balanced: true, target_fraction: 0.7}\n")
    result = audit_paths([tmp_path])
    (finding,) = result.findings
    assert finding.key == "sampler.target_fraction" and "over-correction" in finding.message


@pytest.mark.parametrize("text,key", [
    ("loss: {kind: bce, alpha: 0.25}\n", "loss.alpha"),
    ("loss: {kind: bce, gamma: 1.0}\n", "loss.gamma"),
    ("sampler: {balanced: false, target_fraction: 0.3}\n", "sampler.target_fraction"),
])
def test_ignored_settings_are_flagged(tmp_path, text, key):
    write(tmp_path, "a.yaml", text)
    result = audit_paths([tmp_path])
    (finding,) = result.findings
    assert finding.key == key and "ignored" in finding.message


def test_legacy_before_fix_pos_weight_dropped_silently(capsys):
    code, out = run_json(capsys, EXAMPLES / "legacy" / "before_fix.yaml")
    assert code == 1
    (config,) = out["configs"]
    assert config["layout"] == "brain-go-brr-v2" and config["mechanisms"] == ["alpha"]
    dropped = [f for f in out["findings"] if "drops it silently" in f["message"]]
    assert len(dropped) == 1 and dropped[0]["key"] == "training.focal_alpha"
    assert dropped[0]["severity"] == "error"


def test_legacy_after_fix_sqrt_pair_is_stacked(capsys):
    _, out = run_json(capsys, EXAMPLES / "legacy" / "after_fix.yaml")
    (config,) = out["configs"]
    # sqrt(12) from pos_weight times sqrt(12) from the sampler: a full 12:1 from two mechanisms
    assert config["effective_ratio"] == pytest.approx(IMBALANCE)
    assert config["stacked"] and config["notes"]
    (finding,) = out["findings"]
    assert "stacked" in finding["message"] and "data.use_balanced_sampling" in finding["key"]


def test_a_file_named_twice_is_audited_once(tmp_path):
    path = write(tmp_path, "a.yaml", CLEAN)
    result = audit_paths([path, tmp_path])
    assert len(result.configs) == 1 and result.drift == []


def test_folder_is_not_recursive(tmp_path):
    shutil.copytree(EXAMPLES / "clean", tmp_path / "clean")
    write(tmp_path, "top.yaml", CLEAN)
    result = audit_paths([tmp_path])
    assert [Path(c.file).name for c in result.configs] == ["top.yaml"]


def test_min_fraction_under_label_rule_any_is_reported_as_ignored(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  label_rule: any\n  min_fraction: 0.3\n")
    found = [f for f in audit_paths([path]).findings if f.key == "data.min_fraction"]
    assert found and found[0].line == 3 and "ignored" in found[0].message
