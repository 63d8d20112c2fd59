"""Read scoring inputs from files: a predictions CSV and a folder of TUSZ ``.csv_bi`` annotations.

Predictions CSV: a header line ``recording,start_s,stop_s,probability``, then one
window per line (recording = the EDF's stem). Blank lines and lines starting
with ``#`` are skipped. Every problem is a ``ValueError`` naming the file and line.

Annotations: ``<stem>.csv_bi`` anywhere under the folder; the recording's
duration comes from its ``# duration = ... secs`` header line. A file with only
background rows is a valid seizure-free recording.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brr_lab import _validation
from brr_lab.scoring.inputs import RecordingTruth, ScoringData, scoring_data

HEADER = ("recording", "start_s", "stop_s", "probability")


class InputFileError(getattr(_validation, "BrrLabError", ValueError)):
    """A scoring input file that cannot be used; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, problem: str):
        self.path, self.line = Path(path), line
        super().__init__(f"{self.path}{'' if line is None else f', line {line}'}: {problem}")


@dataclass(frozen=True)
class PredictionRows:
    """The raw columns of a predictions file and each row's line number."""

    path: Path
    recording: list[str]
    start_s: np.ndarray
    stop_s: np.ndarray
    probability: np.ndarray
    lines: list[int]

    def locate(self, i: int) -> str:
        return f"{self.path}, line {self.lines[i]}"


def read_predictions(path: Path | str) -> PredictionRows:
    """Parse a predictions CSV (numbers are checked here; ranges and order by :func:`load_scoring_data`)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, None, "no such predictions file.")
    text = _read_text(path)
    names, columns, lines = [], [[], [], []], []
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [part.strip() for part in line.split(",")]
        if not header_seen:
            if tuple(f.lower() for f in fields) != HEADER:
                raise InputFileError(path, number, f"expected the header line {','.join(HEADER)!r} first. "
                                                   f"Got {raw!r}.")
            header_seen = True
            continue
        if len(fields) != len(HEADER):
            raise InputFileError(path, number, f"expected {len(HEADER)} comma-separated fields "
                                               f"({','.join(HEADER)}), found {len(fields)}. Got {raw!r}.")
        if not fields[0]:
            raise InputFileError(path, number, f"column 'recording' is empty. Got {raw!r}.")
        for column, value, out in zip(HEADER[1:], fields[1:], columns):
            try:
                out.append(float(value))
            except ValueError:
                raise InputFileError(path, number, f"column '{column}' must be a number. "
                                                   f"Got {value!r}.") from None
        names.append(fields[0])
        lines.append(number)
    if not header_seen:
        raise InputFileError(path, None, f"no header line {','.join(HEADER)!r}: empty predictions file.")
    if not names:
        raise InputFileError(path, None, "no prediction rows after the header.")
    start, stop, prob = (np.asarray(c, dtype=np.float64) for c in columns)
    return PredictionRows(path=path, recording=names, start_s=start, stop_s=stop, probability=prob,
                          lines=lines)


def _read_text(path: Path) -> str:
    """UTF-8 under the project's BOM rule (``_validation.read_utf8``) where that reader exists."""
    reader = getattr(_validation, "read_utf8", None)
    try:
        return reader(path)[0] if reader else path.read_text(encoding="utf-8-sig")
    except getattr(_validation, "TextReadError", UnicodeDecodeError) as err:
        raise InputFileError(path, getattr(err, "line", None),
                             f"{getattr(err, 'problem', err)}.") from None


def annotation_files(folder: Path | str) -> dict[str, Path]:
    """``stem -> path`` of every ``.csv_bi`` under ``folder``; a stem found twice is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, None, "no such annotation folder.")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.csv_bi")):
        if path.stem in found:
            raise InputFileError(path, None, f"a second annotation file for recording {path.stem!r} "
                                             f"(the first is {found[path.stem]}).")
        found[path.stem] = path
    return found


def read_truth(path: Path | str) -> RecordingTruth:
    """Duration (from the ``# duration`` header) and seizure intervals of one ``.csv_bi`` file."""
    from brr_lab.eeg.annotations import parse_annotation_file, parse_duration, seizure_intervals

    path = Path(path)
    text = parse_annotation_file(path).header.get("duration")  # checked there when present
    if text is None:
        raise InputFileError(path, None, "needs a header line '# duration = <seconds> secs' (event "
                                         "scoring takes the recording's length from it).")
    duration = parse_duration(text, path, None)
    seizures = seizure_intervals(parse_annotation_file(path, duration_s=duration))
    return RecordingTruth(duration_s=duration, seizures=tuple(seizures))


def load_scoring_data(annotations: Path | str, predictions: Path | str) -> tuple[ScoringData, list[str]]:
    """Checked data for the recordings named in ``predictions``, and the annotated ones it leaves out."""
    files = annotation_files(annotations)
    rows = read_predictions(predictions)
    truth: dict[str, RecordingTruth] = {}
    for i, name in enumerate(rows.recording):
        if name not in truth:
            if name not in files:
                raise InputFileError(rows.path, rows.lines[i],
                                     f"unknown recording {name!r}: no annotation file {name}.csv_bi under "
                                     f"{annotations}.")
            truth[name] = read_truth(files[name])
    data = scoring_data(truth, rows.recording, rows.start_s, rows.stop_s, rows.probability,
                        locate=rows.locate, where="brr-lab score")
    return data, sorted(set(files) - set(truth))
