"""The insufficient-data findings of the idle rules: the rule that could not be judged and the fields it lacks.

One function per rule (start and completion, stalled land, production, use), called in that order by
``write_insufficient``. A rule that needs a missing field is never a silent pass.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.idle import NEEDED
>>> from zoning.idle_rules import judge
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.rows import Rows
>>> p = prepare(pd.DataFrame([{c: None for c in NEEDED} | {"parcel_no": "A", "area_mu": 15.0}]),
...             as_of=dt.date(2026, 11, 22), needed=NEEDED)
>>> profile = get_profile("wenzhou-2020")
>>> rows = Rows(p)
>>> write_insufficient(rows, p, judge(p, profile), profile)
>>> rows.frame()["figures"].tolist()[0]
{'rule': 'late_start', 'missing': ['agreed_start_on', 'delivered_on']}
"""

from __future__ import annotations

import numpy as np

from zoning.idle_rules import Judged, completion_key
from zoning.parcel_arrays import Parcels, missing_fields, param
from zoning.policy import Profile
from zoning.rows import Rows
from zoning.wording import fields_en, fields_zh, iso

__all__ = ["write_insufficient"]


def write_insufficient(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    """Add the insufficient-data findings of ``j`` to ``rows``."""
    _start(rows, j, profile)
    _completion(rows, p, j, profile)
    _stalled(rows, p, j, profile)
    _production(rows, p, j, profile)
    _use(rows, p, j, profile)


def _start(rows: Rows, j: Judged, profile: Profile) -> None:
    rows.insufficient(
        profile.cite("construction.start_months_max"),
        np.flatnonzero(j.masks["ins_start"]),
        rule="late_start",
        missing=["agreed_start_on", "delivered_on"],
        detail="无约定开工日期与交地日期，无法判断是否按期开工、是否闲置",
        detail_en="no agreed start or delivery date: cannot judge the start or idleness",
    )
    idx = np.flatnonzero(j.masks["ins_start_date"])
    s = iso(j.a_start[idx])
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


def _completion(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    d, nat = p.date, np.isnat
    key = completion_key(profile)
    idx = np.flatnonzero(j.masks["ins_comp"])
    if idx.size:
        flags = {"agreed_completion_on": np.ones(p.n, dtype=bool)}
        if key == "construction.completion_months_from_delivery":
            flags["delivered_on"] = nat(d["delivered_on"])
        else:
            flags["agreed_start_on"] = nat(j.a_start) & nat(d["agreed_start_on"])
            flags["delivered_on"] = nat(j.a_start) & nat(d["delivered_on"])
            flags["planned_investment"] = ~j.values["tier_known"]
        miss = missing_fields(flags, idx)
        rows.insufficient(
            profile.cite(key),
            idx,
            rule="late_completion",
            missing=miss,
            detail=[f"无约定竣工日期，且缺{fields_zh(f[1:])}无法推算，无法判断是否按期竣工" for f in miss],
            detail_en=[
                f"no agreed completion date, and no {fields_en(f[1:])} to derive it: cannot judge the completion"
                for f in miss
            ],
        )
    idx = np.flatnonzero(j.masks["ins_comp_date"])
    c = iso(j.a_comp[idx])
    rows.insufficient(
        profile.cite(key),
        idx,
        rule="late_completion",
        missing=["completed_on"],
        detail=[f"已投产但无实际竣工日期，约定竣工日期 {a}，无法判断是否按期竣工" for a in c],
        detail_en=[
            f"in production but no completion date on record (agreed completion {a}): cannot judge the completion"
            for a in c
        ],
    )


def _stalled(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    idx = np.flatnonzero(j.masks["ins_stalled"])
    if idx.size == 0:
        return
    x, nan = p.num, np.isnan
    flags = {
        "footprint_area": nan(x["footprint_area"]),
        "area_mu": nan(p.area_mu),
        "investment": nan(x["investment"]),
        "planned_investment": ~(x["planned_investment"] > 0),
    }
    miss = missing_fields(flags, idx)
    c = iso(j.a_comp[idx])
    rows.insufficient(
        profile.cite("idle.stalled_years"),
        idx,
        rule="idle",
        missing=miss,
        detail=[
            f"已开工未竣工，约定竣工日期 {a} 已过，但缺{fields_zh(f)}，无法判断是否为中止开发的闲置土地"
            for a, f in zip(c, miss, strict=False)
        ],
        detail_en=[
            f"started, not completed, agreed completion {a} passed, but no {fields_en(f)}: "
            "cannot judge whether it is stalled idle land"
            for a, f in zip(c, miss, strict=False)
        ],
    )


def _production(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    today = str(p.as_of)
    rows.insufficient(
        param(profile, "production.built_not_operating")[1],
        np.flatnonzero(j.masks["ins_op"]),
        rule="built_not_operating",
        missing=["agreed_operation_on"],
        detail=f"已竣工，截至 {today} 未投产，但无约定投产日期，无法判断是否建而未投",
        detail_en=f"completed, not in production as of {today}, but no agreed operation date: cannot "
        "judge built-not-operating",
    )
    _, cite = param(profile, "production.operating_below_target")
    rows.insufficient(
        cite,
        np.flatnonzero(j.masks["ins_full"]),
        rule="operating_below_target",
        missing=["agreed_full_production_on"],
        detail="已投产，但无约定达产日期，无法判断是否投而未达",
        detail_en="in production, but no agreed full-production date: cannot judge the targets",
    )
    idx = np.flatnonzero(j.masks["ins_target"])
    if idx.size == 0:
        return
    figures = ("investment", "output", "tax")
    flags = {k: np.isnan(p.num[k]) for k in figures}
    flags |= {f"committed_{k}_per_mu": np.isnan(p.num[f"committed_{k}_per_mu"]) for k in figures}
    flags["area_mu"] = np.isnan(p.area_mu)
    miss = missing_fields(flags, idx)
    full = iso(p.date["agreed_full_production_on"][idx])
    rows.insufficient(
        cite,
        idx,
        rule="operating_below_target",
        missing=miss,
        detail=[
            f"约定达产日期 {a} 已到，但缺{fields_zh(f)}，无法判断投资、产值、税收是否达到约定"
            for a, f in zip(full, miss, strict=False)
        ],
        detail_en=[
            f"agreed full production {a} reached, but no {fields_en(f)}: cannot judge "
            "investment, output and tax against the contract"
            for a, f in zip(full, miss, strict=False)
        ],
    )


def _use(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    idx = np.flatnonzero(j.masks["ins_use"])
    if idx.size == 0:
        return
    x, nan, far_unknown = p.num, np.isnan, j.values["far_unknown"]
    flags = {
        "floor_area": nan(x["floor_area"]) & far_unknown,
        "min_far": nan(x["min_far"]) & far_unknown,
        "footprint_area": nan(x["footprint_area"]),
        "area_mu": nan(p.area_mu),
    }
    miss = missing_fields(flags, idx)
    rows.insufficient(
        param(profile, "use.below_contract_far")[1],
        idx,
        rule="underused",
        missing=miss,
        detail=[f"已建成使用，但缺{fields_zh(f)}，无法判断容积率、建筑系数是否达标" for f in miss],
        detail_en=[
            f"built and in use, but no {fields_en(f)}: cannot judge the floor-area ratio and building coverage"
            for f in miss
        ],
    )
