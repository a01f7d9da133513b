"""The words of findings: dates, durations, money, shares with their verdict, field names, in Chinese and English.

Every sentence of ``zoning.idle`` and ``zoning.lifecycle`` is built from these pieces, so that one figure is
written one way everywhere: dates ``YYYY-MM-DD``; durations as whole years and months ("3年8个月"), or days
when under a month; money and figures per 亩 with two decimals; a figure compared with a threshold with as
many digits as it takes to differ from it, so that figure and verdict agree ("29.99%（不足 30%）").

Examples
--------
>>> import numpy as np
>>> durations(np.array(["2023-03-01"], dtype="datetime64[D]"), np.array(["2026-11-22"], dtype="datetime64[D]"))
(['3年8个月'], ['3 years 8 months'])
>>> per_mu_below("亩均税收", "tax", 19.999, 20.0)
('亩均税收 19.999 万元/亩，低于约定 20.000 万元/亩', 'tax 19.999 万元/亩, under the committed 20.000')
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import numpy.typing as npt

from zoning.dates import DAY, Days, days_of, months_between

__all__ = [
    "FIELD_ZH",
    "days_said",
    "duration_en",
    "duration_zh",
    "durations",
    "durations_to",
    "fields_en",
    "fields_zh",
    "iso",
    "money",
    "number_pair",
    "pct_pair",
    "per_mu_below",
    "share_of_committed",
    "short",
    "under",
]

#: field → its Chinese header (CLI.md), for the sentences of insufficient_data findings
FIELD_ZH = {
    "delivered_on": "交地日期",
    "agreed_start_on": "约定开工日期",
    "started_on": "实际开工日期",
    "agreed_completion_on": "约定竣工日期",
    "completed_on": "实际竣工日期",
    "agreed_operation_on": "约定投产日期",
    "operating_since": "实际投产日期",
    "agreed_full_production_on": "约定达产日期",
    "lease_years": "出让年限",
    "planned_investment": "计划总投资",
    "committed_investment_per_mu": "约定投资强度",
    "committed_tax_per_mu": "约定亩均税收",
    "committed_output_per_mu": "约定亩均产值",
    "min_far": "约定容积率",
    "investment": "实际投资",
    "tax": "年度税收",
    "output": "年度产值",
    "floor_area": "建筑面积",
    "footprint_area": "建筑占地面积",
    "area_mu": "宗地面积",
}


def fields_zh(fields: list[str]) -> str:
    """Field names as their Chinese headers: ``["tax", "area_mu"]`` → ``"年度税收、宗地面积"``."""
    return "、".join(FIELD_ZH.get(f, f) for f in fields)


def fields_en(fields: list[str]) -> str:
    """Field names as they are, for the English sentence."""
    return ", ".join(fields)


def short(v: float) -> str:
    """A profile value as written: 1 → '1', 1.5 → '1.5'."""
    return f"{v:g}"


def money(x: npt.ArrayLike, digits: int = 2) -> list[str]:
    """Figures with thousands separators and ``digits`` decimals."""
    return [f"{v:,.{digits}f}" for v in np.asarray(x, dtype=np.float64).tolist()]


def iso(d: Days) -> list[str]:
    """Dates as ``YYYY-MM-DD`` (``NaT`` for a missing one); each distinct date formatted once."""
    d = np.asarray(d, dtype=DAY)
    if d.size == 0:
        return []
    uniq, inv = np.unique(d.view(np.int64), return_inverse=True)
    return np.datetime_as_string(uniq.view(DAY), unit="D").astype(object)[inv].tolist()


# ======================================================================================================
# durations
# ======================================================================================================

_ZH_CACHE: dict[int, str] = {}
_EN_CACHE: dict[int, str] = {}


def _zh_months(m: int) -> str:
    if m not in _ZH_CACHE:
        y, r = divmod(m, 12)
        _ZH_CACHE[m] = (f"{y}年" if y else "") + (f"{r}个月" if r else "")
    return _ZH_CACHE[m]


def _en_months(m: int) -> str:
    if m not in _EN_CACHE:
        y, r = divmod(m, 12)
        parts = ([f"{y} year" + ("s" if y > 1 else "")] if y else []) + (
            [f"{r} month" + ("s" if r > 1 else "")] if r else []
        )
        _EN_CACHE[m] = " ".join(parts)
    return _EN_CACHE[m]


def durations(a: Days, b: Days) -> tuple[list[str], list[str]]:
    """Durations from ``a`` to ``b`` (either order), as Chinese and English strings."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    months = months_between(lo, hi)
    days = np.where(np.isnat(lo) | np.isnat(hi), 0, (hi - lo).astype("timedelta64[D]").astype(np.int64))
    key = np.where(months > 0, months, -days - 1)  # few distinct values: format each once
    uniq, inv = np.unique(key, return_inverse=True)
    zh_u = np.array([_zh_months(k) if k > 0 else f"{-k - 1}天" for k in uniq.tolist()], dtype=object)
    en_u = np.array(
        [_en_months(k) if k > 0 else (f"{-k - 1} day" + ("s" if k != -2 else "")) for k in uniq.tolist()],
        dtype=object,
    )
    return zh_u[inv].tolist(), en_u[inv].tolist()


def durations_to(when: Days, today: np.datetime64) -> tuple[list[str], list[str]]:
    """How long from each date of ``when`` to ``today`` (overdue, or ago), as Chinese and English strings."""
    return durations(when, np.full(np.shape(when), today))


def duration_zh(start: dt.date, end: dt.date) -> str:
    """How long from ``start`` to ``end``, in Chinese: whole years and months, or days under a month.

    Examples
    --------
    >>> import datetime as dt
    >>> duration_zh(dt.date(2024, 3, 1), dt.date(2025, 3, 1)), duration_zh(dt.date(2024, 3, 1), dt.date(2024, 3, 20))
    ('1年', '19天')
    >>> duration_zh(dt.date(2024, 1, 31), dt.date(2024, 2, 29))
    '1个月'
    """
    zh, _ = durations(days_of([start]), days_of([end]))
    return zh[0]


def duration_en(start: dt.date, end: dt.date) -> str:
    """How long from ``start`` to ``end``, in English.

    Examples
    --------
    >>> import datetime as dt
    >>> duration_en(dt.date(2024, 3, 1), dt.date(2025, 5, 1)), duration_en(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    ('1 year 2 months', '1 day')
    """
    _, en = durations(days_of([start]), days_of([end]))
    return en[0]


def days_said(when: Days, today: np.datetime64) -> tuple[list[str], list[str]]:
    """How many days between ``when`` and ``today``, in Chinese and English (a near due date)."""
    n = np.abs((when - today).astype(np.int64)).tolist()
    return [f"{d}天" for d in n], [f"{d} day" + ("" if d == 1 else "s") for d in n]


# ======================================================================================================
# figures that agree with their verdict
# ======================================================================================================


def _digits_apart(v: float, t: float, fmt: str, least: int, most: int = 8) -> int:
    for d in range(least, most + 1):
        if format(v, f"{fmt}.{d}{'%' if fmt == '' else 'f'}") != format(
            t, f"{fmt}.{d}{'%' if fmt == '' else 'f'}"
        ):
            return d
    return most


def pct_pair(v: float, t: float) -> tuple[str, str]:
    """A share and its threshold as percentages, with enough digits that they differ when they do.

    The threshold is written as short as it is exact (30%, 33.33% for a third).

    Examples
    --------
    >>> pct_pair(0.2999, 0.3), pct_pair(0.2, 0.3), pct_pair(0.3332, 1 / 3)
    (('29.99%', '30%'), ('20%', '30%'), ('33.32%', '33.33%'))
    """
    if not (math.isfinite(v) and math.isfinite(t)):
        return (f"{v:.0%}" if math.isfinite(v) else "—"), f"{t:.0%}"
    d = _digits_apart(v, t, "", 0)
    exact = next((k for k in range(0, 7) if abs(round(t * 100, k) - t * 100) < 1e-9), None)
    td = exact if exact is not None else max(d, 2)
    return f"{v:.{max(d, 0 if exact is not None else 2)}%}", f"{t:.{td}%}"


def number_pair(v: float, t: float, *, least: int = 2) -> tuple[str, str]:
    """A figure and its threshold with at least ``least`` decimals, more when needed to tell them apart.

    Examples
    --------
    >>> number_pair(19.999, 20.0), number_pair(15.0, 20.0)
    (('19.999', '20.000'), ('15.00', '20.00'))
    """
    if not (math.isfinite(v) and math.isfinite(t)):
        return f"{v:,.{least}f}", f"{t:,.{least}f}"
    d = _digits_apart(v, t, ",", least)
    return f"{v:,.{d}f}", f"{t:,.{d}f}"


def under(threshold: str, word_zh: str, word_en: str | None) -> tuple[str, str]:
    """The verdict of a figure under its threshold: ``（不足 30%）`` / ``(不足, under 30%)``.

    ``word_en`` None writes the English verdict without the word: ``(under 30%)``.
    """
    en = f"({word_en}, under {threshold})" if word_en else f"(under {threshold})"
    return f"（{word_zh} {threshold}）", en


def per_mu_below(label_zh: str, label_en: str, actual: float, committed: float) -> tuple[str, str]:
    """A figure per 亩 below its commitment (低于约定), with the digits that tell them apart."""
    a, c = number_pair(actual, committed)
    return f"{label_zh} {a} 万元/亩，低于约定 {c} 万元/亩", f"{label_en} {a} 万元/亩, under the committed {c}"


def share_of_committed(
    label: tuple[str, str],
    actual: float,
    committed: float,
    pair: tuple[str, str],
    *,
    word_zh: str,
    word_en: str | None,
) -> tuple[str, str]:
    """A figure per 亩 as a share of its commitment (``pair``: ``pct_pair``), and its verdict (``under``).

    Examples
    --------
    >>> pair = pct_pair(8 / 30, 0.3)
    >>> zh, en = share_of_committed(("亩均税收", "tax"), 8.0, 30.0, pair, word_zh="不足", word_en="不足")
    >>> zh
    '亩均税收 8.00 万元/亩，为约定 30.00 万元/亩的 27%（不足 30%）'
    >>> en
    'tax 8.00 万元/亩, 27% of the committed 30.00 (不足, under 30%)'
    """
    vz, ve = under(pair[1], word_zh, word_en)
    return (
        f"{label[0]} {actual:,.2f} 万元/亩，为约定 {committed:,.2f} 万元/亩的 {pair[0]}{vz}",
        f"{label[1]} {actual:,.2f} 万元/亩, {pair[0]} of the committed {committed:,.2f} {ve}",
    )
