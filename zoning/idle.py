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
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from zoning.findings import (
    _NAT,
    RELATIVE_EPS,
    Days,
    _add_months,
    _durations,
    _iso,
    _num,
    _param,
    _Parcels,
    _prepare,
    _ratings_long,
    _records,
    _Rows,
    _years_to_months,
    at_least,
    at_most,
    number_pair,
    pct_pair,
)
from zoning.policy import BOUNDARY_WORDS, Profile

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

#: the masks of ``_judge`` that are states of the land at ``as_of`` (low efficiency); breaches are not
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

#: field → its Chinese header (CLI.md), for the sentences of insufficient_data findings
_FIELD_ZH = {
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


def _fields_zh(fields: list[str]) -> str:
    return "、".join(_FIELD_ZH.get(f, f) for f in fields)


def _fmt(v: float) -> str:
    """A profile value as written: 1 → '1', 1.5 → '1.5'."""
    return f"{v:g}"


def _missing(flags: dict[str, npt.NDArray[np.bool_]], idx: npt.NDArray[np.int64]) -> list[list[str]]:
    """For each row of ``idx``, the names whose flag is set."""
    names = list(flags)
    cols = [flags[k][idx].tolist() for k in names]
    return [[k for k, on in zip(names, row, strict=True) if on] for row in zip(*cols, strict=True)]


@dataclass
class _Judged:
    """Every mask and derived date of the idle rules, for formatting or for the low-efficiency flag."""

    masks: dict[str, npt.NDArray[np.bool_]]
    a_start: Days
    start_derived: npt.NDArray[np.bool_]
    a_comp: Days
    comp_derived: npt.NDArray[np.bool_]
    build_months: npt.NDArray[np.int64]
    values: dict[str, Any]


def _judge(p: _Parcels, profile: Profile) -> _Judged:
    d, x, today, sc = p.date, p.num, p.as_of, p.scope
    nat = np.isnat
    delivered, started, completed, operating = (
        d["delivered_on"],
        d["started_on"],
        d["completed_on"],
        d["operating_since"],
    )
    has_started = ~nat(started) | ~nat(completed) | ~nat(operating)
    has_completed = ~nat(completed) | ~nat(operating)
    is_operating = ~nat(operating)

    # ---- start
    given = d["agreed_start_on"]
    start_derived = nat(given) & ~nat(delivered)
    a_start = np.where(
        nat(given), _add_months(delivered, profile.value("construction.start_months_max")), given
    )
    start_known = ~nat(a_start)
    # in time when started on or before the deadline (不超过/以内: the day itself is in time)
    inc = np.where(
        start_derived,
        profile.includes("construction.start_months_max"),
        profile.includes("construction.start_months"),
    )

    def in_time(when: Days) -> npt.NDArray[np.bool_]:
        return np.where(inc, when <= a_start, when < a_start)

    late_start_done = sc & start_known & ~nat(started) & ~in_time(started)
    late_start_open = sc & start_known & ~has_started & ~in_time(np.full(p.n, today))
    first_later = np.fmin(completed, operating)  # started before these; start date unrecorded
    ins_start = sc & ~start_known
    ins_start_date = sc & start_known & nat(started) & has_started & (first_later > a_start)

    # ---- idle: not started
    idle_from = _add_months(a_start, _years_to_months(profile.value("idle.unstarted_years")))
    reclaim_from = _add_months(a_start, _years_to_months(profile.value("idle.reclaimable_years")))
    idle_open = sc & start_known & ~has_started & _reached(today, idle_from, profile, "idle.unstarted_years")
    reclaimable = (
        sc & start_known & ~has_started & _reached(today, reclaim_from, profile, "idle.reclaimable_years")
    )

    # ---- completion
    planned = x["planned_investment"]
    comp_key = _completion_key(profile)
    if comp_key == "construction.completion_months_from_delivery":  # YW §5: 交付之日起3年内竣工
        build_months = np.full(p.n, int(profile.value(comp_key)), dtype=np.int64)
        tier_known = ~nat(delivered)
        derived_c = np.where(tier_known, _add_months(delivered, build_months), _NAT)
    else:
        build_months, tier_known = _build_months(profile.value(comp_key), planned)
        derived_c = np.where(tier_known, _add_months(a_start, build_months), _NAT)
    given_c = d["agreed_completion_on"]
    comp_derived = nat(given_c) & ~nat(derived_c)
    a_comp = np.where(nat(given_c), derived_c, given_c)
    comp_known = ~nat(a_comp)
    comp_inc = profile.includes(comp_key)

    def comp_in_time(when: Days) -> npt.NDArray[np.bool_]:
        return (when <= a_comp) if comp_inc else (when < a_comp)

    late_comp_done = sc & comp_known & ~nat(completed) & ~comp_in_time(completed)
    late_comp_open = sc & comp_known & ~has_completed & ~comp_in_time(np.full(p.n, today))
    ins_comp = sc & ~comp_known
    ins_comp_date = sc & comp_known & nat(completed) & is_operating & (operating > a_comp)

    # ---- idle: started, then stalled (proxy: agreed completion passed by idle.stalled_years)
    stall_from = _add_months(a_comp, _years_to_months(profile.value("idle.stalled_years")))
    area_m2 = p.area_m2
    with np.errstate(all="ignore"):
        dev_share = x["footprint_area"] / area_m2
        inv_share = np.where(planned > 0, x["investment"] / planned, np.nan)
    stall_time = (
        sc
        & comp_known
        & has_started
        & ~has_completed
        & _reached(today, stall_from, profile, "idle.stalled_years")
    )
    dev_low = at_most(
        dev_share,
        profile.value("idle.stalled_developed_share"),
        includes=profile.includes("idle.stalled_developed_share"),
    )
    inv_low = at_most(
        inv_share,
        profile.value("idle.stalled_investment_share"),
        includes=profile.includes("idle.stalled_investment_share"),
    )
    stalled = stall_time & (dev_low | inv_low)
    ins_stalled = stall_time & ~stalled & (np.isnan(dev_share) | np.isnan(inv_share))

    # ---- built, not operating
    bno_applies, _ = _param(profile, "production.built_not_operating")
    a_op = d["agreed_operation_on"]
    built_idle = sc & bool(bno_applies) & has_completed & ~is_operating
    not_operating = built_idle & ~nat(a_op) & (today > a_op)
    ins_op = built_idle & nat(a_op)

    # ---- operating, below target
    obt_applies, _ = _param(profile, "production.operating_below_target")
    a_full = d["agreed_full_production_on"]
    area = p.area_mu
    with np.errstate(all="ignore"):
        per_mu = {k: x[k] / area for k in ("investment", "output", "tax")}
    committed = {
        "investment": x["committed_investment_per_mu"],
        "output": x["committed_output_per_mu"],
        "tax": x["committed_tax_per_mu"],
    }
    running = sc & bool(obt_applies) & is_operating
    full_due = running & ~nat(a_full) & (today >= a_full)
    below = {k: per_mu[k] < committed[k] * (1 - RELATIVE_EPS) for k in per_mu}  # 低于约定: beyond noise
    below_target = full_due & (below["investment"] | below["output"] | below["tax"])
    unknown_target = np.zeros(p.n, dtype=bool)
    for k, actual in per_mu.items():
        unknown_target |= np.isnan(actual) | np.isnan(committed[k])
    ins_target = full_due & ~below_target & unknown_target
    ins_full = running & nat(a_full)

    # ---- underused
    far_applies, _ = _param(profile, "use.below_contract_far")
    min_cov = float(profile.value("use.min_building_coverage"))
    in_use = sc & has_completed
    with np.errstate(all="ignore"):
        far = x["floor_area"] / area_m2
        coverage = x["footprint_area"] / area_m2
        unbuilt = (
            (1.0 - np.clip(coverage / min_cov, 0.0, 1.0))
            if min_cov > 0
            else np.where(np.isnan(coverage), np.nan, 0.0)
        )
    far_low = (far < x["min_far"] * (1 - RELATIVE_EPS)) & bool(far_applies)  # 低于约定容积率
    cov_low = ~at_least(
        coverage, min_cov, includes=profile.includes("use.min_building_coverage")
    ) & ~np.isnan(coverage)
    unbuilt_high = at_least(
        unbuilt, profile.value("use.unbuilt_share"), includes=profile.includes("use.unbuilt_share")
    )
    underused = in_use & (far_low | cov_low | unbuilt_high)
    far_unknown = (np.isnan(far) | np.isnan(x["min_far"])) & bool(far_applies)
    ins_use = in_use & ~underused & (far_unknown | np.isnan(coverage))

    masks = {
        "late_start_done": late_start_done,
        "late_start_open": late_start_open,
        "ins_start": ins_start,
        "ins_start_date": ins_start_date,
        "idle_open": idle_open,
        "reclaimable": reclaimable,
        "late_comp_done": late_comp_done,
        "late_comp_open": late_comp_open,
        "ins_comp": ins_comp,
        "ins_comp_date": ins_comp_date,
        "stalled": stalled,
        "ins_stalled": ins_stalled,
        "not_operating": not_operating,
        "ins_op": ins_op,
        "below_target": below_target,
        "ins_target": ins_target,
        "ins_full": ins_full,
        "underused": underused,
        "ins_use": ins_use,
    }
    values = {
        "idle_from": idle_from,
        "reclaim_from": reclaim_from,
        "stall_from": stall_from,
        "dev_share": dev_share,
        "inv_share": inv_share,
        "dev_low": dev_low,
        "inv_low": inv_low,
        "per_mu": per_mu,
        "committed": committed,
        "below": below,
        "far": far,
        "coverage": coverage,
        "unbuilt": unbuilt,
        "far_low": far_low,
        "cov_low": cov_low,
        "unbuilt_high": unbuilt_high,
        "far_unknown": far_unknown,
        "tier_known": tier_known,
    }
    return _Judged(
        masks=masks,
        a_start=a_start,
        start_derived=start_derived,
        a_comp=a_comp,
        comp_derived=comp_derived,
        build_months=build_months,
        values=values,
    )


def _reached(today: np.datetime64, when: Days, profile: Profile, key: str) -> npt.NDArray[np.bool_]:
    """Whether a period of ``key`` has run by ``today``: 满一年 is reached on the anniversary itself."""
    return (today >= when) if profile.includes(key) else (today > when)


def _completion_key(profile: Profile) -> str:
    """The completion rule of the profile: from delivery (YW §5) or a build period by investment (WZ §6)."""
    if profile.has("construction.completion_months_from_delivery"):
        return "construction.completion_months_from_delivery"
    return "construction.build_months_by_investment"


def _build_months(
    tiers: list[list[Any]], planned: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The build period of each project's investment tier, and whether it is known.

    A tier is ``[bound 万元, months, word]``: a project belongs to the first tier whose bound it does not pass,
    the bound itself included under 以下 and excluded under 不满 (WZ §6: 10亿元以下 includes 10 亿).
    """
    months = np.array([int(t[1]) for t in tiers], dtype=np.int64)
    if len(tiers) == 1:
        return np.full(planned.size, months[0], dtype=np.int64), np.ones(planned.size, dtype=bool)
    inv = np.nan_to_num(planned, nan=0.0)
    inside = np.stack(
        [(inv <= t[0]) if BOUNDARY_WORDS[t[2] if len(t) > 2 else "以下"][1] else (inv < t[0]) for t in tiers],
        axis=1,
    )
    inside[:, -1] = True
    tier = np.argmax(inside, axis=1)
    return months[tier], ~np.isnan(planned)


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
    p = _prepare(parcels, as_of=as_of, needed=NEEDED)
    j = _judge(p, profile)
    rows = _Rows(p)
    _format(rows, p, j, profile)
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
    ``holder_id``; a rating of the parcel wins over its holder's for the same year; a profile without these
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
    p = _prepare(parcels, as_of=as_of, needed=NEEDED)
    m = _judge(p, profile).masks
    low = p.survey_low.copy()
    for k in LOW_EFFICIENCY_STATES:
        low |= m[k]
    if not (profile.has("consolidation.rating_years") and profile.has("consolidation.low_efficiency_grades")):
        return pd.Series(low, index=parcels.index, name="low_efficiency")
    long = _ratings_long(p, ratings)
    if len(long):
        first_year = p.as_of_date.year - int(profile.value("consolidation.rating_years"))
        hit = long[
            (long["year"] >= first_year)
            & long["grade"].isin(list(profile.value("consolidation.low_efficiency_grades")))
        ]
        low[hit["pos"].to_numpy()] = True
    return pd.Series(low, index=parcels.index, name="low_efficiency")


# ======================================================================================================
# sentences
# ======================================================================================================


# complexity 22: one block per category (idle, late start/completion, built not operating, below target,
# underused), each writing its own sentences; to be cut along those categories with issue 14's rules split
def _format(rows: _Rows, p: _Parcels, j: _Judged, profile: Profile) -> None:  # noqa: C901
    m, v, d = j.masks, j.values, p.date
    today = str(p.as_of)
    nz = np.flatnonzero
    start_max = profile.value("construction.start_months_max")
    cite_start = profile.cite("construction.start_months")
    cite_start_max = profile.cite("construction.start_months_max")

    def start_basis(idx: npt.NDArray[np.int64]) -> tuple[list[str], list[str]]:
        der = j.start_derived[idx].tolist()
        deliv = _iso(d["delivered_on"][idx])
        zh = [
            f"（合同未载，按交地日期 {dl} 加 {start_max} 个月推算）" if x else ""
            for x, dl in zip(der, deliv, strict=False)
        ]
        en = [
            f" (not in the contract: delivery {dl} + {start_max} months)" if x else ""
            for x, dl in zip(der, deliv, strict=False)
        ]
        return zh, en

    def by_derivation(
        idx: npt.NDArray[np.int64], derived: npt.NDArray[np.bool_]
    ) -> list[npt.NDArray[np.int64]]:
        return [idx[~derived[idx]], idx[derived[idx]]]

    # ---- late start: not started
    for idx, cite in zip(
        by_derivation(nz(m["late_start_open"]), j.start_derived), (cite_start, cite_start_max), strict=False
    ):
        s = _iso(j.a_start[idx])
        bz, be = start_basis(idx)
        zh, en = _durations(j.a_start[idx], np.full(idx.size, p.as_of))
        rows.add(
            "late_start",
            cite,
            idx,
            since=j.a_start[idx],
            detail=[
                f"约定开工日期 {a}{b}，截至 {today} 未开工，已逾期 {z}"
                for a, b, z in zip(s, bz, zh, strict=False)
            ],
            detail_en=[
                f"agreed start {a}{b}; not started as of {today}, {e} overdue"
                for a, b, e in zip(s, be, en, strict=False)
            ],
            figures=_records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "start_derived": j.start_derived[idx],
                    "delivered_on": np.where(j.start_derived[idx], d["delivered_on"][idx], _NAT),
                    "days_overdue": _days(j.a_start[idx], p.as_of),
                },
                idx.size,
            ),
        )
    # ---- late start: started late
    for idx, cite in zip(
        by_derivation(nz(m["late_start_done"]), j.start_derived), (cite_start, cite_start_max), strict=False
    ):
        s, st = _iso(j.a_start[idx]), _iso(d["started_on"][idx])
        bz, be = start_basis(idx)
        zh, en = _durations(j.a_start[idx], d["started_on"][idx])
        rows.add(
            "late_start",
            cite,
            idx,
            since=j.a_start[idx],
            until=d["started_on"][idx],
            detail=[
                f"约定开工日期 {a}{b}，实际开工日期 {t}，晚开工 {z}"
                for a, b, t, z in zip(s, bz, st, zh, strict=False)
            ],
            detail_en=[
                f"agreed start {a}{b}; started {t}, {e} late"
                for a, b, t, e in zip(s, be, st, en, strict=False)
            ],
            figures=_records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "started_on": d["started_on"][idx],
                    "start_derived": j.start_derived[idx],
                    "delivered_on": np.where(j.start_derived[idx], d["delivered_on"][idx], _NAT),
                    "days_late": _days(j.a_start[idx], d["started_on"][idx]),
                },
                idx.size,
            ),
        )

    # ---- idle and reclaimable: not started
    for key, cat, mask, frm, tail_zh, tail_en in (
        (
            "idle.unstarted_years",
            "idle",
            m["idle_open"],
            v["idle_from"],
            "年未动工即为闲置土地",
            "unstarted: idle land",
        ),
        (
            "idle.reclaimable_years",
            "idle_reclaimable",
            m["reclaimable"],
            v["reclaim_from"],
            "年未动工，可无偿收回土地使用权",
            "unstarted: may be taken back without compensation",
        ),
    ):
        idx = nz(mask)
        years = _fmt(profile.value(key))
        s = _iso(j.a_start[idx])
        bz, be = start_basis(idx)
        zh, en = _durations(j.a_start[idx], np.full(idx.size, p.as_of))
        rows.add(
            cat,
            profile.cite(key),
            idx,
            since=frm[idx],
            detail=[
                f"约定开工日期 {a}{b}，截至 {today} 未开工，已逾期 {z}（满 {years} {tail_zh}）"
                for a, b, z in zip(s, bz, zh, strict=False)
            ],
            detail_en=[
                f"agreed start {a}{b}; not started as of {today}, {e} overdue ({years} year(s) {tail_en})"
                for a, b, e in zip(s, be, en, strict=False)
            ],
            figures=_records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "start_derived": j.start_derived[idx],
                    "threshold_on": frm[idx],
                    "threshold_years": float(profile.value(key)),
                    "days_overdue": _days(j.a_start[idx], p.as_of),
                },
                idx.size,
            ),
        )

    # ---- idle: started and stalled
    idx = nz(m["stalled"])
    if idx.size:
        s_dev, s_inv = (
            profile.value("idle.stalled_developed_share"),
            profile.value("idle.stalled_investment_share"),
        )
        years = _fmt(profile.value("idle.stalled_years"))
        st, c = _iso(d["started_on"][idx]), _iso(j.a_comp[idx])
        zh, en = _durations(j.a_comp[idx], np.full(idx.size, p.as_of))
        dev, inv = v["dev_share"][idx], v["inv_share"][idx]
        dev_low, inv_low = v["dev_low"][idx].tolist(), v["inv_low"][idx].tolist()
        invest, planned = _num(p.num["investment"][idx], 0), _num(p.num["planned_investment"][idx], 0)
        w_dev, w_inv = (
            profile.boundary("idle.stalled_developed_share"),
            profile.boundary("idle.stalled_investment_share"),
        )
        dl, il = dev.tolist(), inv.tolist()
        det, det_en = [], []
        for k in range(idx.size):
            pz, pe = [], []
            if dev_low[k]:
                a, b = pct_pair(dl[k], s_dev)
                pz.append(f"建筑占地面积为宗地面积的 {a}（{w_dev} {b}）")
                pe.append(f"building footprint {a} of the parcel ({w_dev}, under {b})")
            if inv_low[k]:
                a, b = pct_pair(il[k], s_inv)
                pz.append(f"实际投资 {invest[k]} 万元为计划总投资 {planned[k]} 万元的 {a}（{w_inv} {b}）")
                pe.append(f"investment {invest[k]} of {planned[k]} 万元 planned, {a} ({w_inv}, under {b})")
            det.append(
                f"已于 {st[k]} 开工，截至 {today} 未竣工，约定竣工日期 {c[k]} 已过 {zh[k]}；"
                f"{'，'.join(pz)}：已动工但中止开发满 {years} 年，为闲置土地"
            )
            det_en.append(
                f"started {st[k]}, not completed as of {today}, agreed completion {c[k]} passed "
                f"{en[k]} ago; {'; '.join(pe)}: started but stalled for {years} year(s), idle land"
            )
        rows.add(
            "idle",
            profile.cite("idle.stalled_years"),
            idx,
            since=v["stall_from"][idx],
            detail=det,
            detail_en=det_en,
            figures=_records(
                {
                    "started_on": d["started_on"][idx],
                    "agreed_completion_on": j.a_comp[idx],
                    "developed_share": dev,
                    "investment_share": inv,
                    "stalled_developed_share": float(s_dev),
                    "stalled_investment_share": float(s_inv),
                    "stalled_years": float(profile.value("idle.stalled_years")),
                },
                idx.size,
            ),
        )

    # ---- late completion
    comp_key = _completion_key(profile)
    cite_build = profile.cite(comp_key)
    from_delivery = comp_key == "construction.completion_months_from_delivery"
    several_tiers = not from_delivery and len(profile.value(comp_key)) > 1

    def comp_basis(idx: npt.NDArray[np.int64]) -> tuple[list[str], list[str]]:
        der = j.comp_derived[idx].tolist()
        bm = j.build_months[idx].tolist()
        if from_delivery:
            dl = _iso(d["delivered_on"][idx])
            return (
                [
                    f"（合同未载，按交地日期 {a} 起 {b} 个月内竣工推算）" if x else ""
                    for x, a, b in zip(der, dl, bm, strict=False)
                ],
                [
                    f" (not in the contract: within {b} months of delivery {a})" if x else ""
                    for x, a, b in zip(der, dl, bm, strict=False)
                ],
            )
        s = _iso(j.a_start[idx])
        pl = _num(p.num["planned_investment"][idx], 0)
        zh = [
            (
                f"（合同未载，按开工期限 {a} 加建设期 {b} 个月推算"
                + (f"，计划总投资 {q} 万元" if several_tiers else "")
                + "）"
            )
            if x
            else ""
            for x, a, b, q in zip(der, s, bm, pl, strict=False)
        ]
        en = [
            (
                f" (not in the contract: start deadline {a} + {b} months' build period"
                + (f", planned investment {q} 万元" if several_tiers else "")
                + ")"
            )
            if x
            else ""
            for x, a, b, q in zip(der, s, bm, pl, strict=False)
        ]
        return zh, en

    def comp_figures(idx: npt.NDArray[np.int64], extra: dict[str, Any]) -> list[dict[str, Any]]:
        der = j.comp_derived[idx]
        base = d["delivered_on"][idx] if from_delivery else j.a_start[idx]
        return _records(
            {
                "agreed_completion_on": j.a_comp[idx],
                "completion_derived": der,
                ("delivered_on" if from_delivery else "agreed_start_on"): np.where(der, base, _NAT),
                "build_months": np.where(der, j.build_months[idx].astype(np.float64), np.nan),
                "planned_investment_wan": np.where(der, p.num["planned_investment"][idx], np.nan),
            }
            | extra,
            idx.size,
        )

    idx = nz(m["late_comp_open"])
    c = _iso(j.a_comp[idx])
    bz, be = comp_basis(idx)
    zh, en = _durations(j.a_comp[idx], np.full(idx.size, p.as_of))
    rows.add(
        "late_completion",
        cite_build,
        idx,
        since=j.a_comp[idx],
        detail=[
            f"约定竣工日期 {a}{b}，截至 {today} 未竣工，已逾期 {z}"
            for a, b, z in zip(c, bz, zh, strict=False)
        ],
        detail_en=[
            f"agreed completion {a}{b}; not completed as of {today}, {e} overdue"
            for a, b, e in zip(c, be, en, strict=False)
        ],
        figures=comp_figures(idx, {"days_overdue": _days(j.a_comp[idx], p.as_of)}),
    )
    idx = nz(m["late_comp_done"])
    c, done = _iso(j.a_comp[idx]), _iso(d["completed_on"][idx])
    bz, be = comp_basis(idx)
    zh, en = _durations(j.a_comp[idx], d["completed_on"][idx])
    rows.add(
        "late_completion",
        cite_build,
        idx,
        since=j.a_comp[idx],
        until=d["completed_on"][idx],
        detail=[
            f"约定竣工日期 {a}{b}，实际竣工日期 {t}，晚竣工 {z}"
            for a, b, t, z in zip(c, bz, done, zh, strict=False)
        ],
        detail_en=[
            f"agreed completion {a}{b}; completed {t}, {e} late"
            for a, b, t, e in zip(c, be, done, en, strict=False)
        ],
        figures=comp_figures(
            idx,
            {
                "completed_on": d["completed_on"][idx],
                "days_late": _days(j.a_comp[idx], d["completed_on"][idx]),
            },
        ),
    )

    # ---- built, not operating
    _, cite_bno = _param(profile, "production.built_not_operating")
    idx = nz(m["not_operating"])
    done, op = _iso(d["completed_on"][idx]), _iso(d["agreed_operation_on"][idx])
    zh, en = _durations(d["agreed_operation_on"][idx], np.full(idx.size, p.as_of))
    rows.add(
        "built_not_operating",
        cite_bno,
        idx,
        since=d["agreed_operation_on"][idx],
        detail=[
            f"已于 {a} 竣工，约定投产日期 {b}，截至 {today} 未投产，已逾期 {z}"
            for a, b, z in zip(done, op, zh, strict=False)
        ],
        detail_en=[
            f"completed {a}; agreed operation {b}; not in production as of {today}, {e} overdue"
            for a, b, e in zip(done, op, en, strict=False)
        ],
        figures=_records(
            {
                "completed_on": d["completed_on"][idx],
                "agreed_operation_on": d["agreed_operation_on"][idx],
                "days_overdue": _days(d["agreed_operation_on"][idx], p.as_of),
            },
            idx.size,
        ),
    )

    # ---- operating below target
    _, cite_obt = _param(profile, "production.operating_below_target")
    idx = nz(m["below_target"])
    if idx.size:
        full = _iso(d["agreed_full_production_on"][idx])
        labels = {
            "investment": ("亩均投资", "investment"),
            "output": ("亩均产值", "output"),
            "tax": ("亩均税收", "tax"),
        }
        parts = {
            k: (v["below"][k][idx].tolist(), v["per_mu"][k][idx].tolist(), v["committed"][k][idx].tolist())
            for k in labels
        }
        det, det_en = [], []
        for r in range(idx.size):
            hit = [(labels[k], parts[k][1][r], parts[k][2][r]) for k in labels if parts[k][0][r]]
            pairs = [number_pair(a, c) for _, a, c in hit]
            det.append(
                f"约定达产日期 {full[r]} 已到，截至 {today}："
                + "；".join(
                    f"{lz} {a} 万元/亩，低于约定 {c} 万元/亩"
                    for ((lz, _), _a, _c), (a, c) in zip(hit, pairs, strict=False)
                )
            )
            det_en.append(
                f"agreed full production {full[r]} reached; as of {today}: "
                + "; ".join(
                    f"{le} {a} 万元/亩, under the committed {c}"
                    for ((_, le), _a, _c), (a, c) in zip(hit, pairs, strict=False)
                )
            )
        figs = {"agreed_full_production_on": d["agreed_full_production_on"][idx], "area_mu": p.area_mu[idx]}
        for key in labels:
            figs[f"{key}_per_mu_wan"] = v["per_mu"][key][idx]
            figs[f"committed_{key}_per_mu_wan"] = v["committed"][key][idx]
        rows.add(
            "operating_below_target",
            cite_obt,
            idx,
            since=d["agreed_full_production_on"][idx],
            detail=det,
            detail_en=det_en,
            figures=_records(figs, idx.size),
        )

    # ---- underused
    _, cite_far = _param(profile, "use.below_contract_far")
    min_cov, max_unbuilt = profile.value("use.min_building_coverage"), profile.value("use.unbuilt_share")
    idx_all = nz(m["underused"])
    far_low = v["far_low"][idx_all]
    cov_low = v["cov_low"][idx_all]
    groups = (
        (idx_all[far_low], cite_far),
        (idx_all[~far_low & cov_low], profile.cite("use.min_building_coverage")),
        (idx_all[~far_low & ~cov_low], profile.cite("use.unbuilt_share")),
    )
    for idx, cite in groups:
        if idx.size == 0:
            continue
        built_on = np.where(
            np.isnat(d["completed_on"][idx]), d["operating_since"][idx], d["completed_on"][idx]
        )
        built = _iso(built_on)
        fl, cl, ul = v["far_low"][idx].tolist(), v["cov_low"][idx].tolist(), v["unbuilt_high"][idx].tolist()
        far_s, mf_s = v["far"][idx].tolist(), p.num["min_far"][idx].tolist()
        cov_s, unb_s = v["coverage"][idx].tolist(), v["unbuilt"][idx].tolist()
        det, det_en = [], []
        for r in range(idx.size):
            pz, pe = [], []
            if fl[r]:
                fa, fb = number_pair(far_s[r], mf_s[r])
                pz.append(f"容积率 {fa}，低于约定 {fb}")
                pe.append(f"floor-area ratio {fa}, under the contract's {fb}")
            if cl[r]:
                fa, fb = pct_pair(cov_s[r], min_cov)
                pz.append(f"建筑系数 {fa}，低于 {fb}")
                pe.append(f"building coverage {fa}, under {fb}")
            if ul[r]:
                fa, fb = pct_pair(unb_s[r], max_unbuilt)
                pz.append(f"按建筑系数推算未利用面积约占 {fa}，超过 {fb}")
                pe.append(f"unbuilt share about {fa} (estimated from coverage), over {fb}")
            det.append(f"{built[r]} 起建成使用，" + "；".join(pz))
            det_en.append(f"built and in use since {built[r]}: " + "; ".join(pe))
        rows.add(
            "underused",
            cite,
            idx,
            since=built_on,
            detail=det,
            detail_en=det_en,
            figures=_records(
                {
                    "floor_area_ratio": v["far"][idx],
                    "min_far": p.num["min_far"][idx],
                    "building_coverage": v["coverage"][idx],
                    "min_building_coverage": float(min_cov),
                    "unbuilt_share_estimate": v["unbuilt"][idx],
                    "max_unbuilt_share": float(max_unbuilt),
                    "area_mu": p.area_mu[idx],
                },
                idx.size,
            ),
        )

    _format_insufficient(rows, p, j, profile)


def _days(a: Days, b: Days | np.datetime64) -> npt.NDArray[np.int64]:
    return (np.asarray(b, dtype="datetime64[D]") - a).astype("timedelta64[D]").astype(np.int64)


def _format_insufficient(rows: _Rows, p: _Parcels, j: _Judged, profile: Profile) -> None:
    m, v, d, x = j.masks, j.values, p.date, p.num
    nz = np.flatnonzero
    nat, nan = np.isnat, np.isnan
    today = str(p.as_of)

    idx = nz(m["ins_start"])
    rows.insufficient(
        profile.cite("construction.start_months_max"),
        idx,
        rule="late_start",
        missing=["agreed_start_on", "delivered_on"],
        detail="无约定开工日期与交地日期，无法判断是否按期开工、是否闲置",
        detail_en="no agreed start or delivery date: cannot judge the start or idleness",
    )
    idx = nz(m["ins_start_date"])
    s = _iso(j.a_start[idx])
    rows.insufficient(
        profile.cite("construction.start_months"),
        idx,
        rule="late_start",
        missing=["started_on"],
        detail=[f"已竣工但无实际开工日期，约定开工日期 {a}，无法判断是否按期开工" for a in s],
        detail_en=[
            f"completed but no start date on record (agreed start {a}): cannot judge the start" for a in s
        ],
    )

    idx = nz(m["ins_comp"])
    if idx.size:
        if _completion_key(profile) == "construction.completion_months_from_delivery":
            flags = {"agreed_completion_on": np.ones(p.n, dtype=bool), "delivered_on": nat(d["delivered_on"])}
        else:
            flags = {
                "agreed_completion_on": np.ones(p.n, dtype=bool),
                "agreed_start_on": nat(j.a_start) & nat(d["agreed_start_on"]),
                "delivered_on": nat(j.a_start) & nat(d["delivered_on"]),
                "planned_investment": ~v["tier_known"],
            }
        miss = _missing(flags, idx)
        rows.insufficient(
            profile.cite(_completion_key(profile)),
            idx,
            rule="late_completion",
            missing=miss,
            detail=[f"无约定竣工日期，且缺{_fields_zh(f[1:])}无法推算，无法判断是否按期竣工" for f in miss],
            detail_en=[
                f"no agreed completion date, and no {', '.join(f[1:])} to derive it: cannot judge "
                "the completion"
                for f in miss
            ],
        )
    idx = nz(m["ins_comp_date"])
    c = _iso(j.a_comp[idx])
    rows.insufficient(
        profile.cite(_completion_key(profile)),
        idx,
        rule="late_completion",
        missing=["completed_on"],
        detail=[f"已投产但无实际竣工日期，约定竣工日期 {a}，无法判断是否按期竣工" for a in c],
        detail_en=[
            f"in production but no completion date on record (agreed completion {a}): cannot "
            "judge the completion"
            for a in c
        ],
    )

    idx = nz(m["ins_stalled"])
    if idx.size:
        flags = {
            "footprint_area": nan(x["footprint_area"]),
            "area_mu": nan(p.area_mu),
            "investment": nan(x["investment"]),
            "planned_investment": ~(x["planned_investment"] > 0),
        }
        miss = _missing(flags, idx)
        c = _iso(j.a_comp[idx])
        rows.insufficient(
            profile.cite("idle.stalled_years"),
            idx,
            rule="idle",
            missing=miss,
            detail=[
                f"已开工未竣工，约定竣工日期 {a} 已过，但缺{_fields_zh(f)}，无法判断是否为中止开发的闲置土地"
                for a, f in zip(c, miss, strict=False)
            ],
            detail_en=[
                f"started, not completed, agreed completion {a} passed, but no {', '.join(f)}: "
                "cannot judge whether it is stalled idle land"
                for a, f in zip(c, miss, strict=False)
            ],
        )

    _, cite_bno = _param(profile, "production.built_not_operating")
    rows.insufficient(
        cite_bno,
        nz(m["ins_op"]),
        rule="built_not_operating",
        missing=["agreed_operation_on"],
        detail=f"已竣工，截至 {today} 未投产，但无约定投产日期，无法判断是否建而未投",
        detail_en=f"completed, not in production as of {today}, but no agreed operation date: cannot "
        "judge built-not-operating",
    )

    _, cite_obt = _param(profile, "production.operating_below_target")
    rows.insufficient(
        cite_obt,
        nz(m["ins_full"]),
        rule="operating_below_target",
        missing=["agreed_full_production_on"],
        detail="已投产，但无约定达产日期，无法判断是否投而未达",
        detail_en="in production, but no agreed full-production date: cannot judge the targets",
    )
    idx = nz(m["ins_target"])
    if idx.size:
        flags = {
            k: nan(x[k])
            for k in (
                "investment",
                "output",
                "tax",
                "committed_investment_per_mu",
                "committed_output_per_mu",
                "committed_tax_per_mu",
            )
        } | {"area_mu": nan(p.area_mu)}
        miss = _missing(flags, idx)
        full = _iso(d["agreed_full_production_on"][idx])
        rows.insufficient(
            cite_obt,
            idx,
            rule="operating_below_target",
            missing=miss,
            detail=[
                f"约定达产日期 {a} 已到，但缺{_fields_zh(f)}，无法判断投资、产值、税收是否达到约定"
                for a, f in zip(full, miss, strict=False)
            ],
            detail_en=[
                f"agreed full production {a} reached, but no {', '.join(f)}: cannot judge "
                "investment, output and tax against the contract"
                for a, f in zip(full, miss, strict=False)
            ],
        )

    idx = nz(m["ins_use"])
    if idx.size:
        _, cite_far = _param(profile, "use.below_contract_far")
        flags = {
            "floor_area": nan(x["floor_area"]) & v["far_unknown"],
            "min_far": nan(x["min_far"]) & v["far_unknown"],
            "footprint_area": nan(x["footprint_area"]),
            "area_mu": nan(p.area_mu),
        }
        miss = _missing(flags, idx)
        rows.insufficient(
            cite_far,
            idx,
            rule="underused",
            missing=miss,
            detail=[f"已建成使用，但缺{_fields_zh(f)}，无法判断容积率、建筑系数是否达标" for f in miss],
            detail_en=[
                f"built and in use, but no {', '.join(f)}: cannot judge the floor-area ratio and "
                "building coverage"
                for f in miss
            ],
        )
