"""The weights explorer: move alpha, gamma, pos_weight, prevalence and a sampler, watch the weights.

A thin layer: every figure comes from :func:`brr_lab.weighting.analyze`, every curve from
:func:`brr_lab.weighting.loss_curves` and every mechanism or warning from
:func:`brr_lab.weighting.policy.resolve_weighting`. The panel holds no formulas of its own, so the
unit tests of those modules cover its numbers, and its own tests (no kernel needed: build
it, set a slider's ``.value``, read :attr:`WeightsExplorer.report` and the figure data)
cover the wiring.

Use in a notebook::

    from brr_lab.widgets import WeightsExplorer
    WeightsExplorer(alpha=0.25, pos_weight=12, prevalence=1/13)

alpha=0.5 and pos_weight=1 are neutral (they change no odds); the panel has no "off"
switch for them. Compared with alpha off, alpha=0.5 halves every loss and gradient
curve and changes none of the table's figures.
"""
from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from brr_lab.weighting import policy

from brr_lab import weighting
from brr_lab._validation import check_real, invalid
from brr_lab.widgets.figure_output import figure_output, plain, show_figure

__all__ = ["WeightsExplorer", "SLIDER_RANGES", "CURVE_SCALES", "TABLE_ROWS"]

_WHERE = "WeightsExplorer"

# (min, max, step) of each slider. alpha stops short of 0 and 1, where one class weighs
# nothing and the ratio is 0 or infinite; prevalence stops at 0.5 (the rare class is positive).
SLIDER_RANGES: dict[str, tuple[float, float, float]] = {
    "alpha": (0.01, 0.99, 0.01),
    "gamma": (0.0, 5.0, 0.1),
    "pos_weight": (0.25, 50.0, 0.25),
    "prevalence": (0.005, 0.5, 0.0001),
    "sampler_fraction": (0.05, 0.95, 0.01),
}

# "per example": the loss of one example of each class. "class mix": the same curves
# times the share of that class in a batch (the sampler's fraction when it is on), so the
# two gradient curves cross exactly at p*.
CURVE_SCALES = ("per example", "class mix")

# key in WeightingReport (or "imbalance"), label, how to show it, what it means.
TABLE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("imbalance", "data imbalance n_neg : n_pos", "ratio",
     "(1 - prevalence) / prevalence: the correction the data asks for"),
    ("ratio", "constant-weight ratio", "ratio",
     "alpha*pos_weight : (1 - alpha), the postmortem's arithmetic"),
    ("sampler_odds", "sampler odds factor", "ratio",
     "how much the sampler multiplies the odds of a positive (1 = off)"),
    ("effective_ratio", "effective ratio", "ratio",
     "constant-weight ratio x sampler odds: what the loss trains under; also the plain-BCE "
     "pos_weight with the same q* at threshold 0.5"),
    ("q_star", "q* at threshold 0.5", "prob",
     "the optimum says positive once P(seizure) > q*; gamma does not move it at 0.5, "
     "but does at any other threshold (the p-vs-q panel)"),
    ("p_star", "p*", "prob",
     "best constant prediction, where a model with no features settles; gamma pulls it to 0.5"),
    ("equivalent_pos_weight", "BCE pos_weight with the same p*", "ratio",
     "the plain-BCE pos_weight whose best constant prediction is this p*"),
    ("pos_grad_share_at_init", "positives' gradient share at init", "share",
     "share of |dL/dz| from positives when every p = 0.5 (a fresh model)"),
    ("pos_grad_share_at_prior", "positives' gradient share at the prior", "share",
     "the same when every p = prevalence (a model that learned only the prior)"),
)


def _fmt(value: float, kind: str) -> str:
    if not math.isfinite(value):
        return str(value)
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "prob":
        return f"{value:.3g}"
    return f"{value:.4g}"


def _frame(rows: dict[str, float]):
    """The table as a pandas DataFrame of rounded text, indexed by label (imported lazily)."""
    import pandas as pd

    return pd.DataFrame([{"figure": label, "value": _fmt(rows[key], kind), "meaning": meaning}
                         for key, label, kind, meaning in TABLE_ROWS]).set_index("figure")


class WeightsExplorer(widgets.VBox):
    """Sliders, a live table and two live plots of what a class-weighting setup does.

    Length: one panel; its sliders, table, plots and the listeners that redraw them share
    the panel's state. The figures themselves come from :mod:`brr_lab.weighting`.

    Args:
        alpha: focal alpha, the weight of positives, in ``SLIDER_RANGES["alpha"]``.
        gamma: focal gamma (0 = no focusing).
        pos_weight: BCE-style weight of positives (1 = neutral).
        prevalence: share of positives in the data (1/13 = 12 negatives per positive).
        sampler: whether a sampler draws positives with ``sampler_fraction`` per batch.
        sampler_fraction: positive fraction per batch when the sampler is on.
        curves: one of ``CURVE_SCALES``.
        n_points: points of the p grid for the curves (>= 3).

    Every setting must lie inside its slider's range: ipywidgets would clamp a value
    outside it silently, so the constructor and :meth:`set` raise ``ValueError`` instead.

    Attributes read by tests and notebooks: ``report`` (a ``WeightingReport`` of floats),
    ``setup`` (the ``WeightingSetup`` from the policy, stacking allowed so it is shown, not
    refused), ``table`` and ``notes`` (HTML widgets), ``figure`` (the plotly ``Figure``
    last drawn, shown whole in ``plot``, an ``Output``: see :mod:`.figure_output`), and the controls ``alpha_slider``, ``gamma_slider``,
    ``pos_weight_slider``, ``prevalence_slider``, ``sampler_checkbox``,
    ``sampler_fraction_slider`` and ``curves_toggle``.
    """

    def __init__(self, *, alpha: float = 0.25, gamma: float = 2.0, pos_weight: float = 12.0,
                 prevalence: float = 1 / 13, sampler: bool = False, sampler_fraction: float = 0.5,
                 curves: str = "per example", n_points: int = 199, **kwargs):
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 3:
            raise invalid("n_points", _WHERE, "an int >= 3", n_points)
        values = _checked(alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                          prevalence=prevalence, sampler_fraction=sampler_fraction)
        _check_sampler(sampler)
        _check_curves(curves)
        # The curves avoid p = 0 and 1, where the log loss is infinite.
        self._p = np.linspace(0.005, 0.995, n_points)

        def slider(name: str, description: str, fmt: str) -> widgets.FloatSlider:
            low, high, step = SLIDER_RANGES[name]
            # continuous_update=False: with True, the page writes its step-rounded value
            # back as soon as it draws the slider, so prevalence=1/13 silently became
            # 0.077 (12:1 turned into 11.99:1). Now only a user's move sends a value.
            s = widgets.FloatSlider(value=values[name], min=low, max=high, step=step,
                                    description=description, readout_format=fmt,
                                    continuous_update=False, style={"description_width": "9em"},
                                    layout=widgets.Layout(width="30em"))
            s.add_class(f"brr-{name.replace('_', '-')}")
            return s

        self.alpha_slider = slider("alpha", "alpha (positives)", ".2f")
        self.gamma_slider = slider("gamma", "gamma", ".1f")
        self.pos_weight_slider = slider("pos_weight", "pos_weight", ".2f")
        self.prevalence_slider = slider("prevalence", "prevalence", ".4f")
        self.sampler_checkbox = widgets.Checkbox(value=sampler, description="balanced sampler",
                                                 indent=False)
        self.sampler_fraction_slider = slider("sampler_fraction", "positive share", ".2f")
        self.curves_toggle = widgets.ToggleButtons(options=CURVE_SCALES, value=curves,
                                                   description="curves")
        self.table = widgets.HTML()
        self.table.add_class("brr-weights-table")
        self.notes = widgets.HTML()
        self.notes.add_class("brr-weights-notes")
        self.figure, self.plot = self._make_figure(), figure_output("brr-weights-plot")
        self._listeners: list = []

        controls = widgets.VBox([
            self.alpha_slider, self.gamma_slider, self.pos_weight_slider,
            self.prevalence_slider,
            widgets.HBox([self.sampler_checkbox, self.sampler_fraction_slider]),
            self.curves_toggle,
        ])
        super().__init__([controls, widgets.HBox([self.table, self.notes]), self.plot], **kwargs)
        self.add_class("brr-weights-explorer")
        for control in (self.alpha_slider, self.gamma_slider, self.pos_weight_slider,
                        self.prevalence_slider, self.sampler_checkbox,
                        self.sampler_fraction_slider, self.curves_toggle):
            control.observe(self._on_change, names="value")
        self.update()

    # ---- settings -------------------------------------------------------------------

    def settings(self) -> dict:
        """Current settings as keyword arguments of the weighting engine (sampler None when off)."""
        return {
            "alpha": self.alpha_slider.value,
            "gamma": self.gamma_slider.value,
            "pos_weight": self.pos_weight_slider.value,
            "prevalence": self.prevalence_slider.value,
            "sampler_fraction": (self.sampler_fraction_slider.value
                                 if self.sampler_checkbox.value else None),
        }

    def set(self, *, alpha: float | None = None, gamma: float | None = None,
            pos_weight: float | None = None, prevalence: float | None = None,
            sampler: bool | None = None, sampler_fraction: float | None = None,
            curves: str | None = None) -> "WeightsExplorer":
        """Move several controls at once (None leaves one as it is), then redraw once.

        Values outside a slider's range raise ``ValueError`` instead of being clamped.
        """
        given = {k: v for k, v in dict(alpha=alpha, gamma=gamma, pos_weight=pos_weight,
                                       prevalence=prevalence,
                                       sampler_fraction=sampler_fraction).items()
                 if v is not None}
        values = _checked(**given)
        if sampler is not None:
            _check_sampler(sampler)
        if curves is not None:
            _check_curves(curves)
        self._holding = True  # one redraw for the whole change, not one per control
        try:
            for name, value in values.items():
                getattr(self, f"{name}_slider").value = value
            if sampler is not None:
                self.sampler_checkbox.value = sampler
            if curves is not None:
                self.curves_toggle.value = curves
        finally:
            self._holding = False
        self.update()
        return self

    # ---- redraw ---------------------------------------------------------------------

    _holding = False

    def _on_change(self, change) -> None:
        if not self._holding:
            self.update()

    def update(self) -> None:
        """Recompute the report, the policy view, the table, the notes and the curves."""
        s = self.settings()
        self.sampler_fraction_slider.disabled = s["sampler_fraction"] is None
        self.report = weighting.analyze(**s)
        self.setup = policy.resolve_weighting(**s, allow_stacked=True)
        self.table.value = self._table_html()
        self.notes.value = self._notes_html()
        self._redraw(s)
        for callback in self._listeners:
            callback()

    def rows(self) -> dict[str, float]:
        """The table's figures as floats, keyed as in ``TABLE_ROWS``."""
        r = self.report
        out = {"imbalance": float((1 - r.prevalence) / r.prevalence)}
        for key, *_ in TABLE_ROWS[1:]:
            out[key] = float(getattr(r, key))
        return out

    def frame(self):
        """The table as shown, as a pandas DataFrame (rounded text, one row per figure)."""
        return _frame(self.rows())

    def on_update(self, callback) -> None:
        """Call ``callback()`` after every redraw (a linked panel, such as :class:`PVsQ`)."""
        self._listeners.append(callback)

    def _table_html(self) -> str:
        values = self.rows()
        lines = ['<table class="brr-table" style="border-collapse:collapse">']
        for key, label, kind, meaning in TABLE_ROWS:
            css = "brr-" + key.replace("_", "-")
            lines.append(
                f'<tr><th style="text-align:left;padding:1px 8px">{html.escape(label)}</th>'
                f'<td class="{css}" style="text-align:right;padding:1px 8px;'
                f'font-family:monospace">{_fmt(values[key], kind)}</td>'
                f'<td style="padding:1px 8px;color:#555">{html.escape(meaning)}</td></tr>')
        lines.append("</table>")
        return "\n".join(lines)

    def _notes_html(self) -> str:
        setup = self.setup
        active = ", ".join(setup.active_names) or "none"
        head = f"<b>class weighting active: {html.escape(active)}</b>"
        if setup.stacked:
            head += (' <b class="brr-stacked" style="color:#b00">STACKED: '
                     f"{len(setup.active)} mechanisms multiply</b>")
        items = [html.escape(m.describe()) for m in setup.mechanisms]
        items.append(f"gamma={setup.gamma:g}: focusing; moves p*, and q* at any threshold but 0.5")
        items += [f'<span class="brr-warning" style="color:#b00">warning: {html.escape(w)}</span>'
                  for w in setup.warnings]
        return head + "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

    def _make_figure(self) -> go.Figure:
        fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "|dL/dz|"))
        style = {"positive": "#d62728", "negative": "#1f77b4"}
        for col, what in ((1, "loss"), (2, "|dL/dz|")):
            for cls in ("positive", "negative"):
                fig.add_scatter(x=plain(self._p), y=[None] * len(self._p), mode="lines",
                                name=f"{cls} {what}", line={"color": style[cls]},
                                row=1, col=col)
        for col in (1, 2):
            fig.add_scatter(x=[0.0, 0.0], y=[0.0, 0.0], mode="lines", name="p*",
                            line={"color": "#333", "dash": "dash"}, showlegend=col == 1,
                            row=1, col=col)
        fig.update_xaxes(title_text="predicted p", range=[0, 1])
        fig.update_layout(height=340, margin={"l": 50, "r": 20, "t": 40, "b": 40},
                          legend={"orientation": "h", "y": -0.25})
        return fig

    def _redraw(self, s: dict) -> None:
        c = weighting.loss_curves(self._p, alpha=s["alpha"], gamma=s["gamma"],
                                  pos_weight=s["pos_weight"])
        if self.curves_toggle.value == "class mix":
            pb = s["sampler_fraction"] if s["sampler_fraction"] is not None else s["prevalence"]
            k_pos, k_neg = pb, 1.0 - pb
        else:
            k_pos = k_neg = 1.0
        curves = (k_pos * c["loss_pos"], k_neg * c["loss_neg"],
                  k_pos * c["grad_pos"], k_neg * c["grad_neg"])
        p_star = float(self.report.p_star)
        top_loss = float(max(curves[0].max(), curves[1].max()))
        top_grad = float(max(curves[2].max(), curves[3].max()))
        for trace, y in zip(self.figure.data[:4], curves):
            trace.y = plain(y)
        self.figure.data[4].update(x=[p_star, p_star], y=[0.0, top_loss])
        self.figure.data[5].update(x=[p_star, p_star], y=[0.0, top_grad])
        show_figure(self.plot, self.figure)  # the whole figure, in one message


def _checked(**values) -> dict[str, float]:
    out = {}
    for name, value in values.items():
        low, high, _ = SLIDER_RANGES[name]
        out[name] = check_real(value, name, _WHERE, low=low, high=high,
                               allowed=f"a real number in [{low:g}, {high:g}] (the slider's range)")
    return out


def _check_sampler(sampler) -> None:
    if not isinstance(sampler, bool):
        raise invalid("sampler", _WHERE, "True or False", sampler)


def _check_curves(curves) -> None:
    if curves not in CURVE_SCALES:
        raise invalid("curves", _WHERE, f"one of {CURVE_SCALES}", curves)
