"""The postmortem's claims as data, the grade vocabulary, and the figures cited from RetinaNet.

Each :class:`Claim` quotes the postmortem (``docs/postmortem.md``) word for word and says
what the quote implies, which is what gets graded. No computation here.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GRADES", "BASES", "Claim", "CLAIMS", "Grade", "RETINANET", "RETINANET_TABLE_1A",
           "RETINANET_TABLE_1B", "RETINANET_ALPHA_HALF_GAP_AT_GAMMA_2"]

# The fixed vocabulary of grades.
RIGHT, WRONG, INCOMPLETE, NOT_REPRODUCED, NON_DIAGNOSTIC = (
    "right", "wrong", "incomplete", "not reproduced", "non-diagnostic")
GRADES = (RIGHT, WRONG, INCOMPLETE, NOT_REPRODUCED, NON_DIAGNOSTIC)

# What a grade rests on.
ARITHMETIC, CITED, TRAINED = "arithmetic", "cited figures", "trained runs"
BASES = (ARITHMETIC, CITED, TRAINED)

RETINANET = ("Lin et al. 2017, 'Focal Loss for Dense Object Detection', ICCV, "
             "arXiv:1708.02002")
# Cited, not computed: COCO AP of RetinaNet (ResNet-50, 600 px), Table 1a (gamma = 0,
# alpha-weighted cross-entropy): alpha -> AP.
RETINANET_TABLE_1A = {0.10: 0.0, 0.25: 10.8, 0.50: 30.2, 0.75: 31.1, 0.90: 30.8, 0.99: 28.7,
                      0.999: 25.1}
# Table 1b: gamma -> (best alpha, AP).
RETINANET_TABLE_1B = {0.0: (0.75, 31.1), 0.1: (0.75, 31.4), 0.2: (0.75, 31.9), 0.5: (0.50, 32.9),
                      1.0: (0.25, 33.7), 2.0: (0.25, 34.0), 5.0: (0.25, 32.2)}
# Section 5.1: at gamma = 2, alpha = 0.5 is this many AP below the best alpha (0.25).
RETINANET_ALPHA_HALF_GAP_AT_GAMMA_2 = 0.4


@dataclass(frozen=True)
class Claim:
    """One claim: ``id`` (short, stable), ``quote`` (the postmortem's words), ``implies``
    (what the quote commits to, the thing graded) and ``basis`` (what grades it)."""

    id: str
    quote: str
    implies: str
    basis: str


CLAIMS: tuple[Claim, ...] = (
    Claim("alpha-down-weights", "alpha=0.25 → positives get 25% weight ... We were "
          "DOWN-WEIGHTING the rare class we wanted to detect!",
          "alpha multiplies the positive term, so alpha 0.25 alone makes one positive weigh "
          "less than one negative", ARITHMETIC),
    Claim("alpha-backwards", "Alpha=0.25 was BACKWARDS (down-weighted seizures)",
          "alpha 0.25 is the wrong choice for a focal loss on a rare positive class", CITED),
    Claim("ratio-is-4", "Ratio = 3/0.75 = 4", "with pos_weight 12 inside the focal term, "
          "12*0.25 : 0.75 = 4 is the constant-weight ratio", ARITHMETIC),
    Claim("ratio-should-be-12", "(should be 12!)", "the right class-weight ratio is the class "
          "imbalance, and 4 instead of 12 is what held training back", TRAINED),
    Claim("double-counting", "Double-counting: using BOTH pos_weight AND alpha",
          "alpha 0.25 and pos_weight 12 are two corrections in the same direction", ARITHMETIC),
    Claim("bug-caused-collapse", "Root Causes Found: Alpha=0.25 was BACKWARDS ... "
          "Double-counting ... Would NEVER detect seizures in production",
          "the postmortem's setting (focal alpha 0.25, gamma 2, pos_weight 12) stalls: it "
          "does not learn to rank seizures", TRAINED),
    Claim("auroc-half-means-weighting", "Symptom: Model collapse, AUROC=0.5, all "
          "predictions=0 ... Root Causes Found: [the two weighting bugs]",
          "AUROC 0.5 with every prediction 0 is the signature of a class-weighting failure",
          TRAINED),
    Claim("neutral-alpha-switch", "Alpha=0.5 (neutral) + anti-double-count logic: "
          "if abs(focal_alpha - 0.5) > 1e-6: pos_weight = None",
          "the switch keeps one class-weighting mechanism and loses nothing", ARITHMETIC),
    Claim("sampling-everywhere", "Added use_balanced_sampling everywhere",
          "a balanced sampler can be added to the fix (alpha 0.5 + pos_weight) without "
          "over-correcting", ARITHMETIC),
    Claim("balanced-batches-exposure", "Balanced batches ensure seizure exposure",
          "without balanced batches the model sees too few seizures to learn", TRAINED),
    Claim("fix-auroc", "After Fix: Model learns to distinguish classes; AUROC > 0.7 on "
          "validation; Can actually detect seizures",
          "the fix as run (alpha 0.5 + pos_weight + balanced sampler) ranks above AUROC 0.7 "
          "and detects seizures at its threshold", TRAINED),
    Claim("assert-auroc-above-half", "Should have asserted AUROC > 0.5 early",
          "an AUROC > 0.5 assertion catches the failures seen here", TRAINED),
    Claim("one-mechanism", "Avoid double corrections: One mechanism for class weighting",
          "one class-weighting mechanism learns without over-correcting", TRAINED),
)


@dataclass(frozen=True)
class Grade:
    """A claim with its grade (one of :data:`GRADES`), the evidence in words, the evidence's
    size (trained runs only: recordings, seizures, windows, hours, seeds) and the reason."""

    claim: Claim
    grade: str
    evidence: str
    reason: str
    evidence_size: dict | None = None

    def __post_init__(self) -> None:
        if self.grade not in GRADES:
            raise ValueError(f"The 'grade' parameter of Grade must be one of {list(GRADES)}. "
                             f"Got {self.grade!r} instead.")

    def as_dict(self) -> dict:
        """The JSON object of ``brr-lab grade --json``."""
        return {"claim": self.claim.id, "quote": self.claim.quote, "implies": self.claim.implies,
                "grade": self.grade, "basis": self.claim.basis, "evidence": self.evidence,
                "evidence_size": self.evidence_size, "reason": self.reason}
