"""The drawn zone's shapes: GeoJSON drawings (EPSG:4326) to one polygon in the storage CRS, and back.

Examples
--------
>>> from shapely import box
>>> square = box(568000, 3097000, 568100, 3097100)
>>> features_of(square, epsg=4549)[0]["geometry"]["type"]
'Polygon'
>>> polygonal(None) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from blockline.ui.maps.frames import DISPLAY_EPSG
from geo.drafts import fingerprint

__all__ = ["PURPOSE", "dissolved", "features_of", "new_drawings", "polygonal", "zone_from_features"]

#: the drafts purpose of the drawn zone (``geo.drafts``)
PURPOSE = "zones:zone"


def polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The polygonal part of ``geom``, made valid (None when nothing polygonal is left)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [
        g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty
    ]
    if not parts:
        return None
    out = shapely.union_all(np.array(parts, dtype=object))
    return out if not out.is_empty else None


def zone_from_features(features: Iterable[Mapping[str, Any]] | None, *, epsg: int) -> BaseGeometry | None:
    """The union of drawn shapes (GeoJSON Features or geometries, EPSG:4326) in ``EPSG:epsg``, or None."""
    geoms = []
    for item in features or []:
        geometry = item.get("geometry") if item.get("type") == "Feature" else item
        if geometry and geometry.get("type") in ("Polygon", "MultiPolygon"):
            geoms.append(shape(dict(geometry)))
    if not geoms:
        return None
    projected = gpd.GeoSeries(geoms, crs=f"EPSG:{DISPLAY_EPSG}").to_crs(epsg=epsg)
    parts = [g for g in (polygonal(g) for g in projected) if g is not None]
    return polygonal(shapely.union_all(np.array(parts, dtype=object))) if parts else None


def features_of(geom: BaseGeometry | None, *, epsg: int) -> list[dict[str, Any]]:
    """A polygon of ``EPSG:epsg`` (parts of a collection dissolved) as GeoJSON Features in EPSG:4326."""
    geom = polygonal(geom)
    if geom is None:
        return []
    shown = gpd.GeoSeries([geom], crs=f"EPSG:{epsg}").to_crs(epsg=DISPLAY_EPSG).iloc[0]
    return [{"type": "Feature", "properties": {}, "geometry": mapping(shown)}]


def new_drawings(drawings: Iterable[Mapping[str, Any]] | None, known: Iterable[str]) -> list[dict[str, Any]]:
    """The polygons among ``drawings`` (streamlit-folium's ``all_drawings``) whose fingerprints are not ``known``.

    The map sends every drawing again on each rerun, and a drawing already kept (or kept and cleared) must
    not come back, so the page passes the fingerprints of what it has kept and seen.

    >>> sq = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
    ...       "coordinates": [[[120, 28], [120.001, 28], [120.001, 28.001], [120, 28]]]}}
    >>> from geo.drafts import fingerprint
    >>> len(new_drawings([sq], [])), len(new_drawings([sq], [fingerprint(sq)]))
    (1, 0)
    """
    seen = set(known)
    out = []
    for feature in drawings if isinstance(drawings, list) else []:
        if not isinstance(feature, Mapping):
            continue  # whatever the browser sent that is not a drawing
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        key = fingerprint(feature)
        if key in seen:
            continue
        seen.add(key)
        out.append({"type": "Feature", "properties": {}, "geometry": dict(geometry)})
    return out


def dissolved(geoms: Iterable[BaseGeometry | None]) -> list[BaseGeometry | None]:
    """Each geometry as one (Multi)Polygon, its parts unioned; None stays None."""
    return [polygonal(shapely.union_all(shapely.get_parts(g))) if g is not None else None for g in geoms]
