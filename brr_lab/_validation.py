"""One error template for bad input, so every message names the parameter, the value and what is allowed."""
from __future__ import annotations

import math
from typing import Any


def invalid(param: str, where: str, allowed: str, got: Any) -> ValueError:
    """Build the error every brr_lab function raises for a bad argument."""
    return ValueError(f"The '{param}' parameter of {where} must be {allowed}. Got {got!r} instead.")


def check_real(value: Any, param: str, where: str, *, low: float | None = None,
               high: float | None = None, low_open: bool = False,
               high_open: bool = False, allowed: str | None = None) -> float:
    """Return `value` as a float if it is a finite real number in the stated interval."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    text = allowed or (
        f"a real number in {lo}{'-inf' if low is None else _fmt(low)}, "
        f"{'inf' if high is None else _fmt(high)}{hi}"
    )
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise invalid(param, where, text, value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid(param, where, text, value) from None
    if math.isnan(number) or math.isinf(number):
        raise invalid(param, where, text, value)
    if low is not None and (number < low or (low_open and number == low)):
        raise invalid(param, where, text, value)
    if high is not None and (number > high or (high_open and number == high)):
        raise invalid(param, where, text, value)
    return number


def _fmt(x: float) -> str:
    return f"{x:g}"
