"""Score a trained model the protocol's way: once, on held-out recordings, with the evidence's size.

Used by ``brr-lab repro``, ``brr-lab sweep``, ``brr-lab train`` and the notebook panels, so a
figure means the same wherever it appears. A row holds:

* window figures on the validation windows at the threshold (``p >= threshold``, 0.5
  unless moved), with 95% intervals over validation recordings (:mod:`brr_lab.experiments.evidence`)
  and how many recordings, seizures and windows they rest on;
* SzCORE event figures (:mod:`brr_lab.scoring`) on the validation event recordings
  (:meth:`brr_lab.eeg.cohort.Cohort.event_part`: the cohort's long recordings, or without
  them its validation recordings) at the same threshold: ``event_sensitivity`` (seizures
  found, Clopper-Pearson interval) and ``fa_per_24h`` (false alarms per 24 h, exact
  Poisson interval), and the hours and seizures they rest on;
* ``threshold_moved``: the threshold chosen on the CALIBRATION event recordings for at
  most :data:`TARGET_FA_PER_24H` false alarms per 24 h (:data:`MOVED_RULE`), and the
  same figures (event and window) at it on the validation data. A threshold is never
  scored on the data it was chosen on (:func:`brr_lab.scoring.validate_threshold`
  refuses that);
* the diagnosis.

The final model only: per epoch the live curves read a subset of the calibration windows
(:func:`monitor_windows`), nothing else.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from brr_lab.eeg.cohort import event_size, part_size
from brr_lab.training.diagnosis import diagnose_metrics
from brr_lab.experiments.evidence import bootstrap_intervals
from brr_lab.training.metrics import binary_metrics, probabilities
from brr_lab.experiments.scenarios import ESCAPE_AUROC

__all__ = ["THRESHOLD", "ESCAPE_AUROC", "MONITOR_EVERY", "MOVED_RULE", "TARGET_FA_PER_24H",
           "EVENT_METHOD", "EVENT_KEYS", "MIN_SEIZURES", "MIN_HOURS", "MIN_EVENT_HOURS",
           "EventPredictions", "EventEvaluation", "event_predictions", "evaluate_events",
           "events_from_logits", "threshold_moved_row",
           "monitor_windows", "evaluate_run", "evidence_note", "event_note", "evidence_size"]

THRESHOLD = 0.5
# Per epoch the live curves read every 8th calibration window (every recording stays in,
# about 300 windows of the default cohort): an eighth of the cost, and the curves need no
# more. Never fewer than MONITOR_MIN windows (small folders keep all of them). Thresholds
# and the final scores use all windows.
MONITOR_EVERY = 8
MONITOR_MIN = 250
# The threshold move: one target, fixed before any result, for every scenario's model.
TARGET_FA_PER_24H = 10.0
MOVED_RULE = (f"the threshold with the highest SzCORE event sensitivity at no more than "
              f"{TARGET_FA_PER_24H:g} false alarms per 24 h on calibration data: the cohort's "
              "calibration event recordings, or without them its calibration recordings "
              "(brr_lab.scoring.choose_threshold)")
EVENT_METHOD = ("SzCORE event scoring (timescoring; a seizure is found on any overlap, 30 s "
                "tolerance before and 60 s after, events < 90 s apart merged, > 5 min split), "
                "counts pooled over recordings (micro-average); 95% intervals Clopper-Pearson "
                "(sensitivity) and exact Poisson (false alarms per 24 h)")
# The keys an event operating point adds to a row (and to its threshold_moved object).
EVENT_KEYS = ("event_sensitivity", "event_sensitivity_ci", "fa_per_24h", "fa_per_24h_ci",
              "n_event_detected", "n_false_alarms", "n_event_seizures", "n_event_recordings",
              "event_hours")
# Below this many validation seizures, or hours, a result is flagged as resting on too little.
MIN_SEIZURES = 40
MIN_HOURS = 2.0
# Below this many hours of event recordings a false-alarm rate is flagged: one false alarm
# in 2.4 h is already 10 per 24 h.
MIN_EVENT_HOURS = 10.0


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


# --------------------------------------------------------------------------- event scores


@dataclass(frozen=True)
class EventPredictions:
    """A model's per-window probabilities on the calibration and validation event recordings,
    as :mod:`brr_lab.scoring` scores them (recording names, window start and stop times)."""

    calibration: object    # brr_lab.scoring.ScoringData
    validation: object

    def part(self, name: str):
        return {"calibration": self.calibration, "validation": self.validation}[name]


def _part_logits(predict, part) -> torch.Tensor:
    """Logits of every window of ``part``: a SignalSet chunk by chunk, a WindowSet at once."""
    if hasattr(part, "chunks"):
        out = [predict(chunk) for chunk in part.chunks()]
        return torch.cat(out) if out else torch.zeros(0)
    return predict(part.X)


def _module_predictor(model: torch.nn.Module, batch_size: int = 256):
    device = next(model.parameters()).device

    @torch.inference_mode()
    def predict(x: torch.Tensor) -> torch.Tensor:
        was_training = model.training
        model.eval()
        try:
            return torch.cat([model(xb.to(device)).float().cpu() for xb in x.split(batch_size)])
        finally:
            model.train(was_training)
    return predict


def _predictor(model):
    """``(x -> logits, evaluation shift)`` for a Trainer, a bare module or a function."""
    if hasattr(model, "predict_logits"):
        return model.predict_logits, float(getattr(model, "eval_logit_shift", 0.0))
    if isinstance(model, torch.nn.Module):
        return _module_predictor(model), 0.0
    if callable(model):
        return model, 0.0
    from brr_lab._validation import invalid
    raise invalid("model", "event_predictions", "a brr_lab.training.trainer.Trainer, a torch.nn.Module or a "
                  "function from windows to logits", type(model).__name__)


def _event_logits(predict, parts) -> dict:
    return {name: _part_logits(predict, part) for name, part in parts.items()}


def _as_predictions(parts: dict, logits: dict, shift: float) -> EventPredictions | None:
    """ScoringData per part, or None when a logit is not finite (a diverged model)."""
    from brr_lab.scoring import from_windowset

    if any(not bool(torch.isfinite(z).all()) for z in logits.values()):
        return None
    return EventPredictions(**{name: from_windowset(parts[name], probabilities(z + shift),
                                                    where="event_predictions")
                               for name, z in logits.items()})


def event_predictions(model, cohort, *, logit_shift: float | None = None) -> EventPredictions:
    """A trained model's per-window probabilities on ``cohort``'s calibration and validation
    event recordings (:meth:`brr_lab.eeg.cohort.Cohort.event_part`), as ``brr_lab.scoring`` inputs.

    ``model``: a :class:`brr_lab.training.trainer.Trainer` (its evaluation shift applies: the
    probabilities a repro row was scored on) or a ``torch.nn.Module`` expecting the
    cohort's standardised windows. ``logit_shift`` overrides the shift (added to the
    logits before the sigmoid). Long recordings are windowed chunk by chunk.

    Returns :class:`EventPredictions`; score them with :class:`brr_lab.scoring.EventScorer`,
    or choose a threshold on ``.calibration`` (:func:`brr_lab.scoring.choose_threshold`)
    and score it on ``.validation`` (:func:`brr_lab.scoring.validate_threshold`).
    Non-finite outputs (a diverged model) raise ``ValueError``.
    """
    from brr_lab._validation import invalid

    predict, shift = _predictor(model)
    if logit_shift is not None:
        shift = float(logit_shift)
    parts = {name: cohort.event_part(name) for name in ("calibration", "validation")}
    with torch.inference_mode():
        logits = _event_logits(predict, parts)
    out = _as_predictions(parts, logits, shift)
    if out is None:
        raise invalid("model", "event_predictions", "a model with finite outputs",
                      "NaN or inf among its logits (diverged)")
    return out


def _event_row(scores) -> dict:
    return {"event_sensitivity": scores.sensitivity, "event_sensitivity_ci": list(scores.sensitivity_ci),
            "fa_per_24h": scores.fa_per_24h, "fa_per_24h_ci": list(scores.fa_per_24h_ci),
            "n_event_detected": scores.n_detected, "n_false_alarms": scores.n_false_alarms,
            "n_event_seizures": scores.n_seizures, "n_event_recordings": scores.n_recordings,
            "event_hours": scores.hours}


def _undefined_events(part) -> dict:
    """Event keys of a model with no defined output: NaN figures, the evidence's size kept."""
    size = event_size(part)
    return {"event_sensitivity": math.nan, "event_sensitivity_ci": [math.nan, math.nan],
            "fa_per_24h": math.nan, "fa_per_24h_ci": [math.nan, math.nan], "n_event_detected": None,
            "n_false_alarms": None, "n_event_seizures": size["n_seizures"],
            "n_event_recordings": size["n_recordings"], "event_hours": size["hours"]}


class EventEvaluation:
    """Event scores of one model: at any threshold on validation, and the calibration choice.

    Built once per trained model (scenarios that share a model share it). ``choice`` is the
    :class:`brr_lab.scoring.ThresholdChoice` for :data:`TARGET_FA_PER_24H` made on the
    calibration predictions only, ``moved`` its :class:`~brr_lab.scoring.ValidatedThreshold`;
    both None when no threshold can be chosen (no seizure in calibration, or no output).
    """

    def __init__(self, predictions: EventPredictions | None, validation_part, *,
                 target_fa_per_24h: float = TARGET_FA_PER_24H):
        from brr_lab.scoring import EventScorer, choose_threshold, validate_threshold

        self.predictions = predictions
        self.validation_part = validation_part
        self.calibration_kind = "calibration event recordings" if hasattr(validation_part, "chunks") \
            else "calibration recordings"
        self.target_fa_per_24h = target_fa_per_24h
        self.choice = self.moved = None
        self._scorer = None
        if predictions is None:
            return
        self._scorer = EventScorer(predictions.validation)
        cal = predictions.calibration
        if any(t.seizures for t in cal.truth.values()):
            self.choice = choose_threshold(cal, target_fa_per_24h=target_fa_per_24h)
            self.moved = validate_threshold(self.choice, predictions.validation)

    def at(self, threshold: float) -> dict:
        """The event keys (:data:`EVENT_KEYS`) on validation at ``threshold``."""
        if self._scorer is None:
            return _undefined_events(self.validation_part)
        if self.moved is not None and threshold == self.moved.validation.threshold:
            return _event_row(self.moved.validation)
        return _event_row(self._scorer.score(threshold))

    def moved_row(self) -> dict | None:
        """The ``threshold_moved`` object without its window figures, or None."""
        if self.moved is None:
            return None
        c = self.choice
        cal = c.calibration
        return {"threshold": c.threshold, "target": {"fa_per_24h": c.target_value},
                "met_target": c.met_target, "rule": MOVED_RULE,
                "chosen_on": (f"{self.calibration_kind} ({cal.n_recordings} recordings, "
                              f"{cal.hours:.2f} h, {cal.n_seizures} seizures)"),
                "calibration_event_sensitivity": cal.sensitivity,
                "calibration_fa_per_24h": cal.fa_per_24h,
                **_event_row(self.moved.validation)}


def evaluate_events(model, cal_part, val_part, *, shift: float | None = None,
                    target_fa_per_24h: float = TARGET_FA_PER_24H) -> EventEvaluation:
    """:class:`EventEvaluation` of a model on two event parts (SignalSets or WindowSets).

    ``model``: a Trainer, a ``torch.nn.Module`` or a function from windows to logits.
    ``shift``: added to the logits (default: a Trainer's evaluation shift, else 0)."""
    predict, own = _predictor(model)
    shift = own if shift is None else float(shift)
    with torch.inference_mode():
        z_cal, z_val = (_part_logits(predict, part) for part in (cal_part, val_part))
    return events_from_logits(cal_part, val_part, z_cal, z_val, shift=shift,
                              target_fa_per_24h=target_fa_per_24h)


def events_from_logits(cal_part, val_part, z_cal, z_val, *, shift: float = 0.0,
                       target_fa_per_24h: float = TARGET_FA_PER_24H) -> EventEvaluation:
    """:class:`EventEvaluation` from logits already computed, one per window of each part in
    its order (``part.recording``, ``part.start_s``); ``shift`` is added to them."""
    parts = {"calibration": cal_part, "validation": val_part}
    logits = {"calibration": torch.as_tensor(z_cal), "validation": torch.as_tensor(z_val)}
    return EventEvaluation(_as_predictions(parts, logits, shift), val_part,
                           target_fa_per_24h=target_fa_per_24h)


def threshold_moved_row(events: EventEvaluation, y_val, z_val) -> dict | None:
    """The ``threshold_moved`` object: the event keys at the calibration threshold and the
    window ``pred_pos_rate``, ``recall``, ``precision`` on the validation windows (labels
    ``y_val``, logits ``z_val``, shift included) at it; None when none was chosen."""
    row = events.moved_row()
    if row is None:
        return None
    at = _window_at(y_val, z_val, row["threshold"])
    return {**row, **{k: at[k] for k in ("pred_pos_rate", "recall", "precision")}}


def _window_at(y, z, threshold: float) -> dict:
    """binary_metrics at ``threshold``; above 1 (the 'detect nothing' choice) nothing is called."""
    if threshold <= 1.0:
        return binary_metrics(y, z, threshold=threshold)
    m = binary_metrics(y, z, threshold=1.0)
    n_pos = float(np.asarray(y).sum())
    return {**m, "pred_pos_rate": 0.0, "recall": 0.0 if n_pos else math.nan, "precision": math.nan}


# --------------------------------------------------------------------------- the row


def evaluate_run(trainer, history: list[dict], val, *, events: EventEvaluation | None = None,
                 event_parts=None, shift: float = 0.0, move_threshold: bool = False,
                 z_val: torch.Tensor | None = None) -> dict:
    """The trained model's row: window figures on the validation windows ``val``, event
    figures on the validation event recordings, at the threshold (0.5, or with
    ``move_threshold`` the calibration threshold of :data:`MOVED_RULE`), and
    ``threshold_moved``; 95% intervals, the evidence's size and the diagnosis.

    ``events``: an :class:`EventEvaluation` of this model (scenarios sharing a model share
    one); else it is computed from ``event_parts`` = ``(calibration, validation)`` event
    parts (:meth:`brr_lab.eeg.cohort.Cohort.event_part`). ``shift`` is added to the logits
    (logit adjustment). ``z_val``: the validation logits if already computed.
    """
    if z_val is None:
        z_val = trainer.predict_logits(val.X)
    z_val = z_val + shift
    if events is None:
        if event_parts is None:
            from brr_lab._validation import invalid
            raise invalid("event_parts", "evaluate_run", "(calibration, validation) event parts "
                          "(Cohort.event_part) or events=", None)
        events = evaluate_events(trainer, *event_parts, shift=shift)
    moved_row = events.moved_row()
    moved = None if moved_row is None else moved_row["threshold"]
    threshold = moved if move_threshold and moved is not None else THRESHOLD
    m = _window_at(val.y, z_val, threshold)
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
        **events.at(threshold),
        "event_method": EVENT_METHOD,
    }
    row["threshold_moved"] = threshold_moved_row(events, val.y, z_val)
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
        text += (f": {' and '.join(short)}, too little to judge a setting by (the generated "
                 "cohort, used without --data, holds more; `brr-lab repro` prints its size)")
    return text


def event_note(row: dict) -> str:
    """One sentence on what a row's event figures rest on; it says so when the seizures are
    too few to judge a sensitivity, or the hours too few for a false-alarm rate to mean much."""
    hours = row.get("event_hours")
    if hours is None or (isinstance(hours, float) and math.isnan(hours)):
        return "event scores not measured"
    n = row["n_event_seizures"]
    text = (f"event scores rest on {n} seizure(s) in {row['n_event_recordings']} validation "
            f"recording(s), {hours:.2f} h")
    short = [f"fewer than {MIN_SEIZURES} seizures"] if n < MIN_SEIZURES else []
    if hours < MIN_EVENT_HOURS:
        short.append(f"under {MIN_EVENT_HOURS:g} hours, where one false alarm is already "
                     f"{24 / hours:.0f} per 24 h")
    if short:
        text += f": {' and '.join(short)}, too little to judge a setting by"
    return text
