"""TUSZ annotation parsing: every guard with a real bad file, naming the file and line."""
from pathlib import Path

import pytest

from brr_lab.eeg.annotations import (
    AnnotationError, binary_rows, format_annotation_file, merge_intervals, parse_annotation_file,
    seizure_intervals,
)

HEADER = ("# version = csv_v1.0.0\n# bname = rec\n# duration = 100.0000 secs\n"
          "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt\n#\n"
          "channel,start_time,stop_time,label,confidence\n")
GOOD_ROWS = ("TERM,0.0000,40.0000,bckg,1.0000\nTERM,40.0000,55.5000,seiz,1.0000\n"
             "TERM,55.5000,100.0000,bckg,1.0000\n")


def write(tmp_path: Path, text: str, name: str = "rec.csv_bi") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parses_a_good_csv_bi(tmp_path):
    ann = parse_annotation_file(write(tmp_path, HEADER + GOOD_ROWS), duration_s=100.0)
    assert ann.header["bname"] == "rec"
    assert [(r.start_s, r.stop_s, r.label, r.line) for r in ann.rows] == [
        (0.0, 40.0, "bckg", 7), (40.0, 55.5, "seiz", 8), (55.5, 100.0, "bckg", 9)]
    assert ann.labels_seen == {"bckg": 2, "seiz": 1}
    assert seizure_intervals(ann) == [(40.0, 55.5)]


def test_per_channel_types_map_to_seizure_and_merge(tmp_path):
    rows = ("FP1-F7,0.0,10.0,bckg,1.0\nFP1-F7,10.0,30.0,fnsz,1.0\nF7-T3,12.0,35.0,cpsz,1.0\n"
            "T3-T5,60.0,70.0,TCSZ,1.0\n")
    ann = parse_annotation_file(write(tmp_path, HEADER + rows, "rec.csv"), duration_s=100.0)
    assert seizure_intervals(ann) == [(10.0, 35.0), (60.0, 70.0)]
    assert ann.labels_seen == {"bckg": 1, "cpsz": 1, "fnsz": 1, "tcsz": 1}


@pytest.mark.parametrize("row, problem", [
    ("TERM,0.0,40.0,bckg", "expected 5 comma-separated fields"),
    ("TERM,0.0,40.0,bckg,1.0,extra", "expected 5 comma-separated fields"),
    ("TERM,zero,40.0,bckg,1.0", "column 'start_time' must be a number"),
    ("TERM,0.0,nan,bckg,1.0", "column 'stop_time' must be finite"),
    ("TERM,0.0,40.0,bckg,2.0", "column 'confidence' must be a number in"),
    # Columns shifted by one: the kind of parse that hid every seizure in the original project.
    ("0.0,40.0,seiz,1.0,TERM", "column 'channel' must be a channel name"),
    ("TERM,0.0,40.0,1.0,seiz", "column 'label' must be a label"),
])
def test_malformed_row_names_file_and_line(tmp_path, row, problem):
    path = write(tmp_path, HEADER + "TERM,40.0,55.0,seiz,1.0\n" + row + "\n")
    with pytest.raises(AnnotationError, match=problem) as info:
        parse_annotation_file(path, duration_s=100.0)
    assert f"{path}, line 8:" in str(info.value)
    assert info.value.line == 8 and info.value.path == path


def test_stop_before_start(tmp_path):
    path = write(tmp_path, HEADER + "TERM,50.0,45.0,seiz,1.0\n")
    with pytest.raises(AnnotationError, match=r"line 7: stop_time 45 s is not after start_time 50 s"):
        parse_annotation_file(path, duration_s=100.0)


@pytest.mark.parametrize("row", ["TERM,90.0,100.5,seiz,1.0", "TERM,-1.0,10.0,bckg,1.0"])
def test_times_outside_the_recording(tmp_path, row):
    path = write(tmp_path, HEADER + row + "\n")
    with pytest.raises(AnnotationError, match=r"line 7: segment .* lies outside the recording \[0, 100\] s"):
        parse_annotation_file(path, duration_s=100.0)


def test_rounding_tolerance_is_not_clamping(tmp_path):
    path = write(tmp_path, HEADER + "TERM,90.0,100.0004,seiz,1.0\n")
    ann = parse_annotation_file(path, duration_s=100.0)
    assert ann.rows[0].stop_s == 100.0004  # kept as written, not clamped


def test_missing_column_line(tmp_path):
    path = write(tmp_path, "# version = csv_v1.0.0\nTERM,0.0,10.0,bckg,1.0\n")
    with pytest.raises(AnnotationError, match="line 2: expected the column line"):
        parse_annotation_file(path)
    with pytest.raises(AnnotationError, match="no column line"):
        parse_annotation_file(write(tmp_path, "# only a header\n", "empty.csv_bi"))


def test_a_file_without_rows_is_truncated_not_seizure_free(tmp_path):
    # A seizure-free TUSZ recording still lists its background: no row at all is a cut file.
    with pytest.raises(AnnotationError, match="line 6: no annotation row"):
        parse_annotation_file(write(tmp_path, HEADER))


def test_a_header_key_twice_names_both_values(tmp_path):
    text = HEADER.replace("# duration = 100.0000 secs\n", "# duration = 100.0000 secs\n# duration = 50 secs\n")
    with pytest.raises(AnnotationError, match=r"line 4: a second '# duration = \.\.\.' header line \('50 secs'; the first said '100.0000 secs'\)"):
        parse_annotation_file(write(tmp_path, text + GOOD_ROWS))


def test_the_loader_and_event_scoring_read_a_duration_alike(tmp_path):
    from brr_lab.scoring.files import read_truth

    path = write(tmp_path, HEADER.replace("100.0000 secs", "100 seconds") + GOOD_ROWS)
    assert parse_annotation_file(path, duration_s=100.0).header["duration"] == "100 seconds"
    assert read_truth(path).duration_s == 100.0


def test_unknown_label_is_an_error_never_background(tmp_path):
    path = write(tmp_path, HEADER + "TERM,0.0,40.0,bckg,1.0\nTERM,40.0,50.0,seizure,1.0\n")
    ann = parse_annotation_file(path, duration_s=100.0)
    assert ann.labels_seen == {"bckg": 1, "seizure": 1}  # reported as seen
    with pytest.raises(AnnotationError, match=r"line 8: unknown label 'seizure'"):
        seizure_intervals(ann)
    assert seizure_intervals(ann, seizure_labels=("seizure",)) == [(40.0, 50.0)]


def test_vocabularies_must_not_overlap(tmp_path):
    ann = parse_annotation_file(write(tmp_path, HEADER + GOOD_ROWS))
    with pytest.raises(ValueError, match="must not share labels"):
        seizure_intervals(ann, seizure_labels=("seiz",), background_labels=("seiz", "bckg"))


def test_format_then_parse_round_trip(tmp_path):
    rows = binary_rows([(10.0, 20.0), (15.0, 30.0), (50.0, 60.0)], 80.0)
    assert [r[3] for r in rows] == ["bckg", "seiz", "bckg", "seiz", "bckg"]
    path = write(tmp_path, format_annotation_file(rows, bname="x", duration_s=80.0))
    assert seizure_intervals(parse_annotation_file(path, duration_s=80.0)) == [(10.0, 30.0), (50.0, 60.0)]


def test_merge_intervals():
    assert merge_intervals([(5, 6), (1, 3), (2, 4), (4, 4.5)]) == [(1, 4.5), (5, 6)]
    assert merge_intervals([]) == []
