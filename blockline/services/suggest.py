"""Suggestions to cover a 占补 shortfall on the store: candidate land read in PostGIS, chosen by ``zoning.suggest``.

Candidates in the county, never already level 1 and never overlapping each other: industrial parcels (land
use 工业用地 in any standard, ``geo.landuse``), their part outside level 1; and level-2 land that no such
parcel covers, split into its separate pieces. Pieces smaller than ``balance.sliver_min_mu`` are left out.
"""

from __future__ import annotations

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.area import M2_PER_MU
from geo.landuse import industrial_land_uses
from geo.store import storage_srid
from zoning.policy import Profile
from zoning.suggest import Suggestion, scored_candidates, suggest_from

__all__ = ["candidate_land", "suggest_cover"]

_CANDIDATES_SQL = """
WITH
county AS (SELECT geom FROM admin_areas WHERE code = :county),
empty AS (SELECT ST_SetSRID('MULTIPOLYGON EMPTY'::geometry, :srid) AS geom),
l1 AS (SELECT coalesce(ST_Union(b.geom), (SELECT geom FROM empty)) AS geom
       FROM block_lines b, county c WHERE b.valid_to IS NULL AND b.level = 1 AND ST_Intersects(b.geom, c.geom)),
ind AS (SELECT p.parcel_no, p.holder, p.land_use, p.geom FROM parcels p, county c
        WHERE p.valid_to IS NULL AND p.county_code = :county AND p.land_use = ANY(:industrial)
          AND ST_Intersects(p.geom, c.geom)),
ind_union AS (SELECT coalesce(ST_Union(geom), (SELECT geom FROM empty)) AS geom FROM ind),
units AS (
    SELECT 'parcel' AS kind, i.parcel_no AS ref, i.holder AS holder, i.land_use AS land_use,
           ST_CollectionExtract(ST_Difference(ST_Intersection(i.geom, c.geom), l1.geom), 3) AS geom
    FROM ind i, l1, county c
    UNION ALL
    SELECT 'level2', b.id::text || '-' || d.path[1]::text, NULL, NULL, d.geom
    FROM block_lines b, county c, l1, ind_union u,
         LATERAL ST_Dump(ST_CollectionExtract(ST_Difference(ST_Difference(ST_Intersection(b.geom, c.geom), l1.geom),
                                                            u.geom), 3)) d
    WHERE b.valid_to IS NULL AND b.level = 2 AND ST_Intersects(b.geom, c.geom))
SELECT kind, ref, holder, land_use, ST_Area(u.geom) AS m2, ST_Perimeter(u.geom) AS perimeter_m,
       ST_DWithin(u.geom, l1.geom, 1.0) AS touches_level1, ST_AsBinary(u.geom) AS wkb
FROM units u, l1 WHERE NOT ST_IsEmpty(u.geom) AND ST_Area(u.geom) >= :min_m2
"""


def candidate_land(engine: Engine, *, county: str, profile: Profile) -> gpd.GeoDataFrame:
    """Land in ``county`` that could join level 1, one row per disjoint piece, with its preference score."""
    with engine.connect() as conn:
        srid = storage_srid(conn)
        rows = (
            conn.execute(
                sa.text(_CANDIDATES_SQL),
                {
                    "county": county,
                    "srid": srid,
                    "industrial": industrial_land_uses(conn),
                    "min_m2": float(profile.value("balance.sliver_min_mu")) * M2_PER_MU,
                },
            )
            .mappings()
            .all()
        )
    return scored_candidates(rows, crs=f"EPSG:{srid}")


def suggest_cover(
    engine: Engine,
    *,
    county: str,
    shortfall_mu: float,
    profile: Profile,
    max_candidates: int = 400,
    slack_mu: float | None = None,
) -> Suggestion:
    """Suggest land in ``county`` to add to level 1 covering ``shortfall_mu`` 亩 with the least surplus.

    The ``max_candidates`` best-scored pieces of :func:`candidate_land` are offered to the optimiser
    (``zoning.suggest.suggest_from``); ``slack_mu`` (default 1 % of the shortfall, at least 0.05 亩) is how
    much more area than the least possible the preference stage may use.
    """
    return suggest_from(
        candidate_land(engine, county=county, profile=profile),
        county=county,
        shortfall_mu=shortfall_mu,
        profile=profile,
        max_candidates=max_candidates,
        slack_mu=slack_mu,
    )
