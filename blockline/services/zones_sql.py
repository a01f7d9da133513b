"""The store's side of ``zoning.consolidation``: candidate zones clustered and described in PostGIS.

So that ``zoning`` keeps no SQL: :func:`detect_zones_in_store` (the clusters, ``ST_ClusterDBSCAN``, and their
sums in one query, on a list of low-efficiency parcels or on a stored judgement's rows) and
:func:`describe_zones_in_store` (the block-line levels in PostGIS, the rating mix from the ratings).
``blockline.services.zones`` builds the commands' and pages' candidate zones on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.area import M2_PER_MU
from geo.queries import read_parcels
from geo.store import storage_srid, transaction

# imported by the functions that compute zones: blockline.services.zones reads the kept ones back without them
if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["cluster_sql", "describe_zones_in_store", "detect_zones_in_store"]


#: each member parcel's area (m²) inside the union of the current lines of a level it meets, per zone and level
_ZONE_LEVELS_SQL = """
WITH members AS (
    SELECT m.zone, p.parcel_no, p.geom
    FROM unnest(CAST(:zones AS int[]), CAST(:nos AS text[])) AS m(zone, parcel_no)
    JOIN parcels p ON p.parcel_no = m.parcel_no AND p.valid_to IS NULL),
inside AS (
    SELECT m.zone, b.level, ST_Area(ST_Intersection(m.geom, ST_Union(b.geom))) AS m2
    FROM members m JOIN block_lines b
      ON b.valid_to IS NULL AND b.level IN (1, 2) AND b.geom && m.geom AND ST_Intersects(b.geom, m.geom)
    GROUP BY m.zone, m.parcel_no, m.geom, b.level)
SELECT zone, level, sum(m2) FROM inside GROUP BY zone, level
"""


def describe_zones_in_store(
    engine: Engine, zones: pd.DataFrame, *, ratings: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """``zoning.consolidation.describe_zones`` on the current store: block-line levels computed in PostGIS.

    The zone's current parcels are joined with the current level-1 and level-2 lines through the lines'
    spatial index; each parcel's area inside the union of the lines it meets is summed per zone and level
    (a zone's parcels are a cadastre: they do not overlap). The zones' own geometries are not used, so
    the answer is the same whether or not they were read (``detect_zones_in_store(..., geometry=False)``),
    and the same in every output. The rating mix comes from the parcels' attributes.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    zones : pandas.DataFrame
        Candidate zones with ``parcels`` (lists of parcel numbers), e.g. :func:`detect_zones_in_store`.
    ratings : pandas.DataFrame
        亩均论英雄 ratings, as for ``zoning.consolidation.describe_zones``.
    as_of : datetime.date
        The day of the analysis (each parcel's grade is its latest before that year).

    Returns
    -------
    pandas.DataFrame
        A copy of ``zones`` (same type and index) with ``block_line_levels``, ``level1_mu``, ``level2_mu``,
        ``rating_mix`` and ``rating_mix_mu`` as ``describe_zones`` gives them: a level is listed when
        the zone's parcels overlap its lines by at least ``EPSILON_MU`` (0.01 亩 as reported); a line
        that only touches the zone is not listed.
    """
    import numpy as np  # lazy: see the module's imports
    import pandas as pd  # lazy: with the line above

    from zoning.consolidation import with_rating_mix, zone_levels  # lazy: with the line above

    if "parcels" not in zones.columns:
        raise ValueError("zones lacks the column parcels")
    out = zones.copy()
    zone_of = np.arange(len(zones)).repeat([len(p) for p in zones["parcels"]])
    nos = [str(no) for p in zones["parcels"] for no in p]
    mu = {1: np.zeros(len(zones)), 2: np.zeros(len(zones))}
    if nos:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(_ZONE_LEVELS_SQL), {"zones": zone_of.tolist(), "nos": nos}).all()
        for zone, level, m2 in rows:
            mu[int(level)][int(zone)] = float(m2) / M2_PER_MU
    out["block_line_levels"] = zone_levels(mu[1], mu[2])
    out["level1_mu"] = mu[1]
    out["level2_mu"] = mu[2]
    members = (
        read_parcels(engine, parcel_nos=sorted(set(nos)), geometry=False)
        if nos
        else pd.DataFrame({"parcel_no": pd.Series([], dtype=object), "area_mu": pd.Series([], dtype=float)})
    )
    return with_rating_mix(out, members, ratings=ratings, as_of=as_of)


#: the low-efficiency parcels given (``:nos``), for ``_CLUSTER_SQL``
_LOW_GIVEN = """
    SELECT p.parcel_no, p.county_code, p.area_mu, p.geom, 0::float8 AS level1_m2, 0::float8 AS level2_m2, {holder_key}
    FROM parcels p JOIN (SELECT DISTINCT unnest(CAST(:nos AS text[])) AS parcel_no) l ON l.parcel_no = p.parcel_no
    WHERE p.valid_to IS NULL"""

#: the low-efficiency parcels of a stored judgement (``:judgement``), with their stored areas inside the lines
_LOW_JUDGED = """
    SELECT p.parcel_no, p.county_code, p.area_mu, p.geom, j.level1_m2, j.level2_m2, {holder_key}
    FROM judged_low_efficiency j JOIN parcels p ON p.parcel_no = j.parcel_no AND p.valid_to IS NULL
    WHERE j.judgement_id = :judgement"""

_HOLDER_KEY = """coalesce('id:' || nullif(trim(p.holder_id), ''), 'name:' || nullif(trim(p.holder), ''),
                    'parcel:' || p.parcel_no) AS holder_key"""

#: the clusters of ``low`` (one of the two above) and their sums. Every sum and list is taken in parcel-number
#: order, so that the floating sums and the zones' geometry collections do not depend on the plan or on where a
#: (synchronised) sequential scan of the parcels began; ``{described}`` adds the judgement's columns
_CLUSTER_SQL = """
WITH low AS ({low}),
clustered AS (SELECT low.*, ST_ClusterDBSCAN(geom, eps := :gap + :eps_m, minpoints := 1) OVER () AS cid FROM low),
sums AS (
    SELECT cid, sum(area_mu ORDER BY parcel_no COLLATE "C") AS area_mu FROM clustered GROUP BY cid
    HAVING sum(area_mu ORDER BY parcel_no COLLATE "C") >= :min_mu - :eps),
members AS (SELECT c.* FROM clustered c JOIN sums s ON s.cid = c.cid),
lists AS (
    SELECT m.cid, array_agg(m.parcel_no ORDER BY m.parcel_no COLLATE "C") AS parcels, {geometry} AS wkb,
           count(DISTINCT m.holder_key) AS holders,
           sum(m.level1_m2 ORDER BY m.parcel_no COLLATE "C") AS level1_m2,
           sum(m.level2_m2 ORDER BY m.parcel_no COLLATE "C") AS level2_m2{described}
    FROM members m{marks} GROUP BY m.cid),
by_county AS (
    SELECT cid, county_code, sum(area_mu ORDER BY parcel_no COLLATE "C") AS mu
    FROM members WHERE county_code IS NOT NULL GROUP BY cid, county_code),
counties AS (
    SELECT cid, (array_agg(county_code ORDER BY mu DESC, county_code))[1] AS main,
           array_agg(county_code ORDER BY county_code) AS spans
    FROM by_county GROUP BY cid)
SELECT s.area_mu, l.parcels, l.holders, c.main, coalesce(c.spans, '{{}}'::varchar[]), l.wkb,
       l.level1_m2, l.level2_m2{described_columns}
FROM sums s JOIN lists l ON l.cid = s.cid LEFT JOIN counties c ON c.cid = s.cid
"""


#: for the transaction of ``_CLUSTER_SQL``: its joins are of whole sets, which hash joins serve. Right after a load
#: (before autovacuum's ANALYZE, which the app's role may not run itself) the planner takes the fresh tables for
#: tiny and may choose a nested loop of every judged row over every parcel: 200,000 province parcels ran for
#: more than 4 minutes instead of 0.8 s
NO_NESTED_LOOPS = "SET LOCAL enable_nestloop = off"


def cluster_sql(*, judged: bool, geometry: bool) -> str:
    """``_CLUSTER_SQL`` on the parcels given or on a judgement's, with or without the zones' geometry."""
    return _CLUSTER_SQL.format(
        low=(_LOW_JUDGED if judged else _LOW_GIVEN).format(holder_key=_HOLDER_KEY),
        geometry='ST_AsBinary(ST_Collect(m.geom ORDER BY m.parcel_no COLLATE "C"))'
        if geometry
        else "NULL::bytea",
        described=(
            ',\n           array_agg(k.grade ORDER BY m.parcel_no COLLATE "C") AS grades,'
            '\n           array_agg(m.area_mu ORDER BY m.parcel_no COLLATE "C") AS mus'
            if judged
            else ""
        ),
        marks="\n    LEFT JOIN parcel_marks k ON k.mark_set = :marks AND k.parcel_no = m.parcel_no"
        if judged
        else "",
        described_columns=", l.grades, l.mus" if judged else "",
    )


def detect_zones_in_store(
    engine: Engine,
    *,
    low_efficiency_parcel_nos: Sequence[str],
    min_mu: float,
    gap_m: float,
    geometry: bool = True,
) -> gpd.GeoDataFrame:
    """``zoning.consolidation.detect_zones`` on the store's current parcels, clustered and summed in PostGIS.

    ``ST_ClusterDBSCAN`` groups the low-efficiency parcels within ``gap_m`` (+ ``EPSILON_M``, to the
    millimetre) of each other, transitively (true distance, as ``ST_DWithin``); the sums, parcel lists,
    distinct holders and counties are aggregated in the same query, which measured faster than shapely at
    city scale (``bench/README.md``). The rows have ``detect_zones``' columns, ids and order
    (``zoning.consolidation.zones_from_clusters``); the geometry is the collection of the zone's parcels
    (not dissolved: for display and for saving, where it is made valid), or empty with ``geometry=False``
    when only the table is wanted (a third faster at city scale).
    """
    from zoning.consolidation import (  # lazy: see the module's imports
        EPSILON_M,
        EPSILON_MU,
        check_thresholds,
        zones_from_clusters,
    )

    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    with transaction(engine) as conn:
        conn.execute(sa.text(NO_NESTED_LOOPS))
        srid = storage_srid(conn)
        nos = [str(n) for n in low_efficiency_parcel_nos]
        rows = conn.execute(
            sa.text(cluster_sql(judged=False, geometry=geometry)),
            {"gap": gap_m, "eps_m": EPSILON_M, "min_mu": min_mu, "eps": EPSILON_MU, "nos": nos},
        ).all()
    return zones_from_clusters([r[:6] for r in rows], crs=f"EPSG:{srid}")
