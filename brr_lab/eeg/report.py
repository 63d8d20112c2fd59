"""The dataset report: class counts, prevalence, seizure time per recording, labels seen."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tabulate import tabulate


@dataclass(frozen=True)
class RecordingSummary:
    n_windows: int
    n_pos: int
    seizure_seconds: float
    n_seizures: int
    n_seizures_without_positive_window: int  # seizures the window rule never labels positive
    duration_s: float
    labels_seen: dict[str, int]
    extra_channels: list[str]  # file channels outside the 19, left out of the windows


@dataclass(frozen=True)
class DatasetReport:
    """What a :class:`~brr_lab.eeg.windowing.WindowSet` holds, as numbers to read before training."""

    n_windows: int
    n_pos: int
    n_neg: int
    prevalence: float | None  # n_pos / n_windows; None when there are no windows
    recordings: dict[str, RecordingSummary]
    labels_seen: dict[str, int]  # annotation rows per label, over all recordings
    label_rule: str
    min_fraction: float | None  # only for label_rule="fraction"
    window_s: float
    stride_s: float
    sfreq: float
    n_channels: int
    # Per recording, where its labels came from: {"source": "csv_bi" | "csv" | "edf",
    # "file": path, "notes": [...]} (set by the loader's callers; empty for simulated data).
    label_sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def neg_per_pos(self) -> float | None:
        """Background windows per seizure window (12 in TUSZ); None without positives."""
        return self.n_neg / self.n_pos if self.n_pos else None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``recordings`` maps each recording name to its summary."""
        out = asdict(self)
        out["neg_per_pos"] = self.neg_per_pos
        return out

    def to_text(self) -> str:
        prevalence = "n/a" if self.prevalence is None else f"{self.prevalence:.4f}"
        ratio = "n/a" if self.neg_per_pos is None else f"{self.neg_per_pos:.1f}"
        rule = self.label_rule
        if self.min_fraction is not None:
            rule += f" (>= {self.min_fraction:g})"
        lines = [
            f"windows: {self.n_windows} ({self.window_s:g} s, stride {self.stride_s:g} s, "
            f"{self.n_channels} channels at {self.sfreq:g} Hz), label rule: {rule}",
            f"positive: {self.n_pos}   negative: {self.n_neg}   prevalence: {prevalence}   "
            f"negatives per positive: {ratio}",
            "labels seen: " + (", ".join(f"{k}={v}" for k, v in self.labels_seen.items()) or "none"),
            "",
            tabulate([[name, f"{rec.duration_s:.1f}", f"{rec.seizure_seconds:.1f}", rec.n_seizures,
                       rec.n_windows, rec.n_pos] for name, rec in self.recordings.items()],
                     headers=["recording", "duration_s", "seizure_s", "seizures", "windows", "pos"],
                     tablefmt="plain", disable_numparse=True),
        ]
        if self.label_sources:
            names = {"csv_bi": ".csv_bi", "csv": ".csv (per channel)", "edf": "the EDF's own annotations"}
            by_source: dict[str, list[str]] = {}
            for name, info in self.label_sources.items():
                by_source.setdefault(names.get(info.get("source"), str(info.get("source"))), []).append(name)
            lines.append("")
            if len(by_source) == 1:
                lines.append(f"labels from: {next(iter(by_source))} (all {len(self.label_sources)} recordings)")
            else:
                lines.append("labels from: " + "; ".join(f"{src}: {', '.join(n)}" for src, n in by_source.items()))
            for name, info in self.label_sources.items():
                lines += [f"note: {name}: {note}" for note in info.get("notes", [])]
        extras = {n: r.extra_channels for n, r in self.recordings.items() if r.extra_channels}
        if extras:
            lines.append("")
            lines.append("channels left out (not among the 19): "
                         + "; ".join(f"{n}: {', '.join(ch)}" for n, ch in extras.items()))
        missed = {n: r.n_seizures_without_positive_window for n, r in self.recordings.items()
                  if r.n_seizures_without_positive_window}
        if missed:
            lines.append("")
            lines.append("warning: seizures with no positive window under this rule: "
                         + ", ".join(f"{n} ({k})" for n, k in missed.items()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()
