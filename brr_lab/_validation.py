"""One error template for bad input, so every message names the parameter, the value and what is allowed."""
from __future__ import annotations

import math
from typing import Any


class BrrLabError(ValueError):
    """The base of every error brr_lab raises for bad input (a ValueError, so
    ``except ValueError`` keeps working). Untrusted input either parses or raises one
    of these, never another exception."""


def invalid(param: str, where: str, allowed: str, got: Any) -> BrrLabError:
    """Build the error every brr_lab function raises for a bad argument.

    It keeps ``param``, ``allowed`` and ``got``, so the command line can name the flag a user
    typed instead of the library's parameter it fed.
    """
    err = BrrLabError(f"The '{param}' parameter of {where} must be {allowed}. Got {got!r} instead.")
    err.param, err.allowed, err.got = param, allowed, got
    return err


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
        f"{'inf)' if high is None else _fmt(high) + hi}"
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


# ---------------------------------------------------------------------- the vocabulary
# Each kind of parameter is checked by one function with one wording of what is allowed,
# so the loss, the engine, the policy, the sampler and the sweep say the same thing.
ALPHA_ALLOWED = "None or a float in [0, 1] (the weight of the positive class)"
GAMMA_ALLOWED = "a finite float >= 0"
POS_WEIGHT_ALLOWED = "None or a finite float > 0"
SAMPLER_FRACTION_ALLOWED = "None or a positive fraction per batch in (0, 1)"
PREVALENCE_ALLOWED = "a fraction of positive windows in (0, 1)"


def check_int(value: Any, param: str, where: str, *, low: int | None = None,
              high: int | None = None, allowed: str | None = None) -> int:
    """Return ``value`` if it is an integer (not a bool) in ``[low, high]``."""
    import numbers

    if allowed is None:
        allowed = ("an int" + (f" >= {low}" if low is not None and high is None else "")
                   + (f" in [{low}, {high}]" if low is not None and high is not None else "")
                   + (f" <= {high}" if high is not None and low is None else ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(param, where, allowed, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid(param, where, allowed, value)
    return int(value)


# The seeds brr_lab accepts: numpy's range, which also keeps training.sampler.epoch_seed
# (seed * 1_000_003 + epoch) inside torch's 64-bit generator seed for any epoch.
MAX_SEED = 2**32 - 1


def check_seed(value: Any, param: str, where: str) -> int:
    """A random seed: an int in [0, MAX_SEED]."""
    return check_int(value, param, where, low=0, high=MAX_SEED,
                     allowed=f"an int in [0, {MAX_SEED}] (2**32 - 1)")


def check_probability(value: Any, param: str, where: str, *, allowed: str | None = None) -> float:
    """A probability in [0, 1]."""
    return check_real(value, param, where, low=0, high=1, allowed=allowed or "a float in [0, 1]")


def check_fraction(value: Any, param: str, where: str, *, allowed: str | None = None) -> float:
    """A fraction strictly between 0 and 1 (a prevalence, a share of a batch)."""
    return check_real(value, param, where, low=0, high=1, low_open=True, high_open=True,
                      allowed=allowed or "a float in (0, 1)")


def check_positive(value: Any, param: str, where: str, *, allowed: str | None = None) -> float:
    """A finite real number > 0."""
    return check_real(value, param, where, low=0, low_open=True,
                      allowed=allowed or "a finite float > 0")


def check_alpha(alpha: Any, where: str) -> float | None:
    return None if alpha is None else check_probability(alpha, "alpha", where, allowed=ALPHA_ALLOWED)


def check_gamma(gamma: Any, where: str) -> float:
    return check_real(gamma, "gamma", where, low=0, allowed=GAMMA_ALLOWED)


def check_pos_weight(pos_weight: Any, where: str) -> float | None:
    return None if pos_weight is None else check_positive(pos_weight, "pos_weight", where,
                                                          allowed=POS_WEIGHT_ALLOWED)


def check_sampler_fraction(fraction: Any, where: str, param: str = "sampler_fraction") -> float | None:
    return None if fraction is None else check_fraction(fraction, param, where,
                                                        allowed=SAMPLER_FRACTION_ALLOWED)
