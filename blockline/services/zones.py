"""Candidate 连片开发 zones of the store from the city's stored judgement, set-based in PostGIS.

The low-efficiency parcels are the judgement's (``blockline.services.judged``), clustered by ``ST_ClusterDBSCAN``
(``zoning.consolidation.detect_zones_in_store``). Each zone is then described in two queries instead of
reading its parcels and every rating into pandas: its block-line levels (each member parcel's area inside the
union of the current level-1 / level-2 lines it meets, summed per zone and level, as
``describe_zones_in_store`` computes them) and its rating mix (each member's grade as the map's marks of the
same judgement hold it, ``zoning.consolidation.latest_grade`` at the date, and its ``area_mu``).
The columns, values and order are those of ``describe_zones_in_store``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import numpy.typing as npt

    from zoning.policy import Profile

__all__ = ["candidate_zones", "describe_in_store"]

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
    from blockline.services.judged import judge_city
    from blockline.services.marks import ensure_marks
    from zoning.consolidation import detect_zones_in_store

    low = judge_city(engine, as_of=as_of, profile=profile).low_efficiency()
    zones = detect_zones_in_store(
        engine, low_efficiency_parcel_nos=low, min_mu=min_mu, gap_m=gap_m, geometry=geometry
    )
    if len(zones) == 0:  # as the command and the page always gave them: not described
        return zones
    return describe_in_store(engine, zones, mark_set=ensure_marks(engine, as_of=as_of, profile=profile))


def describe_in_store(engine: Engine, zones: gpd.GeoDataFrame, *, mark_set: str) -> gpd.GeoDataFrame:
    """``zones`` with ``block_line_levels``, ``level1_mu``, ``level2_mu``, ``rating_mix`` and ``rating_mix_mu``,
    computed in PostGIS; the grades are those of the marks ``mark_set`` (``blockline.services.marks``).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import numpy as np

    from geo.area import M2_PER_MU
    from zoning.consolidation import EPSILON_MU, GRADES

    out = zones.copy()
    sizes = [len(p) for p in zones["parcels"]]
    zone_of = np.arange(len(zones)).repeat(sizes)
    nos = [str(no) for p in zones["parcels"] for no in p]
    mu = {1: np.zeros(len(zones)), 2: np.zeros(len(zones))}
    categories = [*GRADES, "unrated"]
    counts = areas = np.zeros((len(zones), len(categories)))
    if nos:
        with engine.connect() as conn:
            for zone, level, m2 in conn.execute(
                sa.text(_LEVELS_SQL), {"zones": zone_of.tolist(), "nos": nos}
            ):
                mu[int(level)][int(zone)] = float(m2) / M2_PER_MU
            rows = conn.execute(sa.text(_MIX_SQL), {"nos": nos, "marks": mark_set}).all()
        if len(rows) != len(nos):
            raise ValueError("zones name parcels that are not current parcels of the store")
        counts, areas = _mix(
            zone_of, [r[1] for r in rows], [r[2] or "unrated" for r in rows], len(zones), categories
        )
    out["block_line_levels"] = [
        [lv for lv, m in ((1, a), (2, b)) if m >= EPSILON_MU] for a, b in zip(mu[1], mu[2], strict=True)
    ]
    out["level1_mu"] = mu[1]
    out["level2_mu"] = mu[2]
    out["rating_mix"] = [{g: int(v) for g, v in zip(categories, row, strict=False)} for row in counts]
    out["rating_mix_mu"] = [{g: float(v) for g, v in zip(categories, row, strict=False)} for row in areas]
    return out


def _mix(
    zone_of: npt.NDArray[np.intp], area_mu: list[float], grade: list[str], n_zones: int, categories: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Members per zone and grade, and their 亩, summed as ``zoning.consolidation.describe_zones`` sums them
    (pandas' pivot in the members' order, so the floating sums are the same to the last bit).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import pandas as pd

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
