"""The 占补平衡 page, run headless with AppTest on a real store, and the pure helpers of ``blockline.ui.balance_view``.

Drawings are kept as drafts in the store (``geo.drafts``) for the sketch in the page's address: a test writes
them with ``geo.drafts.save_drafts`` and opens the page with ``at.query_params["sketch"]`` set, which is what
a reload of that address does. A drawing made on the map is what streamlit-folium's component returns: the
test sets that value in the session under the component's widget key (``streamlit_folium.generate_js_hash``
of the map's script and the page's key), as the browser would send it.

The city is the hand-built one of tests/zoning/conftest.py: 鹿城区 (330302) and 瓯海区 (330304), each with a
600 m × 600 m level-1 line (540 亩), and a 400 m × 600 m level-2 line in 鹿城区 (360 亩). The adjustment
of tests/zoning/test_balance.py: a removal of 600 × 100 m of 鹿城's level 1 (90 亩) and an addition of
550 × 100 m outside any line (82.5 亩), so 鹿城's balance after is −7.50 亩.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely.testing
import sqlalchemy as sa
from shapely import box
from streamlit.testing.v1 import AppTest
from streamlit_folium import generate_js_hash

from blockline.services.ledger_record import record_adjustment
from blockline.ui import balance_view as bv
from blockline.ui.maps import build_map, unescape_js
from geo.drafts import new_sketch, save_drafts, valid_sketch
from tests.app.apptest import map_script, metrics, texts
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city, square
from zoning.policy import get_profile

PAGE = Path(__file__).resolve().parents[2] / "blockline" / "app_pages" / "balance.py"
TIMEOUT = 60
WZ = get_profile("wenzhou-2020")
LC, OH = "330302", "330304"
REMOVAL = box(X + 100, Y + 100, X + 700, Y + 200)  # 600 × 100 = 90 亩 of 鹿城's level 1
ADDITION = box(X + 800, Y + 800, X + 1350, Y + 900)  # 550 × 100 = 82.5 亩, outside every line
DOC = "温政函〔2026〕1号"


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    import streamlit as st

    st.cache_data.clear()


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    """The two-county city with its level-1 and level-2 lines (tests.files.load_two_county_city)."""
    load_two_county_city(engine, tmp_path)
    return engine


def drawn(*geoms: object) -> list[dict[str, object]]:
    """Polygons of EPSG:4549 as the drawing path keeps them: GeoJSON Features in EPSG:4326 (plain JSON)."""
    return json.loads(json.dumps(bv.to_features(list(geoms), epsg=4549)))


def keep(
    engine: sa.Engine, *, removal: list | None = None, addition: list | None = None, sketch: str | None = None
) -> str:
    """Drawings kept in the store as the page keeps them (purposes balance:removal/addition); the sketch id."""
    sketch = sketch or new_sketch()
    for role, features in (("removal", removal), ("addition", addition)):
        if features:
            save_drafts(engine, sketch, f"balance:{role}", features, user="test")
    return sketch


def open_balance(*, sketch: str | None = None, lang: str | None = None) -> AppTest:
    """A fresh session on the page; with ``sketch``, at the address ``?sketch=<id>`` (a reload of it)."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    if lang is not None:
        at.session_state["lang"] = lang
    if sketch is not None:
        at.query_params["sketch"] = sketch
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_with(
    engine: sa.Engine, *, removal: list | None = None, addition: list | None = None, lang: str | None = None
) -> tuple[AppTest, str]:
    """The page at the address of a sketch holding these drawings."""
    sketch = keep(engine, removal=removal, addition=addition)
    return open_balance(sketch=sketch, lang=lang), sketch


def drafts_of(engine: sa.Engine, sketch: str) -> dict[str, int]:
    """How many drafts the store holds for ``sketch``, by purpose (straight from the table)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT purpose, count(*) FROM drafts WHERE sketch = :s GROUP BY purpose"), {"s": sketch}
        ).fetchall()
    return {purpose: int(n) for purpose, n in rows}


def draw(at: AppTest, *features: dict) -> AppTest:
    """Run the page as when the browser's map sends ``all_drawings`` (every drawing on it, as it always does)."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    script = json.loads(maps[0].proto.json_args)["script"]
    at.session_state[generate_js_hash(script, "balance_map", False)] = {"all_drawings": list(features)}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def frame_of(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe the page shows that has ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


# -- the page ------------------------------------------------------------------------------------------------
def test_page_runs_on_an_empty_store(engine: sa.Engine) -> None:
    at = open_balance()
    assert "数据库为空" in texts(at)


def test_nothing_drawn_shows_the_ledger(city: sa.Engine) -> None:
    at = open_balance()
    assert at.title[0].value == "占补平衡"
    assert "绘制或导入调出、补入范围后" in texts(at)
    assert metrics(at) == {"全市占补余额": "0.00 亩", "全市一级线面积": "1,080.00 亩"}
    script = map_script(at)
    assert '"一级线"' in script and '"二级线"' in script and "L.Control.Draw" in script
    assert "polyline" in script  # turned off, by name
    assert "drawnItems.addLayer" in script  # the layer streamlit-folium reads all_drawings from


def test_check_of_an_unbalanced_adjustment(city: sa.Engine) -> None:
    at, _ = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    shown = metrics(at)
    assert shown["占用一级线"] == "90.00 亩" and shown["补划一级线"] == "82.50 亩"
    assert shown["调整前余额"] == "0.00 亩" and shown["调整后余额"] == "-7.50 亩"
    assert shown["调整后全市余额"] == "-7.50 亩"
    assert shown["县域平衡"] == "否" and shown["市域平衡"] == "否"
    assert "县域内还差 7.50 亩" in texts(at)
    assert "既不在二级线内也不在工业用地上" in texts(at) and "WZ" in texts(at)  # the warning with its article
    script = map_script(at)
    for layer in ("调出范围", "补入范围", "占用一级线", "补划一级线"):
        assert f'"{layer}"' in script
    assert "#8e44ad" in script and "#27ae60" in script  # occupied purple, replaced green


def test_recording_an_unbalanced_adjustment_is_refused(city: sa.Engine) -> None:
    at, sketch = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    at.button(key="balance_record").click().run()  # no approval document number
    assert not at.exception
    assert "须填写批复文号" in " ".join(e.value for e in at.error)
    at.text_input(key="balance_doc").input(DOC)
    at.button(key="balance_record").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "7.50" in errors and "不满足占一补一" in errors and "处理：" in errors
    assert count(city, "adjustments") == 0 and count(city, "quota_transfers") == 0
    assert drafts_of(city, sketch) == {"balance:removal": 1, "balance:addition": 1}  # kept to try again


def test_a_transfer_from_a_county_with_a_surplus_records_it(city: sa.Engine) -> None:
    # 瓯海 adds 15 亩 of new level 1 with no removal: its balance becomes +15.
    record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="瓯政〔2026〕2号",
        user="approver",
        profile=WZ,
    )
    at, sketch = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    shown = metrics(at)
    assert shown["县域平衡"] == "否" and shown["市域平衡"] == "是"
    at.text_input(key="balance_doc").input(DOC)
    at.text_area(key="balance_reason").input("市政道路")
    at.multiselect(key="balance_transfer_from").set_value([OH]).run()
    assert at.number_input(key=f"balance_transfer_mu_{OH}").value == pytest.approx(
        7.5
    )  # proposed: the shortfall
    at.button(key="balance_record").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已记录调整 #2" in texts(at)
    assert count(city, "adjustments") == 2 and count(city, "quota_transfers") == 1
    assert drafts_of(city, sketch) == {}  # recorded: the sketch's drafts are gone from the store
    assert at.query_params["sketch"] == sketch
    assert "绘制或导入调出、补入范围后" in texts(at)
    balances = frame_of(at, "占补余额（亩）").set_index("行政区代码")["占补余额（亩）"]
    assert balances[LC] == pytest.approx(0.0) and balances[OH] == pytest.approx(7.5)
    assert balances["全市"] == pytest.approx(7.5)
    level1 = frame_of(at, "一级线面积（亩）").set_index("行政区代码")["一级线面积（亩）"]
    assert level1[LC] == pytest.approx(540 - 90 + 82.5)
    entries = frame_of(at, "批复文号")
    assert entries["批复文号"].tolist() == ["瓯政〔2026〕2号", DOC]
    assert entries["指标调剂"].tolist()[-1] == f"{OH} → {LC} 7.50"
    # recording lowered the city's level 1 by 90 − 82.5, covered by 瓯海's earlier 15: the check said the city
    # balanced, and the ledger says the same (the total stays 7.5 亩 above the loaded 1080)
    assert "全市一级线总量从未低于原有总量" in texts(at)
    assert "低于原有总量（未占补平衡）" not in texts(at)


def test_suggestion_lists_pieces_and_adds_them(city: sa.Engine) -> None:
    at, sketch = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    at.button(key="balance_suggest").click().run()
    assert not at.exception
    pieces = frame_of(at, "与一级线相邻")
    assert pieces["类型"].tolist() == ["二级线"]
    assert pieces["面积（亩）"].tolist() == pytest.approx([360.0])  # 鹿城's level 2, 400 × 600 m
    assert '"建议补划"' in map_script(at)
    at.button(key="balance_suggest_add").click().run()
    assert not at.exception
    assert drafts_of(city, sketch) == {
        "balance:removal": 1,
        "balance:addition": 2,
    }  # kept in the store at once
    shown = metrics(at)
    assert (
        shown["补划一级线"] == "442.50 亩"
        and shown["调整后余额"] == "352.50 亩"
        and shown["县域平衡"] == "是"
    )
    assert count(city, "adjustments") == 0


def test_clear_buttons(city: sa.Engine) -> None:
    at, sketch = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    at.button(key="balance_clear_addition").click().run()
    assert drafts_of(city, sketch) == {"balance:removal": 1}
    assert metrics(at)["调整后余额"] == "-90.00 亩"
    at.button(key="balance_clear_removal").click().run()
    assert drafts_of(city, sketch) == {}
    assert "绘制或导入调出、补入范围后" in texts(at)
    assert "绘制或导入调出、补入范围后" in texts(open_balance(sketch=sketch))  # and a reload shows nothing


def test_uploaded_addition_is_unioned_with_the_drawn_one(city: sa.Engine) -> None:
    at, sketch = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    extra = gpd.GeoDataFrame({"名称": ["补入"]}, geometry=[square(X + 1350, Y + 800, 50)], crs="EPSG:4549")
    at.file_uploader(key="balance_file_addition_0").upload(
        "补入.geojson", extra.to_crs(4326).to_json().encode(), "application/geo+json"
    ).run()
    assert not at.exception
    shown = metrics(at)  # 82.5 + 50 × 50 m (3.75 亩)
    assert shown["补划一级线"] == "86.25 亩" and shown["调整后余额"] == "-3.75 亩"
    at.button(key="balance_clear_addition").click().run()  # clears the drawn shapes and the uploaded file
    assert not at.exception
    assert (
        metrics(at)["调整后余额"] == "-90.00 亩" and not at.file_uploader(key="balance_file_addition_1").value
    )
    assert drafts_of(city, sketch) == {"balance:removal": 1}  # uploads are never drafts


def test_an_unreadable_upload_is_told_in_the_language(city: sa.Engine) -> None:
    at = open_balance(lang="en")
    at.file_uploader(key="balance_file_removal_0").upload(
        "bad.geojson", b"not json", "application/geo+json"
    ).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "bad.geojson" in errors and "Fix:" in errors


def test_english(city: sa.Engine) -> None:
    at, _ = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION), lang="en")
    assert at.title[0].value == "Occupy one, replace one"
    shown = metrics(at)
    assert shown["Level 1 occupied"] == "90.00 亩" and shown["Balance after"] == "-7.50 亩"
    assert shown["County-balanced"] == "no"
    assert "neither in a level-2 line nor on industrial land" in texts(at)
    assert "Balance (亩)" in frame_of(at, "Balance (亩)").columns
    assert '"Removal"' in map_script(at)


def test_ledger_download_is_the_workbook(city: sa.Engine) -> None:
    record_adjustment(
        city,
        county=OH,
        addition=box(X + 2100, Y + 800, X + 2200, Y + 900),
        approval_doc="瓯政〔2026〕2号",
        user="approver",
        profile=WZ,
    )
    from blockline.services.balance import ledger

    book = pd.read_excel(
        io.BytesIO(bv.ledger_xlsx_bytes(ledger(city))), sheet_name=None, dtype={"行政区代码": str}
    )
    assert list(book) == ["台账", "各县余额", "一级线总量"]
    assert book["台账"]["批复文号"].tolist() == ["瓯政〔2026〕2号"]
    assert book["各县余额"].set_index("行政区代码").loc[OH, "占补余额（亩）"] == pytest.approx(15.0)
    at = open_balance()
    assert at.get("download_button")


def test_drafts_of_the_sketch_are_shown_and_counted_after_a_reload(city: sa.Engine) -> None:
    # 200 m × 100 m of 鹿城's level 1 removed: 20,000 m² ÷ (10,000/15 m² per 亩) = 30 亩 occupied;
    # a 100 m × 100 m square added outside every line: 15 亩 replaced; 鹿城 had 0, so 0 − 30 + 15 = −15.
    sketch = keep(
        city,
        removal=drawn(box(X + 100, Y + 300, X + 300, Y + 400)),
        addition=drawn(square(X + 1300, Y + 1300)),
    )
    for _ in range(2):  # the first visit of the address, then a reload: a new session each time
        at = open_balance(sketch=sketch)
        assert at.query_params["sketch"] == sketch
        shown = metrics(at)
        assert shown["占用一级线"] == "30.00 亩" and shown["补划一级线"] == "15.00 亩"
        assert shown["调整后余额"] == "-15.00 亩" and shown["调整后全市余额"] == "-15.00 亩"
        assert "已保存的绘制：调出 1 块，补入 1 块" in texts(at)
        script = map_script(at)
        assert '"调出范围"' in script and '"补入范围"' in script
    other = open_balance()  # a new visit gets a sketch of its own, which holds nothing
    assert valid_sketch(other.query_params["sketch"]) and other.query_params["sketch"] != sketch
    assert "绘制或导入调出、补入范围后" in texts(other)


def test_a_drawing_is_kept_at_once_and_never_taken_twice(city: sa.Engine) -> None:
    at = open_balance()
    sketch = at.query_params["sketch"]
    # 鹿城's level 1 is 600 m × 600 m; a 100 m × 100 m square inside it occupies 15 亩.
    first = drawn(square(X + 200, Y + 200))[0]
    draw(at, first)
    assert drafts_of(city, sketch) == {"balance:removal": 1}
    assert metrics(at)["占用一级线"] == "15.00 亩" and metrics(at)["调整后余额"] == "-15.00 亩"
    # the addition role; the map sends the first drawing again with the new one
    at.radio(key="balance_role").set_value("addition").run()
    draw(at, first, drawn(square(X + 1300, Y + 1300))[0])
    assert drafts_of(city, sketch) == {"balance:removal": 1, "balance:addition": 1}
    assert metrics(at)["补划一级线"] == "15.00 亩" and metrics(at)["调整后余额"] == "0.00 亩"
    # cleared: the map still holds the drawing and sends it again, and it is not taken back
    at.button(key="balance_clear_removal").click().run()
    draw(at, first)
    assert drafts_of(city, sketch) == {"balance:addition": 1}
    assert metrics(at)["占用一级线"] == "0.00 亩"
    assert metrics(open_balance(sketch=sketch))["补划一级线"] == "15.00 亩"  # the reload


def test_a_line_is_refused_with_a_message(city: sa.Engine) -> None:
    at = open_balance()
    sketch = at.query_params["sketch"]
    line = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": [[120.70, 27.99], [120.71, 28.0]]},
    }
    draw(at, line)
    errors = " ".join(e.value for e in at.error)
    assert "这个图形没有保存" in errors and "不是面" in errors and "处理：用多边形或矩形工具绘制" in errors
    assert drafts_of(city, sketch) == {}
    # a flat "polygon" (three points on one line) has no area; in English
    at.session_state["lang"] = "en"
    at.run()  # the map is drawn in English now: its drawings come from that map
    flat = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.70, 28.0], [120.701, 28.0], [120.702, 28.0], [120.70, 28.0]]],
        },
    }
    draw(at, line, flat)
    errors = " ".join(e.value for e in at.error)
    assert "This drawing was not kept" in errors and "has no area" in errors and "not a polygon" not in errors
    assert drafts_of(city, sketch) == {}


def test_tables_show_mu_with_separators(city: sa.Engine) -> None:
    at, _ = open_with(city, removal=drawn(REMOVAL), addition=drawn(ADDITION))
    at.button(key="balance_suggest").click().run()
    shown = 0
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in frame.value.columns:
            if "亩" in column:
                assert config[column]["type_config"]["format"] == "%,.2f", column
                shown += 1
    assert shown == 3  # 面积（亩）of the suggestion; 占补余额（亩）, 一级线面积（亩）of the ledger


# -- blockline.ui.balance_view -----------------------------------------------------------------------------------------
def test_geojson_round_trip_keeps_the_area() -> None:
    sq = square(X, Y)  # 100 m × 100 m = 15 亩
    features = bv.to_features([sq], epsg=4549)
    assert features[0]["type"] == "Feature" and features[0]["geometry"]["type"] == "Polygon"
    lon, lat = features[0]["geometry"]["coordinates"][0][0]
    assert 120 < lon < 121.5 and 27.5 < lat < 28.5
    back = bv.from_features(json.loads(json.dumps(features)), epsg=4549)
    assert bv.area_of(back) == pytest.approx(15.0, abs=0.01)
    shapely.testing.assert_geometries_equal(back[0], sq, tolerance=1e-3, normalize=True)


def test_from_features_takes_bare_geometries_repairs_and_drops_lines() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[120.7, 28.0], [120.701, 28.001], [120.701, 28.0], [120.7, 28.001], [120.7, 28.0]]],
    }
    line = {"type": "LineString", "coordinates": [[120.7, 28.0], [120.701, 28.001]]}
    geoms = bv.from_features([bowtie, {"type": "Feature", "properties": {}, "geometry": line}], epsg=4549)
    assert len(geoms) == 1 and geoms[0].is_valid and geoms[0].area > 0


def test_role_geometry_unions_drawn_and_uploaded() -> None:
    union = bv.role_geometry(drawn(square(X, Y)), [square(X + 50, Y), square(X + 100, Y)], epsg=4549)
    assert bv.area_of(union) == pytest.approx(30.0, abs=0.01)  # 200 m × 100 m
    assert bv.role_geometry([], [], epsg=4549) is None


def test_new_drawings_are_those_not_seen() -> None:
    a, b = drawn(square(X, Y))[0], drawn(square(X + 500, Y))[0]
    first = bv.new_drawings([a], [])
    assert list(first.values()) == [a]
    second = bv.new_drawings([a, b, b], list(first))  # the map sends every drawing again
    assert list(second.values()) == [b]
    assert bv.new_drawings([a, b], [*first, *second]) == {}  # after a clear, the stale drawings stay out
    resent = {"type": "Feature", "properties": {"id": 7}, "geometry": json.loads(json.dumps(a["geometry"]))}
    assert bv.new_drawings([resent], list(first)) == {}  # the same drawing sent back with other properties
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.7, 28.0]}}
    assert len(bv.new_drawings([point], [])) == 1  # judged by the store, which refuses it
    assert bv.new_drawings([{"type": "Feature", "properties": {}, "geometry": None}], []) == {}


def test_warning_text_and_transfers() -> None:
    w = {"code": "sliver", "message": "有碎片 / slivers", "article": "WZ §5"}
    assert bv.warning_text(w, "zh") == "有碎片（WZ §5）" and bv.warning_text(w, "en") == "slivers (WZ §5)"
    assert bv.allocate_transfers(7.5, {OH: 15.0, LC: 0.0}, [LC, OH]) == {LC: 0.0, OH: 7.5}
    assert bv.allocate_transfers(-1.0, {OH: 15.0}, [OH]) == {OH: 0.0}


def test_balance_layers_on_the_map() -> None:
    m = build_map(counties=None, level1=None, level2=None, parcels=None)
    bv.add_balance_layers(
        m, epsg=4549, removal=drawn(REMOVAL), occupied=REMOVAL, replaced=ADDITION, lang="en"
    )
    bv.add_draw_control(m, asset_url="/app/static/leaflet-draw")
    html = unescape_js(m.get_root().render())
    for name in ("Removal", "Level 1 occupied", "Level 1 replaced"):
        assert f'"{name}"' in html
    # the drawing tools come from the app's own copy, which is there: no CDN on an intranet
    assert "/app/static/leaflet-draw/leaflet.draw.js" in html and "cdnjs" not in html
    served = Path(__file__).resolve().parents[2] / "static" / "leaflet-draw" / "leaflet.draw.js"
    assert served.stat().st_size > 10_000
    assert '"Addition"' not in html  # nothing to draw, no layer
    assert "#8e44ad" in html and "#27ae60" in html


def test_ledger_frames() -> None:
    book = {
        "counties": [{"county": LC, "name": "鹿城区", "balance_mu": -2.5, "level1_mu": 450.0}],
        "city_balance_mu": -2.5,
        "city_level1_mu": 450.0,
        "entries": [],
        "level1_history": [
            {
                "at": "2026-01-01 08:00:00",
                "at_iso": "2026-01-01T08:00:00+08:00",
                "level1_mu": 540.0,
                "change_mu": 540.0,
                "fell": False,
            },
            {  # the same instant written in UTC: the chart shows Beijing's wall time all the same
                "at": "2026-02-01 08:00:00",
                "at_iso": "2026-02-01T00:00:00+00:00",
                "level1_mu": 450.0,
                "change_mu": -90.0,
                "fell": True,
            },
        ],
    }
    counties = bv.ledger_counties_frame(book, "zh")
    assert counties["行政区代码"].tolist() == [LC, "全市"]
    history = bv.history_frame(book)
    assert history["level1_mu"].tolist() == [540.0, 450.0] and str(history.index.dtype).startswith(
        "datetime64"
    )
    assert [str(a) for a in history.index] == ["2026-01-01 08:00:00", "2026-02-01 08:00:00"]
    falls = bv.falls_frame(book, "en")
    assert falls["Change (亩)"].tolist() == [-90.0]
    assert bv.ledger_entries_frame(book, "zh").empty
