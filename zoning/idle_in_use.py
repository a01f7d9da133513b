"""The findings of the idle rules on land in use: built not operating, operating below target, underused.

Called by ``zoning.idle_sentences.write`` after the findings on the works, in this order.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.idle import NEEDED
>>> from zoning.idle_rules import judge
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.rows import Rows
>>> row = {c: None for c in NEEDED} | {"parcel_no": "A", "area_mu": 15.0, "completed_on": dt.date(2024, 1, 1),
...        "agreed_operation_on": dt.date(2025, 1, 1)}
>>> p = prepare(pd.DataFrame([row]), as_of=dt.date(2026, 11, 22), needed=NEEDED)
>>> profile = get_profile("wenzhou-2020")
>>> rows = Rows(p)
>>> write_in_use(rows, p, judge(p, profile), profile)
>>> rows.frame()["detail"].tolist()
['已于 2024-01-01 竣工，约定投产日期 2025-01-01，截至 2026-11-22 未投产，已逾期 1年10个月']
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from zoning.dates import days_between
from zoning.idle_rules import Judged
from zoning.parcel_arrays import Parcels, param
from zoning.policy import Profile
from zoning.rows import Rows, records
from zoning.wording import durations_to, iso, number_pair, pct_pair, per_mu_below

__all__ = ["write_in_use"]

Index = npt.NDArray[np.int64]
_PER_MU = {
    "investment": ("亩均投资", "investment"),
    "output": ("亩均产值", "output"),
    "tax": ("亩均税收", "tax"),
}


def write_in_use(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    """Add the findings of ``j`` on land in use to ``rows``."""
    _built_not_operating(rows, p, j, profile)
    _below_target(rows, p, j, profile)
    _underused(rows, p, j, profile)


def _built_not_operating(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    d, today = p.date, str(p.as_of)
    _, cite = param(profile, "production.built_not_operating")
    idx = np.flatnonzero(j.masks["not_operating"])
    done, op = iso(d["completed_on"][idx]), iso(d["agreed_operation_on"][idx])
    zh, en = durations_to(d["agreed_operation_on"][idx], p.as_of)
    rows.add(
        "built_not_operating",
        cite,
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
        figures=records(
            {
                "completed_on": d["completed_on"][idx],
                "agreed_operation_on": d["agreed_operation_on"][idx],
                "days_overdue": days_between(d["agreed_operation_on"][idx], p.as_of),
            },
            idx.size,
        ),
    )


def _below_target(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    idx = np.flatnonzero(j.masks["below_target"])
    if idx.size == 0:
        return
    d, v, today = p.date, j.values, str(p.as_of)
    full = iso(d["agreed_full_production_on"][idx])
    parts = {
        k: (v["below"][k][idx].tolist(), v["per_mu"][k][idx].tolist(), v["committed"][k][idx].tolist())
        for k in _PER_MU
    }
    det, det_en = [], []
    for r in range(idx.size):
        said = [per_mu_below(*_PER_MU[k], parts[k][1][r], parts[k][2][r]) for k in _PER_MU if parts[k][0][r]]
        det.append(f"约定达产日期 {full[r]} 已到，截至 {today}：" + "；".join(z for z, _ in said))
        det_en.append(
            f"agreed full production {full[r]} reached; as of {today}: " + "; ".join(e for _, e in said)
        )
    figs = {"agreed_full_production_on": d["agreed_full_production_on"][idx], "area_mu": p.area_mu[idx]}
    for key in _PER_MU:
        figs[f"{key}_per_mu_wan"] = v["per_mu"][key][idx]
        figs[f"committed_{key}_per_mu_wan"] = v["committed"][key][idx]
    rows.add(
        "operating_below_target",
        param(profile, "production.operating_below_target")[1],
        idx,
        since=d["agreed_full_production_on"][idx],
        detail=det,
        detail_en=det_en,
        figures=records(figs, idx.size),
    )


def _underused_reasons(
    p: Parcels, j: Judged, idx: Index, profile: Profile
) -> list[tuple[list[str], list[str]]]:
    """For each underused parcel of ``idx``, why (floor-area ratio, coverage, unbuilt share), in both languages."""
    v = j.values
    min_cov, max_unbuilt = profile.value("use.min_building_coverage"), profile.value("use.unbuilt_share")
    fl, cl, ul = v["far_low"][idx].tolist(), v["cov_low"][idx].tolist(), v["unbuilt_high"][idx].tolist()
    far_s, mf_s = v["far"][idx].tolist(), p.num["min_far"][idx].tolist()
    cov_s, unb_s = v["coverage"][idx].tolist(), v["unbuilt"][idx].tolist()
    out = []
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
        out.append((pz, pe))
    return out


def _underused(rows: Rows, p: Parcels, j: Judged, profile: Profile) -> None:
    d, v = p.date, j.values
    idx_all = np.flatnonzero(j.masks["underused"])
    far_low, cov_low = v["far_low"][idx_all], v["cov_low"][idx_all]
    groups = (
        (idx_all[far_low], param(profile, "use.below_contract_far")[1]),
        (idx_all[~far_low & cov_low], profile.cite("use.min_building_coverage")),
        (idx_all[~far_low & ~cov_low], profile.cite("use.unbuilt_share")),
    )
    for idx, cite in groups:
        if idx.size == 0:
            continue
        built_on = np.where(
            np.isnat(d["completed_on"][idx]), d["operating_since"][idx], d["completed_on"][idx]
        )
        built = iso(built_on)
        reasons = _underused_reasons(p, j, idx, profile)
        rows.add(
            "underused",
            cite,
            idx,
            since=built_on,
            detail=[f"{built[r]} 起建成使用，" + "；".join(pz) for r, (pz, _) in enumerate(reasons)],
            detail_en=[
                f"built and in use since {built[r]}: " + "; ".join(pe) for r, (_, pe) in enumerate(reasons)
            ],
            figures=records(
                {
                    "floor_area_ratio": v["far"][idx],
                    "min_far": p.num["min_far"][idx],
                    "building_coverage": v["coverage"][idx],
                    "min_building_coverage": float(profile.value("use.min_building_coverage")),
                    "unbuilt_share_estimate": v["unbuilt"][idx],
                    "max_unbuilt_share": float(profile.value("use.unbuilt_share")),
                    "area_mu": p.area_mu[idx],
                },
                idx.size,
            ),
        )
