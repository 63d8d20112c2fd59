"""The postmortem's report card: its claims as data, each graded by code from its evidence."""
from brr_lab.postmortem.card import SCENARIOS_NEEDED, ReportCard, collect_rows, report_card
from brr_lab.postmortem.claims import BASES, CLAIMS, GRADES, Claim, Grade

__all__ = ["BASES", "CLAIMS", "GRADES", "Claim", "Grade", "ReportCard", "SCENARIOS_NEEDED",
           "collect_rows", "report_card"]
