"""Supply contracts (供地合同): when each parcel was signed and delivered, what its holder committed to, and by when.

A park fills up over the years, its earlier blocks first; the commitments (investment, tax and output per 亩,
plot ratio) are those of its era, with a few major projects (重大项目) of 10 亿 and 20 亿 on the larger new
parcels. The deadlines follow each county's contract terms: by default Wenzhou's (WZ §6: start within 3
months of delivery, then a build period by the planned investment); a county may carry its own
(``start_months``, ``completion_months``, ``major_lease_years``: 义乌's YW §5).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from blockline.demo._arrays import DAY, BoolArray, DateArray, FloatArray, IntArray
from blockline.demo.ground import Ground

__all__ = ["Contracts", "Supply", "contract_terms", "draw_contracts", "supply_dates"]

_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Supply:
    """When each parcel was signed (supplied) and delivered."""

    signed: DateArray
    supply_year: IntArray
    delivered: DateArray


@dataclass(frozen=True)
class Contracts:
    """What each parcel's contract commits its holder to, and the contract's deadlines (by parcel)."""

    committed_tax: FloatArray  # 万元/亩
    committed_output: FloatArray  # 万元/亩
    committed_investment: FloatArray  # 万元/亩
    planned: FloatArray  # 万元
    lease: IntArray  # years
    min_far: FloatArray
    build_days: IntArray
    agreed_start: DateArray
    agreed_completion: DateArray
    agreed_operation: DateArray
    agreed_full: DateArray


def contract_terms(counties: gpd.GeoDataFrame) -> dict[str, IntArray]:
    """Each county's contract terms, in days from delivery and years.

    The optional columns ``start_months`` (default 3, WZ §6), ``completion_months`` (from delivery; default
    0: a build period by the planned investment after the start, WZ §6) and ``major_lease_years`` (default
    50). A city with other rules (YW §5 for 义乌: 12, 36, 40) passes its own.
    """
    n = len(counties)

    def column(name: str, default: float) -> FloatArray:
        if name not in counties.columns:
            return np.full(n, default)
        return pd.to_numeric(counties[name], errors="coerce").fillna(default).to_numpy(dtype=float)

    return {
        "start_days": np.round(column("start_months", 3) * _DAYS_PER_MONTH).astype(np.int64),
        "completion_days": np.round(column("completion_months", 0) * _DAYS_PER_MONTH).astype(np.int64),
        "major_lease_years": column("major_lease_years", 50).astype(np.int64),
    }


def _days(d: datetime.date) -> np.datetime64:
    return np.datetime64(d, "D")


def supply_dates(
    rng: np.random.Generator, ground: Ground, *, old_park: BoolArray, as_of: datetime.date
) -> Supply:
    """Signing and delivery dates: old parks 21–11 years before ``as_of``, new ones the last 8 years."""
    year = as_of.year
    n, sizes, park_of = ground.n, ground.sizes, ground.park_of
    n_parks = sizes.size
    as_of_d = _days(as_of)
    old_start = _days(datetime.date(year - 21, 1, 1))
    old_end = _days(datetime.date(year - 11, 12, 31))
    new_start = _days(datetime.date(year - 8, 1, 1))
    new_end = min(as_of_d - 75, _days(datetime.date(year - 1, 12, 31)))
    # a park fills up over the years: earlier blocks first, with some noise
    rank = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    frac = rank / np.repeat(np.maximum(sizes - 1, 1), sizes)
    lo = np.where(old_park[park_of], old_start, new_start).astype("datetime64[D]")
    hi = np.where(old_park[park_of], old_end, new_end).astype("datetime64[D]")
    span = (hi - lo) / DAY
    park_begin = rng.uniform(0.0, 0.45, n_parks)[park_of]
    park_span = rng.uniform(0.3, 0.55, n_parks)[park_of]
    pos = np.clip(park_begin + frac * park_span + rng.normal(0.0, 0.08, n), 0.0, 1.0)
    signed = lo + np.round(pos * span).astype(np.int64) * DAY
    supply_year = signed.astype("datetime64[Y]").astype(np.int64) + 1970
    delivered = signed + rng.integers(15, 120, n) * DAY
    return Supply(signed=signed, supply_year=supply_year, delivered=delivered)


def draw_contracts(
    rng: np.random.Generator,
    *,
    area_mu: FloatArray,
    county_of: IntArray,
    new_era: BoolArray,
    industrial: BoolArray,
    category: IntArray,
    delivered: DateArray,
    terms: dict[str, IntArray],
) -> Contracts:
    """Each parcel's commitments and deadlines, by its era, its land use and its county's terms."""
    n = area_mu.size
    c_tax = np.where(new_era, rng.uniform(15.0, 60.0, n), rng.uniform(15.0, 40.0, n)).round(1)
    c_output = (c_tax * rng.uniform(10.0, 22.0, n)).round(1)
    c_invest = np.where(new_era, rng.uniform(250.0, 600.0, n), rng.uniform(150.0, 350.0, n)).round(1)
    planned = (c_invest * area_mu).round(0)
    # major projects (重大项目): 10 亿 and 20 亿 and more, on the larger new parcels
    candidates = np.flatnonzero(industrial & new_era & (area_mu >= 40.0))
    n_major = min(candidates.size, max(2, round(0.015 * n)))
    major = np.zeros(n, dtype=bool)
    if n_major:
        picked = np.sort(rng.choice(candidates, size=n_major, replace=False))
        major[picked] = True
        big = np.arange(n_major) % 2 == 0
        planned[picked] = np.where(
            big, rng.uniform(200_000.0, 320_000.0, n_major), rng.uniform(100_000.0, 190_000.0, n_major)
        ).round(0)
        c_invest[picked] = (planned[picked] / area_mu[picked]).round(1)
        c_tax[picked] = rng.uniform(40.0, 80.0, n_major).round(1)
    lease = np.where(major, np.where(rng.random(n) < 0.5, terms["major_lease_years"][county_of], 30), 20)
    lease = np.where(~new_era & ~major & (rng.random(n) < 0.12), 50, lease).astype(np.int64)
    min_far = np.where(category == 3, rng.uniform(1.0, 1.5, n), rng.uniform(1.0, 2.0, n)).round(1)

    build_days = np.where(planned > 200_000, 1095, np.where(planned >= 100_000, 913, 730))
    start_days = terms["start_days"][county_of]
    agreed_start = delivered + start_days * DAY  # WZ §6: start within 3 months of delivery (YW §5: 1 year)
    # YW §5: completion within 3 years of delivery, whatever the investment; WZ §6: a build period after the start
    completion_days = terms["completion_days"][county_of]
    build_days = np.where(completion_days > 0, completion_days - start_days, build_days)
    agreed_completion = agreed_start + build_days * DAY
    agreed_operation = agreed_completion + 182 * DAY
    agreed_full = agreed_operation + rng.choice([365, 730, 730, 1095], n) * DAY
    return Contracts(
        committed_tax=c_tax,
        committed_output=c_output,
        committed_investment=c_invest,
        planned=planned,
        lease=lease,
        min_far=min_far,
        build_days=build_days,
        agreed_start=agreed_start,
        agreed_completion=agreed_completion,
        agreed_operation=agreed_operation,
        agreed_full=agreed_full,
    )
