"""The committed data_sample/: TUSZ-like prevalence, plain-MNE readable, small, reproducible."""
import json
import re
from pathlib import Path

import mne
import numpy as np
import pytest

from brr_lab.cli import main
from brr_lab.eeg.annotations import parse_annotation_file

SAMPLE = Path(__file__).resolve().parent.parent / "data_sample"
EDFS = sorted(SAMPLE.glob("*.edf"))


def test_sample_exists_and_is_small():
    assert len(EDFS) >= 4
    size = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert size < 15e6, size
    for edf in EDFS:
        assert edf.with_suffix(".csv_bi").is_file() and edf.with_suffix(".csv").is_file()


def test_inspect_json_shows_tusz_like_prevalence(capsys):
    assert main(["inspect", str(SAMPLE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("n_windows", "n_pos", "n_neg", "prevalence", "recordings", "labels_seen"):
        assert key in report
    assert 1 / 16 <= report["prevalence"] <= 1 / 9, report["prevalence"]
    assert 800 <= report["n_windows"] <= 1500
    assert report["n_pos"] + report["n_neg"] == report["n_windows"]
    assert set(report["labels_seen"]) == {"bckg", "seiz"} and report["ok"] is True
    assert any(r["n_pos"] == 0 for r in report["recordings"].values())  # some recordings without seizures


@pytest.mark.parametrize("edf", EDFS, ids=[p.stem for p in EDFS])
def test_every_edf_opens_with_plain_mne_and_its_annotations(edf):
    raw = mne.io.read_raw_edf(edf, verbose="error")
    assert len(raw.ch_names) == 19 and raw.ch_names[0] == "EEG FP1-REF" and raw.info["sfreq"] == 256.0
    rows = parse_annotation_file(edf.with_suffix(".csv_bi"), duration_s=raw.times[-1] + 1 / 256).rows
    assert [a["description"] for a in raw.annotations] == [r.label for r in rows]
    np.testing.assert_allclose(raw.annotations.onset, [r.start_s for r in rows], atol=1e-4)
    np.testing.assert_allclose(raw.annotations.onset + raw.annotations.duration, [r.stop_s for r in rows],
                               atol=1e-4)


def test_readme_command_regenerates_identical_files(tmp_path, capsys):
    readme = (SAMPLE / "README.md").read_text()
    command = re.search(r"brr-lab (make-sample --out data_sample --seed (\d+)[^\n]*)", readme)
    assert command, "README must give the exact make-sample command"
    args = command.group(1).split()
    args[args.index("--out") + 1] = str(tmp_path)
    assert main(args) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in SAMPLE.iterdir() if p.name != "README.md")
    assert written == committed
    for name in written:
        if not name.endswith(".edf"):
            assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
            continue
        # EDF headers may differ across MNE/edfio versions; the stored samples and annotations may not.
        new, old = (mne.io.read_raw_edf(folder / name, preload=True, verbose="error")
                    for folder in (tmp_path, SAMPLE))
        assert new.ch_names == old.ch_names
        np.testing.assert_array_equal(new.get_data(), old.get_data())
        assert list(new.annotations.description) == list(old.annotations.description)
        np.testing.assert_array_equal(new.annotations.onset, old.annotations.onset)
