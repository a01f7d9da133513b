"""The parcels as numpy arrays, once, for the vectorised rules of ``zoning.idle`` and ``zoning.lifecycle``.

``prepare`` checks the columns a rule needs and turns them into arrays: dates as datetime64[D] (events dated
after ``as_of`` have not happened yet), numbers as float64 (NaN when missing), the area in 亩 and m², the
industrial-land scope (``industrial_scope``) and the survey's low-efficiency flag.

Examples
--------
>>> import datetime as dt, pandas as pd
>>> p = prepare(pd.DataFrame({"parcel_no": ["A"], "area_mu": [15.0], "started_on": [dt.date(2027, 1, 1)]}),
...             as_of=dt.date(2026, 11, 22), needed=["parcel_no"])
>>> p.n, p.area_m2.round(3).tolist(), p.date["started_on"].tolist()
(1, [10000.0], [None])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.area import M2_PER_MU
from geo.area import area_mu as geometry_area_mu
from geo.landuse import in_industrial_scope
from zoning.dates import NAT, Days, as_of_date, to_days
from zoning.policy import Profile

__all__ = ["Parcels", "industrial_scope", "missing_fields", "param", "prepare"]

_DATE_COLUMNS = (
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
)
_EVENT_COLUMNS = ("started_on", "completed_on", "operating_since")  # what happened: ignored after as_of
_NUMBER_COLUMNS = (
    "lease_years",
    "planned_investment",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "committed_output_per_mu",
    "min_far",
    "investment",
    "tax",
    "output",
    "floor_area",
    "footprint_area",
)


def industrial_scope(parcels: pd.DataFrame) -> pd.Series:
    """Which parcels the industrial-land rules judge: all but those whose land use is known not to be industrial.

    The land use is read with ``geo.landuse`` (one table of the three code standards and the names):
    industrial, warehouse, mining and mixed 工矿 classes are judged, and so is a missing or unrecognised land
    use, so that nothing passes unseen; housing, commerce, public and other land (``0701``, ``R2``, ``商业用地``
    …) carries no industrial-land contract and is left out.

    Examples
    --------
    >>> import pandas as pd
    >>> industrial_scope(pd.DataFrame({"land_use": ["100101", "1101", "0701", "商业用地", None, "M1"]})).tolist()
    [True, True, False, False, True, True]
    """
    if "land_use" not in parcels.columns:
        return pd.Series(True, index=parcels.index, name="industrial_scope")
    codes, uniques = pd.factorize(parcels["land_use"], use_na_sentinel=True)
    inside = np.array([in_industrial_scope(u) for u in uniques], dtype=bool)
    res = np.ones(len(parcels), dtype=bool)
    known = codes >= 0
    res[known] = inside[codes[known]]
    return pd.Series(res, index=parcels.index, name="industrial_scope")


@dataclass
class Parcels:
    """The columns a rule needs, as numpy arrays (dates datetime64[D], numbers float64, NaN when missing).

    ``keys`` holds ``parcel_no`` and, when given, ``holder_id`` as they are (for ``zoning.grades``).
    """

    n: int
    as_of: np.datetime64
    as_of_date: dt.date
    parcel_no: npt.NDArray[np.object_]
    keys: pd.DataFrame
    date: dict[str, Days]
    num: dict[str, npt.NDArray[np.float64]]
    area_mu: npt.NDArray[np.float64]
    area_m2: npt.NDArray[np.float64]
    scope: npt.NDArray[np.bool_]
    survey_low: npt.NDArray[np.bool_] = field(repr=False)


def _survey_low(parcels: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """The survey's ``is_low_efficiency`` flag: True, or 1, counts; anything else does not."""
    if "is_low_efficiency" not in parcels.columns:
        return np.zeros(len(parcels), dtype=bool)
    flag = parcels["is_low_efficiency"]
    if flag.dtype == bool:
        return flag.to_numpy(dtype=bool)
    return np.array(
        [
            v is True or v is np.True_ or (type(v) in (int, float) and v == 1)
            for v in flag.astype(object).tolist()
        ],
        dtype=bool,
    )


def _area_mu(parcels: pd.DataFrame) -> npt.NDArray[np.float64]:
    """The parcels' area in 亩 (from ``area_mu``, else the geometry); NaN unless positive."""
    if "area_mu" in parcels.columns:
        mu = pd.to_numeric(parcels["area_mu"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        mu = geometry_area_mu(parcels).to_numpy(dtype=np.float64)
    return np.where(mu > 0, mu, np.nan)


def prepare(parcels: pd.DataFrame, *, as_of: dt.date | str, needed: Sequence[str]) -> Parcels:
    """Check the columns ``needed`` and turn them into arrays once; events after ``as_of`` did not happen yet."""
    if not isinstance(parcels, pd.DataFrame):
        raise TypeError("parcels must be a DataFrame with the parcel columns of geo.queries.read_parcels")
    has_area = "area_mu" in parcels.columns or isinstance(getattr(parcels, "geometry", None), pd.Series)
    missing = [c for c in needed if c not in parcels.columns] + (
        [] if has_area else ["area_mu (or a geometry)"]
    )
    if missing:
        raise ValueError(f"parcels lacks the column(s) {', '.join(missing)}")
    day = as_of_date(as_of)
    today = np.datetime64(day, "D")
    dates: dict[str, Days] = {}
    for c in _DATE_COLUMNS:
        if c in parcels.columns:
            d = to_days(parcels[c])
            dates[c] = np.where(d > today, NAT, d) if c in _EVENT_COLUMNS else d
    nums = {
        c: pd.to_numeric(parcels[c], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        for c in _NUMBER_COLUMNS
        if c in parcels.columns
    }
    area_mu = _area_mu(parcels)
    key_columns = [c for c in ("parcel_no", "holder_id") if c in parcels.columns]
    return Parcels(
        n=len(parcels),
        as_of=today,
        as_of_date=day,
        parcel_no=parcels["parcel_no"].astype(object).to_numpy(),
        keys=parcels[key_columns].reset_index(drop=True),
        date=dates,
        num=nums,
        area_mu=area_mu,
        area_m2=area_mu * M2_PER_MU,
        scope=industrial_scope(parcels).to_numpy(),
        survey_low=_survey_low(parcels),
    )


def param(profile: Profile, key: str) -> tuple[Any, str]:
    """(value, citation) of ``key``."""
    return profile.value(key), profile.cite(key)


def missing_fields(flags: dict[str, npt.NDArray[np.bool_]], idx: npt.NDArray[np.int64]) -> list[list[str]]:
    """For each row of ``idx``, the names whose flag is set (the fields an insufficient_data finding lacks)."""
    names = list(flags)
    cols = [flags[k][idx].tolist() for k in names]
    return [[k for k, on in zip(names, row, strict=True) if on] for row in zip(*cols, strict=True)]
