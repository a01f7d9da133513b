"""The masks of the idle rules (``zoning.idle``): which parcel each rule finds, and the dates and figures it rests on.

``judge`` runs the rules in turn over the parcels as arrays, one function per rule: the start
(``late_start``, and whether it is known), idle unstarted land, the completion (``late_completion``), stalled
land, production (built not operating, operating below target) and use (underused). The sentences are
``zoning.idle_sentences``.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.idle import NEEDED
>>> row = {c: None for c in NEEDED} | {"parcel_no": "A", "area_mu": 15.0, "agreed_start_on": dt.date(2023, 3, 1)}
>>> j = judge(prepare(pd.DataFrame([row]), as_of=dt.date(2026, 11, 22), needed=NEEDED), get_profile("wenzhou-2020"))
>>> [k for k, m in j.masks.items() if m[0]]
['late_start_open', 'idle_open', 'reclaimable', 'ins_comp']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from zoning.dates import NAT, Days, add_months, years_to_months
from zoning.findings import RELATIVE_EPS, at_least, at_most
from zoning.parcel_arrays import Parcels, param
from zoning.policy import BOUNDARY_WORDS, Profile

__all__ = ["Judged", "build_months", "completion_key", "judge", "reached"]

Mask = npt.NDArray[np.bool_]


@dataclass
class Judged:
    """Every mask and derived date of the idle rules, for formatting or for the low-efficiency flag."""

    masks: dict[str, Mask]
    a_start: Days
    start_derived: Mask
    a_comp: Days
    comp_derived: Mask
    build_months: npt.NDArray[np.int64]
    values: dict[str, Any]


@dataclass
class _Progress:
    """How far each parcel's works have gone at ``as_of`` (a later event implies the earlier ones)."""

    started: Mask
    completed: Mask
    operating: Mask

    @classmethod
    def of(cls, p: Parcels) -> _Progress:
        d, nat = p.date, np.isnat
        return cls(
            started=~nat(d["started_on"]) | ~nat(d["completed_on"]) | ~nat(d["operating_since"]),
            completed=~nat(d["completed_on"]) | ~nat(d["operating_since"]),
            operating=~nat(d["operating_since"]),
        )


def reached(today: np.datetime64, when: Days, profile: Profile, key: str) -> Mask:
    """Whether a period of ``key`` has run by ``today``: 满一年 is reached on the anniversary itself."""
    return (today >= when) if profile.includes(key) else (today > when)


def completion_key(profile: Profile) -> str:
    """The completion rule of the profile: from delivery (YW §5) or a build period by investment (WZ §6)."""
    if profile.has("construction.completion_months_from_delivery"):
        return "construction.completion_months_from_delivery"
    return "construction.build_months_by_investment"


def build_months(
    tiers: list[list[Any]], planned: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], Mask]:
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


def _start(p: Parcels, profile: Profile, done: _Progress) -> tuple[dict[str, Mask], Days, Mask]:
    """late_start and its insufficient data; the agreed start (derived from the delivery when not given)."""
    d, today, sc, nat = p.date, p.as_of, p.scope, np.isnat
    delivered, started = d["delivered_on"], d["started_on"]
    given = d["agreed_start_on"]
    derived = nat(given) & ~nat(delivered)
    a_start = np.where(
        nat(given), add_months(delivered, profile.value("construction.start_months_max")), given
    )
    known = ~nat(a_start)
    # in time when started on or before the deadline (不超过/以内: the day itself is in time)
    inc = np.where(
        derived,
        profile.includes("construction.start_months_max"),
        profile.includes("construction.start_months"),
    )

    def in_time(when: Days) -> Mask:
        return np.where(inc, when <= a_start, when < a_start)

    first_later = np.fmin(d["completed_on"], d["operating_since"])  # started before these; start unrecorded
    masks = {
        "late_start_done": sc & known & ~nat(started) & ~in_time(started),
        "late_start_open": sc & known & ~done.started & ~in_time(np.full(p.n, today)),
        "ins_start": sc & ~known,
        "ins_start_date": sc & known & nat(started) & done.started & (first_later > a_start),
    }
    return masks, a_start, derived


def _unstarted(
    p: Parcels, profile: Profile, done: _Progress, a_start: Days
) -> tuple[dict[str, Mask], dict[str, Any]]:
    """Idle land not started (idle, idle_reclaimable)."""
    today, open_ = p.as_of, p.scope & ~np.isnat(a_start) & ~done.started
    idle_from = add_months(a_start, years_to_months(profile.value("idle.unstarted_years")))
    reclaim_from = add_months(a_start, years_to_months(profile.value("idle.reclaimable_years")))
    masks = {
        "idle_open": open_ & reached(today, idle_from, profile, "idle.unstarted_years"),
        "reclaimable": open_ & reached(today, reclaim_from, profile, "idle.reclaimable_years"),
    }
    return masks, {"idle_from": idle_from, "reclaim_from": reclaim_from}


def _completion(
    p: Parcels, profile: Profile, done: _Progress, a_start: Days
) -> tuple[dict[str, Mask], Days, Mask, npt.NDArray[np.int64], Mask]:
    """late_completion and its insufficient data; the agreed completion, derived when not given."""
    d, today, sc, nat = p.date, p.as_of, p.scope, np.isnat
    delivered, completed, operating = d["delivered_on"], d["completed_on"], d["operating_since"]
    key = completion_key(profile)
    if key == "construction.completion_months_from_delivery":  # YW §5: 交付之日起3年内竣工
        months = np.full(p.n, int(profile.value(key)), dtype=np.int64)
        tier_known = ~nat(delivered)
        derived_c = np.where(tier_known, add_months(delivered, months), NAT)
    else:
        months, tier_known = build_months(profile.value(key), p.num["planned_investment"])
        derived_c = np.where(tier_known, add_months(a_start, months), NAT)
    given = d["agreed_completion_on"]
    derived = nat(given) & ~nat(derived_c)
    a_comp = np.where(nat(given), derived_c, given)
    known = ~nat(a_comp)
    inc = profile.includes(key)

    def in_time(when: Days) -> Mask:
        return (when <= a_comp) if inc else (when < a_comp)

    masks = {
        "late_comp_done": sc & known & ~nat(completed) & ~in_time(completed),
        "late_comp_open": sc & known & ~done.completed & ~in_time(np.full(p.n, today)),
        "ins_comp": sc & ~known,
        "ins_comp_date": sc & known & nat(completed) & done.operating & (operating > a_comp),
    }
    return masks, a_comp, derived, months, tier_known


def _stalled(
    p: Parcels, profile: Profile, done: _Progress, a_comp: Days
) -> tuple[dict[str, Mask], dict[str, Any]]:
    """Idle land started, then stalled (proxy: the agreed completion passed by ``idle.stalled_years``)."""
    x, planned = p.num, p.num["planned_investment"]
    stall_from = add_months(a_comp, years_to_months(profile.value("idle.stalled_years")))
    with np.errstate(all="ignore"):
        dev_share = x["footprint_area"] / p.area_m2
        inv_share = np.where(planned > 0, x["investment"] / planned, np.nan)
    stall_time = (
        p.scope
        & ~np.isnat(a_comp)
        & done.started
        & ~done.completed
        & reached(p.as_of, stall_from, profile, "idle.stalled_years")
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
    masks = {
        "stalled": stalled,
        "ins_stalled": stall_time & ~stalled & (np.isnan(dev_share) | np.isnan(inv_share)),
    }
    values = {
        "stall_from": stall_from,
        "dev_share": dev_share,
        "inv_share": inv_share,
        "dev_low": dev_low,
        "inv_low": inv_low,
    }
    return masks, values


def _production(p: Parcels, profile: Profile, done: _Progress) -> tuple[dict[str, Mask], dict[str, Any]]:
    """Built but not operating; operating below the committed figures per 亩."""
    d, x, today, sc, nat = p.date, p.num, p.as_of, p.scope, np.isnat
    bno_applies, _ = param(profile, "production.built_not_operating")
    a_op = d["agreed_operation_on"]
    built_idle = sc & bool(bno_applies) & done.completed & ~done.operating
    obt_applies, _ = param(profile, "production.operating_below_target")
    a_full = d["agreed_full_production_on"]
    with np.errstate(all="ignore"):
        per_mu = {k: x[k] / p.area_mu for k in ("investment", "output", "tax")}
    committed = {k: x[f"committed_{k}_per_mu"] for k in ("investment", "output", "tax")}
    running = sc & bool(obt_applies) & done.operating
    full_due = running & ~nat(a_full) & (today >= a_full)
    below = {k: per_mu[k] < committed[k] * (1 - RELATIVE_EPS) for k in per_mu}  # 低于约定: beyond noise
    below_target = full_due & (below["investment"] | below["output"] | below["tax"])
    unknown = np.zeros(p.n, dtype=bool)
    for k, actual in per_mu.items():
        unknown |= np.isnan(actual) | np.isnan(committed[k])
    masks = {
        "not_operating": built_idle & ~nat(a_op) & (today > a_op),
        "ins_op": built_idle & nat(a_op),
        "below_target": below_target,
        "ins_target": full_due & ~below_target & unknown,
        "ins_full": running & nat(a_full),
    }
    return masks, {"per_mu": per_mu, "committed": committed, "below": below}


def _use(p: Parcels, profile: Profile, done: _Progress) -> tuple[dict[str, Mask], dict[str, Any]]:
    """Underused: floor-area ratio, building coverage or the unbuilt share against the standard."""
    x, area_m2 = p.num, p.area_m2
    far_applies, _ = param(profile, "use.below_contract_far")
    min_cov = float(profile.value("use.min_building_coverage"))
    in_use = p.scope & done.completed
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
    masks = {"underused": underused, "ins_use": in_use & ~underused & (far_unknown | np.isnan(coverage))}
    values = {
        "far": far,
        "coverage": coverage,
        "unbuilt": unbuilt,
        "far_low": far_low,
        "cov_low": cov_low,
        "unbuilt_high": unbuilt_high,
        "far_unknown": far_unknown,
    }
    return masks, values


def judge(p: Parcels, profile: Profile) -> Judged:
    """Run every idle rule over the parcels ``p`` under ``profile``."""
    done = _Progress.of(p)
    start, a_start, start_derived = _start(p, profile, done)
    unstarted, unstarted_v = _unstarted(p, profile, done, a_start)
    completion, a_comp, comp_derived, months, tier_known = _completion(p, profile, done, a_start)
    stalled, stalled_v = _stalled(p, profile, done, a_comp)
    production, production_v = _production(p, profile, done)
    use, use_v = _use(p, profile, done)
    return Judged(
        masks=start | unstarted | completion | stalled | production | use,
        a_start=a_start,
        start_derived=start_derived,
        a_comp=a_comp,
        comp_derived=comp_derived,
        build_months=months,
        values=unstarted_v | stalled_v | production_v | use_v | {"tier_known": tier_known},
    )
