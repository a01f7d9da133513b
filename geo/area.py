"""Areas on the ground, in 亩 (1 亩 = 10000/15 m²), from geometries in a projected metric CRS.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs="EPSG:4549")
>>> float(area_mu(parcels).iloc[0])
15.0
>>> round(mu_to_hectares(15.0), 6)
1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # area_mu imports them: the constants are read by every command, most of which need neither
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "M2_PER_MU",
    "M2_PER_MU_SQL",
    "MU_PER_HECTARE",
    "area_mu",
    "m2_to_mu",
    "mu_to_hectares",
    "assert_projected",
]

#: the one definition of the 亩: 15 to the hectare (every other figure of it derives from this)
MU_PER_HECTARE = 15.0
M2_PER_MU = 10000.0 / MU_PER_HECTARE
#: ``M2_PER_MU`` in SQL text, ``ST_Area(geom) / {M2_PER_MU_SQL}``: the same double PostgreSQL makes of 10000.0 / 15
M2_PER_MU_SQL = f"CAST({M2_PER_MU!r} AS float8)"


def assert_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, what: str = "layer") -> None:
    """Raise ``ValueError`` unless ``gdf`` has a projected CRS in metres (areas and distances need one)."""
    crs = gdf.crs
    if crs is None:
        raise ValueError(f"{what} has no CRS; areas need a projected CRS in metres")
    if not crs.is_projected:
        raise ValueError(f"{what} is in {crs.name}, a geographic CRS; areas need a projected CRS in metres")
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise ValueError(f"{what} is in {crs.name}, whose unit is {unit}; areas need metres")


def m2_to_mu(m2: float) -> float:
    """Square metres to 亩."""
    return m2 / M2_PER_MU


def mu_to_hectares(mu: float) -> float:
    """亩 to 公顷."""
    return mu / MU_PER_HECTARE


def area_mu(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """The area of each geometry in 亩, as a Series named ``area_mu`` with the input's index."""
    import geopandas as gpd  # lazy: see the module's imports
    import pandas as pd  # lazy: with the line above

    assert_projected(gdf)
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    return pd.Series(geoms.area.to_numpy() / M2_PER_MU, index=geoms.index, name="area_mu")
