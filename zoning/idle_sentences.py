"""The findings of the idle rules as rows, with their sentences and figures: one function per category.

``write`` adds the rows of every category to a ``zoning.rows.Rows``, in a fixed order (rows that tie on
parcel, category, date and article keep it): the works here (late start, idle unstarted land, stalled land,
late completion), then the land in use (``zoning.idle_in_use``), then the insufficient-data rows
(``zoning.idle_insufficient``).
The words are ``zoning.wording``'s.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.idle import NEEDED
>>> from zoning.idle_rules import judge
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.rows import Rows
>>> row = {c: None for c in NEEDED} | {"parcel_no": "A", "area_mu": 15.0, "agreed_start_on": dt.date(2023, 3, 1)}
>>> p = prepare(pd.DataFrame([row]), as_of=dt.date(2026, 11, 22), needed=NEEDED)
>>> profile = get_profile("wenzhou-2020")
>>> rows = Rows(p)
>>> write(rows, p, judge(p, profile), profile)
>>> rows.frame()["category"].tolist()
['idle_reclaimable', 'idle', 'late_start', 'insufficient_data']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from zoning.dates import NAT, days_between
from zoning.idle_in_use import write_in_use
from zoning.idle_insufficient import write_insufficient
from zoning.idle_rules import Judged, completion_key
from zoning.parcel_arrays import Parcels
from zoning.policy import Profile
from zoning.rows import Rows, records
from zoning.wording import durations, durations_to, iso, money, pct_pair, short, under

__all__ = ["write"]

Index = npt.NDArray[np.int64]


def write(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    """Add every idle finding of ``j`` to ``rows``, then the insufficient-data ones."""
    _late_start(rows, p, j, profile)
    _unstarted(rows, p, j, profile)
    _stalled(rows, p, j, profile)
    _late_completion(rows, p, j, profile)
    write_in_use(rows, p, j, profile)
    write_insufficient(rows, p, j, profile)


# ======================================================================================================
# the start: late start, idle unstarted land
# ======================================================================================================


def _start_basis(p: Parcels, j: Judged, idx: Index, profile: Profile) -> tuple[list[str], list[str]]:
    """How an agreed start not in the contract was derived (delivery + the longest start period)."""
    start_max = profile.value("construction.start_months_max")
    der = j.start_derived[idx].tolist()
    deliv = iso(p.date["delivered_on"][idx])
    zh = [
        f"（合同未载，按交地日期 {dl} 加 {start_max} 个月推算）" if x else ""
        for x, dl in zip(der, deliv, strict=False)
    ]
    en = [
        f" (not in the contract: delivery {dl} + {start_max} months)" if x else ""
        for x, dl in zip(der, deliv, strict=False)
    ]
    return zh, en


def _by_start_article(idx: Index, j: Judged, profile: Profile) -> list[tuple[Index, str]]:
    """The rows of ``idx`` with an agreed start in the contract, then those derived, each with its article."""
    derived = j.start_derived[idx]
    return [
        (idx[~derived], profile.cite("construction.start_months")),
        (idx[derived], profile.cite("construction.start_months_max")),
    ]


def _late_start(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    d, today = p.date, str(p.as_of)
    for idx, cite in _by_start_article(np.flatnonzero(j.masks["late_start_open"]), j, profile):
        s = iso(j.a_start[idx])
        bz, be = _start_basis(p, j, idx, profile)
        zh, en = durations_to(j.a_start[idx], p.as_of)
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
            figures=records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "start_derived": j.start_derived[idx],
                    "delivered_on": np.where(j.start_derived[idx], d["delivered_on"][idx], NAT),
                    "days_overdue": days_between(j.a_start[idx], p.as_of),
                },
                idx.size,
            ),
        )
    for idx, cite in _by_start_article(np.flatnonzero(j.masks["late_start_done"]), j, profile):
        s, st = iso(j.a_start[idx]), iso(d["started_on"][idx])
        bz, be = _start_basis(p, j, idx, profile)
        zh, en = durations(j.a_start[idx], d["started_on"][idx])
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
            figures=records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "started_on": d["started_on"][idx],
                    "start_derived": j.start_derived[idx],
                    "delivered_on": np.where(j.start_derived[idx], d["delivered_on"][idx], NAT),
                    "days_late": days_between(j.a_start[idx], d["started_on"][idx]),
                },
                idx.size,
            ),
        )


_UNSTARTED = (
    (
        "idle.unstarted_years",
        "idle",
        "idle_open",
        "idle_from",
        "年未动工即为闲置土地",
        "unstarted: idle land",
    ),
    (
        "idle.reclaimable_years",
        "idle_reclaimable",
        "reclaimable",
        "reclaim_from",
        "年未动工，可无偿收回土地使用权",
        "unstarted: may be taken back without compensation",
    ),
)


def _unstarted(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    today = str(p.as_of)
    for key, cat, mask, frm_key, tail_zh, tail_en in _UNSTARTED:
        idx, frm = np.flatnonzero(j.masks[mask]), j.values[frm_key]
        years = short(profile.value(key))
        s = iso(j.a_start[idx])
        bz, be = _start_basis(p, j, idx, profile)
        zh, en = durations_to(j.a_start[idx], p.as_of)
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
            figures=records(
                {
                    "agreed_start_on": j.a_start[idx],
                    "start_derived": j.start_derived[idx],
                    "threshold_on": frm[idx],
                    "threshold_years": float(profile.value(key)),
                    "days_overdue": days_between(j.a_start[idx], p.as_of),
                },
                idx.size,
            ),
        )


# ======================================================================================================
# started, then stalled
# ======================================================================================================


def _stalled_reasons(
    p: Parcels, j: Judged, idx: Index, profile: Profile
) -> list[tuple[list[str], list[str]]]:
    """For each stalled parcel of ``idx``, why: the developed share, the investment share, in both languages."""
    v = j.values
    s_dev, s_inv = (
        profile.value("idle.stalled_developed_share"),
        profile.value("idle.stalled_investment_share"),
    )
    w_dev, w_inv = (
        str(profile.boundary("idle.stalled_developed_share")),
        str(profile.boundary("idle.stalled_investment_share")),
    )
    dev_low, inv_low = v["dev_low"][idx].tolist(), v["inv_low"][idx].tolist()
    invest, planned = money(p.num["investment"][idx], 0), money(p.num["planned_investment"][idx], 0)
    dl, il = v["dev_share"][idx].tolist(), v["inv_share"][idx].tolist()
    out = []
    for k in range(idx.size):
        pz, pe = [], []
        if dev_low[k]:
            a, b = pct_pair(dl[k], s_dev)
            vz, ve = under(b, w_dev, w_dev)
            pz.append(f"建筑占地面积为宗地面积的 {a}{vz}")
            pe.append(f"building footprint {a} of the parcel {ve}")
        if inv_low[k]:
            a, b = pct_pair(il[k], s_inv)
            vz, ve = under(b, w_inv, w_inv)
            pz.append(f"实际投资 {invest[k]} 万元为计划总投资 {planned[k]} 万元的 {a}{vz}")
            pe.append(f"investment {invest[k]} of {planned[k]} 万元 planned, {a} {ve}")
        out.append((pz, pe))
    return out


def _stalled(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    idx = np.flatnonzero(j.masks["stalled"])
    if idx.size == 0:
        return
    d, v, today = p.date, j.values, str(p.as_of)
    years = short(profile.value("idle.stalled_years"))
    st, c = iso(d["started_on"][idx]), iso(j.a_comp[idx])
    zh, en = durations_to(j.a_comp[idx], p.as_of)
    reasons = _stalled_reasons(p, j, idx, profile)
    rows.add(
        "idle",
        profile.cite("idle.stalled_years"),
        idx,
        since=v["stall_from"][idx],
        detail=[
            f"已于 {st[k]} 开工，截至 {today} 未竣工，约定竣工日期 {c[k]} 已过 {zh[k]}；"
            f"{'，'.join(pz)}：已动工但中止开发满 {years} 年，为闲置土地"
            for k, (pz, _) in enumerate(reasons)
        ],
        detail_en=[
            f"started {st[k]}, not completed as of {today}, agreed completion {c[k]} passed "
            f"{en[k]} ago; {'; '.join(pe)}: started but stalled for {years} year(s), idle land"
            for k, (_, pe) in enumerate(reasons)
        ],
        figures=records(
            {
                "started_on": d["started_on"][idx],
                "agreed_completion_on": j.a_comp[idx],
                "developed_share": v["dev_share"][idx],
                "investment_share": v["inv_share"][idx],
                "stalled_developed_share": float(profile.value("idle.stalled_developed_share")),
                "stalled_investment_share": float(profile.value("idle.stalled_investment_share")),
                "stalled_years": float(profile.value("idle.stalled_years")),
            },
            idx.size,
        ),
    )


# ======================================================================================================
# late completion
# ======================================================================================================


def _comp_basis(p: Parcels, j: Judged, idx: Index, profile: Profile) -> tuple[list[str], list[str]]:
    """How an agreed completion not in the contract was derived: from the delivery, or start + build period."""
    key = completion_key(profile)
    der, bm = j.comp_derived[idx].tolist(), j.build_months[idx].tolist()
    if key == "construction.completion_months_from_delivery":
        dl = iso(p.date["delivered_on"][idx])
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
    several_tiers = len(profile.value(key)) > 1
    s, pl = iso(j.a_start[idx]), money(p.num["planned_investment"][idx], 0)
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


def _comp_figures(
    p: Parcels, j: Judged, idx: Index, profile: Profile, extra: dict[str, Any]
) -> list[dict[str, Any]]:
    from_delivery = completion_key(profile) == "construction.completion_months_from_delivery"
    der = j.comp_derived[idx]
    base = p.date["delivered_on"][idx] if from_delivery else j.a_start[idx]
    return records(
        {
            "agreed_completion_on": j.a_comp[idx],
            "completion_derived": der,
            ("delivered_on" if from_delivery else "agreed_start_on"): np.where(der, base, NAT),
            "build_months": np.where(der, j.build_months[idx].astype(np.float64), np.nan),
            "planned_investment_wan": np.where(der, p.num["planned_investment"][idx], np.nan),
        }
        | extra,
        idx.size,
    )


def _late_completion(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    d, today = p.date, str(p.as_of)
    cite = profile.cite(completion_key(profile))
    idx = np.flatnonzero(j.masks["late_comp_open"])
    c = iso(j.a_comp[idx])
    bz, be = _comp_basis(p, j, idx, profile)
    zh, en = durations_to(j.a_comp[idx], p.as_of)
    rows.add(
        "late_completion",
        cite,
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
        figures=_comp_figures(p, j, idx, profile, {"days_overdue": days_between(j.a_comp[idx], p.as_of)}),
    )
    idx = np.flatnonzero(j.masks["late_comp_done"])
    c, done = iso(j.a_comp[idx]), iso(d["completed_on"][idx])
    bz, be = _comp_basis(p, j, idx, profile)
    zh, en = durations(j.a_comp[idx], d["completed_on"][idx])
    rows.add(
        "late_completion",
        cite,
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
        figures=_comp_figures(
            p,
            j,
            idx,
            profile,
            {
                "completed_on": d["completed_on"][idx],
                "days_late": days_between(j.a_comp[idx], d["completed_on"][idx]),
            },
        ),
    )
