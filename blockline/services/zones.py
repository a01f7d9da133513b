"""Candidate 连片开发 zones of the store from the city's stored judgement, set-based in PostGIS.

The low-efficiency parcels are the judgement's (``blockline.services.judged``), clustered by ``ST_ClusterDBSCAN``
(:func:`detect_zones_in_store`). Each zone is then described in two queries instead of
reading its parcels and every rating into pandas: its block-line levels (each member parcel's area inside the
union of the current level-1 / level-2 lines it meets, summed per zone and level, as
``describe_zones_in_store`` computes them) and its rating mix (each member's grade as the map's marks of the
same judgement hold it, ``zoning.consolidation.latest_grade`` at the date, and its ``area_mu``).
The columns, values and order are those of ``describe_zones_in_store``.

At the profile's own threshold and gap, the zones of a stored judgement are computed once and kept with it
(:func:`kept_zones`, ``blockline.services.zones_kept``, migration 0017): every later caller reads them back.

The store's side of ``zoning.consolidation`` is ``blockline.services.zones_sql``, so that ``zoning`` keeps no
SQL: :func:`detect_zones_in_store` (the clusters) and :func:`describe_zones_in_store` (the levels in PostGIS,
the rating mix from the ratings), named here too.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from blockline.services.judged import Judgement, judge_city
from blockline.services.judged_low import write_low_efficiency
from blockline.services.marks import ensure_marks
from blockline.services.zones_kept import (
    Key,
    kept_set,
    lock,
    method_token,
    paused_gc,
    read_zone_geometry,
    read_zones,
    write_zones,
)
from blockline.services.zones_sql import (
    NO_NESTED_LOOPS,
    cluster_sql,
    describe_zones_in_store,
    detect_zones_in_store,
)
from geo.area import M2_PER_MU
from geo.store import storage_srid, transaction
from zoning.policy import Profile
from zoning.zone_terms import EPSILON_M, EPSILON_MU, GRADES

# The zones kept with a stored judgement are read back (candidate_zone_rows) with none of geopandas, pandas
# and the rules of zoning.consolidation: each function that computes or frames zones imports them (0.6 s of
# the start-up of `blockline zones detect`).
if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "candidate_zone_rows",
    "candidate_zones",
    "describe_in_store",
    "describe_zones_in_store",
    "detect_zones_in_store",
    "judged_zones",
    "keep_candidate_zones",
    "kept_rows",
    "kept_zones",
]

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
    return _candidates(
        engine, judgement, mark_set=mark_set, profile=profile, min_mu=min_mu, gap_m=gap_m, geometry=geometry
    )


def candidate_zone_rows(
    engine: Engine, *, as_of: dt.date, profile: Profile, min_mu: float, gap_m: float
) -> list[tuple[Any, ...]]:
    """``candidate_zones(…, geometry=False)`` as rows of ``zones_kept.COLUMNS``, in order (what is kept).

    The kept rows as they are read when there are (no frame is built: ``zones detect --format json`` at
    1,000,000 parcels, 0.3 s less), otherwise :func:`kept_rows` of the frame.
    """
    judgement = judge_city(engine, as_of=as_of, profile=profile)
    mark_set = ensure_marks(engine, as_of=as_of, profile=profile)
    if judgement.id and _profiles_own(profile, min_mu=min_mu, gap_m=gap_m):
        with engine.connect() as conn:
            found = kept_set(conn, _key(judgement.id, mark_set, min_mu=min_mu, gap_m=gap_m))
            if found is not None:
                return read_zones(conn, found)
    return kept_rows(
        _candidates(
            engine, judgement, mark_set=mark_set, profile=profile, min_mu=min_mu, gap_m=gap_m, geometry=False
        )
    )


def _candidates(
    engine: Engine,
    judgement: Judgement,
    *,
    mark_set: str,
    profile: Profile,
    min_mu: float,
    gap_m: float,
    geometry: bool,
) -> gpd.GeoDataFrame:
    """:func:`candidate_zones` of ``judgement``: kept, or computed from its rows (other thresholds)."""
    if _profiles_own(profile, min_mu=min_mu, gap_m=gap_m):  # kept with the judgement
        return kept_zones(
            engine, judgement.id, mark_set=mark_set, min_mu=min_mu, gap_m=gap_m, geometry=geometry
        )
    # other thresholds: clustered and described from the judgement's rows of judged_low_efficiency
    return judged_zones(
        engine, judgement.id, mark_set=mark_set, min_mu=min_mu, gap_m=gap_m, geometry=geometry
    )


def keep_candidate_zones(engine: Engine, judgement: Judgement, *, profile: Profile) -> int:
    """Compute and keep the candidate zones of ``judgement`` at the profile's own threshold and gap; how many.

    For the judging step (``blockline.services.judged.judge_today``, after each ``judge_city``): then
    ``blockline zones detect`` and the zones page only read what was kept, and the first of them does not pay
    the clustering (at 1,000,000 parcels ≈ 9 s, 0.4 s to read back). The judgement is not asked for again (its
    ``served`` count is the callers'). Nothing is kept for a judgement that was not stored. Safe to call more
    than once, and from several processes at once (one computes, the others wait and read).
    """
    if not judgement.id:
        return 0
    mark_set = ensure_marks(engine, as_of=judgement.as_of, profile=profile)
    return len(
        kept_zones(
            engine,
            judgement.id,
            mark_set=mark_set,
            min_mu=float(profile.value("consolidation.min_mu")),
            gap_m=float(profile.value("consolidation.gap_m")),
            geometry=False,
        )
    )


def _profiles_own(profile: Profile, *, min_mu: float, gap_m: float) -> bool:
    """Whether ``min_mu`` and ``gap_m`` are the profile's own (the zones kept with a judgement are of those)."""
    return float(min_mu) == float(profile.value("consolidation.min_mu")) and float(gap_m) == float(
        profile.value("consolidation.gap_m")
    )


def kept_zones(
    engine: Engine, judgement_id: int, *, mark_set: str, min_mu: float, gap_m: float, geometry: bool = True
) -> gpd.GeoDataFrame:
    """:func:`judged_zones`, computed once per judgement, marks and code and kept (``judged_zones``, 0017).

    The kept zones are read back when there are any, with their geometry collected again from their member
    parcels when asked (it is not kept); otherwise the first caller computes them (:func:`judged_zones`) and
    keeps them, and a second one waits for it, then reads. The same frame either way.
    """
    from zoning.consolidation import check_thresholds  # lazy: see the module's imports

    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    key = _key(judgement_id, mark_set, min_mu=min_mu, gap_m=gap_m)
    with engine.connect() as conn:
        found = kept_set(conn, key)
        if found is not None:
            return _read_kept(conn, found, geometry=geometry)
    with transaction(engine) as conn:
        lock(conn, key)  # one writer per key: a second caller waits here, then finds what the first kept
        found = kept_set(conn, key)
        if found is not None:
            return _read_kept(conn, found, geometry=geometry)
        start = time.perf_counter()
        zones = judged_zones(
            engine, judgement_id, mark_set=mark_set, min_mu=min_mu, gap_m=gap_m, geometry=geometry
        )
        try:
            with conn.begin_nested():  # the judgement may be gone meanwhile (a load): answer, keep nothing
                write_zones(
                    conn, key, kept_rows(zones), count=len(zones), seconds=time.perf_counter() - start
                )
        except sa.exc.IntegrityError:
            pass
    return zones


def _read_kept(conn: sa.Connection, set_id: int, *, geometry: bool) -> gpd.GeoDataFrame:
    """The frame of a kept set (:func:`kept_zones`), with its zones' geometry when asked."""
    crs = f"EPSG:{storage_srid(conn)}"
    return _kept_frame(
        read_zones(conn, set_id), crs=crs, wkb=read_zone_geometry(conn, set_id) if geometry else None
    )


def _key(judgement_id: int, mark_set: str, *, min_mu: float, gap_m: float) -> Key:
    """The key of the zones kept for these (``min_mu`` and ``gap_m`` checked by the caller, or the profile's own)."""
    return Key(judgement_id, mark_set, float(min_mu), float(gap_m), method_token())


def kept_rows(zones: gpd.GeoDataFrame) -> list[tuple[Any, ...]]:
    """The rows ``blockline.services.zones_kept`` keeps of a frame of :func:`judged_zones` (in its order)."""
    if len(zones) == 0:
        return []
    categories = [*GRADES, "unrated"]
    return [
        (
            zone_id,
            area,
            list(parcels),
            holders,
            county if isinstance(county, str) else None,
            list(counties),
            l1,
            l2,
            [mix[c] for c in categories],
            [mix_mu[c] for c in categories],
        )
        for zone_id, area, parcels, holders, county, counties, l1, l2, mix, mix_mu in zip(
            zones["zone_id"].tolist(),
            zones["area_mu"].tolist(),
            zones["parcels"],
            zones["holders"].tolist(),
            zones["county_code"].tolist(),
            zones["county_codes"],
            zones["level1_mu"].tolist(),
            zones["level2_mu"].tolist(),
            zones["rating_mix"],
            zones["rating_mix_mu"],
            strict=True,
        )
    ]


def _kept_frame(
    rows: list[tuple[Any, ...]], *, crs: str, wkb: list[bytes | None] | None = None
) -> gpd.GeoDataFrame:
    """The frame of :func:`judged_zones` from the kept rows (``zones_kept.COLUMNS``) and the zones' WKB if any."""
    from zoning.consolidation import zones_from_clusters  # lazy: see the module's imports

    if not rows:
        return zones_from_clusters([], crs=crs)
    with paused_gc():  # a few hundred thousand small lists and dicts (zones_kept.paused_gc)
        return _kept_frame_of(rows, crs=crs, wkb=wkb)


def _kept_frame_of(
    rows: list[tuple[Any, ...]], *, crs: str, wkb: list[bytes | None] | None
) -> gpd.GeoDataFrame:
    import geopandas as gpd  # lazy: see the module's imports
    import numpy as np  # lazy: with the line above

    ids, area, parcels, holders, county, counties, l1, l2, mix, mix_mu = map(list, zip(*rows, strict=True))
    columns = {
        "zone_id": ids,
        "area_mu": np.array(area, dtype=np.float64),
        "n_parcels": np.array([len(p) for p in parcels], dtype=np.int64),
        "parcels": parcels,
        "holders": np.array(holders, dtype=np.int64),
        "county_code": county,
        "county_codes": counties,
    }
    if wkb is not None and len(wkb) != len(rows):  # one shape per kept zone (NULL when no member is current)
        raise RuntimeError(
            f"{len(wkb)} zones' shapes read for {len(rows)} kept zones: the set was deleted while it was read"
        )
    shapes = gpd.GeoSeries.from_wkb([None] * len(rows) if wkb is None else wkb, crs=crs)
    zones = gpd.GeoDataFrame(columns, geometry=shapes.values, crs=crs)
    mu = {1: np.array(l1, dtype=np.float64), 2: np.array(l2, dtype=np.float64)}
    return _with_description(zones, mu, np.array(mix, dtype=np.float64), np.array(mix_mu, dtype=np.float64))


def judged_zones(
    engine: Engine, judgement_id: int, *, mark_set: str, min_mu: float, gap_m: float, geometry: bool = True
) -> gpd.GeoDataFrame:
    """The candidate zones of a stored judgement, described: ``describe_in_store(detect_zones_in_store(…))``.

    The same rows, columns and values, from one query over the judgement's rows of ``judged_low_efficiency``
    (migration 0015): its low-efficiency parcels are not passed to the store and back, and each member's area
    inside the lines is the one stored with the judgement, summed, not computed again. A judgement stored
    without those rows (written by an older release, or emptied by a crash) gets them first.
    """
    import numpy as np  # lazy: see the module's imports

    from zoning.consolidation import check_thresholds, zones_from_clusters  # lazy: with the line above

    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    _ensure_low_rows(engine, judgement_id)
    with transaction(engine) as conn:
        conn.execute(sa.text(NO_NESTED_LOOPS))
        srid = storage_srid(conn)
        rows = conn.execute(
            sa.text(cluster_sql(judged=True, geometry=geometry)),
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
    import numpy as np  # lazy: see the module's imports

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
    import numpy as np  # lazy: see the module's imports

    categories = [*GRADES, "unrated"]
    counts = areas = np.zeros((len(zones), len(categories)))
    if len(zone_of):
        counts, areas = _mix(zone_of, area_mu, grades, len(zones), categories)
    return _with_description(zones, mu, counts, areas)


def _with_description(
    zones: gpd.GeoDataFrame,
    mu: dict[int, npt.NDArray[np.float64]],
    counts: npt.NDArray[np.float64],
    areas: npt.NDArray[np.float64],
) -> gpd.GeoDataFrame:
    """A copy of ``zones`` with the columns ``describe_in_store`` adds.

    From each zone's 亩 per level (``mu``) and its members' count and 亩 per grade (``counts``, ``areas``: one
    row per zone, a column per grade in the order of ``GRADES`` then ``unrated``).
    """
    out = zones.copy()
    categories = [*GRADES, "unrated"]
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
    import pandas as pd  # lazy: see the module's imports

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
