"""Consolidation zones (连片开发, WZ §12): candidate zones of contiguous low-efficiency land, and drawn zones.

Inside urban low-efficiency land an industrial area may be acquired and redeveloped as one project when it
reaches a size (``consolidation.min_mu`` of the policy profile, "一般达到50亩以上").

- :func:`detect_zones` finds the candidates: groups of low-efficiency parcels that touch or lie within
  ``gap_m`` of each other (a road), transitively, whose total parcel area reaches ``min_mu``. Distances are
  the true minimum distances between the polygons (GEOS), never buffers: a buffer is a polygon with a few
  segments per quarter circle, and misses a corner-to-corner gap just under the tolerance.
- :func:`describe_zones` adds what a planner asks next: the block-line levels a zone lies in and the mix of
  its enterprises' 亩均论英雄 ratings; :func:`describe_zones_in_store` does the same on the store, the levels
  by an indexed join of the zone's parcels with the current lines in PostGIS.
- :func:`assess_zone` answers for a polygon a planner draws: its area, the parcels it takes and their
  share inside, the right holders to negotiate with, the share of low-efficiency land, the ratings, the
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
import hashlib
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geo.area import M2_PER_MU, assert_projected
from zoning.policy import Profile

__all__ = [
    "ASSESS_FIELDS",
    "ASSESS_PARCEL_FIELDS",
    "EPSILON_M",
    "EPSILON_MU",
    "GRADES",
    "ZONE_COLUMNS",
    "assess_zone",
    "describe_zones",
    "detect_zones",
    "describe_zones_in_store",
    "detect_zones_in_store",
    "latest_grade",
]

#: areas are compared with a threshold at this precision (亩): a hundredth of a 亩 is what a planner
#: reports, so a zone whose area rounds to the threshold reaches it (the same as ``zoning.balance``)
EPSILON_MU = 0.005

#: distances are compared with a tolerance at this precision (m): distances are reported to the millimetre, so
#: two parcels whose gap rounds to ``gap_m`` at the millimetre are within it (不超过15米 includes 15.000 m, WZ
#: §12), whatever floating noise a reprojection (EPSG:4528 with its zone prefix → the storage CRS) leaves
EPSILON_M = 0.0005

#: 亩均论英雄 grades, best first; ``describe_zones`` counts parcels without a rating as ``"unrated"``
GRADES = ("A", "B", "C", "D")

#: the columns of :func:`detect_zones`' result, in order
ZONE_COLUMNS = [
    "zone_id",
    "area_mu",
    "n_parcels",
    "parcels",
    "holders",
    "county_code",
    "county_codes",
    "geometry",
]

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

_LOW = "low_efficiency"
_SHARE_RTOL = 1e-9  # a share computed as exactly the limit may come out a few ulps below it
_SHOW = 10  # how many offending rows an error message names
_CANDIDATE_MARGIN_M = 1e-3  # candidate boxes are widened this much beyond the gap; the exact test decides

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


# ======================================================================================================
# checks at the edge
# ======================================================================================================


def _check_frame(gdf: object, *, what: str, columns: tuple[str, ...] = ()) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, not {type(gdf).__name__}")
    assert_projected(gdf, what=what)
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


def _check_same_crs(reference: gpd.GeoDataFrame, ref_name: str, **others: gpd.GeoDataFrame) -> None:
    for name, other in others.items():
        if other.crs != reference.crs:
            raise ValueError(
                f"{name} is in {other.crs.name if other.crs else 'no CRS'} but {ref_name} in "
                f"{reference.crs.name}: reproject one of them first (two layers with different CRSs are an error)"
            )


def _check_lines(lines: object, *, what: str, reference: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Block lines in ``reference``'s CRS; an empty layer (a store with no lines yet) is normal.

    An empty frame read from the store comes without a CRS (nothing to read it from): it is given
    ``reference``'s, since it holds nothing that could be in another. A non-empty frame is checked as any.
    """
    if isinstance(lines, gpd.GeoDataFrame) and len(lines) == 0 and lines.crs is None:
        return lines.set_crs(reference.crs)
    _check_frame(lines, what=what)
    _check_same_crs(reference, "parcels", **{what: lines})
    return lines  # type: ignore[return-value]


def _rows(index: pd.Index, mask: BoolArray) -> str:
    bad = list(index[mask])
    more = f" and {len(bad) - _SHOW} more" if len(bad) > _SHOW else ""
    return f"{bad[:_SHOW]}{more}"


def _check_geometries(geoms: np.ndarray, index: pd.Index, *, what: str) -> None:
    """Refuse missing, empty, non-polygonal and invalid geometries, naming the rows."""
    missing = shapely.is_missing(geoms)
    missing[~missing] = shapely.is_empty(geoms[~missing])
    if missing.any():
        raise ValueError(f"{int(missing.sum())} {what} have no geometry: rows {_rows(index, missing)}")
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    if not polygonal.all():
        raise ValueError(
            f"{int((~polygonal).sum())} {what} are not polygons: rows {_rows(index, ~polygonal)}"
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        raise ValueError(
            f"{int(invalid.sum())} {what} have invalid geometries: rows {_rows(index, invalid)}; "
            "repair them first (geo.validate.repair_polygons)"
        )


def _check_parcel_numbers(nos: pd.Series, *, what: str) -> npt.NDArray[np.object_]:
    missing = nos.isna().to_numpy()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} {what} have no parcel_no: rows {_rows(nos.index, missing)}")
    text = nos.astype(str)
    dup = text.duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"parcel_no repeats among {what}: rows {_rows(nos.index, dup)}")
    return text.to_numpy(dtype=object)


def _low_flags(parcels: gpd.GeoDataFrame) -> BoolArray:
    """The ``low_efficiency`` column as booleans; a missing value counts as not low-efficiency."""
    try:
        flags = parcels[_LOW].astype("boolean")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parcels column {_LOW} must hold True/False: {exc}") from exc
    return flags.fillna(False).to_numpy(dtype=bool)


def _check_number(value: float, *, name: str, positive: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc
    if not np.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{name} must be {'greater than 0' if positive else '0 or more'}, not {value!r}")
    return number


def _check_zone(zone: object, reference: gpd.GeoDataFrame) -> BaseGeometry:
    if not isinstance(zone, BaseGeometry) or zone.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"the zone must be a shapely Polygon or MultiPolygon, not {type(zone).__name__}")
    if zone.is_empty:
        raise ValueError("the zone is empty")
    if not zone.is_valid:
        raise ValueError(
            f"the zone is not a valid polygon ({shapely.is_valid_reason(zone)}); redraw or repair it"
        )
    minx, miny, maxx, maxy = zone.bounds
    if len(reference) and max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        rx0, ry0, rx1, ry1 = reference.total_bounds
        if max(abs(rx0), abs(rx1)) > 180 or max(abs(ry0), abs(ry1)) > 90:
            raise ValueError(
                f"the zone's coordinates look like longitude/latitude but the parcels are in {reference.crs.name}: "
                "give the zone in the parcels' CRS"
            )
    return zone


# ======================================================================================================
# shared pieces
# ======================================================================================================


def _area_mu(parcels: pd.DataFrame, geoms: np.ndarray | None = None) -> FloatArray:
    """Each parcel's area in 亩: the ``area_mu`` column where present, else computed from the geometry."""
    given = (
        pd.to_numeric(parcels["area_mu"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if "area_mu" in parcels.columns
        else np.full(len(parcels), np.nan)
    )
    if np.isfinite(given).all():
        return given
    if geoms is None and not isinstance(parcels, gpd.GeoDataFrame):
        raise ValueError("parcels without geometry need an area_mu for every parcel")
    computed = shapely.area(parcels.geometry.to_numpy() if geoms is None else geoms) / M2_PER_MU
    return np.where(np.isfinite(given), given, computed)


def _text(parcels: pd.DataFrame, column: str) -> pd.Series:
    """A text column with blanks and missing values as NA (all NA when the column is absent)."""
    if column not in parcels.columns:
        return pd.Series(pd.NA, index=parcels.index, dtype="string")
    values = parcels[column].astype("string").str.strip()
    return values.mask(values == "")


def _holder_keys(parcels: pd.DataFrame, nos: npt.NDArray[np.object_]) -> pd.Series:
    """Who to negotiate with: the 统一社会信用代码, else the holder's name, else the parcel itself."""
    key = ("id:" + _text(parcels, "holder_id")).fillna("name:" + _text(parcels, "holder"))
    fallback = pd.Series(nos, index=parcels.index, dtype="string").radd("parcel:")
    return key.fillna(fallback)


def _reaches(area_mu: FloatArray | float, min_mu: float) -> BoolArray | bool:
    return area_mu >= min_mu - EPSILON_MU


def _zone_id(county: str | None, parcel_nos: list[str]) -> str:
    digest = hashlib.blake2b("\x1f".join(parcel_nos).encode("utf-8"), digest_size=5).hexdigest()
    return f"Z-{county}-{digest}" if county else f"Z-{digest}"


def _overlap_m2(geoms: np.ndarray, lines: gpd.GeoDataFrame) -> FloatArray:
    """The area (m²) of each geometry inside the union of ``lines`` (overlapping lines counted once)."""
    missing = shapely.is_missing(geoms)
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} of {len(geoms)} geometries are missing: their overlap with the "
            "block lines cannot be computed (read the zones with their geometry, or use the store)"
        )
    out = np.zeros(len(geoms))
    line_geoms = lines.geometry.to_numpy()
    line_geoms = line_geoms[~(shapely.is_missing(line_geoms) | shapely.is_empty(line_geoms))]
    if len(geoms) == 0 or len(line_geoms) == 0:
        return out
    parts = shapely.get_parts(shapely.union_all(line_geoms))  # disjoint pieces
    tree = shapely.STRtree(parts)
    gi, pi = tree.query(geoms, predicate="intersects")
    if gi.size:
        np.add.at(out, gi, shapely.area(shapely.intersection(geoms[gi], parts[pi])))
    return out


# ======================================================================================================
# candidate zones
# ======================================================================================================


def _empty_zones(crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ZONE_COLUMNS if c != "geometry"})
    frame["area_mu"] = frame["area_mu"].astype(float)
    frame["n_parcels"] = frame["n_parcels"].astype(np.int64)
    frame["holders"] = frame["holders"].astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


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

    Notes
    -----
    An STRtree query over the low-efficiency parcels gives the candidate pairs (bounding boxes within
    ``gap_m``), GEOS ``dwithin`` keeps those whose polygons are (exactly, not by buffers), and the groups are
    the connected components of that graph (``scipy.sparse.csgraph``). The work is vectorised;
    the only Python loops run over the zones found. The parcels are put in parcel-number order first, so
    that every sum, and with it the result, is bit-for-bit the same whatever the order of the input rows.

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
    min_mu = _check_number(min_mu, name="min_mu", positive=True)
    gap_m = _check_number(gap_m, name="gap_m", positive=False)

    flags = _low_flags(parcels)
    rows = np.flatnonzero(flags)
    if rows.size == 0:
        return _empty_zones(parcels.crs)
    # only the columns used, only the low-efficiency rows
    columns = [
        c for c in ("parcel_no", "area_mu", "holder_id", "holder", "county_code") if c in parcels.columns
    ]
    low = pd.DataFrame(parcels[columns]).iloc[rows]
    nos = _check_parcel_numbers(low["parcel_no"], what="low-efficiency parcels")
    # canonical order: by parcel number, so that nothing below depends on the order of the input rows
    order = np.argsort(nos, kind="stable")
    low, nos = low.iloc[order], nos[order]
    geoms = parcels.geometry.to_numpy()[rows[order]]
    _check_geometries(geoms, low.index, what="low-efficiency parcels")
    area = _area_mu(low, geoms)
    n = len(geoms)

    left, right = _pairs_within(geoms, gap_m)
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    group_mu = np.bincount(label, weights=area)
    members = np.flatnonzero(_reaches(group_mu, min_mu)[label])
    if members.size == 0:
        return _empty_zones(parcels.crs)

    # members grouped by zone (zones numbered 0…k-1), each zone's parcels in parcel-number order
    members = members[np.argsort(label[members], kind="stable")]
    starts = np.flatnonzero(np.r_[True, label[members][1:] != label[members][:-1]])
    sizes = np.diff(np.r_[starts, members.size])
    zone_of = np.repeat(np.arange(starts.size), sizes)
    zone_mu = group_mu[label[members[starts]]]
    member_nos = nos[members].tolist()
    parcel_lists = [member_nos[a:b] for a, b in zip(starts.tolist(), (starts + sizes).tolist(), strict=False)]
    geometry = _union_by_zone(geoms[members], starts=starts, sizes=sizes)
    holders = _count_distinct(zone_of, _holder_keys(low, nos).iloc[members], n_zones=starts.size)
    county, county_codes = _zone_counties(
        zone_of, _text(low, "county_code").iloc[members], area[members], n_zones=starts.size
    )

    zone_ids = [_zone_id(c, p) for c, p in zip(county, parcel_lists, strict=False)]
    zones = gpd.GeoDataFrame(
        {
            "zone_id": zone_ids,
            "area_mu": zone_mu,
            "n_parcels": sizes.astype(np.int64),
            "parcels": parcel_lists,
            "holders": holders,
            "county_code": county,
            "county_codes": county_codes,
        },
        geometry=gpd.GeoSeries(geometry, crs=parcels.crs),
        crs=parcels.crs,
    )
    rank = np.lexsort((np.array(zone_ids, dtype=object), -zone_mu))
    return zones.iloc[rank].reset_index(drop=True)


def _pairs_within(geoms: np.ndarray, gap_m: float) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Every pair (i, j), i < j, of ``geoms`` whose true minimum distance is at most ``gap_m`` (to the
    millimetre: at most ``gap_m`` + :data:`EPSILON_M`).

    The STRtree gives the pairs whose bounding boxes, widened by the gap (and a millimetre, so that rounding
    never drops a pair), intersect; GEOS then decides each candidate pair exactly, vectorised.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    tree = shapely.STRtree(geoms)
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    pad = gap_m + EPSILON_M + _CANDIDATE_MARGIN_M
    left, right = tree.query(shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    ahead = left < right
    left, right = left[ahead], right[ahead]
    near = shapely.dwithin(geoms[left], geoms[right], gap_m + EPSILON_M)
    return left[near], right[near]


def _union_by_zone(
    geoms: np.ndarray, *, starts: npt.NDArray[np.intp], sizes: npt.NDArray[np.intp]
) -> np.ndarray:
    """The union of each zone's parcels (``geoms`` grouped by zone, zone k from ``starts[k]``).

    Parcels normally form a coverage (they do not overlap, and neighbours share their vertices), whose
    union GEOS computes several times faster than a general union: zones of a similar size are unioned
    together that way, and any zone whose result is not valid or loses area (overlapping parcels), or
    whose parcels are not noded alike, is unioned again the general way.
    """
    out = np.empty(starts.size, dtype=object)
    single = sizes == 1
    out[single] = geoms[starts[single]]
    multi = np.flatnonzero(~single)
    retry: list[int] = []
    bucket = np.ceil(np.log2(np.maximum(sizes[multi], 1))).astype(int)
    for b in np.unique(bucket):
        zs = multi[bucket == b]
        width = int(sizes[zs].max())
        grid = np.full((zs.size, width), None, dtype=object)
        row = np.repeat(np.arange(zs.size), sizes[zs])
        col = np.arange(row.size) - np.repeat(np.cumsum(sizes[zs]) - sizes[zs], sizes[zs])
        grid[row, col] = geoms[starts[zs][row] + col]
        try:
            out[zs] = shapely.coverage_union_all(grid, axis=1)
        except shapely.errors.GEOSException:  # parcels not noded alike in some zone of the bucket
            retry.extend(zs.tolist())
    done = np.setdiff1d(multi, retry)
    if done.size:
        part_m2 = np.add.reduceat(shapely.area(geoms), starts)[done]
        ok = shapely.is_valid(out[done]) & np.isclose(shapely.area(out[done]), part_m2, rtol=1e-9, atol=0)
        retry.extend(done[~ok].tolist())
    for z in retry:
        out[z] = shapely.union_all(geoms[starts[z] : starts[z] + sizes[z]])
    return out


def _count_distinct(zone_of: npt.NDArray[np.intp], keys: pd.Series, *, n_zones: int) -> npt.NDArray[np.int64]:
    codes, _ = pd.factorize(keys)
    pairs = np.unique(zone_of.astype(np.int64) * (codes.max() + 1) + codes)
    return np.bincount(pairs // (codes.max() + 1), minlength=n_zones).astype(np.int64)


def _zone_counties(
    zone_of: npt.NDArray[np.intp], counties: pd.Series, area_mu: FloatArray, *, n_zones: int
) -> tuple[list[str | None], list[list[str]]]:
    """Each zone's main county (most area; the smaller code on a tie) and every county it spans."""
    main: list[str | None] = [None] * n_zones
    spans: list[list[str]] = [[] for _ in range(n_zones)]
    codes, names = pd.factorize(counties, sort=True)  # NA → -1; codes in the order of the county codes
    known = codes >= 0
    if not known.any():
        return main, spans
    width = len(names)
    pair = zone_of[known].astype(np.int64) * width + codes[known]
    keys, inverse = np.unique(pair, return_inverse=True)  # sorted by zone, then county
    mu = np.bincount(inverse, weights=area_mu[known])
    z, c = keys // width, keys % width
    ranked = np.lexsort((c, -mu, z))
    best = ranked[np.r_[True, z[ranked][1:] != z[ranked][:-1]]]
    labels = np.asarray(names, dtype=object)
    for zone, code in zip(z[best].tolist(), labels[c[best]].tolist(), strict=False):
        main[zone] = code
    first = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
    ends = np.r_[first[1:], z.size]
    all_codes = labels[c].tolist()
    for zone, a, b in zip(z[first].tolist(), first.tolist(), ends.tolist(), strict=False):
        spans[zone] = all_codes[a:b]
    return main, spans


# ======================================================================================================
# ratings
# ======================================================================================================


def latest_grade(parcels: pd.DataFrame, ratings: pd.DataFrame, *, as_of: dt.date) -> pd.Series:
    """Each parcel's most recent 亩均论英雄 grade of a year before ``as_of``'s year ("上年" and earlier).

    A grade given to the parcel (``ratings.parcel_no``) and one given to its enterprise
    (``ratings.holder_id``) both count; the more recent year wins, and the parcel's own grade when both
    are of the same year.

    Parameters
    ----------
    parcels : pandas.DataFrame
        With ``parcel_no`` and, for enterprise grades, ``holder_id``.
    ratings : pandas.DataFrame
        ``year``, ``grade`` (A–D) and ``parcel_no`` and/or ``holder_id`` (as ``geo.queries.read_ratings``
        and ``geo.demo`` give them).
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
    if "parcel_no" not in parcels.columns:
        raise ValueError("parcels lacks the column parcel_no")
    missing = [c for c in ("year", "grade") if c not in ratings.columns]
    if missing or not ({"parcel_no", "holder_id"} & set(ratings.columns)):
        raise ValueError("ratings needs the columns year, grade and parcel_no and/or holder_id")
    years = pd.to_numeric(ratings["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    before = years < as_of.year
    known = ratings.loc[before].copy()
    known["year"] = years[before].astype(np.int64)
    known["grade"] = known["grade"].astype("string").str.strip().str.upper()
    bad = ~known["grade"].isin(GRADES)
    if bad.any():
        raise ValueError(f"ratings rows {_rows(known.index, bad.to_numpy())} have a grade other than A–D")

    def lookup(key: str) -> tuple[pd.Series, pd.Series]:
        none = pd.Series(np.nan, index=parcels.index)
        if key not in known.columns or key not in parcels.columns:
            return none, none.astype(object)
        subject = known.assign(**{key: _text(known, key)}).dropna(subset=[key])
        last = (
            subject.sort_values([key, "year"], kind="stable").drop_duplicates(key, keep="last").set_index(key)
        )
        who = _text(parcels, key)
        return who.map(last["year"]).astype(float), who.map(last["grade"]).astype(object)

    p_year, p_grade = lookup("parcel_no")
    h_year, h_grade = lookup("holder_id")
    own = p_grade.notna() & ~(h_year > p_year)
    grade = p_grade.where(own, h_grade)
    values = np.array(grade.to_numpy(dtype=object), dtype=object)  # a writable copy
    values[pd.isna(values)] = None
    return pd.Series(values, index=parcels.index, name="rating", dtype=object)


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
        without it, e.g. ``detect_zones_in_store(..., geometry=False)``: use :func:`describe_zones_in_store`),
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
    _check_frame(zones, what="zones", columns=("parcels",))
    _check_frame(parcels, what="parcels", columns=("parcel_no",))
    _check_same_crs(parcels, "parcels", zones=zones)
    level1 = _check_lines(level1, what="level1", reference=parcels)
    level2 = _check_lines(level2, what="level2", reference=parcels)
    geoms = zones.geometry.to_numpy()
    if len(zones):
        # a zone without geometry would overlap no line: refuse it, never answer "no block line" for it
        _check_geometries(geoms, zones.index, what="zones")

    out = zones.copy()
    level1_mu = _overlap_m2(geoms, level1) / M2_PER_MU
    level2_mu = _overlap_m2(geoms, level2) / M2_PER_MU
    out["block_line_levels"] = _levels(level1_mu, level2_mu)
    out["level1_mu"] = level1_mu
    out["level2_mu"] = level2_mu
    return _with_rating_mix(out, parcels, ratings=ratings, as_of=as_of)


def _levels(level1_mu: FloatArray, level2_mu: FloatArray) -> list[list[int]]:
    """The levels each zone lies in: those it overlaps by at least :data:`EPSILON_MU` (what rounds to 0.01 亩)."""
    return [
        [lv for lv, mu in ((1, a), (2, b)) if mu >= EPSILON_MU]
        for a, b in zip(level1_mu, level2_mu, strict=False)
    ]


def _with_rating_mix(
    out: pd.DataFrame, parcels: pd.DataFrame, *, ratings: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """``out`` (zones with ``parcels``) with ``rating_mix`` and ``rating_mix_mu`` of their parcels' grades."""
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
    out["rating_mix"] = [
        {g: int(v) for g, v in zip(categories, row, strict=False)} for row in counts.to_numpy()
    ]
    out["rating_mix_mu"] = [
        {g: float(v) for g, v in zip(categories, row, strict=False)} for row in areas.to_numpy()
    ]
    return out


_LEVELS_SQL = """
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
    engine: Any, zones: pd.DataFrame, *, ratings: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """:func:`describe_zones` of candidate zones on the current store: block-line levels computed in PostGIS.

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
        亩均论英雄 ratings, as for :func:`describe_zones`.
    as_of : datetime.date
        The day of the analysis (each parcel's grade is its latest before that year).

    Returns
    -------
    pandas.DataFrame
        A copy of ``zones`` (same type and index) with ``block_line_levels``, ``level1_mu``, ``level2_mu``,
        ``rating_mix`` and ``rating_mix_mu`` as :func:`describe_zones` gives them: a level is listed when
        the zone's parcels overlap its lines by at least :data:`EPSILON_MU` (0.01 亩 as reported); a line
        that only touches the zone is not listed.
    """
    import sqlalchemy as sa

    from geo.queries import read_parcels

    if "parcels" not in zones.columns:
        raise ValueError("zones lacks the column parcels")
    out = zones.copy()
    zone_of = np.arange(len(zones)).repeat([len(p) for p in zones["parcels"]])
    nos = [str(no) for p in zones["parcels"] for no in p]
    mu = {1: np.zeros(len(zones)), 2: np.zeros(len(zones))}
    if nos:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(_LEVELS_SQL), {"zones": zone_of.tolist(), "nos": nos}).all()
        for zone, level, m2 in rows:
            mu[int(level)][int(zone)] = float(m2) / M2_PER_MU
    out["block_line_levels"] = _levels(mu[1], mu[2])
    out["level1_mu"] = mu[1]
    out["level2_mu"] = mu[2]
    members = (
        read_parcels(engine, parcel_nos=sorted(set(nos)), geometry=False)
        if nos
        else pd.DataFrame({"parcel_no": pd.Series([], dtype=object), "area_mu": pd.Series([], dtype=float)})
    )
    return _with_rating_mix(out, members, ratings=ratings, as_of=as_of)


# ======================================================================================================
# a drawn zone
# ======================================================================================================


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
        from :func:`latest_grade`).
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
    min_share = float(profile.value("consolidation.min_share_inside"))

    # the frame's own spatial index (an STRtree), built once and kept with the frame by geopandas
    near = np.sort(parcels.sindex.query(zone, predicate="intersects"))
    near_geoms = parcels.geometry.to_numpy()[near]
    _check_geometries(near_geoms, parcels.index[near], what="parcels in the zone")
    inside_m2 = shapely.area(shapely.intersection(near_geoms, zone))
    share = np.minimum(inside_m2 / shapely.area(near_geoms), 1.0)
    taken = (inside_m2 > 0) & (share >= min_share * (1 - _SHARE_RTOL))
    rows = near[taken]
    sub = parcels.iloc[rows]
    nos = _check_parcel_numbers(sub["parcel_no"], what="parcels in the zone")
    inside_mu = inside_m2[taken] / M2_PER_MU
    share = share[taken]
    low = _low_flags(sub)
    names = _text(sub, "holder").fillna(_text(sub, "holder_id")).to_numpy(dtype=object, na_value=None)
    grades = (
        _text(sub, "rating").to_numpy(dtype=object, na_value=None)
        if "rating" in sub.columns
        else np.full(len(sub), None, dtype=object)
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
    land_mu = float(inside_mu[order].sum())
    low_mu = float(inside_mu[order][low[order]].sum())
    area_mu = zone.area / M2_PER_MU
    one = np.empty(1, dtype=object)
    one[0] = zone
    levels = [
        lv for lv, lines in ((1, level1), (2, level2)) if _overlap_m2(one, lines)[0] / M2_PER_MU >= EPSILON_MU
    ]
    return {
        "area_mu": float(area_mu),
        "meets_threshold": bool(_reaches(area_mu, threshold)),
        "holders": int(_holder_keys(sub, nos).nunique()),
        "low_efficiency_share": low_mu / land_mu if land_mu > 0 else 0.0,
        "parcels": entries,
        "block_line_levels": levels,
        "article": profile.cite("consolidation.min_mu"),
        "policy": profile.name,
        "parcels_area_mu": land_mu,
    }


# ======================================================================================================
# candidate zones, clustered in PostGIS
# ======================================================================================================

_CLUSTER_SQL = """
WITH low AS (
    SELECT p.parcel_no, p.county_code, p.area_mu, p.geom,
           coalesce('id:' || nullif(trim(p.holder_id), ''), 'name:' || nullif(trim(p.holder), ''),
                    'parcel:' || p.parcel_no) AS holder_key
    FROM parcels p JOIN (SELECT DISTINCT unnest(CAST(:nos AS text[])) AS parcel_no) l ON l.parcel_no = p.parcel_no
    WHERE p.valid_to IS NULL),
clustered AS (SELECT low.*, ST_ClusterDBSCAN(geom, eps := :gap + :eps_m, minpoints := 1) OVER () AS cid FROM low),
sums AS (SELECT cid, sum(area_mu) AS area_mu FROM clustered GROUP BY cid HAVING sum(area_mu) >= :min_mu - :eps),
members AS (SELECT c.* FROM clustered c JOIN sums s ON s.cid = c.cid),
holders AS (SELECT cid, count(*) AS holders FROM (SELECT DISTINCT cid, holder_key FROM members) h GROUP BY cid),
lists AS (SELECT cid, array_agg(parcel_no) AS parcels, {geometry} AS wkb FROM members GROUP BY cid),
by_county AS (
    SELECT cid, county_code, sum(area_mu) AS mu FROM members WHERE county_code IS NOT NULL GROUP BY cid, county_code),
counties AS (
    SELECT cid, (array_agg(county_code ORDER BY mu DESC, county_code))[1] AS main,
           array_agg(county_code ORDER BY county_code) AS spans
    FROM by_county GROUP BY cid)
SELECT s.area_mu, l.parcels, h.holders, c.main, coalesce(c.spans, '{}'::varchar[]), l.wkb
FROM sums s JOIN lists l ON l.cid = s.cid JOIN holders h ON h.cid = s.cid LEFT JOIN counties c ON c.cid = s.cid
"""


def detect_zones_in_store(
    engine: Any,
    *,
    low_efficiency_parcel_nos: Sequence[str],
    min_mu: float,
    gap_m: float,
    geometry: bool = True,
) -> gpd.GeoDataFrame:
    """:func:`detect_zones` on the current parcels of the store, clustered and summed in PostGIS.

    ``ST_ClusterDBSCAN`` groups the low-efficiency parcels within ``gap_m`` (+ :data:`EPSILON_M`, to the
    millimetre) of each other, transitively (true distance, as ``ST_DWithin``); the sums, parcel lists,
    distinct holders and counties are aggregated in the same query, which measured faster than shapely at city scale (``bench/README.md``). The rows have
    :func:`detect_zones`' columns, ids and order; the geometry is the collection of the zone's parcels
    (not dissolved: for display and for saving, where it is made valid), or empty with ``geometry=False``
    when only the table is wanted (a third faster at city scale).
    """  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop
    import sqlalchemy as sa

    from geo.store import storage_srid, transaction

    min_mu = _check_number(min_mu, name="min_mu", positive=True)
    gap_m = _check_number(gap_m, name="gap_m", positive=False)
    with transaction(engine) as conn:
        srid = storage_srid(conn)
        sql = _CLUSTER_SQL.replace(
            "{geometry}", "ST_AsBinary(ST_Collect(geom))" if geometry else "NULL::bytea"
        )
        nos = [str(n) for n in low_efficiency_parcel_nos]
        rows = conn.execute(
            sa.text(sql), {"gap": gap_m, "eps_m": EPSILON_M, "min_mu": min_mu, "eps": EPSILON_MU, "nos": nos}
        ).all()
    if not rows:
        return _empty_zones(f"EPSG:{srid}")
    parcel_lists = [sorted(r[1]) for r in rows]  # in parcel-number order, as detect_zones lists them
    counties = [r[3] for r in rows]
    zone_ids = [_zone_id(c, p) for c, p in zip(counties, parcel_lists, strict=False)]
    areas = np.array([float(r[0]) for r in rows])
    zones = gpd.GeoDataFrame(
        {
            "zone_id": zone_ids,
            "area_mu": areas,
            "n_parcels": np.array([len(p) for p in parcel_lists], dtype=np.int64),
            "parcels": parcel_lists,
            "holders": np.array([int(r[2]) for r in rows], dtype=np.int64),
            "county_code": counties,
            "county_codes": [list(r[4]) for r in rows],
        },
        geometry=gpd.GeoSeries.from_wkb(
            [bytes(r[5]) if r[5] is not None else None for r in rows], crs=f"EPSG:{srid}"
        ).values,
        crs=f"EPSG:{srid}",
    )
    rank = np.lexsort((np.array(zone_ids, dtype=object), -areas))
    return zones.iloc[rank].reset_index(drop=True)
