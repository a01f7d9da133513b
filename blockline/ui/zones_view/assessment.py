"""A zone's assessment on the store: the candidate zones, and a drawn zone with the parcels it takes.

Everything computed is ``zoning``'s (``zoning.consolidation``, ``zoning.idle``); this module reads the store for
it (PostGIS, ``geo.queries``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from blockline.services.reports import zone_candidates
from geo.queries import read_blocklines, read_parcels, read_ratings
from geo.settings import get_settings
from geo.store import storage_srid
from zoning.consolidation import assess_zone, latest_grade
from zoning.idle import low_efficiency
from zoning.policy import Profile

__all__ = ["assess", "candidates"]


def candidates(
    engine: Engine, *, as_of: dt.date, profile: Profile, min_mu: float, gap_m: float
) -> gpd.GeoDataFrame:
    """The candidate zones of the store (``blockline zones detect``): described, in the storage CRS.

    Low-efficiency land is the city's stored judgement (``blockline.services.judged``: ``zoning.idle.low_efficiency`` at
    ``as_of`` under ``profile``); the groups are
    ``zoning.consolidation.detect_zones_in_store`` at ``gap_m`` and ``min_mu``, with their block-line levels
    and rating mix (``describe_zones_in_store``: the levels computed in the store, as the command does).
    """
    return zone_candidates(engine, as_of=as_of, profile=profile, min_mu=min_mu, gap_m=gap_m)


def _parcels_in(engine: Engine, zone: BaseGeometry) -> list[str]:
    """The numbers of the current parcels that the zone reaches (PostGIS, with the spatial index)."""
    with engine.connect() as conn:
        srid = storage_srid(conn)
        rows = conn.execute(
            sa.text("""
            SELECT parcel_no FROM parcels
            WHERE valid_to IS NULL AND ST_Intersects(geom, ST_GeomFromEWKB(decode(:g, 'hex')))
            ORDER BY parcel_no"""),
            {"g": shapely.to_wkb(shapely.set_srid(zone, srid), hex=True, include_srid=True)},
        ).all()
    return [str(r[0]) for r in rows]


def assess(
    engine: Engine, zone: BaseGeometry, *, as_of: dt.date, profile: Profile, min_mu: float | None = None
) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    """``zoning.consolidation.assess_zone`` of a zone drawn in the storage CRS, on the current store.

    The parcels the zone reaches get their low-efficiency flag (``zoning.idle.low_efficiency`` at ``as_of``)
    and their latest rating (``latest_grade``). Returns the assessment and the parcels it takes (storage CRS,
    with ``low_efficiency``, ``rating``, ``share`` and ``area_in_zone_mu``), for the map and the exports.
    """
    nos = _parcels_in(engine, zone)
    near = read_parcels(engine, parcel_nos=nos)
    if near.crs is None:  # an empty frame comes back without one
        near = near.set_crs(epsg=get_settings().storage_epsg)
    ratings = read_ratings(engine)
    near["low_efficiency"] = low_efficiency(near, ratings, as_of=as_of, profile=profile).to_numpy()
    near["rating"] = latest_grade(near, ratings, as_of=as_of).to_numpy() if len(near) else []
    lines = {}
    for level in (1, 2):
        found = read_blocklines(engine, level=level)
        found = found.set_crs(near.crs) if found.crs is None else found
        lines[level] = found[found.intersects(zone)] if len(found) else found
    result = assess_zone(zone, near, level1=lines[1], level2=lines[2], profile=profile, min_mu=min_mu)
    taken = {p["parcel_no"]: p for p in result["parcels"]}
    kept = near[near["parcel_no"].astype(str).isin(taken)].copy()
    kept["share"] = [float(taken[str(n)]["share"]) for n in kept["parcel_no"]]
    kept["area_in_zone_mu"] = [float(taken[str(n)]["area_in_zone_mu"]) for n in kept["parcel_no"]]
    kept["rating"] = pd.Series(
        [taken[str(n)]["rating"] for n in kept["parcel_no"]], index=kept.index, dtype=object
    )
    return result, kept
