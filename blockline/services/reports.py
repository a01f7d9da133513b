"""What the pages show of a city's judgement: the idle list, the facts of its parcels, the candidate zones.

Every function asks ``blockline.services.judged.judge_city`` (stored once per data version, date and profile, shared by
every process) and reads from the store only the columns it adds to the findings; no rule runs here.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Engine

from blockline.services.judged import judge_city
from blockline.services.zones import candidate_zones
from geo.queries import read_parcel_columns
from zoning.policy import Profile

__all__ = ["FACT_COLUMNS", "idle_report", "parcel_facts", "zone_candidates"]

#: the parcel fields the pages' lists show beside each finding
FACT_COLUMNS = ["parcel_no", "holder", "county_code", "area_mu"]


def parcel_facts(engine: Engine) -> pd.DataFrame:
    """``FACT_COLUMNS`` of the current parcels (columnar read, no geometry), as ``read_parcels`` types them."""
    return read_parcel_columns(engine, list(FACT_COLUMNS))


def idle_report(engine: Engine, *, as_of: dt.date, profile: Profile) -> pd.DataFrame:
    """Every idle/low-efficiency finding of the judgement at ``as_of`` under ``profile``: the 闲置 page's list.

    With the parcel's holder, county and area (``figures`` left out).
    """
    findings = judge_city(engine, as_of=as_of, profile=profile).findings("idle", figures=False)
    return findings.merge(parcel_facts(engine), on="parcel_no", how="left")


def zone_candidates(
    engine: Engine, *, as_of: dt.date, profile: Profile, min_mu: float, gap_m: float
) -> gpd.GeoDataFrame:
    """The candidate zones of the store (``blockline zones detect``): described, in the storage CRS.

    ``blockline.services.zones.candidate_zones``: the judgement's low-efficiency land clustered at ``gap_m`` and
    ``min_mu``, with their block-line levels and rating mix computed in the store.
    """
    return candidate_zones(engine, as_of=as_of, profile=profile, min_mu=min_mu, gap_m=gap_m)
