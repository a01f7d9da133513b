"""Park layout: where a county's parks go, and each park cut into block-rows, blocks, streets and parcels.

Parks gather around their county's seat (or its centre), one per square cell of the county; a park is a
rotated rectangle cut into leaning block-rows separated by roads of two width classes (10–14 m and 20–40 m,
so that a 15 m gap tolerance joins some neighbouring parcels and not others), and the rows into parcels of
5–150 亩. Everything here is in a park's own frame; :mod:`blockline.demo.ground` puts it in the world.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import shapely
from pyproj import Transformer

from blockline.demo._arrays import BoolArray, FloatArray, IntArray, StrArray
from geo.area import M2_PER_MU

__all__ = ["LEVEL1_BUFFER_M", "ParkLayout", "allocate", "place_parks", "seats"]

# --- shapes -------------------------------------------------------------------------------------------
_MIN_PARCEL_MU = 5.2  # a little inside the 5–150 亩 promise, so rounding can never break it
_MAX_PARCEL_MU = 148.0
_GROSS_M2_PER_PARCEL = 24_000.0  # mean parcel (~30 亩) plus its share of roads, inside a park
_NARROW_ROAD_M = (10.0, 14.0)
_WIDE_ROAD_M = (20.0, 40.0)
LEVEL1_BUFFER_M = 20.0
_MAX_LEAN = 0.36  # how far a block-row's cross streets lean (dx/dy, ≈ 20°): estates are not square grids
_COUNTY_EDGE_M = 50.0

# County seats (县城/城区 centres, WGS 84 lon/lat, to about a kilometre) of Wenzhou: parks gather on the flat
# land around them and along the coast, not in the mountains of 永嘉/泰顺/文成. A county not listed here, or
# whose seat lies outside the geometry given, gathers its parks around its own centre.
_SEATS = {
    "330302": (120.655, 28.015),  # 鹿城区
    "330303": (120.830, 27.925),  # 龙湾区 永中
    "330304": (120.637, 27.967),  # 瓯海区 娄桥
    "330305": (121.157, 27.836),  # 洞头区 北岙
    "330324": (120.690, 28.153),  # 永嘉县 上塘
    "330326": (120.565, 27.662),  # 平阳县 昆阳
    "330327": (120.426, 27.518),  # 苍南县 灵溪
    "330328": (120.092, 27.787),  # 文成县 大峃
    "330329": (119.717, 27.557),  # 泰顺县 罗阳
    "330381": (120.655, 27.779),  # 瑞安市
    "330382": (120.983, 28.113),  # 乐清市
    "330383": (120.553, 27.578),  # 龙港市
}
_SEAT_PULL = 0.08  # how tightly parks gather at the seat, as a share of the county's size (the centre: 0.3)


@dataclass
class _Style:
    """How tightly parks are packed: rotation, ring width and spacing (tighter when space is short)."""

    max_rotation_deg: float
    ring_factor: float
    spacing_m: float
    parcels_per_park_divisor: float
    max_aspect: float


@dataclass
class ParkLayout:
    """One park in its own frame (x in [0, width], y in [0, height]), parcels in build order."""

    county: int
    cx: float
    cy: float
    theta: float
    width: float
    height: float
    ring_m: float
    x0: FloatArray
    x1: FloatArray
    y0: FloatArray
    y1: FloatArray
    block: IntArray  # block number within the park
    row: IntArray  # block-row number within the park
    gap_before: FloatArray  # road width before the parcel's block in its block-row (nan for the first)
    lean: FloatArray  # dx/dy of the parcel's block-row: its cross streets and side edges lean by this much
    row_mid: FloatArray  # y of the middle of the parcel's block-row, which the lean turns about
    direction: str  # 东/南/西/北/中: where the park lies in its county, for its name


#: a park's parcels in its own frame, in build order: x0, x1, y0, y1, block, block-row, the road before the
#: parcel's block (nan for a row's first), the row's lean (dx/dy) and the y of the row's middle
LocalParcels = tuple[
    FloatArray, FloatArray, FloatArray, FloatArray, IntArray, IntArray, FloatArray, FloatArray, FloatArray
]


def _roads(rng: np.random.Generator, shape: int | tuple[int, ...], narrow_share: float) -> FloatArray:
    narrow = rng.random(shape) < narrow_share
    return np.where(narrow, rng.uniform(*_NARROW_ROAD_M, shape), rng.uniform(*_WIDE_ROAD_M, shape))


@dataclass
class _Rows:
    """A park's block-rows that fit its height, with every candidate column's parcel size, block break and road."""

    d1: FloatArray  # depth of the front parcel (the whole block when not split)
    d2: FloatArray  # depth of the back parcel (0 when not split)
    split: BoolArray  # two parcels back to back across the block's depth
    y_start: FloatArray
    depth: FloatArray
    lean: FloatArray
    target_mu: FloatArray  # (row, column)
    new_block: BoolArray  # (row, column): a cross street before this column
    across: FloatArray  # (row, column): the cross streets' widths across
    along: FloatArray  # (row, column): their widths along the row
    shift: FloatArray  # a leaning row's corners reach this far beyond its middle line
    n_cols: int


def _draw_rows(rng: np.random.Generator, *, width: float, height: float) -> _Rows:
    """Draw a park's block-rows, and the parcels, blocks and roads of each row, keeping the rows that fit."""
    narrow_share = rng.uniform(0.3, 0.7)
    n_rows = int(height / 80.0) + 2
    split = rng.random(n_rows) < 0.6  # two parcels back to back across the block's depth
    d1 = np.where(split, rng.uniform(70.0, 140.0, n_rows), rng.uniform(100.0, 230.0, n_rows))
    d2 = np.where(split, rng.uniform(70.0, 140.0, n_rows), 0.0)
    depth = d1 + d2
    gap_y = _roads(rng, n_rows, narrow_share * 0.8)
    lean = rng.uniform(-_MAX_LEAN, _MAX_LEAN, n_rows)
    y_start = np.concatenate([[0.0], np.cumsum(depth + gap_y)[:-1]])
    rows = np.flatnonzero(y_start + depth <= height)
    n_cols = int(width / 35.0) + 3
    # parcel sizes, block breaks and roads for every candidate row; the rows that fit are kept below
    target_mu = np.clip(rng.lognormal(np.log(24.0), 0.65, (n_rows, n_cols)), 6.0, 145.0)
    new_block = rng.random((n_rows, n_cols)) < 0.38
    gap_x = _roads(rng, (n_rows, n_cols), narrow_share)
    d1, d2, split, y_start = d1[rows], d2[rows], split[rows], y_start[rows]
    target_mu, new_block, gap_x = target_mu[rows], new_block[rows], gap_x[rows]
    lean, depth = lean[rows], depth[rows]
    new_block[:, 0] = False
    gap_x = np.where(new_block, gap_x, 0.0)
    return _Rows(
        d1=d1,
        d2=d2,
        split=split,
        y_start=y_start,
        depth=depth,
        lean=lean,
        target_mu=target_mu,
        new_block=new_block,
        across=gap_x,  # the streets' widths across: the hidden structure the tests and clusters rely on
        along=gap_x * np.sqrt(1.0 + lean**2)[:, None],  # their widths along the row
        shift=np.abs(lean) * depth / 2.0,
        n_cols=n_cols,
    )


def _edges(rows: _Rows) -> tuple[FloatArray, FloatArray]:
    """Every candidate parcel's left and right edge along its row's middle line, (row, column)."""
    d1, d2, split = rows.d1, rows.d2, rows.split
    d_min = np.where(split, np.minimum(d1, d2), d1)[:, None]
    d_max = np.where(split, np.maximum(d1, d2), d1)[:, None]
    d_mean = np.where(split, 0.5 * (d1 + d2), d1)[:, None]
    lo = np.maximum(_MIN_PARCEL_MU * M2_PER_MU / d_min, 0.3 * d_max)
    hi = _MAX_PARCEL_MU * M2_PER_MU / d_max
    w = np.clip(rows.target_mu * M2_PER_MU / d_mean, lo, hi)
    x1 = np.cumsum(w + rows.along, axis=1)
    # a parcel's left edge is its neighbour's right edge plus the road, so shared edges are bit-identical
    x0 = np.concatenate([np.zeros((len(d1), 1)), x1[:, :-1]], axis=1) + rows.along
    return x0 + rows.shift[:, None], x1 + rows.shift[:, None]


def _layout_park(rng: np.random.Generator, *, width: float, height: float) -> LocalParcels:
    """Cut a park rectangle into block-rows, blocks and parcels; all arrays in build order.

    Each block-row leans (its cross streets and the parcels' side edges run at ``lean`` dx/dy, turning about
    the row's middle): x0/x1 are the parcels' extents along the row's middle line, and the row is shifted and
    narrowed so that its leaning corners stay inside the park. A cross street is widened along the row by
    √(1 + lean²), so that its width across (``gap_before``) is the width drawn.
    """
    rows = _draw_rows(rng, width=width, height=height)
    x0, x1 = _edges(rows)
    r, q = np.nonzero(x1 + rows.shift[:, None] <= width)  # row-major: block-row by block-row, left to right
    if r.size == 0:  # too small a park for even one parcel
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
        return empty_f, empty_f, empty_f, empty_f, empty_i, empty_i, empty_f, empty_f, empty_f
    block_in_row = np.cumsum(rows.new_block, axis=1)[r, q]
    _, col_block = np.unique(r * (rows.n_cols + 1) + block_in_row, return_inverse=True)
    # the road before a block is the gap at its first column (none before a row's first block)
    starts = rows.new_block[r, q]
    block_gap = np.full(col_block.max() + 1, np.nan)
    block_gap[col_block[starts]] = rows.across[r, q][starts]
    col_gap = block_gap[col_block]

    n_sub = 1 + rows.split[r]
    col = np.repeat(np.arange(r.size), n_sub)
    sub = np.arange(col.size) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    rr = r[col]
    y_start, d1, d2 = rows.y_start, rows.d1, rows.d2
    return (
        x0[r, q][col],
        x1[r, q][col],
        y_start[rr] + sub * d1[rr],
        y_start[rr] + d1[rr] + sub * d2[rr],
        col_block[col].astype(np.int64),
        rr.astype(np.int64),
        col_gap[col],
        rows.lean[rr],
        y_start[rr] + rows.depth[rr] / 2.0,
    )


def _fit_in_cell(
    rng: np.random.Generator, *, cell: float, margin: float, style: _Style
) -> tuple[float, float, float]:
    """A rotation and a park rectangle whose rotated, margin-expanded outline fits in a square cell."""
    theta = np.deg2rad(rng.uniform(-style.max_rotation_deg, style.max_rotation_deg))
    aspect = float(np.exp(rng.uniform(-np.log(style.max_aspect), np.log(style.max_aspect))))
    c, s = abs(np.cos(theta)), abs(np.sin(theta))
    room = cell - 2.0 * style.spacing_m - 2.0 * margin * (c + s)
    height = room / max(aspect * c + s, aspect * s + c)
    return float(theta), aspect * height, height


def _county_cells(
    rng: np.random.Generator, inner: shapely.Geometry, core: shapely.Point, cell: float, pull: float
) -> FloatArray:
    """Lower-left corners of square cells wholly inside ``inner``, nearer the county's core first."""
    minx, miny, maxx, maxy = shapely.bounds(inner)
    ox, oy = rng.uniform(0.0, cell, 2)
    xs = np.arange(minx - ox, maxx, cell)
    ys = np.arange(miny - oy, maxy, cell)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    boxes = shapely.box(gx, gy, gx + cell, gy + cell)
    shapely.prepare(inner)
    inside = shapely.contains_properly(inner, boxes)
    gx, gy = gx[inside], gy[inside]
    if gx.size == 0:
        return np.empty((0, 2))
    # parks gather towards the county's core (a weighted random order: Gumbel top-k)
    dist = np.hypot(gx + cell / 2 - core.x, gy + cell / 2 - core.y)
    scale = pull * np.sqrt(shapely.area(inner))
    key = -dist / scale + rng.gumbel(size=gx.size)
    order = np.argsort(-key, kind="stable")
    return np.column_stack([gx[order], gy[order]])


def seats(codes: StrArray, crs: object) -> list[shapely.Point | None]:
    """Each county's seat in the counties' CRS, or None where it is not known."""
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    found: list[shapely.Point | None] = []
    for code in codes:
        lon_lat = _SEATS.get(str(code))
        found.append(None if lon_lat is None else shapely.Point(*to_crs.transform(*lon_lat)))
    return found


def _direction(dx: float, dy: float, radius: float) -> str:
    if np.hypot(dx, dy) < 0.2 * radius:
        return "中"
    angle = np.degrees(np.arctan2(dy, dx))
    if -45 <= angle < 45:
        return "东"
    if 45 <= angle < 135:
        return "北"
    if angle >= 135 or angle < -135:
        return "西"
    return "南"


def _park_stream(
    rng: np.random.Generator,
    *,
    county: int,
    geometry: shapely.Geometry,
    target: int,
    style: _Style,
    seat: shapely.Point | None = None,
) -> Iterator[ParkLayout]:
    """Parks of one county, one per cell, until the county's cells run out."""
    n_parks = max(1 if target < 20 else 2, round(np.sqrt(max(target, 1) / style.parcels_per_park_divisor)))
    park_m2 = max(target, 1) / n_parks * _GROSS_M2_PER_PARCEL * 1.1
    ring = float(np.clip(0.1 * np.sqrt(park_m2), 50.0, 200.0)) * style.ring_factor
    margin = LEVEL1_BUFFER_M + ring
    inner = shapely.buffer(geometry, -_COUNTY_EDGE_M)
    if inner.is_empty:
        return
    core = shapely.point_on_surface(inner)
    pull = 0.3
    if seat is not None and shapely.contains(inner, seat):
        core, pull = seat, _SEAT_PULL
    radius = float(np.sqrt(shapely.area(inner) / np.pi))
    cell = np.sqrt(park_m2) * 1.15 + 2.4 * margin + 2 * style.spacing_m
    cells = _county_cells(rng, inner, core, cell, pull)
    while len(cells) < n_parks and cell > 4 * margin + 400.0:
        cell *= 0.8  # an odd-shaped or small county: smaller parks, more of them
        cells = _county_cells(rng, inner, core, cell, pull)
    for gx, gy in cells:
        theta, width, height = _fit_in_cell(rng, cell=cell, margin=margin, style=style)
        if width < 60.0 or height < 60.0:
            continue
        x0, x1, y0, y1, block, row, gap, lean, row_mid = _layout_park(rng, width=width, height=height)
        if x0.size == 0:
            continue
        cx, cy = gx + cell / 2, gy + cell / 2
        yield ParkLayout(
            county=county,
            cx=float(cx),
            cy=float(cy),
            theta=theta,
            width=width,
            height=height,
            ring_m=ring,
            x0=x0,
            x1=x1,
            y0=y0,
            y1=y1,
            block=block,
            row=row,
            gap_before=gap,
            lean=lean,
            row_mid=row_mid,
            direction=_direction(cx - core.x, cy - core.y, radius),
        )


def _cut(park: ParkLayout, keep: int) -> ParkLayout:
    """The park's first ``keep`` parcels: a park still being filled."""
    if keep >= park.x0.size:
        return park
    s = slice(0, keep)
    return replace(
        park,
        x0=park.x0[s],
        x1=park.x1[s],
        y0=park.y0[s],
        y1=park.y1[s],
        block=park.block[s],
        row=park.row[s],
        gap_before=park.gap_before[s],
        lean=park.lean[s],
        row_mid=park.row_mid[s],
    )


def allocate(n: int, weights: FloatArray) -> IntArray:
    """Split ``n`` into integer shares proportional to ``weights`` (largest remainder)."""
    raw = n * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = n - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


_ROOMY = _Style(
    max_rotation_deg=14.0, ring_factor=1.0, spacing_m=40.0, parcels_per_park_divisor=12.0, max_aspect=1.7
)
_TIGHTER = _Style(
    max_rotation_deg=6.0, ring_factor=0.6, spacing_m=25.0, parcels_per_park_divisor=20.0, max_aspect=1.4
)
# crowded: square, unrotated parks packed close
_CROWDED = _Style(
    max_rotation_deg=0.0, ring_factor=0.3, spacing_m=15.0, parcels_per_park_divisor=40.0, max_aspect=1.1
)


def _style_for(crowding: float) -> _Style:
    """How to pack parks when the parcels' gross area is ``crowding`` times the counties' area."""
    if crowding < 0.12:
        return _ROOMY
    if crowding < 0.25:
        return _TIGHTER
    return _CROWDED


def _take(stream: Iterator[ParkLayout], want: int, parks: list[ParkLayout]) -> int:
    """Append parks of ``stream`` to ``parks`` until they hold ``want`` parcels (the last one cut); how many."""
    got = 0
    for park in stream:
        take = min(park.x0.size, want - got)
        parks.append(_cut(park, take))
        got += take
        if got >= want:
            break
    return got


def place_parks(
    rng: np.random.Generator,
    geometries: list[shapely.Geometry],
    n_parcels: int,
    seats: list[shapely.Point | None],
) -> list[ParkLayout]:
    """Parks in every county holding exactly ``n_parcels`` parcels in all."""
    areas = shapely.area(geometries)
    style = _style_for(n_parcels * _GROSS_M2_PER_PARCEL / areas.sum())
    # larger counties get more parcels, though less than in proportion (mountains hold little industry)
    targets = allocate(n_parcels, areas**0.6 * rng.uniform(0.6, 1.4, len(areas)))
    streams = [
        _park_stream(rng, county=i, geometry=g, target=int(t), style=style, seat=seat)
        for i, (g, t, seat) in enumerate(zip(geometries, targets, seats, strict=True))
    ]
    parks: list[ParkLayout] = []
    deficit = 0
    for stream, target in zip(streams, targets, strict=True):
        if target == 0:  # a stream is not started when its county gets nothing: it would draw numbers
            continue
        deficit += int(target) - _take(stream, int(target), parks)
    # counties that ran out of room pass their share on to counties with room left
    for stream in streams:
        if deficit <= 0:
            break
        deficit -= _take(stream, deficit, parks)
    if deficit > 0:
        made = n_parcels - deficit
        raise ValueError(
            f"the counties are too small for {n_parcels} parcels of 5–150 亩 in parks: only {made} fit; "
            "ask for fewer parcels or give larger counties"
        )
    return parks
