"""Idle and low-efficiency industrial land (闲置土地、未按期开竣工、建而未投、投而未达、用而未尽).

``idle_findings`` judges every parcel under the industrial-land rules (``zoning.findings.industrial_scope``)
against a policy profile at a date, and returns one row per finding in the shape of ``zoning.findings``.
``low_efficiency`` says which parcels are low-efficiency land (for consolidation zones, WZ §12).

The rules, each with the profile parameter it reads (its article is cited in every finding):

``late_start`` (未按期开工; ``construction.start_months``)
    started after the agreed start date, or not started and the agreed start date has passed (the agreed
    day itself is still in time: 不超过/以内 include it). A late start is a breach: its finding is dated
    ``since`` the deadline and, once the works started, ``until`` that day (cured). When the contract
    date is missing, the agreed start is derived as
    delivery + ``construction.start_months_max`` months (the longest start period the policy allows: WZ §6
    "最长不得超过半年", YW §5 one year), cited as that key; with neither date: ``insufficient_data``.
``idle`` (闲置土地; ``idle.unstarted_years``)
    not started when ``idle.unstarted_years`` have passed since the agreed start (满一年: on the anniversary
    itself it is idle). Also started but stalled (``idle.stalled_years``): the data records no stoppage
    date, so the proxy is: started, not completed, the agreed completion date passed by at least
    ``idle.stalled_years``, and the developed share (building footprint ÷ parcel area, a lower bound of
    the developed land) 不足 ``idle.stalled_developed_share`` or investment ÷ planned investment 不足
    ``idle.stalled_investment_share`` (exactly a third, exactly 25 % is not idle; shares within
    ``zoning.findings.SHARE_EPS`` of the threshold count as at it).
``idle_reclaimable`` (闲置满两年; ``idle.reclaimable_years``)
    not started when ``idle.reclaimable_years`` have passed since the agreed start.
``late_completion`` (未按期竣工; ``construction.build_months_by_investment`` or
``construction.completion_months_from_delivery``)
    completed after the agreed completion date, or not completed and it has passed (the day itself is in
    time); ``until`` the completion once completed late. When the contract date is missing it is derived:
    under a profile with ``construction.completion_months_from_delivery`` (YW §5: 交付之日起…3年内竣工) as
    delivery + that many months; otherwise as the agreed start (as above) + the build period of the
    investment tier: tiers are ``[bound 万元, months, word]`` and a project takes the first tier whose bound
    it does not pass, the bound itself included under 以下 and excluded under 不满 (Wenzhou: 10亿元以下,
    10 亿 included, 24 months; above 10 亿 and under 20 亿 30; 20亿元以上, 20 亿 included, 36).
``built_not_operating`` (建而未投)
    completed, not in production at ``as_of``, and the agreed operation date has passed.
``operating_below_target`` (投而未达)
    in production, at or after the agreed full-production date, and investment, output or tax per 亩
    (actual ÷ area) below the committed figure.
``underused`` (用而未尽; ``use.*``)
    built (completed or in production), and floor-area ratio (floor area ÷ parcel area) below the
    contract's ``min_far``, or building coverage (footprint ÷ area) below ``use.min_building_coverage``,
    or the unbuilt share above ``use.unbuilt_share``. With only the footprint on record the unbuilt share
    is estimated as 1 − coverage ÷ ``use.min_building_coverage`` (the land a development at the standard
    coverage leaves unused); it is reported, but it cannot trigger without the coverage rule also
    triggering until the data carries a measured idle area.

A rule that needs a missing field gives an ``insufficient_data`` finding that names the rule and the
fields, never a silent pass. Events dated after ``as_of`` (start, completion, operation) have not happened
yet at ``as_of``.

The rules are ``zoning.idle_rules`` (the masks), their sentences ``zoning.idle_sentences`` and
``zoning.idle_insufficient``; the grade that counts for low efficiency is ``zoning.grades``'.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.policy import get_profile
>>> parcel = {c: None for c in NEEDED} | {"parcel_no": "330302-2023-0001", "area_mu": 15.0,
...           "agreed_start_on": dt.date(2023, 3, 1)}
>>> f = idle_findings(pd.DataFrame([parcel]), as_of=dt.date(2026, 11, 22), profile=get_profile("wenzhou-2020"))
>>> f["category"].tolist()
['idle_reclaimable', 'idle', 'late_start', 'insufficient_data']
>>> print(f.loc[2, "detail"])
约定开工日期 2023-03-01，截至 2026-11-22 未开工，已逾期 3年8个月
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from zoning.grades import grades_by_year
from zoning.idle_rules import judge
from zoning.idle_sentences import write
from zoning.parcel_arrays import prepare
from zoning.policy import Profile
from zoning.rows import Rows

__all__ = ["IDLE_CATEGORIES", "NEEDED", "idle_findings", "low_efficiency"]

#: the parcel columns the idle rules read (besides ``area_mu``, or a geometry to compute it from)
NEEDED = [
    "parcel_no",
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
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
]

#: the masks of ``zoning.idle_rules.judge`` that are states of the land at ``as_of`` (low efficiency); breaches are not
LOW_EFFICIENCY_STATES = ("idle_open", "reclaimable", "stalled", "not_operating", "below_target", "underused")

#: the categories ``idle_findings`` reports besides ``insufficient_data``
IDLE_CATEGORIES = (
    "idle",
    "idle_reclaimable",
    "late_start",
    "late_completion",
    "built_not_operating",
    "operating_below_target",
    "underused",
)


def idle_findings(parcels: pd.DataFrame, *, as_of: dt.date | str, profile: Profile) -> pd.DataFrame:
    """Idle and low-efficiency findings for every parcel, at ``as_of``, under ``profile``.

    Parameters
    ----------
    parcels : pandas.DataFrame
        The parcel columns of ``geo.queries.read_parcels`` (at least ``NEEDED``, and ``area_mu`` or a
        projected geometry; ``land_use`` decides the scope, see ``zoning.findings.industrial_scope``).
        Dates are ``datetime.date``/``None`` (or datetime64), money in 万元, intensities in 万元/亩,
        floor and footprint areas in m². Not modified.
    as_of : datetime.date or str
        The date of the judgement (``YYYY-MM-DD``).
    profile : zoning.policy.Profile
        The policy whose parameters and articles apply.

    Returns
    -------
    pandas.DataFrame
        One row per finding, columns ``zoning.findings.FINDING_COLUMNS`` and ``until``, sorted by parcel number and
        category; categories ``IDLE_CATEGORIES`` and ``insufficient_data``.

    Raises
    ------
    ValueError
        When a needed column is missing.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from zoning.policy import get_profile
    >>> row = {c: None for c in NEEDED} | {"parcel_no": "Y-1", "area_mu": 15.0,
    ...        "delivered_on": dt.date(2024, 3, 1), "started_on": dt.date(2025, 3, 2)}
    >>> f = idle_findings(pd.DataFrame([row]), as_of=dt.date(2025, 6, 1), profile=get_profile("yiwu"))
    >>> f.loc[f["category"] == "late_start", ["article", "detail_en"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['yiwu YW §5', 'agreed start 2025-03-01 (not in the contract: delivery 2024-03-01 + 12 months);
      started 2025-03-02, 1 day late']]
    """
    p = prepare(parcels, as_of=as_of, needed=NEEDED)
    rows = Rows(p)
    write(rows, p, judge(p, profile), profile)
    return rows.frame()


def low_efficiency(
    parcels: pd.DataFrame, ratings: pd.DataFrame | None, *, as_of: dt.date | str, profile: Profile
) -> pd.Series:
    """Which parcels are low-efficiency land (低效用地), for consolidation zones (WZ §12).

    Low efficiency is a state of the land at ``as_of``, not a record of breaches: a parcel is low-efficiency
    when the survey says so (``is_low_efficiency`` True), or one of the state categories applies at ``as_of``
    (``idle``, ``idle_reclaimable``, ``built_not_operating``, ``operating_below_target``, ``underused``),
    or it or its holder was rated a grade of ``consolidation.low_efficiency_grades`` in one of the latest
    ``consolidation.rating_years`` years before ``as_of``'s year (ratings match by ``parcel_no`` or by
    ``holder_id``, the grade that counts by ``zoning.grades.grades_by_year``; a profile without these
    keys counts no rating). A late start or a late completion is a breach dated when it happened
    (``late_start``/``late_completion`` findings, with ``until`` once cured): it does not by itself make the
    land low-efficiency, neither once cured nor while the works are merely behind (a parcel left unstarted
    becomes ``idle`` 满一年 after its start deadline; one left unfinished, stalled ``idle``).

    Returns
    -------
    pandas.Series
        Booleans, ``index=parcels.index``, ``name="low_efficiency"``.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from zoning.policy import get_profile
    >>> healthy = {c: None for c in NEEDED} | {"area_mu": 15.0, "agreed_start_on": dt.date(2026, 1, 1),
    ...            "started_on": dt.date(2025, 12, 1), "holder_id": "H"}
    >>> parcels = pd.DataFrame([healthy | {"parcel_no": "A"}, healthy | {"parcel_no": "B", "holder_id": "G"}])
    >>> ratings = pd.DataFrame({"holder_id": ["G"], "year": [2025], "grade": ["D"]})
    >>> low_efficiency(parcels, ratings, as_of=dt.date(2026, 6, 1), profile=get_profile("wenzhou-2020")).tolist()
    [False, True]
    """
    p = prepare(parcels, as_of=as_of, needed=NEEDED)
    m = judge(p, profile).masks
    low = p.survey_low.copy()
    for k in LOW_EFFICIENCY_STATES:
        low |= m[k]
    if not (profile.has("consolidation.rating_years") and profile.has("consolidation.low_efficiency_grades")):
        return pd.Series(low, index=parcels.index, name="low_efficiency")
    long = grades_by_year(p.keys, ratings, as_of=p.as_of_date)
    if len(long):
        first_year = p.as_of_date.year - int(profile.value("consolidation.rating_years"))
        hit = long[
            (long["year"] >= first_year)
            & long["grade"].isin(list(profile.value("consolidation.low_efficiency_grades")))
        ]
        low[hit["pos"].to_numpy()] = True
    return pd.Series(low, index=parcels.index, name="low_efficiency")
