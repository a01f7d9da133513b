"""The 连片开发 page, run headless with AppTest on a real store.

The city is the two-county one of tests/zoning/conftest.py (鹿城区 330302 with a level-1 line over
[X+100, X+700] × [Y+100, Y+700]), with seven parcels of 100 m × 100 m (15 亩 each) added by hand:

- A1 [X+200, X+300] × [Y+200, Y+300], A2 east of it (touching), A4 north of A1 (touching): low-efficiency by the
  survey; A1 and A4 belong to 温州甲机械有限公司, A2 to a holder whose name is an HTML tag;
- A3 [X+412, X+512] × [Y+200, Y+300], across a 12 m road from A2: not low by the survey, but its enterprise
  (holder_id 91330302C) was rated D last year, which makes it low-efficiency (WZ §12, §14);
- H1 [X+200, X+300] × [Y+400, Y+500], north of A4: healthy, rated A last year;
- B1 [X+1000, X+1100] × [Y+1000, Y+1100] and B2 east of it: low by the survey, one holder, 30 亩 together.

Worked by hand: at the profile's 50 亩 and 15 m, one candidate, A1+A2+A3+A4 = 60 亩 with 3 holders (甲 counted
once); at a 10 m gap A3 falls away and 45 亩 is short, so none; at 25 亩 the B pair (30 亩) is a second one.

The drawn zone [X+200, X+450] × [Y+200, Y+450] is 250 m × 250 m = 62,500 m² = 93.75 亩 (≥ 50: met). It takes
A1, A2, A4 whole (45 亩), 38 m × 100 m of A3 (5.70 亩, share 38 %) and 100 m × 50 m of H1 (7.50 亩, 50 %):
58.20 亩 of parcel land, of which 50.70 亩 low-efficiency, 87.1 %; holders 甲, the tag, A3's and H1's: 4.
The small zone [X+200, X+400] × [Y+200, Y+300] is 30 亩: 20.00 亩 short of 50.
"""

from __future__ import annotations

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
from streamlit.testing.v1 import AppTest

from geo import clock
from geo.drafts import new_sketch, read_drafts, save_drafts
from geo.load import write_parcels, write_ratings
from geo.store import transaction
from tests.app.apptest import download, map_script, metrics, record_media, texts
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

PAGE = Path(__file__).resolve().parents[2] / "blockline" / "app_pages" / "zones.py"
APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 60
HOSTILE = "<img src=x onerror=alert(1)>"
M2_PER_MU = 10_000 / 15
LAST_YEAR = clock.today().year - 1
PARCELS = {
    "A1": box(X + 200, Y + 200, X + 300, Y + 300),
    "A2": box(X + 300, Y + 200, X + 400, Y + 300),
    "A3": box(X + 412, Y + 200, X + 512, Y + 300),
    "A4": box(X + 200, Y + 300, X + 300, Y + 400),
    "H1": box(X + 200, Y + 400, X + 300, Y + 500),
    "B1": box(X + 1000, Y + 1000, X + 1100, Y + 1100),
    "B2": box(X + 1100, Y + 1000, X + 1200, Y + 1100),
}
ZONE = box(X + 200, Y + 200, X + 450, Y + 450)  # 93.75 亩
SMALL = box(X + 200, Y + 200, X + 400, Y + 300)  # 30 亩


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


def fill_parcels(engine: sa.Engine) -> None:
    nos = list(PARCELS)
    holders = {
        "A1": "温州甲机械有限公司",
        "A2": HOSTILE,
        "A3": "鹿城丙鞋业有限公司",
        "A4": "温州甲机械有限公司",
        "H1": "温州丁阀门有限公司",
        "B1": "鹿城戊电气有限公司",
        "B2": "鹿城戊电气有限公司",
    }
    low = {"A1": True, "A2": True, "A3": False, "A4": True, "H1": False, "B1": True, "B2": True}
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": nos,
            "holder": [holders[n] for n in nos],
            "holder_id": ["91330302C" if n == "A3" else None for n in nos],
            "land_use": "100101",
            "is_low_efficiency": [low[n] for n in nos],
            "area_mu": 15.0,
        },
        geometry=[shapely.MultiPolygon([PARCELS[n]]) for n in nos],
        crs="EPSG:4549",
    )
    ratings = pd.DataFrame(
        {
            "parcel_no": [None, "H1"],
            "holder_id": ["91330302C", None],
            "year": [LAST_YEAR, LAST_YEAR],
            "grade": ["D", "A"],
        }
    )
    with transaction(engine) as conn:
        write_parcels(conn, parcels, load_id=None, user="test")
        write_ratings(conn, ratings, load_id=None)


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    load_two_county_city(engine, tmp_path)
    fill_parcels(engine)
    return engine


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The media file managers of the AppTest runs, to read back what a download button offers."""
    return record_media(monkeypatch)  # type: ignore[return-value]


def read_gpkg(content: bytes, folder: Path) -> gpd.GeoDataFrame:
    """A downloaded GeoPackage, read from a file of its own name (GDAL wants the .gpkg extension)."""
    path = folder / f"download-{len(list(folder.glob('*.gpkg')))}.gpkg"
    path.write_bytes(content)
    return gpd.read_file(path, engine="pyogrio")


def features(*geoms: object) -> list[dict[str, object]]:
    """Polygons of EPSG:4549 as a map returns them: GeoJSON Features in EPSG:4326."""
    shown = gpd.GeoSeries(list(geoms), crs="EPSG:4549").to_crs("EPSG:4326")
    return [
        {"type": "Feature", "properties": {}, "geometry": json.loads(json.dumps(mapping(g)))} for g in shown
    ]


def open_zones(*, sketch: str | None = None, lang: str | None = None, app: bool = False) -> AppTest:
    at = AppTest.from_file(str(APP if app else PAGE), default_timeout=TIMEOUT)
    if lang is not None:
        at.session_state["lang"] = lang
    if sketch is not None:
        at.query_params["sketch"] = sketch
    at.run()
    if app:
        at.switch_page("blockline/app_pages/zones.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawn(engine: sa.Engine, *geoms: object, lang: str | None = None) -> tuple[AppTest, str]:
    """The page with ``geoms`` drawn: kept in the drafts store under the page's sketch, as the map's drawing does."""
    sketch = new_sketch()
    save_drafts(engine, sketch, "zones:zone", features(*geoms), user="test")
    return open_zones(sketch=sketch, lang=lang), sketch


def frame_of(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


# -- the page ------------------------------------------------------------------------------------------------
def test_page_runs_on_an_empty_store(engine: sa.Engine) -> None:
    at = open_zones()
    assert at.title[0].value == "连片开发片区"
    assert "数据库为空" in texts(at)


def test_the_page_is_in_the_app(city: sa.Engine) -> None:
    at = open_zones(app=True)
    assert at.title[0].value == "连片开发片区"


def test_candidates_at_the_profile_parameters(city: sa.Engine) -> None:
    at = open_zones()
    shown = metrics(at)
    assert shown["候选片区（个）"] == "1"
    assert shown["候选片区面积"] == "60.00 亩"  # 4 × 100 m × 100 m
    assert shown["候选片区宗地（宗）"] == "4"
    table = frame_of(at, "片区编号")
    assert table["面积（亩）"].tolist() == pytest.approx([60.0])
    assert table["宗地编号"].tolist() == ["A1、A2、A3、A4"]
    assert table["权利人（个）"].tolist() == [3]
    assert table["所在区块线"].tolist() == ["一级线"]
    assert table["亩均评价"].tolist() == ["D 1 · 未评价 3"]  # A3's enterprise, rated D last year
    assert "wenzhou-2020 WZ §12" in texts(at)  # the profile and the article
    assert "达到门槛" not in "".join(m.label for m in at.metric)  # nothing drawn: no assessment
    assert "在地图上绘制片区" in texts(at)
    script = map_script(at)
    assert '"候选片区"' in script and "L.Control.Draw" in script


def test_the_gap_and_the_threshold_are_controls(city: sa.Engine) -> None:
    at = open_zones()
    at.number_input(key="zones_gap_m_wenzhou-2020").set_value(10.0).run()  # the 12 m road now separates A3
    assert not at.exception
    assert metrics(at)["候选片区（个）"] == "0"
    assert "没有达到门槛的低效用地片区" in texts(at)
    at.number_input(key="zones_min_mu_wenzhou-2020").set_value(25.0).run()
    assert not at.exception  # at 10 m and 25 亩: A1+A2+A4 (45 亩) and B1+B2 (30 亩)
    assert metrics(at)["候选片区（个）"] == "2" and metrics(at)["候选片区面积"] == "75.00 亩"
    at.number_input(key="zones_gap_m_wenzhou-2020").set_value(15.0).run()
    table = frame_of(at, "片区编号")
    assert table["面积（亩）"].tolist() == pytest.approx([60.0, 30.0])


def test_a_drawn_zone_is_assessed_beside_the_map(city: sa.Engine) -> None:
    at, _ = drawn(city, ZONE)
    shown = metrics(at)
    assert shown["片区面积"] == "93.75 亩"
    assert shown["达到面积门槛"] == "是"
    assert shown["涉及宗地（宗）"] == "5"
    assert shown["其中宗地面积"] == "58.20 亩"
    assert shown["权利人（个）"] == "4"
    assert shown["低效用地占比"] == "87.1%"  # 50.70 of 58.20 亩
    assert shown["所在区块线"] == "一级线"
    assert shown["亩均评价"] == "A 1 · D 1 · 未评价 3"
    assert "片区面积 93.75 亩，达到 50.00 亩 的门槛（wenzhou-2020 WZ §12）" in texts(at)
    table = frame_of(at, "落入片区比例（%）").set_index("宗地编号")
    assert list(table.index) == ["A1", "A2", "A3", "A4", "H1"]
    assert table["片区内面积（亩）"].tolist() == pytest.approx([15.0, 15.0, 5.7, 15.0, 7.5])
    assert table["落入片区比例（%）"].tolist() == pytest.approx([100.0, 100.0, 38.0, 100.0, 50.0])
    assert table["低效用地"].tolist() == ["是", "是", "是", "是", "否"]
    assert table.loc["A2", "权利人"] == HOSTILE  # a name is data
    script = map_script(at)
    assert '"绘制的片区"' in script and '"片区内低效宗地"' in script and '"片区内其他宗地"' in script
    assert "&lt;img src=x onerror=alert(1)&gt;" in script and "<img src=x" not in script


def test_a_zone_short_of_the_threshold_says_by_how_much(city: sa.Engine) -> None:
    at, _ = drawn(city, SMALL)
    shown = metrics(at)
    assert shown["片区面积"] == "30.00 亩" and shown["达到面积门槛"] == "否"
    warnings = " ".join(w.value for w in at.warning)
    assert "未达到 50.00 亩 的门槛，还差 20.00 亩" in warnings and "wenzhou-2020 WZ §12" in warnings
    assert "扩大范围" in warnings  # the fix
    at.number_input(key="zones_min_mu_wenzhou-2020").set_value(30.0).run()  # a planner's what-if
    assert metrics(at)["达到面积门槛"] == "是"


def test_two_drawings_make_one_zone_and_survive_a_reload(city: sa.Engine) -> None:
    west, east = box(X + 200, Y + 200, X + 300, Y + 450), box(X + 300, Y + 200, X + 450, Y + 450)
    at, sketch = drawn(city, west, east)
    assert metrics(at)["片区面积"] == "93.75 亩"  # 100 × 250 + 150 × 250 m
    again = open_zones(sketch=sketch)  # a new session with the same address: a reload
    assert metrics(again)["片区面积"] == "93.75 亩"
    assert "已绘制 2 块" in texts(again)


def test_clearing_deletes_the_drafts(city: sa.Engine) -> None:
    at, sketch = drawn(city, ZONE)
    at.button(key="zones_clear").click().run()
    assert not at.exception
    assert read_drafts(city, sketch, "zones:zone") == []
    assert "在地图上绘制片区" in texts(at)


def test_saving_a_named_zone_with_its_requirements(city: sa.Engine) -> None:
    at, sketch = drawn(city, ZONE)
    at.button(key="zones_save").click().run()  # no name
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "片区须有名称" in errors and "处理：填写片区名称" in errors
    assert count(city, "SELECT count(*) FROM zones") == 0
    at.text_input(key="zones_name").input("滨江连片改造片区")
    at.number_input(key="zones_req_investment").set_value(300.0)
    at.number_input(key="zones_req_tax").set_value(30.0)
    at.text_input(key="zones_req_industry").input("智能装备")
    at.button(key="zones_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已保存片区 #1" in texts(at)
    with city.connect() as conn:
        row = conn.execute(
            sa.text("""
            SELECT name, kind, county_code, area_mu, requirements, assessment, created_by, ST_Area(geom)
            FROM zones""")
        ).one()
    assert row[0] == "滨江连片改造片区" and row[1] == "drawn" and row[2] == "330302"
    assert row[3] == pytest.approx(93.75, abs=1e-6)
    assert row[7] / M2_PER_MU == pytest.approx(93.75, abs=1e-6)  # the shape itself, measured by PostGIS
    assert row[4] == {"investment_per_mu_wan": 300.0, "tax_per_mu_wan": 30.0, "industry": "智能装备"}
    assert row[5]["meets_threshold"] is True and row[5]["holders"] == 4
    assert row[5]["article"] == "wenzhou-2020 WZ §12"
    assert sorted(p["parcel_no"] for p in row[5]["parcels"]) == ["A1", "A2", "A3", "A4", "H1"]
    assert row[6] == "test"
    assert read_drafts(city, sketch, "zones:zone") == []  # saved: the drawing is done
    saved = frame_of(at, "保存时间")
    assert saved["名称"].tolist() == ["滨江连片改造片区"] and saved["面积（亩）"].tolist() == pytest.approx(
        [93.75]
    )
    assert "亩均投资强度（万元/亩）：300.00" in saved["片区要求"].iloc[0]


def test_exports_of_candidates_parcels_and_a_saved_zone(
    city: sa.Engine, media: list[object], tmp_path: Path
) -> None:
    at, _ = drawn(city, ZONE)
    candidates = read_gpkg(download(at, media, "zones_candidates_gpkg"), tmp_path)
    assert candidates["parcels"].tolist() == ["A1,A2,A3,A4"]
    assert candidates["area_mu"].tolist() == pytest.approx([60.0])
    assert candidates.crs.to_epsg() == 4549 and candidates.area.sum() / M2_PER_MU == pytest.approx(60.0)
    book = pd.read_excel(io.BytesIO(download(at, media, "zones_candidates_xlsx")))
    assert book["面积（亩）"].tolist() == pytest.approx([60.0]) and book["权利人（个）"].tolist() == [3]
    parcels = pd.read_excel(io.BytesIO(download(at, media, "zones_parcels_xlsx")))
    assert parcels["宗地编号"].tolist() == ["A1", "A2", "A3", "A4", "H1"]
    assert parcels["片区内面积（亩）"].sum() == pytest.approx(58.2)
    assert parcels["权利人"].tolist()[1] == HOSTILE
    layer = read_gpkg(download(at, media, "zones_parcels_gpkg"), tmp_path)
    assert layer["kind"].tolist() == ["zone", *["parcel"] * 5]
    assert layer.area.iloc[0] / M2_PER_MU == pytest.approx(93.75, abs=1e-6)

    at.text_input(key="zones_name").input("滨江片区")
    at.text_area(key="zones_req_entry").input("亩均税收不低于 30 万元")
    at.button(key="zones_save").click().run()
    at.selectbox(key="zones_open").set_value(1).run()
    assert not at.exception
    assert "已打开：滨江片区（93.75 亩）" in texts(at)
    assert '"打开的片区"' in map_script(at)
    zone = read_gpkg(download(at, media, "zones_open_gpkg"), tmp_path)
    assert zone["name"].tolist() == ["滨江片区"] and zone["entry_conditions"].tolist() == [
        "亩均税收不低于 30 万元"
    ]
    assert zone.area.iloc[0] / M2_PER_MU == pytest.approx(93.75, abs=1e-6)
    sheets = pd.read_excel(io.BytesIO(download(at, media, "zones_open_xlsx")), sheet_name=None)
    assert list(sheets) == ["片区", "宗地"]
    facts = dict(zip(sheets["片区"]["项目"], sheets["片区"]["内容"], strict=False))
    assert (
        facts["名称"] == "滨江片区"
        and facts["达到面积门槛"] == "是"
        and facts["准入条件"] == "亩均税收不低于 30 万元"
    )
    assert sheets["宗地"]["宗地编号"].tolist() == ["A1", "A2", "A3", "A4", "H1"]


def test_a_candidate_becomes_the_drawn_zone(city: sa.Engine) -> None:
    sketch = new_sketch()
    at = open_zones(sketch=sketch)
    zone_id = frame_of(at, "片区编号")["片区编号"].iloc[0]
    at.selectbox(key="zones_chosen").set_value(zone_id).run()
    assert '"选中的候选片区"' in map_script(at)
    at.button(key="zones_use_candidate").click().run()
    assert not at.exception
    assert metrics(at)["片区面积"] == "60.00 亩"  # the four parcels, the road between them not included
    assert metrics(at)["低效用地占比"] == "100.0%"
    assert len(read_drafts(city, sketch, "zones:zone")) == 1


def test_saving_the_candidates(city: sa.Engine) -> None:
    at = open_zones()
    at.button(key="zones_save_candidates").click().run()
    assert not at.exception
    assert "已保存 1 个候选片区" in texts(at)
    with city.connect() as conn:
        row = conn.execute(sa.text("SELECT kind, area_mu, params, ST_Area(geom) FROM zones")).one()
    assert row[0] == "candidate" and row[1] == pytest.approx(60.0)
    assert row[2]["parcels"] == ["A1", "A2", "A3", "A4"] and row[2]["gap_m"] == 15.0
    assert row[3] / M2_PER_MU == pytest.approx(60.0)


def test_english(city: sa.Engine) -> None:
    at, _ = drawn(city, SMALL, lang="en")
    assert at.title[0].value == "Consolidation zones"
    shown = metrics(at)
    assert shown["Zone area"] == "30.00 亩" and shown["Reaches the threshold"] == "no"
    assert "20.00 亩 short of the 50.00 亩 threshold (wenzhou-2020 WZ §12)" in " ".join(
        w.value for w in at.warning
    )
    assert '"Drawn zone"' in map_script(at)


def test_a_profile_without_consolidation_rules_says_so_and_stops(city: sa.Engine) -> None:
    # the Yiwu text has no 连片开发 rule: its profile carries none, and the page says so instead of a KeyError
    at = open_zones()
    at.selectbox(key="zones_policy").set_value("yiwu").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("义乌市的政策配置（yiwu）没有连片开发规则" in w.value for w in at.warning)
    assert not at.number_input  # no threshold controls for a rule the city does not have
