"""What the 全生命周期 page shows, without Streamlit: the work list, a parcel's timeline and its figures.

``lifecycle_report`` joins the warnings of the contract rules (``zoning.lifecycle``) and the construction
deadlines of the idle-land rules (``zoning.idle``: late start, late completion), as the city's stored
judgement holds them (``blockline.services.judged``), with each parcel's holder, county and area. ``timeline`` lists
one parcel's dates from delivery to the end of its lease, in order;
``contract_figures`` sets its committed investment, tax and output per 亩 against the actual ones. The page
wraps ``lifecycle_report`` in ``st.cache_data``; nothing here imports streamlit.

Examples
--------
>>> import datetime as dt
>>> parcel = {"parcel_no": "A-1", "delivered_on": dt.date(2020, 1, 1), "agreed_start_on": dt.date(2020, 4, 1),
...           "started_on": dt.date(2020, 5, 1), "lease_years": 20}
>>> timeline(parcel, as_of=dt.date(2026, 1, 1))[["event", "date"]].dropna().values.tolist()
... # doctest: +NORMALIZE_WHITESPACE
[['delivered_on', datetime.date(2020, 1, 1)], ['agreed_start_on', datetime.date(2020, 4, 1)],
 ['started_on', datetime.date(2020, 5, 1)], ['as_of', datetime.date(2026, 1, 1)],
 ['lease_end', datetime.date(2040, 1, 1)]]
>>> split_message("出让年限须大于 0 / a lease term must be more than 0 years", "en")
'a lease term must be more than 0 years'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from blockline.services.judged import judge_city
from blockline.services.reports import parcel_facts
from zoning.policy import get_profile

__all__ = [
    "CONTRACT_MEASURES",
    "IDLE_WARNINGS",
    "TERMINATIONS",
    "TIMELINE_EVENTS",
    "WORK_CATEGORIES",
    "contract_figures",
    "lease_end",
    "lifecycle_report",
    "split_message",
    "summarise",
    "timeline",
    "work_list",
]

#: the idle-land findings that belong on the lifecycle work list (construction deadlines)
IDLE_WARNINGS = ("late_start", "late_completion")
#: every category of the work list, in the order the page offers them
WORK_CATEGORIES = (
    *IDLE_WARNINGS,
    "tax_shortfall",
    "termination_possible",
    "rating_termination_possible",
    "evaluation_due",
    "lease_expiring",
    "lease_expired",
)
#: the categories after which the contract may be ended
TERMINATIONS = ("termination_possible", "rating_termination_possible")
#: a parcel's dates, in the order of its life (``lease_end`` is delivery + ``lease_years``)
TIMELINE_EVENTS = (
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
    "lease_end",
)
#: measure → (committed per 亩 field, actual total field), all in 万元
CONTRACT_MEASURES = {
    "investment": ("committed_investment_per_mu", "investment"),
    "tax": ("committed_tax_per_mu", "tax"),
    "output": ("committed_output_per_mu", "output"),
}
_REPORT_COLUMNS = [
    "parcel_no",
    "holder",
    "county_code",
    "area_mu",
    "category",
    "article",
    "detail",
    "detail_en",
    "since",
    "penalty_wan",
]


def lifecycle_report(
    engine: Engine, as_of: dt.date, policy: str, *, city_standard_tax_per_mu_wan: float | None = None
) -> pd.DataFrame:
    """The lifecycle work list of the store at ``as_of`` under ``policy``: one row per warning.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    as_of : datetime.date
        The date of the judgement.
    policy : str
        A profile name or path (``zoning.policy.get_profile``).
    city_standard_tax_per_mu_wan : float, optional
        The city's published tax standard (万元/亩), for parcels without a committed tax per 亩.

    Returns
    -------
    pandas.DataFrame
        Columns ``parcel_no, holder, county_code, area_mu, category, article, detail, detail_en, since,
        penalty_wan``; categories ``WORK_CATEGORIES`` only (no ``insufficient_data``), sorted by parcel number
        and the order of ``WORK_CATEGORIES``.
    """
    judgement = judge_city(
        engine,
        as_of=as_of,
        profile=get_profile(policy),
        city_standard_tax_per_mu_wan=city_standard_tax_per_mu_wan,
    )
    return work_list(
        parcel_facts(engine),
        judgement.findings("idle", figures=False),
        judgement.findings("lifecycle", figures=False),
    )


def work_list(parcels: pd.DataFrame, idle: pd.DataFrame, lifecycle: pd.DataFrame) -> pd.DataFrame:
    """The warnings of ``idle`` and ``lifecycle`` findings joined with the parcels' holder, county and area.

    Examples
    --------
    >>> import datetime as dt
    >>> from zoning.findings import FINDING_COLUMNS
    >>> p = pd.DataFrame({"parcel_no": ["A"], "holder": ["甲"], "county_code": ["330302"], "area_mu": [15.0]})
    >>> idle = pd.DataFrame([["A", "idle", "x", "", "", None, {}, None],
    ...                      ["A", "late_start", "x", "", "", None, {}, None]], columns=FINDING_COLUMNS)
    >>> life = pd.DataFrame([["A", "tax_shortfall", "y", "", "", None, {}, 150.0]], columns=FINDING_COLUMNS)
    >>> work_list(p, idle, life)[["category", "holder", "penalty_wan"]].values.tolist()
    [['late_start', '甲', nan], ['tax_shortfall', '甲', 150.0]]
    """
    frames = [f[f["category"].isin(WORK_CATEGORIES)] for f in (idle, lifecycle)]
    found = pd.concat([f.drop(columns=["figures"], errors="ignore") for f in frames], ignore_index=True)
    facts = parcels[["parcel_no", "holder", "county_code", "area_mu"]]
    out = found.merge(facts, on="parcel_no", how="left")
    out["penalty_wan"] = pd.to_numeric(out["penalty_wan"], errors="coerce").astype(float)
    out["area_mu"] = pd.to_numeric(out["area_mu"], errors="coerce").astype(float)
    order = out["category"].map({c: i for i, c in enumerate(WORK_CATEGORIES)})
    out = out.assign(_order=order).sort_values(["parcel_no", "_order"], kind="stable")
    return out[_REPORT_COLUMNS].reset_index(drop=True)


def summarise(report: pd.DataFrame) -> dict[str, float | int]:
    """The page's metrics: parcels on the list, total penalty (万元), parcels whose contract may be ended.

    Examples
    --------
    >>> r = pd.DataFrame({"parcel_no": ["A", "A", "B"], "category": ["tax_shortfall", "termination_possible",
    ...                   "evaluation_due"], "penalty_wan": [150.0, None, None]})
    >>> summarise(r)
    {'parcels': 2, 'penalty_wan': 150.0, 'terminations': 1}
    """
    ended = report.loc[report["category"].isin(TERMINATIONS), "parcel_no"]
    penalty = pd.to_numeric(report["penalty_wan"], errors="coerce").sum()
    return {
        "parcels": int(report["parcel_no"].nunique()),
        "penalty_wan": float(penalty),
        "terminations": int(ended.nunique()),
    }


def _value(parcel: Mapping[str, Any] | pd.Series, key: str) -> Any:
    v = parcel.get(key)
    if v is None:
        return None
    try:
        return None if pd.isna(v) else v
    except (TypeError, ValueError):
        return v


def _date(v: Any) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return pd.Timestamp(v).date()


def lease_end(delivered_on: dt.date | None, lease_years: float | None) -> dt.date | None:
    """The day the lease ends: delivery + ``lease_years`` (whole months; 29 February falls back to the 28th).

    Examples
    --------
    >>> lease_end(dt.date(2020, 2, 29), 20)
    datetime.date(2040, 2, 29)
    >>> lease_end(dt.date(2020, 2, 29), 1), lease_end(None, 20)
    (datetime.date(2021, 2, 28), None)
    """
    if delivered_on is None or lease_years is None or not math.isfinite(float(lease_years)):
        return None
    months = round(float(lease_years) * 12)
    return (pd.Timestamp(delivered_on) + pd.DateOffset(months=months)).date()


def timeline(parcel: Mapping[str, Any] | pd.Series, *, as_of: dt.date) -> pd.DataFrame:
    """One parcel's dates (``TIMELINE_EVENTS``) and ``as_of``, known dates in order, unknown ones last.

    Returns
    -------
    pandas.DataFrame
        Columns ``event`` (a ``TIMELINE_EVENTS`` name or ``as_of``), ``date`` (datetime.date or None) and
        ``kind``: ``agreed`` (a contract date), ``actual`` (it happened) or ``today``. Events of the same day
        keep the order of ``TIMELINE_EVENTS``.
    """
    dates = {e: _date(_value(parcel, e)) for e in TIMELINE_EVENTS if e != "lease_end"}
    lease_years = _value(parcel, "lease_years")
    dates["lease_end"] = lease_end(dates["delivered_on"], None if lease_years is None else float(lease_years))
    rows: list[tuple[str, dt.date | None, str]] = [(e, dates[e], _kind(e)) for e in TIMELINE_EVENTS]
    rows.append(("as_of", as_of, "today"))
    rank = {e: i for i, e in enumerate((*TIMELINE_EVENTS, "as_of"))}
    known = sorted(
        ((event, day, kind) for event, day, kind in rows if day is not None), key=lambda r: (r[1], rank[r[0]])
    )
    unknown = [r for r in rows if r[1] is None]
    return pd.DataFrame([*known, *unknown], columns=["event", "date", "kind"])


def _kind(event: str) -> str:
    return "agreed" if event.startswith("agreed_") or event == "lease_end" else "actual"


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def contract_figures(
    parcel: Mapping[str, Any] | pd.Series, measures: Sequence[str] = tuple(CONTRACT_MEASURES)
) -> pd.DataFrame:
    """Committed against actual investment, tax and output per 亩 (万元/亩) of one parcel.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``committed_per_mu_wan``, ``actual_per_mu_wan`` (actual total ÷ ``area_mu``) and
        ``share`` (actual ÷ committed); NaN where a figure is missing.

    Examples
    --------
    >>> f = contract_figures({"area_mu": 15.0, "tax": 300.0, "committed_tax_per_mu": 30.0}, ["tax"])
    >>> f.set_index("measure").loc["tax"].tolist()
    [30.0, 20.0, 0.6666666666666666]
    """
    area = _float(_value(parcel, "area_mu"))
    rows = []
    for m in measures:
        committed_key, actual_key = CONTRACT_MEASURES[m]
        committed = _float(_value(parcel, committed_key))
        total = _float(_value(parcel, actual_key))
        actual = total / area if total is not None and area else None
        share = actual / committed if actual is not None and committed else None
        rows.append(
            {"measure": m, "committed_per_mu_wan": committed, "actual_per_mu_wan": actual, "share": share}
        )
    out = pd.DataFrame(rows, columns=["measure", "committed_per_mu_wan", "actual_per_mu_wan", "share"])
    for c in ("committed_per_mu_wan", "actual_per_mu_wan", "share"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def split_message(message: str, lang: str) -> str:
    """The part of a bilingual engine message (``中文 / English``) in ``lang``; the whole when it is not split."""
    zh, sep, en = str(message).partition(" / ")
    if not sep:
        return str(message)
    return en if lang == "en" else zh
