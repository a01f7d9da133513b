"""Building the planners' files the tests load: boxes in a metric CRS, written in the formats and traps of the field.

A 100 m × 100 m box is 15 亩 exactly (1 亩 = 10000/15 m²).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
from shapely import box

__all__ = ["square", "write_shapefile", "WENZHOU_X0", "WENZHOU_Y0", "two_counties"]

# A point in 鹿城区-like coordinates of EPSG:4549 (CGCS2000 GK CM 120°E): about 120.7°E, 28.0°N.
WENZHOU_X0 = 568_000.0
WENZHOU_Y0 = 3_097_000.0


def square(x: float, y: float, size: float = 100.0):
    """A size × size box with its lower-left corner at (x, y)."""
    return box(x, y, x + size, y + size)


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path, *, encoding: str = "UTF-8", cpg: bool = True) -> Path:
    """Write a shapefile in ``encoding``; without ``cpg`` the .cpg file is removed (as many offices send them)."""
    with warnings.catch_warnings():
        # GDAL warns that it shortens long field names to the format's 10 bytes: that is the trap we want.
        warnings.simplefilter("ignore")
        gdf.to_file(path, driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
    if not cpg:
        for f in path.parent.glob(path.stem + ".*"):
            if f.suffix.lower() == ".cpg":
                f.unlink()
    return path


def two_counties(crs: str = "EPSG:4549") -> gpd.GeoDataFrame:
    """鹿城区 (330302) and 瓯海区 (330304) as two adjacent 2 km × 2 km boxes near Wenzhou."""
    x, y = WENZHOU_X0, WENZHOU_Y0
    return gpd.GeoDataFrame(
        {"code": ["330302", "330304"], "name": ["鹿城区", "瓯海区"]},
        geometry=[box(x, y, x + 2000, y + 2000), box(x + 2000, y, x + 4000, y + 2000)],
        crs="EPSG:4549",
    ).to_crs(crs)
