"""95% intervals for the two rates a seizure detector is judged by.

- False alarms per 24 h: exact Poisson interval (Garwood) on the false-alarm
  count, through ``scipy.stats.chi2``, divided by the days of recording behind it.
  Zero false alarms in 2 h still leave an upper bound of about 44 per 24 h.
- Sensitivity: exact binomial (Clopper-Pearson) interval over seizures, through
  ``scipy.stats.beta``; conservative, never narrower than it should be.
"""
from __future__ import annotations

import math

from brr_lab._validation import check_real, invalid

POISSON_METHOD = "exact Poisson (Garwood, chi-square), 95%"
BINOMIAL_METHOD = "Clopper-Pearson (exact binomial over seizures), 95%"


def _count(value, param: str, where: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise invalid(param, where, "a whole number >= 0", value)
    return int(value)


def poisson_rate_ci(count: int, hours: float, *, per_hours: float = 24.0,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Exact interval for a rate of ``count`` events seen in ``hours``, per ``per_hours`` hours."""
    from scipy.stats import chi2

    where = "poisson_rate_ci"
    k = _count(count, "count", where)
    hours = check_real(hours, "hours", where, low=0.0, low_open=True)
    confidence = check_real(confidence, "confidence", where, low=0.0, high=1.0, low_open=True, high_open=True)
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else chi2.ppf(alpha / 2, 2 * k) / 2
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    scale = per_hours / hours
    return float(low * scale), float(high * scale)


def binomial_ci(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval for ``successes`` of ``trials``; (nan, nan) with no trials."""
    from scipy.stats import beta

    where = "binomial_ci"
    x = _count(successes, "successes", where)
    n = _count(trials, "trials", where)
    if x > n:
        raise invalid("successes", where, f"at most trials ({n})", successes)
    confidence = check_real(confidence, "confidence", where, low=0.0, high=1.0, low_open=True, high_open=True)
    if n == 0:
        return math.nan, math.nan
    alpha = 1.0 - confidence
    low = 0.0 if x == 0 else beta.ppf(alpha / 2, x, n - x + 1)
    high = 1.0 if x == n else beta.ppf(1 - alpha / 2, x + 1, n - x)
    return float(low), float(high)
