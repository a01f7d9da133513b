"""Calendar arithmetic on arrays of days, for the rules of ``zoning.idle`` and ``zoning.lifecycle``.

"X months after D" is calendar arithmetic with the day clamped to the month's end (2024-01-31 + 1 month =
2024-02-29, 2024-02-29 + 12 months = 2025-02-28); ``NaT`` (a missing date) stays missing.

Examples
--------
>>> import numpy as np
>>> add_months(np.array(["2024-01-31", "2024-02-29"], dtype="datetime64[D]"), [1, 12]).tolist()
[datetime.date(2024, 2, 29), datetime.date(2025, 2, 28)]
>>> months_between(np.array(["2023-03-01"], dtype="datetime64[D]"), np.array(["2026-11-22"], dtype="datetime64[D]"))
array([44])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DAY",
    "NAT",
    "Days",
    "add_months",
    "as_of_date",
    "days_between",
    "days_of",
    "months_between",
    "to_days",
    "years_to_months",
]

Days = npt.NDArray[np.datetime64]
DAY = "datetime64[D]"
NAT = np.datetime64("NaT", "D")
_M = "datetime64[M]"  # numpy's calendar months: month arithmetic on the proleptic Gregorian calendar


def as_of_date(as_of: dt.date | dt.datetime | str) -> dt.date:
    """``as_of`` as a date (a datetime or ``pd.Timestamp`` gives its date; a string is ``YYYY-MM-DD``)."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        return dt.date.fromisoformat(as_of)
    raise ValueError(f"as_of must be a date or YYYY-MM-DD, not {as_of!r}")


def days_of(values: Sequence[Any]) -> Days:
    """Dates (or None) as datetime64[D]."""
    return np.array([np.datetime64(v, "D") if v is not None else NAT for v in values], dtype=DAY)


def to_days(s: pd.Series) -> Days:
    """A date column (dates, datetimes, ``YYYY-MM-DD`` strings, None) as datetime64[D]."""
    if s.dtype.kind != "M":
        try:
            s = pd.to_datetime(s, errors="raise")
        except (ValueError, TypeError):
            s = pd.to_datetime(s, errors="raise", format="mixed")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.to_numpy().astype(DAY)


def add_months(d: Days, months: npt.ArrayLike) -> Days:
    """``d`` + ``months`` calendar months, the day clamped to the month's end; NaT stays NaT."""
    d = np.asarray(d, dtype=DAY)
    month = d.astype(_M)
    target = month + np.asarray(months, dtype=np.int64)  # NaT + k months is NaT
    first = target.astype(DAY)
    last = (target + 1).astype(DAY) - first - 1  # the target month's last day, in days after its first
    return first + np.minimum(d - month.astype(DAY), last)


def months_between(a: Days, b: Days) -> npt.NDArray[np.int64]:
    """Whole calendar months from ``a`` to ``b`` (b ≥ a): the largest k with a + k months ≤ b; 0 for NaT."""
    a, b = np.asarray(a, dtype=DAY), np.asarray(b, dtype=DAY)
    ok = ~(np.isnat(a) | np.isnat(b))
    k = np.where(ok, (b.astype(_M) - a.astype(_M)).astype(np.int64), 0)
    # a + k months clamps a's day to the target month's length; it passes b only when that day exceeds b's
    return np.where(ok & (add_months(a, k) > b), k - 1, k)


def days_between(a: Days, b: Days | np.datetime64) -> npt.NDArray[np.int64]:
    """Whole days from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (np.asarray(b, dtype=DAY) - a).astype("timedelta64[D]").astype(np.int64)


def years_to_months(years: float) -> int:
    """A period of the profile in years as whole months (1.5 → 18)."""
    return round(float(years) * 12)
