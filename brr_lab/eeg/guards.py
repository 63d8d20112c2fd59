"""Label guards: refuse to train on labels that cannot teach anything.

All-background labels are what a broken annotation parser produces. The original
project's release notes for v0.2.0 ("Critical Bug Fixes", in the public repository
github.com/Clarity-Digital-Twin/brain-go-brr-v2) record that training "detected 0%
seizures due to broken TUSZ CSV_BI parser". Such labels train a model to say "no", and
AUROC on them is undefined: scikit-learn 1.9 returns NaN with a warning, torchmetrics 1.9
returns 0 with a warning, and a hand-written ``except ValueError: auroc = 0.5`` fallback
prints 0.5 with any library that raises instead. So they are an error before any training.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from brr_lab._validation import BrrLabError

LIKELY_CAUSES = (
    "annotation parsing (seizure rows not read: check the column line, that 'channel' holds names "
    "and times hold numbers, and which annotation file was used)",
    "label vocabulary (seizure labels such as fnsz/gnsz/cpsz missing from seizure_labels; compare "
    "with the labels seen)",
    "window rule (label_rule='fraction' with a min_fraction too high for short seizures, windows "
    "longer than the seizures, or recordings without seizures only)",
)


class SingleClassLabelsError(BrrLabError):
    """The labels hold one class (or none): nothing to learn, AUROC undefined."""


def check_labels(y: Any, *, context: str = "", labels_seen: Mapping[str, int] | None = None) -> None:
    """Raise :class:`SingleClassLabelsError` unless ``y`` holds both 0 and 1 (and only those).

    ``context`` (a folder or data set name) and ``labels_seen`` go into the message.
    """
    values = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    values = values.reshape(-1)
    where = f"{context}: " if context else ""
    seen = "" if labels_seen is None else (
        " Labels seen in the annotations: "
        + (", ".join(f"{k}={v}" for k, v in labels_seen.items()) if labels_seen else "none") + "."
    )
    if values.size and not np.isin(values, (0, 1)).all():
        bad = np.unique(values[~np.isin(values, (0, 1))])[:5]
        raise ValueError(f"{where}labels must be 0 or 1. Got values {bad.tolist()}.")
    n_pos = int((values == 1).sum())
    n = int(values.size)
    if n == 0:
        raise SingleClassLabelsError(f"{where}there are no windows at all (recordings shorter than one "
                                     f"window, or an empty folder).{seen}")
    if n_pos in (0, n):
        kind = "background (0)" if n_pos == 0 else "seizure (1)"
        causes = "; ".join(f"({i}) {c}" for i, c in enumerate(LIKELY_CAUSES, start=1))
        raise SingleClassLabelsError(
            f"{where}all {n} window labels are {kind}: a model trained on them learns nothing and AUROC "
            f"is undefined (NaN or an error from scikit-learn; a fallback that catches the error may "
            f"print 0.5). Likely causes: {causes}.{seen}"
        )
