"""The sweep map: a measured metric over alpha x pos_weight, with the theory's q* contour on top.

The heatmap is what training produced (:class:`brr_lab.sweep.SweepResult`); the contour
lines are :func:`brr_lab.weighting.q_star` at the training prevalence, computed on a fine
grid of the same two axes. pos_weight is drawn on a log2 axis, so 1, 2, 4, ... are evenly
spaced and the contour stays smooth between the measured columns.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from brr_lab import weighting
from brr_lab._validation import invalid
from brr_lab.sweep import SweepResult

__all__ = ["map_figure", "Q_STAR_LEVELS"]

# Posterior thresholds worth a line: 0.5 is plain BCE; lower means "say positive sooner".
Q_STAR_LEVELS = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75)

_SHORT = {"auroc": "AUROC", "auprc": "AUPRC", "pred_pos_rate": "pred. +", "recall": "recall",
          "train_loss": "loss"}
_TITLES = {"auroc": "validation AUROC", "auprc": "validation AUPRC",
           "pred_pos_rate": "validation windows predicted positive (p >= 0.5)",
           "recall": "validation recall at 0.5",
           "train_loss": "training loss, last epoch", "q_star": "q*"}


def map_figure(result: SweepResult, metric: str, *, q_levels=Q_STAR_LEVELS, zmin=None, zmax=None,
               **fixed) -> go.Figure:
    """Heatmap of ``metric`` over alpha (rows) x pos_weight (columns), mean over seeds,
    with q* contour lines. ``fixed`` pins every other varying setting (e.g. ``gamma=2.0``).

    Alpha "off" (None) and pos_weight "off" have no place on a numeric axis: pass a grid
    with numbers (pos_weight=1 is "off" in effect).
    """
    alphas, weights, table = result.pivot(metric, index="alpha", columns="pos_weight", **fixed)
    if any(v is None for v in alphas) or any(v is None for v in weights):
        raise invalid("result", "map_figure", "a grid of numeric alpha and pos_weight values "
                      "(use pos_weight=1 for 'off')", f"alpha {alphas}, pos_weight {weights}")
    alphas = np.asarray(alphas, dtype=float)
    log_w = np.log2(np.asarray(weights, dtype=float))
    fig = go.Figure(go.Heatmap(
        x=log_w, y=alphas, z=table, zmin=zmin, zmax=zmax, colorscale="Viridis",
        colorbar={"title": {"text": _SHORT.get(metric, metric)}},
        text=np.round(table, 2), texttemplate="%{text}",
        hovertemplate="alpha %{y}<br>pos_weight %{customdata}<br>" + metric + " %{z:.3f}<extra></extra>",
        customdata=np.broadcast_to(np.asarray(weights, dtype=float), table.shape)))
    fine_a = np.linspace(max(alphas.min() - 0.05, 0.01), min(alphas.max() + 0.05, 0.99), 60)
    fine_w = np.linspace(log_w.min() - 0.5, log_w.max() + 0.5, 60)
    fraction = _single(result, "sampler_fraction", fixed)
    q = weighting.q_star(result.train_prevalence, fine_a[:, None], 2.0 ** fine_w[None, :], fraction)
    # One contour trace per level: irregular levels, each line labelled with its value.
    for level in sorted(q_levels):
        fig.add_trace(go.Contour(
            x=fine_w, y=fine_a, z=q, showscale=False, showlegend=False, hoverinfo="skip",
            name=f"q* = {level:g}",
            contours={"coloring": "none", "showlabels": True, "start": level, "end": level,
                      "size": 1.0, "labelfont": {"color": "white"}},
            line={"color": "white", "width": 2 if level == 0.5 else 1,
                  "dash": "solid" if level == 0.5 else "dot"}))
    fig.update_layout(
        title={"text": f"{_TITLES.get(metric, metric)}<br><sup>white lines: q* at training prevalence "
                        f"{result.train_prevalence:.3f} (solid: 0.5, plain BCE)</sup>"},
        xaxis={"title": "pos_weight", "tickvals": log_w, "ticktext": [f"{w:g}" for w in weights]},
        yaxis={"title": "alpha (weight of positives)", "tickvals": alphas},
        width=640, height=440, margin={"l": 70, "r": 20, "t": 60, "b": 60})
    return fig


def _single(result: SweepResult, key: str, fixed: dict):
    if key in fixed:
        return fixed[key]
    values = {getattr(s, key) for s in result.settings}
    if len(values) != 1:
        raise invalid(key, "map_figure", "pinned when it varies in the grid", sorted(values, key=str))
    return values.pop()
