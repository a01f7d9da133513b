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

The rules share their pieces: ``zoning.parcel_arrays`` (the parcels as arrays), ``zoning.dates`` (calendar
arithmetic), ``zoning.wording`` (the words of the sentences), ``zoning.rows`` (collecting the rows) and
``zoning.grades`` (the 亩均论英雄 grade that counts).

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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from zoning.dates import as_of_date
from zoning.parcel_arrays import industrial_scope
from zoning.policy import Profile
from zoning.wording import duration_en, duration_zh, number_pair, pct_pair

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
    "merge_findings",
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

_D = "datetime64[D]"


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
    items = _items(f, cats)
    bounds = [i for i in range(1, len(nos)) if nos[i] != nos[i - 1]]
    out: list[dict[str, Any]] = []
    for a, b in zip([0, *bounds], [*bounds, len(nos)], strict=True):
        categories = list(dict.fromkeys(cats[a:b]))  # the rows are in category order
        out.append({"parcel_no": nos[a], "categories": categories, "findings": items[a:b]})
    return out


def _dates_json(column: pd.Series) -> list[str | None]:
    """A column of dates as ``YYYY-MM-DD`` strings, None where missing."""
    days = pd.to_datetime(column, errors="coerce").to_numpy().astype(_D)
    return [None if x == "NaT" else x for x in np.datetime_as_string(days, unit="D").tolist()]


def _items(f: pd.DataFrame, cats: list[str]) -> list[dict[str, Any]]:
    """The findings of sorted ``f`` as JSON-ready dicts, in its order."""
    figs = [
        {k if type(k) is str else str(k): v if type(v) in _PLAIN else _json_value(v) for k, v in x.items()}
        if isinstance(x, Mapping)
        else {}
        for x in f["figures"].tolist()
    ]
    until_s = _dates_json(f["until"]) if "until" in f.columns else [None] * len(f)
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
            _dates_json(f["since"]),
            until_s,
            figs,
            strict=True,
        )
    ]
    pen = pd.to_numeric(f["penalty_wan"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for i in np.flatnonzero(np.isfinite(pen)).tolist():
        items[i]["penalty_wan"] = float(pen[i])
    return items


def findings_json(
    findings: pd.DataFrame,
    *,
    as_of: dt.date | str,
    profile: Profile,
    county_policies: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``blockline idle`` / ``blockline lifecycle`` (CLI.md).

    ``county_policies`` names the counties judged by another profile than ``profile`` (their city's own text,
    ``zoning.policy.governing_profiles``): listed as ``county_policies`` when there are any.

    Examples
    --------
    >>> import datetime as dt
    >>> from zoning.policy import get_profile
    >>> findings_json(empty_findings(), as_of=dt.date(2026, 11, 22), profile=get_profile("yiwu"))
    {'as_of': '2026-11-22', 'policy': 'yiwu', 'parcels': []}
    >>> findings_json(empty_findings(), as_of="2026-11-22", profile=get_profile("wenzhou-2020"),
    ...               county_policies={"330782": "yiwu"})
    {'as_of': '2026-11-22', 'policy': 'wenzhou-2020', 'county_policies': {'330782': 'yiwu'}, 'parcels': []}
    """
    head: dict[str, Any] = {"as_of": as_of_date(as_of).isoformat(), "policy": profile.name}
    if county_policies:
        head["county_policies"] = dict(sorted(county_policies.items()))
    return head | {"parcels": group_by_parcel(findings)}


def merge_findings(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Findings frames of disjoint sets of parcels as one frame, sorted by parcel number as each one is.

    What the rules return for each county's parcels under its own profile, put together: each parcel's rows
    keep their order (category, since, article), the parcels are ordered as ``zoning.rows`` orders them (by
    their number as text). One frame is returned as it is.

    Examples
    --------
    >>> f = pd.DataFrame({"parcel_no": ["B", "B"], "category": ["idle", "late_start"]})
    >>> g = pd.DataFrame({"parcel_no": ["A", "C"], "category": ["underused", "idle"]})
    >>> merge_findings([f, g]).values.tolist()
    [['A', 'underused'], ['B', 'idle'], ['B', 'late_start'], ['C', 'idle']]
    """
    held = [f for f in frames if len(f)] or list(frames[:1])  # no empty frame's dtypes in the concatenation
    if len(held) == 1:
        return held[0]
    merged = pd.concat(held, ignore_index=True)
    return merged.sort_values("parcel_no", kind="stable", key=lambda s: s.astype(str)).reset_index(drop=True)


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
# comparisons at a threshold (the figures that agree with their verdict: zoning.wording)
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
