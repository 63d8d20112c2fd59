"""`brr-lab make-sample` and `brr-lab inspect`: outputs and exit codes."""
import json

import pytest

from brr_lab.cli import main


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    assert main(["make-sample", "--out", str(out), "--seed", "4", "--n-recordings", "3",
                 "--duration-s", "90"]) == 0
    return out


def test_make_sample_writes_files_and_refuses_to_overwrite(sample, capsys):
    assert len(list(sample.glob("*.edf"))) == 3 and len(list(sample.glob("*.csv_bi"))) == 3
    code = main(["make-sample", "--out", str(sample), "--seed", "4", "--n-recordings", "3",
                 "--duration-s", "90"])
    assert code == 2
    assert "'overwrite' parameter of make_sample" in capsys.readouterr().err


def test_make_sample_refuses_a_folder_with_other_recordings(sample, capsys):
    code = main(["make-sample", "--out", str(sample), "--seed", "5", "--n-recordings", "3",
                 "--duration-s", "90", "--overwrite"])
    assert code == 2
    assert "no recordings other than the ones written" in capsys.readouterr().err


def test_inspect_text_and_json(sample, capsys):
    assert main(["inspect", str(sample)]) == 0
    text = capsys.readouterr().out
    assert "prevalence:" in text and "synth004_t000" in text
    assert main(["inspect", str(sample), "--json", "--label-rule", "fraction", "--min-fraction", "0.9"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["label_rule"] == "fraction" and report["min_fraction"] == 0.9
    assert report["n_windows"] == 3 * 89 and report["ok"] is True


def test_inspect_fails_on_single_class_labels(sample, capsys):
    # Windows longer than the seizures and a strict fraction rule leave no positive window.
    code = main(["inspect", str(sample), "--json", "--window-s", "20", "--stride-s", "20",
                 "--label-rule", "fraction", "--min-fraction", "1.0"])
    captured = capsys.readouterr()
    assert code == 1
    report = json.loads(captured.out)
    assert report["ok"] is False and report["n_pos"] == 0 and "window rule" in report["errors"][0]
    assert "all 12 window labels are background" in captured.err


def test_inspect_fails_on_a_guard(sample, capsys):
    path = sorted(sample.glob("*.csv_bi"))[0]
    original = path.read_text()
    try:
        path.write_text(original.replace(",seiz,", ",SEIZURE,", 1).replace(",bckg,", ",SEIZURE,", 1))
        assert main(["inspect", str(sample)]) == 2
        assert "unknown label 'seizure'" in capsys.readouterr().err
        assert main(["inspect", str(sample), "--seizure-labels", "seiz,seizure"]) == 0
    finally:
        path.write_text(original)


def test_defaults_come_from_the_library(sample, capsys):
    from brr_lab.eeg.synth import DEFAULT_DURATION_S, DEFAULT_N_RECORDINGS, DEFAULT_SEIZURE_AMPLITUDE
    from brr_lab.eeg.windowing import DEFAULT_SFREQ, DEFAULT_STRIDE_S, DEFAULT_WINDOW_S

    assert main(["inspect", str(sample), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["window_s"], report["stride_s"], report["sfreq"], report["label_rule"]) == (
        DEFAULT_WINDOW_S, DEFAULT_STRIDE_S, DEFAULT_SFREQ, "any")
    # The help texts quote the library defaults: keep them in step.
    for command, quoted in (
        ("make-sample", [f"the generator's, {v:g}" for v in
                         (DEFAULT_N_RECORDINGS, DEFAULT_DURATION_S, DEFAULT_SEIZURE_AMPLITUDE)]),
        ("inspect", [f"(default {v:g})" for v in (DEFAULT_WINDOW_S, DEFAULT_STRIDE_S, DEFAULT_SFREQ)]),
    ):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for q in quoted:
            assert q in text, (command, q)


def test_bad_label_rule_names_the_flag_typed(sample, capsys):
    assert main(["inspect", str(sample), "--label-rule", "majority"]) == 2
    err = capsys.readouterr().err
    assert "'--label-rule' parameter of brr-lab inspect must be" in err and "'majority'" in err, err


def test_min_fraction_without_the_fraction_rule_is_refused(sample, capsys):
    assert main(["inspect", str(sample), "--min-fraction", "0.3"]) == 2
    assert "'--min-fraction' parameter of brr-lab inspect" in capsys.readouterr().err
