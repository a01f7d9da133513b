"""A consolidation zone a planner draws (连片开发, WZ §12): what it takes, from whom, and whether it is enough.

:func:`assess_zone` is the answer of ``blockline zones assess`` (CLI.md) and of the zones page's drawing;
``zoning.consolidation`` re-exports it with the candidate zones it is compared with.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.area import M2_PER_MU
from zoning._zones import (
    _LOW,
    FloatArray,
    _check_frame,
    _check_geometries,
    _check_lines,
    _check_number,
    _check_parcel_numbers,
    _check_zone,
    _holder_keys,
    _low_flags,
    _overlap_m2,
    _reaches,
    _text,
)
from zoning.policy import Profile
from zoning.zone_terms import EPSILON_MU

__all__ = ["ASSESS_FIELDS", "ASSESS_PARCEL_FIELDS", "assess_zone"]

#: the keys of :func:`assess_zone`'s result: CLI.md's ``zones assess`` fields, then article, policy,
#: parcels_area_mu
ASSESS_FIELDS = (
    "area_mu",
    "meets_threshold",
    "holders",
    "low_efficiency_share",
    "parcels",
    "block_line_levels",
    "article",
    "policy",
    "parcels_area_mu",
)

#: the keys of each entry of ``assess_zone(...)["parcels"]``
ASSESS_PARCEL_FIELDS = ("parcel_no", "share", "area_in_zone_mu", "low_efficiency", "holder", "rating")

_SHARE_RTOL = 1e-9  # a share computed as exactly the limit may come out a few ulps below it


# long: the docstring (70 lines) is the contract of ``blockline zones assess`` (CLI.md) with a worked example;
# the code is 20 lines, the work in the helpers below
def assess_zone(
    zone: BaseGeometry,
    parcels: gpd.GeoDataFrame,
    *,
    level1: gpd.GeoDataFrame,
    level2: gpd.GeoDataFrame,
    profile: Profile,
    min_mu: float | None = None,
) -> dict[str, Any]:
    """Assess a zone a planner draws: the JSON of ``blockline zones assess`` (CLI.md).

    A parcel is taken when part of it lies inside the zone with positive area and its share inside (the
    area of parcel ∩ zone over the parcel's area) is at least ``consolidation.min_share_inside``: a parcel
    that only touches the zone's edge, or barely enters it, is not taken.

    Parameters
    ----------
    zone : shapely.Polygon or shapely.MultiPolygon
        The drawn zone, in the parcels' CRS (the storage CRS, EPSG:4549 for Wenzhou).
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS in metres with ``parcel_no`` and a boolean ``low_efficiency`` (missing
        counts as False); optionally ``holder``, ``holder_id`` and ``rating`` (the grade that counts, e.g.
        from ``zoning.consolidation.latest_grade``).
    level1, level2 : geopandas.GeoDataFrame
        工业区块线 level-1 and level-2 lines, in the same CRS.
    profile : zoning.policy.Profile
        The policy: ``consolidation.min_mu`` (unless ``min_mu`` is given) and
        ``consolidation.min_share_inside``.
    min_mu : float, optional
        The threshold in 亩, instead of the profile's (e.g. a planner's what-if).

    Returns
    -------
    dict
        With exactly the keys of :data:`ASSESS_FIELDS`, all JSON-serialisable:

        - ``area_mu``: the area of the drawn polygon (roads and all), in 亩;
        - ``meets_threshold``: ``area_mu`` ≥ the threshold (to the hundredth of a 亩);
        - ``holders``: distinct right holders of the parcels taken (by ``holder_id``, else ``holder``;
          a parcel with neither counts as a holder of its own);
        - ``low_efficiency_share``: of the parcel land taken inside the zone (``parcels_area_mu``, the sum
          of ``area_in_zone_mu`` over the parcels taken, not the zone's own area, which includes roads),
          the share that belongs to low-efficiency parcels; 0.0 when no parcel is taken;
        - ``parcels``: one entry per parcel taken, by parcel number, with :data:`ASSESS_PARCEL_FIELDS`:
          ``share`` (of the parcel inside the zone, 0–1), ``area_in_zone_mu``, ``low_efficiency``,
          ``holder`` (name, else 统一社会信用代码, else None) and ``rating`` (None without a ``rating`` column);
        - ``block_line_levels``: the levels whose lines the zone overlaps by at least :data:`EPSILON_MU`,
          sorted (an empty layer, even without a CRS, is no level);
        - ``article``: where the threshold comes from (``profile.cite("consolidation.min_mu")``);
        - ``policy``: the profile's name;
        - ``parcels_area_mu``: the parcel land taken inside the zone, in 亩.

    Raises
    ------
    ValueError
        When the zone is not a valid, non-empty Polygon or MultiPolygon, looks like longitude/latitude,
        when a frame has no CRS or a geographic one or the CRSs differ, when ``parcels`` lacks
        ``parcel_no`` or ``low_efficiency``, or a parcel the zone reaches has an invalid geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from zoning.policy import get_profile
    >>> x, y = 568_000.0, 3_097_000.0
    >>> parcels = gpd.GeoDataFrame(
    ...     {"parcel_no": ["A", "B"], "holder": ["甲", "乙"], "low_efficiency": [True, False]},
    ...     geometry=[box(x, y, x + 100, y + 100), box(x + 100, y, x + 200, y + 100)], crs="EPSG:4549")
    >>> none = gpd.GeoDataFrame(geometry=[], crs="EPSG:4549")
    >>> result = assess_zone(box(x + 50, y, x + 200, y + 100), parcels, level1=none, level2=none,
    ...                      profile=get_profile("wenzhou-2020"))
    >>> round(result["area_mu"], 2), result["meets_threshold"], result["holders"], result["article"]
    (22.5, False, 2, 'wenzhou-2020 WZ §12')
    >>> [(p["parcel_no"], round(p["share"], 2), round(p["area_in_zone_mu"], 2)) for p in result["parcels"]]
    [('A', 0.5, 7.5), ('B', 1.0, 15.0)]
    >>> round(result["low_efficiency_share"], 4)  # 7.5 of the 22.5 亩 of parcel land taken
    0.3333
    """
    _check_frame(parcels, what="parcels", columns=("parcel_no", _LOW))
    level1 = _check_lines(level1, what="level1", reference=parcels)
    level2 = _check_lines(level2, what="level2", reference=parcels)
    zone = _check_zone(zone, parcels)
    threshold = _check_number(
        profile.value("consolidation.min_mu") if min_mu is None else min_mu, name="min_mu", positive=True
    )
    rows, share, inside_mu = _taken(
        zone, parcels, min_share=float(profile.value("consolidation.min_share_inside"))
    )
    sub = parcels.iloc[rows]
    nos = _check_parcel_numbers(sub["parcel_no"], what="parcels in the zone")
    entries, land_mu, low_mu = _entries(sub, nos, share=share, inside_mu=inside_mu)
    area_mu = zone.area / M2_PER_MU
    return {
        "area_mu": float(area_mu),
        "meets_threshold": bool(_reaches(area_mu, threshold)),
        "holders": int(_holder_keys(sub, nos).nunique()),
        "low_efficiency_share": low_mu / land_mu if land_mu > 0 else 0.0,
        "parcels": entries,
        "block_line_levels": _levels_of(zone, level1, level2),
        "article": profile.cite("consolidation.min_mu"),
        "policy": profile.name,
        "parcels_area_mu": land_mu,
    }


def _taken(
    zone: BaseGeometry, parcels: gpd.GeoDataFrame, *, min_share: float
) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray]:
    """The rows of the parcels the zone takes, the share of each inside it and its 亩 inside it."""
    # the frame's own spatial index (an STRtree), built once and kept with the frame by geopandas
    near = np.sort(parcels.sindex.query(zone, predicate="intersects"))
    near_geoms = parcels.geometry.to_numpy()[near]
    _check_geometries(near_geoms, parcels.index[near], what="parcels in the zone")
    inside_m2 = shapely.area(shapely.intersection(near_geoms, zone))
    share = np.minimum(inside_m2 / shapely.area(near_geoms), 1.0)
    taken = (inside_m2 > 0) & (share >= min_share * (1 - _SHARE_RTOL))
    return near[taken], share[taken], inside_m2[taken] / M2_PER_MU


def _entries(
    sub: gpd.GeoDataFrame, nos: npt.NDArray[np.object_], *, share: FloatArray, inside_mu: FloatArray
) -> tuple[list[dict[str, Any]], float, float]:
    """The parcels taken, by parcel number (:data:`ASSESS_PARCEL_FIELDS`), their 亩 inside and the low ones'."""
    low = _low_flags(sub)
    names = _or_none(_text(sub, "holder").fillna(_text(sub, "holder_id")))
    grades = (
        _or_none(_text(sub, "rating")) if "rating" in sub.columns else np.full(len(sub), None, dtype=object)
    )
    order = np.argsort(nos, kind="stable")
    entries = [
        {
            "parcel_no": str(nos[i]),
            "share": float(share[i]),
            "area_in_zone_mu": float(inside_mu[i]),
            "low_efficiency": bool(low[i]),
            "holder": names[i],
            "rating": grades[i],
        }
        for i in order
    ]
    return entries, float(inside_mu[order].sum()), float(inside_mu[order][low[order]].sum())


def _or_none(values: pd.Series) -> npt.NDArray[np.object_]:
    """The values as Python objects, None where missing."""
    out = np.array(values.to_numpy(dtype=object), dtype=object)  # a writable copy
    out[pd.isna(out)] = None
    return out


def _levels_of(zone: BaseGeometry, level1: gpd.GeoDataFrame, level2: gpd.GeoDataFrame) -> list[int]:
    """The levels whose lines the zone overlaps by at least :data:`EPSILON_MU`, sorted."""
    one = np.empty(1, dtype=object)
    one[0] = zone
    return [
        lv for lv, lines in ((1, level1), (2, level2)) if _overlap_m2(one, lines)[0] / M2_PER_MU >= EPSILON_MU
    ]
