"""Loading EDF folders through MNE, with every guard exercised on a real bad file."""
from pathlib import Path

import mne
import numpy as np
import pytest

from brr_lab.eeg import (
    STANDARD_CHANNELS, AnnotationError, EdfReadError, MissingChannelsError, SingleClassLabelsError,
    check_labels, load_recordings, load_windows, simulate_recordings,
)
from brr_lab.eeg.annotations import binary_rows, format_annotation_file
from brr_lab.eeg.channels import tusz_channel_name
from brr_lab.eeg.sample import write_recording


@pytest.fixture(scope="module")
def simulated():
    return simulate_recordings(7, n_recordings=3, duration_s=40.0, target_prevalence=0.3)


@pytest.fixture()
def folder(tmp_path, simulated):
    for rec in simulated:
        write_recording(rec, tmp_path)
    return tmp_path


def write_edf(path: Path, ch_names, duration_s=20.0, sfreq=256.0, annotations=None):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((len(ch_names), int(duration_s * sfreq))) * 2e-5
    raw = mne.io.RawArray(data, mne.create_info(list(ch_names), sfreq, "eeg", verbose=False), verbose=False)
    if annotations is not None:
        raw.set_annotations(annotations)
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")
    return path


def write_csv_bi(path: Path, seizures, duration_s):
    path.write_text(format_annotation_file(binary_rows(seizures, duration_s), bname=path.stem,
                                           duration_s=duration_s))


def test_round_trip_keeps_signals_and_seizures(folder, simulated):
    loaded = load_recordings(folder)
    assert [r.name for r in loaded] == [r.name for r in simulated]
    for got, want in zip(loaded, simulated):
        assert got.raw.ch_names == list(STANDARD_CHANNELS) and got.raw.info["sfreq"] == 256.0
        assert got.path == folder / f"{want.name}.edf" and got.extra_channels == []
        np.testing.assert_allclose(got.seizures, want.seizures, atol=1e-4)
        np.testing.assert_allclose(got.raw.get_data(), want.raw.get_data(), atol=0.05e-6)  # 0.05 uV
        assert got.labels_seen == want.labels_seen
        assert got.meta["annotation_file"].endswith(".csv_bi")


def test_per_channel_csv_then_edf_annotations_are_fallbacks(folder, simulated):
    for p in folder.glob("*.csv_bi"):
        p.unlink()
    from_csv = load_recordings(folder)
    for got, want in zip(from_csv, simulated):
        np.testing.assert_allclose(got.seizures, want.seizures, atol=1e-4)
        assert got.meta["annotation_file"].endswith(".csv")
        assert set(got.labels_seen) <= {"bckg", "fnsz", "gnsz"}
    for p in folder.glob("*.csv"):
        p.unlink()
    from_edf = load_recordings(folder)
    for got, want in zip(from_edf, simulated):
        np.testing.assert_allclose(got.seizures, want.seizures, atol=1e-4)
        assert got.meta["annotation_file"].endswith(".edf")


def test_no_annotations_anywhere(tmp_path):
    write_edf(tmp_path / "bare.edf", [tusz_channel_name(c) for c in STANDARD_CHANNELS])
    with pytest.raises(AnnotationError, match=r"bare\.edf: no annotation file next to it"):
        load_recordings(tmp_path)


@pytest.mark.parametrize("content", [b"this is not an EDF file\n" * 20, b""])
def test_edf_mne_cannot_read(folder, content):
    bad = folder / "broken.edf"
    bad.write_bytes(content)
    with pytest.raises(EdfReadError, match=r"broken\.edf: MNE cannot read this EDF"):
        load_recordings(folder)


def test_truncated_edf(folder):
    good = sorted(folder.glob("*.edf"))[0]
    (folder / "cut.edf").write_bytes(good.read_bytes()[:300])
    with pytest.raises(EdfReadError, match=r"cut\.edf"):
        load_recordings(folder)


def test_missing_required_channels(tmp_path):
    names = [tusz_channel_name(c) for c in STANDARD_CHANNELS if c not in ("O2", "Cz")]
    write_edf(tmp_path / "short.edf", names)
    write_csv_bi(tmp_path / "short.csv_bi", [], 20.0)
    expected = r"short\.edf: missing required channel\(s\) \['Cz', 'O2'\]"
    with pytest.raises(MissingChannelsError, match=expected):
        load_recordings(tmp_path)


def test_aliases_suffixes_and_extra_channels(tmp_path):
    spelled = {"T3": "EEG T7-LE", "T4": "EEG T8-LE", "T5": "EEG P7-LE", "T6": "EEG P8-LE"}
    names = [spelled.get(c, f"EEG {c.upper()}-LE") for c in STANDARD_CHANNELS][::-1] + ["EKG", "EEG T1-REF"]
    write_edf(tmp_path / "le.edf", names)
    write_csv_bi(tmp_path / "le.csv_bi", [(5.0, 9.0)], 20.0)
    rec, = load_recordings(tmp_path)
    assert rec.raw.ch_names == list(STANDARD_CHANNELS)
    assert rec.extra_channels == ["EKG", "EEG T1-REF"]
    assert rec.seizures == [(5.0, 9.0)]
    # The channel data follow their names through the reordering.
    raw = mne.io.read_raw_edf(tmp_path / "le.edf", preload=True, verbose="error")
    np.testing.assert_array_equal(rec.raw.get_data(picks=["T5"]), raw.get_data(picks=["EEG P7-LE"]))


def _replace_row(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_malformed_row_in_folder_names_file_and_line(folder, simulated):
    path = folder / f"{simulated[0].name}.csv_bi"
    _replace_row(path, "TERM,0.0000", "TERM,0.0000,extra")
    with pytest.raises(AnnotationError, match=rf"{path.name}, line 7: malformed row"):
        load_recordings(folder)


def test_time_outside_recording_in_folder(folder, simulated):
    path = folder / f"{simulated[1].name}.csv_bi"
    _replace_row(path, "40.0000,bckg", "41.5000,bckg")
    expected = rf"{path.name}, line \d+: segment .* outside the recording \[0, 40\]"
    with pytest.raises(AnnotationError, match=expected):
        load_recordings(folder)


def test_stop_before_start_in_folder(folder, simulated):
    path = folder / f"{simulated[0].name}.csv_bi"
    lines = path.read_text().splitlines()
    seiz = next(i for i, line in enumerate(lines) if ",seiz," in line)
    ch, start, stop, label, conf = lines[seiz].split(",")
    lines[seiz] = ",".join([ch, stop, start, label, conf])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnnotationError, match=rf"line {seiz + 1}: stop_time .* is not after start_time"):
        load_recordings(folder)


def test_unknown_label_in_folder(folder, simulated):
    path = folder / f"{simulated[0].name}.csv_bi"
    _replace_row(path, ",seiz,", ",sz,")
    with pytest.raises(AnnotationError, match=r"unknown label 'sz'.*never assume background"):
        load_recordings(folder)
    recs = load_recordings(folder, seizure_labels=("seiz", "sz"))
    np.testing.assert_allclose(recs[0].seizures, simulated[0].seizures, atol=1e-4)
    assert recs[0].labels_seen["sz"] == 1


def test_all_background_labels_fail_before_training(folder, simulated):
    for rec in simulated:
        write_csv_bi(folder / f"{rec.name}.csv_bi", [], rec.duration_s)  # the parser-bug outcome
    with pytest.raises(SingleClassLabelsError) as info:
        load_windows(folder)
    message = str(info.value)
    assert str(folder) in message and "all 117 window labels are background (0)" in message
    for cause in ("annotation parsing", "label vocabulary", "window rule"):
        assert cause in message
    assert "Labels seen in the annotations: bckg=3" in message


def test_windows_from_a_folder(folder):
    ws = load_windows(folder, window_s=4.0, stride_s=2.0, sfreq=128.0)
    assert ws.X.shape == (3 * 19, 19, 512) and 0 < ws.y.sum() < len(ws)


def test_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="'folder' parameter of load_recordings must be an existing folder"):
        load_recordings(tmp_path / "nope")
    with pytest.raises(ValueError, match="at least one .edf file"):
        load_recordings(tmp_path)


def test_duplicate_names_in_subfolders(folder, simulated):
    sub = folder / "again"
    sub.mkdir()
    write_recording(simulated[0], sub)
    with pytest.raises(ValueError, match="EDF files with distinct names"):
        load_recordings(folder)


@pytest.mark.parametrize("y, match", [
    ([0, 0, 0], "all 3 window labels are background"), ([1, 1], "all 2 window labels are seizure"),
    ([], "no windows at all"), ([0, 2], "labels must be 0 or 1"),
])
def test_check_labels(y, match):
    with pytest.raises(ValueError, match=match):
        check_labels(np.array(y, dtype=float), context="ctx")
    check_labels(np.array([0, 1, 0]))  # both classes: fine
