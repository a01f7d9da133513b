"""Bounded work for the map (issue 19.3): a parcel of 1,000,000 vertices is reported at load and never
stops the tiles; a flood of tile requests gets 503 with Retry-After instead of a hang.

The parcel is a star-shaped polygon around (X+1000, Y+1000) in 鹿城: 1,000,000 vertices at radius 400 m
± 1.5 m of deterministic jitter (star-shaped with a positive radius, so simple and valid); its area is the
shoelace sum of the triangles from the centre, computed here in numpy and checked against PostGIS.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from shapely import Polygon
from starlette.requests import Request
from typer.testing import CliRunner

from blockline.cli import app
from geo.settings import get_settings
from geo.tiles import ALL_LAYERS, TileBusy, tile, tile_engine, tiles_covering
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import two_counties

N = 1_000_000
runner = CliRunner()


def _star() -> tuple[Polygon, float]:
    """The 1,000,000-vertex parcel and its area in m² (shoelace, by hand)."""
    theta = np.linspace(0.0, 2 * np.pi, N, endpoint=False)
    r = 400.0 + 1.5 * np.sin(theta * 7919.0) * np.cos(theta * 104729.0)
    u, v = r * np.cos(theta), r * np.sin(theta)  # about the centre, so that the sum keeps its digits
    area = 0.5 * float(np.sum(u * np.roll(v, -1) - np.roll(u, -1) * v))
    return Polygon(np.column_stack([X + 1000.0 + u, Y + 1000.0 + v])), area


@pytest.fixture
def big_file(tmp_path: Path) -> tuple[Path, float]:
    star, area = _star()
    path = tmp_path / "big.gpkg"
    gpd.GeoDataFrame(
        {"宗地编号": ["BIG-1"], "权利人": ["海滨公司"], "土地用途": ["工业用地"]},
        geometry=[star],
        crs="EPSG:4549",
    ).to_file(path, engine="pyogrio")
    return path, area


def _load(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["load", *args, "--format", "json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def test_a_million_vertex_parcel_is_reported_and_the_tiles_around_it_answer_in_a_second(
    engine: sa.Engine, big_file: tuple[Path, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, area_m2 = big_file
    counties = tmp_path / "counties.gpkg"
    two_counties().to_file(counties, engine="pyogrio")
    assert _load("boundaries", str(counties))[0] == 0
    code, out = _load("parcels", str(path))
    assert code == 0, out
    assert "BIG-1 has 1,000,000 vertices, over the limit of 100,000" in out  # the default limit
    with engine.connect() as conn:
        stored, points = conn.execute(
            sa.text("SELECT ST_Area(geom), ST_NPoints(geom) FROM parcels WHERE parcel_no = 'BIG-1'")
        ).one()
    assert stored == pytest.approx(area_m2, rel=1e-9) and points == N + 1  # loaded whole (and closed)

    tiles = tile_engine(engine)
    to_lonlat = Transformer.from_crs(4549, 4326, always_xy=True)
    (w, e), (s, n) = to_lonlat.transform([X + 590, X + 1410], [Y + 590, Y + 1410])
    worst, cut = 0.0, 0
    for z in (13, 14, 15, 16):
        for x, y in tiles_covering((w, s, e, n), z):
            start = time.perf_counter()
            body = tile(tiles, ALL_LAYERS, z, x, y)
            worst = max(worst, time.perf_counter() - start)
            cut += 1
            parcels = mapbox_vector_tile.decode(body).get("parcels", {"features": []})["features"]
            assert {f["properties"]["parcel_no"] for f in parcels} == {"BIG-1"}
    assert cut >= 4 and worst < 1.0, f"slowest of {cut} tiles: {worst:.2f} s"

    # a tile that runs out of time is cancelled by the server and said to be busy (the route's 503)
    monkeypatch.setattr(get_settings(), "tile_timeout_ms", 1)
    z, (x, y) = 13, tiles_covering((w, s, e, n), 13)[0]
    with pytest.raises(TileBusy, match="took too long"):
        tile(engine, ALL_LAYERS, z, x, y)
    with (
        engine.connect() as conn
    ):  # the limit was the tile's own: the pool's connections keep the role's 10 min
        assert (
            conn.execute(
                sa.text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
            ).scalar_one()
            == "600000"
        )


def test_a_million_vertex_parcel_is_refused_when_the_settings_say_so(
    engine: sa.Engine, big_file: tuple[Path, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = big_file
    monkeypatch.setenv("BLOCKLINE_REFUSE_LARGE_GEOMETRIES", "true")  # the command reads its settings anew
    monkeypatch.setenv("BLOCKLINE_MAX_VERTICES", str(N - 1))
    code, out = _load("parcels", str(path))
    assert code == 2 and "BIG-1 (1,000,000 vertices)" in out and "999,999" in out and "big.gpkg" in out
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM parcels")).scalar_one() == 0
    monkeypatch.setenv("BLOCKLINE_MAX_VERTICES", str(N))  # exactly at the limit: loaded, nothing to report
    code, out = _load("parcels", str(path))
    assert code == 0 and "vertices" not in out


def test_the_tiles_have_their_own_small_pool_with_a_time_limit(engine: sa.Engine) -> None:
    tiles = tile_engine(engine)
    assert tiles is tile_engine(engine) and tiles is not engine
    assert tiles.pool.size() == get_settings().tile_pool_size
    with tiles.connect() as conn:
        ms = conn.execute(
            sa.text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        ).scalar_one()
    assert int(ms) == get_settings().tile_timeout_ms


def test_a_full_tile_queue_answers_503_with_retry_after(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blockline import server

    settings = get_settings()
    monkeypatch.setattr(server, "_TILES_IN_FLIGHT", [settings.tile_pool_size + settings.tile_queue])
    path = "/tiles/all/13/6843/3438.pbf"
    match, scope = server.ROUTES[0].matches({"type": "http", "method": "GET", "path": path})
    request = Request(
        {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], **scope}
    )
    response = asyncio.run(server.tile_route(request))
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    monkeypatch.setattr(server, "_TILES_IN_FLIGHT", [0])
    response = asyncio.run(server.tile_route(request))
    assert response.status_code == 200 and server._TILES_IN_FLIGHT[0] == 0


def test_tiles_that_find_their_pool_taken_are_busy_within_seconds_and_starve_nothing_else(
    engine: sa.Engine,
) -> None:
    tiles = tile_engine(engine)
    held = [tiles.connect() for _ in range(get_settings().tile_pool_size)]  # every tile connection taken
    try:
        start = time.perf_counter()
        with pytest.raises(TileBusy, match="busy"):
            tile(tiles, ALL_LAYERS, 13, 6843, 3438)
        assert time.perf_counter() - start < 3.0  # the pool's 1 s wait, not a 30 s hang
        with engine.connect() as conn:  # the pages' and the command's pool is untouched
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        for conn in held:
            conn.close()
    assert isinstance(tile(tiles, ALL_LAYERS, 13, 6843, 3438), bytes)
