"""The pieces the consolidation functions share: checks at the edge, areas, holders, grouping by distance.

Private to ``zoning``: :mod:`zoning.consolidation` (candidate zones, their description) and
:mod:`zoning.assess` (a drawn zone) build on them. The public constants (tolerances, grades) are in
:mod:`zoning.zone_terms`, which :mod:`zoning.consolidation` re-exports.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.area import M2_PER_MU, assert_projected
from zoning.zone_terms import EPSILON_M, EPSILON_MU

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

_LOW = "low_efficiency"
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
    return lines


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


def _checked_lines(
    zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, *, level1: gpd.GeoDataFrame, level2: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``describe_zones``' inputs checked; the two layers of lines, given the parcels' CRS when empty."""
    _check_frame(zones, what="zones", columns=("parcels",))
    _check_frame(parcels, what="parcels", columns=("parcel_no",))
    _check_same_crs(parcels, "parcels", zones=zones)
    level1 = _check_lines(level1, what="level1", reference=parcels)
    level2 = _check_lines(level2, what="level2", reference=parcels)
    if len(zones):
        # a zone without geometry would overlap no line: refuse it, never answer "no block line" for it
        _check_geometries(zones.geometry.to_numpy(), zones.index, what="zones")
    return level1, level2


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


def _reaches(area_mu: npt.ArrayLike, min_mu: float) -> BoolArray:
    """Whether each area reaches ``min_mu`` to the hundredth of a 亩 a planner reports."""
    return np.asarray(area_mu) >= min_mu - EPSILON_MU


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


def _empty_zones(crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ZONE_COLUMNS if c != "geometry"})
    frame["area_mu"] = frame["area_mu"].astype(float)
    frame["n_parcels"] = frame["n_parcels"].astype(np.int64)
    frame["holders"] = frame["holders"].astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


# ======================================================================================================
# grouping by distance
# ======================================================================================================


def _pairs_within(geoms: np.ndarray, gap_m: float) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Every pair (i, j), i < j, of ``geoms`` within ``gap_m`` of each other (to the millimetre).

    Their true minimum distance is at most ``gap_m`` + :data:`EPSILON_M`. The STRtree gives the pairs whose
    bounding boxes, widened by the gap (and a millimetre, so that rounding never drops a pair), intersect;
    GEOS then decides each candidate pair exactly, vectorised.
    """
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


def _low_parcels(
    parcels: gpd.GeoDataFrame, rows: npt.NDArray[np.intp]
) -> tuple[pd.DataFrame, npt.NDArray[np.object_], np.ndarray]:
    """The low-efficiency ``rows`` (only the columns used), their parcel numbers and geometries, checked.

    In parcel-number order, the canonical one: nothing after depends on the order of the input rows.
    """
    columns = [
        c for c in ("parcel_no", "area_mu", "holder_id", "holder", "county_code") if c in parcels.columns
    ]
    low = pd.DataFrame(parcels[columns]).iloc[rows]
    nos = _check_parcel_numbers(low["parcel_no"], what="low-efficiency parcels")
    order = np.argsort(nos, kind="stable")
    low, nos = low.iloc[order], nos[order]
    geoms = parcels.geometry.to_numpy()[rows[order]]
    _check_geometries(geoms, low.index, what="low-efficiency parcels")
    return low, nos, geoms


def _groups(geoms: np.ndarray, area: FloatArray, gap_m: float) -> tuple[npt.NDArray[np.int32], FloatArray]:
    """Each parcel's group (parcels within ``gap_m`` of each other, transitively) and each group's 亩.

    An STRtree query over the low-efficiency parcels gives the candidate pairs (bounding boxes within
    ``gap_m``), GEOS ``dwithin`` keeps those whose polygons are (exactly, not by buffers), and the groups are
    the connected components of that graph (``scipy.sparse.csgraph``). The work is vectorised;
    the only Python loops run over the zones found. The parcels are put in parcel-number order first, so
    that every sum, and with it the result, is bit-for-bit the same whatever the order of the input rows.
    """
    # lazy: scipy.sparse is 0.1 s of imports (python -X importtime) that the store's zones never use
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components  # lazy: with the line above

    n = len(geoms)
    left, right = _pairs_within(geoms, gap_m)
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    # weighted, the counts are float64 (numpy's stubs say intp): astype without a copy only tells the type checker
    return label, np.bincount(label, weights=area).astype(np.float64, copy=False)
