"""The threshold explorer: move the decision threshold over a trained run's validation predictions.

Moving with it: the window confusion matrix, the point on the window precision-recall curve,
SzCORE event sensitivity and false alarms per 24 h (:mod:`brr_lab.scoring`, with intervals).
Not moving: the window AUROC, shown beside them for what it does not say. Marked: 0.5, and
the threshold ``choose_threshold`` picks on calibration data for a false-alarm target,
scored on validation by ``validate_threshold``. Every slider stop is scored once when the
panel is built, so a move is a lookup. :func:`run_predictions` trains a scenario and keeps
the probabilities its event figures were scored on; :func:`points_from_rows` tabulates rows.
"""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from brr_lab._validation import BrrLabError, check_real, invalid
from brr_lab.experiments.evaluation import TARGET_FA_PER_24H
from brr_lab.training.metrics import auprc, auroc
from brr_lab.scoring import EventScorer, ScoringData, choose_threshold, validate_threshold
from brr_lab.widgets.figure_output import figure_output, plain, show_figure

__all__ = ["ThresholdExplorer", "RunPredictions", "run_predictions", "points_from_rows", "readable",
           "threshold_grid", "DEFAULT_TARGET_FA_PER_24H", "GRID_LOGITS"]

_WHERE = "ThresholdExplorer"
DEFAULT_TARGET_FA_PER_24H = TARGET_FA_PER_24H  # the protocol's target (one source)
DEFAULT_MARK, CHOSEN_MARK = "default", "calibration, <= {:g} FA/24h"
# Slider stops evenly spaced in log-odds, about 0.001 to 0.999: the thresholds that matter
# for a model trained at 12:1 sit near 0 and those of an over-corrected one near 1.
GRID_LOGITS = np.arange(-7.0, 7.0 + 1e-9, 0.25)
PARTS = ("calibration", "validation")
_SAVED = ("recording", "start_s", "stop_s", "probability")  # per part, in the cached file


@dataclass(frozen=True)
class RunPredictions:
    """One trained run's per-window probabilities as scoring inputs, and its repro row."""
    scenario: str
    seed: int
    epochs: int
    calibration: ScoringData
    validation: ScoringData
    row: dict


def run_predictions(scenario: str, cohort, *, seed: int = 0, epochs: int | None = None,
                    cache: bool = True) -> RunPredictions:
    """Train ``scenario`` with ``seed`` on ``cohort`` as ``brr-lab repro`` does; return the run's
    row and its model's probabilities on the calibration and validation event recordings
    (:func:`brr_lab.experiments.evaluation.event_predictions`, what the row's event figures were scored on).

    ``cache=True`` keeps them beside ``run_repro``'s cached runs (keyed by the cohort, the
    budget and brr_lab's code) and reads them back instead of training again.
    """
    from brr_lab.experiments import repro
    from brr_lab.eeg.cohort import Cohort
    from brr_lab.experiments.evaluation import event_predictions
    from brr_lab.scoring import scoring_data
    from brr_lab.training.trainer import Callback

    if scenario not in repro.SCENARIOS:
        raise invalid("scenario", "run_predictions", f"one of {list(repro.SCENARIOS)}", scenario)
    if not isinstance(cohort, Cohort):
        raise invalid("cohort", "run_predictions", "a brr_lab.eeg.cohort.Cohort (from load_cohort)",
                      type(cohort).__name__)
    epochs = repro.DEFAULT_EPOCHS if epochs is None else epochs
    folder = repro.results_cache(cohort, epochs, "cpu") if cache else None
    path = None if folder is None else folder / f"{scenario}-seed{seed}-event-probabilities.npz"
    if path is not None and path.is_file():
        with np.load(path) as saved:
            row = json.loads(str(saved["row"]))
            data = {}
            for p in PARTS:
                info = cohort.event_part(p).recording_info
                data[p] = scoring_data({n: (i["duration_s"], i["seizures"]) for n, i in info.items()},
                                       *(saved[f"{p}_{k}"] for k in _SAVED))
        return RunPredictions(scenario=scenario, seed=seed, epochs=epochs, row=row, **data)

    class KeepTrainer(Callback):
        def on_fit_end(self, trainer) -> None:
            self.trainer = trainer

    keep = KeepTrainer()
    row = repro.run_scenario(scenario, cohort, seed=seed, epochs=epochs, callbacks=[keep])
    predictions = event_predictions(keep.trainer, cohort)  # with the scenario's evaluation shift
    data = {p: predictions.part(p) for p in PARTS}
    if path is not None:
        arrays = {f"{p}_{k}": np.asarray(getattr(data[p].predictions, k),
                                         dtype=str if k == "recording" else None)
                  for p in PARTS for k in _SAVED}
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, row=json.dumps(row), **arrays)  # NaN stays NaN: read back by Python only
        os.replace(tmp, path)
    return RunPredictions(scenario=scenario, seed=seed, epochs=epochs, row=row, **data)


def threshold_grid(extra=()) -> np.ndarray:
    """The slider's stops: :data:`GRID_LOGITS` as probabilities, their distance to 0 or 1
    rounded to 2 significant digits (0.0012, 0.5, 0.9988), plus ``extra`` exactly."""
    p = 1.0 / (1.0 + np.exp(-GRID_LOGITS))
    near = np.array([float(f"{v:.2g}") for v in np.minimum(p, 1.0 - p)])
    grid = np.round(np.where(p <= 0.5, near, 1.0 - near), 12)
    return np.unique(np.concatenate([grid, np.asarray(extra, dtype=np.float64).reshape(-1)]))


def _checked_data(data, param: str, where: str = _WHERE) -> ScoringData:
    if not isinstance(data, ScoringData):
        raise invalid(param, where, "brr_lab.scoring.ScoringData (scoring.from_windowset(windows, "
                                    "probabilities) or scoring.scoring_data(...))", type(data).__name__)
    if not any(truth.seizures for truth in data.truth.values()):
        raise invalid(param, where, "data holding at least one seizure",
                      f"no seizure in {len(data.truth)} recording(s)")
    return data


def _choice(calibration, validation: ScoringData, target, where: str):
    """The threshold chosen on calibration for ``target`` FA/24h, scored on validation."""
    target = check_real(target, "target_fa_per_24h", where, low=0.0)
    choice = choose_threshold(_checked_data(calibration, "calibration", where),
                              target_fa_per_24h=target)
    try:
        return validate_threshold(choice, validation)
    except BrrLabError as err:  # its one refusal: validation windows that also calibrated
        raise invalid("calibration", where, "recordings that share no window with the validation "
                                            "data", str(err)) from err


def _window_labels(scorer: EventScorer) -> np.ndarray:  # the scorer's rule and window order
    return scorer.window_positive


_COLUMNS = ("scenario", "seed", "threshold rule", "threshold", "event sensitivity", "sens 95% low",
            "sens 95% high", "seizures found", "seizures", "FA/24h", "FA 95% low", "FA 95% high",
            "false alarms", "hours", "window recall", "window precision", "window AUROC",
            "calibration FA/24h")


def points_from_rows(rows) -> pd.DataFrame:
    """Repro rows (``run_repro``) as operating points: per run, at the row's threshold and at its
    ``threshold_moved``: the event figures with intervals, counts and hours, window recall,
    precision and AUROC, and the FA rate the moved threshold met on calibration."""
    out = []
    for r in rows:
        moved = r["threshold_moved"]
        points = [(DEFAULT_MARK if r["threshold"] == 0.5 else "scenario's own", r, math.nan)]
        if moved is not None:
            points.append((CHOSEN_MARK.format(moved["target"]["fa_per_24h"]), moved,
                           moved["calibration_fa_per_24h"]))
        out += [(r["scenario"], r["seed"], rule, at["threshold"], at["event_sensitivity"],
                 *at["event_sensitivity_ci"], at["n_event_detected"], at["n_event_seizures"],
                 at["fa_per_24h"], *at["fa_per_24h_ci"], at["n_false_alarms"], at["event_hours"],
                 at["recall"], at["precision"], r["auroc"], on_cal) for rule, at, on_cal in points]
    return pd.DataFrame(out, columns=_COLUMNS)


def _num(x: float, spec: str) -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, spec)


def _interval(x: float, lo: float, hi: float, spec: str) -> str:
    return f"{_num(x, spec)} [{_num(lo, spec)}, {_num(hi, spec)}]"


# The columns :func:`readable` shows, each as text from one row of :func:`points_from_rows`.
_SHOWN = {
    "threshold": lambda r: f"{r['threshold']:.4g}",
    "event sensitivity [95% CI]": lambda r: _interval(r["event sensitivity"], r["sens 95% low"],
                                                      r["sens 95% high"], ".2f"),
    "seizures found": lambda r: f"{r['seizures found']} of {r['seizures']}",
    "FA/24h [95% CI]": lambda r: _interval(r["FA/24h"], r["FA 95% low"], r["FA 95% high"], ".3g"),
    "false alarms": lambda r: f"{r['false alarms']} in {r['hours']:.2f} h",
    **{name: (lambda r, name=name, spec=spec: _num(r[name], spec)) for name, spec in (
        ("window recall", ".2f"), ("window precision", ".2f"), ("window AUROC", ".3f"))},
    "FA/24h on calibration": lambda r: _num(r["calibration FA/24h"], ".3g").replace("n/a", ""),
}


def readable(points: pd.DataFrame) -> pd.DataFrame:
    """:func:`points_from_rows`' table as rounded text with counts and hours."""
    out = points[["scenario", "seed", "threshold rule"]].copy()
    for name, text in _SHOWN.items():
        out[name] = [text(row) for _, row in points.iterrows()]
    return out


def event_text(s) -> dict[str, str]:
    """What the panel shows for one threshold's ``EventScores``: rounded, with counts."""
    w = s.window
    return {"sensitivity": f"{_interval(s.sensitivity, *s.sensitivity_ci, '.2f')}, "
                           f"{s.n_detected} of {s.n_seizures} seizures",
            "fa": f"{_interval(s.fa_per_24h, *s.fa_per_24h_ci, '.3g')}, "
                  f"{s.n_false_alarms} in {s.hours:.2f} h",
            "window": f"recall {_num(w.sensitivity, '.2f')}, precision {_num(w.precision, '.2f')}"}


_CELL = 'style="padding:1px 8px;text-align:left"'
_COUNT = 'style="padding:1px 10px;text-align:right;font-family:monospace"'


class ThresholdExplorer(widgets.VBox):
    """A threshold slider over validation predictions, with live window and event scores.

    Args:
        validation: ``brr_lab.scoring.ScoringData`` of the run's validation windows.
        calibration: the same for its calibration windows (sharing none with validation),
            or None: then only 0.5 is marked.
        threshold: where the slider starts, in [0, 1] (added to the slider's stops).
        target_fa_per_24h: the false-alarm target the calibration threshold is chosen for.
        title: shown above the panel (e.g. the scenario and seed).

    Read by tests and notebooks: ``slider`` (class ``brr-threshold``), ``thresholds``,
    ``current`` (the ``EventScores`` at the slider's value), ``scores`` and ``confusion``
    (HTML), ``figure`` (the plotly ``Figure`` last drawn in ``plot``), ``auroc``, ``marks``,
    ``chosen`` (a ``ValidatedThreshold`` or None).
    """

    def __init__(self, validation: ScoringData, calibration: ScoringData | None = None, *,
                 threshold: float = 0.5, target_fa_per_24h: float = DEFAULT_TARGET_FA_PER_24H,
                 title: str = "", **kwargs):
        self.validation = _checked_data(validation, "validation")
        start = check_real(threshold, "threshold", _WHERE, low=0.0, high=1.0)
        self.chosen = (None if calibration is None else
                       _choice(calibration, validation, target_fa_per_24h, _WHERE))
        self.marks = {DEFAULT_MARK: 0.5}
        if self.chosen is not None:
            c = self.chosen.choice
            self.marks[CHOSEN_MARK.format(c.target_value)] = c.threshold
        scorer = EventScorer(validation)
        self.thresholds = threshold_grid([start, *self.marks.values()])
        self._scores = {float(t): scorer.score(float(t)) for t in self.thresholds}
        probs, labels = validation.predictions.probability, _window_labels(scorer)
        self.auroc, self.auprc = auroc(labels, probs), auprc(labels, probs)
        self.prevalence = float(labels.mean())
        self.slider = widgets.SelectionSlider(
            options=[(f"{t:.4g}", float(t)) for t in self.thresholds], value=start,
            description="threshold", continuous_update=False,
            style={"description_width": "6em"}, layout=widgets.Layout(width="40em"))
        self.slider.add_class("brr-threshold")
        self.header = widgets.HTML(self._header_html(title))
        self.scores, self.confusion = widgets.HTML(), widgets.HTML()
        self.scores.add_class("brr-threshold-scores")
        self.confusion.add_class("brr-confusion")
        self.figure, self.plot = self._make_figure(labels, probs), figure_output("brr-threshold-plot")
        super().__init__([self.header, self.slider, widgets.HBox([self.scores, self.confusion]),
                          self.plot], **kwargs)
        self.add_class("brr-threshold-explorer")
        self.slider.observe(lambda change: self.update(), names="value")
        self.update()

    @property
    def current(self):  # the library's EventScores at the slider's threshold, computed once
        return self._scores[float(self.slider.value)]

    def set_threshold(self, threshold: float) -> None:
        """Move the slider to one of :attr:`thresholds`; anything else is refused, never rounded."""
        where = "ThresholdExplorer.set_threshold"
        if check_real(threshold, "threshold", where) not in self._scores:
            raise invalid("threshold", where, "one of the slider's stops (ThresholdExplorer."
                                              "thresholds)", threshold)
        self.slider.value = float(threshold)

    def update(self) -> None:
        """Redraw the scores, the confusion matrix and the two current points."""
        s = self.current
        w = s.window
        self.scores.value = self._scores_html(s)
        self.confusion.value = (
            f"<b>windows at {self.slider.value:.4g}</b> (seizure window: overlaps a seizure)"
            f'<table class="brr-table"><tr><th></th><th {_COUNT}>called seizure</th>'
            f'<th {_COUNT}>called background</th></tr><tr><th {_COUNT}>seizure</th>'
            f'<td class="brr-cm-tp" {_COUNT}>{w.tp}</td><td class="brr-cm-fn" {_COUNT}>{w.fn}</td>'
            f'</tr><tr><th {_COUNT}>background</th><td class="brr-cm-fp" {_COUNT}>{w.fp}</td>'
            f'<td class="brr-cm-tn" {_COUNT}>{w.tn}</td></tr></table>')
        # NaN (precision with nothing called) is a gap, not a point at 0.
        self.figure.data[2].update(x=plain([w.sensitivity]), y=plain([w.precision]))
        self.figure.data[5].update(x=plain([s.fa_per_24h]), y=plain([s.sensitivity]))
        show_figure(self.plot, self.figure)

    def _header_html(self, title: str) -> str:
        v = self._scores[0.5]
        p = v.parameters
        text = (f"<b>{html.escape(title)}</b><br>" if title else "") + (
            f"Validation: {v.n_recordings} recordings, {v.n_seizures} seizures, {v.hours:.2f} h, "
            f"{v.window.n_windows} windows. SzCORE: a seizure is found on any overlap, tolerance "
            f"{p['tolerance_start_s']:g} s before / {p['tolerance_end_s']:g} s after; events "
            f"closer than {p['min_gap_s']:g} s merged, longer than {p['max_event_s']:g} s split; "
            "counts pooled over recordings.")
        if self.chosen is not None:
            c = self.chosen.choice
            text += (f"<br>Marked: 0.5 and {c.threshold:.4g}, chosen on the calibration data "
                     f"({c.calibration.n_recordings} recordings, {c.calibration.n_seizures} "
                     f"seizures, {c.calibration.hours:.2f} h) for at most {c.target_value:g} FA/24h.")
        return f'<div class="brr-threshold-header">{text}</div>'

    def _scores_html(self, s) -> str:
        columns = [("this threshold", event_text(s), "brr-now")] + [
            (f"{name} ({t:.4g})", event_text(self._scores[t]), None) for name, t in self.marks.items()]
        out = ['<table class="brr-table">', f"<tr><th {_CELL}></th>" + "".join(
            f"<th {_CELL}>{html.escape(head)}</th>" for head, _, _ in columns) + "</tr>"]
        for label, key in (("event sensitivity [95% CI]", "sensitivity"),
                           ("false alarms / 24 h [95% CI]", "fa"), ("windows", "window")):
            cells = "".join(f'<td class="{css or "brr-mark"}-{key}" {_CELL}>{html.escape(t[key])}</td>'
                            for _, t, css in columns)
            out.append(f"<tr><th {_CELL}>{label}</th>{cells}</tr>")
        out.append(f'<tr><th {_CELL}>window AUROC</th><td class="brr-auroc" {_CELL} colspan='
                   f'"{len(columns)}">{_num(self.auroc, ".3f")}, the same at every threshold: it '
                   "says how well windows are ranked, not how many seizures a threshold finds "
                   "or how many false alarms a day it raises</td></tr></table>")
        return "\n".join(out)

    def _make_figure(self, labels: np.ndarray, probs: np.ndarray) -> go.Figure:
        from sklearn.metrics import precision_recall_curve

        precision, recall, _ = precision_recall_curve(labels, probs, drop_intermediate=True)
        stops = [self._scores[float(t)] for t in self.thresholds]
        marked = [self._scores[t] for t in self.marks.values()]
        fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
            f"windows: AUPRC {self.auprc:.2f} (prevalence {self.prevalence:.3f})", "SzCORE events"))
        curves = ((recall, precision, lambda m: (m.window.sensitivity, m.window.precision)),
                  ([s.fa_per_24h for s in stops], [s.sensitivity for s in stops],
                   lambda m: (m.fa_per_24h, m.sensitivity)))
        for col, (x, y, point) in enumerate(curves, start=1):
            first = col == 1  # one legend entry per kind of trace
            fig.add_scatter(x=plain(x), y=plain(y), mode="lines" if first else "lines+markers", row=1, col=col,
                            name="window PR curve" if first else "slider stops (events)")
            fig.add_scatter(x=plain([point(m)[0] for m in marked]),
                            y=plain([point(m)[1] for m in marked]),
                            mode="markers+text", text=list(self.marks), textposition="top right",
                            name="marked thresholds", showlegend=first,
                            marker={"color": "#555", "size": 8}, row=1, col=col)
            fig.add_scatter(x=[None], y=[None], mode="markers", name="this threshold",
                            showlegend=first, marker={"color": "#d62728", "size": 12}, row=1, col=col)
        fig.update_layout(xaxis={"title": "window recall", "range": [0, 1.02]},
                          yaxis={"title": "window precision", "range": [0, 1.05]},
                          xaxis2={"title": "false alarms per 24 h"},
                          yaxis2={"title": "event sensitivity", "range": [0, 1.05]}, height=380,
                          margin={"l": 50, "r": 20, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.2})
        return fig
