"""The far-out squares coloured from values summed ahead per cell (``geo.tiles_cells``) against two referees.

The city: tests.files.load_two_county_city (鹿城 330302 is [X, X+2000] × [Y, Y+2000] in EPSG:4549, 瓯海
330304 the 2 km east of it) and 240 parcels of random sizes and shapes (some L-shaped, so their point on
surface is not their centre) with random land uses, low-efficiency flags and marks. Every square of every
tile from zoom 8 to 12 over the city is checked:

- against squares summed here, in Python, from each parcel's point on surface (PostGIS's
  ``ST_PointOnSurface`` in Web Mercator, the definition of the cell a parcel counts in), its 亩 and its value:
  the count, the 亩, the low-efficiency 亩, the value of most 亩 and its share;
- against the tile the per-parcel statement cuts (the one a map of a past date still uses, asked for with an
  ``as_of`` after every load), which summed every coloured square before.

Then again after a second load (new parcels, some old ones redrawn) and after a new set of marks. On a GCJ-02
base map (AMap), where the per-parcel statement counted only part of a square shifted in from beyond the
tile's edge, the coloured squares count what the uncoloured ones do.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import Polygon, box

from geo import clock
from geo.load import load_parcels
from geo.tiles import SQUARE_COLOR_BY, data_version, tile, tile_bounds_3857, tiles_covering, write_marks
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

HALF = 20037508.342789244
MARKS = ("idle", "lifecycle", "grade")
#: (county, allowed counties, contracts) a tile is asked with: everyone, one county, a county viewer, a viewer
RIGHTS = [(None, None, True), ("330304", None, True), (None, {"330302"}, True), (None, None, False)]


def city_parcels(seed: int, *, prefix: str, count: int) -> gpd.GeoDataFrame:
    """``count`` parcels of 30–150 m a side over the two counties, a fifth of them L-shaped."""
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(count):
        x0, y0 = X + rng.uniform(20, 3800), Y + rng.uniform(20, 1800)
        w, h = rng.uniform(30, 150, size=2)
        if rng.random() < 0.2:  # an L: the corner square of a w × h box cut away
            shapes.append(Polygon([(x0, y0), (x0 + w, y0), (x0 + w, y0 + h / 3), (x0 + w / 3, y0 + h / 3),
                                   (x0 + w / 3, y0 + h), (x0, y0 + h)]))  # fmt: skip
        else:
            shapes.append(box(x0, y0, x0 + w, y0 + h))
    return gpd.GeoDataFrame(
        {
            "宗地编号": [f"{prefix}-{i}" for i in range(count)],
            "权利人": ["甲"] * count,
            "用地性质": rng.choice(["M1", "M2", "0601", "W1", None], size=count),
            "低效用地": rng.random(count) < 0.4,
        },
        geometry=shapes,
        crs="EPSG:4549",
    )


def load(engine, tmp_path: Path, gdf: gpd.GeoDataFrame, name: str) -> None:
    gdf.to_file(tmp_path / f"{name}.gpkg", engine="pyogrio")
    load_parcels(engine, tmp_path / f"{name}.gpkg", user="test")


def mark(engine, name: str, seed: int) -> None:
    """Random marks for about two thirds of the current parcels, as the set ``name``."""
    rng = np.random.default_rng(seed)
    with engine.connect() as conn:
        numbers = sorted(
            conn.execute(sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL")).scalars()
        )
    rows = [
        (
            no,
            rng.choice(["idle", "late", None]),
            rng.choice(["due", "over", None]),
            rng.choice(["A", "C", "D"]),
        )
        for no in numbers
        if rng.random() < 0.67
    ]
    write_marks(engine, name, rows, keep_suffix="|" + name.rsplit("|", 1)[1])


@pytest.fixture
def city(engine, tmp_path: Path):
    load_two_county_city(engine, tmp_path)
    load(engine, tmp_path, city_parcels(1, prefix="P", count=240), "a")
    return engine


def points(engine, mark_set: str | None) -> list[dict]:
    """Each current parcel: its point on surface in Web Mercator, its 亩, county, facts and marks."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("""
                SELECT ST_X(p) AS px, ST_Y(p) AS py, t.area_mu, t.county_code, t.is_low_efficiency AS low,
                       t.land_use, t.county_code AS county_value,
                       CASE WHEN t.is_low_efficiency THEN 'true' WHEN NOT t.is_low_efficiency THEN 'false' END
                           AS is_low_efficiency, k.idle, k.lifecycle, CAST(k.grade AS text) AS grade
                FROM parcels t LEFT JOIN parcel_marks k ON k.mark_set = :m AND k.parcel_no = t.parcel_no
                CROSS JOIN LATERAL ST_Transform(ST_PointOnSurface(t.geom), 3857) p
                WHERE t.valid_to IS NULL"""),
                {"m": mark_set},
            ).mappings()
        ]


def expected(parcels: list[dict], z: int, x: int, y: int, color_by: str | None, rights: tuple) -> dict:
    """(ci, cj) → the properties of each square of tile z/x/y, summed by hand."""
    county, allowed, contracts = rights
    size = 2 * HALF / (1 << (z + 4))
    squares: dict[tuple[int, int], dict] = {}
    for p in parcels:
        if (county and p["county_code"] != county) or (allowed and p["county_code"] not in allowed):
            continue
        ci, cj = math.floor((p["px"] + HALF) / size), math.floor((HALF - p["py"]) / size)
        if not (x * 16 <= ci < x * 16 + 16 and y * 16 <= cj < y * 16 + 16):
            continue
        sq = squares.setdefault((ci, cj), {"parcels": 0, "mu": 0.0, "low": 0.0, "values": {}})
        sq["parcels"] += 1
        sq["mu"] += p["area_mu"]
        sq["low"] += p["area_mu"] if p["low"] else 0.0
        key = {"county_code": "county_value"}.get(color_by or "", color_by or "")
        value = p.get(key) if color_by and (color_by != "lifecycle" or contracts) else None
        if value is not None:
            sq["values"][value] = sq["values"].get(value, 0.0) + p["area_mu"]
    out = {}
    for key, sq in squares.items():
        props = {"parcels": sq["parcels"], "area_mu": round(sq["mu"], 2), "low_mu": round(sq["low"], 2)}
        if sq["values"]:
            top = min(sq["values"], key=lambda v: (-sq["values"][v], v))  # most 亩; a tie: the smaller
            props |= {"top": top, "top_share": sq["values"][top] / sq["mu"]}
        out[key] = props
    return out


def squares_of(body: bytes, z: int, x: int, y: int) -> dict:
    """(ci, cj) → the properties of each square in a tile, placed by its centre."""
    xmin, ymin, xmax, ymax = tile_bounds_3857(z, x, y)
    size = 2 * HALF / (1 << (z + 4))
    out = {}
    features = mapbox_vector_tile.decode(body, default_options={"y_coord_down": False})
    for f in features.get("parcels", {"features": []})["features"]:
        ring = np.array(f["geometry"]["coordinates"][0], dtype=float)
        cx = xmin + ring[:, 0].mean() / 4096 * (xmax - xmin)
        cy = ymin + ring[:, 1].mean() / 4096 * (ymax - ymin)
        key = (math.floor((cx + HALF) / size), math.floor((HALF - cy) / size))
        assert key not in out
        out[key] = f["properties"]
    return out


def same(got: dict, want: dict, where: str) -> None:
    assert got.keys() == want.keys(), where
    for key, props in want.items():
        g = got[key]
        assert g.keys() == props.keys(), f"{where} {key}"
        assert g["parcels"] == props["parcels"] and g.get("top") == props.get("top"), f"{where} {key}"
        for k in ("area_mu", "low_mu"):
            assert g[k] == pytest.approx(props[k], abs=0.0100001), f"{where} {key} {k}"
        if "top" in props:
            assert g["top_share"] == pytest.approx(props["top_share"], rel=1e-9), f"{where} {key}"


def check_every_square(engine, mark_set: str | None) -> int:
    """Every square of every tile of zoom 8–12 over the city, every colouring and every user's rights."""
    parcels = points(engine, mark_set)
    # After every load: the parcels standing now, summed one by one.
    later = clock.now() + dt.timedelta(days=1)
    checked = 0
    for z in range(8, 13):
        for x, y in tiles_covering((120.68, 27.98, 120.74, 28.01), z):
            for color_by in (None, *SQUARE_COLOR_BY):
                for rights in RIGHTS:
                    county, allowed, contracts = rights
                    kw = {"county": county, "counties": allowed, "contracts": contracts, "mark_set": mark_set}
                    got = squares_of(tile(engine, "parcels", z, x, y, color_by=color_by, **kw), z, x, y)
                    where = f"{z}/{x}/{y} {color_by} {rights}"
                    same(got, expected(parcels, z, x, y, color_by, rights), where)
                    if color_by is not None:
                        old = tile(engine, "parcels", z, x, y, color_by=color_by, as_of=later, **kw)
                        same(got, squares_of(old, z, x, y), where + " (per parcel)")
                    checked += len(got)
    return checked


def test_the_city_lies_in_the_tiles_checked(city):
    (w, s, e, n) = (
        gpd.GeoSeries(city_parcels(1, prefix="P", count=240).geometry).to_crs(4326).total_bounds.tolist()
    )
    assert 120.68 < w < e < 120.74 and 27.98 < s < n < 28.01


def test_coloured_squares_match_both_referees_after_loads_and_judgements(city, tmp_path):
    first = f"wz|2026-12-06|{data_version(city)}"
    mark(city, first, seed=2)
    assert check_every_square(city, first) > 100
    assert check_every_square(city, None) > 100  # no marks asked for: a mark colours nothing
    # A second load: 60 new parcels, and 40 of the first redrawn elsewhere (their old versions retired).
    again = city_parcels(3, prefix="P", count=100)
    again["宗地编号"] = [f"P-{i}" for i in range(40)] + [f"Q-{i}" for i in range(60)]
    load(city, tmp_path, again, "b")
    check_every_square(city, first)  # the old set, still shown until the next: over the parcels of now
    second = f"wz|2026-12-07|{data_version(city)}"
    mark(city, second, seed=4)
    check_every_square(city, second)
    with city.connect() as conn:  # the first set and its sums are gone with it (another data version)
        left = conn.execute(sa.text("SELECT DISTINCT mark_set FROM mark_cell_values")).scalars().all()
    assert left == [second]


def test_a_set_of_marks_for_another_date_keeps_the_sums_of_the_first(city):
    version = data_version(city)
    mark(city, f"wz|2026-12-06|{version}", seed=2)
    mark(city, f"wz|2026-12-07|{version}", seed=5)
    with city.connect() as conn:
        sets = conn.execute(sa.text("SELECT DISTINCT mark_set FROM mark_cell_values ORDER BY 1")).scalars()
        assert sets.all() == [f"wz|2026-12-06|{version}", f"wz|2026-12-07|{version}"]
    check_every_square(city, f"wz|2026-12-06|{version}")


def counts_by_outline(body: bytes) -> dict:
    """The outline of each square in a tile (tile units) → its count, 亩 and low-efficiency 亩."""
    features = mapbox_vector_tile.decode(body).get("parcels", {"features": []})["features"]
    out = {str(f["geometry"]["coordinates"]): f["properties"] for f in features}
    assert len(out) == len(features)
    return {k: (p["parcels"], p["area_mu"], p["low_mu"]) for k, p in out.items()}


def test_coloured_squares_count_what_uncoloured_ones_do_on_a_gcj02_base_map(city):
    """Shifted for AMap, a square moved in from beyond the tile's edge counts all its parcels, coloured or not.

    (Summed per parcel, the squares moved in counted only the parcels within the tile's reach.)
    """
    marks = f"wz|2026-12-06|{data_version(city)}"
    mark(city, marks, seed=2)
    for z in range(8, 13):
        for x, y in tiles_covering((120.68, 27.98, 120.74, 28.01), z):
            plain = counts_by_outline(tile(city, "parcels", z, x, y, gcj02=True))
            for color_by in SQUARE_COLOR_BY:
                body = tile(city, "parcels", z, x, y, gcj02=True, color_by=color_by, mark_set=marks)
                assert counts_by_outline(body) == plain, f"{z}/{x}/{y} {color_by}"
