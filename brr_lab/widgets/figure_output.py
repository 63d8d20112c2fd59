"""Plotly figures drawn into a plain ``ipywidgets.Output`` as plotly's JSON mime bundle.

plotly's ``go.FigureWidget`` is an anywidget, and anywidget 0.11 silently drops every
message to a widget whose (5 MB) script takes over 2 s to load, so on a busy page its plot
stays empty. An ``Output`` is a core widget: each redraw re-sends the whole figure in one
message, which the page draws whenever it arrives.
"""
from __future__ import annotations

import json
import math

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from brr_lab._validation import invalid

__all__ = ["figure_output", "show_figure", "plain"]


def plain(values) -> list[float | None]:
    """``values`` as a plain list of floats for a plotly trace, None (a gap) for NaN or inf."""
    return [float(v) if v is not None and math.isfinite(v) else None for v in np.ravel(values)]


def figure_output(css_class: str) -> widgets.Output:
    """An empty ``Output`` for :func:`show_figure`, with ``css_class`` for tests and styles."""
    out = widgets.Output()
    out.add_class(css_class)
    return out


def show_figure(out: widgets.Output, fig: go.Figure) -> None:
    """Show ``fig`` in ``out``, whole, as plotly's JSON mime bundle (replacing what it showed).

    Not a ``go.FigureWidget``: that is an anywidget, whose figure and every later edit reach
    the page as updates after the widget opens, and anywidget 0.11 drops them all when the
    page takes over 2 s to load the widget's 5 MB script (a busy page): the plot stays empty,
    and nothing is logged. An ``Output`` is a core widget; JupyterLab's plotly renderer draws
    what this one message holds. Trace arrays must be :func:`plain` lists: numpy arrays
    would arrive as base64 specs, not as numbers a page or a test can read.
    """
    text = pio.to_json(fig, validate=False, engine="json")  # strict JSON: NaN becomes null
    if '"bdata"' in text:
        raise invalid("fig", "show_figure", "a figure whose trace arrays are plain lists "
                                            "(brr_lab.widgets.figure_output.plain)", "a numpy array")
    out.outputs = ({"output_type": "display_data", "metadata": {}, "data": {
        "application/vnd.plotly.v1+json": json.loads(text),
        "text/plain": f"<plotly figure: {len(fig.data)} traces>"}},)
