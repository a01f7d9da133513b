"""GCJ-02 ("Mars" coordinates of AMap/Gaode, Tencent) to and from WGS84 lon/lat, vectorised with numpy.

GCJ-02 is not a datum: it is WGS84 lon/lat plus a deliberate, smoothly varying offset of a few hundred
metres, defined by the published obfuscation formula (Krasovsky 1940 constants, sines of lon/lat). It has
no EPSG code, so it cannot be handled by pyproj and is converted here explicitly.

- :func:`wgs84_to_gcj02` applies the formula, inside China's rough bounding box only (identity outside,
  as all the usual implementations do).
- :func:`gcj02_to_wgs84` inverts it exactly, by fixed-point iteration (the one-step inverse found in many
  libraries is off by up to about 6 m; this one converges to ``tol_deg``, 1e-9° ≈ 0.1 mm by default).
- :func:`transform_geometry` applies either direction to the vertices of shapely geometries in one
  vectorised call (``shapely.transform``).

CGCS2000 (EPSG:4490) lon/lat agrees with WGS84 to centimetres–decimetres, so the WGS84 result is what
goes into EPSG:4490 layers.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(120.699, 27.994)
>>> round(float(lon), 6), round(float(lat), 6)
(120.703058, 27.990717)
>>> back_lon, back_lat = gcj02_to_wgs84(lon, lat)
>>> round(float(back_lon), 9), round(float(back_lat), 9)
(120.699, 27.994)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

__all__ = [
    "CHINA_BBOX_DEG",
    "Direction",
    "gcj02_to_wgs84",
    "in_china_bbox",
    "transform_geometry",
    "wgs84_to_gcj02",
]

Direction = Literal["gcj02_to_wgs84", "wgs84_to_gcj02"]

#: (min_lon, min_lat, max_lon, max_lat) of the box inside which the offset is applied: the box of the
#: common implementations (eviltransform, coordtransform, prcoords). It lies well outside China's land
#: borders on every side, so no Chinese territory is near its edges.
CHINA_BBOX_DEG: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

# Semi-major axis and first eccentricity squared of the Krasovsky 1940 ellipsoid, as the formula has them.
_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
G = TypeVar("G")


def in_china_bbox(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """Tell which points lie in the box where GCJ-02 differs from WGS84.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees (broadcast together).

    Returns
    -------
    numpy.ndarray of bool
        True inside :data:`CHINA_BBOX_DEG` (edges included), False outside or for NaN.

    Examples
    --------
    >>> in_china_bbox([120.7, 139.7], [28.0, 35.7]).tolist()
    [True, False]
    """
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX_DEG
    return (lon_a >= min_lon) & (lon_a <= max_lon) & (lat_a >= min_lat) & (lat_a <= max_lat)


def _offset_deg(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 (lon, lat), everywhere (no box)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    # Offsets as arc lengths in metres.
    dlat_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat_deg = (dlat_m * 180.0) / ((_KRASOVSKY_A_M * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon_deg = (dlon_m * 180.0) / (_KRASOVSKY_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon_deg, dlat_deg


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return lon_a.copy(), lat_a.copy()


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Obfuscate WGS84 lon/lat into GCJ-02 with the published formula.

    Points outside :data:`CHINA_BBOX_DEG` are returned unchanged; NaN stays NaN.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 (or CGCS2000) longitude and latitude in degrees, broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude in degrees, float64, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([120.075, 2.35], [29.306, 48.857])
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([120.079736, 2.35], [29.303512, 48.857])
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    inside = in_china_bbox(lon_a, lat_a)
    dlon, dlat = _offset_deg(lon_a[inside], lat_a[inside])
    lon_a[inside] += dlon
    lat_a[inside] += dlat
    return lon_a, lat_a


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-9, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Recover WGS84 lon/lat from GCJ-02 exactly, by fixed-point iteration.

    Solves ``wgs + offset(wgs) = gcj`` with ``wgs ← gcj − offset(wgs)``, starting from ``wgs = gcj``. The
    offset's derivatives are below 0.007 over China (it changes by at most ~7 m per km), so each iteration
    gains more than two digits: four or five iterations reach 1e-9° (about 0.1 mm). Points outside
    :data:`CHINA_BBOX_DEG` are returned unchanged; NaN stays NaN.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees, broadcast together.
    tol_deg : float, default 1e-9
        Stop when the last correction is below this, in degrees, in both lon and lat for every point.
    max_iter : int, default 30
        Most iterations allowed.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude in degrees, float64, in the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``tol_deg`` is not positive or ``max_iter`` < 1, or some points did not converge within
        ``max_iter`` iterations (the message gives how many).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(120.703058, 27.990717)
    >>> round(float(lon), 6), round(float(lat), 6)
    (120.699, 27.994)
    >>> gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    >>> abs(float(gcj_lon) - 120.703058) < 1e-12, abs(float(gcj_lat) - 27.990717) < 1e-12
    (True, True)
    """
    if not tol_deg > 0:
        raise ValueError(f"tol_deg must be positive, got {tol_deg!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")
    gcj_lon, gcj_lat = _as_float_arrays(lon, lat)
    out_lon, out_lat = gcj_lon.copy(), gcj_lat.copy()
    idx = np.flatnonzero(in_china_bbox(gcj_lon, gcj_lat))
    g_lon, g_lat = gcj_lon.ravel()[idx], gcj_lat.ravel()[idx]
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    active = np.arange(idx.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        dlon, dlat = _offset_deg(w_lon[active], w_lat[active])
        new_lon = g_lon[active] - dlon
        new_lat = g_lat[active] - dlat
        step = np.maximum(np.abs(new_lon - w_lon[active]), np.abs(new_lat - w_lat[active]))
        w_lon[active], w_lat[active] = new_lon, new_lat
        active = active[step > tol_deg]
    if active.size:
        raise ValueError(
            f"gcj02_to_wgs84 did not converge to {tol_deg} deg in {max_iter} iterations "
            f"for {active.size} of {idx.size} points"
        )
    out_lon.ravel()[idx] = w_lon
    out_lat.ravel()[idx] = w_lat
    return out_lon, out_lat


def _check_lonlat_crs(crs: CRS | None) -> None:
    if crs is not None and not crs.is_geographic:
        raise ValueError(
            f"transform_geometry needs lon/lat coordinates, but the input CRS is {crs.to_string()!r} "
            "(projected); reproject to EPSG:4326/4490 first"
        )


def transform_geometry(geoms: G, *, direction: Direction) -> G:
    """Move every vertex of lon/lat geometries between GCJ-02 and WGS84, in one vectorised call.

    Parameters
    ----------
    geoms : geopandas.GeoSeries, array_like of shapely geometries, or a shapely geometry
        Geometries in lon/lat degrees. A GeoSeries must have no CRS or a geographic one.
    direction : {"gcj02_to_wgs84", "wgs84_to_gcj02"}
        Which way to convert. ``"gcj02_to_wgs84"`` uses :func:`gcj02_to_wgs84` with its defaults.

    Returns
    -------
    Same kind as ``geoms``
        New geometries, same types, same number of parts, rings and vertices, Z values kept. A GeoSeries
        keeps its index and name; its CRS becomes EPSG:4326 after ``"gcj02_to_wgs84"`` when it had none
        (else it is kept, e.g. EPSG:4490), and ``None`` after ``"wgs84_to_gcj02"`` (GCJ-02 has no EPSG
        code). Any other input gives a numpy array of geometries (or one geometry for one geometry).

    Raises
    ------
    ValueError
        For an unknown ``direction`` or a GeoSeries in a projected CRS.

    Notes
    -----
    The offset changes smoothly (by at most ~7 m per kilometre) and the map is one-to-one, so valid
    polygons stay valid in practice (only vertices a few millimetres from another edge could cross it);
    check with ``shapely.is_valid`` when it matters.

    Examples
    --------
    >>> from shapely import Polygon
    >>> square = Polygon([(120.69, 27.99), (120.70, 27.99), (120.70, 28.00), (120.69, 28.00)])
    >>> moved = transform_geometry([square], direction="wgs84_to_gcj02")
    >>> moved[0].geom_type, len(moved[0].exterior.coords)
    ('Polygon', 5)
    >>> back = transform_geometry(moved, direction="gcj02_to_wgs84")
    >>> bool(shapely.equals_exact(back[0], square, tolerance=1e-9))
    True
    """
    convert: Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]
    if direction == "gcj02_to_wgs84":
        convert = gcj02_to_wgs84
    elif direction == "wgs84_to_gcj02":
        convert = wgs84_to_gcj02
    else:
        raise ValueError(f"direction must be 'gcj02_to_wgs84' or 'wgs84_to_gcj02', got {direction!r}")

    def _apply(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1])
        return out

    if isinstance(geoms, gpd.GeoSeries):
        _check_lonlat_crs(geoms.crs)
        # the stubs lack include_z=None (shapely 2.1+: each geometry keeps its own dimension)
        moved = shapely.transform(np.asarray(geoms.values), _apply, include_z=None)  # type: ignore[call-overload]
        # back to lon/lat: the series keeps its CRS (EPSG:4326 when it had none); into GCJ-02: no EPSG CRS
        crs = (geoms.crs if geoms.crs is not None else "EPSG:4326") if direction == "gcj02_to_wgs84" else None
        return gpd.GeoSeries(moved, index=geoms.index, crs=crs, name=geoms.name)
    if isinstance(geoms, shapely.Geometry):
        # the stubs lack include_z=None (shapely 2.1+: each geometry keeps its own dimension)
        return shapely.transform(geoms, _apply, include_z=None)  # type: ignore[call-overload]
    geoms_arr = (
        np.asarray(geoms) if isinstance(geoms, gpd.array.GeometryArray) else np.asarray(geoms, dtype=object)
    )
    # the stubs lack include_z=None (shapely 2.1+: each geometry keeps its own dimension)
    moved_arr = shapely.transform(geoms_arr, _apply, include_z=None)  # type: ignore[call-overload]
    return np.asarray(moved_arr)  # type: ignore[return-value]
