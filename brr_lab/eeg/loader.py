"""Read a folder of EDF recordings with MNE, with their TUSZ annotation files.

Point it at ``data_sample/`` or at a TUSZ (or similarly laid out) folder: every
``*.edf`` under the folder is read with ``mne.io.read_raw_edf``; its annotations
come from the ``.csv_bi`` next to it, else the per-channel ``.csv``, else the
annotations stored inside the EDF. A problem with any file is an error naming it.
The Raw of each :class:`Recording` carries the annotation file's rows as MNE
annotations (any annotations inside the EDF are replaced there; their count is kept
in ``Recording.meta["edf_annotations"]``; where the labels came from is in
``Recording.meta["label_source"]``: ``csv_bi``, ``csv`` or ``edf``).

An EDF is checked against its own header before MNE reads it: a file shorter (or
longer) than the data records its header announces is an error naming the file, never
a shorter recording (MNE would infer the length from the file size, with a warning
that ``verbose="error"`` hides).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import mne

from brr_lab._validation import BrrLabError, invalid
from brr_lab.eeg.annotations import (
    DEFAULT_BACKGROUND_LABELS, DEFAULT_SEIZURE_LABELS, AnnotationError, AnnotationFile, AnnotationRow,
    parse_annotation_file, seizure_intervals,
)
from brr_lab.eeg.channels import STANDARD_CHANNELS, match_channels
from brr_lab.eeg.guards import check_labels
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.windowing import WindowSet, make_windows

_WHERE = "load_recordings"
ANNOTATION_SUFFIXES = (".csv_bi", ".csv")


class EdfReadError(BrrLabError):
    """An EDF file that MNE cannot read, or that is truncated."""


class MissingChannelsError(BrrLabError):
    """A recording lacks channels the windows need."""


def find_edf_files(folder: Path | str) -> list[Path]:
    """Every ``.edf`` file under ``folder`` (any depth, any case of the suffix), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise invalid("folder", _WHERE, "an existing folder", str(folder))
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".edf")


def check_edf_size(path: Path | str) -> None:
    """Raise :class:`EdfReadError` unless the file holds exactly the data records its header states.

    A truncated EDF (an interrupted copy) is otherwise read as a shorter recording.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(256)
            ns_text = head[252:256]
            try:
                ns = int(ns_text.decode("ascii").strip())
            except (UnicodeDecodeError, ValueError):
                ns = -1
            # Signal fields are stored field by field: labels (16 bytes each), transducer (80),
            # dimension, physical min/max, digital min/max (8 each), prefilter (80), samples.
            f.seek(256 + max(ns, 0) * (16 + 80 + 8 * 5 + 80))
            samples = f.read(max(ns, 0) * 8)
    except OSError as err:
        raise EdfReadError(f"{path}: cannot read this EDF ({err.strerror or err}).") from None
    if len(head) < 256:
        raise EdfReadError(f"{path}: not a complete EDF: {size} bytes, shorter than the 256-byte EDF "
                           f"header (a truncated file?).")
    bytes_per_sample = 3 if head[:1] == b"\xff" else 2  # BDF (\xffBIOSEMI) stores 24-bit samples

    def number(start: int, length: int, name: str, kind=int):
        text = head[start:start + length].decode("ascii", "replace").strip()
        try:
            return kind(text)
        except ValueError:
            raise EdfReadError(f"{path}: EDF header field '{name}' (bytes {start}-{start + length - 1}) "
                               f"must be a number. Got {text!r}.") from None

    header_bytes = number(184, 8, "number of bytes in header record")
    n_records = number(236, 8, "number of data records")
    record_s = number(244, 8, "duration of a data record", float)
    ns = number(252, 4, "number of signals")
    if ns < 1 or header_bytes != 256 * (ns + 1):
        raise EdfReadError(f"{path}: EDF header says {ns} signals and a {header_bytes}-byte header; "
                           f"{ns} signals need {256 * (ns + 1)} bytes.")
    if len(samples) < ns * 8:
        raise EdfReadError(f"{path}: truncated EDF: {size} bytes, shorter than its own "
                           f"{header_bytes}-byte header.")
    per_record = [samples[i * 8:(i + 1) * 8].decode("ascii", "replace").strip() for i in range(ns)]
    try:
        record_bytes = bytes_per_sample * sum(int(n) for n in per_record)
    except ValueError:
        raise EdfReadError(f"{path}: EDF header field 'number of samples in each data record' must "
                           f"hold integers. Got {per_record}.") from None
    if n_records == -1:
        raise EdfReadError(f"{path}: the EDF header's number of data records is -1: the recording was "
                           f"never closed, and its length would be guessed from the file size.")
    if n_records < 0 or record_bytes <= 0:
        raise EdfReadError(f"{path}: EDF header states {n_records} data records of {record_bytes} "
                           f"bytes; both must be positive.")
    _check_length(path, size, header_bytes, n_records, record_bytes, record_s)


def _check_length(path: Path, size: int, header_bytes: int, n_records: int, record_bytes: int,
                  record_s: float) -> None:
    """The file holds exactly the header plus the data records the header states."""
    expected = header_bytes + n_records * record_bytes
    if size != expected:
        complete = max(size - header_bytes, 0) // record_bytes
        if size < expected:
            raise EdfReadError(
                f"{path}: truncated EDF: its header states {n_records} data records "
                f"({n_records * record_s:g} s, {expected} bytes) but the file has {size} bytes "
                f"({complete} complete records, {complete * record_s:g} s). The file was cut (an "
                f"interrupted copy or download?); it is not read as a shorter recording.")
        raise EdfReadError(
            f"{path}: EDF file has {size - expected} bytes after the {n_records} data records its "
            f"header states ({expected} bytes expected): the header or the file is wrong.")



def read_edf(path: Path | str, *,
             channels: Sequence[str] = STANDARD_CHANNELS) -> tuple[mne.io.BaseRaw, list[str]]:
    """Read one EDF with MNE and keep ``channels`` under their 10-20 names, in that order.

    Returns ``(raw, extra)`` where ``extra`` lists the file's other channels.
    """
    path = Path(path)
    try:
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    except Exception as err:  # MNE raises many types for a bad file; all mean "cannot read"
        raise EdfReadError(f"{path}: MNE cannot read this EDF ({type(err).__name__}: {err}).") from err
    check_edf_size(path)  # MNE reads a truncated file as a shorter one (its warning is hidden)
    try:
        mapping, extra = match_channels(raw.ch_names)
    except ValueError as err:
        raise MissingChannelsError(f"{path}: {err}") from None
    found = set(mapping.values())
    missing = [ch for ch in channels if ch not in found]
    if missing:
        raise MissingChannelsError(
            f"{path}: missing required channel(s) {missing}. The file has {raw.ch_names}; "
            f"names are matched after normalisation ('EEG FP1-REF' -> 'Fp1', T7/T8/P7/P8 -> T3/T4/T5/T6)."
        )
    wanted = {standard: original for original, standard in mapping.items() if standard in set(channels)}
    raw.pick([wanted[ch] for ch in channels])
    raw.rename_channels({wanted[ch]: ch for ch in channels})
    return raw, extra


def _annotations_from_edf(path: Path, raw: mne.io.BaseRaw) -> AnnotationFile:
    """The EDF's own annotations as rows (line = annotation number, 1-based)."""
    rows = []
    duration_s = raw.n_times / raw.info["sfreq"]
    for number, ann in enumerate(raw.annotations, start=1):
        start, stop = float(ann["onset"]), float(ann["onset"] + ann["duration"])
        if ann["duration"] <= 0:
            raise AnnotationError(path, number, f"EDF annotation {ann['description']!r} at {start:g} s has "
                                                f"no duration; seizure annotations need a stop time.")
        if start < 0 or stop > duration_s + 1.0 / raw.info["sfreq"]:
            raise AnnotationError(path, number, f"EDF annotation {start:g}-{stop:g} s lies outside the "
                                                f"recording [0, {duration_s:g}] s.")
        rows.append(AnnotationRow(channel="TERM", start_s=start, stop_s=stop,
                                  label=str(ann["description"]).strip().lower(), confidence=1.0, line=number))
    return AnnotationFile(path=path, header={"source": "edf annotations"}, rows=tuple(rows))


def load_recording(path: Path | str, *, seizure_labels: Sequence[str] = DEFAULT_SEIZURE_LABELS,
                   background_labels: Sequence[str] = DEFAULT_BACKGROUND_LABELS,
                   channels: Sequence[str] = STANDARD_CHANNELS) -> Recording:
    """Read one EDF and its annotations into a :class:`Recording`."""
    path = Path(path)
    raw, extra = read_edf(path, channels=channels)
    duration_s = raw.n_times / raw.info["sfreq"]
    tolerance_s = max(1e-3, 1.0 / raw.info["sfreq"])
    edf_annotations = len(raw.annotations)
    for suffix in ANNOTATION_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.is_file():
            annotations = parse_annotation_file(candidate, duration_s=duration_s, tolerance_s=tolerance_s,
                                                recording=path)
            source = suffix.lstrip(".")
            break
    else:
        source = "edf"
        if edf_annotations == 0:
            raise AnnotationError(path, None, "no annotation file next to it "
                                              f"({', '.join(path.stem + s for s in ANNOTATION_SUFFIXES)}) "
                                              "and no annotations inside the EDF: its labels are unknown.")
        annotations = _annotations_from_edf(path, raw)
    seizures = seizure_intervals(annotations, seizure_labels=tuple(seizure_labels),
                                 background_labels=tuple(background_labels))
    # The Raw carries what the labels came from, so MNE's plots show the same thing.
    raw.set_annotations(mne.Annotations(
        onset=[r.start_s for r in annotations.rows],
        duration=[r.stop_s - r.start_s for r in annotations.rows],
        description=[r.label for r in annotations.rows],
    ))
    return Recording(name=path.stem, raw=raw, seizures=seizures, labels_seen=annotations.labels_seen,
                     path=path, extra_channels=extra,
                     meta={"annotation_file": str(annotations.path), "edf_annotations": edf_annotations,
                           "label_source": source, "annotation_notes": list(annotations.notes)})


def load_recordings(folder: Path | str, *, seizure_labels: Sequence[str] = DEFAULT_SEIZURE_LABELS,
                    background_labels: Sequence[str] = DEFAULT_BACKGROUND_LABELS,
                    channels: Sequence[str] = STANDARD_CHANNELS) -> list[Recording]:
    """Read every EDF under ``folder`` (sorted by path) with its annotations.

    ``seizure_labels`` / ``background_labels``: the label vocabulary; a label in
    neither is an error naming the file and line. ``channels``: the 10-20 channels
    each recording must have (others are listed in ``Recording.extra_channels``).
    """
    paths = find_edf_files(folder)
    if not paths:
        raise invalid("folder", _WHERE, "a folder holding at least one .edf file", str(folder))
    recordings = [load_recording(p, seizure_labels=seizure_labels, background_labels=background_labels,
                                 channels=channels) for p in paths]
    by_name: dict[str, Path] = {}
    for rec in recordings:
        if rec.name in by_name:
            raise invalid("folder", _WHERE, "EDF files with distinct names",
                          f"{by_name[rec.name]} and {rec.path}")
        by_name[rec.name] = rec.path
    return recordings


def load_windows(folder: Path | str, *, seizure_labels: Sequence[str] = DEFAULT_SEIZURE_LABELS,
                 background_labels: Sequence[str] = DEFAULT_BACKGROUND_LABELS,
                 channels: Sequence[str] = STANDARD_CHANNELS, **window_kwargs: Any) -> WindowSet:
    """:func:`load_recordings` + :func:`~brr_lab.eeg.windowing.make_windows` + :func:`check_labels`.

    ``window_kwargs`` go to ``make_windows`` (window_s, stride_s, label_rule,
    min_fraction, sfreq, l_freq, h_freq). Raises
    :class:`~brr_lab.eeg.guards.SingleClassLabelsError` if the windows hold one class.
    """
    check_band(window_kwargs.get("l_freq"), window_kwargs.get("h_freq"), "l_freq", "h_freq",
               "load_windows")
    recordings = load_recordings(folder, seizure_labels=seizure_labels,
                                 background_labels=background_labels, channels=channels)
    windows = make_windows(recordings, **window_kwargs)
    check_labels(windows.y, context=str(folder), labels_seen=windows.report().labels_seen)
    return windows


def check_band(l_freq, h_freq, l_name: str = "l_freq", h_name: str = "h_freq",
               where: str = "make_windows") -> None:
    """Refuse ``l_freq >= h_freq``: MNE reads swapped edges as a band-stop filter, silently."""
    if l_freq is None or h_freq is None:
        return
    try:
        swapped = float(l_freq) >= float(h_freq)
    except (TypeError, ValueError):
        return  # make_windows reports a value that is not a number
    if swapped:
        raise invalid(l_name, where, f"below {h_name} ({h_freq!r} Hz) for a band-pass; with "
                      f"{l_name} >= {h_name} MNE builds a band-stop filter instead", l_freq)
