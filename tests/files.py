"""Building the planners' files the tests load: boxes in a metric CRS, written in the formats and traps of the field.

A 100 m × 100 m box is 15 亩 exactly (1 亩 = 10000/15 m²).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
from shapely import box

__all__ = ["square", "write_shapefile", "WENZHOU_X0", "WENZHOU_Y0", "two_counties", "load_two_county_city"]

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


def load_two_county_city(engine: object, folder: Path) -> None:
    """Load two_counties() with their block lines, as planners' files through the loaders.

    Level 1 of 鹿城: [X+100, X+700] × [Y+100, Y+700] (540 亩); of 瓯海: [X+2100, X+2700] × [Y+100, Y+700];
    level 2 of 鹿城: [X+800, X+1200] × [Y+100, Y+700]. The worked numbers are in tests/zoning/test_balance.py.
    """
    from geo.load import load_blocklines, load_boundaries

    x, y = WENZHOU_X0, WENZHOU_Y0
    two_counties().to_file(folder / "c.gpkg", engine="pyogrio")
    load_boundaries(engine, folder / "c.gpkg", user="test")
    l1 = gpd.GeoDataFrame(
        {"名称": ["鹿城一级", "瓯海一级"]},
        geometry=[box(x + 100, y + 100, x + 700, y + 700), box(x + 2100, y + 100, x + 2700, y + 700)],
        crs="EPSG:4549",
    )
    l1.to_file(folder / "l1.gpkg", engine="pyogrio")
    load_blocklines(engine, folder / "l1.gpkg", level=1, user="test")
    l2 = gpd.GeoDataFrame(
        {"名称": ["鹿城二级"]}, geometry=[box(x + 800, y + 100, x + 1200, y + 700)], crs="EPSG:4549"
    )
    l2.to_file(folder / "l2.gpkg", engine="pyogrio")
    load_blocklines(engine, folder / "l2.gpkg", level=2, user="test")
