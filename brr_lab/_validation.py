"""One error template for bad input, so every message names the parameter, the value and what is allowed."""
from __future__ import annotations

import math
from typing import Any


class BrrLabError(ValueError):
    """The base of every error brr_lab raises for bad input (a ValueError, so
    ``except ValueError`` keeps working). Untrusted input either parses or raises one
    of these, never another exception."""


def invalid(param: str, where: str, allowed: str, got: Any) -> BrrLabError:
    """Build the error every brr_lab function raises for a bad argument."""
    return BrrLabError(f"The '{param}' parameter of {where} must be {allowed}. Got {got!r} instead.")


# One rule for every text file brr_lab reads (configs, .csv_bi, .csv):
BOM_RULE = ("a UTF-8 byte-order mark (BOM) at the very start of a file is skipped; "
            "any other BOM (UTF-16/UTF-32, or U+FEFF later in the file) is an error")
_OTHER_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32-BE"), (b"\xff\xfe\x00\x00", "UTF-32-LE"),
               (b"\xfe\xff", "UTF-16-BE"), (b"\xff\xfe", "UTF-16-LE"))


class TextReadError(BrrLabError):
    """A text file that is not UTF-8 (or not readable); ``line`` is 1-based or None."""

    def __init__(self, problem: str, line: int | None = None):
        self.problem = problem
        self.line = line
        super().__init__(problem)


def read_utf8(path) -> tuple[str, bool]:
    """Read a UTF-8 text file under :data:`BOM_RULE`; return ``(text, had_bom)``.

    Raises :class:`TextReadError` (no file name: callers wrap it in their own error).
    """
    from pathlib import Path

    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise TextReadError(f"cannot read the file ({err.strerror or err})") from None
    for bom, encoding in _OTHER_BOMS:
        if data.startswith(bom):
            raise TextReadError(f"the file starts with a {encoding} byte-order mark (BOM): it is "
                                f"{encoding} text, and only UTF-8 is read ({BOM_RULE}). "
                                "Save it as UTF-8.", 1)
    had_bom = data.startswith(b"\xef\xbb\xbf")
    if had_bom:
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise TextReadError(f"not UTF-8 text: byte 0x{data[err.start]:02x} at line {line} "
                            f"({err.reason})", line) from None
    if "\ufeff" in text:
        line = text[:text.index("\ufeff")].count("\n") + 1
        raise TextReadError(f"a byte-order mark (BOM, U+FEFF) inside the file at line {line}, "
                            f"not at its start (two files pasted together?); {BOM_RULE}", line)
    return text, had_bom


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
