"""The frames a map draws: in EPSG:4326 with their area in 亩, as GeoJSON, and the box that holds them.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame(geometry=[box(568000, 3097000, 568100, 3097100)], crs="EPSG:4549")
>>> shown = for_display(parcels, what="parcels")
>>> shown.crs.to_epsg(), round(float(shown["area_mu"].iloc[0]), 6)
(4326, 15.0)
>>> for_display(parcels.iloc[0:0], what="parcels") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geo.area import M2_PER_MU, area_mu
from geo.gcj02 import transform_geometry

__all__ = ["DISPLAY_EPSG", "bounds_of", "collection", "for_display"]

#: the CRS of everything the page holds
DISPLAY_EPSG = 4326
_PRECISION_DEG = 1e-6  # ~0.1 m: coordinates are rounded to this for a smaller page
_CGCS2000 = Geod(ellps="GRS80")  # CGCS2000's ellipsoid is GRS80 to within 0.1 mm


def _with_area(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with an ``area_mu`` column: kept when given, else computed on the ground."""
    if "area_mu" in gdf.columns:
        return gdf
    out = gdf.copy()
    if gdf.crs.is_projected:
        out["area_mu"] = area_mu(gdf).to_numpy()
    else:  # geodesic, on the CGCS2000 ellipsoid (never in degrees, never in Web Mercator)
        out["area_mu"] = [abs(_CGCS2000.geometry_area_perimeter(g)[0]) / M2_PER_MU for g in gdf.geometry]
    return out


def for_display(gdf: gpd.GeoDataFrame | None, *, what: str, gcj02: bool = False) -> gpd.GeoDataFrame | None:
    """A new frame in EPSG:4326 with area_mu and no empty geometries; None when there is nothing to draw.

    With ``gcj02`` the coordinates are then shifted to GCJ-02 (for AMap tiles); areas are computed before.
    """
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise ValueError(f"{what} has no CRS; give it one (the store's is EPSG:4549)")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    gdf = _with_area(gdf[keep])
    if len(gdf) == 0:
        return None
    if gdf.crs.to_epsg() != DISPLAY_EPSG:
        gdf = gdf.to_crs(epsg=DISPLAY_EPSG)
    if gcj02:
        gdf = gdf.set_geometry(
            transform_geometry(np.asarray(gdf.geometry.array), direction="wgs84_to_gcj02"), crs=DISPLAY_EPSG
        )
    return gdf


def collection(
    gdf: gpd.GeoDataFrame, properties: Callable[[pd.Series], dict[str, object]]
) -> dict[str, object]:
    """``gdf`` (EPSG:4326) as a GeoJSON FeatureCollection, coordinates rounded to ~0.1 m."""
    geoms = shapely.set_precision(np.asarray(gdf.geometry.array), _PRECISION_DEG, mode="pointwise")
    features = []
    for (_, row), geom in zip(gdf.iterrows(), geoms, strict=False):
        features.append(
            {"type": "Feature", "properties": properties(row), "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def bounds_of(frames: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    """The box holding every frame, as Leaflet takes it ([[south, west], [north, east]]); None for none."""
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    minx, miny = arr[:, 0].min(), arr[:, 1].min()
    maxx, maxy = arr[:, 2].max(), arr[:, 3].max()
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]
