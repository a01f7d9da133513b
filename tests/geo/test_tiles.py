"""Vector tiles from PostGIS, decoded with mapbox-vector-tile and checked against geometry computed here.

The city: tests.files.load_two_county_city (鹿城 330302 and 瓯海 330304; level 1 of 鹿城 is
[X+100, X+700] × [Y+100, Y+700] in EPSG:4549) and three parcels of 100 m × 100 m (15 亩 each) in 鹿城.
Expected positions come from pyproj (storage CRS → Web Mercator) and the tile formula, not from PostGIS.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import box, shape

from geo.errors import InputError
from geo.gcj02 import wgs84_to_gcj02
from geo.load import load_parcels
from geo.tiles import (
    ALL_LAYERS,
    RAW_MIN_ZOOM,
    TILE_LAYERS,
    data_version,
    gcj02_shift,
    has_marks,
    refresh_parcel_cells,
    tile,
    tile_bounds_3857,
    tiles_covering,
    write_marks,
)
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

TO_3857 = Transformer.from_crs(4549, 3857, always_xy=True)
TO_LONLAT = Transformer.from_crs(3857, 4326, always_xy=True)
HALF = 20037508.342789244
PARCELS = [box(X + 150 + 150 * i, Y + 150, X + 250 + 150 * i, Y + 250) for i in range(3)]  # 15 亩 each


@pytest.fixture
def city(engine, tmp_path: Path):
    load_two_county_city(engine, tmp_path)
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["P-1", "P-2", "P-3"],
            "权利人": ["<b>甲</b>", "乙", "丙"],
            "用地性质": ["M1", "M1", "M2"],
        },
        geometry=PARCELS,
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    load_parcels(engine, tmp_path / "p.gpkg", user="test")
    return engine


def tile_of(x3857: float, y3857: float, z: int) -> tuple[int, int]:
    size = 2 * HALF / (1 << z)
    return int((x3857 + HALF) // size), int((HALF - y3857) // size)


def decoded(data: bytes, z: int, x: int, y: int) -> dict[str, list[dict]]:
    """Layers of a tile with geometry back in EPSG:3857 metres."""
    xmin, ymin, xmax, ymax = tile_bounds_3857(z, x, y)
    layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": False})
    for layer in layers.values():
        ext = layer["extent"]
        for f in layer["features"]:
            geom = shape(f["geometry"])
            from shapely import transform

            f["shape"] = transform(
                geom,
                lambda c: np.column_stack(
                    [xmin + c[:, 0] / ext * (xmax - xmin), ymin + c[:, 1] / ext * (ymax - ymin)]  # noqa: B023 - transform calls it at once, in this iteration
                ),
            )
    return {name: layer["features"] for name, layer in layers.items()}


def centre_3857(geom) -> tuple[float, float]:
    c = geom.centroid
    return TO_3857.transform(c.x, c.y)


def test_a_parcel_tile_holds_each_parcel_where_pyproj_puts_it(city):
    z = 17
    cx, cy = centre_3857(PARCELS[0])
    x, y = tile_of(cx, cy, z)
    features = decoded(tile(city, "parcels", z, x, y), z, x, y)["parcels"]
    found = {f["properties"]["parcel_no"]: f for f in features}
    assert "P-1" in found
    props = found["P-1"]["properties"]
    assert props["holder"] == "<b>甲</b>" and props["land_use"] == "M1" and props["county_code"] == "330302"
    assert props["area_mu"] == pytest.approx(15.0, abs=0.01)
    expected = shape(
        {"type": "Polygon", "coordinates": [[TO_3857.transform(*p) for p in PARCELS[0].exterior.coords]]}
    )
    got = found["P-1"]["shape"]
    pixel = 2 * HALF / (1 << z) / 4096
    xmin, ymin, xmax, ymax = tile_bounds_3857(z, x, y)
    expected = expected.intersection(
        box(xmin, ymin, xmax, ymax).buffer(64 * pixel, join_style="mitre")
    )  # clipped
    assert got.symmetric_difference(expected).area < expected.length * 2 * pixel  # quantised to the grid only


def test_far_out_parcels_are_squares_of_counts_and_mu(city):
    z = RAW_MIN_ZOOM - 3
    cx, cy = centre_3857(PARCELS[1])
    x, y = tile_of(cx, cy, z)
    features = decoded(tile(city, "parcels", z, x, y), z, x, y)["parcels"]
    assert sum(f["properties"]["parcels"] for f in features) == 3
    assert sum(f["properties"]["area_mu"] for f in features) == pytest.approx(45.0, abs=0.01)
    assert "parcel_no" not in features[0]["properties"]  # no single parcel's facts at this zoom
    cell = 2 * HALF / (1 << z) / 16
    assert features[0]["shape"].area == pytest.approx(cell * cell, rel=1e-3)


def test_block_lines_by_level_county_and_date(city):
    z = 15
    cx, cy = TO_3857.transform(X + 400, Y + 400)  # the middle of 鹿城's level-1 line
    x, y = tile_of(cx, cy, z)
    level1 = decoded(tile(city, "level1", z, x, y), z, x, y).get("level1", [])
    assert [f["properties"]["county_code"] for f in level1] == ["330302"]
    assert level1[0]["properties"]["area_mu"] == pytest.approx(600 * 600 * 15 / 10_000, abs=0.01)  # 540 亩
    assert decoded(tile(city, "level1", z, x, y, county="330304"), z, x, y) == {}
    assert decoded(tile(city, "level1", z, x, y, as_of=dt.date(2000, 1, 1)), z, x, y) == {}  # not loaded yet


def test_gcj02_moves_the_tile_by_the_offset_at_its_centre(city):
    z = 15
    cx, cy = centre_3857(PARCELS[0])
    x, y = tile_of(cx, cy, z)
    plain = {
        f["properties"]["parcel_no"]: f["shape"]
        for f in decoded(tile(city, "parcels", z, x, y), z, x, y)["parcels"]
    }
    lon, lat = TO_LONLAT.transform(cx, cy)
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    gx, gy = Transformer.from_crs(4326, 3857, always_xy=True).transform(float(glon[0]), float(glat[0]))
    assert math.hypot(gx - cx, gy - cy) > 300  # Wenzhou: several hundred metres
    dx, dy = gcj02_shift(z, x, y)
    assert (dx, dy) == pytest.approx((gx - cx, gy - cy), abs=2.0)  # tile centre vs parcel: under 2 m apart
    # In the tile where it lands, the parcel sits where the exact conversion of its centre puts it.
    sx, sy = tile_of(gx, gy, z)
    shifted = decoded(tile(city, "parcels", z, sx, sy, gcj02=True), z, sx, sy)["parcels"]
    moved = {f["properties"]["parcel_no"]: f["shape"] for f in shifted}["P-1"]
    assert moved.area == pytest.approx(plain["P-1"].area, rel=0.02)  # whole, not clipped
    assert (moved.centroid.x, moved.centroid.y) == pytest.approx((gx, gy), abs=2.0)


def test_marks_are_joined_and_replaced(city):
    assert write_marks(city, "wz|2026-11-23|v1", [("P-1", "idle", None, "C")]) == 1
    assert has_marks(city, "wz|2026-11-23|v1")
    z = 17
    cx, cy = centre_3857(PARCELS[0])
    x, y = tile_of(cx, cy, z)
    props = {
        f["properties"]["parcel_no"]: f["properties"]
        for f in decoded(tile(city, "parcels", z, x, y, mark_set="wz|2026-11-23|v1"), z, x, y)["parcels"]
    }
    assert props["P-1"]["idle"] == "idle" and props["P-1"]["grade"] == "C"
    assert "idle" not in props["P-2"]  # no mark: no property (MVT drops nulls)
    write_marks(city, "yw|2026-11-23|v1", [("P-2", None, "evaluation_due", None)], keep_suffix="|v1")
    assert has_marks(city, "wz|2026-11-23|v1") and has_marks(city, "yw|2026-11-23|v1")  # same data: both stay
    write_marks(city, "wz|2026-11-24|v2", [("P-3", "idle", None, None)], keep_suffix="|v2")
    assert not has_marks(city, "wz|2026-11-23|v1") and not has_marks(city, "yw|2026-11-23|v1")


def test_the_data_version_changes_with_a_load_and_bad_tiles_are_refused(city, tmp_path):
    before = data_version(city)
    assert data_version(city) == before
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["P-9"]}, geometry=[box(X + 900, Y + 900, X + 1000, Y + 1000)], crs="EPSG:4549"
    )
    gdf.to_file(tmp_path / "q.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "q.gpkg", user="test")
    assert data_version(city) != before
    with pytest.raises(InputError):
        tile(city, "parcels", 3, 8, 0)
    with pytest.raises(InputError):
        tile(city, "roads", 3, 1, 1)


def test_county_outlines_are_lines_of_the_county_asked_for(city):
    z = 13
    cx, cy = TO_3857.transform(X + 1000, Y + 1000)  # inside 鹿城 (330302), near 瓯海
    x, y = tile_of(cx, cy, z)
    features = decoded(tile(city, "counties", z, x, y), z, x, y)["counties"]
    assert {f["properties"]["code"] for f in features} >= {"330302"}
    assert all(f["shape"].geom_type in ("LineString", "MultiLineString") for f in features)
    only = decoded(tile(city, "counties", z, x, y, county="330304"), z, x, y).get("counties", [])
    assert {f["properties"]["code"] for f in only} <= {"330304"}


def _wkb(feature: dict) -> bytes:
    return feature["shape"].wkb


@pytest.mark.parametrize("z", [RAW_MIN_ZOOM - 3, RAW_MIN_ZOOM + 2])
def test_one_tile_of_every_layer_holds_each_layer_as_its_own_tile_does(city, z):
    cx, cy = centre_3857(PARCELS[1])
    x, y = tile_of(cx, cy, z)
    together = decoded(tile(city, ALL_LAYERS, z, x, y), z, x, y)
    assert {"parcels", "level1", "counties"} <= set(together)
    for layer in TILE_LAYERS:
        alone = decoded(tile(city, layer, z, x, y), z, x, y).get(layer, [])
        assert len(together.get(layer, [])) == len(alone)
        for a, b in zip(sorted(together.get(layer, []), key=_wkb), sorted(alone, key=_wkb), strict=True):
            assert a["properties"] == b["properties"] and a["shape"].equals(b["shape"])


def test_a_reset_store_reloaded_with_the_same_data_gets_a_new_version(city, owner_engine, tmp_path):
    from tests.conftest import empty_store

    before = data_version(city)
    empty_store(owner_engine)  # as the schema's owner: the app's role may not TRUNCATE
    (tmp_path / "again").mkdir()
    load_two_county_city(city, tmp_path / "again")
    gpd.GeoDataFrame(
        {"宗地编号": ["P-1", "P-2", "P-3"], "权利人": ["丁", "乙", "丙"], "用地性质": ["M1", "M1", "M2"]},
        geometry=PARCELS,
        crs="EPSG:4549",
    ).to_file(tmp_path / "again.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "again.gpkg", user="test")
    assert (
        data_version(city) != before
    )  # same ids and counts as before, a new holder: tiles must not be reused


@pytest.mark.parametrize(
    ("bounds", "z"),
    [((120.55, 27.95, 120.75, 28.1), 12), ((119.6, 27.0, 121.3, 28.6), 8), ((179.9, -85.2, 180.0, -84.9), 3)],
)
def test_the_tiles_covering_a_box_are_those_its_corners_span_with_the_margin(bounds, z):
    west, south, east, north = bounds
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    xmin, ymin = to_3857.transform(west, max(south, -85.05))
    xmax, ymax = to_3857.transform(east, min(north, 85.05))
    n, half = 1 << z, 20037508.342789244
    size = 2 * half / n
    near_x = range(max(int((xmin + half) // size) - 4, 0), min(int((xmax + half) // size) + 5, n))
    near_y = range(max(int((half - ymax) // size) - 4, 0), min(int((half - ymin) // size) + 5, n))
    for margin in (0, 2):
        got = tiles_covering(bounds, z, margin=margin)
        # By hand: every tile whose square overlaps the box grown by `margin` tiles, within the world.
        grown = (xmin - margin * size, ymin - margin * size, xmax + margin * size, ymax + margin * size)
        want = {(x, y) for x in near_x for y in near_y if _overlaps(tile_bounds_3857(z, x, y), grown)}
        assert set(got) == want and len(got) == len(want)


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# -- squares coloured by what dominates them (issue 18, item 7) ------------------------------------------------
def _square_of(engine, z: int, **kw) -> dict:
    cx, cy = centre_3857(PARCELS[1])
    x, y = tile_of(cx, cy, z)
    features = decoded(tile(engine, "parcels", z, x, y, **kw), z, x, y)["parcels"]
    assert (
        len(features) == 1
    )  # the three parcels share one square at z9 and z8 (at z10 a square's edge parts them)
    return features[0]["properties"]


@pytest.mark.parametrize("z", [RAW_MIN_ZOOM - 4, RAW_MIN_ZOOM - 5])
def test_far_out_squares_take_the_value_that_covers_most_mu(city, z):
    # P-1 and P-2 are M1 (15 亩 each), P-3 is M2 (15 亩): M1 covers 30 of 45 亩
    props = _square_of(city, z, color_by="land_use")
    assert props["top"] == "M1" and props["top_share"] == pytest.approx(30 / 45, abs=1e-9)
    assert props["parcels"] == 3 and props["area_mu"] == pytest.approx(45.0, abs=0.01)
    assert _square_of(city, z, color_by="county_code")["top"] == "330302"
    assert _square_of(city, z, color_by="county_code")["top_share"] == pytest.approx(1.0)
    assert "top" not in _square_of(city, z)  # no colouring: the squares of counts only


def test_far_out_squares_by_a_mark_count_marked_parcels_and_their_share_of_all(city):
    z = RAW_MIN_ZOOM - 4
    write_marks(city, "wz|2026-11-23|v1", [("P-1", "idle", None, "C"), ("P-3", None, None, "D")])
    props = _square_of(city, z, color_by="idle", mark_set="wz|2026-11-23|v1")
    assert props["top"] == "idle" and props["top_share"] == pytest.approx(15 / 45, abs=1e-9)
    grade = _square_of(city, z, color_by="grade", mark_set="wz|2026-11-23|v1")
    assert grade["top"] == "C" and grade["top_share"] == pytest.approx(
        15 / 45, abs=1e-9
    )  # a tie: the smaller
    none = _square_of(city, z, color_by="lifecycle", mark_set="wz|2026-11-23|v1")
    assert "top" not in none and "top_share" not in none  # nothing marked: no value dominates
    viewer = _square_of(city, z, color_by="idle", mark_set="wz|2026-11-23|v1", contracts=False)
    assert viewer["top"] == "idle"
    with pytest.raises(InputError, match="不能按此着色"):
        tile(city, "parcels", z, 0, 0, color_by="holder")


def test_low_efficiency_squares_are_true_or_false(city, engine):
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE parcels SET is_low_efficiency = (parcel_no <> 'P-2')"))
        refresh_parcel_cells(conn)  # as a loader does (geo.load_attributes), in its transaction
    props = _square_of(city, RAW_MIN_ZOOM - 4, color_by="is_low_efficiency")
    assert props["top"] == "true" and props["top_share"] == pytest.approx(30 / 45, abs=1e-9)
    assert props["low_mu"] == pytest.approx(30.0, abs=0.01)


def test_squares_parted_by_an_edge_each_keep_their_own_value(city):
    z = (
        RAW_MIN_ZOOM - 3
    )  # P-1 and P-2 fall in one square, P-3 in the next (their points on surface by pyproj)
    cx, cy = centre_3857(PARCELS[1])
    x, y = tile_of(cx, cy, z)
    features = decoded(tile(city, "parcels", z, x, y, color_by="land_use"), z, x, y)["parcels"]
    by_count = sorted(
        (f["properties"]["parcels"], f["properties"]["top"], f["properties"]["top_share"]) for f in features
    )
    assert by_count == [(1, "M2", pytest.approx(1.0)), (2, "M1", pytest.approx(1.0))]


def test_parcels_counted_in_by_their_insert_add_to_the_cells_they_share(city, engine):
    """``write_parcels(cells="add")``: the insert counts its parcels in, onto what a cell and county hold.

    P-4 and P-5 (15 亩 each, M1) fall in P-1's cell (pyproj, checked below); written one frame at a time, the
    second adds to the first: the cell holds P-1, P-2, P-4 and P-5, 60 亩, 60 of them M1.
    """
    import sqlalchemy as sa

    from geo.load_parcels import write_parcels

    new = [box(X + 150, Y + 300, X + 250, Y + 400), box(X + 300, Y + 300, X + 400, Y + 400)]
    cell_m = 2 * HALF / (1 << 16)
    cells = {
        tuple(int(v // cell_m) for v in (x + HALF, HALF - y)) for x, y in map(centre_3857, PARCELS[:2] + new)
    }
    assert len(cells) == 1  # the premise: all four in one cell
    with engine.begin() as conn:
        for no, geom in (("P-4", new[0]), ("P-5", new[1])):
            frame = gpd.GeoDataFrame(
                {"parcel_no": [no], "land_use": ["M1"], "area_mu": [15.0], "extra": ["{}"]},
                geometry=[geom],
                crs="EPSG:4549",
            )
            write_parcels(conn, frame, load_id=None, user="test", cells="add", replace=False)
        with pytest.raises(ValueError, match="replace=False"):
            write_parcels(conn, frame, load_id=None, user="test", cells="add")
        ((i, j),) = cells
        held = conn.execute(
            sa.text(
                "SELECT parcels, area_mu FROM parcel_cells WHERE i = :i AND j = :j AND county_code = '330302'"
            ),
            {"i": i, "j": j},
        ).one()
        m1 = conn.execute(
            sa.text("""SELECT area_mu FROM parcel_cell_values
                       WHERE color_by = 'land_use' AND value = 'M1' AND i = :i AND j = :j"""),
            {"i": i, "j": j},
        ).scalar_one()
        placed = conn.execute(sa.text("SELECT count(*) FROM parcel_cell_of")).scalar_one()
    assert (held.parcels, held.area_mu, m1, placed) == (4, pytest.approx(60.0), pytest.approx(60.0), 5)
