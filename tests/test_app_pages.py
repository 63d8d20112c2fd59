"""The lesson pages' prose and what they render, without a browser.

Markdown cells are static text, so a figure typed into one does not follow the library
when it changes. Two rules keep them honest (:func:`typed_figures`):

* a number in markdown must be one the postmortem itself states (``docs/postmortem.md``):
  a quoted figure such as alpha 0.25, pos_weight 12 or AUROC 0.5. Every other figure is
  printed by a hidden code cell from the library;
* a count or a duration (a number, in digits or words, followed by recordings, seizures,
  seeds, setups, runs, epochs, hours, false alarms, ...) is never typed, even when its
  number happens to appear in the postmortem (8 setups, 12 hours): those the library
  computes.

The checker is shown to flag the figures that were once typed into the pages, and the
render helpers are fed fabricated rows: a warning below the seizure minimum, and a report
card with no dict, repr or long float in it.
"""
from __future__ import annotations

import math
import re

import nbformat
import pytest

from brr_lab.app import lessons
from brr_lab.app.render import evidence_html, planned_split, report_card_html, source_file
from brr_lab.experiments.evaluation import MIN_EVENT_HOURS, MIN_SEIZURES

_NUMBER = r"(?<![\w.])\d+(?:\.\d+)?"
_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "twenty", "forty", "fifty", "hundred")
_UNITS = ("recordings?", "seizures?", "seeds?", "setups?", "scenarios?", "runs?", "models?",
          "epochs?", "windows?", "hours?", "h", "s", "seconds?", "minutes?", "min",
          "false alarms?", "channels?", "claims?", "days?")
# Words that may sit between a count and its unit ("56 validation recordings").
_QUALIFIERS = ("training", "validation", "calibration", "held-out", "seizure", "background",
               "event", "EEG", "small", "more", "sample", "generated", "trained", "long", "short")
# A count or duration: a number, at most two qualifiers, then a unit.
_COUNTED = re.compile(rf"(?:{_NUMBER}|\b(?:{'|'.join(_WORDS)})\b)[\s-]+"
                      rf"(?:(?:{'|'.join(_QUALIFIERS)})\s+){{0,2}}(?:{'|'.join(_UNITS)})\b",
                      re.IGNORECASE)
# Not figures: names and references (the 10-20 electrode system, a rate per 24 h, lesson and
# list numbers, headings, links, code such as `focal-alpha-0.25`).
_NOT_FIGURES = [re.compile(p, re.MULTILINE | re.IGNORECASE) for p in (
    r"`[^`]*`", r"\[[^\]]*\]\([^)]*\)", r"^#+ .*$", r"^\s*\d+\.\s", r"\b10-20\b",
    r"per 24 ?h(?:ours)?\b", r"\blessons? \d+(?: to \d+)?")]


def _strip(text: str) -> str:
    for pattern in _NOT_FIGURES:
        text = pattern.sub(" ", text)
    return text


def postmortem_figures() -> set[str]:
    """The numbers the postmortem states (its list numbering left out)."""
    path = source_file("docs/postmortem.md")
    if path is None:
        pytest.skip("docs/postmortem.md is not beside this copy of brr_lab")
    text = re.sub(r"^\s*\d+\.\s", " ", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return set(re.findall(_NUMBER, text))


def typed_figures(markdown: str, quoted: set[str]) -> list[str]:
    """Figures in ``markdown`` that should come from the library: numbers the postmortem
    does not state, and every typed count or duration."""
    text = _strip(markdown)
    found = [m.group(0) for m in _COUNTED.finditer(text)]
    found += [n for n in re.findall(_NUMBER, text) if n not in quoted]
    return found


@pytest.mark.parametrize("path", lessons(), ids=lambda p: p.stem)
def test_page_markdown_types_no_figure_the_library_computes(path):
    quoted = postmortem_figures()
    nb = nbformat.read(path, as_version=4)
    typed = {i: typed_figures(c.source, quoted) for i, c in enumerate(nb.cells)
             if c.cell_type == "markdown"}
    typed = {i: found for i, found in typed.items() if found}
    assert not typed, (f"{path.name}: markdown cells type figures {typed} (cell: figures); print "
                       "them from the library in a code cell, or quote the postmortem")


def test_the_check_flags_the_figures_once_typed_into_the_pages():
    from brr_lab.eeg.cohort import SyntheticCohort
    from brr_lab.experiments.repro import DEFAULT_EPOCHS, DEFAULT_SEEDS
    from brr_lab.postmortem import SCENARIOS_NEEDED
    from brr_lab.widgets.threshold_explorer import DEFAULT_TARGET_FA_PER_24H

    quoted = postmortem_figures()
    split = planned_split()
    typed = [f"trained on {split['train']} training / {split['validation']} validation recordings",
             f"at most {DEFAULT_TARGET_FA_PER_24H:g} false alarms per 24 h",
             f"{len(SCENARIOS_NEEDED)} setups x {DEFAULT_SEEDS} seeds",
             f"a cohort of {SyntheticCohort().n_recordings} recordings", "42 seizures in 2.3 hours",
             f"the protocol's {DEFAULT_EPOCHS} epochs", "Six epochs take a few seconds",
             "about 10 s more", "19 EEG channels", "the effective ratio becomes 144 : 1"]
    for text in typed:
        assert typed_figures(text, quoted), text
    fine = ["alpha 0.25 with pos_weight 12 (the 'bug')", "AUROC 0.5, all predictions 0",
            "Ratio = 3/0.75 = 4 (should be 12!)", "false alarms per 24 hours",
            "named by the 10-20 system", "lessons 4 to 6", "`focal-alpha-0.25`",
            "[2 · Data and labels](./02_data_and_labels.ipynb)", "how much one seizure window weighs"]
    for text in fine:
        assert typed_figures(text, quoted) == [], text


def test_planned_split_follows_the_split_rule():
    from dataclasses import replace

    from brr_lab.eeg.cohort import SyntheticCohort

    spec = SyntheticCohort()
    sizes = planned_split(spec)
    assert sum(sizes.values()) == spec.n_recordings
    assert sizes["validation"] > sizes["calibration"] > 0 and sizes["train"] > 0
    assert planned_split(replace(spec, fractions=(0.2, 0.2, 0.6)))["train"] > sizes["train"]


@pytest.mark.slow
def test_planned_split_is_the_generated_cohorts():
    from brr_lab.eeg.cohort import load_cohort

    cohort = load_cohort()  # cached after its first generation
    assert planned_split() == {p: cohort.size(p)["n_recordings"]
                               for p in ("train", "calibration", "validation")}


def _row(scenario="bce", seed=0, seizures=42, hours=2.33, event_seizures=42, event_hours=12.0):
    return {"scenario": scenario, "seed": seed, "auroc": 0.9, "auroc_ci": [0.87, 0.93],
            "pred_pos_rate": 0.05, "pred_pos_rate_ci": [0.04, 0.06], "prevalence": 0.074,
            "effective_ratio": 12.0,
            "n_val_recordings": 56, "n_val_seizures": seizures, "n_val_windows": 8344,
            "val_hours": hours, "n_event_seizures": event_seizures, "n_event_recordings": 24,
            "event_hours": event_hours}


@pytest.mark.parametrize("short, warned", [
    ({}, False),
    ({"seizures": MIN_SEIZURES - 1}, True),
    ({"seizures": MIN_SEIZURES}, False),
    ({"event_seizures": MIN_SEIZURES - 1}, True),
    ({"event_hours": MIN_EVENT_HOURS / 2}, True),
])
def test_evidence_box_warns_below_the_minimum(short, warned):
    box = evidence_html(_row(**short))
    assert ("brr-evidence-warning" in box) is warned and ("brr-evidence-ok" in box) is not warned
    assert "seizure(s) in 56 validation recording(s)" in box and "event scores rest on" in box
    if warned:
        assert "Few seizures" in box and "too little to judge" in box


def _card_rows(seizures=42):
    from brr_lab.postmortem import SCENARIOS_NEEDED

    rows = []
    for name in SCENARIOS_NEEDED:
        for seed in range(3):
            row = _row(name, seed, seizures=seizures)
            if name == "labels-all-zero":  # the parser bug: no seizure anywhere, by design
                row.update(auroc=math.nan, auroc_ci=[math.nan, math.nan], pred_pos_rate=0.0,
                           pred_pos_rate_ci=[0.0, 0.0], n_event_seizures=0)
            rows.append(row)
    return rows


@pytest.mark.parametrize("seizures", [42, MIN_SEIZURES - 5])
def test_report_card_renders_as_tables_and_prose(seizures):
    from brr_lab.postmortem import CLAIMS, report_card

    rows = _card_rows(seizures)
    card = report_card(rows)
    page = "".join(report_card_html(card, rows))
    assert page.count("<table") == 1 and page.count("class='brr-claim'") == len(CLAIMS)
    for g in card.grades:
        assert g.grade in page
    text = re.sub(r"<[^>]+>|arXiv:\S+", " ", page)  # tags, and the paper's id (not a float)
    assert not re.search(r"\{'|'\}|Grade\(|Claim\(|Measured\(|\bnan\b", text), text
    assert not re.search(r"\d\.\d{4,}", text), "float noise: " + str(re.findall(r"\d\.\d{4,}", text))
    assert f"{seizures} seizures in 56 validation recordings" in text
    assert ("Few seizures" in text) is (seizures < MIN_SEIZURES)
    assert "3 seeds per setup" in text
