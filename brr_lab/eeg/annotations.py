"""TUSZ annotation files: ``.csv_bi`` (whole-recording ``TERM`` rows) and per-channel ``.csv``.

Both share one layout: ``#`` header lines (version, bname, duration, montage_file,
a bare ``#``), the column line ``channel,start_time,stop_time,label,confidence``,
then one row per segment. ``.csv_bi`` rows use channel ``TERM`` and labels
``seiz``/``bckg``; per-channel ``.csv`` rows use montage channels (``FP1-F7``) and
seizure types (``fnsz``, ``gnsz``, ...).

The parser is strict on purpose: the original project's collapse most likely came
from a parser that read channel names as numbers and mapped only ``seiz``, so
every label came out background. Every problem here is an :class:`AnnotationError`
naming the file and line; an unknown label is an error, never background.

Encoding: UTF-8 under :data:`brr_lab._validation.BOM_RULE` (the rule the config reader
follows too): a UTF-8 byte-order mark at the very start is skipped and noted in
``AnnotationFile.notes``; a UTF-16/32 BOM, or U+FEFF later in the file, is an error
that says "BOM".
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from brr_lab._validation import BOM_RULE, BrrLabError, TextReadError, read_utf8

COLUMNS = ("channel", "start_time", "stop_time", "label", "confidence")

# TUSZ seizure types (v1.5+/v2) plus the binary "seiz" of .csv_bi files.
DEFAULT_SEIZURE_LABELS: tuple[str, ...] = (
    "seiz", "fnsz", "gnsz", "cpsz", "absz", "spsz", "tcsz", "tnsz", "mysz",
)
DEFAULT_BACKGROUND_LABELS: tuple[str, ...] = ("bckg",)


class AnnotationError(BrrLabError):
    """An annotation file that cannot be trusted; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, problem: str):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class AnnotationRow:
    channel: str
    start_s: float
    stop_s: float
    label: str
    confidence: float
    line: int  # 1-based line number in the file, for error messages


@dataclass(frozen=True)
class AnnotationFile:
    path: Path
    header: dict[str, str]
    rows: tuple[AnnotationRow, ...]
    notes: tuple[str, ...] = ()  # what the reader accepted and says so (a skipped BOM)

    @property
    def labels_seen(self) -> dict[str, int]:
        """How many rows carry each label (all labels, known or not)."""
        return dict(sorted(Counter(row.label for row in self.rows).items()))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_time(text: str, column: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(path, line,
                              f"column '{column}' must be a number of seconds. Got {text!r}.") from None
    if not math.isfinite(value):
        raise AnnotationError(path, line, f"column '{column}' must be finite. Got {text!r}.")
    return value


_DURATION = re.compile(r"^([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:s|secs?|seconds?)?$")


def parse_annotation_file(path: Path | str, *, duration_s: float | None = None,
                          tolerance_s: float = 1e-3,
                          recording: Path | str | None = None) -> AnnotationFile:
    """Read a TUSZ ``.csv_bi`` or ``.csv`` file, checking every row.

    With ``duration_s`` (the recording's length) every row must lie within
    ``[0, duration_s + tolerance_s]``, and a ``# duration = ... secs`` header line must
    state that length (within ``tolerance_s``); the tolerance only absorbs the 4-decimal
    rounding of TUSZ times, nothing is clamped. ``recording`` (the EDF) is named in
    those messages, since either file can be the wrong one.
    """
    path = Path(path)
    try:
        text, had_bom = read_utf8(path)
    except TextReadError as err:
        raise AnnotationError(path, err.line, err.problem + ".") from None
    notes = (f"the file starts with a UTF-8 byte-order mark (BOM), skipped. Rule: {BOM_RULE}",) \
        if had_bom else ()
    lines = [line.rstrip("\r") for line in text.split("\n")]
    rec = f"the recording {recording}" if recording is not None else "the recording"
    edf = f" ({recording})" if recording is not None else ""
    header: dict[str, str] = {}
    rows: list[AnnotationRow] = []
    columns_line: int | None = None
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue  # blank lines carry nothing (files end with one)
        if text.startswith("#"):
            if columns_line is not None:
                raise AnnotationError(path, number, f"a '#' header line after the column line. Got {raw!r}.")
            key, sep, value = text[1:].partition("=")
            key, value = key.strip(), value.strip()
            if sep:
                if key in header:  # two values for one header key: neither can be trusted
                    raise AnnotationError(path, number, f"a second '# {key} = ...' header line "
                                          f"({value!r}; the first said {header[key]!r}).")
                header[key] = value
                if key == "duration":
                    stated = parse_duration(value, path, number)
                    if duration_s is not None:
                        _check_duration(stated, value, duration_s, tolerance_s, path, number, rec)
            continue
        fields = [part.strip() for part in text.split(",")]
        if columns_line is None:
            if tuple(f.lower() for f in fields) != COLUMNS:
                raise AnnotationError(
                    path, number,
                    f"expected the column line {','.join(COLUMNS)!r} before any row. Got {raw!r}.",
                )
            columns_line = number
            continue
        rows.append(_parse_row(fields, raw, path, number, duration_s, tolerance_s, edf))
    if columns_line is None:
        raise AnnotationError(path, None,
                              f"no column line {','.join(COLUMNS)!r}: not a TUSZ annotation file.")
    if not rows:  # TUSZ marks background too: no row is a cut file, not a seizure-free recording
        raise AnnotationError(path, columns_line,
                              "no annotation row after the column line: a seizure-free TUSZ "
                              "recording still has its 'bckg' rows; the file looks truncated.")
    return AnnotationFile(path=path, header=header, rows=tuple(rows), notes=notes)


def parse_duration(text: str, path: Path | str, line: int | None) -> float:
    """Seconds stated by a ``# duration = ...`` header value (``'1750.0000 secs'``): the one
    reading of it, for the loader and for event scoring alike."""
    match = _DURATION.match(text)
    stated = float(match.group(1)) if match else math.nan
    if not math.isfinite(stated) or stated <= 0:
        raise AnnotationError(Path(path), line, f"header 'duration' must be a number of seconds > 0 "
                                                f"such as '1750.0000 secs'. Got {text!r}.")
    return stated


def _check_duration(stated: float, text: str, duration_s: float, tolerance_s: float, path: Path,
                    line: int, rec: str) -> None:
    if abs(stated - duration_s) > tolerance_s:
        raise AnnotationError(
            path, line, f"header '# duration = {text}' does not match {rec}, which lasts "
                        f"{duration_s:g} s: one of the two files is wrong (a truncated or cut EDF, "
                        f"or the annotations of another recording).")


def _parse_row(fields: list[str], raw: str, path: Path, line: int,
               duration_s: float | None, tolerance_s: float, edf: str = "") -> AnnotationRow:
    if len(fields) != len(COLUMNS):
        raise AnnotationError(path, line, f"malformed row: expected {len(COLUMNS)} comma-separated fields "
                                          f"({','.join(COLUMNS)}), found {len(fields)}. Got {raw!r}.")
    channel, start_text, stop_text, label, conf_text = fields
    if not channel or _is_number(channel):
        # A number here means the columns are shifted: the bug that hid every seizure.
        raise AnnotationError(path, line, f"malformed row: column 'channel' must be a channel name "
                                          f"(TERM or a montage channel). Got {raw!r}.")
    if not label or _is_number(label):
        raise AnnotationError(path, line, f"malformed row: column 'label' must be a label such as "
                                          f"'seiz' or 'bckg'. Got {raw!r}.")
    start = _parse_time(start_text, "start_time", path, line)
    stop = _parse_time(stop_text, "stop_time", path, line)
    try:
        confidence = float(conf_text)
    except ValueError:
        confidence = math.nan
    if not 0.0 <= confidence <= 1.0:
        raise AnnotationError(path, line, f"malformed row: column 'confidence' must be a number in [0, 1]. "
                                          f"Got {raw!r}.")
    if stop <= start:
        raise AnnotationError(path, line, f"stop_time {stop:g} s is not after start_time {start:g} s. "
                                          f"Got {raw!r}.")
    if start < 0 or (duration_s is not None and stop > duration_s + tolerance_s):
        limit = "" if duration_s is None else f", {duration_s:g}"
        raise AnnotationError(path, line, f"segment {start:g}-{stop:g} s lies outside the recording "
                                          f"[0{limit}] s{edf}. Got {raw!r}.")
    return AnnotationRow(channel=channel, start_s=start, stop_s=stop, label=label.lower(),
                         confidence=confidence, line=line)


def seizure_intervals(annotations: AnnotationFile, *,
                      seizure_labels: tuple[str, ...] | list[str] = DEFAULT_SEIZURE_LABELS,
                      background_labels: tuple[str, ...] | list[str] = DEFAULT_BACKGROUND_LABELS,
                      ) -> list[tuple[float, float]]:
    """Merged ``(start_s, stop_s)`` seizure intervals, over all channels.

    A label in neither vocabulary is an error naming the file and line: treating
    it as background is how a whole data set ends up with no positives.
    """
    seizure = {label.lower() for label in seizure_labels}
    background = {label.lower() for label in background_labels}
    both = seizure & background
    if both:
        raise ValueError(f"The 'seizure_labels' and 'background_labels' parameters of seizure_intervals "
                         f"must not share labels. Got {sorted(both)} in both.")
    spans: list[tuple[float, float]] = []
    for row in annotations.rows:
        if row.label in seizure:
            spans.append((row.start_s, row.stop_s))
        elif row.label not in background:
            raise AnnotationError(
                annotations.path, row.line,
                f"unknown label {row.label!r}: not in seizure_labels {sorted(seizure)} nor in "
                f"background_labels {sorted(background)}. Add it to one of them (never assume background).",
            )
    return merge_intervals(spans)


def merge_intervals(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of intervals, sorted; touching or overlapping spans become one."""
    merged: list[list[float]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(a, b) for a, b in merged]


def format_annotation_file(rows: list[tuple[str, float, float, str, float]], *, bname: str,
                           duration_s: float,
                           montage_file: str = "$NEDC_NFC/lib/nedc_eas_default_montage.txt") -> str:
    """Text of a TUSZ annotation file (``csv_v1.0.0``).

    ``rows`` are ``(channel, start_s, stop_s, label, confidence)`` tuples.
    """
    lines = [
        "# version = csv_v1.0.0",
        f"# bname = {bname}",
        f"# duration = {duration_s:.4f} secs",
        f"# montage_file = {montage_file}",
        "#",
        ",".join(COLUMNS),
    ]
    lines += [f"{ch},{start:.4f},{stop:.4f},{label},{conf:.4f}" for ch, start, stop, label, conf in rows]
    return "\n".join(lines) + "\n"


def binary_rows(seizures: list[tuple[float, float]], duration_s: float, *, channel: str = "TERM",
                seizure_label: str = "seiz", background_label: str = "bckg",
                ) -> list[tuple[str, float, float, str, float]]:
    """TUSZ ``.csv_bi`` rows covering ``[0, duration_s]``: background between the (merged) seizures."""
    rows = []
    cursor = 0.0
    for start, stop in merge_intervals(list(seizures)):
        if start > cursor:
            rows.append((channel, cursor, start, background_label, 1.0))
        rows.append((channel, start, stop, seizure_label, 1.0))
        cursor = stop
    if cursor < duration_s:
        rows.append((channel, cursor, duration_s, background_label, 1.0))
    return rows
