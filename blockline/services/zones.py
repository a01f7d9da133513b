"""Candidate 连片开发 zones of the store from the city's stored judgement, set-based in PostGIS.

The low-efficiency parcels are the judgement's (``blockline.services.judged``), clustered by ``ST_ClusterDBSCAN``
(:func:`detect_zones_in_store`). Each zone is then described in two queries instead of
reading its parcels and every rating into pandas: its block-line levels (each member parcel's area inside the
union of the current level-1 / level-2 lines it meets, summed per zone and level, as
``describe_zones_in_store`` computes them) and its rating mix (each member's grade as the map's marks of the
same judgement hold it, ``zoning.consolidation.latest_grade`` at the date, and its ``area_mu``).
The columns, values and order are those of ``describe_zones_in_store``.

The store's side of ``zoning.consolidation`` lives here too, so that ``zoning`` keeps no SQL:
:func:`detect_zones_in_store` (the clusters) and :func:`describe_zones_in_store` (the levels in PostGIS, the
rating mix from the ratings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from blockline.services.judged import judge_city
from blockline.services.marks import ensure_marks
from geo.area import M2_PER_MU
from geo.queries import read_parcels
from geo.store import storage_srid, transaction
from zoning.consolidation import (
    EPSILON_M,
    EPSILON_MU,
    GRADES,
    check_thresholds,
    with_rating_mix,
    zone_levels,
    zones_from_clusters,
)
from zoning.policy import Profile

__all__ = ["candidate_zones", "describe_in_store", "describe_zones_in_store", "detect_zones_in_store"]

#: each member parcel's area (m²) inside the union of the lines of a level it meets, summed per zone and level:
#: the sum ``describe_zones_in_store`` makes, member by member through the lines' index (a lateral join), so
#: that no row carries a geometry into a sort (a third faster at 200,000 parcels, the same values)
_LEVELS_SQL = """
SELECT m.zone, l.level, sum(l.m2)
FROM unnest(CAST(:zones AS int[]), CAST(:nos AS text[])) AS m(zone, parcel_no)
JOIN parcels p ON p.parcel_no = m.parcel_no AND p.valid_to IS NULL
CROSS JOIN LATERAL (
    SELECT b.level, ST_Area(ST_Intersection(p.geom, ST_Union(b.geom))) AS m2
    FROM block_lines b
    WHERE b.valid_to IS NULL AND b.level IN (1, 2) AND b.geom && p.geom AND ST_Intersects(b.geom, p.geom)
    GROUP BY b.level) l
GROUP BY m.zone, l.level
"""

#: each member parcel's grade (the marks of the judgement) and area, in the members' order
_MIX_SQL = """
SELECT m.ord, p.area_mu, k.grade
FROM unnest(CAST(:nos AS text[])) WITH ORDINALITY AS m(parcel_no, ord)
JOIN parcels p ON p.parcel_no = m.parcel_no AND p.valid_to IS NULL
LEFT JOIN parcel_marks k ON k.mark_set = :marks AND k.parcel_no = m.parcel_no
ORDER BY m.ord
"""


def candidate_zones(
    engine: Engine, *, as_of: dt.date, profile: Profile, min_mu: float, gap_m: float, geometry: bool = True
) -> gpd.GeoDataFrame:
    """The candidate zones of the store at ``as_of`` under ``profile``, described (``blockline zones detect``).

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The store.
    as_of : datetime.date
        The date of the judgement (low-efficiency land, each parcel's latest grade).
    profile : zoning.policy.Profile
        The policy.
    min_mu, gap_m : float
        The area threshold (亩) and the gap (m), as for ``detect_zones_in_store``.
    geometry : bool, default True
        Whether to read the zones' geometry (the table and JSON do not need it).

    Returns
    -------
    geopandas.GeoDataFrame
        ``detect_zones_in_store``'s rows with ``describe_zones_in_store``'s columns.
    """
    judgement = judge_city(engine, as_of=as_of, profile=profile)
    mark_set = ensure_marks(engine, as_of=as_of, profile=profile)
    if judgement.id:  # stored: clustered and described from its rows of judged_low_efficiency
        return judged_zones(
            engine, judgement.id, mark_set=mark_set, min_mu=min_mu, gap_m=gap_m, geometry=geometry
        )
    # judged but not stored (a load landed meanwhile): the same from its list, the levels computed now
    zones = detect_zones_in_store(
        engine,
        low_efficiency_parcel_nos=judgement.low_efficiency(),
        min_mu=min_mu,
        gap_m=gap_m,
        geometry=geometry,
    )
    if len(zones) == 0:  # as the command and the page always gave them: not described
        return zones
    return describe_in_store(engine, zones, mark_set=mark_set)


def judged_zones(
    engine: Engine, judgement_id: int, *, mark_set: str, min_mu: float, gap_m: float, geometry: bool = True
) -> gpd.GeoDataFrame:
    """The candidate zones of a stored judgement, described: ``describe_in_store(detect_zones_in_store(…))``.

    The same rows, columns and values, from one query over the judgement's rows of ``judged_low_efficiency``
    (migration 0015): its low-efficiency parcels are not passed to the store and back, and each member's area
    inside the lines is the one stored with the judgement, summed, not computed again. A judgement stored
    without those rows (written by an older release, or emptied by a crash) gets them first.
    """
    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    _ensure_low_rows(engine, judgement_id)
    with transaction(engine) as conn:
        srid = storage_srid(conn)
        rows = conn.execute(
            sa.text(_cluster_sql(judged=True, geometry=geometry)),
            {
                "judgement": judgement_id,
                "marks": mark_set,
                "gap": gap_m,
                "eps_m": EPSILON_M,
                "min_mu": min_mu,
                "eps": EPSILON_MU,
            },
        ).all()
    zones = zones_from_clusters([r[:6] for r in rows], crs=f"EPSG:{srid}")
    if len(zones) == 0:
        return zones
    # the zones are ranked: each one's figures found again by its first parcel (the clusters are disjoint), in
    # the same parcel order (the query's "C" collation is Python's order of str)
    by_first = {r[1][0]: r for r in rows}
    ranked = [by_first[p[0]] for p in zones["parcels"]]
    if any(list(r[1]) != p for r, p in zip(ranked, zones["parcels"], strict=True)):
        raise RuntimeError("the store's parcel order differs from Python's: the grades cannot be matched")
    zone_of = np.arange(len(zones)).repeat([len(r[1]) for r in ranked])
    mu = {
        1: np.array([float(r[6]) / M2_PER_MU for r in ranked]),
        2: np.array([float(r[7]) / M2_PER_MU for r in ranked]),
    }
    grades = [g or "unrated" for r in ranked for g in r[8]]
    return _described(zones, mu, zone_of, [m for r in ranked for m in r[9]], grades)


def _ensure_low_rows(engine: Engine, judgement_id: int) -> None:
    """Write the judgement's rows of ``judged_low_efficiency`` when it has none (and has low-efficiency land)."""
    sql = sa.text("""SELECT cardinality(low_efficiency) = 0
                            OR EXISTS (SELECT 1 FROM judged_low_efficiency WHERE judgement_id = :j)
                     FROM judgements WHERE id = :j""")
    with engine.connect() as conn:
        if conn.execute(sql, {"j": judgement_id}).scalar_one_or_none() is not False:
            return
    # lazy: the judgement's writer imports the rules and pyarrow (0.3 s), needed only for an older judgement
    from blockline.services.judged_write import write_low_efficiency

    with transaction(engine) as conn:  # one writer at a time: a second caller waits, then finds the rows
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended('judged_low_efficiency', :j))"),
            {"j": judgement_id},
        )
        if not conn.execute(sql, {"j": judgement_id}).scalar_one_or_none():
            write_low_efficiency(conn, judgement_id)


def describe_in_store(engine: Engine, zones: gpd.GeoDataFrame, *, mark_set: str) -> gpd.GeoDataFrame:
    """``zones`` with their block-line levels and rating mix, computed in PostGIS.

    The columns are ``block_line_levels``, ``level1_mu``, ``level2_mu``, ``rating_mix`` and ``rating_mix_mu``;
    the grades are those of the marks ``mark_set`` (``blockline.services.marks``).
    """
    sizes = [len(p) for p in zones["parcels"]]
    zone_of = np.arange(len(zones)).repeat(sizes)
    nos = [str(no) for p in zones["parcels"] for no in p]
    mu = {1: np.zeros(len(zones)), 2: np.zeros(len(zones))}
    area_mu: list[float] = []
    grades: list[str] = []
    if nos:
        with engine.connect() as conn:
            for zone, level, m2 in conn.execute(
                sa.text(_LEVELS_SQL), {"zones": zone_of.tolist(), "nos": nos}
            ):
                mu[int(level)][int(zone)] = float(m2) / M2_PER_MU
            rows = conn.execute(sa.text(_MIX_SQL), {"nos": nos, "marks": mark_set}).all()
        if len(rows) != len(nos):
            raise ValueError("zones name parcels that are not current parcels of the store")
        area_mu, grades = [r[1] for r in rows], [r[2] or "unrated" for r in rows]
    return _described(zones, mu, zone_of, area_mu, grades)


def _described(
    zones: gpd.GeoDataFrame,
    mu: dict[int, npt.NDArray[np.float64]],
    zone_of: npt.NDArray[np.intp],
    area_mu: list[float],
    grades: list[str],
) -> gpd.GeoDataFrame:
    """A copy of ``zones`` with the columns ``describe_in_store`` adds.

    From each zone's 亩 per level (``mu``) and its members' zone, 亩 and grade (in zone order, each zone's
    parcels in order).
    """
    out = zones.copy()
    categories = [*GRADES, "unrated"]
    counts = areas = np.zeros((len(zones), len(categories)))
    if len(zone_of):
        counts, areas = _mix(zone_of, area_mu, grades, len(zones), categories)
    out["block_line_levels"] = [
        [lv for lv, m in ((1, a), (2, b)) if m >= EPSILON_MU] for a, b in zip(mu[1], mu[2], strict=True)
    ]
    out["level1_mu"] = mu[1]
    out["level2_mu"] = mu[2]
    # from Python lists (tolist), not numpy scalars one by one: the same values, a tenth of the time
    out["rating_mix"] = [dict(zip(categories, map(int, row), strict=True)) for row in counts.tolist()]
    out["rating_mix_mu"] = [dict(zip(categories, row, strict=True)) for row in areas.tolist()]
    return out


def _mix(
    zone_of: npt.NDArray[np.intp], area_mu: list[float], grade: list[str], n_zones: int, categories: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Members per zone and grade, and their 亩, summed as ``zoning.consolidation.describe_zones`` sums them.

    pandas' pivot in the members' order, so the floating sums are the same to the last bit.
    """
    members = pd.DataFrame(
        {
            "zone": zone_of,
            "grade": pd.Categorical(grade, categories=categories),
            "mu": pd.to_numeric(pd.Series(area_mu, dtype=object), errors="coerce").astype(float),
        }
    )
    counts = members.pivot_table(index="zone", columns="grade", values="mu", aggfunc="size", observed=False)
    areas = members.pivot_table(index="zone", columns="grade", values="mu", aggfunc="sum", observed=False)
    counts = counts.reindex(index=range(n_zones), columns=categories).fillna(0)
    areas = areas.reindex(index=range(n_zones), columns=categories).fillna(0.0)
    return counts.to_numpy(), areas.to_numpy()


# ======================================================================================================
# the store's side of zoning.consolidation
# ======================================================================================================

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
holders AS (SELECT cid, count(*) AS holders FROM (SELECT DISTINCT cid, holder_key FROM members) h GROUP BY cid),
lists AS (
    SELECT m.cid, array_agg(m.parcel_no ORDER BY m.parcel_no COLLATE "C") AS parcels, {geometry} AS wkb,
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
SELECT s.area_mu, l.parcels, h.holders, c.main, coalesce(c.spans, '{{}}'::varchar[]), l.wkb,
       l.level1_m2, l.level2_m2{described_columns}
FROM sums s JOIN lists l ON l.cid = s.cid JOIN holders h ON h.cid = s.cid LEFT JOIN counties c ON c.cid = s.cid
"""


def _cluster_sql(*, judged: bool, geometry: bool) -> str:
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
    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    with transaction(engine) as conn:
        srid = storage_srid(conn)
        nos = [str(n) for n in low_efficiency_parcel_nos]
        rows = conn.execute(
            sa.text(_cluster_sql(judged=False, geometry=geometry)),
            {"gap": gap_m, "eps_m": EPSILON_M, "min_mu": min_mu, "eps": EPSILON_MU, "nos": nos},
        ).all()
    return zones_from_clusters([r[:6] for r in rows], crs=f"EPSG:{srid}")
