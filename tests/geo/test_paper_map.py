"""Maps on paper (geo.paper_map): print resolution, the extent of the features, the context from PostGIS, the
scale bar's length, and a clear refusal without a CJK font. Boxes in EPSG:4549 (a 100 m box is 15 亩)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib.image
import numpy as np
import pytest
import sqlalchemy as sa
from shapely import box

from geo.paper_map import MapLayer, MissingFont, cjk_font_path, context_layers, nice_length_m, render_map
from geo.settings import get_settings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city


def _png(png: bytes, folder: Path) -> np.ndarray:
    path = folder / "map.png"
    path.write_bytes(png)
    return matplotlib.image.imread(str(path))


@pytest.mark.parametrize(
    ("width_m", "bar_m"),
    [
        (399.99, 50.0),
        (400.0, 100.0),
        (400.01, 100.0),
        (3999.0, 500.0),
        (4000.0, 1000.0),
        (7999.0, 1000.0),
        (8000.0, 2000.0),
    ],
)
def test_the_scale_bar_is_a_round_length_of_at_most_a_quarter_of_the_width(
    width_m: float, bar_m: float
) -> None:
    assert nice_length_m(width_m) == bar_m
    assert nice_length_m(width_m) <= width_m / 4


def test_a_map_is_printed_at_300_dpi_with_the_feature_in_its_colour(tmp_path: Path) -> None:
    parcel = MapLayer(
        "宗地",
        gpd.GeoSeries([box(X, Y, X + 100, Y + 100)], crs="EPSG:4549"),
        face="#ff0000",
        edge="#ff0000",
        alpha=1.0,
    )
    img = _png(render_map([parcel], title="宗地位置示意图", size_mm=(160, 120), dpi=300).png, tmp_path)
    height, width = img.shape[:2]
    assert (
        width >= 0.8 * 160 / 25.4 * 300 and height >= 0.8 * 120 / 25.4 * 300
    )  # tight bounds trim the margins
    red = (img[..., 0] > 0.9) & (img[..., 1] < 0.1) & (img[..., 2] < 0.1)
    assert red.mean() > 0.02  # the parcel is drawn, and fills a fair part of the map


def test_the_context_comes_from_postgis_within_the_bounds(engine: sa.Engine, tmp_path: Path) -> None:
    load_two_county_city(engine, tmp_path)
    near = context_layers(
        engine, bounds=(X + 150, Y + 150, X + 300, Y + 300), srid=4549
    )  # inside 鹿城's level 1
    assert [lay.label for lay in near] == ["一级工业区块线", "县（市、区）界"]
    assert all(set(lay.geometries.geom_type) <= {"LineString", "MultiLineString"} for lay in near)
    # the level-1 outline of 鹿城 is 4 × 600 m: drawn as a line, its length is the perimeter
    assert near[0].geometries.length.sum() == pytest.approx(2400.0)
    both = context_layers(engine, bounds=(X + 150, Y + 150, X + 1000, Y + 300), srid=4549)
    assert [lay.label for lay in both] == ["一级工业区块线", "二级工业区块线", "县（市、区）界"]
    none = context_layers(engine, bounds=(X - 9000, Y - 9000, X - 8000, Y - 8000), srid=4549)
    assert none == []


def test_without_the_font_the_error_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BLOCKLINE_CJK_FONT", str(tmp_path / "missing.ttc"))
    get_settings.cache_clear()  # the font is a setting, read once
    with pytest.raises(MissingFont, match="BLOCKLINE_CJK_FONT") as caught:
        cjk_font_path()
    assert caught.value.exit_code == 2
    monkeypatch.delenv("BLOCKLINE_CJK_FONT")
    get_settings.cache_clear()
    monkeypatch.setattr("geo.paper_map.FONT_CANDIDATES", (str(tmp_path / "none.ttc"),))
    with pytest.raises(MissingFont, match="fonts-noto-cjk"):
        cjk_font_path()
    with pytest.raises(MissingFont):
        render_map([MapLayer("宗地", gpd.GeoSeries([box(0, 0, 1, 1)], crs="EPSG:4549"))])


def test_an_empty_map_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to draw"):
        render_map([MapLayer("宗地", gpd.GeoSeries([], crs="EPSG:4549"))])
