"""The one map as HTML: named layers, escaped facts, basemaps only when asked, bounds fitted to the data."""

from __future__ import annotations

import re
import subprocess
import sys

import folium
import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from blockline.ui.maps import LEAFLET_CDN, build_map, tianditu_url, unescape_js, valid_tile_url
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    counties = two_counties()
    level1 = gpd.GeoDataFrame(
        {"name": ["<script>alert('l1')</script>"], "county_code": ["330302"]},
        geometry=[square(X + 100, Y + 100, 400)],
        crs="EPSG:4549",
    )
    level2 = gpd.GeoDataFrame(
        {"name": ["二级线甲"], "county_code": ["330304"]},
        geometry=[square(X + 2100, Y + 100, 300)],
        crs="EPSG:4549",
    )
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": ["P-001", "P-002", "P-003"],
            "holder": ["温州甲机械有限公司", HOSTILE, "瓯海乙电气有限公司"],
            "land_use": ["100101", "100102", "100101"],
            "county_code": ["330302", "330302", "330304"],
        },
        geometry=[square(X + 200, Y + 200), square(X + 400, Y + 200), square(X + 2200, Y + 200)],
        crs="EPSG:4549",
    )
    return {"counties": counties, "level1": level1, "level2": level2, "parcels": parcels}


def _render(**kwargs: object) -> tuple[str, str]:
    """The page HTML, and the same with folium's JSON escapes undone (what the browser's JavaScript sees)."""
    html = build_map(**kwargs).get_root().render()  # type: ignore[arg-type]
    return html, unescape_js(html)


def _overlays(seen: str) -> list[str]:
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", seen, re.DOTALL)
    assert block, "no layer control"
    return re.findall(r'"([^"]+)"\s*:', block.group(1))


def test_layers_are_named_in_the_layer_control(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers)
    assert _overlays(seen) == ["行政区", "二级线", "一级线", "宗地"]


def test_layer_names_in_english(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers, lang="en")
    assert _overlays(seen) == [
        "Administrative areas",
        "Level-2 block lines",
        "Level-1 block lines",
        "Parcels",
    ]
    assert "Holder" in seen and "权利人" not in seen


def test_legend_names_every_layer(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers)
    legend = re.search(r"div\.innerHTML = (\".*?\");", seen, re.DOTALL)
    assert legend
    for name in ("图例", "行政区", "一级线", "二级线", "宗地"):
        assert name in legend.group(1)


def test_hostile_text_is_escaped(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, seen = _render(**layers)
    # What reaches Leaflet's innerHTML is escaped text, in the page and in the strings its JavaScript holds.
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "<img src=x" not in seen and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;l1&#x27;)&lt;/script&gt;" in seen
    assert "<script>alert(" not in seen


def test_hostile_parcel_number_and_highlight_are_escaped(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parcels = layers["parcels"].copy()
    parcels.loc[0, "parcel_no"] = '"><svg onload=alert(2)>'
    _, seen = _render(**{**layers, "parcels": parcels}, highlight='"><svg onload=alert(2)>')
    assert "<svg" not in seen
    assert "&quot;&gt;&lt;svg onload=alert(2)&gt;" in seen


def test_parcel_facts_in_chinese(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers)
    for label in ("宗地编号", "权利人", "用途", "面积", "P-001", "温州甲机械有限公司", "100101 一类工业用地"):
        assert label in seen
    # a 100 m × 100 m parcel is 15 亩: two decimals, with its 公顷 on hover
    assert "15.00 亩（1.00 公顷）" in seen
    assert "bindTooltip" in seen and "bindPopup" in seen


def test_area_kept_when_given(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parcels = layers["parcels"].to_crs("EPSG:4326")
    parcels["area_mu"] = [1234.5, 15.0, 15.0]
    _, seen = _render(**{**layers, "parcels": parcels})
    assert "1,234.50 亩（82.30 公顷）" in seen


def test_area_computed_geodesically_for_lon_lat_frames(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(counties=None, level1=None, level2=None, parcels=layers["parcels"].to_crs("EPSG:4490"))
    assert "15.00 亩（1.00 公顷）" in seen


def test_no_basemap_means_no_tiles(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, _ = _render(**layers, basemap="none")
    assert "tileLayer" not in html
    assert "{z}" not in html
    assert "openstreetmap" not in html.lower() and "tianditu" not in html.lower()


def test_osm_basemap(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, _ = _render(**layers, basemap="osm")
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html


def test_tianditu_vector_with_key(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers, basemap="tianditu_vec", tianditu_key="KEY123")
    assert "https://t{s}.tianditu.gov.cn/vec_w/wmts?" in seen
    assert "https://t{s}.tianditu.gov.cn/cva_w/wmts?" in seen  # the annotation layer
    assert seen.count("&tk=KEY123") == 2
    assert '"subdomains": "01234567"' in seen
    assert "天地图注记" in _overlays(seen)


def test_tianditu_imagery_with_key(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers, basemap="tianditu_img", tianditu_key="KEY123")
    assert "/img_w/wmts?" in seen and "/cia_w/wmts?" in seen


def test_tianditu_without_key_adds_nothing(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, _ = _render(**layers, basemap="tianditu_vec", tianditu_key="  ")
    assert "tileLayer" not in html and "tianditu" not in html.lower()


def test_tianditu_key_is_url_quoted() -> None:
    assert tianditu_url("vec", 'a&b"<').endswith("&tk=a%26b%22%3C")
    with pytest.raises(ValueError, match="not a Tianditu layer"):
        tianditu_url("xyz", "k")


def test_local_tiles(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, _ = _render(**layers, basemap="local", local_tile_url="http://10.0.0.5/tiles/{z}/{x}/{y}.png")
    assert "http://10.0.0.5/tiles/{z}/{x}/{y}.png" in html
    assert not valid_tile_url("javascript:alert(1)//{z}{x}{y}")
    with pytest.raises(ValueError, match="local_tile_url"):
        build_map(**layers, basemap="local", local_tile_url="ftp://x/{z}/{x}/{y}")


def test_only_leaflet_is_loaded(layers: dict[str, gpd.GeoDataFrame]) -> None:
    html, _ = _render(**layers)
    sources = re.findall(r'<script src="([^"]+)"', html) + re.findall(
        r'<link rel="stylesheet" href="([^"]+)"', html
    )
    assert sorted(sources) == [f"{LEAFLET_CDN}/leaflet.css", f"{LEAFLET_CDN}/leaflet.js"]
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()


def test_leaflet_from_the_intranet(layers: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(**layers, leaflet_url="/app/static/leaflet/")
    html = m.get_root().render()
    sources = re.findall(r'<script src="([^"]+)"', html) + re.findall(
        r'<link rel="stylesheet" href="([^"]+)"', html
    )
    assert sorted(sources) == ["/app/static/leaflet/leaflet.css", "/app/static/leaflet/leaflet.js"]
    assert "https://" not in html  # with no basemap, nothing leaves the intranet
    with pytest.raises(ValueError, match="leaflet_url"):
        build_map(**layers, leaflet_url="javascript:alert(1)")


def test_unknown_choices_are_refused(layers: dict[str, gpd.GeoDataFrame]) -> None:
    with pytest.raises(ValueError, match="basemap must be one of"):
        build_map(**layers, basemap="google")
    with pytest.raises(ValueError, match="color_by must be"):
        build_map(**layers, color_by="holder")


def test_frame_without_crs_is_refused(layers: dict[str, gpd.GeoDataFrame]) -> None:
    naked = gpd.GeoDataFrame({"parcel_no": ["A"]}, geometry=[square(X, Y)])
    with pytest.raises(ValueError, match="parcels has no CRS"):
        build_map(counties=None, level1=None, level2=None, parcels=naked)


def _fit_bounds(m: folium.Map) -> list[list[float]]:
    fits = [c for c in m._children.values() if isinstance(c, folium.FitBounds)]
    assert len(fits) == 1
    return fits[0].bounds


def test_bounds_fit_the_data(layers: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(**layers)
    minx, miny, maxx, maxy = layers["counties"].to_crs("EPSG:4326").total_bounds  # the counties hold the rest
    assert _fit_bounds(m) == [
        [pytest.approx(miny), pytest.approx(minx)],
        [pytest.approx(maxy), pytest.approx(maxx)],
    ]


def test_highlight_zooms_to_the_parcel(layers: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(**layers, highlight="P-003")
    minx, miny, maxx, maxy = layers["parcels"].iloc[[2]].to_crs("EPSG:4326").total_bounds
    assert _fit_bounds(m) == [
        [pytest.approx(miny), pytest.approx(minx)],
        [pytest.approx(maxy), pytest.approx(maxx)],
    ]
    assert "选中宗地" in _overlays(unescape_js(m.get_root().render()))


def test_unknown_highlight_keeps_the_whole_view(layers: dict[str, gpd.GeoDataFrame]) -> None:
    m = build_map(**layers, highlight="NO-SUCH")
    assert _fit_bounds(m) == _fit_bounds(build_map(**layers))


def test_empty_map_renders_without_bounds() -> None:
    m = build_map(counties=None, level1=None, level2=None, parcels=layers_empty())
    assert not [c for c in m._children.values() if isinstance(c, folium.FitBounds)]
    assert "L.map" in m.get_root().render()


def layers_empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_no": []}, geometry=[], crs="EPSG:4549")


def test_color_by_land_use_lists_categories(layers: dict[str, gpd.GeoDataFrame]) -> None:
    _, seen = _render(**layers, color_by="land_use")
    legend = re.search(r"div\.innerHTML = (\".*?\");", seen, re.DOTALL)
    assert legend
    assert "宗地：100101 一类工业用地" in legend.group(1) and "宗地：100102 二类工业用地" in legend.group(1)
    # the most frequent category takes the first colour
    assert '"fillColor": "#1f77b4"' in seen and '"fillColor": "#ff7f0e"' in seen


def test_inputs_are_not_modified(layers: dict[str, gpd.GeoDataFrame]) -> None:
    before = {k: v.copy() for k, v in layers.items()}
    build_map(**layers, color_by="county_code", highlight="P-001")
    for k, frame in layers.items():
        assert_geodataframe_equal(frame, before[k])


def test_map_module_does_not_import_streamlit() -> None:
    code = "import sys, blockline.ui.maps; assert 'streamlit' not in sys.modules, 'streamlit imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_coloured_map_asks_for_coloured_squares_and_explains_them() -> None:
    """Issue 18, item 7: the tiles are asked for with the colouring; the legend says what the squares mean."""
    from blockline.ui.maps import TileSource, build_map, unescape_js

    plain = unescape_js(
        build_map(counties=None, level1=None, level2=None, parcels=None, tiles=TileSource(version="v1"))
        .get_root()
        .render()
    )
    coloured = unescape_js(
        build_map(
            counties=None,
            level1=None,
            level2=None,
            parcels=None,
            tiles=TileSource(version="v1", color_by="land_use", colors={"0601": "#c0392b"}),
        )
        .get_root()
        .render()
    )
    assert "color=land_use" in coloured and "color=" not in plain
    assert "按面积最大的类别着色" in coloured and "宗地占方格" not in coloured
    assert "宗地占方格" in plain and "按面积最大的类别着色" not in plain


def test_tile_script_converts_areas_with_geo_area_constants() -> None:
    """Issue 14: 亩 → 公顷 and m² per 亩 in the tile popups and squares come from ``geo.area``, not a literal 15."""
    from blockline.ui.maps import TileSource, build_map
    from geo.area import M2_PER_MU, MU_PER_HECTARE

    html = (
        build_map(counties=None, level1=None, level2=None, parcels=None, tiles=TileSource(version="v1"))
        .get_root()
        .render()
    )
    assert f'"m2PerMu": {M2_PER_MU!r}' in html and f'"muPerHa": {MU_PER_HECTARE!r}' in html
    assert "/ cfg.muPerHa" in html and "/ cfg.m2PerMu" in html
    assert "/ 15" not in html and "10000 / 15" not in html


def test_the_map_scripts_are_files_inlined_without_their_header() -> None:
    """The JavaScript lives in ``blockline/ui/maps/js/``; the page gets each function, not its header comment."""
    from blockline.ui.maps.scripts import script

    for name in ("facts", "legend", "tile_layers", "tip"):
        code = script(name)
        assert code.startswith("function (") and code.endswith("}")
        assert "blockline.ui." not in code.splitlines()[0]
