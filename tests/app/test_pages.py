"""Every page of the app, run headless with AppTest on a real store: empty, and a small city built by hand.

The small city: 鹿城区 (330302) and 瓯海区 (330304), two 2 km × 2 km boxes; a level-1 line of
400 m × 400 m in 鹿城区 (240 亩), a level-2 line of 300 m × 300 m in 瓯海区 (135 亩), and three parcels of
100 m × 100 m (15 亩 each, 45 亩 in all): two in 鹿城区, one in 瓯海区.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import urllib.parse
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from blockline.ui.data import BUNDLED_LEAFLET
from blockline.ui.maps import VECTORGRID_JS, unescape_js
from geo import clock
from geo.area import area_mu
from geo.errors import DatabaseUnavailable
from geo.load import write_blocklines, write_boundaries, write_parcels
from geo.queries import store_counts
from geo.settings import get_settings
from geo.store import transaction
from tests.app.apptest import download, record_media
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties, write_shapefile

APP = Path(__file__).resolve().parents[2] / "app.py"
PAGES = (
    "blockline/app_pages/overview.py",
    "blockline/app_pages/map.py",
    "blockline/app_pages/balance.py",
    "blockline/app_pages/zones.py",
    "blockline/app_pages/idle.py",
    "blockline/app_pages/lifecycle.py",
    "blockline/app_pages/data.py",
)
TIMEOUT = 60
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cached frames of one test's store must not leak into the next; the app is served as blockline/server.py serves it."""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setenv("BLOCKLINE_TILES", "1")
    get_settings.cache_clear()  # the settings read BLOCKLINE_TILES


def _multi(geoms: list[object]) -> list[object]:
    return [shapely.MultiPolygon([g]) for g in geoms]


def _lines(geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"线{i}" for i in range(len(geoms))]}, geometry=_multi(geoms), crs="EPSG:4549"
    )


def fill_small_city(engine: Engine) -> None:
    counties = two_counties()
    counties["level"], counties["parent_code"] = "county", "330300"
    counties["geometry"] = _multi(list(counties.geometry))
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": ["P-001", "P-002", "P-003"],
            "holder": ["温州甲机械有限公司", HOSTILE, "瓯海乙电气有限公司"],
            "land_use": ["100101", "100102", "100101"],
        },
        geometry=_multi([square(X + 200, Y + 200), square(X + 400, Y + 200), square(X + 2200, Y + 200)]),
        crs="EPSG:4549",
    )
    parcels["area_mu"] = area_mu(parcels).to_numpy()
    with transaction(engine) as conn:
        write_boundaries(conn, counties, load_id=None)
        write_blocklines(conn, _lines([square(X + 100, Y + 100, 400)]), level=1, load_id=None, user="test")
        write_blocklines(conn, _lines([square(X + 2100, Y + 100, 300)]), level=2, load_id=None, user="test")
        write_parcels(conn, parcels, load_id=None, user="test")


@pytest.fixture
def small_city(engine: Engine) -> Engine:
    fill_small_city(engine)
    return engine


def open_page(page: str | None = None, *, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if lang is not None:
        at.radio(key="lang").set_value(lang).run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def map_args(at: AppTest) -> dict[str, object]:
    """What the page hands to the st_folium component."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    assert len(maps) == 1
    return json.loads(maps[0].proto.json_args)


def map_script(at: AppTest) -> str:
    """The Leaflet script the page hands to the st_folium component, JSON escapes undone."""
    return unescape_js(str(map_args(at)["script"]))


def texts(at: AppTest) -> str:
    """Every text the page shows, as one string."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


# -- an empty store -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_store(engine: Engine, page: str) -> None:
    at = open_page(page)
    if not page.endswith("data.py"):
        assert "数据库为空：运行 blockline demo 导入示例城市" in texts(at)
    else:
        assert at.file_uploader and "还没有宗地" in texts(at)


def test_sidebar_shows_where_the_data_lives(engine: Engine) -> None:
    at = open_page()
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "数据库：内置" in captions and "宗地 0" in captions


def test_database_unavailable_is_told_not_raised(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from blockline.ui import data

    def down() -> dict[str, int]:
        raise DatabaseUnavailable(
            "无法连接数据库：拒绝连接",
            "cannot reach the database: refused",
            fix_zh="用 blockline db up 启动",
            fix_en="start it with blockline db up",
        )

    monkeypatch.setattr(data, "store_counts", down)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "无法打开数据库" in errors and "处理：用 blockline db up 启动" in errors


# -- the small city -----------------------------------------------------------------------------------------
def _no_frames(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make the loaders that read every block line or parcel fail: a page that still calls one fails too."""
    from blockline.ui import data

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("this page must not read every block line or parcel")

    for name in names:
        monkeypatch.setattr(data, name, refuse)


def test_overview_counts_and_areas(small_city: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_frames(monkeypatch, "blocklines")  # summed by the database, at any city size
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "县（市、区）": "2",
        "一级线（1 块）": "240.00 亩",
        "二级线（1 块）": "135.00 亩",
        "宗地（宗）": "3",
        "宗地面积": "45.00 亩",
    }
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "行政区代码",
        "名称",
        "一级线（亩）",
        "二级线（亩）",
        "宗地（宗）",
        "宗地面积（亩）",
    ]
    rows = table.set_index("行政区代码")
    assert rows.loc["330302", "名称"] == "鹿城区"
    assert rows.loc["330302", "一级线（亩）"] == pytest.approx(240.0)
    assert rows.loc["330302", "宗地（宗）"] == 2 and rows.loc["330302", "宗地面积（亩）"] == pytest.approx(
        30.0
    )
    assert rows.loc["330304", "二级线（亩）"] == pytest.approx(135.0)
    assert rows.loc["330304", "宗地面积（亩）"] == pytest.approx(15.0)
    assert at.get("download_button")
    assert "宗地 3" in " ".join(c.value for c in at.sidebar.caption)
    # thousands separators and two decimals in the table as in the metrics
    formats = {
        k: c.get("type_config", {}).get("format")
        for k, c in json.loads(at.dataframe[0].proto.columns).items()
    }
    assert formats["一级线（亩）"] == formats["宗地面积（亩）"] == "%,.2f" and formats["宗地（宗）"] == "%,d"


def test_overview_counts_parcels_in_no_county(small_city: Engine) -> None:
    with transaction(small_city) as conn:
        far = gpd.GeoDataFrame(
            {"parcel_no": ["P-009"]},
            geometry=_multi([shapely.box(X - 3000, Y, X - 1000, Y + 411.5)]),
            crs="EPSG:4549",
        )
        write_parcels(conn, far.assign(area_mu=area_mu(far).to_numpy()), load_id=None, user="test")
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["县（市、区）"] == "2" and metrics["宗地（宗）"] == "4"
    assert metrics["宗地面积"] == "1,279.50 亩"  # 45 + a 2000 m × 411.5 m parcel of 1,234.50 亩
    rows = at.dataframe[0].value.set_index("行政区代码")
    assert rows.loc["", "名称"] == "（不在任何县内）"
    assert rows.loc["", "宗地（宗）"] == 1 and rows.loc["", "宗地面积（亩）"] == pytest.approx(1234.5)


def test_overview_export_is_the_table(small_city: Engine) -> None:
    from blockline.ui.data import county_summary, table_bytes

    book = pd.read_excel(io.BytesIO(table_bytes(county_summary(), fmt="xlsx")), dtype={"county": str})
    assert book["county"].tolist() == ["330302", "330304"]
    assert book["parcels_mu"].tolist() == pytest.approx([30.0, 15.0])
    assert book["level1_lines"].tolist() == [1, 0] and book["level2_lines"].tolist() == [0, 1]


def test_switching_to_english(small_city: Engine) -> None:
    at = open_page()
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parcels"] == "3" and metrics["Parcel area"] == "45.00 亩"
    assert "Level-1 block lines (1)" in metrics
    assert "County code" in at.dataframe[0].value.columns
    assert "Database: embedded" in " ".join(c.value for c in at.sidebar.caption)
    at.switch_page("blockline/app_pages/map.py").run()
    assert at.title[0].value == "One map" and not at.exception
    at.radio(key="lang").set_value("zh").run()
    assert at.title[0].value == "一张图"


def tile_urls(script: str) -> dict[str, str]:
    """The vector-tile URL of each layer the map asks the server for."""
    return {m[1]: m[0] for m in re.finditer(r'/tiles/(\w+)/\{z\}/\{x\}/\{y\}\.pbf\?[^"]*', script)}


def test_map_page_shows_the_city(small_city: Engine) -> None:
    at = open_page("blockline/app_pages/map.py")
    shown = texts(at)
    assert "宗地 3 宗，45.00 亩" in shown
    assert "一级线 240.00 亩" in shown and "二级线 135.00 亩" in shown
    script = map_script(at)
    for layer in ("行政区", "一级线", "二级线", "宗地"):
        assert f'"{layer}"' in script
    assert "tileLayer" not in script  # no basemap unless asked
    # Block lines and parcels come as vector tiles: no parcel is in the page itself.
    urls = tile_urls(script)
    assert set(urls) == {"all"}  # one tile per place holds every layer; the control switches each
    assert all("?v=" in u and "county=" not in u and "gcj=" not in u for u in urls.values())
    assert "P-001" not in script and "onerror" not in script
    assert "textContent" in script and "innerHTML" not in script.split("L.vectorGrid")[1]  # popups as text
    # Leaflet and Leaflet.VectorGrid, and nothing else, from the copies the app serves itself: no CDN
    assert map_args(at)["js_links"] == [f"{BUNDLED_LEAFLET}/leaflet.js", VECTORGRID_JS]
    root = Path(__file__).resolve().parents[2]
    assert (
        (root / BUNDLED_LEAFLET.removeprefix("/app/") / "leaflet.js").read_bytes().startswith(b"/* @preserve")
    )
    assert b"vectorGrid" in (root / VECTORGRID_JS.removeprefix("/app/")).read_bytes()


def test_map_page_warns_when_no_server_serves_tiles(
    small_city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BLOCKLINE_TILES", raising=False)
    get_settings.cache_clear()
    assert "blockline app" in texts(open_page("blockline/app_pages/map.py"))


def test_map_loads_leaflet_from_the_intranet(small_city: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKLINE_LEAFLET_URL", "/app/static/leaflet")
    get_settings.cache_clear()
    args = map_args(open_page("blockline/app_pages/map.py"))
    assert args["js_links"][0] == "/app/static/leaflet/leaflet.js"
    assert args["css_links"] == ["/app/static/leaflet/leaflet.css"]


def test_map_county_filter(small_city: Engine) -> None:
    at = open_page("blockline/app_pages/map.py")
    at.selectbox(key="map_county").set_value("330304").run()
    assert not at.exception
    shown = texts(at)
    assert "宗地 1 宗，15.00 亩" in shown and "一级线 0.00 亩" in shown and "二级线 135.00 亩" in shown
    assert all("county=330304" in u for u in tile_urls(map_script(at)).values())


def test_map_search_lists_and_focuses(small_city: Engine) -> None:
    at = open_page("blockline/app_pages/map.py")
    at.text_input(key="map_search").set_value("乙电气").run()
    assert not at.exception
    found = at.dataframe[0].value
    assert found["宗地编号"].tolist() == ["P-003"]
    assert at.selectbox(key="map_focus").value == "P-003"
    at.text_input(key="map_search").set_value("p-00").run()
    assert at.dataframe[0].value["宗地编号"].tolist() == ["P-001", "P-002", "P-003"]
    at.selectbox(key="map_focus").set_value("P-002").run()
    assert not at.exception
    script = map_script(at)
    assert '"选中宗地"' in script
    assert "&lt;img src=x onerror=alert(1)&gt;" in script and "<img src=x" not in script  # P-002's holder
    fit = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", script)
    assert fit, "the map is not fitted"
    minx, miny, maxx, maxy = (
        gpd.GeoSeries([square(X + 400, Y + 200)], crs="EPSG:4549").to_crs("EPSG:4326").total_bounds
    )
    assert [float(v) for v in fit.groups()] == pytest.approx([miny, minx, maxy, maxx])  # zoomed to P-002
    at.text_input(key="map_search").set_value("没有这块地").run()
    assert "没有符合的宗地" in texts(at)


def test_map_search_with_a_nul_byte_is_refused_with_a_sentence(small_city: Engine) -> None:
    at = open_page("blockline/app_pages/map.py")
    at.text_input(key="map_search").set_value("P-00\x001").run()
    assert not at.exception  # PostgreSQL cannot take a NUL: said on the page, not raised
    warned = " ".join(w.value for w in at.warning)
    assert "控制字符" in warned and "删除" in warned
    assert not at.dataframe  # nothing searched, nothing listed
    at.text_input(key="map_search").set_value("P-001").run()
    assert not at.exception and at.dataframe[0].value["宗地编号"].tolist() == ["P-001"]


def test_map_block_lines_as_of_a_date(small_city: Engine) -> None:
    # Level 1 was redrawn: a 240 亩 line stood from 2020 to mid-2024, a 375 亩 line stands since.
    with transaction(small_city) as conn:
        write_blocklines(conn, _lines([square(X + 100, Y + 100, 500)]), level=1, load_id=None, user="test")
        conn.execute(
            sa.text("""UPDATE block_lines SET valid_from = '2020-01-01T00:00+08', valid_to = '2024-07-01T00:00+08'
                                WHERE level = 1 AND valid_to IS NOT NULL""")
        )
        conn.execute(
            sa.text("UPDATE block_lines SET valid_from = '2024-07-01T00:00+08' WHERE valid_to IS NULL")
        )
    at = open_page("blockline/app_pages/map.py")
    assert "一级线 375.00 亩" in texts(at)
    at.date_input(key="map_as_of").set_value(dt.date(2023, 1, 1)).run()
    assert not at.exception
    assert "一级线 240.00 亩" in texts(at) and "区块线为 2023-01-01 当日的状态" in texts(at)
    assert "as_of=2023-01-01" in tile_urls(map_script(at))["all"]
    at.date_input(key="map_as_of").set_value(dt.date(2019, 12, 31)).run()
    assert "一级线 0.00 亩" in texts(at)


@pytest.mark.parametrize("basemap", ["osm", "tianditu_vec", "local", "amap", "none"])
def test_map_basemaps(small_city: Engine, basemap: str) -> None:
    at = open_page("blockline/app_pages/map.py")
    at.selectbox(key="map_basemap").set_value(basemap).run()
    assert not at.exception
    if basemap == "tianditu_vec":
        assert "需要密钥" in texts(at)
    if basemap == "local":
        assert "需要瓦片地址" in texts(at)
        at.text_input(key="map_local_url").set_value("http://10.0.0.5/tiles/{z}/{x}/{y}.png").run()
        assert not at.exception and "需要瓦片地址" not in texts(at)
    urls = tile_urls(map_script(at))
    assert all(("gcj=1" in u) == (basemap == "amap") for u in urls.values())


def test_map_on_amap_shifts_the_outlines_to_gcj02(small_city: Engine) -> None:
    """AMap draws in GCJ-02: a found parcel's outline moves by the offset prcoords computes (an independent
    library); the tiles are shifted by the server (tests/geo/test_tiles.py)."""
    import prcoords

    def first_point(script: str) -> tuple[float, float]:
        m = re.search(r'"coordinates": \[\[\[\[?([-\d.]+), ([-\d.]+)\]', script)
        assert m, "no outline in the map"
        return float(m[1]), float(m[2])

    at = open_page("blockline/app_pages/map.py")
    at.text_input(key="map_search").set_value("P-002").run()
    lon, lat = first_point(map_script(at))
    at.selectbox(key="map_basemap").set_value("amap").run()
    assert not at.exception and "tile" in map_script(at)
    glon, glat = first_point(map_script(at))
    expected = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    assert (glat, glon) == pytest.approx((expected.lat, expected.lon), abs=2e-6)
    assert abs(glon - lon) > 1e-3  # hundreds of metres in Wenzhou


# -- the data page ------------------------------------------------------------------------------------------
def _zipped_gbk_parcels(tmp_path: Path) -> bytes:
    """Two parcels in a GBK shapefile without .cpg (as many offices send them), zipped."""
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["U-1", "U-2"],
            "权利人": ["鹿城丙鞋业有限公司", "温州丁阀门有限公司"],
            "土地用途": ["100101", "100102"],
            "备注": ["新供地", ""],
        },
        geometry=[square(X + 1000, Y + 1000), square(X + 1200, Y + 1000)],
        crs="EPSG:4549",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    write_shapefile(gdf, folder / "宗地.shp", encoding="GBK", cpg=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return buffer.getvalue()


def test_data_page_previews_then_loads(small_city: Engine, tmp_path: Path) -> None:
    at = open_page("blockline/app_pages/data.py")
    at.file_uploader[0].upload("宗地.zip", _zipped_gbk_parcels(tmp_path), "application/zip").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["要素数"] == "2"
    assert metrics["编码"].upper().startswith("GB")  # told from the bytes: no .cpg, no --encoding
    assert "4549" in metrics["坐标系"]
    head = at.dataframe[0].value
    assert head["权利人"].tolist() == ["鹿城丙鞋业有限公司", "温州丁阀门有限公司"]
    mapping = at.dataframe[1].value
    assert dict(zip(mapping["文件字段"], mapping["标准字段"], strict=False)) == {
        "宗地编号": "parcel_no",
        "权利人": "holder",
        "土地用途": "land_use",
    }
    assert "备注" in texts(at) and "检查通过" in texts(at)
    assert store_counts(small_city)["parcels"] == 3  # the preview wrote nothing

    at.button(key="data_import").click().run()
    assert not at.exception
    assert "新增 2，更新 0" in texts(at)
    assert store_counts(small_city)["parcels"] == 5
    assert not at.file_uploader[0].value  # emptied, so the same file is not loaded twice
    assert "当前宗地 5 宗，共 75.00 亩" in texts(at)


def test_data_page_shows_problems_and_refuses_to_load(small_city: Engine) -> None:
    geojson = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"权利人": "甲"},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[120.70, 28.00], [120.701, 28.00],'
        " [120.701, 28.001], [120.70, 28.001], [120.70, 28.00]]]}}]}"
    )
    at = open_page("blockline/app_pages/data.py")
    at.file_uploader[0].upload("no-number.geojson", geojson.encode(), "application/geo+json").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "找不到宗地编号字段" in errors and "处理：" in errors
    assert at.button(key="data_import").disabled
    at.radio(key="lang").set_value("en").run()
    errors = " ".join(e.value for e in at.error)
    assert "no parcel number field" in errors and "Fix:" in errors


def test_data_page_lists_every_bad_value(small_city: Engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["B-1", "B-1"], "交地日期": ["2021-02-30", "2021-03-01"]},
        geometry=[square(X, Y), square(X + 200, Y)],
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "bad.gpkg", engine="pyogrio")
    at = open_page("blockline/app_pages/data.py")
    at.file_uploader[0].upload("bad.gpkg", (tmp_path / "bad.gpkg").read_bytes()).run()
    errors = " ".join(e.value for e in at.error)
    assert "处问题，修正后才能导入" in errors
    assert "宗地编号在文件中重复" in errors and "2021-02-30" in errors
    assert at.button(key="data_import").disabled


def test_data_page_loads_block_lines(small_city: Engine, tmp_path: Path) -> None:
    gpd.GeoDataFrame(
        {"名称": ["新一级线"]}, geometry=[square(X + 2500, Y + 500, 200)], crs="EPSG:4549"
    ).to_file(tmp_path / "l1.gpkg", engine="pyogrio")
    at = open_page("blockline/app_pages/data.py")
    at.selectbox(key="data_kind").set_value("level1").run()
    at.file_uploader[0].upload("l1.gpkg", (tmp_path / "l1.gpkg").read_bytes()).run()
    assert not at.exception and "检查通过" in texts(at)
    at.button(key="data_import").click().run()
    assert not at.exception and "新增 1" in texts(at)
    at.switch_page("blockline/app_pages/overview.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["一级线（2 块）"] == "300.00 亩"  # 240 + a 200 m × 200 m line of 60 亩


def test_data_page_asks_for_a_zipped_shapefile(engine: Engine) -> None:
    at = open_page("blockline/app_pages/data.py")
    at.file_uploader[0].upload("宗地.shp", b"\x00\x00\x27\x0a", "application/octet-stream").run()
    assert not at.exception
    assert ".shx" in " ".join(w.value for w in at.warning)
    assert [b.key for b in at.main.button] == []  # nothing to load


def test_parcel_list_export(small_city: Engine) -> None:
    from blockline.ui.data import parcels_xlsx

    book = pd.read_excel(io.BytesIO(parcels_xlsx()))
    assert book["parcel_no"].tolist() == ["P-001", "P-002", "P-003"]
    assert book["holder"].tolist()[1] == HOSTILE  # a name is data, kept as written
    assert book["area_mu"].tolist() == pytest.approx([15.0, 15.0, 15.0])
    assert book["county_code"].astype(str).tolist() == ["330302", "330302", "330304"]


def test_data_page_loads_boundaries_into_an_empty_store(engine: Engine, tmp_path: Path) -> None:
    counties = two_counties().rename(columns={"code": "行政区代码", "name": "名称"})
    counties.to_file(tmp_path / "县界.gpkg", engine="pyogrio")
    at = open_page("blockline/app_pages/data.py")
    at.selectbox(key="data_kind").set_value("boundaries").run()
    at.file_uploader[0].upload("县界.gpkg", (tmp_path / "县界.gpkg").read_bytes()).run()
    assert not at.exception and "检查通过" in texts(at)
    at.button(key="data_import").click().run()
    assert not at.exception and "新增 2，更新 0" in texts(at)
    assert store_counts(engine)["admin_areas"] == 2
    assert "行政区 2" in " ".join(c.value for c in at.sidebar.caption)  # the caches were cleared


def test_idle_page_on_the_demo_city(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """低效与闲置用地: the findings the engine computes, shown and counted, in Chinese and English."""
    from blockline.demo import load_demo
    from blockline.services.marks import mark_set_name
    from geo.queries import read_parcels
    from geo.tiles import has_marks
    from zoning.idle import idle_findings
    from zoning.policy import get_profile

    load_demo(engine, user="test", n_parcels=300, seed=5)
    _no_frames(monkeypatch, "blocklines")  # the map is drawn from tiles, at any city size
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("blockline/app_pages/idle.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "低效与闲置用地"
    today = clock.today()
    expected = idle_findings(
        read_parcels(engine, geometry=False), as_of=today, profile=get_profile("wenzhou-2020")
    )
    expected = expected[expected["category"] != "insufficient_data"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["涉及宗地（宗）"] == f"{expected['parcel_no'].nunique():,}"
    assert metrics["认定事项（条）"] == f"{len(expected):,}"
    shown = at.dataframe[0].value
    assert set(shown["宗地编号"]) == set(expected["parcel_no"])
    assert shown["依据"].str.startswith("wenzhou-2020 ").all()
    # The map: parcels as vector tiles coloured by the idle marks of this date and profile, none in the page.
    marks = mark_set_name(engine, as_of=today, profile=get_profile("wenzhou-2020"))
    assert has_marks(engine, marks)
    script = map_script(at)
    urls = tile_urls(script)
    assert set(urls) == {"all"}
    assert urllib.parse.parse_qs(urls["all"].split("?", 1)[1])["marks"] == [marks]
    assert '"colorBy": "idle"' in script and '"闲置土地"' in script
    assert not [no for no in expected["parcel_no"] if f'"{no}"' in script]  # no parcel GeoJSON
    assert at.selectbox(key="idle_focus").value == ""
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception and at.title[0].value == "Idle and low-efficiency land"
    at.run()  # a second run in English (Streamlit may format widget labels between runs)
    assert not at.exception


def test_the_findings_pages_say_which_county_follows_its_own_text(engine: Engine) -> None:
    """On a province, 义乌's parcels are judged by the Yiwu text under the Wenzhou deployment: the idle and the
    lifecycle pages say so under the profile, and the 依据 of 义乌's rows is yiwu's, every other's wenzhou-2020's."""
    import sqlalchemy as sa

    from blockline.demo import load_demo

    load_demo(engine, user="test", n_parcels=1500, seed=5, region="zhejiang")
    with engine.connect() as conn:
        yiwu = set(
            conn.execute(
                sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL AND county_code = '330782'")
            ).scalars()
        )
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("blockline/app_pages/idle.py")
    at.run()
    assert not at.exception
    assert "义乌市（330782）→ yiwu" in texts(at) and "其余按 wenzhou-2020" in texts(at)
    shown = at.dataframe[0].value
    mine = shown["宗地编号"].isin(yiwu)
    assert mine.any() and (~mine).any()
    assert shown.loc[mine, "依据"].str.startswith("yiwu ").all()
    assert shown.loc[~mine, "依据"].str.startswith("wenzhou-2020 ").all()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception and "the parcels of 义乌市（330782）→ yiwu are judged by it" in texts(at)
    at.switch_page("blockline/app_pages/lifecycle.py")
    at.run()
    assert not at.exception and "义乌市（330782）→ yiwu" in texts(at)


def test_idle_page_zooms_to_the_picked_parcel(engine: Engine) -> None:
    """A parcel picked by number is the only one the map gets, and the map is fitted to it."""
    from blockline.demo import load_demo
    from geo.queries import read_parcels
    from zoning.idle import idle_findings
    from zoning.policy import get_profile

    load_demo(engine, user="test", n_parcels=300, seed=5)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("blockline/app_pages/idle.py")
    at.run()
    findings = idle_findings(
        read_parcels(engine, geometry=False), as_of=clock.today(), profile=get_profile("wenzhou-2020")
    )
    flagged = findings[findings["category"] != "insufficient_data"]["parcel_no"].unique()
    parcels = read_parcels(engine, parcel_nos=list(flagged)).set_index("parcel_no")
    no = sorted(flagged)[0]
    county = parcels.loc[no, "county_code"]
    picker = at.selectbox(key="idle_focus")
    assert picker.options[0] == "（不定位）" and set(picker.options[1:]) == set(flagged)

    picker.set_value(no).run()
    assert not at.exception
    script = map_script(at)
    assert '"选中宗地"' in script and f'"{no}"' in script
    assert not [other for other in flagged if other != no and f'"{other}"' in script]
    fit = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", script)
    assert fit, "the map is not fitted"
    minx, miny, maxx, maxy = (
        gpd.GeoSeries([parcels.loc[no, "geometry"]], crs=parcels.crs).to_crs(4326).total_bounds
    )
    assert [float(v) for v in fit.groups()] == pytest.approx([miny, minx, maxy, maxx])
    holder = parcels.loc[no, "holder"]
    mu = parcels.loc[no, "area_mu"]
    assert [e.value for e in at.text] == [f"定位：{no}，{holder}，{mu:,.2f} 亩"]

    # The county filter reaches the tiles and the picker; a parcel filtered away is no longer shown.
    other = next(c for c in sorted(parcels["county_code"].dropna().unique()) if c != county)
    at.selectbox(key="idle_county").set_value(other).run()
    assert not at.exception
    assert f"county={other}" in tile_urls(map_script(at))["all"]
    picker = at.selectbox(key="idle_focus")
    assert picker.value == "" and no not in picker.options
    assert set(picker.options[1:]) == {n for n in flagged if parcels.loc[n, "county_code"] == other}
    assert '"选中宗地"' not in map_script(at) and not at.text


def test_idle_table_lists_the_first_rows_and_its_excel_is_made_when_asked_for(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city's findings are not all sent to the browser; the Excel file, made only on a click, has every one."""
    from blockline.demo import load_demo
    from geo.queries import read_parcels
    from zoning.idle import idle_findings
    from zoning.policy import get_profile

    managers = record_media(monkeypatch)  # the runs' own, to click the download button as the browser would
    load_demo(engine, user="test", n_parcels=300, seed=5)
    monkeypatch.setattr("blockline.ui.data.TABLE_ROWS", 7)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page("blockline/app_pages/idle.py")
    at.run()
    assert not at.exception
    expected = idle_findings(
        read_parcels(engine, geometry=False), as_of=clock.today(), profile=get_profile("wenzhou-2020")
    )
    expected = expected[expected["category"] != "insufficient_data"]
    assert len(at.dataframe[0].value) == 7 < len(expected)
    assert f"表中列出前 7 条，共 {len(expected):,} 条" in " ".join(c.value for c in at.caption)
    button = next(b for b in at.get("download_button") if "idle_xlsx" in b.proto.id)
    assert button.proto.url == "" and button.proto.deferred_file_id  # nothing made until the click
    book = pd.read_excel(io.BytesIO(download(at, managers, "idle_xlsx")))
    assert len(book) == len(expected) and set(book["宗地编号"]) == set(expected["parcel_no"])


# -- the deployment's own area (issue 18, item 6) -------------------------------------------------------------
_FAR = square(X + 100_000, Y + 150_000, 2000)  # a county of another city, 180 km away (as 义乌 is of 金华)


def _with_a_far_county(engine: Engine) -> None:
    far = gpd.GeoDataFrame(
        {"code": ["330782"], "name": ["义乌市"], "level": ["county"], "parent_code": ["330700"]},
        geometry=_multi([_FAR]),
        crs="EPSG:4549",
    )
    with transaction(engine) as conn:
        write_boundaries(conn, far, load_id=None)


def _fit(at: AppTest) -> list[float]:
    fit = re.search(r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", map_script(at))
    assert fit, "the map is not fitted"
    return [float(v) for v in fit.groups()]


def _degrees(*shapes: object) -> list[float]:
    minx, miny, maxx, maxy = gpd.GeoSeries(list(shapes), crs="EPSG:4549").to_crs("EPSG:4326").total_bounds
    return [miny, minx, maxy, maxx]


def test_the_map_opens_on_the_home_city_and_the_others_are_one_pick_away(small_city: Engine) -> None:
    _with_a_far_county(small_city)
    at = open_page("blockline/app_pages/map.py")
    # the two counties of 330300 (two of three counties belong to it; no load names a first city)
    two = shapely.box(X, Y, X + 4000, Y + 2000)
    assert _fit(at) == pytest.approx(_degrees(two), abs=2e-4)  # the outlines are simplified by a few metres
    box = at.selectbox(key="map_county")
    # no city row: the home area is named by its counties
    assert box.options == [
        "鹿城区、瓯海区（全部县市区）",
        "330302 鹿城区",
        "330304 瓯海区",
        "全部已载入地区",
        "330782 义乌市",
    ]
    box.set_value("*").run()
    assert not at.exception
    assert _fit(at) == pytest.approx(_degrees(two, _FAR), abs=2e-4)
    at.selectbox(key="map_county").set_value("330782").run()
    assert _fit(at) == pytest.approx(_degrees(_FAR), abs=2e-4)


@pytest.mark.parametrize("setting", ["330700", "330782", "330000"])
def test_the_home_area_is_a_setting(
    small_city: Engine, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:

    _with_a_far_county(small_city)
    monkeypatch.setenv("BLOCKLINE_HOME_AREA", setting)
    get_settings.cache_clear()
    try:
        at = open_page("blockline/app_pages/map.py")
    finally:
        monkeypatch.delenv("BLOCKLINE_HOME_AREA")
        get_settings.cache_clear()
    whole = setting == "330000"  # the province holds every county: nothing else to pick
    two = shapely.box(X, Y, X + 4000, Y + 2000)
    assert _fit(at) == pytest.approx(_degrees(two, _FAR) if whole else _degrees(_FAR), abs=2e-4)
    options = at.selectbox(key="map_county").options
    assert ("全部已载入地区" in options) is not whole
    assert options[0] == ("全市" if whole else "义乌市（全部县市区）")


def test_a_home_area_must_be_area_codes() -> None:
    from pydantic import ValidationError

    from geo.settings import Settings

    assert Settings(home_area=" 330302，330304 ").home_area == "330302,330304"
    with pytest.raises(ValidationError, match="六位行政区划代码"):
        Settings(home_area="温州")


@pytest.mark.parametrize("page", [p for p in PAGES if "data" not in p])
def test_a_switch_of_language_on_any_page_keeps_its_pickers(small_city: Engine, page: str) -> None:
    """Item 9: the switch sets each picker of the page again (blockline.ui.i18n.relabel); its choice is kept."""
    from blockline.ui.i18n import RELABELLED

    at = open_page(page)
    before = {k: at.session_state[k] for k in RELABELLED if k in at.session_state}
    at.radio(key="lang").set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert {k: at.session_state[k] for k in before} == before
