"""Consolidation zones (连片开发, WZ §12): candidate zones of contiguous low-efficiency land, and drawn zones.

Inside urban low-efficiency land an industrial area may be acquired and redeveloped as one project when it
reaches a size (``consolidation.min_mu`` of the policy profile, "一般达到50亩以上").

- :func:`detect_zones` finds the candidates: groups of low-efficiency parcels that touch or lie within
  ``gap_m`` of each other (a road), transitively, whose total parcel area reaches ``min_mu``. Distances are
  the true minimum distances between the polygons (GEOS), never buffers: a buffer is a polygon with a few
  segments per quarter circle, and misses a corner-to-corner gap just under the tolerance.
- :func:`describe_zones` adds what a planner asks next: the block-line levels a zone lies in and the mix of
  its enterprises' 亩均论英雄 ratings (``blockline.services.zones`` does the same on the store, in PostGIS,
  with :func:`zone_levels` and :func:`with_rating_mix`; :func:`zones_from_clusters` reads its clusters).
- :func:`assess_zone` (``zoning.assess``) answers for a polygon a planner draws: its area, the parcels it
  takes and their share inside, the right holders to negotiate with, the share of low-efficiency land, the ratings, the
  block-line levels, and whether it reaches the threshold (``blockline zones assess``, CLI.md).
- :func:`latest_grade` is each parcel's most recent rating before a date, by parcel or by enterprise.

The boundaries of WZ §12 are legal ones (民法典 §1259): 达到50亩 includes 50.00 亩 and 不超过15米 includes
15.000 m. Areas are compared to the hundredth of a 亩 a planner reports (a zone reaches ``min_mu`` when its
area ≥ ``min_mu`` − :data:`EPSILON_MU`), distances to the millimetre (two parcels join when their distance ≤
``gap_m`` + :data:`EPSILON_M`), so that an exact boundary gives the legal answer whatever CRS the file came in.

Every function takes the low-efficiency flag as a boolean column ``low_efficiency`` of the parcels frame
(from ``zoning.idle`` or a survey), works in the parcels' projected CRS in metres, and never modifies its
inputs. Areas are in 亩 (1 亩 = 10000/15 m²): a 100 m × 100 m parcel is 15 亩.

Examples
--------
Four 15-亩 parcels on the two sides of a 12 m road make one 60-亩 zone at a 15 m tolerance:

>>> import geopandas as gpd
>>> from shapely import box
>>> x, y = 568_000.0, 3_097_000.0
>>> parcels = gpd.GeoDataFrame(
...     {"parcel_no": ["A", "B", "C", "D"], "holder": ["甲", "乙", "丙", "丙"],
...      "county_code": "330302", "low_efficiency": True},
...     geometry=[box(x, y, x + 100, y + 100), box(x, y + 100, x + 100, y + 200),
...               box(x + 112, y, x + 212, y + 100), box(x + 112, y + 100, x + 212, y + 200)],
...     crs="EPSG:4549")
>>> zones = detect_zones(parcels, min_mu=50, gap_m=15)
>>> zones[["area_mu", "parcels", "holders", "county_code"]].to_dict("records")
[{'area_mu': 60.0, 'parcels': ['A', 'B', 'C', 'D'], 'holders': 3, 'county_code': '330302'}]
>>> len(detect_zones(parcels, min_mu=50, gap_m=10))  # the road is wider than 10 m: two groups of 30 亩
0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.area import M2_PER_MU
from zoning._zones import (
    _LOW,
    _SHOW,
    ZONE_COLUMNS,
    FloatArray,
    _area_mu,
    _check_frame,
    _check_number,
    _check_parcel_numbers,
    _checked_lines,
    _count_distinct,
    _empty_zones,
    _groups,
    _holder_keys,
    _low_flags,
    _low_parcels,
    _overlap_m2,
    _reaches,
    _text,
    _union_by_zone,
    _zone_counties,
    _zone_id,
)
from zoning.assess import ASSESS_FIELDS, ASSESS_PARCEL_FIELDS, assess_zone
from zoning.grades import latest_grades
from zoning.zone_terms import EPSILON_M, EPSILON_MU, GRADES, zone_levels

__all__ = [
    "ASSESS_FIELDS",
    "ASSESS_PARCEL_FIELDS",
    "EPSILON_M",
    "EPSILON_MU",
    "GRADES",
    "ZONE_COLUMNS",
    "assess_zone",
    "check_thresholds",
    "describe_zones",
    "detect_zones",
    "latest_grade",
    "with_rating_mix",
    "zone_levels",
    "zones_from_clusters",
]


# ======================================================================================================
# candidate zones
# ======================================================================================================


def check_thresholds(*, min_mu: float, gap_m: float) -> tuple[float, float]:
    """``min_mu`` (> 0) and ``gap_m`` (≥ 0) as numbers, refused (``ValueError``) as :func:`detect_zones` refuses them.

    Examples
    --------
    >>> check_thresholds(min_mu=50, gap_m=0)
    (50.0, 0.0)
    """
    return _check_number(min_mu, name="min_mu", positive=True), _check_number(
        gap_m, name="gap_m", positive=False
    )


def detect_zones(parcels: gpd.GeoDataFrame, *, min_mu: float, gap_m: float) -> gpd.GeoDataFrame:
    """Candidate consolidation zones: contiguous low-efficiency parcels whose total area reaches ``min_mu``.

    Two low-efficiency parcels belong to the same group when they touch or the true minimum distance
    between their polygons is at most ``gap_m`` (a road between them; to the millimetre, :data:`EPSILON_M`,
    so that 15.000 m joins at 15 m whatever floating noise a reprojection left), and groups are closed transitively:
    A–B and B–C put A, B and C together. Only parcels whose ``low_efficiency`` is True take part, so a
    healthy parcel between two low-efficiency ones never bridges them. A group is a zone when the sum of
    its parcels' areas is at least ``min_mu`` (to the hundredth of a 亩, :data:`EPSILON_MU`).

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected CRS in metres, with ``parcel_no`` and a boolean ``low_efficiency`` (a missing
        value counts as False); optionally ``area_mu`` (used where present, else computed from the
        geometry), ``holder_id`` and ``holder`` (for counting right holders) and ``county_code``.
    min_mu : float
        The size a zone must reach, in 亩 (policy profile ``consolidation.min_mu``).
    gap_m : float
        The largest distance in metres at which two parcels still count as contiguous (profile
        ``consolidation.gap_m``); 0 joins only parcels that touch.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone, largest first (ties by ``zone_id``), index 0…n-1, in the parcels' CRS, with
        the columns of :data:`ZONE_COLUMNS`:

        - ``zone_id``: ``"Z-" + county_code + "-" +`` a hash of the sorted parcel numbers (``"Z-" +`` the
          hash when the parcels have no county). It depends only on which parcels form the zone, never on
          the order of the rows, and is the same in every run on the same data;
        - ``area_mu``: the sum of its parcels' areas; ``n_parcels``; ``parcels``: sorted parcel numbers;
        - ``holders``: the number of distinct right holders (by ``holder_id``, else ``holder``; a parcel
          with neither counts as a holder of its own);
        - ``county_code``: the county holding most of the zone's area (None without ``county_code``);
          ``county_codes``: every county it spans, sorted;
        - ``geometry``: the union of its parcels (for display; a MultiPolygon when roads separate them).

    Raises
    ------
    TypeError
        When ``parcels`` is not a GeoDataFrame.
    ValueError
        When ``parcels`` has no CRS or a geographic one, lacks ``parcel_no`` or ``low_efficiency``, when
        ``min_mu`` ≤ 0 or ``gap_m`` < 0, or when a low-efficiency parcel has no parcel number, a repeated
        one, or a missing, non-polygonal or invalid geometry (the rows are named).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> x, y = 568_000.0, 3_097_000.0
    >>> parcels = gpd.GeoDataFrame(
    ...     {"parcel_no": ["A", "B", "C"], "holder_id": ["91-1", "91-1", "91-2"],
    ...      "low_efficiency": [True, True, False]},
    ...     geometry=[box(x, y, x + 200, y + 100), box(x + 210, y, x + 410, y + 100),
    ...               box(x + 420, y, x + 620, y + 100)],
    ...     crs="EPSG:4549")
    >>> zones = detect_zones(parcels, min_mu=50, gap_m=15)  # C is healthy: A + B = 60 亩, one holder
    >>> zones[["area_mu", "parcels", "holders"]].to_dict("records")
    [{'area_mu': 60.0, 'parcels': ['A', 'B'], 'holders': 1}]
    >>> zones.loc[0, "zone_id"].startswith("Z-")
    True
    """
    _check_frame(parcels, what="parcels", columns=("parcel_no", _LOW))
    min_mu, gap_m = check_thresholds(min_mu=min_mu, gap_m=gap_m)
    rows = np.flatnonzero(_low_flags(parcels))
    if rows.size == 0:
        return _empty_zones(parcels.crs)
    low, nos, geoms = _low_parcels(parcels, rows)
    area = _area_mu(low, geoms)
    label, group_mu = _groups(geoms, area, gap_m)
    members = np.flatnonzero(_reaches(group_mu, min_mu)[label])
    if members.size == 0:
        return _empty_zones(parcels.crs)
    return _zones_of(members, label, group_mu, low=low, nos=nos, geoms=geoms, area=area, crs=parcels.crs)


def _zones_of(
    members: npt.NDArray[np.intp],
    label: npt.NDArray[np.int32],
    group_mu: FloatArray,
    *,
    low: pd.DataFrame,
    nos: npt.NDArray[np.object_],
    geoms: np.ndarray,
    area: FloatArray,
    crs: Any,
) -> gpd.GeoDataFrame:
    """The zones of the groups ``members`` belong to: :data:`ZONE_COLUMNS`, largest first."""
    # members grouped by zone (zones numbered 0…k-1), each zone's parcels in parcel-number order
    members = members[np.argsort(label[members], kind="stable")]
    starts = np.flatnonzero(np.r_[True, label[members][1:] != label[members][:-1]])
    sizes = np.diff(np.r_[starts, members.size])
    zone_of = np.repeat(np.arange(starts.size), sizes)
    member_nos = nos[members].tolist()
    parcel_lists = [member_nos[a:b] for a, b in zip(starts.tolist(), (starts + sizes).tolist(), strict=False)]
    county, county_codes = _zone_counties(
        zone_of, _text(low, "county_code").iloc[members], area[members], n_zones=starts.size
    )
    columns = {
        "zone_id": [_zone_id(c, p) for c, p in zip(county, parcel_lists, strict=False)],
        "area_mu": group_mu[label[members[starts]]],
        "n_parcels": sizes.astype(np.int64),
        "parcels": parcel_lists,
        "holders": _count_distinct(zone_of, _holder_keys(low, nos).iloc[members], n_zones=starts.size),
        "county_code": county,
        "county_codes": county_codes,
    }
    geometry = _union_by_zone(geoms[members], starts=starts, sizes=sizes)
    return _ranked(columns, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)


def _ranked(columns: dict[str, Any], *, geometry: Any, crs: Any) -> gpd.GeoDataFrame:
    """The zones' frame, largest first, ties by ``zone_id``, index 0…n-1."""
    zones = gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)
    rank = np.lexsort((np.array(columns["zone_id"], dtype=object), -np.asarray(columns["area_mu"])))
    return zones.iloc[rank].reset_index(drop=True)


def zones_from_clusters(clusters: Sequence[Sequence[Any]], *, crs: str) -> gpd.GeoDataFrame:
    """:func:`detect_zones`' frame (columns, ids and order) of zones clustered elsewhere, e.g. in PostGIS.

    Each cluster is ``(area_mu, parcel numbers, holders, main county or None, counties, WKB or None)``;
    the geometry is the WKB's (None without it).

    Examples
    --------
    >>> zones_from_clusters([(60.0, ["B", "A"], 2, None, [], None)], crs="EPSG:4549")[["parcels", "holders"]]
      parcels  holders
    0  [A, B]        2
    """
    if not clusters:
        return _empty_zones(crs)
    parcel_lists = [sorted(r[1]) for r in clusters]  # in parcel-number order, as detect_zones lists them
    counties = [r[3] for r in clusters]
    columns = {
        "zone_id": [_zone_id(c, p) for c, p in zip(counties, parcel_lists, strict=False)],
        "area_mu": np.array([float(r[0]) for r in clusters]),
        "n_parcels": np.array([len(p) for p in parcel_lists], dtype=np.int64),
        "parcels": parcel_lists,
        "holders": np.array([int(r[2]) for r in clusters], dtype=np.int64),
        "county_code": counties,
        "county_codes": [list(r[4]) for r in clusters],
    }
    wkb = [bytes(r[5]) if r[5] is not None else None for r in clusters]
    return _ranked(columns, geometry=gpd.GeoSeries.from_wkb(wkb, crs=crs).values, crs=crs)


# ======================================================================================================
# ratings
# ======================================================================================================


def latest_grade(parcels: pd.DataFrame, ratings: pd.DataFrame, *, as_of: dt.date) -> pd.Series:
    """Each parcel's most recent 亩均论英雄 grade of a year before ``as_of``'s year ("上年" and earlier).

    A grade given to the parcel (``ratings.parcel_no``) and one given to its enterprise
    (``ratings.holder_id``) both count; the more recent year wins, and the parcel's own grade when both
    are of the same year; two grades of one kind in a year: the worst (``zoning.grades``, the one home of
    "the grade that counts", which the findings use too).

    Parameters
    ----------
    parcels : pandas.DataFrame
        With ``parcel_no`` and, for enterprise grades, ``holder_id``.
    ratings : pandas.DataFrame
        ``year``, ``grade`` (A–D) and ``parcel_no`` and/or ``holder_id`` (as ``geo.queries.read_ratings``
        and ``blockline.demo`` give them).
    as_of : datetime.date
        The day of the analysis: grades of ``as_of.year`` or later are not yet known and are ignored.

    Returns
    -------
    pandas.Series
        Named ``rating``, with the index of ``parcels``: ``"A"``–``"D"``, or None for a parcel without a
        grade.

    Examples
    --------
    >>> import datetime, pandas as pd
    >>> parcels = pd.DataFrame({"parcel_no": ["P1", "P2", "P3"], "holder_id": ["H1", "H1", None]})
    >>> ratings = pd.DataFrame({"holder_id": ["H1", "H1", "H1", None], "parcel_no": [None, None, None, "P2"],
    ...                         "year": [2024, 2025, 2026, 2025], "grade": ["B", "C", "A", "D"]})
    >>> latest_grade(parcels, ratings, as_of=datetime.date(2026, 6, 1)).tolist()
    ['C', 'D', None]
    """
    return latest_grades(parcels, ratings, as_of=as_of)


# ======================================================================================================
# describing candidate zones
# ======================================================================================================


def describe_zones(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    level1: gpd.GeoDataFrame,
    level2: gpd.GeoDataFrame,
    ratings: pd.DataFrame,
    as_of: dt.date,
) -> gpd.GeoDataFrame:
    """The zones of :func:`detect_zones` with their block-line levels and their mix of ratings.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        The result of :func:`detect_zones` (``parcels`` and ``geometry`` are used).
    parcels : geopandas.GeoDataFrame
        The parcels the zones were found among (``parcel_no``, ``holder_id``, optional ``area_mu``), same CRS.
    level1, level2 : geopandas.GeoDataFrame
        工业区块线 level-1 and level-2 lines (any columns; geometry in the same CRS), e.g.
        ``geo.queries.read_blocklines(engine, level=1)``.
    ratings : pandas.DataFrame
        亩均论英雄 ratings (``year``, ``grade``, ``parcel_no`` and/or ``holder_id``), e.g.
        ``geo.queries.read_ratings(engine)``.
    as_of : datetime.date
        The day of the analysis: each parcel's grade is its latest before that year (:func:`latest_grade`).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, the index of ``zones`` kept, with the columns of ``zones`` and:

        - ``block_line_levels``: sorted list of the levels (1, 2) whose lines the zone overlaps by at least
          :data:`EPSILON_MU` (what a planner sees as 0.01 亩): a line that only touches the zone, or overlaps
          it by a sliver of rounding noise, is not listed;
        - ``level1_mu``, ``level2_mu``: the area of the zone's parcels inside level-1 / level-2 lines;
        - ``rating_mix``: ``{"A": n, "B": n, "C": n, "D": n, "unrated": n}``, the zone's parcels by grade;
        - ``rating_mix_mu``: the same in 亩 of parcel area.

    Raises
    ------
    ValueError
        When a frame has no CRS or a geographic one, the CRSs differ, a zone has no geometry (zones read
        without it, e.g. ``blockline.services.zones.detect_zones_in_store(..., geometry=False)``: use
        ``describe_zones_in_store``),
        or a zone names a parcel number that is not (or more than once) in ``parcels``. An empty block-line
        layer without a CRS (a store with no lines yet) is not an error: no zone lies in that level.

    Examples
    --------
    >>> import datetime
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> x, y = 568_000.0, 3_097_000.0
    >>> parcels = gpd.GeoDataFrame(
    ...     {"parcel_no": ["A", "B", "C", "D"], "holder_id": ["H1", "H2", "H3", "H4"], "low_efficiency": True},
    ...     geometry=[box(x, y, x + 100, y + 100), box(x, y + 100, x + 100, y + 200),
    ...               box(x + 112, y, x + 212, y + 100), box(x + 112, y + 100, x + 212, y + 200)],
    ...     crs="EPSG:4549")
    >>> zones = detect_zones(parcels, min_mu=50, gap_m=15)
    >>> level1 = gpd.GeoDataFrame(geometry=[box(x - 50, y - 50, x + 50, y + 250)], crs="EPSG:4549")
    >>> level2 = gpd.GeoDataFrame(geometry=[box(x + 212, y, x + 400, y + 200)], crs="EPSG:4549")  # touches
    >>> ratings = pd.DataFrame({"holder_id": ["H1", "H2", "H3"], "year": [2025, 2025, 2025],
    ...                         "grade": ["C", "D", "C"]})
    >>> out = describe_zones(zones, parcels, level1=level1, level2=level2, ratings=ratings,
    ...                      as_of=datetime.date(2026, 6, 1))
    >>> out[["block_line_levels", "level1_mu", "level2_mu"]].round(2).to_dict("records")
    [{'block_line_levels': [1], 'level1_mu': 15.0, 'level2_mu': 0.0}]
    >>> out.loc[0, "rating_mix"]
    {'A': 0, 'B': 0, 'C': 2, 'D': 1, 'unrated': 1}
    """
    level1, level2 = _checked_lines(zones, parcels, level1=level1, level2=level2)
    out = zones.copy()
    level1_mu = _overlap_m2(zones.geometry.to_numpy(), level1) / M2_PER_MU
    level2_mu = _overlap_m2(zones.geometry.to_numpy(), level2) / M2_PER_MU
    out["block_line_levels"] = zone_levels(level1_mu, level2_mu)
    out["level1_mu"] = level1_mu
    out["level2_mu"] = level2_mu
    return with_rating_mix(out, parcels, ratings=ratings, as_of=as_of)


def with_rating_mix(
    out: pd.DataFrame, parcels: pd.DataFrame, *, ratings: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """``out`` (zones with ``parcels``) with ``rating_mix`` and ``rating_mix_mu`` of their parcels' grades.

    ``out`` is changed and returned (the caller's copy of the zones); ``parcels`` are those the zones name,
    with ``parcel_no`` and ``area_mu`` or a geometry, graded by :func:`latest_grade` at ``as_of``.
    """
    categories = [*GRADES, "unrated"]
    if len(out) == 0:
        out["rating_mix"] = pd.Series([], dtype=object, index=out.index)
        out["rating_mix_mu"] = pd.Series([], dtype=object, index=out.index)
        return out
    members = pd.DataFrame(
        {
            "zone": np.arange(len(out)).repeat([len(p) for p in out["parcels"]]),
            "parcel_no": [no for p in out["parcels"] for no in p],
        }
    )
    nos = parcels["parcel_no"].astype(str)
    wanted = nos.isin(set(members["parcel_no"])).to_numpy()
    sub = parcels.iloc[np.flatnonzero(wanted)]
    sub_nos = pd.Series(_check_parcel_numbers(sub["parcel_no"], what="parcels of the zones"), index=sub.index)
    unknown = ~members["parcel_no"].isin(set(sub_nos))
    if unknown.any():
        raise ValueError(
            f"zones name parcels not in parcels: {sorted(set(members['parcel_no'][unknown]))[:_SHOW]}"
        )
    grade = latest_grade(sub, ratings, as_of=as_of).fillna("unrated")
    info = pd.DataFrame(
        {"grade": grade.to_numpy(dtype=object), "mu": _area_mu(sub)}, index=sub_nos.to_numpy()
    )
    members = members.join(info, on="parcel_no")
    members["grade"] = pd.Categorical(members["grade"], categories=categories)
    counts = members.pivot_table(index="zone", columns="grade", values="mu", aggfunc="size", observed=False)
    areas = members.pivot_table(index="zone", columns="grade", values="mu", aggfunc="sum", observed=False)
    counts = counts.reindex(index=range(len(out)), columns=categories).fillna(0)
    areas = areas.reindex(index=range(len(out)), columns=categories).fillna(0.0)
    out["rating_mix"] = pd.Series(
        [{g: int(v) for g, v in zip(categories, row, strict=False)} for row in counts.to_numpy()],
        index=out.index,
        dtype=object,
    )
    out["rating_mix_mu"] = pd.Series(
        [{g: float(v) for g, v in zip(categories, row, strict=False)} for row in areas.to_numpy()],
        index=out.index,
        dtype=object,
    )
    return out
