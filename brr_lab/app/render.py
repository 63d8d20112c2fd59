"""What a lesson page shows instead of a code cell's printout: tables, notes, the evidence's size.

Pages hold no logic of their own; these helpers only turn library results into HTML a
class can read (rounded numbers with units, tables as tables, no reprs).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["table", "note", "evidence_html", "EvidenceBanner", "report_card_html",
           "planned_split", "source_file", "quoted_markdown"]

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


def _too_little(row: dict) -> list[str]:
    """What a row rests on too little of, in words: its validation windows (seizures or
    hours), and, when it has event scores, its event recordings (seizures, or hours: a
    false-alarm rate needs hours to be counted)."""
    from brr_lab.experiments.evaluation import MIN_EVENT_HOURS, MIN_HOURS, MIN_SEIZURES

    short = []
    if row["n_val_seizures"] < MIN_SEIZURES or row["val_hours"] < MIN_HOURS:
        short.append(f"its window figures ({row['n_val_seizures']} seizures, "
                     f"{row['val_hours']:.1f} h; at least {MIN_SEIZURES} seizures and "
                     f"{MIN_HOURS:g} h are needed)")
    n_events, hours = row.get("n_event_seizures"), row.get("event_hours")
    if n_events is not None and hours is not None and (n_events < MIN_SEIZURES
                                                       or hours < MIN_EVENT_HOURS):
        short.append(f"its event figures ({n_events} seizures, {hours:.1f} h; at least "
                     f"{MIN_SEIZURES} seizures and {MIN_EVENT_HOURS:g} h are needed)")
    return short


def evidence_html(row: dict, *, subject: str = "This result") -> str:
    """What a result rests on (:func:`brr_lab.experiments.evaluation.evidence_note`, and
    ``event_note`` when the row has event scores), as a warning box when it rests on fewer
    than ``MIN_SEIZURES`` seizures or too few hours. ``subject`` starts the sentence."""
    from brr_lab.experiments.evaluation import event_note, evidence_note

    text = f"{subject} " + evidence_note(row) + "."
    if row.get("n_event_seizures") is not None:
        text += " Its " + event_note(row) + "."
    short = _too_little(row)
    if short:
        return note(f"Few seizures: {' and '.join(short)} rest on too little to judge a "
                    f"setting by; read them as an indication. {text}", "warning",
                    css="brr-evidence-warning")
    return note(text, "info", css="brr-evidence-ok")


class EvidenceBanner:
    """An HTML widget under a :class:`brr_lab.widgets.TrainingPanel` that states, after each
    run, what the result rests on (a warning below ``MIN_SEIZURES`` seizures)."""

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


_GRADE_STYLE = {"right": "#1a7f37", "wrong": "#b00", "incomplete": "#b35900",
                "not reproduced": "#555", "non-diagnostic": "#6f42c1"}


def _size_text(size: dict | None) -> str:
    if not size:
        return "no trained runs"
    return (f"{size['seizures']} seizures in {size['recordings']} validation recordings "
            f"({size['hours']:.1f} h), {size['seeds']} seeds")


def _claim_html(g) -> str:
    """One graded claim in prose: the quote, its grade, what it commits to, evidence, reason."""
    color = _GRADE_STYLE.get(g.grade, "#000")
    parts = [f"<p><b>&ldquo;{html.escape(g.claim.quote)}&rdquo;</b> &mdash; <span class='brr-grade' "
             f"style='color:{color};font-weight:bold'>{html.escape(g.grade)}</span> "
             f"(graded by {html.escape(g.claim.basis)})</p>"]
    for label, text in (("What it commits to", g.claim.implies), ("Evidence", g.evidence),
                        ("Why", g.reason)):
        parts.append(f"<p style='margin:2px 0 2px 1.5em'><i>{label}:</i> {html.escape(text)}</p>")
    return f"<div class='brr-claim' style='margin:10px 0'>{''.join(parts)}</div>"


def report_card_html(card, rows: list[dict]) -> list[str]:
    """The report card as a class reads it: the tally, what its trained grades rest on (a
    warning below ``MIN_SEIZURES`` seizures), a table of the grades, then each claim in prose.
    ``card`` is :func:`brr_lab.postmortem.report_card` of ``rows``; nothing is graded here."""
    from brr_lab.experiments.scenarios import SCENARIOS

    tally = ", ".join(f"{n} {grade}" for grade, n in card.tally().items() if n)
    seeds = len({r["seed"] for r in rows})
    # Runs with every label zeroed (the parser bug) see no seizure by design: they say nothing
    # about the evidence's size. Of the others, the run with the fewest seizures speaks for all.
    labelled = [r for r in rows
                if not getattr(SCENARIOS.get(r["scenario"]), "labels_all_zero", False)]
    least = min(labelled or rows,
                key=lambda r: (r["n_val_seizures"], r.get("n_event_seizures") or 0))
    summary = table(["the postmortem says", "grade", "graded by", "rests on"],
                    [(f"\u201c{g.claim.quote}\u201d", g.grade, g.claim.basis,
                      _size_text(g.evidence_size)) for g in card.grades], css="brr-report-card")
    return [note(f"{len(card.grades)} claims graded: {tally}.", "info", css="brr-tally"),
            evidence_html(least, subject=f"Each trained grade reads {seeds} seeds per setup; "
                                         "each run"),
            summary, "<h3>Each claim, its evidence and the reason for its grade</h3>",
            *(_claim_html(g) for g in card.grades)]


def source_file(relative: str) -> Path | None:
    """A file of the source checkout (``docs/...``) beside the package, or None when the
    package runs from an install without it."""
    path = _REPO / relative
    return path if path.is_file() else None


def quoted_markdown(text: str) -> str:
    """``text`` as a Markdown block quote, headings kept (a quote, not our prose)."""
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def planned_split(spec=None) -> dict[str, int]:
    """Recordings per part (train, calibration, validation) of the generated cohort
    (:class:`brr_lab.eeg.SyntheticCohort`), by the library's split rule, without generating it.

    The rule splits the recordings with a seizure and those without by fraction, so its
    counts depend on the two group sizes only: placeholder names give the generated cohort's
    counts (a test checks them against the loaded cohort), and a page can state them
    before anything is loaded.
    """
    from brr_lab.eeg.cohort import SyntheticCohort, split_recordings

    spec = SyntheticCohort() if spec is None else spec
    has_seizure = {f"r{i:04d}": i >= spec.n_seizure_free for i in range(spec.n_recordings)}
    parts = split_recordings(has_seizure, fractions=spec.fractions)
    return {name: len(names) for name, names in parts.items()}
