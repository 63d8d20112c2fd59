"""The p-versus-q picture: what prediction a loss optimum makes for each true posterior q.

For the current alpha, gamma, pos_weight, prevalence and sampler, the curve is
:func:`brr_lab.weighting.optimal_prediction` (the p that minimises the expected loss of a
window whose true seizure probability is q), and the threshold slider reads it: q* is where
the curve crosses the threshold (:func:`brr_lab.weighting.q_star_at`). Weighting moves the
curve; the threshold reads it. With plain BCE the curve is the diagonal p = q.

Given validation predictions of a trained run (``predictions=(y_true, probs)``), the panel
also shows their confusion matrix and precision-recall curve at the same threshold
(counts from :func:`brr_lab.training.metrics.threshold_metrics`).

Use in a notebook::

    from brr_lab.widgets import PVsQ, WeightsExplorer
    explorer = WeightsExplorer()
    PVsQ(explorer=explorer)        # follows the explorer's sliders
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from brr_lab.training import metrics

from brr_lab import weighting
from brr_lab._validation import check_real, invalid
from brr_lab.widgets.figure_output import figure_output, plain, show_figure

__all__ = ["PVsQ", "THRESHOLD_RANGE", "Q_SCALES"]

_WHERE = "PVsQ"
THRESHOLD_RANGE = (0.01, 0.99, 0.01)   # (min, max, step) of the threshold slider
Q_SCALES = ("linear", "log")           # the q axis: a log axis shows a q* of 0.006 clearly


class PVsQ(widgets.VBox):
    """The loss-minimising prediction p against the true posterior q, with a threshold slider.

    Args:
        alpha, gamma, pos_weight, prevalence, sampler_fraction: the setting (as in
            :func:`brr_lab.weighting.analyze`; ``sampler_fraction=None``: no sampler).
            Ignored when ``explorer`` is given: the panel then follows its sliders.
        threshold: the decision threshold on p, in ``THRESHOLD_RANGE``.
        explorer: a :class:`~brr_lab.widgets.WeightsExplorer` to follow, or None.
        predictions: ``(y_true, probs)`` of a trained run on validation data, or None.
        q_scale: one of ``Q_SCALES``.
        n_points: points of the q grid (>= 3).

    Read by tests and notebooks: ``q_star`` (float), ``curve`` (q and p arrays),
    ``threshold_slider``, ``q_star_note`` (HTML holding ``.brr-q-star``), ``figure`` (the
    plotly ``Figure`` last drawn, in ``plot``), and with predictions ``confusion`` (HTML
    table) and ``pr_figure`` (in ``pr_plot``).
    """

    def __init__(self, *, alpha: float | None = 0.25, gamma: float = 2.0,
                 pos_weight: float | None = 12.0, prevalence: float = 1 / 13,
                 sampler_fraction: float | None = None, threshold: float = 0.5,
                 explorer=None, predictions=None, q_scale: str = "linear",
                 n_points: int = 301, **kwargs):
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 3:
            raise invalid("n_points", _WHERE, "an int >= 3", n_points)
        if q_scale not in Q_SCALES:
            raise invalid("q_scale", _WHERE, f"one of {Q_SCALES}", q_scale)
        low, high, step = THRESHOLD_RANGE
        threshold = check_real(threshold, "threshold", _WHERE, low=low, high=high,
                               allowed=f"a real number in [{low:g}, {high:g}] (the slider's range)")
        self._explorer = explorer
        self._settings = dict(alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                              prevalence=prevalence, sampler_fraction=sampler_fraction)
        weighting.analyze(**self._settings)  # validates the setting before anything is drawn
        # Dense near 0, where q* sits under strong weighting, and across (0, 1).
        self._q = np.unique(np.concatenate([np.geomspace(1e-6, 0.5, n_points // 2),
                                            np.linspace(0.0, 1.0, n_points)]))[1:-1]
        self._predictions = _check_predictions(predictions)
        self.threshold_slider = widgets.FloatSlider(
            value=threshold, min=low, max=high, step=step, description="threshold",
            readout_format=".2f", continuous_update=False, layout=widgets.Layout(width="30em"))
        self.threshold_slider.add_class("brr-threshold")
        self.scale_toggle = widgets.ToggleButtons(options=Q_SCALES, value=q_scale,
                                                  description="q axis")
        self.q_star_note = widgets.HTML()
        self.q_star_note.add_class("brr-q-star-note")
        self.figure, self.plot = _curve_figure(self._q), figure_output("brr-p-vs-q-plot")
        rows = [widgets.HBox([self.threshold_slider, self.scale_toggle]), self.q_star_note,
                self.plot]
        if self._predictions is not None:
            self.confusion = widgets.HTML()
            self.confusion.add_class("brr-confusion")
            self.pr_figure, self.pr_plot = _pr_figure(*self._predictions), figure_output("brr-pr-plot")
            rows += [self.confusion, self.pr_plot]
        super().__init__(rows, **kwargs)
        self.add_class("brr-p-vs-q")
        self.threshold_slider.observe(lambda _: self.update(), names="value")
        self.scale_toggle.observe(lambda _: self.update(), names="value")
        if explorer is not None:
            explorer.on_update(self.update)
        self.update()

    def settings(self) -> dict:
        """The setting drawn: the explorer's when following one, else the constructor's."""
        return self._explorer.settings() if self._explorer is not None else dict(self._settings)

    def update(self) -> None:
        """Recompute the curve and q*, redraw the plot, the note and the confusion matrix."""
        s, t = self.settings(), self.threshold_slider.value
        self.curve = (self._q, weighting.optimal_prediction(self._q, **s))
        self.q_star = float(weighting.q_star_at(t, **s))
        self.q_star_note.value = _note_html(self.q_star, t, s["prevalence"])
        _redraw(self.figure, self.curve, t, self.q_star, self.scale_toggle.value)
        show_figure(self.plot, self.figure)
        if self._predictions is not None:
            counts = metrics.threshold_metrics(*self._predictions, threshold=t)
            self.confusion.value = _confusion_html(counts, t)
            _mark_pr(self.pr_figure, counts)
            show_figure(self.pr_plot, self.pr_figure)


def _check_predictions(predictions):
    if predictions is None:
        return None
    if not isinstance(predictions, (tuple, list)) or len(predictions) != 2:
        raise invalid("predictions", _WHERE, "None or a pair (y_true, probs)",
                      type(predictions).__name__)
    y, p = (np.asarray(a, dtype=float).ravel() for a in predictions)
    metrics.threshold_metrics(y, p)  # validates: 0/1 labels, one finite score per label
    if np.any((p < 0) | (p > 1)):
        raise invalid("predictions", _WHERE, "probabilities in [0, 1]", "scores outside")
    return y, p


def _note_html(q_star: float, threshold: float, prevalence: float) -> str:
    return (f'q* = <b class="brr-q-star">{q_star:.2g}</b>: at threshold {threshold:.2f} the '
            f"loss optimum calls a window a seizure once its true seizure probability exceeds "
            f"{q_star:.2g} (the prevalence is {prevalence:.2g}).")


def _curve_figure(q: np.ndarray) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=plain(q), y=plain(q), mode="lines", name="calibrated (p = q)",
                    line={"color": "#999", "dash": "dot"})
    # p(q) is drawn by update(); until then a gap, never a flat line that looks like a curve
    fig.add_scatter(x=plain(q), y=[None] * len(q), mode="lines", name="loss optimum p(q)",
                    line={"color": "#d62728"})
    fig.add_scatter(x=plain(q[[0, -1]]), y=[0.5, 0.5], mode="lines", name="threshold",
                    line={"color": "#333", "dash": "dash"})
    fig.add_scatter(x=[0.5], y=[0.5], mode="markers", name="q*",
                    marker={"color": "#333", "size": 10, "symbol": "x"})
    fig.update_layout(height=340, margin={"l": 50, "r": 20, "t": 30, "b": 40},
                      xaxis_title="true posterior q = P(seizure | window)",
                      yaxis_title="predicted p", yaxis_range=[0, 1],
                      legend={"orientation": "h", "y": -0.3})
    return fig


def _redraw(fig: go.Figure, curve, threshold: float, q_star: float, scale: str) -> None:
    q, p = curve
    fig.data[1].y = plain(p)
    fig.data[2].update(x=plain(q[[0, -1]]), y=[threshold, threshold])
    fig.data[3].update(x=[q_star], y=[threshold])
    fig.layout.xaxis.type = scale
    low = max(np.floor(np.log10(max(q_star, q[0]))) - 1, np.log10(q[0]))  # q* in view
    fig.layout.xaxis.range = [float(low), 0] if scale == "log" else [0, 1]


def _pr_figure(y: np.ndarray, p: np.ndarray) -> go.Figure:
    from sklearn.metrics import precision_recall_curve

    # drop_intermediate: the same curve in far fewer points (all are sent at every redraw)
    precision, recall, _ = precision_recall_curve(y, p, drop_intermediate=True)
    fig = go.Figure()
    fig.add_scatter(x=plain(recall), y=plain(precision), mode="lines", name="precision-recall",
                    line={"color": "#1f77b4"})
    fig.add_scatter(x=[0, 1], y=[float(y.mean())] * 2, mode="lines", name="prevalence (a constant model)",
                    line={"color": "#999", "dash": "dot"})
    fig.add_scatter(x=[0.0], y=[0.0], mode="markers", name="at the threshold",
                    marker={"color": "#d62728", "size": 10})
    fig.update_layout(height=300, margin={"l": 50, "r": 20, "t": 30, "b": 40},
                      xaxis_title="recall", yaxis_title="precision",
                      xaxis_range=[0, 1], yaxis_range=[0, 1.02],
                      legend={"orientation": "h", "y": -0.3})
    return fig


def _mark_pr(fig: go.Figure, counts: dict) -> None:
    precision = counts["precision"] if np.isfinite(counts["precision"]) else 1.0  # nothing called
    fig.data[2].update(x=[float(counts["recall"])], y=[float(precision)])


def _confusion_html(counts: dict, threshold: float) -> str:
    cell = 'style="text-align:right;padding:1px 10px;font-family:monospace"'
    head = 'style="text-align:left;padding:1px 10px"'
    rows = [("seizure window", counts["tp"], counts["fn"]),
            ("background window", counts["fp"], counts["tn"])]
    body = "".join(f"<tr><th {head}>{html.escape(name)}</th><td {cell}>{a:,}</td>"
                   f"<td {cell}>{b:,}</td></tr>" for name, a, b in rows)
    n = sum(counts[k] for k in ("tp", "fp", "fn", "tn"))
    return (f'<table class="brr-table"><caption>{n:,} validation windows at threshold '
            f"{threshold:.2f}</caption><tr><th></th><th {head}>called seizure</th>"
            f"<th {head}>called background</th></tr>{body}</table>")
