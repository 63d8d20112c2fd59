"""Write simulated recordings as TUSZ-style files: EDF (through MNE and edfio) + ``.csv_bi`` + ``.csv``."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import mne

from brr_lab._validation import invalid
from brr_lab.eeg.annotations import binary_rows, format_annotation_file
from brr_lab.eeg.channels import STANDARD_CHANNELS, tusz_channel_name
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.synth import (
    DEFAULT_DURATION_S, DEFAULT_N_RECORDINGS, DEFAULT_SEIZURE_AMPLITUDE, simulate_recordings,
)

# TUSZ's "tcp" bipolar montage (without the ear channels A1/A2, which are not among the 19).
TCP_MONTAGE: tuple[tuple[str, str], ...] = (
    ("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("T3", "C3"), ("C3", "Cz"), ("Cz", "C4"), ("C4", "T4"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
)
# A fixed date keeps regenerated files byte-identical (EDF stores the start date).
MEAS_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
SUFFIXES = (".edf", ".csv_bi", ".csv")


def per_channel_rows(recording: Recording) -> list[tuple[str, float, float, str, float]]:
    """TUSZ per-channel ``.csv`` rows: the seizure type on montage channels touching involved electrodes."""
    duration_s = recording.duration_s
    events = recording.meta.get("seizure_events", [])
    rows = []
    for a, b in TCP_MONTAGE:
        name = f"{a.upper()}-{b.upper()}"
        spans = [e for e in events if a in e.involved or b in e.involved]
        cursor = 0.0
        for event in spans:
            if event.start_s > cursor:
                rows.append((name, cursor, event.start_s, "bckg", 1.0))
            rows.append((name, event.start_s, event.stop_s, event.seizure_type, 1.0))
            cursor = event.stop_s
        rows.append((name, cursor, duration_s, "bckg", 1.0))
    return rows


def write_recording(recording: Recording, out_dir: Path | str) -> list[Path]:
    """Write ``NAME.edf`` (TUSZ channel names, annotations inside), ``NAME.csv_bi`` and ``NAME.csv``."""
    out = Path(out_dir)
    duration_s = recording.duration_s
    term = binary_rows(recording.seizures, duration_s)
    raw = recording.raw.copy()
    raw.rename_channels({ch: tusz_channel_name(ch) for ch in STANDARD_CHANNELS})
    raw.set_meas_date(MEAS_DATE)
    raw.set_annotations(mne.Annotations(onset=[r[1] for r in term], duration=[r[2] - r[1] for r in term],
                                        description=[r[3] for r in term]))
    edf = out / f"{recording.name}.edf"
    mne.export.export_raw(edf, raw, fmt="edf", physical_range="channelwise", overwrite=True, verbose="error")
    csv_bi = out / f"{recording.name}.csv_bi"
    csv_bi.write_text(format_annotation_file(term, bname=recording.name, duration_s=duration_s))
    csv = out / f"{recording.name}.csv"
    csv.write_text(format_annotation_file(per_channel_rows(recording), bname=recording.name,
                                          duration_s=duration_s))
    return [edf, csv_bi, csv]


def make_sample(out_dir: Path | str, seed: int, *, n_recordings: int = DEFAULT_N_RECORDINGS,
                duration_s: float = DEFAULT_DURATION_S,
                seizure_amplitude: float = DEFAULT_SEIZURE_AMPLITUDE, overwrite: bool = False) -> list[Path]:
    """Simulate recordings (:func:`simulate_recordings`) and write them to ``out_dir``; return the paths.

    Refuses to write over existing files unless ``overwrite``, and refuses a folder
    holding other recordings (they would be loaded together with these).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise invalid("out_dir", "make_sample", "a folder (or a path to create one at)", str(out_dir))
    recordings = simulate_recordings(seed, n_recordings=n_recordings, duration_s=duration_s,
                                     seizure_amplitude=seizure_amplitude)
    targets = {out / f"{r.name}{suffix}" for r in recordings for suffix in SUFFIXES}
    if out.is_dir():
        existing = {p for p in out.iterdir() if p.suffix.lower() in SUFFIXES}
        foreign = sorted(str(p) for p in existing - targets)
        if foreign:
            raise invalid("out_dir", "make_sample", "a folder with no recordings other than the ones written",
                          f"{str(out)} holding {foreign[:5]}{' ...' if len(foreign) > 5 else ''}")
        clash = sorted(str(p) for p in existing & targets)
        if clash and not overwrite:
            raise invalid("overwrite", "make_sample", "True to replace existing files",
                          f"False with {len(clash)} existing file(s), e.g. {clash[0]}")
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for recording in recordings:
        paths += write_recording(recording, out)
    return paths
