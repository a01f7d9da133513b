"""Calculators of the lifecycle rules, for one parcel or one transaction.

The lease's price correction, the capped bid price, a parcel's share of its enterprise's tax, the mortgage
cap and what a transfer requires. Each returns its answer with the article it applies; a missing input the
rule needs is refused (a ``ValueError`` that names the article) or, for a transfer's triggers, listed as
``undetermined``.

Examples
--------
>>> from zoning.policy import get_profile
>>> lease_price_correction(20, profile=get_profile("wenzhou-2020"))
0.4
>>> bid_price_cap(1000.0, profile=get_profile("wenzhou-2020"))
1200.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zoning.dates import as_of_date
from zoning.parcel_arrays import param
from zoning.policy import Profile

__all__ = [
    "bid_price_cap",
    "lease_price_correction",
    "mortgage_cap",
    "parcel_tax_share_wan",
    "transfer_requirements",
]

_EPS = 1e-9  # a parcel's area against its enterprise's, beyond rounding


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
    >>> lease_price_correction(30, profile=get_profile("yiwu"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: 出让年限 30 年超过一般项目最高 20 年（yiwu YW §5） / a lease of 30 years exceeds the maximum of
    20 years for an ordinary project (yiwu YW §5)
    """
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


def transfer_requirements(
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
    t = _TransferTax.of(parcel, enterprise_tax_wan, enterprise_total_mu)
    undetermined: list[dict[str, Any]] = []
    preemption = [
        x
        for x in (
            _preempt_below_contract(parcel, profile, t, undetermined),
            _preempt_before_full_production(parcel, profile, day, undetermined),
            _preempt_seller_grade(profile, seller_grade_last_year, undetermined),
        )
        if x is not None
    ]
    return {
        "as_of": day.isoformat(),
        "policy": profile.name,
        "tax_standard": _tax_standard(profile, t, city_average_tax_per_mu_wan, city_standard_tax_per_mu_wan),
        "preemption": preemption,
        "preemption_required": bool(preemption),
        "undetermined": undetermined,
        "tax_to_make_up": _tax_to_make_up(parcel, profile, day, t, undetermined),
    }


@dataclass
class _TransferTax:
    """The parcel's area, its yearly tax (its own, or its share of its enterprise's) and its commitment."""

    area: float
    tax: float | None
    committed: float | None
    basis_zh: str
    basis_en: str

    @property
    def per_mu(self) -> float | None:
        return None if self.tax is None else self.tax / self.area

    @classmethod
    def of(
        cls,
        parcel: Mapping[str, Any] | pd.Series,
        enterprise_tax_wan: float | None,
        enterprise_total_mu: float | None,
    ) -> _TransferTax:
        given_area = _get(parcel, "area_mu")
        if given_area is None or not float(given_area) > 0:
            raise ValueError(
                "宗地面积（area_mu）缺失或不大于 0 / the parcel's area_mu is missing or not more than 0"
            )
        area = float(given_area)
        committed = _get(parcel, "committed_tax_per_mu")
        committed = None if committed is None else float(committed)
        if enterprise_tax_wan is None:
            given = _get(parcel, "tax")
            tax = None if given is None else float(given)
            return cls(area, tax, committed, "宗地年度税收", "the parcel's yearly tax")
        if enterprise_total_mu is None:
            raise ValueError(
                "给出企业税收时须同时给出企业总用地面积 / enterprise_tax_wan needs enterprise_total_mu"
            )
        tax = parcel_tax_share_wan(
            enterprise_tax_wan, parcel_mu=area, enterprise_total_mu=enterprise_total_mu
        )
        share = f"{enterprise_tax_wan:,.2f} 万元 × {area:,.2f}/{enterprise_total_mu:,.2f} 亩"
        return cls(area, tax, committed, f"按企业实缴税收 {share}折算", f"the enterprise's tax {share}")


def _tax_standard(
    profile: Profile, t: _TransferTax, city_average: float | None, city_standard: float | None
) -> dict[str, Any] | None:
    """The tax per 亩 the buyer must sign (YW §14), or None when the profile sets none."""
    min_tax = float(profile.get("transfer.min_tax_per_mu_wan", 0.0))
    mult = float(profile.get("transfer.city_standard_multiplier", 0.0))
    if not (min_tax > 0 or mult > 0):
        return None
    standard, key = min_tax, "transfer.min_tax_per_mu_wan"
    zh, en = f"亩均税收约定不低于 {min_tax:g} 万元/亩", f"a tax per mu of at least {min_tax:g} 万元"
    if mult > 0:
        cite = profile.cite("transfer.city_standard_multiplier")
        if city_average is None:
            raise ValueError(
                f"须给出全市平均亩均税收（{cite}） / city_average_tax_per_mu_wan is needed under this profile"
            )
        if city_average > min_tax:
            if city_standard is None:
                raise ValueError(
                    f"全市平均亩均税收已超过 {min_tax:g} 万元，须给出当年发布的亩均税收标准（{cite}） / "
                    "city_standard_tax_per_mu_wan is needed when the city average exceeds the minimum"
                )
            raised = mult * float(city_standard)
            if raised > standard:
                standard, key = raised, "transfer.city_standard_multiplier"
            zh = (
                f"全市平均亩均税收 {city_average:g} 万元/亩 已超过 {min_tax:g} 万元："
                f"亩均税收约定不低于当年标准 {city_standard:g} 万元/亩 的 {mult:g} 倍，且不低于 {min_tax:g} 万元/亩，"
                f"即 {standard:g} 万元/亩"
            )
            en = (
                f"the city's average tax per mu {city_average:g} 万元 exceeds {min_tax:g}: at least "
                f"{mult:g} × the year's standard {city_standard:g} 万元, and at least {min_tax:g}, "
                f"i.e. {standard:g} 万元 per mu"
            )
    return {
        "min_tax_per_mu_wan": standard,
        "article": profile.cite(key),
        "detail": zh,
        "detail_en": en,
        "original_committed_tax_per_mu_wan": t.committed,
    }


def _preempt_below_contract(
    parcel: Mapping[str, Any] | pd.Series,
    profile: Profile,
    t: _TransferTax,
    undetermined: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """WZ §14: investment or tax per 亩 below the contract → the government must pre-empt."""
    if not profile.get("transfer.preempt_below_contract", False):
        return None
    cite = profile.cite("transfer.preempt_below_contract")
    inv, c_inv = _get(parcel, "investment"), _get(parcel, "committed_investment_per_mu")
    inv_pm, tax_pm = (None if inv is None else float(inv) / t.area), t.per_mu
    pz, pe = [], []
    if inv_pm is not None and c_inv is not None and inv_pm < float(c_inv):
        pz.append(f"亩均投资 {inv_pm:,.2f} 万元/亩低于约定 {float(c_inv):,.2f}")
        pe.append(f"investment {inv_pm:,.2f} 万元/亩 under the committed {float(c_inv):,.2f}")
    if tax_pm is not None and t.committed is not None and tax_pm < t.committed:
        pz.append(f"亩均税收 {tax_pm:,.2f} 万元/亩低于约定 {t.committed:,.2f}")
        pe.append(f"tax {tax_pm:,.2f} 万元/亩 under the committed {t.committed:,.2f}")
    if pz:
        return {
            "trigger": "below_contract",
            "article": cite,
            "detail": "；".join(pz) + "：政府必须行使优先收购权",
            "detail_en": "; ".join(pe) + ": the government must pre-empt",
        }
    fields = (
        ("investment", inv),
        ("committed_investment_per_mu", c_inv),
        ("tax", t.tax),
        ("committed_tax_per_mu", t.committed),
    )
    missing = [k for k, v in fields if v is None]
    if missing:
        undetermined.append({"trigger": "below_contract", "article": cite, "missing": missing})
    return None


def _preempt_before_full_production(
    parcel: Mapping[str, Any] | pd.Series, profile: Profile, day: dt.date, undetermined: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """WZ §14: sold before the agreed full production → the government must pre-empt."""
    if not profile.get("transfer.preempt_before_full_production", False):
        return None
    cite = profile.cite("transfer.preempt_before_full_production")
    full = _as_date(_get(parcel, "agreed_full_production_on"))
    if full is None:
        undetermined.append(
            {"trigger": "before_full_production", "article": cite, "missing": ["agreed_full_production_on"]}
        )
        return None
    if day >= full:
        return None
    return {
        "trigger": "before_full_production",
        "article": cite,
        "detail": f"约定达产日期 {full.isoformat()} 之前转让：政府必须行使优先收购权",
        "detail_en": f"sold before the agreed full production {full.isoformat()}: the government must pre-empt",
    }


def _preempt_seller_grade(
    profile: Profile, grade: str | None, undetermined: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """WZ §14: the seller rated C or D last year → the government must pre-empt."""
    grades = list(profile.get("transfer.preempt_seller_grades", []))
    if not grades:
        return None
    cite = profile.cite("transfer.preempt_seller_grades")
    if grade is None:
        undetermined.append(
            {"trigger": "seller_grade", "article": cite, "missing": ["seller_grade_last_year"]}
        )
        return None
    g = str(grade).strip().upper()
    if g not in grades:
        return None
    return {
        "trigger": "seller_grade",
        "article": cite,
        "detail": f"转让方上年亩均论英雄评价为 {g} 类：政府必须行使优先收购权",
        "detail_en": f"the seller was rated {g} last year: the government must pre-empt",
    }


def _tax_to_make_up(
    parcel: Mapping[str, Any] | pd.Series,
    profile: Profile,
    day: dt.date,
    t: _TransferTax,
    undetermined: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """YW §13: the tax difference to pay before the transfer, once the assessment period has begun."""
    make_up, cite = param(profile, "transfer.make_up_tax_before_transfer")
    if not make_up:
        return None
    full = _as_date(_get(parcel, "agreed_full_production_on"))
    fields = (("agreed_full_production_on", full), ("committed_tax_per_mu", t.committed), ("tax", t.tax))
    missing = [k for k, v in fields if v is None]
    if missing:
        undetermined.append({"trigger": "tax_to_make_up", "article": cite, "missing": missing})
        return None
    assert full is not None and t.committed is not None and t.tax is not None  # none is missing
    if day < full:
        return None
    owed = t.committed * t.area
    short = max(0.0, owed - t.tax)
    return {
        "parcel_tax_wan": t.tax,
        "committed_tax_wan": owed,
        "shortfall_wan": short,
        "article": cite,
        "detail": (
            f"{t.basis_zh}，宗地税收 {t.tax:,.2f} 万元，约定 {t.committed:,.2f} 万元/亩 × {t.area:,.2f} 亩 = "
            f"{owed:,.2f} 万元" + (f"，须先补足差额违约金 {short:,.2f} 万元" if short > 0 else "，已达约定")
        ),
        "detail_en": (
            f"{t.basis_en}: the parcel's tax {t.tax:,.2f} 万元 against {t.committed:,.2f} × {t.area:,.2f} 亩 "
            f"= {owed:,.2f} 万元" + (f"; {short:,.2f} 万元 to make up first" if short > 0 else "; met")
        ),
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
