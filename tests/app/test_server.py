"""The tile route of server.py, called as Starlette calls it, on a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import mapbox_vector_tile
import pytest
from pyproj import Transformer
from starlette.requests import Request

from geo.store import open_store
from server import ROUTES, TILE_MIME, tile_route
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

HALF = 20037508.342789244


def call(path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    route = ROUTES[0]
    match, scope = route.matches({"type": "http", "method": "GET", "path": path})
    assert match.name == "FULL", f"{path} does not match {route.path}"
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(),
                       "headers": [], **scope})
    response = asyncio.run(tile_route(request))
    return response.status_code, dict(response.headers), bytes(response.body)


@pytest.fixture
def city(engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    load_two_county_city(engine, tmp_path)
    assert open_store() is not None  # the route opens the same store through the settings
    return engine


def level1_tile(z: int) -> tuple[int, int, int]:
    x, y = Transformer.from_crs(4549, 3857, always_xy=True).transform(X + 400, Y + 400)  # 鹿城's level-1 line
    size = 2 * HALF / (1 << z)
    return z, int((x + HALF) // size), int((HALF - y) // size)


def test_a_tile_is_served_with_its_type_and_cache(city):
    z, x, y = level1_tile(15)
    status, headers, body = call(f"/tiles/level1/{z}/{x}/{y}.pbf", "v=abc")
    assert status == 200 and headers["content-type"] == TILE_MIME
    assert "immutable" in headers["cache-control"]
    features = mapbox_vector_tile.decode(body)["level1"]["features"]
    assert [f["properties"]["county_code"] for f in features] == ["330302"]
    status, headers, body = call(f"/tiles/level1/{z}/{x}/{y}.pbf", "county=330304")
    assert status == 200 and body == b"" and headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(("path", "query", "says"), [
    ("/tiles/roads/3/1/1.pbf", "", "no such tile layer"),
    ("/tiles/parcels/3/9/1.pbf", "", "out of range"),
    ("/tiles/parcels/3/1/1.pbf", "county=1;DROP TABLE parcels", "not a county code"),
    ("/tiles/parcels/3/1/1.pbf", "as_of=2024-13-01", "not a date"),
    ("/tiles/parcels/3/1/1.pbf", "marks=<script>", "not a mark set"),
])
def test_a_bad_request_is_a_400_that_says_why(city, path, query, says):
    status, _, body = call(path, query)
    assert status == 400 and says in body.decode()
