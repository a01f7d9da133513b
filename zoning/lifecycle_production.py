"""Full production under the lifecycle rules: the acceptance (达产验收, WZ §10) and the tax review (YW §11).

``write_production`` adds to a ``zoning.rows.Rows`` the insufficient-data rows of parcels without an agreed
full-production date, then the acceptance's ``termination_possible`` rows (under a profile with
``acceptance.*``), then the tax shortfalls: at the acceptance when the profile has no review cycle, else per
review cycle (``tax_shortfall`` or ``termination_possible``). The rules are told in ``zoning.lifecycle``.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> from zoning.lifecycle import NEEDED
>>> from zoning.parcel_arrays import prepare
>>> from zoning.policy import get_profile
>>> from zoning.rows import Rows
>>> row = {c: None for c in NEEDED} | {"parcel_no": "A-1", "area_mu": 15.0, "tax": 300.0, "output": 9000.0,
...        "committed_tax_per_mu": 30.0, "committed_output_per_mu": 500.0,
...        "agreed_full_production_on": dt.date(2024, 6, 30)}
>>> p = prepare(pd.DataFrame([row]), as_of=dt.date(2026, 11, 22), needed=NEEDED)
>>> rows = Rows(p)
>>> write_production(rows, p, get_profile("wenzhou-2020"), None)
>>> rows.frame()[["category", "penalty_wan"]].values.tolist()
[['tax_shortfall', 150.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from zoning.dates import Days, add_months, months_between
from zoning.findings import RELATIVE_EPS, SHARE_EPS, at_least, at_most
from zoning.parcel_arrays import Parcels, missing_fields
from zoning.policy import Profile
from zoning.rows import Rows, records
from zoning.wording import fields_en, fields_zh, iso, number_pair, pct_pair, per_mu_below, share_of_committed

__all__ = ["write_production"]

Index = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def _below(a: Floats, b: Floats | float) -> Mask:
    """A < b beyond rounding (False where either is NaN): 低于约定 of a figure per 亩."""
    return at_most(a, b, includes=False, eps=RELATIVE_EPS * np.abs(b))


def _share_under(share: Floats, profile: Profile, key: str) -> Mask:
    """The share is 不足 (or, by the profile's word, at most) the threshold of ``key``."""
    return at_most(share, float(profile.value(key)), includes=profile.includes(key), eps=SHARE_EPS)


def _share(actual: Floats, committed: Floats) -> Floats:
    with np.errstate(all="ignore"):
        return np.where(committed > 0, actual / committed, np.where(committed == 0, np.inf, np.nan))


@dataclass
class _Figures:
    """The figures per 亩 of every parcel against its commitments, at full production."""

    due: Mask  # in scope, and the agreed full-production date has come
    full: Days
    out_pm: Floats
    tax_pm: Floats
    c_out: Floats
    c_tax: Floats  # the committed tax per 亩, or the standard that stands in for it (``assumed``)
    out_share: Floats
    tax_share: Floats
    assumed: Mask
    fallback_zh: str
    fallback_en: str

    def note(self, idx: Index) -> tuple[list[str], list[str]]:
        """Where the committed tax was assumed, the note that says so, in Chinese and English."""
        a = self.assumed[idx].tolist()
        return [f"（{self.fallback_zh}）" if v else "" for v in a], [
            f" ({self.fallback_en})" if v else "" for v in a
        ]


def _fallback(profile: Profile, city_standard: float | None) -> tuple[float, str, str]:
    """The tax per 亩 that stands in for a missing commitment (YW §10, else the city's), and its note."""
    existing_min = float(profile.get("existing.min_tax_per_mu_wan", 0.0))
    if existing_min > 0:
        art = profile.article("existing.min_tax_per_mu_wan")
        return (
            existing_min,
            f"合同未载约定亩均税收，按存量纳管标准 {existing_min:g} 万元/亩（{art}）",
            f"no committed tax per mu on record: the existing-land standard {existing_min:g} 万元/亩 ({art})",
        )
    if city_standard is not None:
        return (
            float(city_standard),
            f"合同未载约定亩均税收，按全市亩均税收标准 {city_standard:g} 万元/亩",
            f"no committed tax per mu on record: the city's standard {city_standard:g} 万元/亩",
        )
    return np.nan, "", ""


def _figures(p: Parcels, profile: Profile, city_standard: float | None) -> _Figures:
    x, full = p.num, p.date["agreed_full_production_on"]
    with np.errstate(all="ignore"):
        tax_pm, out_pm = x["tax"] / p.area_mu, x["output"] / p.area_mu
    given = x["committed_tax_per_mu"]
    fallback, fb_zh, fb_en = _fallback(profile, city_standard)
    c_tax = np.where(np.isnan(given), fallback, given)
    c_out = x["committed_output_per_mu"]
    return _Figures(
        due=p.scope & ~np.isnat(full) & (p.as_of >= full),
        full=full,
        out_pm=out_pm,
        tax_pm=tax_pm,
        c_out=c_out,
        c_tax=c_tax,
        out_share=_share(out_pm, c_out),
        tax_share=_share(tax_pm, c_tax),
        assumed=np.isnan(given) & ~np.isnan(c_tax),
        fallback_zh=fb_zh,
        fallback_en=fb_en,
    )


def write_production(rows: Rows, p: Parcels, profile: Profile, city_standard: float | None) -> None:
    """Add the full-production findings (acceptance, tax shortfall, review) of the parcels ``p`` to ``rows``."""
    f = _figures(p, profile, city_standard)
    full_key = next(
        (k for k in ("acceptance.min_output_share", "review.pay_difference_from_share") if profile.has(k)),
        "evaluation.warn_days",
    )
    rows.insufficient(
        profile.cite(full_key),
        np.flatnonzero(p.scope & np.isnat(f.full)),
        rule="full_production",
        missing=["agreed_full_production_on"],
        detail="无约定达产日期，无法判断达产验收、税收考核与绩效评估",
        detail_en="no agreed full-production date: cannot judge acceptance, tax reviews or evaluations",
    )
    if profile.has("acceptance.min_output_share") and profile.has("acceptance.min_tax_share"):
        _acceptance(rows, p, profile, f)
    cycle = int(profile.get("review.cycle_years", 0))
    if cycle > 0:
        _review(rows, p, profile, f, cycle)
    elif profile.has("acceptance.min_tax_share"):
        _shortfall_at_acceptance(rows, p, profile, f)
    # neither a review nor an acceptance: the profile's text charges no tax shortfall


# ======================================================================================================
# acceptance (WZ §10)
# ======================================================================================================


def _acceptance(rows: Rows, p: Parcels, profile: Profile, f: _Figures) -> None:
    """Full-production acceptance: output or tax 不足 its share → ``termination_possible``."""
    out_fail = f.due & _share_under(f.out_share, profile, "acceptance.min_output_share")
    tax_fail = f.due & _share_under(f.tax_share, profile, "acceptance.min_tax_share")
    for idx, key in (
        (np.flatnonzero(out_fail), "acceptance.min_output_share"),
        (np.flatnonzero(tax_fail & ~out_fail), "acceptance.min_tax_share"),
    ):
        if idx.size:
            _acceptance_rows(
                rows, profile, f, idx, key, fails=(out_fail[idx].tolist(), tax_fail[idx].tolist())
            )
    unknown = f.due & ~(out_fail | tax_fail) & (np.isnan(f.out_share) | np.isnan(f.tax_share))
    idx = np.flatnonzero(unknown)
    if idx.size == 0:
        return
    flags = {
        "output": np.isnan(p.num["output"]),
        "committed_output_per_mu": np.isnan(f.c_out),
        "tax": np.isnan(p.num["tax"]),
        "committed_tax_per_mu": np.isnan(f.c_tax),
        "area_mu": np.isnan(p.area_mu),
    }
    miss = missing_fields(flags, idx)
    fs = iso(f.full[idx])
    rows.insufficient(
        profile.cite("acceptance.min_output_share"),
        idx,
        rule="acceptance",
        missing=miss,
        detail=[
            f"约定达产日期 {a} 已到，但缺{fields_zh(m)}，无法判断达产验收"
            for a, m in zip(fs, miss, strict=False)
        ],
        detail_en=[
            f"agreed full production {a} reached, but no {fields_en(m)}: cannot judge the acceptance"
            for a, m in zip(fs, miss, strict=False)
        ],
    )


def _failed_share(
    label: tuple[str, str],
    key: str,
    profile: Profile,
    figures: tuple[Floats, Floats, Floats],
    failed: list[bool],
) -> list[tuple[str, str]]:
    """For each row, the share of the commitment that failed the acceptance, or ("", "") when it did not."""
    word, threshold = str(profile.boundary(key)), profile.value(key)
    return [
        share_of_committed(label, a, c, pct_pair(q, threshold), word_zh=word, word_en=word)
        if on
        else ("", "")
        for on, a, c, q in zip(failed, *(x.tolist() for x in figures), strict=False)
    ]


def _acceptance_rows(
    rows: Rows, profile: Profile, f: _Figures, idx: Index, key: str, *, fails: tuple[list[bool], list[bool]]
) -> None:
    out = _failed_share(
        ("亩均产值", "output"),
        "acceptance.min_output_share",
        profile,
        (f.out_pm[idx], f.c_out[idx], f.out_share[idx]),
        fails[0],
    )
    tax = _failed_share(
        ("亩均税收", "tax"),
        "acceptance.min_tax_share",
        profile,
        (f.tax_pm[idx], f.c_tax[idx], f.tax_share[idx]),
        fails[1],
    )
    nz_, ne_ = f.note(idx)
    fs = iso(f.full[idx])
    det = [
        f"约定达产日期 {d_} 已到：{a}{'；' if a and b else ''}{b}{n if b else ''}："
        "可按约定终止出让合同，按原出让价格（市场价更低时按市场价）收购土地"
        for d_, (a, _), (b, _), n in zip(fs, out, tax, nz_, strict=False)
    ]
    det_en = [
        f"agreed full production {d_} reached: {a}{'; ' if a and b else ''}{b}{n if b else ''}: the contract may be "
        "ended and the land bought back at the original price (the market price if lower)"
        for d_, (_, a), (_, b), n in zip(fs, out, tax, ne_, strict=False)
    ]
    rows.add(
        "termination_possible",
        profile.cite(key),
        idx,
        since=f.full[idx],
        detail=det,
        detail_en=det_en,
        figures=records(
            {
                "agreed_full_production_on": f.full[idx],
                "output_per_mu_wan": f.out_pm[idx],
                "committed_output_per_mu_wan": f.c_out[idx],
                "output_share": f.out_share[idx],
                "tax_per_mu_wan": f.tax_pm[idx],
                "committed_tax_per_mu_wan": f.c_tax[idx],
                "tax_share": f.tax_share[idx],
                "min_output_share": float(profile.value("acceptance.min_output_share")),
                "min_tax_share": float(profile.value("acceptance.min_tax_share")),
                "committed_tax_assumed": f.assumed[idx],
            },
            idx.size,
        ),
    )


# ======================================================================================================
# the tax shortfall: at the acceptance, or per review cycle (YW §11)
# ======================================================================================================


def _shortfall_at_acceptance(rows: Rows, p: Parcels, profile: Profile, f: _Figures) -> None:
    idx = np.flatnonzero(f.due & _below(f.tax_pm, f.c_tax))
    fs = iso(f.full[idx])
    _shortfall_rows(
        rows,
        idx,
        profile.cite("acceptance.min_tax_share"),
        f,
        since=f.full[idx],
        heads=([f"约定达产日期 {a} 已到" for a in fs], [f"agreed full production {a} reached" for a in fs]),
        area=p.area_mu[idx],
        extra={"agreed_full_production_on": f.full[idx], "committed_tax_assumed": f.assumed[idx]},
    )


@dataclass
class _Cycles:
    """Each parcel's last ended review cycle: its number ``k`` (0: none yet), start and end."""

    k: npt.NDArray[np.int64]
    start: Days
    end: Days

    def head(self, idx: Index) -> tuple[list[str], list[str]]:
        ks, ss, es = self.k[idx].tolist(), iso(self.start[idx]), iso(self.end[idx])
        return (
            [f"第{a}个考核周期（{b} 至 {c}）期满" for a, b, c in zip(ks, ss, es, strict=False)],
            [f"review cycle {a} ({b} to {c}) ended" for a, b, c in zip(ks, ss, es, strict=False)],
        )

    def figures(self, idx: Index) -> dict[str, Any]:
        return {
            "review_cycle": self.k[idx].astype(np.float64),
            "cycle_start_on": self.start[idx],
            "cycle_end_on": self.end[idx],
        }


def _review(rows: Rows, p: Parcels, profile: Profile, f: _Figures, cycle: int) -> None:
    months = 12 * cycle
    k = months_between(f.full, np.full(p.n, p.as_of)) // months
    cy = _Cycles(k=k, start=add_months(f.full, (k - 1) * months), end=add_months(f.full, k * months))
    in_review = f.due & (k >= 1)
    pay_from = float(profile.value("review.pay_difference_from_share"))
    cite = profile.cite("review.pay_difference_from_share")
    # 达到约定标准 (1.0 included) continues; 不低于 50 % (included) pays the difference; 未达到 50 % may end
    term = in_review & ~at_least(
        f.tax_share, pay_from, includes=profile.includes("review.pay_difference_from_share")
    )
    pay = in_review & ~term & ~at_least(f.tax_share, 1.0, includes=True) & ~np.isnan(f.tax_share)
    term &= ~np.isnan(f.tax_share)
    whole = (
        profile.has("review.difference_basis") and profile.value("review.difference_basis") == "whole_cycle"
    )
    years_charged = cycle if whole else 1
    idx = np.flatnonzero(pay)
    _shortfall_rows(
        rows,
        idx,
        cite,
        f,
        since=cy.end[idx],
        heads=cy.head(idx),
        area=p.area_mu[idx],
        tails=(
            f"，不低于约定的 {pay_from:.0%}，按实际差额支付违约金并继续履约",
            f", not under {pay_from:.0%} of it: the difference is paid and the contract continues",
        ),
        years=years_charged,
        extra=cy.figures(idx) | {"tax_share": f.tax_share[idx], "committed_tax_assumed": f.assumed[idx]},
    )
    _review_termination(rows, cite, f, cy, np.flatnonzero(term), pay_from)
    _review_unknown(rows, p, cite, f, cy, np.flatnonzero(in_review & np.isnan(f.tax_share)))


def _review_termination(rows: Rows, cite: str, f: _Figures, cy: _Cycles, idx: Index, pay_from: float) -> None:
    if idx.size == 0:
        return
    hz, he = cy.head(idx)
    nz_, ne_ = f.note(idx)
    said = [
        share_of_committed(("亩均税收", "tax"), a, c, pct_pair(q, pay_from), word_zh="未达到", word_en=None)
        for a, c, q in zip(
            f.tax_pm[idx].tolist(), f.c_tax[idx].tolist(), f.tax_share[idx].tolist(), strict=False
        )
    ]
    rows.add(
        "termination_possible",
        cite,
        idx,
        since=cy.end[idx],
        detail=[f"{h}，{s}{n}：可解除出让合同" for h, (s, _), n in zip(hz, said, nz_, strict=False)],
        detail_en=[
            f"{h}: {s}{n}: the land contract may be ended"
            for h, (_, s), n in zip(he, said, ne_, strict=False)
        ],
        figures=records(
            cy.figures(idx)
            | {
                "tax_per_mu_wan": f.tax_pm[idx],
                "committed_tax_per_mu_wan": f.c_tax[idx],
                "tax_share": f.tax_share[idx],
                "pay_difference_from_share": pay_from,
                "committed_tax_assumed": f.assumed[idx],
            },
            idx.size,
        ),
    )


def _review_unknown(rows: Rows, p: Parcels, cite: str, f: _Figures, cy: _Cycles, idx: Index) -> None:
    if idx.size == 0:
        return
    hz, he = cy.head(idx)
    flags = {
        "tax": np.isnan(p.num["tax"]),
        "committed_tax_per_mu": np.isnan(f.c_tax),
        "area_mu": np.isnan(p.area_mu),
    }
    miss = missing_fields(flags, idx)
    rows.insufficient(
        cite,
        idx,
        rule="review",
        missing=miss,
        detail=[f"{h}，但缺{fields_zh(m)}，无法进行亩均税收考核" for h, m in zip(hz, miss, strict=False)],
        detail_en=[
            f"{h}, but no {fields_en(m)}: cannot review the tax per mu"
            for h, m in zip(he, miss, strict=False)
        ],
    )


def _shortfall_rows(
    rows: Rows,
    idx: Index,
    cite: str,
    f: _Figures,
    *,
    since: Days,
    heads: tuple[list[str], list[str]],
    area: Floats,
    extra: dict[str, Any],
    tails: tuple[str, str] = ("", ""),
    years: int = 1,
) -> None:
    """``tax_shortfall`` rows: penalty = (committed − actual tax per 亩) × area × the years charged."""
    if idx.size == 0:
        return
    tax_pm, c_tax = f.tax_pm[idx], f.c_tax[idx]
    penalty = (c_tax - tax_pm) * area * years
    tp, tc, ar, pen = tax_pm.tolist(), c_tax.tolist(), area.tolist(), penalty.tolist()
    said = [per_mu_below("亩均税收", "tax", a, c) for a, c in zip(tp, tc, strict=False)]
    pairs = [number_pair(a, c) for a, c in zip(tp, tc, strict=False)]
    yz, ye = (f" × {years} 年", f" × {years} years") if years > 1 else ("", "")
    nz_, ne_ = f.note(idx)
    rows.add(
        "tax_shortfall",
        cite,
        idx,
        since=since,
        detail=[
            f"{h}，{s}{n}{tails[0]}：违约金 =（{c} − {a}）× {m:,.2f} 亩{yz} = {v:,.2f} 万元"
            for h, (s, _), (a, c), m, v, n in zip(heads[0], said, pairs, ar, pen, nz_, strict=False)
        ],
        detail_en=[
            f"{h}: {s}{n}{tails[1]}; penalty = ({c} − {a}) × {m:,.2f} 亩{ye} = {v:,.2f} 万元"
            for h, (_, s), (a, c), m, v, n in zip(heads[1], said, pairs, ar, pen, ne_, strict=False)
        ],
        figures=records(
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
