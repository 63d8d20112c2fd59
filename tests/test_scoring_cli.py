"""`brr-lab score`: TUSZ .csv_bi annotations + a predictions CSV -> SzCORE scores; bad input exits 2."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from timescoring.annotations import Annotation
from timescoring.scoring import EventScoring

from brr_lab.cli import main
from brr_lab.scoring import choose_threshold, load_scoring_data
from brr_lab.scoring.intervals import binomial_ci


def csv_bi(folder, name, duration, seizures):
    rows, cursor = [], 0.0
    for a, b in seizures:
        if a > cursor:
            rows.append(f"TERM,{cursor:.4f},{a:.4f},bckg,1.0000")
        rows.append(f"TERM,{a:.4f},{b:.4f},seiz,1.0000")
        cursor = b
    if cursor < duration:
        rows.append(f"TERM,{cursor:.4f},{duration:.4f},bckg,1.0000")
    text = ["# version = csv_v1.0.0", f"# bname = {name}", f"# duration = {duration:.4f} secs",
            "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt", "#",
            "channel,start_time,stop_time,label,confidence", *rows]
    (folder / f"{name}.csv_bi").write_text("\n".join(text) + "\n")


def predictions(path, rows):
    path.write_text("recording,start_s,stop_s,probability\n"
                    + "".join(f"{r},{a},{b},{p}\n" for r, a, b, p in rows))
    return path


def detector(name, duration, detections, window=4.0, stride=2.0):
    starts = np.arange(0.0, duration - window + 1e-9, stride)
    return [(name, s, s + window, 0.9 if any(a < s + window and b > s for a, b in detections) else 0.05)
            for s in starts]


@pytest.fixture
def ann(tmp_path):
    folder = tmp_path / "ann"
    (folder / "sub").mkdir(parents=True)
    csv_bi(folder, "rec_a", 1200.0, [(300.0, 340.0)])
    csv_bi(folder / "sub", "rec_b", 1800.0, [(900.0, 910.0)])
    csv_bi(folder, "quiet", 7200.0, [])       # background only: a valid seizure-free recording
    csv_bi(folder, "cal_a", 3600.0, [(1000.0, 1040.0)])
    return folder


def run(capsys, *argv):
    code = main(["score", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def score_json(capsys, ann, rows, tmp_path, *extra):
    path = predictions(tmp_path / "pred.csv", rows)
    code, out, err = run(capsys, "--annotations", ann, "--predictions", path, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_perfect_shifted_and_seizure_free_match_timescoring(capsys, ann, tmp_path):
    rows = (detector("rec_a", 1200.0, [(300.0, 340.0)])          # perfect (to window resolution)
            + detector("rec_b", 1800.0, [(930.0, 940.0)])         # 20 s late: inside the tolerance
            + detector("quiet", 7200.0, [(4000.0, 4010.0)]))      # one false alarm
    d = score_json(capsys, ann, rows, tmp_path)
    for key in ("sensitivity", "precision", "f1", "fa_per_24h", "threshold", "hours", "n_seizures",
                "parameters", "fa_per_24h_ci", "sensitivity_ci"):
        assert key in d
    # timescoring on the per-second masks the 4 s / 2 s windows give (highest probability per second)
    tp = fp = ref = 0
    for dur, sz, det in ((1200, [(300.0, 340.0)], [(298.0, 342.0)]), (1800, [(900.0, 910.0)], [(928.0, 942.0)]),
                         (7200, [], [(3998.0, 4012.0)])):
        r = EventScoring(Annotation(sz, 1, dur), Annotation(det, 1, dur))
        tp, fp, ref = tp + r.tp, fp + r.fp, ref + r.refTrue
    assert (d["n_detected"], d["n_false_alarms"], d["n_seizures"]) == (tp, fp, ref) == (2, 1, 2)
    assert d["hours"] == pytest.approx(10200 / 3600)
    assert d["sensitivity"] == 1.0 and d["precision"] == pytest.approx(2 / 3)
    assert d["f1"] == pytest.approx(2 * tp / (2 * tp + fp + ref - tp))
    lo, hi = d["precision_ci"]  # Clopper-Pearson on 2 seizures among 3 detections
    assert lo < d["precision"] < hi and (lo, hi) == pytest.approx(binomial_ci(2, 3))
    assert d["fa_per_24h"] == pytest.approx(24 / (10200 / 3600))
    assert d["threshold"] == 0.5 and d["unscored_annotation_files"] == 1
    assert d["unscored_recordings"] == ["cal_a"]  # named, not only counted
    assert d["parameters"]["szcore_defaults"] and d["parameters"]["averaging"] == "micro"


def test_shift_beyond_tolerance_and_text_output(capsys, ann, tmp_path):
    path = predictions(tmp_path / "p.csv", detector("rec_a", 1200.0, [(450.0, 460.0)]))
    code, out, _ = run(capsys, "--annotations", ann, "--predictions", path)
    assert code == 0
    assert "0 of 1 seizures" in out and "micro-averaged" in out and "exact Poisson" in out
    assert "not scored" in out  # the annotated recordings without predictions are mentioned
    assert "cal_a, quiet, rec_b" in out  # by name


def test_threshold_zero_is_refused(capsys, ann, tmp_path):
    # At 0 every second would be a detection, also those no window covers (scored as 0).
    path = predictions(tmp_path / "p.csv", [("rec_a", 0.0, 2.0, 0.0)])
    code, _, err = run(capsys, "--annotations", ann, "--predictions", path, "--threshold", "0")
    assert code == 2 and "'--threshold' parameter of brr-lab score" in err and "(0, inf)" in err


@pytest.mark.parametrize("flag, value", [("--target-fa-per-24h", "-1"), ("--smoothing-s", "-1"),
                                         ("--min-event-s", "nan")])
def test_bad_flags_are_named_as_typed(capsys, ann, tmp_path, flag, value):
    path = predictions(tmp_path / "p.csv", [("rec_a", 0.0, 2.0, 0.1)])
    code, _, err = run(capsys, "--annotations", ann, "--predictions", path, flag, value)
    assert code == 2 and f"'{flag}' parameter of brr-lab score" in err, err


def test_seizure_free_recording_only(capsys, ann, tmp_path):
    d = score_json(capsys, ann, detector("quiet", 7200.0, []), tmp_path)
    assert d["sensitivity"] is None and d["n_seizures"] == 0 and d["fa_per_24h"] == 0.0
    assert d["fa_per_24h_ci"][1] == pytest.approx(44.27, abs=0.01) and d["hours"] == 2.0


def test_all_positive_detector_short_vs_long(capsys, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for i in range(4):
        csv_bi(folder, f"short{i}", 150.0, [(60.0, 90.0)])
    csv_bi(folder, "long", 7200.0, [])
    short = [r for i in range(4) for r in detector(f"short{i}", 150.0, [(0.0, 150.0)])]
    d = score_json(capsys, folder, short, tmp_path)
    assert (d["sensitivity"], d["precision"], d["fa_per_24h"]) == (1.0, 1.0, 0.0)
    d = score_json(capsys, folder, detector("long", 7200.0, [(0.0, 7200.0)]), tmp_path)
    assert d["n_false_alarms"] == 24 and d["fa_per_24h"] == pytest.approx(288.0)


def test_target_fa_chooses_on_calibration_only(capsys, ann, tmp_path):
    rng = np.random.default_rng(0)
    cal_rows = [(r, a, b, round(float(min(1.0, p + rng.beta(1, 15))), 4))
                for r, a, b, p in detector("cal_a", 3600.0, [(1000.0, 1040.0)])]
    cal = predictions(tmp_path / "cal.csv", cal_rows)
    rows = [(r, a, b, 0.99 if p > 0.5 else p) for r, a, b, p in detector("rec_a", 1200.0, [(300.0, 340.0)])]
    d = score_json(capsys, ann, rows, tmp_path, "--target-fa-per-24h", 10, "--calibration", cal)
    data, _ = load_scoring_data(ann, cal)
    expected = choose_threshold(data, target_fa_per_24h=10.0)
    assert d["threshold"] == pytest.approx(expected.threshold)
    assert d["threshold_choice"]["chosen_on"] == "calibration set only"
    assert d["threshold_choice"]["calibration"]["fa_per_24h"] <= 10.0
    assert d["sensitivity"] == 1.0


@pytest.mark.parametrize("extra, needle", [
    (["--target-fa-per-24h", "10"], "separate predictions file"),
    (["--target-fa-per-24h", "10", "--calibration", "SAME"], "different file from --predictions"),
    (["--target-fa-per-24h", "10", "--calibration", "OVERLAP"], "overlap the calibration windows"),
    (["--calibration", "SAME"], "only with --target-fa-per-24h"),
])
def test_threshold_is_never_chosen_on_the_scored_data(capsys, ann, tmp_path, extra, needle):
    path = predictions(tmp_path / "pred.csv", detector("rec_a", 1200.0, [(300.0, 340.0)]))
    other = predictions(tmp_path / "other.csv", detector("rec_a", 1200.0, [(300.0, 340.0)])[:50])
    extra = [str(path) if e == "SAME" else str(other) if e == "OVERLAP" else e for e in extra]
    code, _, err = run(capsys, "--annotations", ann, "--predictions", path, *extra)
    assert code == 2 and needle in err


BAD = [
    ("unknown recording", [("nope", 0, 4, 0.1)], None, "line 2: unknown recording 'nope'"),
    ("duplicate window", [("rec_a", 0, 4, 0.1), ("rec_a", 0, 4, 0.2)], None, "line 3, a duplicate window"),
    ("unordered windows", [("rec_a", 4, 8, 0.1), ("rec_a", 0, 4, 0.2)], None, "line 3, out of order"),
    ("probability above 1", [("rec_a", 0, 4, 1.2)], None, "must be probabilities in [0, 1]"),
    ("negative probability", [("rec_a", 0, 4, -0.1)], None, "line 2"),
    ("non-numeric", [("rec_a", 0, "four", 0.1)], None, "line 2: column 'stop_s' must be a number"),
    ("nan", [("rec_a", 0, 4, "nan")], None, "finite numbers"),
    ("beyond the recording", [("rec_a", 1198, 1202, 0.1)], None, "at most the duration of 'rec_a'"),
    ("stop before start", [("rec_a", 8, 4, 0.1)], None, "0 <= start_s < stop_s"),
    ("missing header", None, "rec_a,0,4,0.1\n", "line 1: expected the header line"),
    ("wrong field count", None, "recording,start_s,stop_s,probability\nrec_a,0,4\n",
     "line 2: expected 4 comma-separated fields"),
    ("empty file", None, "", "no header line"),
    ("header only", None, "recording,start_s,stop_s,probability\n", "no prediction rows"),
]


@pytest.mark.parametrize("case, rows, raw, needle", BAD, ids=[b[0] for b in BAD])
def test_bad_predictions_exit_2_naming_file_and_line(capsys, ann, tmp_path, case, rows, raw, needle):
    path = tmp_path / "bad.csv"
    if rows is not None:
        predictions(path, rows)
    else:
        path.write_text(raw)
    code, out, err = run(capsys, "--annotations", ann, "--predictions", path)
    assert code == 2 and out == ""
    assert str(path) in err and needle in err


def test_bad_annotations_exit_2(capsys, tmp_path):
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "r.csv_bi").write_text("# version = csv_v1.0.0\n#\nchannel,start_time,stop_time,label,"
                                     "confidence\nTERM,0.0,10.0,bckg,1.0\n")
    path = predictions(tmp_path / "p.csv", [("r", 0, 4, 0.1)])
    code, _, err = run(capsys, "--annotations", folder, "--predictions", path)
    assert code == 2 and "r.csv_bi" in err and "duration" in err
    csv_bi(folder, "r", 10.0, [])
    with open(folder / "r.csv_bi", "a") as f:
        f.write("TERM,2.0,3.0,spikes,1.0\n")
    code, _, err = run(capsys, "--annotations", folder, "--predictions", path)
    assert code == 2 and "r.csv_bi" in err and "spikes" in err
    code, _, err = run(capsys, "--annotations", tmp_path / "missing", "--predictions", path)
    assert code == 2 and "no such annotation folder" in err


def test_no_heavy_imports_until_the_command_runs():
    code = ("import sys, argparse, brr_lab.cli.score as s; "
            "s.register(argparse.ArgumentParser().add_subparsers()); import brr_lab.scoring; "
            "print(sorted(m for m in ('torch', 'mne', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_json_is_strict_json_through_brr_lab_strict_json(capsys, ann, tmp_path, monkeypatch):
    """A non-finite number never reaches the output: null, and a note saying what it was."""
    from brr_lab.scoring.results import EventScores

    real = EventScores.as_dict
    monkeypatch.setattr(EventScores, "as_dict", lambda self: {**real(self), "extra": float("nan")})
    path = predictions(tmp_path / "pred.csv", detector("quiet", 7200.0, []))
    code, out, err = run(capsys, "--annotations", ann, "--predictions", path, "--json")
    assert code == 0, err
    d = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert d["extra"] is None and any("extra: NaN" in note for note in d["json_notes"])
