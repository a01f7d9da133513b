"""``blockline.ui.zones_view``, the 连片开发 page's pure side, without Streamlit: shapes, tables, files, map layers.

Boxes in EPSG:4549 with areas worked out by hand: a 100 m × 100 m box is 15 亩.
"""

from __future__ import annotations

import doctest
import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from shapely import box
from shapely.geometry import mapping

import blockline.ui.zones_view as zv
from blockline.ui.maps import build_map, unescape_js
from geo import clock
from geo.drafts import fingerprint
from tests.app.test_zones_page import HOSTILE, PARCELS, SMALL, ZONE, fill_parcels
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city
from zoning.consolidation import detect_zones
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
M2_PER_MU = 10_000 / 15


def as_features(*geoms: object) -> list[dict[str, object]]:
    shown = gpd.GeoSeries(list(geoms), crs="EPSG:4549").to_crs("EPSG:4326")
    return [
        {"type": "Feature", "properties": {}, "geometry": json.loads(json.dumps(mapping(g)))} for g in shown
    ]


def test_docstring_examples_run() -> None:
    result = doctest.testmod(zv, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# -- shapes ----------------------------------------------------------------------------------------------------
def test_drawings_are_unioned_into_one_zone_in_the_storage_crs() -> None:
    west, east = box(X, Y, X + 100, Y + 100), box(X + 50, Y, X + 200, Y + 100)  # overlapping: 200 m × 100 m
    zone = zv.zone_from_features(as_features(west, east), epsg=4549)
    assert zone.area / M2_PER_MU == pytest.approx(30.0, rel=1e-6)
    assert zone.symmetric_difference(box(X, Y, X + 200, Y + 100)).area < 0.01  # m²: the same ground
    assert zv.zone_from_features([], epsg=4549) is None
    line = {"type": "LineString", "coordinates": [[120.7, 28.0], [120.71, 28.0]]}
    assert zv.zone_from_features([line], epsg=4549) is None


def test_a_bowtie_drawing_is_repaired() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[120.7, 28.0], [120.701, 28.001], [120.701, 28.0], [120.7, 28.001], [120.7, 28.0]]],
    }
    zone = zv.zone_from_features([bowtie], epsg=4549)
    assert zone is not None and zone.is_valid and zone.area > 0


def test_features_of_a_candidate_dissolve_its_parcels() -> None:
    parts = shapely.GeometryCollection([box(X, Y, X + 100, Y + 100), box(X + 100, Y, X + 200, Y + 100)])
    (feature,) = zv.features_of(parts, epsg=4549)
    assert feature["geometry"]["type"] == "Polygon"  # two touching parcels: one polygon
    back = zv.zone_from_features([feature], epsg=4549)
    assert back.area / M2_PER_MU == pytest.approx(30.0, rel=1e-6)


def test_new_drawings_skip_what_is_known_and_what_is_not_a_surface() -> None:
    a, b = as_features(box(X, Y, X + 100, Y + 100), box(X + 500, Y, X + 600, Y + 100))
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.7, 28.0]}}
    assert zv.new_drawings([a, b, point, a], []) == [
        {"type": "Feature", "properties": {}, "geometry": a["geometry"]},
        {"type": "Feature", "properties": {}, "geometry": b["geometry"]},
    ]
    assert zv.new_drawings([a, b], [fingerprint(a)]) == [
        {"type": "Feature", "properties": {}, "geometry": b["geometry"]}
    ]
    assert zv.new_drawings(None, []) == []


# -- candidates ---------------------------------------------------------------------------------------------------
def _zones() -> gpd.GeoDataFrame:
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": ["A", "B", "C"],
            "holder": ["甲", HOSTILE, "甲"],
            "county_code": "330302",
            "low_efficiency": True,
        },
        geometry=[
            box(X, Y, X + 100, Y + 100),
            box(X + 100, Y, X + 200, Y + 100),
            box(X + 212, Y, X + 312, Y + 100),
        ],
        crs="EPSG:4549",
    )
    zones = detect_zones(parcels, min_mu=40, gap_m=15)
    zones["block_line_levels"] = [[1, 2]]
    zones["rating_mix"] = [{"A": 0, "B": 0, "C": 1, "D": 0, "unrated": 2}]
    return zones


def test_candidates_frame_in_both_languages() -> None:
    zones = _zones()
    zh = zv.candidates_frame(zones, "zh")
    assert list(zh.columns) == [
        "片区编号",
        "行政区代码",
        "面积（亩）",
        "宗地（宗）",
        "权利人（个）",
        "所在区块线",
        "亩均评价",
        "宗地编号",
    ]
    assert zh.iloc[0].tolist()[1:] == ["330302", 45.0, 3, 2, "一级线、二级线", "C 1 · 未评价 2", "A、B、C"]
    en = zv.candidates_frame(zones, "en")
    assert en["Block lines"].tolist() == ["level 1, level 2"] and en["Ratings"].tolist() == [
        "C 1 · unrated 2"
    ]
    assert zv.candidates_frame(zones.iloc[0:0], "zh").empty


def test_candidates_layer_is_a_geopackage_with_one_polygon_per_zone(tmp_path: Path) -> None:
    layer = zv.candidates_layer(_zones())
    path = tmp_path / "c.gpkg"
    path.write_bytes(zv.layer_bytes(layer, name="candidates"))
    back = gpd.read_file(path, engine="pyogrio")
    assert back.crs.to_epsg() == 4549
    assert back["parcels"].tolist() == ["A,B,C"] and back["area_mu"].tolist() == pytest.approx([45.0])
    assert back.geometry.iloc[0].geom_type == "MultiPolygon"  # two pieces across the 12 m road
    assert back.area.iloc[0] / M2_PER_MU == pytest.approx(45.0)
    assert json.loads(back["block_line_levels"].iloc[0]) == [1, 2]


# -- a drawn zone on the store ----------------------------------------------------------------------------------
@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    load_two_county_city(engine, tmp_path)
    fill_parcels(engine)
    return engine


def test_assess_on_the_store(city: sa.Engine) -> None:
    result, taken = zv.assess(city, ZONE, as_of=clock.today(), profile=WZ)
    assert result["area_mu"] == pytest.approx(62_500 / M2_PER_MU)  # 250 m × 250 m = 93.75 亩
    assert result["meets_threshold"] is True and result["holders"] == 4
    assert result["parcels_area_mu"] == pytest.approx(58.2)
    assert result["low_efficiency_share"] == pytest.approx(50.7 / 58.2)
    assert result["block_line_levels"] == [1]
    assert sorted(taken["parcel_no"]) == ["A1", "A2", "A3", "A4", "H1"]
    assert dict(zip(taken["parcel_no"], taken["rating"], strict=False)) == {
        "A1": None,
        "A2": None,
        "A3": "D",
        "A4": None,
        "H1": "A",
    }
    county_of = dict(zip(taken["parcel_no"], taken["county_code"], strict=False))
    assert zv.main_county(result, county_of) == "330302"
    rows = dict(zv.assessment_rows(result, "zh"))
    assert rows == {
        "片区面积": "93.75 亩",
        "达到面积门槛": "是",
        "涉及宗地（宗）": "5",
        "其中宗地面积": "58.20 亩",
        "权利人（个）": "4",
        "低效用地占比": "87.1%",
        "所在区块线": "一级线",
        "亩均评价": "A 1 · D 1 · 未评价 3",
    }
    layer = zv.assessment_layer(result, taken, ZONE)
    assert layer["kind"].tolist() == ["zone"] + ["parcel"] * 5
    assert layer.area.iloc[1:].sum() / M2_PER_MU == pytest.approx(5 * 15.0)  # whole parcels, for the map


def test_assess_short_zone_and_empty_ground(city: sa.Engine) -> None:
    result, _ = zv.assess(city, SMALL, as_of=clock.today(), profile=WZ)
    assert result["meets_threshold"] is False and zv.shortfall_mu(result, 50.0) == pytest.approx(20.0)
    empty = box(X + 1500, Y + 1500, X + 1600, Y + 1600)
    result, taken = zv.assess(city, empty, as_of=clock.today(), profile=WZ)
    assert result["parcels"] == [] and len(taken) == 0 and result["low_efficiency_share"] == 0.0
    assert zv.main_county(result, {}) is None
    assert zv.assessment_frame(result, "zh").empty


def test_assessment_frame_keeps_names_as_data() -> None:
    result = {
        "parcels": [
            {
                "parcel_no": "A2",
                "share": 0.38,
                "area_in_zone_mu": 5.7,
                "low_efficiency": True,
                "holder": HOSTILE,
                "rating": None,
            }
        ]
    }
    frame = zv.assessment_frame(result, "en", county_of={"A2": "330302"})
    assert frame.iloc[0].tolist() == ["A2", HOSTILE, "330302", 38.0, 5.7, "yes", "unrated"]


def test_requirements_and_county() -> None:
    assert zv.requirements_of(
        {
            "investment_per_mu_wan": 0.0,
            "industry": "  ",
            "tax_per_mu_wan": None,
            "entry_conditions": " 无污染 ",
        }
    ) == {"investment_per_mu_wan": 0.0, "entry_conditions": "无污染"}
    result = {
        "parcels": [{"parcel_no": "a", "area_in_zone_mu": 5.0}, {"parcel_no": "b", "area_in_zone_mu": 5.0}]
    }
    assert zv.main_county(result, {"a": "330304", "b": "330302"}) == "330302"  # a tie: the smaller code


# -- saved zones --------------------------------------------------------------------------------------------------
def _saved() -> gpd.GeoDataFrame:
    assessment = {
        "area_mu": 93.75,
        "meets_threshold": True,
        "holders": 4,
        "low_efficiency_share": 0.871,
        "block_line_levels": [1],
        "article": "wenzhou-2020 WZ §12",
        "policy": "wenzhou-2020",
        "parcels": [
            {
                "parcel_no": "A2",
                "share": 1.0,
                "area_in_zone_mu": 15.0,
                "low_efficiency": True,
                "holder": HOSTILE,
                "rating": "C",
            }
        ],
    }
    return gpd.GeoDataFrame(
        {
            "id": [7],
            "name": [HOSTILE],
            "kind": ["drawn"],
            "county_code": ["330302"],
            "area_mu": [93.75],
            "params": [{}],
            "requirements": [{"industry": "智能装备", "tax_per_mu_wan": 30.0}],
            "assessment": [assessment],
            "created_by": ["test"],
            "created_at": [pd.Timestamp("2026-11-23 08:00", tz="Asia/Shanghai")],
        },
        geometry=[ZONE],
        crs="EPSG:4549",
    )


def test_saved_frame() -> None:
    frame = zv.saved_frame(_saved(), "zh")
    row = frame.iloc[0]
    assert row["名称"] == HOSTILE and row["类型"] == "绘制" and row["达到门槛"] == "是"
    assert row["面积（亩）"] == pytest.approx(93.75) and row["依据"] == "wenzhou-2020 WZ §12"
    assert row["片区要求"] == "产业导向：智能装备；亩均税收（万元/亩）：30.00"
    assert row["保存时间"] == "2026-11-23 08:00"
    assert zv.saved_frame(_saved().iloc[0:0], "en").columns[0] == "Id"


def test_saved_zone_files(tmp_path: Path) -> None:
    zone = _saved().iloc[0]
    path = tmp_path / "z.gpkg"
    path.write_bytes(zv.layer_bytes(zv.saved_layer(zone, "EPSG:4549"), name="zone"))
    back = gpd.read_file(path, engine="pyogrio")
    assert back["name"].tolist() == [HOSTILE] and back["industry"].tolist() == ["智能装备"]
    assert back["tax_per_mu_wan"].tolist() == pytest.approx([30.0]) and back["parcels"].tolist() == ["A2"]
    assert back.area.iloc[0] / M2_PER_MU == pytest.approx(93.75)
    sheets = pd.read_excel(io.BytesIO(zv.saved_zone_xlsx(zone, "en")), sheet_name=None)
    assert list(sheets) == ["zone", "parcels"]
    facts = dict(zip(sheets["zone"]["Item"], sheets["zone"]["Value"], strict=False))
    assert (
        facts["Name"] == HOSTILE
        and facts["Industry"] == "智能装备"
        and facts["Reaches the threshold"] == "yes"
    )
    assert sheets["parcels"]["Holder"].tolist() == [HOSTILE]


# -- the map -------------------------------------------------------------------------------------------------------
def test_zone_layers_escape_names_and_fit_the_zone() -> None:
    parcels = gpd.GeoDataFrame(
        {"parcel_no": ["A2"], "county_code": ["330302"]}, geometry=[PARCELS["A2"]], crs="EPSG:4549"
    )
    result = {
        "parcels": [
            {
                "parcel_no": "A2",
                "share": 1.0,
                "area_in_zone_mu": 15.0,
                "low_efficiency": True,
                "holder": HOSTILE,
                "rating": None,
            }
        ]
    }
    county = gpd.GeoDataFrame(
        {"code": ["330302"], "name": ["鹿城区"]}, geometry=[box(X, Y, X + 2000, Y + 2000)], crs="EPSG:4549"
    )
    m = build_map(counties=county, level1=None, level2=None, parcels=None)  # fitted to the county
    zv.add_zone_layers(
        m,
        epsg=4549,
        lang="en",
        candidates=_zones(),
        zone=ZONE,
        result=result,
        taken=parcels,
        saved=SMALL,
        saved_name=HOSTILE,
    )
    html = unescape_js(m.get_root().render())
    for name in ("Candidate zones", "Drawn zone", "Low-efficiency parcels taken", "Opened zone"):
        assert f'"{name}"' in html
    assert '"Other parcels taken"' not in html and '"Chosen candidate"' not in html  # nothing in them
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    x0, y0, x1, y1 = gpd.GeoSeries([ZONE], crs="EPSG:4549").to_crs("EPSG:4326").total_bounds
    assert (
        f"[[{y0}, {x0}], [{y1}, {x1}]]" in html and html.count("fitBounds(") == 1
    )  # fitted to the drawn zone
    # the layer control names every layer, so it comes after the last of them (else the map stops)
    assert html.rindex("L.geoJson(") < html.index("L.control.layers(")


def test_a_chosen_candidate_stands_out() -> None:
    zones = _zones()
    m = build_map(counties=None, level1=None, level2=None, parcels=None)
    zv.add_zone_layers(m, epsg=4549, lang="zh", candidates=zones, chosen=zones["zone_id"].iloc[0])
    html = unescape_js(m.get_root().render())
    assert '"选中的候选片区"' in html and '"候选片区"' not in html  # the only candidate is the chosen one


def test_texts() -> None:
    assert zv.share_text(0.5) == "50.0%" and zv.share_text(None) == "—"
    assert zv.levels_text([], "zh") == "—" and zv.levels_text([2], "zh") == "二级线"
    assert zv.rating_mix_text({}, "en") == "—"
    assert zv.shortfall_mu({"area_mu": 60.0, "meets_threshold": True}, 50.0) == 0.0
