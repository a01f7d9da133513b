"""数据: the upload preview draws where the shapes land before anything is written (issue 16).

A GeoPackage whose coordinates are Wenzhou's in CGCS2000 GK 120°E but whose CRS says 114°E (EPSG:4547) lands
about 6° west, outside every county: the preview says so, draws it there, and 导入 stays disabled. The same
file labelled EPSG:4549 (and EPSG:4528, with the zone prefix 40 in the easting) lands in the city.
Nothing is loaded, so the demo city the other tests see is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from playwright.sync_api import Page, expect
from pyproj import Transformer

from tests.e2e.app_driver import map_frame, metric_text, open_page, screenshot, settle, wait_for_map
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square


def _upload(page: Page, path: Path) -> None:
    open_page(page, "data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(path)
    expect(page.get_by_role("heading", name="预览（尚未写入数据库）")).to_be_visible(timeout=60_000)
    settle(page)


def _file(folder: Path, *, epsg: int, x0: float) -> Path:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["WHERE-001"]}, geometry=[square(x0 + 100, Y + 100)], crs=f"EPSG:{epsg}"
    )
    path = folder / f"宗地_{epsg}.gpkg"
    gdf.to_file(path, driver="GPKG")
    return path


def test_a_file_in_the_wrong_crs_is_drawn_where_it_lands_and_not_loadable(
    page: Page, shots: Path, tmp_path: Path
) -> None:
    _upload(page, _file(tmp_path, epsg=4547, x0=X))  # the 120°E coordinates, labelled 114°E
    lon, lat = Transformer.from_crs(4547, 4326, always_xy=True).transform(X + 150, Y + 150)  # where it lands
    warning = page.get_by_text("不在任何已载入的县内：可能坐标系不对")
    expect(warning).to_be_visible()
    to_lonlat = Transformer.from_crs(4547, 4326, always_xy=True)
    corners = [to_lonlat.transform(x, y) for x in (X + 100, X + 200) for y in (Y + 100, Y + 200)]
    west, south = min(c[0] for c in corners), min(c[1] for c in corners)
    assert f"{west:.5f}°E" in warning.inner_text() and f"{south:.5f}°N" in warning.inner_text()  # its extent
    assert lon < 115.0  # truly west of Zhejiang: the reason is the CRS
    wait_for_map(page)
    frame = map_frame(page)
    expect(frame.locator(".leaflet-control-layers")).to_contain_text("上传的图形")
    # the uploaded square is drawn in view: an SVG/canvas path exists and the map centres on it
    centre = frame.locator(".leaflet-container").evaluate(
        "() => { const c = window.map_div.getCenter(); return [c.lng, c.lat]; }"
    )
    assert abs(centre[0] - lon) < 0.01 and abs(centre[1] - lat) < 0.01
    expect(page.get_by_role("button", name="导入")).to_be_disabled()
    # the preview's figures read Chinese: no "(format default)", no "file" as how the CRS was told
    assert metric_text(page, "编码") == "UTF-8"
    expect(page.get_by_text("识别方式：格式默认")).to_be_visible()
    expect(page.get_by_text("识别方式：文件自带")).to_be_visible()
    screenshot(page, shots / "data-preview-wrong-crs.png")


@pytest.mark.parametrize("epsg", [4549, 4528])
def test_a_file_in_the_city_names_its_county(page: Page, tmp_path: Path, epsg: int) -> None:
    _upload(page, _file(tmp_path, epsg=epsg, x0=X + (40_000_000 if epsg == 4528 else 0)))
    expect(page.get_by_text("落在：")).to_be_visible()
    expect(page.get_by_text("不在任何已载入的县内")).to_have_count(0)
    expect(page.get_by_role("button", name="导入")).to_be_enabled()
