"""What the training panel draws and prints: its controls, the live figure and the final result.

Plain functions of a run's settings, history and row (:mod:`brr_lab.widgets.training_panel`
wires them to the trainer): the per-epoch figure (:data:`PLOTTED`), the lines the log gets,
and the final figures as HTML and text, the SzCORE event figures included.
"""
from __future__ import annotations

import html
import math

import ipywidgets as widgets
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from brr_lab.experiments.evaluation import ESCAPE_AUROC, event_note, evidence_note

__all__ = ["PLOTTED"]

# (history key, legend name, subplot column, dashed, shown in the legend), in trace order.
# The prevalence is drawn in both plots: it is AUPRC's floor and the rate a well-calibrated
# model would call positive.
PLOTTED: tuple[tuple[str, str, int, bool, bool], ...] = (
    ("val_auroc", "AUROC", 1, False, True),
    ("val_auprc", "AUPRC", 1, False, True),
    ("val_prevalence", "prevalence", 1, True, True),
    ("pred_pos_rate", "predicted positive (at 0.5)", 2, False, True),
    ("pos_grad_share", "positives' gradient share", 2, False, True),
    ("val_prevalence", "prevalence", 2, True, False),
)
_COLOURS = {"val_auroc": "#1f77b4", "val_auprc": "#ff7f0e", "val_prevalence": "#555",
            "pred_pos_rate": "#d62728", "pos_grad_share": "#2ca02c"}


def _plot_value(x) -> float | None:
    """NaN (AUROC on single-class labels) becomes a gap in the plot, not a point at 0."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _fmt(x, spec: str) -> str:
    return "n/a" if _plot_value(x) is None else format(x, spec)


def _controls(scenario: str, seed: int, epochs: int, scenarios: list[str], epoch_range) -> dict:
    """The panel's widgets by attribute name, each with its ``brr-*`` CSS class."""
    w = {"scenario_dropdown": widgets.Dropdown(options=scenarios, value=scenario, description="scenario"),
         # IntText, not a bounded box: a bounded one clamps silently; train() validates.
         "seed_input": widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="12em")),
         # continuous_update=False: only a released slider sends its value.
         "epochs_slider": widgets.IntSlider(value=epochs, min=epoch_range[0], max=epoch_range[1],
                                            description="epochs", continuous_update=False),
         "train_button": widgets.Button(description="Train", button_style="primary", icon="play"),
         "progress": widgets.IntProgress(value=0, min=0, max=epochs, description=f"epoch 0/{epochs}",
                                         style={"description_width": "7em"}),
         "about": widgets.HTML(), "result": widgets.HTML(), "out": widgets.Output()}
    for name, css in (("scenario_dropdown", "scenario"), ("seed_input", "seed"),
                      ("epochs_slider", "epochs"), ("train_button", "train"), ("progress", "progress"),
                      ("about", "about"), ("result", "result"), ("out", "log")):
        w[name].add_class(f"brr-{css}")
    return w


def _epoch_line(record: dict) -> str:
    return (f"epoch {record['epoch']}: AUROC {_fmt(record.get('val_auroc'), '.3f')}, AUPRC "
            f"{_fmt(record.get('val_auprc'), '.3f')} (prevalence "
            f"{_fmt(record.get('val_prevalence'), '.3f')}), predicted positive "
            f"{_fmt(record.get('pred_pos_rate'), '.1%')}, positives' gradient share "
            f"{_fmt(record.get('pos_grad_share'), '.1%')}, {record.get('diagnosis')}\n")


def _start_lines(s: dict, data, trainer) -> list[str]:
    """What a run starts from: the settings, the cohort, the monitor and the weighting."""
    n_monitor = len(trainer.val_data[1]) if trainer.val_data is not None else 0
    lines = [f"{s['scenario']}, seed {s['seed']}, {s['epochs']} epoch(s)",
             *data.describe().splitlines(),
             f"per epoch: {n_monitor} monitor windows of the calibration part; at the end: "
             "the validation recordings and the validation event recordings"]
    if trainer.setup is not None:
        lines += trainer.setup.summary().splitlines()
    else:
        lines.append("class weighting not resolved: the training labels hold one class")
    if trainer.sampler is not None:
        lines.append(trainer.sampler.report().describe())
    return lines


def _make_figure(epochs: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "ranking (monitor windows)", "calls at 0.5 (monitor) · gradient (training)"))
    for key, name, col, dashed, legend in PLOTTED:
        line = {"color": _COLOURS[key]}
        if dashed:
            line["dash"] = "dash"
        fig.add_scatter(x=[], y=[], mode="lines+markers", name=name, line=line,
                        showlegend=legend, row=1, col=col)
    fig.update_xaxes(title_text="epoch", range=[0.5, epochs + 0.5])
    fig.update_yaxes(range=[0, 1.02])
    fig.update_layout(height=340, margin={"l": 50, "r": 20, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.3})
    return fig


def _result(row: dict, d) -> tuple[list[str], list[str]]:
    """The final figures as HTML parts and as text lines."""
    parts, text = [], []
    if row.get("guard"):
        parts.append('<p class="brr-guard" style="color:#b00"><b>The label guard stops '
                     f"this run:</b> {html.escape(row['guard'])}</p><p>Forced past the guard "
                     "(what a pipeline without it does), the run below shows the "
                     "postmortem's signature.</p>")
        text.append(f"label guard: {row['guard']}")
        text.append("forced past the guard:")
    final = (f"final, on the validation recordings: AUROC {_fmt(row['auroc'], '.3f')} "
             f"(95% CI {_interval(row['auroc_ci'], '.3f')}), AUPRC {_fmt(row['auprc'], '.3f')} "
             f"(prevalence {_fmt(row['prevalence'], '.3f')}), predicted positive at "
             f"{row['threshold']:.2g}: {_fmt(row['pred_pos_rate'], '.1%')} (95% CI "
             f"{_interval(row['pred_pos_rate_ci'], '.1%')}), recall {_fmt(row['recall'], '.2f')}; "
             f"monitor AUROC passed {ESCAPE_AUROC:g} at epoch "
             f"{row['escape_epoch'] if row['escape_epoch'] is not None else 'never'}")
    evidence = "evidence: " + evidence_note(row)
    events, events_html = _events(row)
    text += [final, evidence, *events]
    parts.append(f"<p>{html.escape(final)}</p><p class='brr-evidence'>{html.escape(evidence)}</p>")
    parts.append(events_html)
    if d is not None:
        text.append(str(d))
        steps = "".join(f"<li>{html.escape(s)}</li>" for s in d.next_steps)
        parts.append(f'<p><b class="brr-diagnosis">diagnosis: {html.escape(d.state)}</b> - '
                     f"{html.escape(d.reason)}</p><ul>{steps}</ul>")
    return parts, text


def _events(row: dict) -> tuple[list[str], str]:
    """The SzCORE event figures at the run's threshold and at the moved one: text lines and
    an HTML table (class ``brr-events``)."""
    moved = row.get("threshold_moved")
    points = [(f"at {row['threshold']:.3g}", row)]
    if moved is not None:
        points.append((f"at {moved['threshold']:.3g}, chosen on calibration for <= "
                       f"{moved['target']['fa_per_24h']:g} FA/24h", moved))

    def cells(r):
        return (f"{_fmt(r['event_sensitivity'], '.2f')} ({_interval(r['event_sensitivity_ci'], '.2f')})",
                f"{_fmt(r['fa_per_24h'], '.1f')} ({_interval(r['fa_per_24h_ci'], '.1f')})")
    lines = [f"events (SzCORE) {label}: sensitivity {a}, false alarms per 24 h {b}"
             for label, r in points for a, b in [cells(r)]]
    note = event_note(row)
    if moved is None:
        note += "; no threshold could be chosen on calibration (no seizure there, or no output)"
    else:
        note += f"; the moved threshold was chosen on the {moved['chosen_on']}"
    lines.append(note)
    body = "".join(f"<tr><td>{html.escape(label)}</td><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                   for label, r in points for a, b in [cells(r)])
    table = (f"<table class='brr-events'><tr><th>final model, validation event recordings</th>"
             f"<th>event sensitivity (95% CI)</th><th>false alarms / 24 h (95% CI)</th></tr>{body}"
             f"</table><p class='brr-event-evidence'>{html.escape(note)}</p>")
    return lines, table


def _interval(pair, spec: str) -> str:
    if pair is None or any(_plot_value(v) is None for v in pair):
        return "n/a"
    return f"{format(pair[0], spec)}-{format(pair[1], spec)}"
