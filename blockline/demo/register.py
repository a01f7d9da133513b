"""The parcel register (宗地): the canonical parcel fields of ``CLI.md``, one row per parcel.

Non-industrial land inside the parks has no industrial-land contract; a few records have dates missing (not
recorded), as a real register does. Parcel numbers run by county and supply year (330304-2019-0007).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from blockline.demo._arrays import NAT, BoolArray, DateArray, FloatArray, IntArray, StrArray
from blockline.demo.contracts import Contracts, Supply
from blockline.demo.ground import Ground
from blockline.demo.people import Holders
from blockline.demo.performance import Performance
from blockline.demo.situations import Events

__all__ = ["parcel_frame"]

_MISSING_DATES_SHARE = 0.015


def _recorded_dates(
    rng: np.random.Generator, *, delivered: DateArray, contracts: Contracts, industrial: BoolArray
) -> dict[str, DateArray]:
    """The contract dates as recorded: none for non-industrial land's operation, a few missing."""
    n = delivered.size
    agreed_start, agreed_completion = contracts.agreed_start, contracts.agreed_completion
    agreed_operation = np.where(industrial, contracts.agreed_operation, NAT)
    agreed_full = np.where(industrial, contracts.agreed_full, NAT)
    missing = rng.random(n) < _MISSING_DATES_SHARE
    if n >= 50 and not missing.any():
        missing[rng.integers(0, n)] = True
    kind = rng.integers(0, 3, n)
    return {
        "delivered_on": np.where(missing & (kind == 0), NAT, delivered),
        "agreed_start_on": np.where(missing & (kind == 1), NAT, agreed_start),
        "agreed_completion_on": np.where(missing & (kind == 1), NAT, agreed_completion),
        "agreed_operation_on": np.where(missing & (kind == 2), NAT, agreed_operation),
        "agreed_full_production_on": np.where(missing & (kind == 2), NAT, agreed_full),
    }


def _parcel_numbers(codes: StrArray, county_of: IntArray, supply: Supply) -> StrArray:
    """宗地编号: county code, supply year and a serial by signing date within them."""
    n = county_of.size
    supply_year = supply.supply_year
    order = np.lexsort((supply.signed, supply_year, county_of))
    key = county_of[order] * 10_000 + supply_year[order]
    group_start = np.concatenate([[True], key[1:] != key[:-1]])
    idx = np.arange(n)
    serial = np.empty(n, dtype=np.int64)
    serial[order] = idx - np.maximum.accumulate(np.where(group_start, idx, 0)) + 1
    parcel_no = (
        pd.Series(codes[county_of], dtype=str)
        + "-"
        + pd.Series(supply_year, dtype=np.int64).astype(str)
        + "-"
        + pd.Series(serial, dtype=np.int64).astype(str).str.zfill(4)
    )
    return parcel_no.to_numpy(dtype=str)


def _as_dates(values: DateArray) -> pd.Series:
    return pd.Series(values.astype("datetime64[D]").astype(object), dtype=object)


def _contracted(industrial: BoolArray, values: FloatArray) -> FloatArray:
    """``values`` where the land is industrial, NaN elsewhere (no industrial-land contract)."""
    return np.where(industrial, values, np.nan)


def parcel_frame(
    rng: np.random.Generator,
    ground: Ground,
    *,
    holders: Holders,
    supply: Supply,
    contracts: Contracts,
    events: Events,
    performance: Performance,
    codes: StrArray,
    crs: object,
) -> gpd.GeoDataFrame:
    """One row per parcel with the canonical parcel fields, in the counties' CRS."""
    industrial, c, p = holders.industrial, contracts, performance
    dates = _recorded_dates(rng, delivered=supply.delivered, contracts=c, industrial=industrial)
    holder_of = holders.holder_of
    return gpd.GeoDataFrame(
        {
            "parcel_no": _parcel_numbers(codes, ground.county_of, supply),
            "holder": holders.names[holder_of],
            "holder_id": holders.ids[holder_of],
            "land_use": holders.land_use,
            "county_code": codes[ground.county_of],
            "delivered_on": _as_dates(dates["delivered_on"]),
            "agreed_start_on": _as_dates(dates["agreed_start_on"]),
            "started_on": _as_dates(events.started),
            "agreed_completion_on": _as_dates(dates["agreed_completion_on"]),
            "completed_on": _as_dates(events.completed),
            "agreed_operation_on": _as_dates(dates["agreed_operation_on"]),
            "operating_since": _as_dates(events.operating),
            "agreed_full_production_on": _as_dates(dates["agreed_full_production_on"]),
            "lease_years": c.lease,
            "planned_investment": _contracted(industrial, c.planned),
            "committed_investment_per_mu": _contracted(industrial, c.committed_investment),
            "committed_tax_per_mu": _contracted(industrial, c.committed_tax),
            "committed_output_per_mu": _contracted(industrial, c.committed_output),
            "min_far": c.min_far,
            "investment": _contracted(industrial, p.investment),
            "tax": _contracted(industrial, p.tax),
            "output": _contracted(industrial, p.output),
            "floor_area": p.floor_area,
            "footprint_area": p.footprint_area,
            "is_low_efficiency": p.is_low_efficiency,
        },
        geometry=gpd.GeoSeries(ground.geometry, crs=crs),
        crs=crs,
    )
