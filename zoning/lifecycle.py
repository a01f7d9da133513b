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
    finished years (year < ``as_of``'s year), matched by ``parcel_no`` or by ``holder_id`` (the
    grade that counts by ``zoning.grades.grades_by_year``); the run must end at the latest rated year and its
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

The rules are ``zoning.lifecycle_production`` (acceptance and review) and ``zoning.lifecycle_terms`` (ratings,
evaluations, the lease); the calculators for one parcel or transaction (``lease_price_correction``,
``bid_price_cap``, ``parcel_tax_share_wan``, ``mortgage_cap``, ``transfer_requirements``) are
``zoning.calculators``, importable from here too.

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

import pandas as pd

from zoning.calculators import (
    bid_price_cap,
    lease_price_correction,
    mortgage_cap,
    parcel_tax_share_wan,
    transfer_requirements,
)
from zoning.lifecycle_production import write_production
from zoning.lifecycle_terms import write_evaluations_and_lease, write_ratings
from zoning.parcel_arrays import prepare
from zoning.policy import Profile
from zoning.rows import Rows

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


def lifecycle_findings(
    parcels: pd.DataFrame,
    ratings: pd.DataFrame | None,
    *,
    as_of: dt.date | str,
    profile: Profile,
    city_standard_tax_per_mu_wan: float | None = None,
) -> pd.DataFrame:
    r"""Contract-compliance findings for every parcel, at ``as_of``, under ``profile``.

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
    ...        "lease_years": 20, "delivered_on": dt.date(2020, 1, 1),
    ...        "agreed_full_production_on": dt.date(2021, 6, 30),
    ...        "tax": 300.0, "output": 9000.0, "committed_tax_per_mu": 30.0, "committed_output_per_mu": 500.0}
    >>> ratings = pd.DataFrame({"holder_id": ["H", "H"], "year": [2024, 2025], "grade": ["D", "D"]})
    >>> f = lifecycle_findings(pd.DataFrame([row]), ratings, as_of=dt.date(2026, 11, 22), profile=get_profile("yiwu"))
    >>> f[["category", "article", "penalty_wan"]].values.tolist()
    [['rating_termination_possible', 'yiwu YW §12', nan], ['tax_shortfall', 'yiwu YW §11', 450.0]]
    >>> print(f.loc[1, "detail"].replace("万元/亩，不低于", "万元/亩，\n不低于"))  # two lines here
    第1个考核周期（2021-06-30 至 2024-06-30）期满，亩均税收 20.00 万元/亩，低于约定 30.00 万元/亩，
    不低于约定的 50%，按实际差额支付违约金并继续履约：违约金 =（30.00 − 20.00）× 15.00 亩 × 3 年 = 450.00 万元
    """
    p = prepare(parcels, as_of=as_of, needed=NEEDED)
    rows = Rows(p)
    write_production(rows, p, profile, city_standard_tax_per_mu_wan)
    write_ratings(rows, p, ratings, profile)
    write_evaluations_and_lease(rows, p, profile)
    return rows.frame()
