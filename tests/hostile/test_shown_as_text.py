"""A holder called ``<img src=x onerror=alert(1)>`` loaded from a planner's file shows as those characters
everywhere it comes out: the map tiles (their popups are built with ``textContent``: tests/app/test_pages.py),
the GeoJSON popups of ``blockline.ui.maps.build_map`` (escaped), the Excel export (a text cell, never markup or a
formula), the command's JSON and CSV, and the 数据 page's preview. Plus hostile requests to the tile route.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import openpyxl
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from starlette.requests import Request
from typer.testing import CliRunner

from blockline.cli import app
from blockline.server import ROUTES, tile_route
from blockline.ui.data import preview_file, table_bytes
from blockline.ui.maps import build_map, unescape_js
from geo.load import load_parcels
from geo.queries import read_parcels
from geo.store import open_store
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square
from tests.hostile.conftest import TALLY, snapshot
from tests.hostile.strategies import HOLDER, write_frame

FORMULA = '=HYPERLINK("http://evil.example","点我")'
SQL = "'; DROP TABLE parcels; --"
HALF = 20037508.342789244


@pytest.fixture
def hostile_city(city: sa.Engine, tmp_path: Path) -> sa.Engine:
    """The two-county city with three parcels loaded from a GeoPackage whose text is hostile."""
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["H-1", SQL, "H-3"],
            "权利人": [HOLDER, FORMULA, "温州宏达机械有限公司"],
            "土地用途": ["<b>100101</b>", "100101", "100101"],
            "备注": [HOLDER, FORMULA, ""],
        },
        geometry=[square(X + 200, Y + 200), square(X + 400, Y + 200), square(X + 600, Y + 200)],
        crs="EPSG:4549",
    )
    load_parcels(city, write_frame(gdf, tmp_path / "宗地.gpkg"), user="test")
    assert open_store() is not None  # the tile route opens the same store through the settings
    return city


def call(path: str, query: str = "") -> tuple[int, bytes]:
    route = ROUTES[0]
    match, scope = route.matches({"type": "http", "method": "GET", "path": path})
    assert match.name == "FULL", path
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": [],
            **scope,
        }
    )
    response = asyncio.run(tile_route(request))
    return response.status_code, bytes(response.body)


def test_the_tile_carries_the_holder_verbatim(hostile_city: sa.Engine) -> None:
    x, y = Transformer.from_crs(4549, 3857, always_xy=True).transform(X + 250, Y + 250)
    z = 16
    size = 2 * HALF / (1 << z)
    status, body = call(f"/tiles/parcels/{z}/{int((x + HALF) // size)}/{int((HALF - y) // size)}.pbf")
    assert status == 200
    props = {
        f["properties"]["parcel_no"]: f["properties"]
        for f in mapbox_vector_tile.decode(body)["parcels"]["features"]
    }
    # the tile holds the text as it is; the page's popup puts it in with textContent (tests/app/test_pages.py)
    assert props["H-1"]["holder"] == HOLDER and props[SQL]["holder"] == FORMULA
    assert props["H-1"]["land_use"] == "<b>100101</b>"


def test_the_geojson_popups_escape_it(hostile_city: sa.Engine) -> None:
    parcels = read_parcels(hostile_city)
    assert parcels.set_index("parcel_no").loc["H-1", "holder"] == HOLDER  # stored verbatim
    html = (
        build_map(counties=None, level1=None, level2=None, parcels=parcels, highlight=SQL).get_root().render()
    )
    seen = unescape_js(html)
    assert (
        "&lt;img src=x onerror=alert(1)&gt;" in seen and "<img src=x" not in seen and "<img src=x" not in html
    )
    assert "&lt;b&gt;100101&lt;/b&gt;" in seen and "<b>100101</b>" not in seen
    assert "&#x27;; DROP TABLE parcels; --" in seen


def test_the_excel_export_holds_it_as_text(hostile_city: sa.Engine) -> None:
    frame = read_parcels(hostile_city, geometry=False)
    book = openpyxl.load_workbook(io.BytesIO(table_bytes(frame, fmt="xlsx")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    cells = {row[header.index("parcel_no")].value: row for row in sheet.iter_rows(min_row=2)}
    holder = header.index("holder")
    assert cells["H-1"][holder].value == HOLDER and cells["H-1"][holder].data_type == "s"
    # a value that starts with "=" is text in the cell, never a formula Excel would run
    assert cells[SQL][holder].value == FORMULA and cells[SQL][holder].data_type == "s"
    extra = cells[SQL][header.index("extra")]
    assert FORMULA in extra.value and extra.data_type == "s"


def test_the_command_prints_it_verbatim(hostile_city: sa.Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["parcels", "--format", "json"])
    assert result.exit_code == 0, result.output
    parcels = {p["parcel_no"]: p for p in json.loads(result.stdout)["parcels"]}
    assert parcels["H-1"]["holder"] == HOLDER and parcels[SQL]["holder"] == FORMULA
    out = tmp_path / "宗地.csv"
    assert runner.invoke(app, ["parcels", "--format", "csv", "-o", str(out)]).exit_code == 0
    rows = {r["parcel_no"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))}
    assert rows["H-1"]["holder"] == HOLDER


def test_the_preview_shows_it_as_text(city: sa.Engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["H-1"], "权利人": [HOLDER], HOLDER: [SQL]}, geometry=[square(X, Y)], crs="EPSG:4549"
    )
    before = snapshot(city)
    preview = preview_file(write_frame(gdf, tmp_path / "宗地.geojson"), kind="parcels", storage_epsg=4549)
    assert snapshot(city) == before and preview.ok
    assert preview.head["权利人"].tolist() == [HOLDER] and preview.head[HOLDER].tolist() == [SQL]
    assert preview.unknown == [HOLDER]


# -- hostile requests to the tile route -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        ("/tiles/parcels/99999999999999999999/0/0.pbf", "", "out of range"),
        ("/tiles/parcels/3/-1/0.pbf", "", "out of range"),
        ("/tiles/parcels/abc/0/0.pbf", "", "invalid literal"),
        ("/tiles/parcels/3/1e3/0.pbf", "", "invalid literal"),
        ("/tiles/parcels;DROP TABLE parcels/3/1/1.pbf", "", "no such tile layer"),
        (f"/tiles/{HOLDER}/3/1/1.pbf", "", "no such tile layer"),
        ("/tiles/parcels/3/1/1.pbf", "county=330302' OR '1'='1", "not a county code"),
        ("/tiles/parcels/3/1/1.pbf", "county=%00330302", "not a county code"),
        ("/tiles/parcels/3/1/1.pbf", "county=３３０３０２", "not a county code"),  # full-width digits
        ("/tiles/parcels/3/1/1.pbf", "as_of=2024-02-30", "not a date"),
        ("/tiles/parcels/3/1/1.pbf", "as_of=2024-01-01'); DROP TABLE parcels; --", "not a date"),
        ("/tiles/parcels/3/1/1.pbf", "marks=" + "x" * 500, "not a mark set"),
        ("/tiles/parcels/3/1/1.pbf", "marks=%3Cimg%20src%3Dx%3E", "not a mark set"),
    ],
)
def test_a_hostile_tile_request_is_a_400(hostile_city: sa.Engine, path: str, query: str, says: str) -> None:
    before = snapshot(hostile_city)
    status, body = call(path, query)
    assert status == 400 and says in body.decode(), (status, body)
    assert snapshot(hostile_city) == before
    TALLY["tile route"]["refused"] += 1


@pytest.mark.parametrize(
    "query",
    [
        "gcj=<script>",
        "v=<img src=x onerror=alert(1)>",
        "as_of=1900-01-01",
        "as_of=2200-01-01",
        "county=999999",
        "unknown=1&county=",
    ],
)
def test_harmless_oddities_in_a_tile_request_are_served(hostile_city: sa.Engine, query: str) -> None:
    status, _ = call("/tiles/parcels/15/27000/13000.pbf", query)
    assert status == 200
    TALLY["tile route"]["accepted"] += 1
