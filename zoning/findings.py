"""Findings: the common shape of what ``zoning.idle`` and ``zoning.lifecycle`` report, and its JSON.

A finding is one row of a DataFrame with the columns ``FINDING_COLUMNS``:

``parcel_no``
    the parcel (宗地编号) it concerns;
``category``
    a code of CLI.md (``idle``, ``late_start`` …, ``tax_shortfall`` …), or ``insufficient_data`` when a rule
    could not be judged because a field it needs is missing (never a silent pass);
``article``
    the profile and the article applied, ``profile.cite(key)``, e.g. ``"wenzhou-2020 WZ §6"``;
``detail``, ``detail_en``
    a sentence in Chinese and in English with the dates and figures the finding rests on and how long it has
    been so, e.g. ``"约定开工日期 2023-03-01，截至 2026-11-22 未开工，已逾期 3年8个月"``;
``since``
    the date the situation began (``datetime.date``) or ``None``: the missed deadline for ``late_*``,
    ``built_not_operating`` and ``operating_below_target``; the day the threshold was reached for ``idle`` and
    ``idle_reclaimable``; the due date for ``evaluation_due``, the expiry date for ``lease_*`` (these two
    may lie after ``as_of``); ``None`` when unknown;
``figures``
    a dict of the numbers (and dates, as ``YYYY-MM-DD``) used, JSON-ready;
``penalty_wan``
    the penalty (违约金) in 万元 for ``tax_shortfall``, NaN otherwise.

Besides these, the frames of ``idle_findings`` and ``lifecycle_findings`` carry ``until``: the day a breach
was cured (a late start: the day it started; a late completion: the day it was completed), ``None`` while it
lasts or for a state of the land. A cured breach stays a finding (违约 dated ``since``, cured ``until``) but is
no statement about the land today: it does not make the parcel low-efficiency, nor colours it on the map.

Comparisons at a threshold (民法典 第一千二百五十九条 decides whether the number itself is included, see
``zoning.policy``) allow for the floating-point noise of areas computed from geometries reprojected from a
zone-prefixed CRS: a share (a dimensionless ratio, e.g. footprint ÷ parcel area) within ``SHARE_EPS`` = 1e-6
of its threshold, and a figure per 亩 (万元/亩, floor-area ratio) within ``RELATIVE_EPS`` = 1e-6 of it
relatively, is taken as exactly at the threshold. Reprojection noise is below 1e-9; a planner's figures (areas
to 0.01 m² on parcels of thousands of m², money to 0.01 万元) differ from a boundary by more than 1e-6 as
soon as they really differ. A figure compared with a threshold in a sentence is printed with as many digits as
it takes to differ from the threshold, so that figure and verdict agree ("29.99%（不足 30%）").

Dates and durations: "X years after D" is calendar arithmetic (2024-02-29 + 1 year = 2025-02-28), and a
duration is said as whole years and months ("3年8个月"), or days when under a month.

Examples
--------
>>> import datetime as dt
>>> duration_zh(dt.date(2023, 3, 1), dt.date(2026, 11, 22)), duration_en(dt.date(2023, 3, 1), dt.date(2026, 11, 22))
('3年8个月', '3 years 8 months')
>>> empty_findings().columns.tolist() == FINDING_COLUMNS
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.area import M2_PER_MU
from geo.landuse import in_industrial_scope
from zoning.policy import Profile

__all__ = [
    "CATEGORIES",
    "FINDING_COLUMNS",
    "as_of_date",
    "duration_en",
    "duration_zh",
    "empty_findings",
    "findings_json",
    "group_by_parcel",
    "industrial_scope",
    "RELATIVE_EPS",
    "SHARE_EPS",
    "at_least",
    "at_most",
    "number_pair",
    "pct_pair",
]

SHARE_EPS = 1e-6
RELATIVE_EPS = 1e-6

FINDING_COLUMNS = [
    "parcel_no",
    "category",
    "article",
    "detail",
    "detail_en",
    "since",
    "figures",
    "penalty_wan",
]

#: every category code, in the order findings of one parcel are listed
CATEGORIES = (
    "idle_reclaimable",
    "idle",
    "late_start",
    "late_completion",
    "built_not_operating",
    "operating_below_target",
    "underused",
    "termination_possible",
    "rating_termination_possible",
    "tax_shortfall",
    "evaluation_due",
    "lease_expired",
    "lease_expiring",
    "insufficient_data",
)
_RANK = {c: i for i, c in enumerate(CATEGORIES)}

Days = npt.NDArray[np.datetime64]
_D = "datetime64[D]"
_NAT = np.datetime64("NaT", "D")


# ======================================================================================================
# the public frame and its JSON
# ======================================================================================================


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows and the columns ``FINDING_COLUMNS``.

    Examples
    --------
    >>> f = empty_findings()
    >>> len(f), str(f["penalty_wan"].dtype)
    (0, 'float64')
    """
    return pd.DataFrame(
        {
            "parcel_no": pd.Series([], dtype=object),
            "category": pd.Series([], dtype=object),
            "article": pd.Series([], dtype=object),
            "detail": pd.Series([], dtype=object),
            "detail_en": pd.Series([], dtype=object),
            "since": pd.Series([], dtype=object),
            "figures": pd.Series([], dtype=object),
            "penalty_wan": pd.Series([], dtype=np.float64),
        }
    )


_PLAIN = {str, int, bool}  # JSON as they are (a float may be NaN or infinite)


def _json_value(v: Any) -> Any:
    """``v`` as JSON: dates as ``YYYY-MM-DD``, numpy scalars as Python numbers, NaN and ±inf as None."""
    t = type(v)
    if t is str or t is bool or t is int or v is None:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if t is dt.date:
        return v.isoformat()
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v.astype(_D))
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_value(x) for x in v]
    return v


def group_by_parcel(findings: pd.DataFrame) -> list[dict[str, Any]]:
    """The findings as CLI.md's JSON ``parcels`` list, one entry per parcel, sorted by parcel number.

    Parameters
    ----------
    findings : pandas.DataFrame
        Rows with the columns ``FINDING_COLUMNS`` (from ``idle_findings`` or ``lifecycle_findings``, or both
        concatenated).

    Returns
    -------
    list of dict
        ``[{"parcel_no", "categories": [...], "findings": [{"category", "article", "detail", "detail_en",
        "since", "until", "figures", ("penalty_wan")}]}]``: ``categories`` lists each category once, in the
        order of ``CATEGORIES``; dates are ``YYYY-MM-DD`` strings (``since`` may be ``None``; ``until`` is the day a
        breach was cured, ``None`` while it lasts or without the column); ``penalty_wan`` is
        there only when the finding has one. Everything is JSON-ready (no NaN, no numpy types).

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> f = pd.DataFrame([["A-1", "tax_shortfall", "yiwu YW §11", "亩均税收不足", "tax short",
    ...                    dt.date(2025, 6, 30), {"tax_per_mu_wan": 20.0}, 150.0]], columns=FINDING_COLUMNS)
    >>> group_by_parcel(f)  # doctest: +NORMALIZE_WHITESPACE
    [{'parcel_no': 'A-1', 'categories': ['tax_shortfall'],
      'findings': [{'category': 'tax_shortfall', 'article': 'yiwu YW §11', 'detail': '亩均税收不足',
                    'detail_en': 'tax short', 'since': '2025-06-30', 'until': None,
                    'figures': {'tax_per_mu_wan': 20.0},
                    'penalty_wan': 150.0}]}]
    """
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lacks the column(s) {', '.join(missing)}")
    if len(findings) == 0:
        return []
    f = _sorted(findings.reset_index(drop=True))
    nos = [str(x) for x in f["parcel_no"].tolist()]
    cats = [str(x) for x in f["category"].tolist()]
    since = pd.to_datetime(f["since"], errors="coerce").to_numpy().astype("datetime64[D]")
    since_s = [None if x == "NaT" else x for x in np.datetime_as_string(since, unit="D").tolist()]
    figs = [
        {k if type(k) is str else str(k): v if type(v) in _PLAIN else _json_value(v) for k, v in x.items()}
        if isinstance(x, Mapping)
        else {}
        for x in f["figures"].tolist()
    ]
    if "until" in f.columns:
        until = pd.to_datetime(f["until"], errors="coerce").to_numpy().astype("datetime64[D]")
        until_s = [None if x == "NaT" else x for x in np.datetime_as_string(until, unit="D").tolist()]
    else:
        until_s = [None] * len(f)
    items = [
        {
            "category": c,
            "article": str(a),
            "detail": str(d),
            "detail_en": str(e),
            "since": t,
            "until": u,
            "figures": g,
        }
        for c, a, d, e, t, u, g in zip(
            cats,
            f["article"].tolist(),
            f["detail"].tolist(),
            f["detail_en"].tolist(),
            since_s,
            until_s,
            figs,
            strict=True,
        )
    ]
    pen = pd.to_numeric(f["penalty_wan"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for i in np.flatnonzero(np.isfinite(pen)).tolist():
        items[i]["penalty_wan"] = float(pen[i])
    bounds = [i for i in range(1, len(nos)) if nos[i] != nos[i - 1]]
    out: list[dict[str, Any]] = []
    for a, b in zip([0, *bounds], [*bounds, len(nos)], strict=True):
        categories = list(dict.fromkeys(cats[a:b]))  # the rows are in category order
        out.append({"parcel_no": nos[a], "categories": categories, "findings": items[a:b]})
    return out


def findings_json(findings: pd.DataFrame, *, as_of: dt.date | str, profile: Profile) -> dict[str, Any]:
    """The JSON document of ``blockline idle`` / ``blockline lifecycle`` (CLI.md).

    Examples
    --------
    >>> import datetime as dt
    >>> from zoning.policy import get_profile
    >>> findings_json(empty_findings(), as_of=dt.date(2026, 11, 22), profile=get_profile("yiwu"))
    {'as_of': '2026-11-22', 'policy': 'yiwu', 'parcels': []}
    """
    return {
        "as_of": as_of_date(as_of).isoformat(),
        "policy": profile.name,
        "parcels": group_by_parcel(findings),
    }


def _isna_scalar(v: Any) -> bool:
    if type(v) is dt.date:
        return False
    if type(v) is float:
        return math.isnan(v)
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _sorted(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in a fixed order (parcel, category, since, article, detail): independent of input order."""
    if len(findings) == 0:
        return findings

    def codes(col: str) -> npt.NDArray[np.int64]:
        return pd.factorize(findings[col].astype(object).map(str).to_numpy(dtype=object), sort=True)[0]

    rank = np.array([_RANK.get(c, len(_RANK)) for c in findings["category"].tolist()])
    since = (
        pd.to_datetime(findings["since"], errors="coerce").to_numpy().astype("datetime64[D]").view(np.int64)
    )
    order = np.lexsort((codes("detail"), codes("article"), since, rank, codes("parcel_no")))
    return findings.iloc[order].reset_index(drop=True)


# ======================================================================================================
# comparisons at a threshold, and figures that agree with their verdict
# ======================================================================================================


def at_most(
    v: npt.ArrayLike, t: npt.ArrayLike, *, includes: bool, eps: npt.ArrayLike = SHARE_EPS
) -> npt.NDArray[np.bool_]:
    """``v`` <word> ``t`` for a word of the at-most kind: 以下/不超过 (``includes``) or 不足/低于 (not).

    Within ``eps`` of ``t`` counts as exactly ``t``. False where either side is NaN.

    Examples
    --------
    >>> at_most([0.3333329, 1 / 3, 0.33333], 1 / 3, includes=False).tolist()  # 不足三分之一
    [False, False, True]
    """
    v, t = np.asarray(v, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return v <= t + eps if includes else v < t - eps


def at_least(
    v: npt.ArrayLike, t: npt.ArrayLike, *, includes: bool, eps: npt.ArrayLike = SHARE_EPS
) -> npt.NDArray[np.bool_]:
    """``v`` <word> ``t`` for a word of the at-least kind: 以上/不低于/达到 (``includes``) or 超过 (not).

    Examples
    --------
    >>> at_least([0.2999995, 0.3, 0.29], 0.3, includes=True).tolist()  # 不低于30%
    [True, True, False]
    """
    v, t = np.asarray(v, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return v >= t - eps if includes else v > t + eps


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


# ======================================================================================================
# durations
# ======================================================================================================


def as_of_date(as_of: dt.date | dt.datetime | str) -> dt.date:
    """``as_of`` as a date (a datetime or ``pd.Timestamp`` gives its date; a string is ``YYYY-MM-DD``)."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        return dt.date.fromisoformat(as_of)
    raise ValueError(f"as_of must be a date or YYYY-MM-DD, not {as_of!r}")


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
    zh, _ = _durations(_days_of([start]), _days_of([end]))
    return zh[0]


def duration_en(start: dt.date, end: dt.date) -> str:
    """How long from ``start`` to ``end``, in English.

    Examples
    --------
    >>> import datetime as dt
    >>> duration_en(dt.date(2024, 3, 1), dt.date(2025, 5, 1)), duration_en(dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    ('1 year 2 months', '1 day')
    """
    _, en = _durations(_days_of([start]), _days_of([end]))
    return en[0]


def _days_of(values: Sequence[Any]) -> Days:
    return np.array([np.datetime64(v, "D") if v is not None else _NAT for v in values], dtype=_D)


_M = "datetime64[M]"  # numpy's calendar months: month arithmetic on the proleptic Gregorian calendar


def _add_months(d: Days, months: npt.ArrayLike) -> Days:
    """``d`` + ``months`` calendar months, the day clamped to the month's end; NaT stays NaT."""
    d = np.asarray(d, dtype=_D)
    month = d.astype(_M)
    target = month + np.asarray(months, dtype=np.int64)  # NaT + k months is NaT
    first = target.astype(_D)
    last = (target + 1).astype(_D) - first - 1  # the target month's last day, in days after its first
    return first + np.minimum(d - month.astype(_D), last)


def _months_between(a: Days, b: Days) -> npt.NDArray[np.int64]:
    """Whole calendar months from ``a`` to ``b`` (b ≥ a): the largest k with a + k months ≤ b; 0 for NaT."""
    a, b = np.asarray(a, dtype=_D), np.asarray(b, dtype=_D)
    ok = ~(np.isnat(a) | np.isnat(b))
    k = np.where(ok, (b.astype(_M) - a.astype(_M)).astype(np.int64), 0)
    # a + k months clamps a's day to the target month's length; it passes b only when that day exceeds b's
    return np.where(ok & (_add_months(a, k) > b), k - 1, k)


def _years_to_months(years: float) -> int:
    return round(float(years) * 12)


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


def _durations(a: Days, b: Days) -> tuple[list[str], list[str]]:
    """Durations from ``a`` to ``b`` (either order), as Chinese and English strings."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    months = _months_between(lo, hi)
    days = np.where(np.isnat(lo) | np.isnat(hi), 0, (hi - lo).astype("timedelta64[D]").astype(np.int64))
    key = np.where(months > 0, months, -days - 1)  # few distinct values: format each once
    uniq, inv = np.unique(key, return_inverse=True)
    zh_u = np.array([_zh_months(k) if k > 0 else f"{-k - 1}天" for k in uniq.tolist()], dtype=object)
    en_u = np.array(
        [_en_months(k) if k > 0 else (f"{-k - 1} day" + ("s" if k != -2 else "")) for k in uniq.tolist()],
        dtype=object,
    )
    return zh_u[inv].tolist(), en_u[inv].tolist()


def _iso(d: Days) -> list[str]:
    """Dates as ``YYYY-MM-DD`` (``NaT`` for a missing one); each distinct date formatted once."""
    d = np.asarray(d, dtype=_D)
    if d.size == 0:
        return []
    uniq, inv = np.unique(d.view(np.int64), return_inverse=True)
    return np.datetime_as_string(uniq.view(_D), unit="D").astype(object)[inv].tolist()


def _num(x: npt.ArrayLike, digits: int = 2) -> list[str]:
    return [f"{v:,.{digits}f}" for v in np.asarray(x, dtype=np.float64).tolist()]


def _pct(x: npt.ArrayLike) -> list[str]:
    return [f"{v:.0%}" for v in np.asarray(x, dtype=np.float64).tolist()]


def _records(columns: Mapping[str, Any], n: int) -> list[dict[str, Any]]:
    """One dict per row from column arrays (or one value for all rows).

    Missing values (NaN, NaT) are left out, floats rounded to 4 decimals, dates written ``YYYY-MM-DD``.
    """
    keys: list[str] = []
    cols: list[list[Any]] = []
    partial = False
    for k, v in columns.items():
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "M":
                miss = np.isnat(v)
                vals: list[Any] = _iso(v)
            elif v.dtype.kind == "f":
                miss = ~np.isfinite(v)  # NaN (unknown) and ±inf (a share of a zero commitment) are left out
                vals = np.round(v, 4).tolist()
            else:
                miss = np.zeros(v.size, dtype=bool)
                vals = v.tolist()
            if miss.all():
                continue
            if miss.any():
                partial = True
                vals = [None if m else x for x, m in zip(vals, miss.tolist(), strict=True)]
            keys.append(k)
            cols.append(vals)
        elif v is not None and not (isinstance(v, float) and math.isnan(v)):
            keys.append(k)
            cols.append([v] * n)
    if not keys:
        return [{} for _ in range(n)]
    if partial:
        return [
            {k: x for k, x in zip(keys, row, strict=False) if x is not None}
            for row in zip(*cols, strict=True)
        ]
    return [dict(zip(keys, row, strict=False)) for row in zip(*cols, strict=True)]


# ======================================================================================================
# the parcels, as arrays (shared by zoning.idle and zoning.lifecycle)
# ======================================================================================================

_DATE_COLUMNS = (
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
)
_EVENT_COLUMNS = ("started_on", "completed_on", "operating_since")  # what happened: ignored after as_of
_NUMBER_COLUMNS = (
    "lease_years",
    "planned_investment",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "committed_output_per_mu",
    "min_far",
    "investment",
    "tax",
    "output",
    "floor_area",
    "footprint_area",
)


def industrial_scope(parcels: pd.DataFrame) -> pd.Series:
    """Which parcels the industrial-land rules judge: all but those whose land use is known not to be industrial.

    The land use is read with ``geo.landuse`` (one table of the three code standards and the names):
    industrial, warehouse, mining and mixed 工矿 classes are judged, and so is a missing or unrecognised land
    use, so that nothing passes unseen; housing, commerce, public and other land (``0701``, ``R2``, ``商业用地``
    …) carries no industrial-land contract and is left out.

    Examples
    --------
    >>> import pandas as pd
    >>> industrial_scope(pd.DataFrame({"land_use": ["100101", "1101", "0701", "商业用地", None, "M1"]})).tolist()
    [True, True, False, False, True, True]
    """
    if "land_use" not in parcels.columns:
        return pd.Series(True, index=parcels.index, name="industrial_scope")
    codes, uniques = pd.factorize(parcels["land_use"], use_na_sentinel=True)
    inside = np.array([in_industrial_scope(u) for u in uniques], dtype=bool)
    res = np.ones(len(parcels), dtype=bool)
    known = codes >= 0
    res[known] = inside[codes[known]]
    return pd.Series(res, index=parcels.index, name="industrial_scope")


@dataclass
class _Parcels:
    """The columns a rule needs, as numpy arrays (dates datetime64[D], numbers float64, NaN when missing)."""

    n: int
    as_of: np.datetime64
    as_of_date: dt.date
    parcel_no: npt.NDArray[np.object_]
    parcel_keys: pd.Series | None
    holder_keys: pd.Series | None
    date: dict[str, Days]
    num: dict[str, npt.NDArray[np.float64]]
    area_mu: npt.NDArray[np.float64]
    area_m2: npt.NDArray[np.float64]
    scope: npt.NDArray[np.bool_]
    survey_low: npt.NDArray[np.bool_] = field(repr=False)


def _to_days(s: pd.Series) -> Days:
    """A date column (dates, datetimes, ``YYYY-MM-DD`` strings, None) as datetime64[D]."""
    if s.dtype.kind != "M":
        try:
            s = pd.to_datetime(s, errors="raise")
        except (ValueError, TypeError):
            s = pd.to_datetime(s, errors="raise", format="mixed")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.to_numpy().astype(_D)


def _prepare(parcels: pd.DataFrame, *, as_of: dt.date | str, needed: Sequence[str]) -> _Parcels:
    """Check the columns ``needed`` and turn them into arrays once; events after ``as_of`` did not happen yet."""
    if not isinstance(parcels, pd.DataFrame):
        raise TypeError("parcels must be a DataFrame with the parcel columns of geo.queries.read_parcels")
    has_area = "area_mu" in parcels.columns or isinstance(getattr(parcels, "geometry", None), pd.Series)
    missing = [c for c in needed if c not in parcels.columns] + (
        [] if has_area else ["area_mu (or a geometry)"]
    )
    if missing:
        raise ValueError(f"parcels lacks the column(s) {', '.join(missing)}")
    day = as_of_date(as_of)
    today = np.datetime64(day, "D")
    n = len(parcels)
    dates: dict[str, Days] = {}
    for c in _DATE_COLUMNS:
        if c in parcels.columns:
            d = _to_days(parcels[c])
            if c in _EVENT_COLUMNS:
                d = np.where(d > today, _NAT, d)
            dates[c] = d
    nums: dict[str, npt.NDArray[np.float64]] = {}
    for c in _NUMBER_COLUMNS:
        if c in parcels.columns:
            nums[c] = pd.to_numeric(parcels[c], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    if "area_mu" in parcels.columns:
        area_mu = pd.to_numeric(parcels["area_mu"], errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    else:
        from geo.area import area_mu as _area_mu

        area_mu = _area_mu(parcels).to_numpy(dtype=np.float64)
    area_mu = np.where(area_mu > 0, area_mu, np.nan)
    if "is_low_efficiency" in parcels.columns:
        flag = parcels["is_low_efficiency"]
        survey_low = (
            flag.to_numpy(dtype=bool)
            if flag.dtype == bool
            else np.array(
                [
                    v is True or v is np.True_ or (type(v) in (int, float) and v == 1)
                    for v in flag.astype(object).tolist()
                ],
                dtype=bool,
            )
        )
    else:
        survey_low = np.zeros(n, dtype=bool)
    return _Parcels(
        n=n,
        as_of=today,
        as_of_date=day,
        parcel_no=parcels["parcel_no"].astype(object).to_numpy(),
        parcel_keys=parcels["parcel_no"].reset_index(drop=True),
        holder_keys=parcels["holder_id"].reset_index(drop=True) if "holder_id" in parcels.columns else None,
        date=dates,
        num=nums,
        area_mu=area_mu,
        area_m2=area_mu * M2_PER_MU,
        scope=industrial_scope(parcels).to_numpy(),
        survey_low=survey_low,
    )


def _param(profile: Profile, key: str) -> tuple[Any, str]:
    """(value, citation) of ``key``."""
    return profile.value(key), profile.cite(key)


# ======================================================================================================
# ratings (亩均论英雄), matched by parcel number or by the holder's 统一社会信用代码
# ======================================================================================================


def _ratings_long(p: _Parcels, ratings: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (parcel position, year) with the grade that counts, for years before ``as_of``'s year.

    A rating given to the parcel itself wins over one given to its holder for the same year; among several
    ratings of one kind for the same year, the worst grade counts.
    """
    cols = {
        "pos": pd.Series([], dtype=np.int64),
        "year": pd.Series([], dtype=np.int64),
        "grade": pd.Series([], dtype=object),
    }
    if ratings is None or len(ratings) == 0 or p.n == 0:
        return pd.DataFrame(cols)
    bad = [c for c in ("year", "grade") if c not in ratings.columns]
    if bad or not ({"parcel_no", "holder_id"} & set(ratings.columns)):
        raise ValueError("ratings needs the columns year, grade and parcel_no or holder_id")
    year = pd.to_numeric(ratings["year"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    grade = ratings["grade"].astype("string").str.strip().str.upper()
    g = np.select([(grade == c).fillna(False).to_numpy(dtype=bool) for c in "ABCD"], [0, 1, 2, 3], default=-1)
    keep = (g >= 0) & (year < p.as_of_date.year)
    pos_parts, year_parts, grade_parts, prio_parts = [], [], [], []
    for key, own, prio in (("parcel_no", p.parcel_keys, 0), ("holder_id", p.holder_keys, 1)):
        if key not in ratings.columns or own is None:
            continue
        theirs = ratings[key]
        # match on integer codes of the keys as text (one hashing pass over both sides)
        codes, _ = pd.factorize(pd.concat([own.astype("str"), theirs.astype("str")], ignore_index=True))
        mine, other = codes[: len(own)], codes[len(own) :]
        ok_mine = own.notna().to_numpy()
        ok_other = theirs.notna().to_numpy() & keep
        left = pd.DataFrame({"k": mine[ok_mine], "pos": np.flatnonzero(ok_mine)})
        right = pd.DataFrame({"k": other[ok_other], "row": np.flatnonzero(ok_other)})
        m = left.merge(right, on="k", how="inner")
        rows = m["row"].to_numpy()
        pos_parts.append(m["pos"].to_numpy(dtype=np.int64))
        year_parts.append(year[rows].astype(np.int64))
        grade_parts.append(g[rows])
        prio_parts.append(np.full(rows.size, prio))
    if not pos_parts:
        return pd.DataFrame(cols)
    pos, yr, gr, pr = (np.concatenate(x) for x in (pos_parts, year_parts, grade_parts, prio_parts))
    if pos.size == 0:
        return pd.DataFrame(cols)
    order = np.lexsort(
        (-gr, pr, yr, pos)
    )  # per (parcel, year): the parcel's own rating, then the worst grade
    pos, yr, gr = pos[order], yr[order], gr[order]
    first = np.r_[True, (pos[1:] != pos[:-1]) | (yr[1:] != yr[:-1])]
    return pd.DataFrame(
        {"pos": pos[first], "year": yr[first], "grade": np.array(list("ABCD"), dtype=object)[gr[first]]}
    )


# ======================================================================================================
# collecting rows
# ======================================================================================================


class _Rows:
    """Findings collected rule by rule, then turned into one sorted frame."""

    def __init__(self, p: _Parcels) -> None:
        self.p = p
        self.parts: list[
            tuple[
                str,
                str,
                npt.NDArray[np.int64],
                Days,
                list[str],
                list[str],
                list[dict[str, Any]],
                npt.NDArray[np.float64] | None,
            ]
        ] = []
        self.until: list[Days] = []

    def add(
        self,
        category: str,
        article: str,
        idx: npt.NDArray[np.int64],
        *,
        since: Days | None,
        detail: list[str],
        detail_en: list[str],
        figures: list[dict[str, Any]],
        penalty_wan: npt.ArrayLike | None = None,
        until: Days | None = None,
    ) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        s = np.full(idx.size, _NAT) if since is None else np.asarray(since, dtype=_D)
        pen = None if penalty_wan is None else np.asarray(penalty_wan, dtype=np.float64)
        self.parts.append((category, article, idx, s, detail, detail_en, figures, pen))
        self.until.append(np.full(idx.size, _NAT) if until is None else np.asarray(until, dtype=_D))

    def insufficient(
        self,
        article: str,
        idx: npt.NDArray[np.int64],
        *,
        rule: str,
        missing: list[list[str]] | list[str],
        detail: str | list[str],
        detail_en: str | list[str],
    ) -> None:
        """``insufficient_data`` rows: the rule that could not be judged and the fields it lacked."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0:
            return
        n = idx.size
        miss = missing if missing and isinstance(missing[0], list) else [missing] * n
        det = detail if isinstance(detail, list) else [detail] * n
        det_en = detail_en if isinstance(detail_en, list) else [detail_en] * n
        figs = [{"rule": rule, "missing": list(m)} for m in miss]
        self.add("insufficient_data", article, idx, since=None, detail=det, detail_en=det_en, figures=figs)

    def frame(self) -> pd.DataFrame:
        """The rows as a findings frame, sorted by parcel number, category, since and article."""
        if not self.parts:
            return empty_findings().assign(until=pd.Series([], dtype=object))
        sizes = [x[2].size for x in self.parts]
        idx = np.concatenate([x[2] for x in self.parts])
        since = np.concatenate([x[3] for x in self.parts])
        until = np.concatenate(self.until)
        pen = np.concatenate([x[7] if x[7] is not None else np.full(x[2].size, np.nan) for x in self.parts])
        cat = np.repeat(np.array([x[0] for x in self.parts], dtype=object), sizes)
        art = np.repeat(np.array([x[1] for x in self.parts], dtype=object), sizes)
        rank = np.repeat(np.array([_RANK[x[0]] for x in self.parts]), sizes)
        art_codes, _ = pd.factorize(pd.Series(art, dtype=object), sort=True)
        # rank the parcel numbers of the parcels with findings (a string sort once per parcel, not per row)
        pos, inv = np.unique(idx, return_inverse=True)
        no_rank = pd.Series(self.p.parcel_no[pos], dtype=object).astype(str).rank(method="dense").to_numpy()
        order = np.lexsort((art_codes, since.view(np.int64), rank, no_rank[inv]))
        det = np.empty(idx.size, dtype=object)
        det[:] = [s for x in self.parts for s in x[4]]
        det_en = np.empty(idx.size, dtype=object)
        det_en[:] = [s for x in self.parts for s in x[5]]
        figs = np.empty(idx.size, dtype=object)
        figs[:] = [f for x in self.parts for f in x[6]]
        return pd.DataFrame(
            {
                "parcel_no": pd.Series(self.p.parcel_no[idx[order]], dtype=object),
                "category": pd.Series(cat[order], dtype=object),
                "article": pd.Series(art[order], dtype=object),
                "detail": pd.Series(det[order], dtype=object),
                "detail_en": pd.Series(det_en[order], dtype=object),
                "since": pd.Series(since[order].astype(object), dtype=object),
                "figures": pd.Series(figs[order], dtype=object),
                "penalty_wan": pd.Series(pen[order], dtype=np.float64),
                "until": pd.Series(until[order].astype(object), dtype=object),
            }
        )
