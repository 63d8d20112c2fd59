"""The sweep map: a measured metric over alpha x pos_weight, with the theory's q* contour on top.

The heatmap is what training produced (:class:`brr_lab.experiments.sweep.SweepResult`); the contour
lines are :func:`brr_lab.weighting.q_star` at the training prevalence, computed on a fine
grid of the same two axes. pos_weight is drawn on a log2 axis, so 1, 2, 4, ... are evenly
spaced and the contour stays smooth between the measured columns.

:func:`map_panel` puts maps side by side: by default the validation AUROC, the share of
windows called positive at 0.5, and the field's figure, SzCORE event sensitivity at a
fixed false-alarm budget (``moved_event_sensitivity``: at the threshold chosen on the
calibration event recordings for 10 false alarms per 24 h; each cell also shows the
false-alarm rate that threshold reached on validation).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from brr_lab import weighting
from brr_lab._validation import invalid
from brr_lab.experiments.sweep import SweepResult

__all__ = ["map_figure", "map_panel", "PANEL_METRICS", "Q_STAR_LEVELS"]

# Posterior thresholds worth a line: 0.5 is plain BCE; lower means "say positive sooner".
Q_STAR_LEVELS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75)
PANEL_METRICS = ("auroc", "pred_pos_rate", "moved_event_sensitivity")

_SHORT = {"auroc": "AUROC", "auprc": "AUPRC", "pred_pos_rate": "pred. +", "recall": "recall",
          "train_loss": "loss", "event_sensitivity": "event sens.", "fa_per_24h": "FA/24h",
          "moved_event_sensitivity": "event sens.", "moved_fa_per_24h": "FA/24h",
          "moved_threshold": "threshold"}
_TITLES = {"auroc": "validation AUROC", "auprc": "validation AUPRC",
           "pred_pos_rate": "validation windows predicted positive (p >= 0.5)",
           "recall": "validation recall at 0.5",
           "train_loss": "training loss, last epoch", "q_star": "q*",
           "event_sensitivity": "event sensitivity at 0.5 (SzCORE)",
           "fa_per_24h": "false alarms per 24 h at 0.5 (SzCORE)",
           "moved_event_sensitivity": "event sensitivity at <= 10 false alarms / 24 h",
           "moved_fa_per_24h": "false alarms per 24 h at the calibration threshold",
           "moved_threshold": "threshold chosen on calibration for 10 false alarms / 24 h"}
_RANGES = {"auroc": (0.5, 1.0), "pred_pos_rate": (0.0, 1.0), "moved_event_sensitivity": (0.0, 1.0),
           "event_sensitivity": (0.0, 1.0), "recall": (0.0, 1.0)}


def _axes(result: SweepResult, metric: str, fixed: dict):
    alphas, weights, table = result.pivot(metric, index="alpha", columns="pos_weight", **fixed)
    if any(v is None for v in alphas) or any(v is None for v in weights):
        raise invalid("result", "map_figure", "a grid of numeric alpha and pos_weight values "
                      "(use pos_weight=1 for 'off')", f"alpha {alphas}, pos_weight {weights}")
    return np.asarray(alphas, dtype=float), np.asarray(weights, dtype=float), table


def _cell_text(result: SweepResult, metric: str, table: np.ndarray, fixed: dict) -> np.ndarray:
    text = np.vectorize(lambda v: "n/a" if np.isnan(v) else f"{v:.2f}")(table).astype(object)
    if metric == "moved_event_sensitivity":  # the budget each cell's threshold actually spent
        _, _, fa = result.pivot("moved_fa_per_24h", index="alpha", columns="pos_weight", **fixed)
        text = np.where(np.isnan(fa), text, text + np.vectorize(lambda v: f"<br>{v:.1f} FA/24h")(fa))
    return text


def _traces(result: SweepResult, metric: str, *, q_levels, zmin, zmax, fixed: dict,
            colorbar: dict | None = None) -> list:
    """The heatmap of ``metric`` and one contour trace per q* level."""
    alphas, weights, table = _axes(result, metric, fixed)
    log_w = np.log2(weights)
    traces = [go.Heatmap(
        x=log_w, y=alphas, z=table, zmin=zmin, zmax=zmax, colorscale="Viridis",
        colorbar={"title": {"text": _SHORT.get(metric, metric)}, **(colorbar or {})},
        text=_cell_text(result, metric, table, fixed), texttemplate="%{text}",
        hovertemplate="alpha %{y}<br>pos_weight %{customdata}<br>" + metric + " %{z:.3f}<extra></extra>",
        customdata=np.broadcast_to(weights, table.shape))]
    fine_a = np.linspace(max(alphas.min() - 0.05, 0.01), min(alphas.max() + 0.05, 0.99), 60)
    fine_w = np.linspace(log_w.min() - 0.5, log_w.max() + 0.5, 60)
    fraction = _single(result, "sampler_fraction", fixed)
    q = weighting.q_star(result.train_prevalence, fine_a[:, None], 2.0 ** fine_w[None, :], fraction)
    # One contour trace per level: irregular levels, each line labelled with its value.
    for level in sorted(q_levels):
        traces.append(go.Contour(
            x=fine_w, y=fine_a, z=q, showscale=False, showlegend=False, hoverinfo="skip",
            name=f"q* = {level:g}",
            contours={"coloring": "none", "showlabels": True, "start": level, "end": level,
                      "size": 1.0, "labelfont": {"color": "white"}},
            line={"color": "white", "width": 2 if level == 0.5 else 1,
                  "dash": "solid" if level == 0.5 else "dot"}))
    return traces


def map_figure(result: SweepResult, metric: str, *, q_levels=Q_STAR_LEVELS, zmin=None, zmax=None,
               **fixed) -> go.Figure:
    """Heatmap of ``metric`` over alpha (rows) x pos_weight (columns), mean over seeds,
    with q* contour lines. ``fixed`` pins every other varying setting (e.g. ``gamma=2.0``).

    Alpha "off" (None) and pos_weight "off" have no place on a numeric axis: pass a grid
    with numbers (pos_weight=1 is "off" in effect).
    """
    alphas, weights, _ = _axes(result, metric, fixed)
    log_w = np.log2(weights)
    fig = go.Figure(_traces(result, metric, q_levels=q_levels, zmin=zmin, zmax=zmax, fixed=fixed))
    fig.update_layout(
        title={"text": f"{_TITLES.get(metric, metric)}<br><sup>white lines: q* at training prevalence "
                        f"{result.train_prevalence:.3f} (solid: 0.5, plain BCE)</sup>"},
        xaxis={"title": "pos_weight", "tickvals": log_w, "ticktext": [f"{w:g}" for w in weights]},
        yaxis={"title": "alpha (weight of positives)", "tickvals": alphas},
        width=640, height=440, margin={"l": 70, "r": 20, "t": 60, "b": 60})
    return fig


def map_panel(result: SweepResult, metrics=PANEL_METRICS, *, q_levels=Q_STAR_LEVELS, **fixed) -> go.Figure:
    """The maps of ``metrics`` side by side, each with its q* lines and its own colour bar.

    The default adds event sensitivity at the fixed false-alarm budget beside AUROC and the
    predicted-positive rate: the field's figure next to the two the postmortem read. Its
    subtitle says what the event figures rest on."""
    metrics = list(metrics)
    n = len(metrics)
    fig = make_subplots(rows=1, cols=n, horizontal_spacing=0.09,
                        subplot_titles=[_TITLES.get(m, m) for m in metrics])
    width = (1 - 0.09 * (n - 1)) / n
    for k, metric in enumerate(metrics):
        zmin, zmax = _RANGES.get(metric, (None, None))
        bar = {"x": k * (width + 0.09) + width + 0.005, "len": 0.9, "thickness": 10}
        for trace in _traces(result, metric, q_levels=q_levels, zmin=zmin, zmax=zmax, fixed=fixed,
                             colorbar=bar):
            fig.add_trace(trace, row=1, col=k + 1)
        alphas, weights, _ = _axes(result, metric, fixed)
        fig.update_xaxes(title_text="pos_weight", tickvals=np.log2(weights),
                         ticktext=[f"{w:g}" for w in weights], row=1, col=k + 1)
        fig.update_yaxes(title_text="alpha" if k == 0 else None, tickvals=alphas, row=1, col=k + 1)
    fig.update_annotations(font_size=11)
    fig.update_layout(title={"text": "the sweep's maps<br><sup>" + _basis(result) + "</sup>"},
                      width=430 * n, height=460, margin={"l": 60, "r": 40, "t": 95, "b": 60})
    return fig


def _basis(result: SweepResult) -> str:
    e = result.evidence
    text = (f"white lines: q* at training prevalence {result.train_prevalence:.3f}; windows: "
            f"{e['n_val_seizures']} seizures in {e['n_val_recordings']} validation recordings")
    if "event_hours" in e:
        text += (f"; events: {e['n_event_seizures']} seizures in {e['event_hours']:.1f} h, threshold "
                 f"chosen on {e['calibration_event_hours']:.1f} h of calibration recordings")
    return text


def _single(result: SweepResult, key: str, fixed: dict):
    if key in fixed:
        return fixed[key]
    values = {getattr(s, key) for s in result.settings}
    if len(values) != 1:
        raise invalid(key, "map_figure", "pinned when it varies in the grid", sorted(values, key=str))
    return values.pop()
