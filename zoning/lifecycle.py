"""Contract compliance over an industrial parcel's life (全生命周期管理): findings and small calculators.

``lifecycle_findings`` judges every parcel under the industrial-land rules
(``zoning.findings.industrial_scope``) at a date, in the shape of ``zoning.findings``:

full-production acceptance (达产验收; ``acceptance.*``, WZ §10)
    only under a profile that carries ``acceptance.*`` (the Yiwu text has no such rule); at or after the
    agreed full-production date: output per 亩 不足 ``acceptance.min_output_share`` of the committed figure,
    or tax per 亩 不足 ``acceptance.min_tax_share`` (exactly 50 % / 30 % passes) → ``termination_possible``. When the
    profile has no periodic review (no ``review.cycle_years``), tax per 亩 below the commitment →
    ``tax_shortfall`` with ``penalty_wan`` = (committed − actual tax per 亩) × area (违约金按差额计算).
periodic tax review (``review.*``, YW §11; only when ``review.cycle_years`` > 0)
    cycles of ``review.cycle_years`` counted from the agreed full-production date; once a cycle has ended,
    the latest yearly tax per 亩 (the data holds one year's actuals, taken for each year of the cycle)
    达到 the committed figure (included) → nothing; 不低于 ``review.pay_difference_from_share`` of it
    (included) → ``tax_shortfall``, 按照实际差额: (committed − actual) × area × the cycle's years under
    ``review.difference_basis = "whole_cycle"``, × 1 under ``"cycle_year"``; 未达到 it → ``termination_possible``.
ratings (亩均论英雄; ``ratings.*``, YW §12; only when the counts are > 0)
    the latest ``ratings.d_years_running`` consecutive rated years all D, or the latest
    ``ratings.c_or_below_years_running`` all C or D → ``rating_termination_possible``. Ratings are of
    finished years (year < ``as_of``'s year), matched by ``parcel_no`` or by ``holder_id`` (a rating of the
    parcel wins over its holder's for the same year); the run must end at the latest rated year and its
    years must follow each other.
evaluations (绩效评估; ``evaluation.*``, WZ §11)
    at full production (达产评估, when ``evaluation.at_full_production``), every ``evaluation.every_years``
    after it (过程评估, when > 0) and ``evaluation.before_expiry_years`` before the lease ends (到期评估, when
    > 0; the lease ends ``lease_years`` after delivery) → ``evaluation_due`` from ``evaluation.warn_days``
    before the date to as many days after it (overdue). The data records no evaluation done, so past that
    window an evaluation is taken as done.
lease (``lease.ordinary_max_years`` cited)
    ``lease_expiring`` within ``evaluation.warn_days`` before the lease ends, ``lease_expired`` from then on.

A rule that needs a missing field gives ``insufficient_data``. A missing committed tax per 亩 is replaced by
``existing.min_tax_per_mu_wan`` when the profile sets one (YW §10: the least any agreement may carry), else
by ``city_standard_tax_per_mu_wan`` when given; the finding says so.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.policy import get_profile
>>> parcel = {c: None for c in NEEDED} | {"parcel_no": "A-1", "area_mu": 15.0, "tax": 300.0, "output": 9000.0,
...           "committed_tax_per_mu": 30.0, "committed_output_per_mu": 500.0, "lease_years": 20,
...           "delivered_on": dt.date(2020, 1, 1), "agreed_full_production_on": dt.date(2024, 6, 30)}
>>> f = lifecycle_findings(pd.DataFrame([parcel]), None, as_of=dt.date(2026, 11, 22),
...                        profile=get_profile("wenzhou-2020"))
>>> f[["category", "article", "penalty_wan"]].values.tolist()
[['tax_shortfall', 'wenzhou-2020 WZ §10', 150.0]]
>>> lease_price_correction(20, profile=get_profile("wenzhou-2020"))
0.4
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from zoning.findings import (
    _NAT,
    RELATIVE_EPS,
    SHARE_EPS,
    Days,
    _add_months,
    _durations,
    _iso,
    _months_between,
    _param,
    _Parcels,
    _prepare,
    _ratings_long,
    _records,
    _Rows,
    _years_to_months,
    as_of_date,
    at_least,
    at_most,
    number_pair,
    pct_pair,
)
from zoning.policy import Profile

__all__ = [
    "LIFECYCLE_CATEGORIES",
    "NEEDED",
    "bid_price_cap",
    "lease_price_correction",
    "lifecycle_findings",
    "mortgage_cap",
    "parcel_tax_share_wan",
    "transfer_requirements",
]

#: the parcel columns the lifecycle rules read (besides ``area_mu``, or a geometry to compute it from)
NEEDED = [
    "parcel_no",
    "holder_id",
    "delivered_on",
    "agreed_full_production_on",
    "lease_years",
    "committed_tax_per_mu",
    "committed_output_per_mu",
    "tax",
    "output",
]

#: the categories ``lifecycle_findings`` reports besides ``insufficient_data``
LIFECYCLE_CATEGORIES = (
    "termination_possible",
    "tax_shortfall",
    "rating_termination_possible",
    "evaluation_due",
    "lease_expiring",
    "lease_expired",
)

_EPS = 1e-9  # a parcel's area against its enterprise's, beyond rounding


def _below(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64] | float) -> npt.NDArray[np.bool_]:
    """A < b beyond rounding (False where either is NaN): 低于约定 of a figure per 亩."""
    return at_most(a, b, includes=False, eps=RELATIVE_EPS * np.abs(b))


def _share_under(share: npt.NDArray[np.float64], profile: Profile, key: str) -> npt.NDArray[np.bool_]:
    """The share is 不足 (or, by the profile's word, at most) the threshold of ``key``."""
    return at_most(share, float(profile.value(key)), includes=profile.includes(key), eps=SHARE_EPS)


def _fmt(v: float) -> str:
    return f"{v:g}"


def _share(actual: npt.NDArray[np.float64], committed: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(all="ignore"):
        return np.where(committed > 0, actual / committed, np.where(committed == 0, np.inf, np.nan))


def lifecycle_findings(
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date | str,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None = None,
) -> pd.DataFrame:
    """Contract-compliance findings for every parcel, at ``as_of``, under ``profile``.

    Parameters
    ----------
    parcels : pandas.DataFrame
        The parcel columns of ``geo.queries.read_parcels`` (at least ``NEEDED``, and ``area_mu`` or a
        projected geometry). Not modified.
    ratings : pandas.DataFrame or None
        亩均论英雄 grades: ``year``, ``grade`` (A–D) and ``parcel_no`` or ``holder_id`` (or both).
    as_of : datetime.date or str
        The date of the judgement.
    profile : zoning.policy.Profile
        The policy whose parameters and articles apply.
    city_standard_tax_per_mu_wan : float, optional
        The city's published tax standard (万元/亩), used for a parcel without a committed tax per 亩 when
        the profile sets no ``existing.min_tax_per_mu_wan``.

    Returns
    -------
    pandas.DataFrame
        One row per finding, columns ``zoning.findings.FINDING_COLUMNS`` and ``until``, sorted by parcel number and
        category; categories ``LIFECYCLE_CATEGORIES`` and ``insufficient_data``.

    Examples
    --------
    >>> import datetime as dt, pandas as pd
    >>> from zoning.policy import get_profile
    >>> row = {c: None for c in NEEDED} | {"parcel_no": "Y-1", "holder_id": "H", "area_mu": 15.0,
    ...        "lease_years": 20, "delivered_on": dt.date(2020, 1, 1), "agreed_full_production_on": dt.date(2021, 6, 30),
    ...        "tax": 300.0, "output": 9000.0, "committed_tax_per_mu": 30.0, "committed_output_per_mu": 500.0}
    >>> ratings = pd.DataFrame({"holder_id": ["H", "H"], "year": [2024, 2025], "grade": ["D", "D"]})
    >>> f = lifecycle_findings(pd.DataFrame([row]), ratings, as_of=dt.date(2026, 11, 22), profile=get_profile("yiwu"))
    >>> f[["category", "article", "penalty_wan"]].values.tolist()
    [['rating_termination_possible', 'yiwu YW §12', nan], ['tax_shortfall', 'yiwu YW §11', 450.0]]
    >>> print(f.loc[1, "detail"])
    第1个考核周期（2021-06-30 至 2024-06-30）期满，亩均税收 20.00 万元/亩，低于约定 30.00 万元/亩，不低于约定的 50%，按实际差额支付违约金并继续履约：违约金 =（30.00 − 20.00）× 15.00 亩 × 3 年 = 450.00 万元
    """  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
    p = _prepare(parcels, as_of=as_of, needed=NEEDED)
    rows = _Rows(p)
    _production(rows, p, profile, city_standard_tax_per_mu_wan)
    _ratings(rows, p, ratings, profile)
    _evaluations_and_lease(rows, p, profile)
    return rows.frame()


# ======================================================================================================
# full production: acceptance and periodic review
# ======================================================================================================


def _production(rows: _Rows, p: _Parcels, profile: Profile, city_standard: float | None) -> None:
    d, x, today, sc = p.date, p.num, p.as_of, p.scope
    nz = np.flatnonzero
    full = d["agreed_full_production_on"]
    area = p.area_mu
    with np.errstate(all="ignore"):
        tax_pm, out_pm = x["tax"] / area, x["output"] / area
    given = x["committed_tax_per_mu"]
    existing_min = float(profile.get("existing.min_tax_per_mu_wan", 0.0))
    if existing_min > 0:
        art = profile.article("existing.min_tax_per_mu_wan")
        fallback = existing_min
        fb_zh = f"合同未载约定亩均税收，按存量纳管标准 {existing_min:g} 万元/亩（{art}）"
        fb_en = (
            f"no committed tax per mu on record: the existing-land standard {existing_min:g} 万元/亩 ({art})"
        )
    elif city_standard is not None:
        fallback = float(city_standard)
        fb_zh = f"合同未载约定亩均税收，按全市亩均税收标准 {city_standard:g} 万元/亩"
        fb_en = f"no committed tax per mu on record: the city's standard {city_standard:g} 万元/亩"
    else:
        fallback, fb_zh, fb_en = np.nan, "", ""
    c_tax = np.where(np.isnan(given), fallback, given)
    assumed = np.isnan(given) & ~np.isnan(c_tax)
    c_out = x["committed_output_per_mu"]
    tax_share, out_share = _share(tax_pm, c_tax), _share(out_pm, c_out)

    def note(idx: npt.NDArray[np.int64]) -> tuple[list[str], list[str]]:
        a = assumed[idx].tolist()
        return [f"（{fb_zh}）" if v else "" for v in a], [f" ({fb_en})" if v else "" for v in a]

    full_key = next(
        (k for k in ("acceptance.min_output_share", "review.pay_difference_from_share") if profile.has(k)),
        "evaluation.warn_days",
    )
    rows.insufficient(
        profile.cite(full_key),
        nz(sc & np.isnat(full)),
        rule="full_production",
        missing=["agreed_full_production_on"],
        detail="无约定达产日期，无法判断达产验收、税收考核与绩效评估",
        detail_en="no agreed full-production date: cannot judge acceptance, tax reviews or evaluations",
    )
    due = sc & ~np.isnat(full) & (today >= full)

    if profile.has("acceptance.min_output_share") and profile.has("acceptance.min_tax_share"):
        _acceptance(
            rows,
            p,
            profile,
            due=due,
            full=full,
            shares=(out_share, tax_share),
            per_mu=(out_pm, tax_pm),
            committed=(c_out, c_tax),
            assumed=assumed,
            note=note,
        )
    _review(
        rows,
        p,
        profile,
        due=due,
        full=full,
        tax_pm=tax_pm,
        c_tax=c_tax,
        tax_share=tax_share,
        assumed=assumed,
        note=note,
    )


def _acceptance(
    rows: _Rows,
    p: _Parcels,
    profile: Profile,
    *,
    due: npt.NDArray[np.bool_],
    full: Days,
    shares: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    per_mu: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    committed: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    assumed: npt.NDArray[np.bool_],
    note: Any,
) -> None:
    """Full-production acceptance (达产验收, WZ §10): output or tax 不足 its share → ``termination_possible``."""
    x, nz, area = p.num, np.flatnonzero, p.area_mu
    out_share, tax_share = shares
    out_pm, tax_pm = per_mu
    c_out, c_tax = committed
    min_out, min_tax = profile.value("acceptance.min_output_share"), profile.value("acceptance.min_tax_share")
    w_out, w_tax = (
        profile.boundary("acceptance.min_output_share"),
        profile.boundary("acceptance.min_tax_share"),
    )
    out_fail = due & _share_under(out_share, profile, "acceptance.min_output_share")
    tax_fail = due & _share_under(tax_share, profile, "acceptance.min_tax_share")
    for idx, key in (
        (nz(out_fail), "acceptance.min_output_share"),
        (nz(tax_fail & ~out_fail), "acceptance.min_tax_share"),
    ):
        if idx.size == 0:
            continue
        nz_, ne_ = note(idx)
        of, tf = out_fail[idx].tolist(), tax_fail[idx].tolist()
        op, oc, os_ = out_pm[idx].tolist(), c_out[idx].tolist(), out_share[idx].tolist()
        tp, tc, ts = tax_pm[idx].tolist(), c_tax[idx].tolist(), tax_share[idx].tolist()
        fs = _iso(full[idx])
        op_, tp_ = [pct_pair(q, min_out) for q in os_], [pct_pair(q, min_tax) for q in ts]
        oz = [
            f"亩均产值 {a:,.2f} 万元/亩，为约定 {c:,.2f} 万元/亩的 {q[0]}（{w_out} {q[1]}）" if f else ""
            for f, a, c, q in zip(of, op, oc, op_, strict=False)
        ]
        oe = [
            f"output {a:,.2f} 万元/亩, {q[0]} of the committed {c:,.2f} ({w_out}, under {q[1]})" if f else ""
            for f, a, c, q in zip(of, op, oc, op_, strict=False)
        ]
        tz = [
            f"亩均税收 {a:,.2f} 万元/亩，为约定 {c:,.2f} 万元/亩的 {q[0]}（{w_tax} {q[1]}）{n}" if f else ""
            for f, a, c, q, n in zip(tf, tp, tc, tp_, nz_, strict=False)
        ]
        te = [
            f"tax {a:,.2f} 万元/亩, {q[0]} of the committed {c:,.2f} ({w_tax}, under {q[1]}){n}" if f else ""
            for f, a, c, q, n in zip(tf, tp, tc, tp_, ne_, strict=False)
        ]
        det = [
            f"约定达产日期 {d_} 已到：{a}{'；' if a and b else ''}{b}：可按约定终止出让合同，按原出让价格（市场价更低时按市场价）"  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
            "收购土地"
            for d_, a, b in zip(fs, oz, tz, strict=False)
        ]
        det_en = [
            f"agreed full production {d_} reached: {a}{'; ' if a and b else ''}{b}: the contract may be ended and "
            "the land bought back at the original price (the market price if lower)"
            for d_, a, b in zip(fs, oe, te, strict=False)
        ]
        rows.add(
            "termination_possible",
            profile.cite(key),
            idx,
            since=full[idx],
            detail=det,
            detail_en=det_en,
            figures=_records(
                {
                    "agreed_full_production_on": full[idx],
                    "output_per_mu_wan": out_pm[idx],
                    "committed_output_per_mu_wan": c_out[idx],
                    "output_share": out_share[idx],
                    "tax_per_mu_wan": tax_pm[idx],
                    "committed_tax_per_mu_wan": c_tax[idx],
                    "tax_share": tax_share[idx],
                    "min_output_share": float(min_out),
                    "min_tax_share": float(min_tax),
                    "committed_tax_assumed": assumed[idx],
                },
                idx.size,
            ),
        )
    acc_unknown = due & ~(out_fail | tax_fail) & (np.isnan(out_share) | np.isnan(tax_share))
    idx = nz(acc_unknown)
    if idx.size:
        flags = {
            "output": np.isnan(x["output"]),
            "committed_output_per_mu": np.isnan(c_out),
            "tax": np.isnan(x["tax"]),
            "committed_tax_per_mu": np.isnan(c_tax),
            "area_mu": np.isnan(area),
        }
        miss = [[k for k in flags if flags[k][i]] for i in idx.tolist()]
        fs = _iso(full[idx])
        rows.insufficient(
            profile.cite("acceptance.min_output_share"),
            idx,
            rule="acceptance",
            missing=miss,
            detail=[
                f"约定达产日期 {a} 已到，但缺{'、'.join(_ZH.get(k, k) for k in m)}，无法判断达产验收"
                for a, m in zip(fs, miss, strict=False)
            ],
            detail_en=[
                f"agreed full production {a} reached, but no {', '.join(m)}: cannot judge the acceptance"
                for a, m in zip(fs, miss, strict=False)
            ],
        )


def _review(
    rows: _Rows,
    p: _Parcels,
    profile: Profile,
    *,
    due: npt.NDArray[np.bool_],
    full: Days,
    tax_pm: npt.NDArray[np.float64],
    c_tax: npt.NDArray[np.float64],
    tax_share: npt.NDArray[np.float64],
    assumed: npt.NDArray[np.bool_],
    note: Any,
) -> None:
    """The tax shortfall at acceptance (no cycle) or the periodic review (YW §11)."""
    x, nz, area, today = p.num, np.flatnonzero, p.area_mu, p.as_of
    cycle = int(profile.get("review.cycle_years", 0))
    if cycle == 0 and not profile.has("acceptance.min_tax_share"):
        return  # neither a review nor an acceptance: the profile's text charges no tax shortfall
    if cycle == 0:
        short = due & _below(tax_pm, c_tax)
        idx = nz(short)
        pen = (c_tax[idx] - tax_pm[idx]) * area[idx]
        _shortfall_rows(
            rows,
            idx,
            profile.cite("acceptance.min_tax_share"),
            since=full[idx],
            head_zh=[f"约定达产日期 {a} 已到" for a in _iso(full[idx])],
            head_en=[f"agreed full production {a} reached" for a in _iso(full[idx])],
            tax_pm=tax_pm[idx],
            c_tax=c_tax[idx],
            area=area[idx],
            penalty=pen,
            notes=note(idx),
            extra={"agreed_full_production_on": full[idx], "committed_tax_assumed": assumed[idx]},
        )
        return

    # ---- periodic review (YW §11)
    months = 12 * cycle
    k = _months_between(full, np.full(p.n, today)) // months
    in_review = due & (k >= 1)
    end = _add_months(full, k * months)
    start = _add_months(full, (k - 1) * months)
    pay_from = float(profile.value("review.pay_difference_from_share"))
    cite = profile.cite("review.pay_difference_from_share")
    # 达到约定标准 (1.0 included) continues; 不低于 50 % (included) pays the difference; 未达到 50 % may end
    term = in_review & ~at_least(
        tax_share, pay_from, includes=profile.includes("review.pay_difference_from_share")
    )
    pay = in_review & ~term & ~at_least(tax_share, 1.0, includes=True) & ~np.isnan(tax_share)
    term &= ~np.isnan(tax_share)
    whole = (
        profile.has("review.difference_basis") and profile.value("review.difference_basis") == "whole_cycle"
    )
    years_charged = cycle if whole else 1

    def head(idx: npt.NDArray[np.int64]) -> tuple[list[str], list[str]]:
        ks, ss, es = k[idx].tolist(), _iso(start[idx]), _iso(end[idx])
        return (
            [f"第{a}个考核周期（{b} 至 {c}）期满" for a, b, c in zip(ks, ss, es, strict=False)],
            [f"review cycle {a} ({b} to {c}) ended" for a, b, c in zip(ks, ss, es, strict=False)],
        )

    idx = nz(pay)
    hz, he = head(idx)
    _shortfall_rows(
        rows,
        idx,
        cite,
        since=end[idx],
        head_zh=hz,
        head_en=he,
        tax_pm=tax_pm[idx],
        c_tax=c_tax[idx],
        area=area[idx],
        penalty=(c_tax[idx] - tax_pm[idx]) * area[idx] * years_charged,
        notes=note(idx),
        tail_zh=f"，不低于约定的 {pay_from:.0%}，按实际差额支付违约金并继续履约",
        tail_en=f", not under {pay_from:.0%} of it: the difference is paid and the contract continues",
        years=years_charged,
        extra={
            "review_cycle": k[idx].astype(np.float64),
            "cycle_start_on": start[idx],
            "cycle_end_on": end[idx],
            "tax_share": tax_share[idx],
            "committed_tax_assumed": assumed[idx],
        },
    )
    idx = nz(term)
    if idx.size:
        hz, he = head(idx)
        nz_, ne_ = note(idx)
        tp, tc, ts = tax_pm[idx].tolist(), c_tax[idx].tolist(), tax_share[idx].tolist()
        sp = [pct_pair(q, pay_from) for q in ts]
        rows.add(
            "termination_possible",
            cite,
            idx,
            since=end[idx],
            detail=[
                f"{h}，亩均税收 {a:,.2f} 万元/亩，为约定 {c:,.2f} 万元/亩的 {s[0]}（未达到 {s[1]}）{n}：可解除出让合同"
                for h, a, c, s, n in zip(hz, tp, tc, sp, nz_, strict=False)
            ],
            detail_en=[
                f"{h}: tax {a:,.2f} 万元/亩, {s[0]} of the committed {c:,.2f} (under {s[1]}){n}: "
                "the land contract may be ended"
                for h, a, c, s, n in zip(he, tp, tc, sp, ne_, strict=False)
            ],
            figures=_records(
                {
                    "review_cycle": k[idx].astype(np.float64),
                    "cycle_start_on": start[idx],
                    "cycle_end_on": end[idx],
                    "tax_per_mu_wan": tax_pm[idx],
                    "committed_tax_per_mu_wan": c_tax[idx],
                    "tax_share": tax_share[idx],
                    "pay_difference_from_share": pay_from,
                    "committed_tax_assumed": assumed[idx],
                },
                idx.size,
            ),
        )
    idx = nz(in_review & np.isnan(tax_share))
    if idx.size:
        hz, he = head(idx)
        flags = {
            "tax": np.isnan(x["tax"]),
            "committed_tax_per_mu": np.isnan(c_tax),
            "area_mu": np.isnan(area),
        }
        miss = [[k2 for k2 in flags if flags[k2][i]] for i in idx.tolist()]
        rows.insufficient(
            cite,
            idx,
            rule="review",
            missing=miss,
            detail=[
                f"{h}，但缺{'、'.join(_ZH.get(m2, m2) for m2 in m)}，无法进行亩均税收考核"
                for h, m in zip(hz, miss, strict=False)
            ],
            detail_en=[
                f"{h}, but no {', '.join(m)}: cannot review the tax per mu"
                for h, m in zip(he, miss, strict=False)
            ],
        )


_ZH = {
    "output": "年度产值",
    "tax": "年度税收",
    "committed_output_per_mu": "约定亩均产值",
    "committed_tax_per_mu": "约定亩均税收",
    "area_mu": "宗地面积",
    "delivered_on": "交地日期",
    "lease_years": "出让年限",
    "agreed_full_production_on": "约定达产日期",
}


def _shortfall_rows(
    rows: _Rows,
    idx: npt.NDArray[np.int64],
    cite: str,
    *,
    since: Days,
    head_zh: list[str],
    head_en: list[str],
    tax_pm: npt.NDArray[np.float64],
    c_tax: npt.NDArray[np.float64],
    area: npt.NDArray[np.float64],
    penalty: npt.NDArray[np.float64],
    notes: tuple[list[str], list[str]],
    extra: dict[str, Any],
    tail_zh: str = "",
    tail_en: str = "",
    years: int = 1,
) -> None:
    if idx.size == 0:
        return
    tp, tc, ar, pen = tax_pm.tolist(), c_tax.tolist(), area.tolist(), penalty.tolist()
    pairs = [number_pair(a, c) for a, c in zip(tp, tc, strict=False)]
    yz, ye = (f" × {years} 年", f" × {years} years") if years > 1 else ("", "")
    rows.add(
        "tax_shortfall",
        cite,
        idx,
        since=since,
        detail=[
            f"{h}，亩均税收 {a} 万元/亩，低于约定 {c} 万元/亩{n}{tail_zh}：违约金 =（{c} − {a}）"
            f"× {m:,.2f} 亩{yz} = {v:,.2f} 万元"
            for h, (a, c), m, v, n in zip(head_zh, pairs, ar, pen, notes[0], strict=False)
        ],
        detail_en=[
            f"{h}: tax {a} 万元/亩, under the committed {c}{n}{tail_en}; penalty = ({c} − "
            f"{a}) × {m:,.2f} 亩{ye} = {v:,.2f} 万元"
            for h, (a, c), m, v, n in zip(head_en, pairs, ar, pen, notes[1], strict=False)
        ],
        figures=_records(
            {
                "tax_per_mu_wan": tax_pm,
                "committed_tax_per_mu_wan": c_tax,
                "area_mu": area,
                "penalty_wan": penalty,
                "years_charged": float(years),
            }
            | extra,
            idx.size,
        ),
        penalty_wan=penalty,
    )


# ======================================================================================================
# ratings (YW §12)
# ======================================================================================================


def _ratings(rows: _Rows, p: _Parcels, ratings: pd.DataFrame | None, profile: Profile) -> None:
    runs = [
        (int(profile.get("ratings.d_years_running", 0)), ("D",), "ratings.d_years_running", "D 类", "D"),
        (
            int(profile.get("ratings.c_or_below_years_running", 0)),
            ("C", "D"),
            "ratings.c_or_below_years_running",
            "C 类（含）以下",
            "C or below",
        ),
    ]
    # 连续两年 (满): a run of exactly the number counts; an excluding word needs one year more
    runs = [(n + (0 if profile.includes(key) else 1), g, key, lz, le) for n, g, key, lz, le in runs if n > 0]
    if not runs:
        return
    long = _ratings_long(p, ratings)
    if len(long) == 0:
        return
    # sorted by parcel, then year: reverse the years within each parcel (latest first)
    pos, year, grade = long["pos"].to_numpy(), long["year"].to_numpy(), long["grade"].to_numpy(dtype=object)
    order = np.lexsort((-year, pos))
    inside = p.scope[pos[order]]
    pos, year, grade = pos[order][inside], year[order][inside], grade[order][inside]
    if pos.size == 0:
        return
    first = np.r_[True, pos[1:] != pos[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(pos)), 0))
    back = np.arange(len(pos)) - start  # 0 for the latest rated year of each parcel
    latest = year[start]
    for n_run, grades, key, label_zh, label_en in runs:
        ok = (back < n_run) & (year == latest - back) & np.isin(grade, grades)
        hits = np.bincount(pos, weights=ok, minlength=p.n)
        winners = np.flatnonzero(hits == n_run)
        if winners.size == 0:
            continue
        sel = np.isin(pos, winners) & (back < n_run)  # n_run rows per winner, latest year first
        idx = winners.astype(np.int64)
        ys = year[sel].reshape(-1, n_run)[:, ::-1]
        gs = grade[sel].reshape(-1, n_run)[:, ::-1]
        cells = ys.astype(str).astype(object) + " " + gs.astype(object)  # "2024 D"
        text = cells[:, 0]
        for c in range(1, n_run):
            text = text + "、" + cells[:, c]
        t = text.tolist()
        fy, ly = ys[:, 0], ys[:, -1]
        # 31 December of the run's last year: 1 January of the next, less a day
        since = (ly + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - np.timedelta64(1, "D")
        rows.add(
            "rating_termination_possible",
            profile.cite(key),
            idx,
            since=since,
            detail=[f"亩均论英雄综合评价连续 {n_run} 年被评为 {label_zh}（{s}）：可解除出让合同" for s in t],
            detail_en=[
                f"rated {label_en} {n_run} years running ({s.replace('、', ', ')}): the land contract may "
                "be ended"
                for s in t
            ],
            figures=_records(
                {
                    "years_running": float(n_run),
                    "first_year": fy.astype(np.float64),
                    "last_year": ly.astype(np.float64),
                },
                idx.size,
            ),
        )


def _days_said(when: Days, today: np.datetime64) -> tuple[list[str], list[str]]:
    """How many days between ``when`` and ``today``, in Chinese and English."""
    n = np.abs((when - today).astype(np.int64)).tolist()
    return [f"{d}天" for d in n], [f"{d} day" + ("" if d == 1 else "s") for d in n]


# ======================================================================================================
# evaluations (WZ §11) and the lease
# ======================================================================================================


def _evaluations_and_lease(rows: _Rows, p: _Parcels, profile: Profile) -> None:
    d, x, today, sc = p.date, p.num, p.as_of, p.scope
    nz = np.flatnonzero
    warn = int(profile.value("evaluation.warn_days"))
    lo, hi = today - np.timedelta64(warn, "D"), today + np.timedelta64(warn, "D")
    full = d["agreed_full_production_on"]
    delivered, years = d["delivered_on"], x["lease_years"]
    lease_ok = sc & ~np.isnat(delivered) & (years > 0)
    lease_end = np.where(
        lease_ok, _add_months(delivered, np.round(np.nan_to_num(years) * 12).astype(np.int64)), _NAT
    )
    before = (
        float(profile.value("evaluation.before_expiry_years"))
        if profile.has("evaluation.before_expiry_years")
        else 0.0
    )
    expiry_eval = _add_months(lease_end, -_years_to_months(before)) if before > 0 else np.full(p.n, _NAT)
    lease_cite = profile.cite("lease.ordinary_max_years")

    rows.insufficient(
        lease_cite,
        nz(sc & ~lease_ok),
        rule="lease",
        missing=[
            [
                k
                for k, miss in (("delivered_on", np.isnat(delivered[i])), ("lease_years", not years[i] > 0))
                if miss
            ]
            for i in nz(sc & ~lease_ok).tolist()
        ],
        detail="无交地日期或出让年限，无法推算出让期满日期与到期评估",
        detail_en="no delivery date or lease term: cannot date the lease's end or its expiry evaluation",
    )

    def due_rows(
        mask: npt.NDArray[np.bool_],
        when: Days,
        key: str,
        kind: str,
        name_zh: list[str] | str,
        name_en: list[str] | str,
        basis_zh: list[str],
        basis_en: list[str],
        extra: dict[str, Any],
    ) -> None:
        idx = nz(mask)
        if idx.size == 0:
            return
        w = when[idx]
        dz, de = _days_said(w, today)  # a due date is near: said in days
        past = (w < today).tolist()
        same = (w == today).tolist()
        ws = _iso(w)
        nzh = name_zh if isinstance(name_zh, list) else [name_zh] * idx.size
        nen = name_en if isinstance(name_en, list) else [name_en] * idx.size
        rows.add(
            "evaluation_due",
            profile.cite(key),
            idx,
            since=w,
            detail=[
                f"{n}应于 {s}（{b}）进行，" + ("即为今日" if q else f"已逾期 {z}" if pa else f"还有 {z}")
                for n, s, b, q, pa, z in zip(nzh, ws, basis_zh, same, past, dz, strict=False)
            ],
            detail_en=[
                f"{n} due {s} ({b}), " + ("today" if q else f"{e} overdue" if pa else f"in {e}")
                for n, s, b, q, pa, e in zip(nen, ws, basis_en, same, past, de, strict=False)
            ],
            figures=_records(
                {
                    "evaluation": kind,
                    "due_on": w,
                    "days_to_due": (w - today).astype(np.int64).astype(np.float64),
                    "warn_days": float(warn),
                }
                | extra,
                idx.size,
            ),
        )

    if profile.has("evaluation.at_full_production") and profile.value("evaluation.at_full_production"):
        m = sc & (full >= lo) & (full <= hi)
        n = int(m.sum())
        due_rows(
            m,
            full,
            "evaluation.at_full_production",
            "full_production",
            "达产评估",
            "full-production evaluation",
            ["约定达产日期"] * n,
            ["the agreed full-production date"] * n,
            {},
        )
    every = int(profile.value("evaluation.every_years"))
    if every > 0:
        step = 12 * every
        k = np.where(hi >= full, _months_between(full, np.full(p.n, hi)) // step, 0)
        when = _add_months(full, k * step)
        m = sc & (k >= 1) & (when >= lo) & ~(when >= expiry_eval) & ~(when >= lease_end)
        i = nz(m)
        yrs, fs = (k[i] * every).tolist(), _iso(full[i])
        due_rows(
            m,
            when,
            "evaluation.every_years",
            "process",
            [f"过程评估（达产后第 {y} 年）" for y in yrs],
            [f"process evaluation ({y} years after full production)" for y in yrs],
            [f"约定达产日期 {a} 后 {y} 年" for a, y in zip(fs, yrs, strict=False)],
            [f"{y} years after the agreed full production {a}" for a, y in zip(fs, yrs, strict=False)],
            {"years_after_full_production": np.array(yrs, dtype=np.float64)},
        )
    if before > 0:
        m = sc & (expiry_eval >= lo) & (expiry_eval <= hi)
        i = nz(m)
        es = _iso(lease_end[i])
        due_rows(
            m,
            expiry_eval,
            "evaluation.before_expiry_years",
            "expiry",
            "到期评估",
            "expiry evaluation",
            [f"出让期满 {a} 前 {before:g} 年" for a in es],
            [f"{before:g} year(s) before the lease ends {a}" for a in es],
            {"lease_ends_on": lease_end[i]},
        )

    # ---- the lease itself
    for cat, m in (
        ("lease_expired", lease_ok & (today >= lease_end)),
        ("lease_expiring", lease_ok & (today < lease_end) & (today >= lease_end - np.timedelta64(warn, "D"))),
    ):
        idx = nz(m)
        if idx.size == 0:
            continue
        dz, de = (
            _durations(lease_end[idx], np.full(idx.size, today))
            if cat == "lease_expired"
            else _days_said(lease_end[idx], today)
        )
        yrs = [_fmt(v) for v in years[idx].tolist()]
        ds, es = _iso(delivered[idx]), _iso(lease_end[idx])
        if cat == "lease_expired":
            today_ = (lease_end[idx] == today).tolist()
            det = [
                f"交地日期 {a} 起出让 {y} 年，" + (f"于今日 {b} 期满" if t else f"已于 {b} 期满，已过 {z}")
                for a, b, y, z, t in zip(ds, es, yrs, dz, today_, strict=False)
            ]
            det_en = [
                f"leased for {y} years from delivery {a}: "
                + (f"expires today, {b}" if t else f"expired {b}, {e} ago")
                for a, b, y, e, t in zip(ds, es, yrs, de, today_, strict=False)
            ]
        else:
            det = [
                f"交地日期 {a} 起出让 {y} 年，将于 {b} 期满，还有 {z}"
                for a, b, y, z in zip(ds, es, yrs, dz, strict=False)
            ]
            det_en = [
                f"leased for {y} years from delivery {a}: expires {b}, in {e}"
                for a, b, y, e in zip(ds, es, yrs, de, strict=False)
            ]
        rows.add(
            cat,
            lease_cite,
            idx,
            since=lease_end[idx],
            detail=det,
            detail_en=det_en,
            figures=_records(
                {
                    "delivered_on": delivered[idx],
                    "lease_years": years[idx],
                    "lease_ends_on": lease_end[idx],
                    "days_to_end": (lease_end[idx] - today).astype(np.int64).astype(np.float64),
                },
                idx.size,
            ),
        )


# ======================================================================================================
# calculators
# ======================================================================================================


def lease_price_correction(term_years: float, *, profile: Profile, major: bool = False) -> float:
    """The starting-price correction for a lease term (年期修正系数): term ÷ ``lease.legal_max_years``.

    Parameters
    ----------
    term_years : float
        The lease term asked for, in years.
    profile : zoning.policy.Profile
    major : bool, default False
        A major or strategic project (重大产业项目、战略性新兴产业项目), allowed up to
        ``lease.major_max_years`` instead of ``lease.ordinary_max_years``.

    Raises
    ------
    ValueError
        When the term is not positive or exceeds the maximum for the kind of project (the message names the
        article).

    Examples
    --------
    >>> from zoning.policy import get_profile
    >>> lease_price_correction(20, profile=get_profile("wenzhou-2020"))
    0.4
    >>> lease_price_correction(50, profile=get_profile("wenzhou-2020"), major=True)
    1.0
    >>> lease_price_correction(30, profile=get_profile("yiwu"))
    Traceback (most recent call last):
    ...
    ValueError: 出让年限 30 年超过一般项目最高 20 年（yiwu YW §5） / a lease of 30 years exceeds the maximum of 20 years for an ordinary project (yiwu YW §5)
    """  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
    key = "lease.major_max_years" if major else "lease.ordinary_max_years"
    kind_zh, kind_en = ("重大产业项目", "a major project") if major else ("一般项目", "an ordinary project")
    if not term_years > 0:
        raise ValueError(
            f"出让年限须大于 0（收到 {term_years}） / a lease term must be more than 0 years, not {term_years}"
        )
    limit = profile.value(key)
    if term_years > limit:
        raise ValueError(
            f"出让年限 {term_years:g} 年超过{kind_zh}最高 {limit} 年（{profile.cite(key)}） / a lease of "
            f"{term_years:g} years exceeds the maximum of {limit} years for {kind_en} ({profile.cite(key)})"
        )
    return float(term_years) / float(profile.value("lease.legal_max_years"))


def bid_price_cap(start_price_wan: float, *, profile: Profile) -> float:
    """The capped land price of an auction (封顶地价, WZ §7): start price × ``bidding.price_cap_ratio``, 万元.

    At the cap, bidders compete on the tax per 亩 they commit to (``bidding.tax_commitment_years``).

    Examples
    --------
    >>> from zoning.policy import get_profile
    >>> round(bid_price_cap(1000.0, profile=get_profile("wenzhou-2020")), 6)
    1200.0
    """
    if not start_price_wan >= 0:
        raise ValueError(
            f"起拍价不能为负（收到 {start_price_wan}） / a start price cannot be negative, not {start_price_wan}"
        )
    return float(start_price_wan) * float(profile.value("bidding.price_cap_ratio"))


def parcel_tax_share_wan(enterprise_tax_wan: float, *, parcel_mu: float, enterprise_total_mu: float) -> float:
    """A parcel's share of its enterprise's tax (YW §13): enterprise tax × parcel area ÷ the enterprise's land.

    Examples
    --------
    >>> parcel_tax_share_wan(900.0, parcel_mu=15.0, enterprise_total_mu=45.0)
    300.0
    """
    if not enterprise_total_mu > 0:
        raise ValueError(
            f"企业总用地面积须大于 0（收到 {enterprise_total_mu}） / the enterprise's land must be more than 0 亩"
        )
    if not parcel_mu > 0:
        raise ValueError(f"宗地面积须大于 0（收到 {parcel_mu}） / the parcel's area must be more than 0 亩")
    if parcel_mu > enterprise_total_mu * (1 + _EPS):
        raise ValueError(
            f"宗地面积 {parcel_mu} 亩大于企业总用地 {enterprise_total_mu} 亩 / the parcel ({parcel_mu} 亩) is "
            f"larger than all the enterprise's land ({enterprise_total_mu} 亩)"
        )
    return float(enterprise_tax_wan) * float(parcel_mu) / float(enterprise_total_mu)


def _get(parcel: Mapping[str, Any] | pd.Series, key: str) -> Any:
    v = parcel.get(key) if hasattr(parcel, "get") else None
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _as_date(v: Any) -> dt.date | None:
    if v is None:
        return None
    return as_of_date(v) if not isinstance(v, np.datetime64) else pd.Timestamp(v).date()


# complexity 24: the triggers of a transfer (WZ §15, YW §14) each a branch; issue 14 moves the calculators to a
# module of their own, where this one is cut per trigger
def transfer_requirements(  # noqa: C901
    *,
    parcel: Mapping[str, Any] | pd.Series,
    profile: Profile,
    as_of: dt.date | str,
    seller_grade_last_year: str | None,
    city_average_tax_per_mu_wan: float | None,
    city_standard_tax_per_mu_wan: float | None,
    enterprise_tax_wan: float | None = None,
    enterprise_total_mu: float | None = None,
) -> dict[str, Any]:
    """What the transfer of a parcel under lifecycle management requires (WZ §14, YW §13–14).

    Parameters
    ----------
    parcel : mapping or pandas.Series
        One parcel's fields (``area_mu``, ``tax``, ``investment``, ``committed_tax_per_mu``,
        ``committed_investment_per_mu``, ``agreed_full_production_on`` …).
    profile : zoning.policy.Profile
    as_of : datetime.date or str
        The date of the transfer.
    seller_grade_last_year : str or None
        The seller's 亩均论英雄 grade of last year (A–D), None when not known.
    city_average_tax_per_mu_wan, city_standard_tax_per_mu_wan : float or None
        The city's average tax per 亩 and its published standard (万元/亩) of the year.
    enterprise_tax_wan, enterprise_total_mu : float, optional
        For an enterprise with several parcels: its whole tax (万元) and all its land (亩); the parcel's tax is
        then its share by area (YW §13), else the parcel's own ``tax``.

    Returns
    -------
    dict
        ``tax_standard``: the tax per 亩 the buyer must sign (``min_tax_per_mu_wan``, ``article``, ``detail``,
        ``detail_en``, ``original_committed_tax_per_mu_wan``), or None when the profile sets none;
        ``preemption``: the pre-emption triggers that apply (``trigger``, ``article``, ``detail``,
        ``detail_en``); ``preemption_required``; ``undetermined``: triggers that could not be judged and the
        fields they lack; ``tax_to_make_up``: the tax difference to pay before the transfer (YW §13), or None.

    Examples
    --------
    >>> import datetime as dt
    >>> from zoning.policy import get_profile
    >>> parcel = {"area_mu": 15.0, "tax": 300.0, "committed_tax_per_mu": 30.0, "investment": 6000.0,
    ...           "committed_investment_per_mu": 300.0, "agreed_full_production_on": dt.date(2024, 6, 30)}
    >>> r = transfer_requirements(parcel=parcel, profile=get_profile("yiwu"), as_of=dt.date(2026, 11, 22),
    ...                           seller_grade_last_year="B", city_average_tax_per_mu_wan=20.0,
    ...                           city_standard_tax_per_mu_wan=12.0)
    >>> r["tax_standard"]["min_tax_per_mu_wan"], r["tax_to_make_up"]["shortfall_wan"], r["preemption_required"]
    (18.0, 150.0, False)
    >>> w = transfer_requirements(parcel=parcel, profile=get_profile("wenzhou-2020"), as_of=dt.date(2026, 11, 22),
    ...                           seller_grade_last_year="C", city_average_tax_per_mu_wan=None,
    ...                           city_standard_tax_per_mu_wan=None)
    >>> [t["trigger"] for t in w["preemption"]], w["tax_standard"]
    (['below_contract', 'seller_grade'], None)
    """
    day = as_of_date(as_of)
    area = _get(parcel, "area_mu")
    if area is None or not float(area) > 0:
        raise ValueError(
            "宗地面积（area_mu）缺失或不大于 0 / the parcel's area_mu is missing or not more than 0"
        )
    area = float(area)
    parcel_tax: float | None
    if enterprise_tax_wan is not None:
        if enterprise_total_mu is None:
            raise ValueError(
                "给出企业税收时须同时给出企业总用地面积 / enterprise_tax_wan needs enterprise_total_mu"
            )
        parcel_tax = parcel_tax_share_wan(
            enterprise_tax_wan, parcel_mu=area, enterprise_total_mu=enterprise_total_mu
        )
        tax_basis_zh = (
            f"按企业实缴税收 {enterprise_tax_wan:,.2f} 万元 × {area:,.2f}/{enterprise_total_mu:,.2f} 亩折算"
        )
        tax_basis_en = (
            f"the enterprise's tax {enterprise_tax_wan:,.2f} 万元 × {area:,.2f}/{enterprise_total_mu:,.2f} 亩"
        )
    else:
        given_tax = _get(parcel, "tax")
        parcel_tax = None if given_tax is None else float(given_tax)
        tax_basis_zh, tax_basis_en = "宗地年度税收", "the parcel's yearly tax"
    tax_pm = None if parcel_tax is None else parcel_tax / area
    committed_tax = _get(parcel, "committed_tax_per_mu")
    committed_tax = None if committed_tax is None else float(committed_tax)
    undetermined: list[dict[str, Any]] = []

    # ---- the buyer's tax standard (YW §14)
    min_tax = float(profile.get("transfer.min_tax_per_mu_wan", 0.0))
    mult = float(profile.get("transfer.city_standard_multiplier", 0.0))
    tax_standard: dict[str, Any] | None = None
    if min_tax > 0 or mult > 0:
        standard, key = min_tax, "transfer.min_tax_per_mu_wan"
        zh, en = f"亩均税收约定不低于 {min_tax:g} 万元/亩", f"a tax per mu of at least {min_tax:g} 万元"
        if mult > 0:
            if city_average_tax_per_mu_wan is None:
                raise ValueError(
                    f"须给出全市平均亩均税收（{profile.cite('transfer.city_standard_multiplier')}） / "
                    "city_average_tax_per_mu_wan is needed under this profile"
                )
            if city_average_tax_per_mu_wan > min_tax:
                if city_standard_tax_per_mu_wan is None:
                    raise ValueError(
                        f"全市平均亩均税收已超过 {min_tax:g} 万元，须给出当年发布的亩均税收标准"
                        f"（{profile.cite('transfer.city_standard_multiplier')}） / "
                        "city_standard_tax_per_mu_wan is needed when the city average exceeds the minimum"
                    )
                raised = mult * float(city_standard_tax_per_mu_wan)
                if raised > standard:
                    standard, key = raised, "transfer.city_standard_multiplier"
                zh = (
                    f"全市平均亩均税收 {city_average_tax_per_mu_wan:g} 万元/亩 已超过 {min_tax:g} 万元：亩均税收约定不低于"  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
                    f"当年标准 {city_standard_tax_per_mu_wan:g} 万元/亩 的 {mult:g} 倍，且不低于 {min_tax:g} 万元/亩，"
                    f"即 {standard:g} 万元/亩"
                )
                en = (
                    f"the city's average tax per mu {city_average_tax_per_mu_wan:g} 万元 exceeds {min_tax:g}: at least "
                    f"{mult:g} × the year's standard {city_standard_tax_per_mu_wan:g} 万元, and at least {min_tax:g}, "
                    f"i.e. {standard:g} 万元 per mu"
                )
        tax_standard = {
            "min_tax_per_mu_wan": standard,
            "article": profile.cite(key),
            "detail": zh,
            "detail_en": en,
            "original_committed_tax_per_mu_wan": committed_tax,
        }

    # ---- pre-emption (WZ §14)
    preemption: list[dict[str, Any]] = []
    if profile.get("transfer.preempt_below_contract", False):
        cite = profile.cite("transfer.preempt_below_contract")
        inv = _get(parcel, "investment")
        c_inv = _get(parcel, "committed_investment_per_mu")
        inv_pm = None if inv is None else float(inv) / area
        below_inv = inv_pm is not None and c_inv is not None and inv_pm < float(c_inv)
        below_tax = tax_pm is not None and committed_tax is not None and tax_pm < committed_tax
        if below_inv or below_tax:
            pz, pe = [], []
            if below_inv:
                pz.append(f"亩均投资 {inv_pm:,.2f} 万元/亩低于约定 {float(c_inv):,.2f}")
                pe.append(f"investment {inv_pm:,.2f} 万元/亩 under the committed {float(c_inv):,.2f}")
            if below_tax:
                pz.append(f"亩均税收 {tax_pm:,.2f} 万元/亩低于约定 {committed_tax:,.2f}")
                pe.append(f"tax {tax_pm:,.2f} 万元/亩 under the committed {committed_tax:,.2f}")
            preemption.append(
                {
                    "trigger": "below_contract",
                    "article": cite,
                    "detail": "；".join(pz) + "：政府必须行使优先收购权",
                    "detail_en": "; ".join(pe) + ": the government must pre-empt",
                }
            )
        else:
            missing = [
                k
                for k, v in (
                    ("investment", inv),
                    ("committed_investment_per_mu", c_inv),
                    ("tax", parcel_tax),
                    ("committed_tax_per_mu", committed_tax),
                )
                if v is None
            ]
            if missing:
                undetermined.append({"trigger": "below_contract", "article": cite, "missing": missing})
    if profile.get("transfer.preempt_before_full_production", False):
        cite = profile.cite("transfer.preempt_before_full_production")
        full = _as_date(_get(parcel, "agreed_full_production_on"))
        if full is None:
            undetermined.append(
                {
                    "trigger": "before_full_production",
                    "article": cite,
                    "missing": ["agreed_full_production_on"],
                }
            )
        elif day < full:
            preemption.append(
                {
                    "trigger": "before_full_production",
                    "article": cite,
                    "detail": f"约定达产日期 {full.isoformat()} 之前转让：政府必须行使优先收购权",
                    "detail_en": f"sold before the agreed full production {full.isoformat()}: the government "
                    "must pre-empt",
                }
            )
    grades = list(profile.get("transfer.preempt_seller_grades", []))
    if grades:
        cite = profile.cite("transfer.preempt_seller_grades")
        if seller_grade_last_year is None:
            undetermined.append(
                {"trigger": "seller_grade", "article": cite, "missing": ["seller_grade_last_year"]}
            )
        elif str(seller_grade_last_year).strip().upper() in grades:
            g = str(seller_grade_last_year).strip().upper()
            preemption.append(
                {
                    "trigger": "seller_grade",
                    "article": cite,
                    "detail": f"转让方上年亩均论英雄评价为 {g} 类：政府必须行使优先收购权",
                    "detail_en": f"the seller was rated {g} last year: the government must pre-empt",
                }
            )

    # ---- the tax to make up before the transfer (YW §13)
    make_up, make_up_cite = _param(profile, "transfer.make_up_tax_before_transfer")
    tax_to_make_up: dict[str, Any] | None = None
    if make_up:
        full = _as_date(_get(parcel, "agreed_full_production_on"))
        missing = [
            k
            for k, v in (
                ("agreed_full_production_on", full),
                ("committed_tax_per_mu", committed_tax),
                ("tax", parcel_tax),
            )
            if v is None
        ]
        if missing:
            undetermined.append({"trigger": "tax_to_make_up", "article": make_up_cite, "missing": missing})
        elif full is not None and day >= full:  # the assessment period has begun (full is known: not missing)
            assert committed_tax is not None and parcel_tax is not None and tax_pm is not None
            owed = committed_tax * area
            short = max(0.0, owed - parcel_tax)
            tax_to_make_up = {
                "parcel_tax_wan": parcel_tax,
                "committed_tax_wan": owed,
                "shortfall_wan": short,
                "article": make_up_cite,
                "detail": (
                    f"{tax_basis_zh}，宗地税收 {parcel_tax:,.2f} 万元，约定 {committed_tax:,.2f} 万元/亩 × {area:,.2f} 亩 = "  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
                    f"{owed:,.2f} 万元"
                    + (f"，须先补足差额违约金 {short:,.2f} 万元" if short > 0 else "，已达约定")
                ),
                "detail_en": (
                    f"{tax_basis_en}: the parcel's tax {parcel_tax:,.2f} 万元 against {committed_tax:,.2f} × {area:,.2f} 亩 "  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
                    f"= {owed:,.2f} 万元"
                    + (f"; {short:,.2f} 万元 to make up first" if short > 0 else "; met")
                ),
            }
    return {
        "as_of": day.isoformat(),
        "policy": profile.name,
        "tax_standard": tax_standard,
        "preemption": preemption,
        "preemption_required": bool(preemption),
        "undetermined": undetermined,
        "tax_to_make_up": tax_to_make_up,
    }


def mortgage_cap(
    *, accepted: bool, sale_price_wan: float | None, standard_land_price_wan: float | None, profile: Profile
) -> dict[str, Any]:
    """The most a parcel may be mortgaged for (WZ §14).

    Before full-production acceptance the sale price, after it the standard land price (标定地价), as the
    profile's ``mortgage.*`` say.

    Examples
    --------
    >>> from zoning.policy import get_profile
    >>> mortgage_cap(accepted=False, sale_price_wan=800.0, standard_land_price_wan=1000.0,
    ...              profile=get_profile("wenzhou-2020"))["cap_wan"]
    800.0
    >>> mortgage_cap(accepted=True, sale_price_wan=800.0, standard_land_price_wan=1000.0,
    ...              profile=get_profile("wenzhou-2020"))["basis"]
    'standard_land_price'
    """
    key = "mortgage.after_acceptance" if accepted else "mortgage.before_acceptance"
    basis = profile.value(key)
    prices = {
        "sale_price": (sale_price_wan, "本地块出让价格", "the parcel's sale price"),
        "standard_land_price": (standard_land_price_wan, "标定地价", "the standard land price"),
    }
    if basis not in prices:
        raise ValueError(
            f"政策配置 {key} 的取值 {basis!r} 不是 sale_price 或 standard_land_price / {key} must be "
            "sale_price or standard_land_price"
        )
    value, zh, en = prices[basis]
    if value is None or not value >= 0:
        raise ValueError(f"须给出{zh}（{profile.cite(key)}） / {en} is needed ({profile.cite(key)})")
    stage_zh, stage_en = (
        ("达产验收通过后", "after full-production acceptance")
        if accepted
        else ("达产验收通过前", "before full-production acceptance")
    )
    return {
        "cap_wan": float(value),
        "basis": basis,
        "article": profile.cite(key),
        "detail": f"{stage_zh}，抵押价格不得高于{zh} {float(value):,.2f} 万元",
        "detail_en": f"{stage_en}, a mortgage may not exceed {en}, {float(value):,.2f} 万元",
    }
