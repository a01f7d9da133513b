"""Vector tiles cut by PostGIS (``ST_AsMVT``): a city of 200,000 parcels is never sent as one layer.

A web map asks for the tiles of its view (256 px each, Web Mercator z/x/y); each is one SQL statement that
picks the features by the GiST index, clips and quantises them to the tile (``ST_AsMVTGeom``) and encodes
them as a Mapbox Vector Tile. What a tile holds depends on its zoom:

- ``counties``: the county outlines, as lines simplified to the tile's pixel.
- ``level1``, ``level2``: the block lines (current, or standing at ``as_of``), simplified to the tile's
  pixel below ``RAW_MIN_ZOOM``.
- ``parcels`` at ``RAW_MIN_ZOOM`` and closer: each parcel with its facts (number, holder, use, county, 亩)
  and, when a ``mark_set`` is given, the marks the policy engine put beside it (``parcel_marks``).
- ``parcels`` farther out: a grid of ``AGGREGATE_CELLS`` × ``AGGREGATE_CELLS`` squares per tile, each with
  the number of current parcels whose point on surface falls in it, their 亩 and their low-efficiency 亩,
  summed from ``parcel_cells`` (kept by the parcel loader). A city-wide view is a few hundred squares, not
  200,000 polygons, and takes milliseconds. With ``color_by`` (a map coloured by land use, county, a mark…)
  each square also carries ``top``, the value that covers most of its parcels' 亩 (marked parcels only, for
  a mark), and ``top_share``, that value's 亩 over all the square's parcels' 亩, summed as fast from the 亩
  of each value per cell (``parcel_cell_values``, kept with ``parcel_cells``; ``mark_cell_values``, written
  with each set of marks: ``geo.tiles_cells``). Only a coloured map of the parcels as they stood on a past
  date (``as_of``) sums its squares from the parcels themselves, each at its point on surface.

``gcj02=True`` shifts every feature of a tile by the GCJ-02 offset at the tile's centre, for AMap/Gaode
base maps. The offset varies by under 7 m across a z13 tile (a third of a pixel there), by under 0.3 m
across a z16 tile: one shift per tile stays within a pixel at every zoom.

Nothing here knows what the marks mean; the policy engine (``zoning``) writes them.

The work of a tile is bounded: a parcel of more than ``LARGE_VERTICES`` vertices is first clipped to the
tile (``ST_ClipByBox2D``, one linear pass) and simplified to half the tile's pixel before ``ST_AsMVTGeom``
snaps and repairs it, so that repair never runs on a giant outline (a jagged 1,000,000-vertex parcel: a
z13 tile took 2.5 s before, a z16 tile of its clipped but unsimplified outline over 8 minutes; every tile
of z13–z16 over it takes under a second after, tests/geo/test_tiles_bounded.py); and each tile's statement
runs under a ``statement_timeout`` (``Settings.tile_timeout_ms``): a tile that takes longer is cancelled and
answered with :class:`TileBusy` (the web server's 503 with ``Retry-After``).

Examples
--------
>>> tile_bounds_3857(0, 0, 0)[0] == -tile_bounds_3857(0, 0, 0)[2]
True
>>> AGGREGATE_CELLS, RAW_MIN_ZOOM
(16, 13)
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Connection, Engine

from geo.errors import BlocklineError, InputError
from geo.gcj02 import wgs84_to_gcj02
from geo.parcel_marks import copy_marks, has_marks, write_marks
from geo.queries import _as_of_param, _lifespan_clause
from geo.settings import get_settings
from geo.store import storage_srid
from geo.tiles_cells import CELL_ZOOM, HALF_WORLD, refresh_mark_cells, refresh_parcel_cells
from geo.tiles_sql import (
    _ALLOWED,
    _BUFFER,
    LARGE_VERTICES,
    _cell_squares_sql,
    _counties_sql,
    _lines_sql,
    _parcels_sql,
    _squares_sql,
    _top_squares_sql,
)
from geo.versions import data_version

__all__ = [
    "AGGREGATE_CELLS",
    "ALL_LAYERS",
    "CELL_ZOOM",
    "SQUARE_COLOR_BY",
    "MAX_ZOOM",
    "LARGE_VERTICES",
    "RAW_MIN_ZOOM",
    "TILE_LAYERS",
    "TileBusy",
    "copy_marks",
    "data_version",
    "gcj02_shift",
    "has_marks",
    "refresh_mark_cells",
    "refresh_parcel_cells",
    "tile",
    "tile_bounds_3857",
    "tile_engine",
    "tiles_covering",
    "write_marks",
]

TILE_LAYERS = ("parcels", "level1", "level2", "counties")
#: what the far-out squares can be coloured by: the value that dominates each square (issue 18, item 7)
SQUARE_COLOR_BY = ("land_use", "county_code", "is_low_efficiency", "idle", "lifecycle", "grade")
ALL_LAYERS = "all"  # every layer in one tile, in the order of TILE_LAYERS (each drawn above the one before)
RAW_MIN_ZOOM = 13  # parcels one by one from here in; squares of counts farther out
AGGREGATE_CELLS = 16  # squares per tile side when aggregated (16 px each)
MAX_ZOOM = 20
_TO_LONLAT = Transformer.from_crs(3857, 4326, always_xy=True)
_FROM_LONLAT = Transformer.from_crs(4326, 3857, always_xy=True)
_SRIDS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_TILE_ENGINES: dict[str, Engine] = {}


class TileBusy(BlocklineError):
    """A tile could not be cut now: its statement ran out of time, or no connection was free (retry later)."""

    exit_code = 3


def tile_engine(engine: Engine) -> Engine:
    """A small pool of its own for the map tiles, on the database of ``engine`` (one per database).

    ``Settings.tile_pool_size`` connections, no overflow, each with the tiles' ``statement_timeout``; a
    request that finds none free within a second gets :class:`TileBusy`. Tiles never take the connections
    the pages and the command need, and a flood of tile requests never hangs them.
    """
    key = engine.url.render_as_string(hide_password=False)
    found = _TILE_ENGINES.get(key)
    if found is None:
        settings = get_settings()
        found = _TILE_ENGINES[key] = sa.create_engine(
            engine.url,
            pool_pre_ping=True,
            pool_size=settings.tile_pool_size,
            max_overflow=0,
            pool_timeout=1,
            connect_args={"options": f"-c jit=off -c statement_timeout={settings.tile_timeout_ms}"},
        )
    return found


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of tile z/x/y in EPSG:3857 metres (the same as PostGIS ``ST_TileEnvelope``)."""
    size = 2 * HALF_WORLD / (1 << z)
    return (
        -HALF_WORLD + x * size,
        HALF_WORLD - (y + 1) * size,
        -HALF_WORLD + (x + 1) * size,
        HALF_WORLD - y * size,
    )


def tiles_covering(
    bounds: tuple[float, float, float, float], z: int, *, margin: int = 0
) -> list[tuple[int, int]]:
    """The (x, y) of every zoom-``z`` tile that ``bounds`` (west, south, east, north in degrees) touches.

    With ``margin`` more tiles on each side, within the world.

    >>> tiles_covering((120.1, 27.9, 120.2, 28.0), 8)
    [(213, 107)]
    >>> len(tiles_covering((120.1, 27.9, 120.2, 28.0), 8, margin=1))
    9
    """
    west, south, east, north = bounds
    (x0, x1), (y1, y0) = _FROM_LONLAT.transform([west, east], [max(south, -85.05), min(north, 85.05)])
    size = 2 * HALF_WORLD / (1 << z)
    last = (1 << z) - 1

    def index(metres: float, *, down: bool) -> int:
        i = (metres + HALF_WORLD) / size if not down else (HALF_WORLD - metres) / size
        return min(max(int(i), 0), last)

    xs = range(max(index(x0, down=False) - margin, 0), min(index(x1, down=False) + margin, last) + 1)
    ys = range(max(index(y0, down=True) - margin, 0), min(index(y1, down=True) + margin, last) + 1)
    return [(x, y) for x in xs for y in ys]


def gcj02_shift(z: int, x: int, y: int) -> tuple[float, float]:
    """The GCJ-02 offset (dx, dy) in Web Mercator metres at the centre of tile z/x/y (0, 0 outside China)."""
    xmin, ymin, xmax, ymax = tile_bounds_3857(z, x, y)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    lon, lat = _TO_LONLAT.transform(cx, cy)
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    gx, gy = _FROM_LONLAT.transform(float(glon[0]), float(glat[0]))
    return gx - cx, gy - cy


def _check(layer: str, z: int, x: int, y: int, color_by: str | None = None) -> None:
    if color_by is not None and color_by not in SQUARE_COLOR_BY:
        raise InputError(
            f"不能按此着色：{color_by!r}",
            f"cannot colour by {color_by!r}",
            fix_zh="可用：" + "、".join(SQUARE_COLOR_BY),
            fix_en="known: " + ", ".join(SQUARE_COLOR_BY),
        )
    if layer not in TILE_LAYERS and layer != ALL_LAYERS:
        raise InputError(
            f"没有这个图层：{layer!r}",
            f"no such tile layer: {layer!r}",
            fix_zh="可用：" + "、".join((*TILE_LAYERS, ALL_LAYERS)),
            fix_en="known: " + ", ".join((*TILE_LAYERS, ALL_LAYERS)),
        )
    if not (0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
        raise InputError(
            f"瓦片编号超出范围：{z}/{x}/{y}",
            f"tile out of range: {z}/{x}/{y}",
            fix_zh=f"缩放级别 0–{MAX_ZOOM}，x、y 在 0 与 2^z−1 之间",
            fix_en=f"zoom 0–{MAX_ZOOM}, x and y between 0 and 2^z−1",
        )


def _pixel_m(z: int) -> float:
    return 2 * HALF_WORLD / (256 * (1 << z))


def tile(
    engine: Engine,
    layer: str,
    z: int,
    x: int,
    y: int,
    *,
    county: str | None = None,
    as_of: dt.date | dt.datetime | None = None,
    mark_set: str | None = None,
    gcj02: bool = False,
    counties: Iterable[str] | None = None,
    contracts: bool = True,
    color_by: str | None = None,
) -> bytes:
    """One Mapbox Vector Tile (bytes, maybe empty) of z/x/y; each MVT layer has the name of its layer.

    ``layer`` is one of ``TILE_LAYERS``, or ``ALL_LAYERS`` for every layer in one tile (one request and
    one statement instead of four; MVT layers simply follow each other). ``county`` keeps one county's
    features; ``as_of`` shows block lines and parcels as they stood then; ``mark_set`` adds the marks of
    that set to each parcel (``idle``, ``lifecycle``, ``grade``).

    What the asking user may see: ``counties`` (None: all) keeps only the features of those counties, in every
    layer; ``contracts=False`` leaves out the contract figures (the ``lifecycle`` mark, a parcel's contract
    warnings), which a bare viewer may not read.

    ``color_by`` (one of ``SQUARE_COLOR_BY``) gives each far-out square the value that dominates it (``top``)
    and that value's share of the square's 亩 (``top_share``); it changes nothing from ``RAW_MIN_ZOOM`` in.
    """
    _check(layer, z, x, y, color_by)
    layers = TILE_LAYERS if layer == ALL_LAYERS else (layer,)
    params = _tile_params(
        z,
        x,
        y,
        aggregate="parcels" in layers,
        gcj02=gcj02,
        county=county,
        mark_set=mark_set,
        color_by=color_by,
        as_of=as_of,
        counties=counties,
    )
    try:
        with engine.connect() as conn:
            srid = _storage_srid(engine, conn)
            parts = [
                "coalesce(("
                + _layer_sql(
                    name, z, srid, as_of=as_of, mark_set=mark_set, contracts=contracts, color_by=color_by
                )
                + "), ''::bytea)"
                for name in layers
            ]
            conn.execute(
                sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                {"ms": str(get_settings().tile_timeout_ms)},
            )
            return bytes(conn.execute(sa.text("SELECT " + " || ".join(parts)), params).scalar_one() or b"")
    except sa.exc.TimeoutError as exc:
        raise TileBusy(
            "地图瓦片繁忙，请稍后重试",
            "the map tiles are busy: try again shortly",
            file=f"{layer}/{z}/{x}/{y}",
            fix_zh="稍后重试",
            fix_en="retry in a moment",
        ) from exc
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled: the statement_timeout
            raise
        raise TileBusy(
            "地图瓦片超时，已取消",
            "the map tile took too long and was cancelled",
            file=f"{layer}/{z}/{x}/{y}",
            fix_zh="放大地图或稍后重试",
            fix_en="zoom in, or retry in a moment",
        ) from exc


def _tile_params(
    z: int,
    x: int,
    y: int,
    *,
    aggregate: bool,
    gcj02: bool,
    county: str | None,
    mark_set: str | None,
    color_by: str | None,
    as_of: dt.date | dt.datetime | None,
    counties: Iterable[str] | None,
) -> dict[str, object]:
    """The parameters of tile z/x/y's statement; with ``aggregate``, the range of far-out squares it sums."""
    dx, dy = gcj02_shift(z, x, y) if gcj02 else (0.0, 0.0)
    params: dict[str, object] = {
        "z": z,
        "x": x,
        "y": y,
        "dx": dx,
        "dy": dy,
        "county": county,
        "marks": mark_set,
        "color_by": color_by,
        "px": _pixel_m(z),
        "half": HALF_WORLD,
        **_as_of_param(as_of),
        "allowed": None if counties is None else sorted(counties),
    }
    if aggregate and z < RAW_MIN_ZOOM:
        step = CELL_ZOOM - (z + 4)  # AGGREGATE_CELLS = 16 = 2^4 squares per tile side
        span = 1 << (CELL_ZOOM - z)
        # One square more on each side: a GCJ-02 shift (under a square at z12) moves some in from beyond.
        margin = 1 << step
        params |= {
            "step": step,
            "i0": x * span - margin,
            "i1": (x + 1) * span + margin,
            "j0": y * span - margin,
            "j1": (y + 1) * span + margin,
            "size": 2 * HALF_WORLD / (1 << (z + 4)),
        }
    return params


def _storage_srid(engine: Engine, conn: Connection) -> int:
    """The store's SRID, read once per engine (it never changes: a store is created with it)."""
    srid = _SRIDS.get(engine)
    if srid is None:
        srid = _SRIDS[engine] = storage_srid(conn)
    return srid


def _layer_sql(
    layer: str,
    z: int,
    srid: int,
    *,
    as_of: dt.date | dt.datetime | None,
    mark_set: str | None,
    contracts: bool = True,
    color_by: str | None = None,
) -> str:
    """The statement that makes the MVT layer ``layer`` of a tile (the parameters are ``tile``'s)."""
    where = [
        _lifespan_clause(as_of),
        "(CAST(:county AS text) IS NULL OR t.county_code = :county)",
        _ALLOWED.format(col="t.county_code"),
        "t.geom && (SELECT box FROM env)",
    ]
    # The tile's envelope, moved back by the shift (what lands in the tile after it), in the storage CRS;
    # ST_Segmentize keeps its edges true after reprojection, ST_Expand covers the MVT buffer.
    env = f"""env AS (SELECT ST_Expand(ST_Transform(ST_Segmentize(
                  ST_Translate(ST_TileEnvelope(:z, :x, :y), -:dx, -:dy), :px * 64), {srid}), :px * {_BUFFER / 16})
                  AS box)"""
    if layer == "counties":
        return _counties_sql(env)
    if layer in ("level1", "level2"):
        return _lines_sql(layer, env, where, simplify=z < RAW_MIN_ZOOM)
    if z >= RAW_MIN_ZOOM:
        return _parcels_sql(env, where, mark_set=mark_set, contracts=contracts)
    if color_by is not None and as_of is not None:  # the parcels as they stood: summed here, one by one
        return _top_squares_sql(where, env, color_by, mark_set=mark_set, contracts=contracts)
    if color_by is not None:
        return _cell_squares_sql(color_by, mark_set=mark_set, contracts=contracts)
    return _squares_sql()
