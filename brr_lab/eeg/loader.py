"""Read a folder of EDF recordings with MNE, with their TUSZ annotation files.

Point it at ``data_sample/`` or at a TUSZ (or similarly laid out) folder: every
``*.edf`` under the folder is read with ``mne.io.read_raw_edf``; its annotations
come from the ``.csv_bi`` next to it, else the per-channel ``.csv``, else the
annotations stored inside the EDF. A problem with any file is an error naming it.
The Raw of each :class:`Recording` carries the annotation file's rows as MNE
annotations (any annotations inside the EDF are replaced there; their count is kept
in ``Recording.meta["edf_annotations"]``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import mne

from brr_lab._validation import invalid
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


class EdfReadError(ValueError):
    """MNE could not read an EDF file."""


class MissingChannelsError(ValueError):
    """A recording lacks channels the windows need."""


def find_edf_files(folder: Path | str) -> list[Path]:
    """Every ``.edf`` file under ``folder`` (any depth, any case of the suffix), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise invalid("folder", _WHERE, "an existing folder", str(folder))
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".edf")


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
            annotations = parse_annotation_file(candidate, duration_s=duration_s, tolerance_s=tolerance_s)
            break
    else:
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
                     meta={"annotation_file": str(annotations.path), "edf_annotations": edf_annotations})


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
    recordings = load_recordings(folder, seizure_labels=seizure_labels,
                                 background_labels=background_labels, channels=channels)
    windows = make_windows(recordings, **window_kwargs)
    check_labels(windows.y, context=str(folder), labels_seen=windows.report().labels_seen)
    return windows
