"""The report card: every claim of the postmortem graded, rendered as text or as JSON records.

:func:`report_card` grades from rows you pass (fabricated ones in tests); :func:`collect_rows`
trains (or reads from the cache) the runs it needs through :func:`brr_lab.experiments.repro.run_repro`.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

from brr_lab.postmortem import arithmetic as ar
from brr_lab.postmortem import trained as tr
from brr_lab.postmortem.claims import CLAIMS, GRADES, Grade
from brr_lab.postmortem.measured import by_scenario

__all__ = ["SCENARIOS_NEEDED", "ReportCard", "report_card", "collect_rows"]

SCENARIOS_NEEDED = ("bce", "focal-alpha-0.25", "postmortem-bug", "postmortem-fix",
                    "fix-plus-sampler", "one-mechanism", "bce-prior-init", "labels-all-zero")


@dataclass(frozen=True)
class ReportCard:
    """The graded claims, in the order of :data:`~brr_lab.postmortem.claims.CLAIMS`."""

    grades: tuple[Grade, ...]

    def __getitem__(self, claim_id: str) -> Grade:
        for g in self.grades:
            if g.claim.id == claim_id:
                return g
        raise KeyError(f"no claim {claim_id!r}; claims: {[g.claim.id for g in self.grades]}")

    def records(self) -> list[dict]:
        """One dict per claim: ``claim``, ``quote``, ``implies``, ``grade``, ``basis``,
        ``evidence``, ``evidence_size``, ``reason`` (the JSON of ``brr-lab grade``)."""
        return [g.as_dict() for g in self.grades]

    def tally(self) -> dict[str, int]:
        """How many claims got each grade (every grade of the vocabulary, zeros included)."""
        return {grade: sum(g.grade == grade for g in self.grades) for grade in GRADES}

    def to_text(self, width: int = 100) -> str:
        """A table (claim, grade, basis), then per claim its quote, evidence and reason."""
        w_id = max(len(g.claim.id) for g in self.grades)
        w_grade = max(len(g.grade) for g in self.grades)
        head = f"{'claim':<{w_id}}  {'grade':<{w_grade}}  basis"
        lines = [head, "-" * len(head)]
        lines += [f"{g.claim.id:<{w_id}}  {g.grade:<{w_grade}}  {g.claim.basis}" for g in self.grades]
        lines.append("")
        lines.append(", ".join(f"{k} {v}" for k, v in self.tally().items() if v))
        for g in self.grades:
            lines += ["", f"{g.claim.id} [{g.grade}]"]
            for label, text in (("quote", f'"{g.claim.quote}"'), ("evidence", g.evidence),
                                ("reason", g.reason)):
                lines += textwrap.wrap(text, width, initial_indent=f"  {label}: ",
                                       subsequent_indent="    ")
        return "\n".join(lines)


def report_card(rows: list[dict], *, batch_size: int | None = None) -> ReportCard:
    """Grade every claim from ``rows`` of :func:`brr_lab.experiments.repro.run_repro` (they must hold the
    scenarios of :data:`SCENARIOS_NEEDED`). ``batch_size``: the training batch (default: the
    protocol's, 64)."""
    if batch_size is None:
        from brr_lab.configs import TrainerSettings

        batch_size = TrainerSettings().batch_size
    m = by_scenario(rows, SCENARIOS_NEEDED)
    under = [m["bce"], m["focal-alpha-0.25"]]
    grades = (
        ar.grade_alpha_down_weights(),
        ar.grade_alpha_backwards(),
        ar.grade_ratio_is_4(measured=m["postmortem-bug"]),
        tr.grade_ratio_should_be_12(m["postmortem-bug"], m["postmortem-fix"]),
        ar.grade_double_counting(measured=m["fix-plus-sampler"]),
        tr.grade_bug_caused_collapse(m["postmortem-bug"], m["postmortem-fix"]),
        tr.grade_auroc_half(m["labels-all-zero"], under),
        ar.grade_neutral_alpha_switch(),
        ar.grade_sampling_everywhere(measured=m["fix-plus-sampler"],
                                     without_sampler=m["postmortem-fix"]),
        tr.grade_batch_exposure(m["bce-prior-init"], batch_size=batch_size),
        tr.grade_fix_auroc(m["fix-plus-sampler"]),
        tr.grade_assert_auroc(m["fix-plus-sampler"], m["labels-all-zero"], under),
        tr.grade_one_mechanism(m["one-mechanism"], m["bce-prior-init"]),
    )
    assert [g.claim.id for g in grades] == [c.id for c in CLAIMS]  # one grade per claim, in order
    return ReportCard(grades)


def collect_rows(*, seeds: int | None = None, epochs: int | None = None, workers: int = 1,
                 cohort=None, log=None) -> list[dict]:
    """The runs the card needs, on the protocol's cohort (or ``cohort``), read from the run
    cache when this code already trained them (``run_repro(cache=True)``)."""
    from brr_lab.experiments.repro import DEFAULT_SEEDS, run_repro

    return run_repro(cohort=cohort, scenarios=SCENARIOS_NEEDED,
                     seeds=DEFAULT_SEEDS if seeds is None else seeds, epochs=epochs,
                     workers=workers, log=log, cache=True)
