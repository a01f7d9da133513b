"""The map names every land-use code beside its value, whichever standard it is (geo.landuse), in the legend
and the parcel popups; rendered to HTML on hand-built boxes, no browser."""

from __future__ import annotations

import re

import geopandas as gpd

from blockline.ui.maps import build_map, unescape_js
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties

USES = {
    "0601": "0601 工业用地",
    "M1": "M1 一类工业用地",
    "工业用地": "工业用地",
    "R2": "R2 二类居住用地",
    "0604": "0604 仓储用地",
    "9999": "9999",
}
USES_EN = {"0601": "0601 industrial", "M1": "M1 class-1 industrial", "R2": "R2 class-2 residential"}


def _seen(lang: str) -> str:
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": [f"P-{i}" for i in range(len(USES))],
            "holder": ["甲"] * len(USES),
            "land_use": list(USES),
            "county_code": ["330302"] * len(USES),
        },
        geometry=[square(X + 150 * i, Y + 200) for i in range(len(USES))],
        crs="EPSG:4549",
    )
    html = (
        build_map(
            counties=two_counties(), level1=None, level2=None, parcels=parcels, color_by="land_use", lang=lang
        )
        .get_root()
        .render()
    )
    return unescape_js(html)


def test_legend_and_popups_name_the_code_of_every_standard() -> None:
    seen = _seen("zh")
    legend = re.search(r"div\.innerHTML = (\".*?\");", seen, re.DOTALL)
    assert legend
    for label in USES.values():
        assert f"宗地：{label}" in legend.group(1), label
    for label in USES.values():
        assert label in seen.replace(legend.group(1), "")  # the popups too, not only the legend


def test_names_in_english() -> None:
    seen = _seen("en")
    for label in USES_EN.values():
        assert label in seen


def test_the_map_colours_land_by_what_the_codes_table_says_it_is() -> None:
    from blockline.ui.maps import FAMILY_COLORS, land_use_colors

    values = [
        "0601",
        "M1",
        "M",
        "100101",
        "100103",
        "工业用地",
        "一类工业用地（M1）",
        "0604",
        "W",
        "1101",
        "R2",
        "0701",
        "0701 城镇住宅用地",
        "商业用地",
        "未知地类",
    ]
    c = land_use_colors(values)
    # written by hand from the three standards: the industrial codes of every standard are one kind of land
    assert {c[v] for v in ("0601", "M1", "M", "100101", "100103", "工业用地", "一类工业用地（M1）")} == {
        FAMILY_COLORS["industrial"]
    }
    assert {c[v] for v in ("0604", "W", "1101")} == {FAMILY_COLORS["warehouse"]}
    assert (
        c["0701"] == c["0701 城镇住宅用地"] != c["R2"]
    )  # one class in two spellings; another standard's class
    assert len({c["R2"], c["0701"], c["商业用地"], c["未知地类"]}) == 4
    assert not {c["R2"], c["0701"], c["商业用地"], c["未知地类"]} & set(FAMILY_COLORS.values())
