"""Strict JSON for every ``--json`` command: no ``Infinity`` or ``NaN``, which JSON lacks.

Python's ``json.dumps`` writes ``Infinity``/``NaN`` by default, and strict parsers (a
browser's ``JSON.parse``, ``jq``, Go, Rust) reject the whole document. Here a non-finite
number becomes ``null`` and a note says which value it was and why::

    {"q_star": null, ..., "json_notes": ["q_star: +inf written as null (JSON has no infinity or NaN)"]}

The notes go in a ``json_notes`` list at the top level of an object; for a list of
objects, in each object that had one. Anything else (a bare list of numbers) gets no
place for a note, so the notes go to stderr.
"""
from __future__ import annotations

import json
import math
import sys
from typing import Any

__all__ = ["NOTES_KEY", "dumps", "make_strict"]

NOTES_KEY = "json_notes"


def _describe(x: float) -> str:
    return "NaN" if math.isnan(x) else ("+inf" if x > 0 else "-inf")


def make_strict(obj: Any, path: str = "") -> tuple[Any, list[str]]:
    """A copy of ``obj`` with every non-finite float as None, and one note per value."""
    notes: list[str] = []

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, float) and not isinstance(value, bool):
            if math.isfinite(value):
                return value
            notes.append(f"{where or 'value'}: {_describe(value)} written as null "
                         "(JSON has no infinity or NaN)")
            return None
        if isinstance(value, dict):
            return {k: walk(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
            return walk(value.item(), where)  # numpy / torch scalars
        return value

    return walk(obj, path), notes


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` with ``allow_nan=False`` after non-finite numbers became null + notes."""
    if isinstance(obj, list) and obj and all(isinstance(item, dict) for item in obj):
        clean = []
        for item in obj:
            fixed, notes = make_strict(item)
            if notes:
                fixed[NOTES_KEY] = [*fixed.get(NOTES_KEY, []), *notes]
            clean.append(fixed)
    else:
        clean, notes = make_strict(obj)
        if notes:
            if isinstance(clean, dict):
                clean[NOTES_KEY] = [*clean.get(NOTES_KEY, []), *notes]
            else:
                for note in notes:
                    print(f"note: {note}", file=sys.stderr)
    return json.dumps(clean, allow_nan=False, **kwargs)
