"""What a lesson page shows instead of a code cell's printout: tables, notes, the evidence's size.

Pages hold no logic of their own; these helpers only turn library results into HTML a
class can read (rounded numbers with units, tables as tables, no reprs).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["table", "note", "evidence_html", "EvidenceBanner", "source_file", "quoted_markdown"]

_REPO = Path(__file__).resolve().parents[2]

_NOTE_STYLE = {
    "info": "background:#eef5fb;border-left:4px solid #1f77b4",
    "warning": "background:#fff4e5;border-left:4px solid #e67e00",
    "error": "background:#fdecea;border-left:4px solid #b00",
}


def table(header: Sequence[str], rows: Iterable[Sequence], *, css: str = "") -> str:
    """An HTML table; cells are shown as given (format numbers before, with units)."""
    head = "".join(f"<th style='text-align:left;padding:2px 12px 2px 0'>{html.escape(str(h))}</th>"
                   for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;vertical-align:top;padding:2px 12px 2px 0'>{html.escape(str(c))}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f"<table class='brr-table {css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def note(text: str, kind: str = "info", *, css: str = "") -> str:
    """A boxed sentence: ``kind`` is 'info', 'warning' or 'error'."""
    style = _NOTE_STYLE[kind]
    return (f"<div class='brr-note brr-{kind} {css}' style='{style};padding:6px 10px;margin:6px 0'>"
            f"{html.escape(text)}</div>")


def evidence_html(row: dict) -> str:
    """What a result rests on (:func:`brr_lab.experiments.evaluation.evidence_note`), as a warning box
    when it rests on fewer than ``MIN_SEIZURES`` validation seizures or ``MIN_HOURS``."""
    from brr_lab.experiments.evaluation import MIN_HOURS, MIN_SEIZURES, evidence_note

    short = row["n_val_seizures"] < MIN_SEIZURES or row["val_hours"] < MIN_HOURS
    text = "This result " + evidence_note(row) + "."
    if short:
        return note("Few seizures: " + text, "warning", css="brr-evidence-warning")
    return note(text, "info", css="brr-evidence-ok")


class EvidenceBanner:
    """An HTML widget under a :class:`brr_lab.widgets.TrainingPanel` that states, after each
    run, what the result rests on (a warning below 40 validation seizures)."""

    def __init__(self, panel) -> None:
        import ipywidgets as widgets

        self.panel = panel
        self.widget = widgets.HTML()
        self.widget.add_class("brr-evidence-banner")
        # The panel sets its result text once a run ends (and clears it when one starts).
        panel.result.observe(self._update, names="value")

    def _update(self, _change=None) -> None:
        row = self.panel.row
        self.widget.value = "" if row is None else evidence_html(row)


def source_file(relative: str) -> Path | None:
    """A file of the source checkout (``docs/...``) beside the package, or None when the
    package runs from an install without it."""
    path = _REPO / relative
    return path if path.is_file() else None


def quoted_markdown(text: str) -> str:
    """``text`` as a Markdown block quote, headings kept (a quote, not our prose)."""
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())
