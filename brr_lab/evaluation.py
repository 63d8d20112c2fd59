"""Score a trained model the protocol's way: once, on the validation recordings, with the evidence's size.

Used by ``brr-lab repro``, ``brr-lab train`` and the notebook panels, so a figure means
the same wherever it appears: metrics at the threshold (``p >= threshold``, 0.5 unless
moved), 95% intervals over validation recordings (:mod:`brr_lab.evidence`), how many
recordings, seizures and windows they rest on, the operating point at a threshold chosen
on the calibration recordings, and the diagnosis.
"""
from __future__ import annotations

import numpy as np
import torch

from brr_lab.cohort import part_size
from brr_lab.diagnosis import diagnose_metrics
from brr_lab.evidence import bootstrap_intervals
from brr_lab.metrics import binary_metrics, f1_threshold
from brr_lab.scenarios import ESCAPE_AUROC

__all__ = ["THRESHOLD", "ESCAPE_AUROC", "MONITOR_EVERY", "MOVED_RULE", "MIN_SEIZURES", "MIN_HOURS",
           "monitor_windows", "evaluate_run", "evidence_note", "evidence_size"]

THRESHOLD = 0.5
# Per epoch the live curves read every 8th calibration window (every recording stays in,
# about 300 windows of the default cohort): an eighth of the cost, and the curves need no
# more. Never fewer than MONITOR_MIN windows (small folders keep all of them). Thresholds
# and the final scores use all windows.
MONITOR_EVERY = 8
MONITOR_MIN = 250
MOVED_RULE = "best F1 on the calibration windows"
# Below this many validation seizures, or hours, a result is flagged as resting on too little.
MIN_SEIZURES = 40
MIN_HOURS = 2.0


def monitor_windows(calibration):
    """The per-epoch monitor set: every :data:`MONITOR_EVERY`-th calibration window, or a
    smaller step that keeps at least :data:`MONITOR_MIN` of them (all, for a small part)."""
    step = max(1, min(MONITOR_EVERY, len(calibration) // MONITOR_MIN))
    return calibration.subset(np.arange(0, len(calibration), step))


def evidence_size(val) -> dict:
    """``n_val_recordings``, ``n_val_seizures``, ``n_val_windows``, ``val_hours`` of the
    validation windows: the keys every result row carries."""
    size = part_size(val)
    return {"n_val_recordings": size["n_recordings"], "n_val_seizures": size["n_seizures"],
            "n_val_windows": size["n_windows"], "val_hours": size["hours"]}


def evaluate_run(trainer, history: list[dict], cal, val, *, shift: float = 0.0,
                 move_threshold: bool = False) -> dict:
    """The trained model on the validation windows ``val``: metrics at the threshold (0.5,
    or with ``move_threshold`` the best-F1 threshold on the calibration windows ``cal``),
    95% intervals over recordings, the evidence's size and the diagnosis. ``shift`` is
    added to the logits (logit adjustment)."""
    z_val = trainer.predict_logits(val.X) + shift
    z_cal = trainer.predict_logits(cal.X) + shift
    finite = bool(torch.isfinite(z_cal).all())
    moved = f1_threshold(cal.y, z_cal) if finite and 0 < cal.y.sum() < len(cal.y) else None
    threshold = moved if move_threshold and moved is not None else THRESHOLD
    m = binary_metrics(val.y, z_val, threshold=threshold)
    train_auroc = history[-1]["train_auroc"]
    diagnosis = diagnose_metrics({**m, "train_auroc": train_auroc}, setup=trainer.setup)
    row = {
        "auroc": m["auroc"], "auprc": m["auprc"], "pred_pos_rate": m["pred_pos_rate"],
        "recall": m["recall"], "precision": m["precision"], "diagnosis": diagnosis.state,
        "escape_epoch": next((r["epoch"] for r in history if r["val_auroc"] > ESCAPE_AUROC), None),
        "threshold": threshold, "prevalence": m["prevalence"], "train_auroc": train_auroc,
        "logit_std": m["logit_std"],
        **evidence_size(val),
        **bootstrap_intervals(val.y, z_val, val.recording, threshold=threshold),
    }
    if moved is not None:
        at = binary_metrics(val.y, z_val, threshold=moved)
        row["threshold_moved"] = {"threshold": moved, "rule": MOVED_RULE,
                                  **{k: at[k] for k in ("pred_pos_rate", "recall", "precision")}}
    else:
        row["threshold_moved"] = None
    row["monitor_auroc"] = [r["val_auroc"] for r in history]  # per epoch, the monitor windows
    return row




def evidence_note(row: dict) -> str:
    """One sentence on what a row rests on; it says so when that is too little to judge."""
    n = row["n_val_seizures"]
    text = (f"rests on {n} seizure(s) in {row['n_val_recordings']} validation recording(s), "
            f"{row['n_val_windows']} windows ({row['val_hours']:.2f} h)")
    short = [f"fewer than {MIN_SEIZURES} seizures"] if n < MIN_SEIZURES else []
    if row["val_hours"] < MIN_HOURS:
        short.append(f"under {MIN_HOURS:g} hours")
    if short:
        text += (f": {' and '.join(short)}, too little to judge a setting by; the generated "
                 "cohort (no --data) holds 42 seizures in 2.3 hours")
    return text
