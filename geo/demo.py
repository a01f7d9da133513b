"""A deterministic synthetic industrial city inside real county boundaries: "the demo city".

``generate_city`` lays out industrial parks (园区) inside the given counties, cuts each park into street
blocks separated by roads of two width classes (10–14 m and 20–40 m, so that a 15 m gap tolerance joins
some neighbouring parcels and not others), subdivides the blocks into parcels (宗地) of 5–150 亩, and gives
every parcel the canonical attributes of ``CLI.md``: right holder with a 统一社会信用代码, land-use code,
supply-contract dates and commitments, and yearly performance. It also draws 工业区块线 level-1 and level-2
lines around the parks and yearly 亩均论英雄 ratings for the enterprises.

The generator knows nothing of policy rules. It only makes sure that, relative to ``as_of``, the data holds
every situation a policy engine looks for: idle land, late starts and completions, land built but not in
production, production below the contract, under-used land, clusters of low-efficiency parcels across
narrow roads in the older parks, a few parcels with missing dates, and a healthy majority (about 60 %).

Everything is vectorised with numpy and shapely 2; the only Python loops run over counties and parks.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> counties = gpd.GeoDataFrame(
...     {"code": ["330302", "330304"], "name": ["鹿城区", "瓯海区"]},
...     geometry=[box(500_000, 3_100_000, 520_000, 3_120_000), box(520_000, 3_100_000, 540_000, 3_120_000)],
...     crs="EPSG:4549",
... )
>>> city = generate_city(counties, n_parcels=200, seed=7)
>>> len(city.parcels), city.parcels.crs == counties.crs
(200, True)
>>> sorted(city.parcels["county_code"].unique())
['330302', '330304']
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo.area import M2_PER_MU, assert_projected
from geo.fields import PARCEL_FIELDS

__all__ = ["DemoCity", "generate_city", "generate_region"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# --- shapes -------------------------------------------------------------------------------------------
_MIN_PARCEL_MU = 5.2  # a little inside the 5–150 亩 promise, so rounding can never break it
_MAX_PARCEL_MU = 148.0
_GROSS_M2_PER_PARCEL = 24_000.0  # mean parcel (~30 亩) plus its share of roads, inside a park
_NARROW_ROAD_M = (10.0, 14.0)
_WIDE_ROAD_M = (20.0, 40.0)
_LEVEL1_BUFFER_M = 20.0
_MAX_LEAN = 0.36  # how far a block-row's cross streets lean (dx/dy, ≈ 20°): estates are not square grids
_COUNTY_EDGE_M = 50.0

# --- people and land use ------------------------------------------------------------------------------
_CITY = "温州市"
_TRADE_CHARS = list(
    "宏达鑫泰华盛恒兴瑞丰源通昌隆嘉和永新正东海金信安德利成富顺力远明光天宇星振伟豪博创精诚越康荣威邦凯联锦晨辉晟旺益鸿腾佳"
)
# 国土空间调查、规划、用途管制用地用海分类指南: 100101/100102/100103 一/二/三类工业, 1101 仓储, 0701 城镇住宅, 0901 商业
_LAND_USES = np.array(["100101", "100102", "100103", "1101", "0701", "0901"])
_LAND_USE_P = np.array([0.40, 0.38, 0.07, 0.10, 0.02, 0.03])
_INDUSTRIES = (
    ("电子", "科技", "智能装备", "眼镜", "服饰", "光电", "新材料", "医疗器械", "制笔", "工艺品"),
    (
        "机械",
        "阀门",
        "泵业",
        "电气",
        "汽车部件",
        "鞋业",
        "五金",
        "塑业",
        "包装",
        "印刷",
        "模具",
        "锁业",
        "紧固件",
    ),
    ("化工", "电镀", "合成革", "印染", "铸造"),
    ("物流", "仓储", "供应链管理"),
    ("置业", "房地产开发"),
    ("商贸", "商业管理", "酒店管理"),
)
_INDUSTRY_COUNT = np.array([len(i) for i in _INDUSTRIES])
_INDUSTRY_TABLE = np.array(
    [list(i) + [""] * (max(_INDUSTRY_COUNT) - len(i)) for i in _INDUSTRIES], dtype=object
)
_FORMS = np.array(["有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"])
_PARK_KINDS = ("经济开发区", "高新技术产业园区", "工业园区", "小微企业园", "产业集聚区", "工业功能区")
_CN_DIGITS = "零一二三四五六七八九"
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

# GB 32100-2015 (统一社会信用代码) and GB 11714 (组织机构代码) check characters
_USCC_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])

# --- situations ---------------------------------------------------------------------------------------
_HEALTHY, _IDLE, _STALLED, _LATE_START, _LATE_COMPLETION, _NOT_OPERATING, _BELOW_TARGET, _UNDERUSED = range(8)
# share of all parcels wanted in each non-healthy situation (before the old-park clusters are added)
_SITUATION_SHARE = {
    _IDLE: 0.045,
    _STALLED: 0.015,
    _LATE_START: 0.055,
    _LATE_COMPLETION: 0.05,
    _NOT_OPERATING: 0.04,
    _BELOW_TARGET: 0.075,
    _UNDERUSED: 0.055,
}
_MISSING_DATES_SHARE = 0.015
_DAY = np.timedelta64(1, "D")
_NAT = np.datetime64("NaT", "D")

_PARCEL_COLUMNS = list(PARCEL_FIELDS)  # the canonical parcel fields of CLI.md, in their order


@dataclass(frozen=True)
class DemoCity:
    """The demo city: parcels, block lines, parks and enterprise ratings, all in the counties' CRS.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        One row per parcel (宗地) with the canonical parcel fields of ``CLI.md`` and a Polygon geometry.
        Dates are ``datetime.date`` or ``None`` (not happened, or not recorded); money in 万元, intensities
        in 万元/亩, areas in m².
    level1 : geopandas.GeoDataFrame
        工业区块线一级线, one row per park under level 1: ``county_code``, ``name``, geometry.
    level2 : geopandas.GeoDataFrame
        工业区块线二级线: the parks kept at level 2 and rings of industrial land around some level-1
        parks; same columns. Level 1 and level 2 never overlap.
    parks : geopandas.GeoDataFrame
        Industrial parks (园区): ``park_id``, ``name``, ``county_code``, geometry (the rectangle that holds
        the park's blocks and inner roads).
    ratings : pandas.DataFrame
        亩均论英雄 grades: ``holder_id``, ``year`` (int), ``grade`` (``"A"``–``"D"``), for the last three
        years before ``as_of``, for the enterprises in production in that year.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> county = gpd.GeoDataFrame({"code": ["330303"], "name": ["龙湾区"]},
    ...                           geometry=[box(0, 0, 15_000, 15_000)], crs="EPSG:4549")
    >>> city = generate_city(county, n_parcels=100)
    >>> list(city.ratings.columns)
    ['holder_id', 'year', 'grade']
    """

    parcels: gpd.GeoDataFrame
    level1: gpd.GeoDataFrame
    level2: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    ratings: pd.DataFrame


# ======================================================================================================
# input checks
# ======================================================================================================


def _check_counties(counties: gpd.GeoDataFrame) -> None:
    if not isinstance(counties, gpd.GeoDataFrame):
        raise ValueError("counties must be a GeoDataFrame with columns code, name and a geometry")
    assert_projected(counties, what="counties")
    missing = [c for c in ("code", "name") if c not in counties.columns]
    if missing:
        raise ValueError(f"counties lacks the column(s) {', '.join(missing)}")
    if len(counties) == 0:
        raise ValueError("counties is empty")
    codes = counties["code"].astype(str)
    bad = ~codes.str.fullmatch(r"\d{6}")
    if bad.any():
        raise ValueError(f"county codes must be 6 digits; rows {list(counties.index[bad])[:10]} are not")
    if codes.duplicated().any():
        raise ValueError(f"county codes repeat: {sorted(set(codes[codes.duplicated()]))}")
    geoms = counties.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise ValueError(f"counties rows {list(counties.index[empty])[:10]} have no geometry")
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, (3, 6)).all():  # Polygon, MultiPolygon
        raise ValueError("county geometries must be Polygons or MultiPolygons")


# ======================================================================================================
# park layout: blocks and parcels in a park's own frame
# ======================================================================================================


@dataclass
class _Style:
    """How tightly parks are packed: rotation, ring width and spacing (tighter when space is short)."""

    max_rotation_deg: float
    ring_factor: float
    spacing_m: float
    parcels_per_park_divisor: float
    max_aspect: float


@dataclass
class _ParkLayout:
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


def _roads(rng: np.random.Generator, shape: int | tuple[int, ...], narrow_share: float) -> FloatArray:
    narrow = rng.random(shape) < narrow_share
    return np.where(narrow, rng.uniform(*_NARROW_ROAD_M, shape), rng.uniform(*_WIDE_ROAD_M, shape))


def _layout_park(
    rng: np.random.Generator, *, width: float, height: float
) -> tuple[
    FloatArray, FloatArray, FloatArray, FloatArray, IntArray, IntArray, FloatArray, FloatArray, FloatArray
]:
    """Cut a park rectangle into block-rows, blocks and parcels; all arrays in build order.

    Each block-row leans (its cross streets and the parcels' side edges run at ``lean`` dx/dy, turning about
    the row's middle): x0/x1 are the parcels' extents along the row's middle line, and the row is shifted and
    narrowed so that its leaning corners stay inside the park. A cross street is widened along the row by
    √(1 + lean²), so that its width across (``gap_before``) is the width drawn.
    """
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
    across = gap_x  # the streets' widths across: the hidden structure the tests and clusters rely on
    gap_x = gap_x * np.sqrt(1.0 + lean**2)[:, None]  # their widths along the row
    shift = np.abs(lean) * depth / 2.0  # a leaning row's corners reach this far beyond its middle line

    d_min = np.where(split, np.minimum(d1, d2), d1)[:, None]
    d_max = np.where(split, np.maximum(d1, d2), d1)[:, None]
    d_mean = np.where(split, 0.5 * (d1 + d2), d1)[:, None]
    lo = np.maximum(_MIN_PARCEL_MU * M2_PER_MU / d_min, 0.3 * d_max)
    hi = _MAX_PARCEL_MU * M2_PER_MU / d_max
    w = np.clip(target_mu * M2_PER_MU / d_mean, lo, hi)
    x1 = np.cumsum(w + gap_x, axis=1)
    # a parcel's left edge is its neighbour's right edge plus the road, so shared edges are bit-identical
    x0 = np.concatenate([np.zeros((len(rows), 1)), x1[:, :-1]], axis=1) + gap_x
    x0, x1 = x0 + shift[:, None], x1 + shift[:, None]
    r, q = np.nonzero(x1 + shift[:, None] <= width)  # row-major: block-row by block-row, left to right
    if r.size == 0:  # too small a park for even one parcel
        empty_f, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
        return empty_f, empty_f, empty_f, empty_f, empty_i, empty_i, empty_f, empty_f, empty_f
    block_in_row = np.cumsum(new_block, axis=1)[r, q]
    _, col_block = np.unique(r * (n_cols + 1) + block_in_row, return_inverse=True)
    # the road before a block is the gap at its first column (none before a row's first block)
    starts = new_block[r, q]
    block_gap = np.full(col_block.max() + 1, np.nan)
    block_gap[col_block[starts]] = across[r, q][starts]
    col_gap = block_gap[col_block]

    n_sub = 1 + split[r]
    col = np.repeat(np.arange(r.size), n_sub)
    sub = np.arange(col.size) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    rr = r[col]
    py0 = y_start[rr] + sub * d1[rr]
    py1 = y_start[rr] + d1[rr] + sub * d2[rr]
    return (
        x0[r, q][col],
        x1[r, q][col],
        py0,
        py1,
        col_block[col].astype(np.int64),
        rr.astype(np.int64),
        col_gap[col],
        lean[rr],
        y_start[rr] + depth[rr] / 2.0,
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
    rng: np.random.Generator, inner: shapely.Geometry, core: shapely.Geometry, cell: float, pull: float
) -> FloatArray:
    """Lower-left corners of square cells wholly inside ``inner``, nearer the county's core first."""
    minx, miny, maxx, maxy = inner.bounds
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
    scale = pull * np.sqrt(inner.area)
    key = -dist / scale + rng.gumbel(size=gx.size)
    order = np.argsort(-key, kind="stable")
    return np.column_stack([gx[order], gy[order]])


def _seats(codes: npt.NDArray[np.str_], crs: object) -> list[shapely.Geometry | None]:
    """Each county's seat in the counties' CRS, or None where it is not known."""
    from pyproj import Transformer

    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    seats: list[shapely.Geometry | None] = []
    for code in codes:
        lon_lat = _SEATS.get(str(code))
        seats.append(None if lon_lat is None else shapely.Point(*to_crs.transform(*lon_lat)))
    return seats


def _outlines(
    local: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    row: IntArray,
    park_of: IntArray,
    place: dict[str, FloatArray],
    margin_m: float,
    lean: tuple[FloatArray, FloatArray],
) -> npt.NDArray[np.object_]:
    """Each park's outline: its parcels grown by ``margin_m`` (closing the roads between them), holes filled.

    ``local`` holds the parcels' extents (x0, x1, y0, y1) in their park's frame and ``place`` the parks'
    centres and rotations. The parcels of one block-row side by side (one run per y-extent: the front and the
    back of a row of back-to-back parcels) make one parallelogram (``lean``: the rows' lean and middle line,
    per parcel): the cross streets between its blocks are at most ``2 * margin_m`` wide across (40 m), so
    their grown blocks would meet anyway, and one shape per run is grown instead of one per block. The runs,
    grown with bevelled corners (no corner farther than ``margin_m`` from a parcel), are merged park by park.
    The outline follows the park's built edge.
    """
    x0, x1, y0, y1 = local
    runs = pd.DataFrame(
        {"park": park_of, "row": row, "y0": y0, "y1": y1, "x0": x0, "x1": x1, "lean": lean[0], "mid": lean[1]}
    )
    runs = runs.groupby(["park", "row", "y0", "y1"], sort=True).agg(
        x0=("x0", "min"), x1=("x1", "max"), lean=("lean", "first"), mid=("mid", "first")
    )
    runs = runs.reset_index()
    park_of = runs["park"].to_numpy()
    at = {k: v[park_of] for k, v in place.items()}
    shapes = _rectangles(
        runs["x0"].to_numpy(),
        runs["x1"].to_numpy(),
        runs["y0"].to_numpy(),
        runs["y1"].to_numpy(),
        lean=runs["lean"].to_numpy(),
        mid=runs["mid"].to_numpy(),
        **at,
    )
    n_parks = len(place["cx"])
    order = np.arange(park_of.size)
    cuts = np.searchsorted(park_of[order], np.arange(1, n_parks))
    out = np.empty(n_parks, dtype=object)
    for i, members in enumerate(np.split(order, cuts)):
        # one buffer of the park's runs together: the same outline as the union of each run's buffer, in half
        # the time (GEOS merges the offset curves once)
        union = shapely.buffer(shapely.multipolygons(shapes[members]), margin_m, join_style="bevel")
        parts = shapely.get_parts(union)
        filled = shapely.polygons(shapely.get_exterior_ring(parts))
        out[i] = filled[0] if filled.size == 1 else shapely.union_all(filled)
    return out


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
    seat: shapely.Geometry | None = None,
) -> Iterator[_ParkLayout]:
    """Parks of one county, one per cell, until the county's cells run out."""
    n_parks = max(1 if target < 20 else 2, round(np.sqrt(max(target, 1) / style.parcels_per_park_divisor)))
    park_m2 = max(target, 1) / n_parks * _GROSS_M2_PER_PARCEL * 1.1
    ring = float(np.clip(0.1 * np.sqrt(park_m2), 50.0, 200.0)) * style.ring_factor
    margin = _LEVEL1_BUFFER_M + ring
    inner = shapely.buffer(geometry, -_COUNTY_EDGE_M)
    if inner.is_empty:
        return
    core = shapely.point_on_surface(inner)
    pull = 0.3
    if seat is not None and shapely.contains(inner, seat):
        core, pull = seat, _SEAT_PULL
    radius = float(np.sqrt(inner.area / np.pi))
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
        yield _ParkLayout(
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


def _cut(park: _ParkLayout, keep: int) -> _ParkLayout:
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


def _allocate(n: int, weights: FloatArray) -> IntArray:
    """Split ``n`` into integer shares proportional to ``weights`` (largest remainder)."""
    raw = n * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = n - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def _place_parks(
    rng: np.random.Generator,
    geometries: list[shapely.Geometry],
    n_parcels: int,
    seats: list[shapely.Geometry | None],
) -> list[_ParkLayout]:
    """Parks in every county holding exactly ``n_parcels`` parcels in all."""
    areas = np.array([g.area for g in geometries])
    crowding = n_parcels * _GROSS_M2_PER_PARCEL / areas.sum()
    if crowding < 0.12:
        style = _Style(
            max_rotation_deg=14.0,
            ring_factor=1.0,
            spacing_m=40.0,
            parcels_per_park_divisor=12.0,
            max_aspect=1.7,
        )
    elif crowding < 0.25:
        style = _Style(
            max_rotation_deg=6.0,
            ring_factor=0.6,
            spacing_m=25.0,
            parcels_per_park_divisor=20.0,
            max_aspect=1.4,
        )
    else:  # crowded: square, unrotated parks packed close
        style = _Style(
            max_rotation_deg=0.0,
            ring_factor=0.3,
            spacing_m=15.0,
            parcels_per_park_divisor=40.0,
            max_aspect=1.1,
        )
    # larger counties get more parcels, though less than in proportion (mountains hold little industry)
    targets = _allocate(n_parcels, areas**0.6 * rng.uniform(0.6, 1.4, len(areas)))
    streams = [
        _park_stream(rng, county=i, geometry=g, target=int(t), style=style, seat=seat)
        for i, (g, t, seat) in enumerate(zip(geometries, targets, seats, strict=True))
    ]
    parks: list[_ParkLayout] = []
    deficit = 0
    for i, stream in enumerate(streams):
        got = 0
        if targets[i] == 0:
            continue
        for park in stream:
            take = min(park.x0.size, int(targets[i]) - got)
            parks.append(_cut(park, take))
            got += take
            if got >= targets[i]:
                break
        deficit += int(targets[i]) - got
    # counties that ran out of room pass their share on to counties with room left
    for stream in streams:
        if deficit <= 0:
            break
        for park in stream:
            take = min(park.x0.size, deficit)
            parks.append(_cut(park, take))
            deficit -= take
            if deficit <= 0:
                break
    if deficit > 0:
        made = n_parcels - deficit
        raise ValueError(
            f"the counties are too small for {n_parcels} parcels of 5–150 亩 in parks: only {made} fit; "
            "ask for fewer parcels or give larger counties"
        )
    return parks


# ======================================================================================================
# geometry helpers
# ======================================================================================================


def _rotate(
    x: FloatArray, y: FloatArray, *, cx: FloatArray, cy: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    c, s = np.cos(theta), np.sin(theta)
    return cx + x * c - y * s, cy + x * s + y * c


def _rectangles(
    x0: FloatArray,
    x1: FloatArray,
    y0: FloatArray,
    y1: FloatArray,
    *,
    cx: FloatArray,
    cy: FloatArray,
    theta: FloatArray,
    lean: FloatArray | None = None,
    mid: FloatArray | None = None,
) -> npt.NDArray[np.object_]:
    """Rotated rectangles (counter-clockwise) from local extents, by array; with ``lean`` and ``mid``,
    parallelograms whose side edges lean by ``lean`` (dx/dy) about the line y = ``mid`` (same area).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    if lean is not None and mid is not None:
        xs = xs + (ys - mid[:, None]) * lean[:, None]
    wx, wy = _rotate(xs, ys, cx=cx[:, None], cy=cy[:, None], theta=theta[:, None])
    return shapely.polygons(np.stack([wx, wy], axis=2))


# ======================================================================================================
# people: names and 统一社会信用代码
# ======================================================================================================


def _short_name(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "区县市" else name


def _cn_number(k: int) -> str:
    if k < 10:
        return _CN_DIGITS[k]
    tens, ones = divmod(k, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def _uscc(county_codes: npt.NDArray[np.str_], serial: IntArray, offset: IntArray) -> npt.NDArray[np.str_]:
    """统一社会信用代码: 9 (工商) 1 (企业) + 行政区划码 + 组织机构代码 (GB 11714) + check (GB 32100)."""
    n = serial.size
    if n == 0:
        return np.empty(0, dtype="U18")
    body = (offset + serial * 7_654_321) % 100_000_000  # a permutation of the 8-digit bodies: no repeats
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    org = 11 - (digits @ _ORG_WEIGHTS) % 11
    org_value = np.where(org == 11, 0, np.where(org == 10, 28, org))  # 28 is "X" in the USCC alphabet
    region = np.char.encode(county_codes.astype("U6"), "ascii").view("S1").reshape(n, 6).astype(np.int64)
    values = np.column_stack([np.full(n, 9), np.full(n, 1), region, digits, org_value])
    check = (31 - (values @ _USCC_WEIGHTS) % 31) % 31
    chars = _USCC_ALPHABET[np.column_stack([values, check])]
    return np.ascontiguousarray(chars).view("U18").ravel()


def _holder_names(
    rng: np.random.Generator,
    *,
    prefix: npt.NDArray[np.str_],
    category: IntArray,
) -> npt.NDArray[np.str_]:
    """Unique enterprise names like 温州市瓯海宏达机械有限公司, one per holder."""
    n = prefix.size
    names = np.empty(n, dtype=object)
    todo = np.arange(n)
    n_chars = len(_TRADE_CHARS)
    chars = np.array(_TRADE_CHARS)
    for attempt in range(40):
        k = todo.size
        a = rng.integers(0, n_chars, k)
        b = (a + rng.integers(1, n_chars, k)) % n_chars
        trade = np.char.add(chars[a], chars[b])
        cat = category[todo]
        industry = _INDUSTRY_TABLE[cat, rng.integers(0, 60, k) % _INDUSTRY_COUNT[cat]]
        form = _FORMS[rng.integers(0, len(_FORMS), k)]
        if attempt >= 20:  # a crowded name space: add a branch number, still a plausible name
            form = np.char.add(np.char.add("第", np.array([_cn_number(int(i) % 99 + 1) for i in todo])), "厂")
        names[todo] = prefix[todo].astype(object) + trade.astype(object) + industry + form.astype(object)
        dup = pd.Series(names).duplicated(keep="first").to_numpy()
        todo = np.flatnonzero(dup)
        if todo.size == 0:
            break
    if todo.size:
        names[todo] = names[todo] + np.array([f"（{i}）" for i in todo], dtype=object)
    return names.astype(str)


# ======================================================================================================
# the city
# ======================================================================================================


_DAYS_PER_MONTH = 365.25 / 12


def _contract_terms(counties: gpd.GeoDataFrame) -> dict[str, IntArray]:
    """Each county's contract terms, in days from delivery and years: the optional columns ``start_months``
    (default 3, WZ §6), ``completion_months`` (from delivery; default 0: a build period by the planned
    investment after the start, WZ §6) and ``major_lease_years`` (default 50). A city with other rules (YW §5
    for 义乌: 12, 36, 40) passes its own.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    n = len(counties)

    def column(name: str, default: float) -> FloatArray:
        if name not in counties.columns:
            return np.full(n, default)
        return pd.to_numeric(counties[name], errors="coerce").fillna(default).to_numpy(dtype=float)

    return {
        "start_days": np.round(column("start_months", 3) * _DAYS_PER_MONTH).astype(np.int64),
        "completion_days": np.round(column("completion_months", 0) * _DAYS_PER_MONTH).astype(np.int64),
        "major_lease_years": column("major_lease_years", 50).astype(np.int64),
    }


def _days(d: datetime.date) -> np.datetime64:
    return np.datetime64(d, "D")


def _choose(rng: np.random.Generator, eligible: BoolArray, share: float, n_total: int) -> BoolArray:
    """Pick about ``share * n_total`` parcels among ``eligible`` (all of them when fewer are eligible)."""
    count = int(eligible.sum())
    if count == 0:
        return eligible.copy()
    p = min(1.0, share * n_total / count)
    return eligible & (rng.random(eligible.size) < p)


def generate_city(  # noqa: C901 issue 14: left by tools/house_move.py lint, fix and drop
    counties: gpd.GeoDataFrame,
    *,
    n_parcels: int = 600,
    seed: int = 2020,
    as_of: datetime.date = datetime.date(2026, 11, 1),
) -> DemoCity:
    """Generate a believable synthetic industrial city inside ``counties``.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        The counties (县、市、区): columns ``code`` (6-digit 行政区划代码) and ``name``, Polygon or
        MultiPolygon geometries, in a projected CRS in metres (e.g. EPSG:4549 for Wenzhou).
    n_parcels : int, default 600
        How many parcels to make (100 to 200,000 are the tested range); the result holds exactly this many.
    seed : int, default 2020
        Random seed: the same seed, counties and options give identical frames.
    as_of : datetime.date, default 2026-11-01
        The day the data describes: no actual date lies after it, and the supply years, deadlines and
        ratings are placed relative to it (older parks 21–11 years before, newer ones the last 8 years).

    Returns
    -------
    DemoCity
        Parcels, level-1 and level-2 block lines, parks and ratings, in the CRS of ``counties``.

    Raises
    ------
    ValueError
        When ``counties`` has no CRS or a geographic one, lacks ``code``/``name``, or is too small to hold
        ``n_parcels`` parcels; when ``n_parcels`` is below 1.

    Examples
    --------
    >>> import datetime
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> county = gpd.GeoDataFrame({"code": ["330304"], "name": ["瓯海区"]},
    ...                           geometry=[box(500_000, 3_100_000, 520_000, 3_120_000)], crs="EPSG:4549")
    >>> city = generate_city(county, n_parcels=150, seed=1, as_of=datetime.date(2026, 11, 1))
    >>> len(city.parcels)
    150
    >>> bool(city.parcels.within(county.geometry.iloc[0]).all())
    True
    >>> city.parcels[["parcel_no", "holder_id"]].map(len).max().tolist()
    [16, 18]
    """
    _check_counties(counties)
    if isinstance(n_parcels, bool) or not isinstance(n_parcels, (int, np.integer)) or n_parcels < 1:
        raise ValueError(f"n_parcels must be a positive integer, not {n_parcels!r}")
    if not isinstance(as_of, datetime.date):
        raise ValueError(f"as_of must be a datetime.date, not {as_of!r}")
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    n_parcels = int(n_parcels)
    rng = np.random.default_rng(seed)
    crs = counties.crs
    codes = counties["code"].astype(str).to_numpy()
    names = counties["name"].astype(str).to_numpy()
    geometries = [shapely.make_valid(g) if not g.is_valid else g for g in counties.geometry.to_numpy()]

    parks = _place_parks(rng, geometries, n_parcels, _seats(codes, crs))
    n_parks = len(parks)
    sizes = np.array([p.x0.size for p in parks])
    park_of = np.repeat(np.arange(n_parks), sizes)
    park_county = np.array([p.county for p in parks])
    county_of = park_county[park_of]
    n = int(sizes.sum())

    # ---------------------------------------------------------------- geometry
    x0 = np.concatenate([p.x0 - p.width / 2 for p in parks])
    x1 = np.concatenate([p.x1 - p.width / 2 for p in parks])
    y0 = np.concatenate([p.y0 - p.height / 2 for p in parks])
    y1 = np.concatenate([p.y1 - p.height / 2 for p in parks])
    pcx = np.array([p.cx for p in parks])
    pcy = np.array([p.cy for p in parks])
    ptheta = np.array([p.theta for p in parks])
    lean = np.concatenate([p.lean for p in parks])
    row_mid = np.concatenate([p.row_mid - p.height / 2 for p in parks])
    geometry = _rectangles(
        x0, x1, y0, y1, cx=pcx[park_of], cy=pcy[park_of], theta=ptheta[park_of], lean=lean, mid=row_mid
    )
    area_m2 = (x1 - x0) * (y1 - y0)
    area_mu = area_m2 / M2_PER_MU

    block_offset = np.concatenate([[0], np.cumsum([p.block.max() + 1 for p in parks])[:-1]])
    block = np.concatenate([p.block for p in parks]) + np.repeat(block_offset, sizes)
    gap_before = np.concatenate([p.gap_before for p in parks])
    row = np.concatenate([p.row for p in parks])

    # ---------------------------------------------------------------- parks: era, level, names
    year = as_of.year
    old_park = rng.random(n_parks) < 0.5
    if n_parks > 1 and old_park.all():
        old_park[-1] = False
    if n_parks > 1 and not old_park.any():
        old_park[0] = True
    level1_park = rng.random(n_parks) < 0.72
    for c in np.unique(park_county):  # every county keeps at least one level-1 park
        mine = np.flatnonzero(park_county == c)
        if not level1_park[mine].any():
            level1_park[mine[0]] = True
    ring_park = level1_park & (rng.random(n_parks) < 0.4)
    if not ring_park.any():
        ring_park[np.flatnonzero(level1_park)[0]] = True

    park_names: list[str] = []
    seen: dict[str, int] = {}
    kinds = rng.integers(0, len(_PARK_KINDS), n_parks)
    for i, p in enumerate(parks):
        base = f"{_short_name(names[p.county])}{_PARK_KINDS[kinds[i]]}{p.direction}片"
        k = seen.get(base, 0) + 1
        seen[base] = k
        park_names.append(base if k == 1 else f"{base}{_cn_number(k)}期")
    park_serial = np.zeros(n_parks, dtype=np.int64)
    for c in np.unique(park_county):
        mine = np.flatnonzero(park_county == c)
        park_serial[mine] = np.arange(1, mine.size + 1)
    park_ids = [f"{codes[c]}-P{s:03d}" for c, s in zip(park_county, park_serial, strict=True)]

    # ---------------------------------------------------------------- supply dates (contracts)
    as_of_d = _days(as_of)
    old_start = _days(datetime.date(year - 21, 1, 1))
    old_end = _days(datetime.date(year - 11, 12, 31))
    new_start = _days(datetime.date(year - 8, 1, 1))
    new_end = min(as_of_d - 75, _days(datetime.date(year - 1, 12, 31)))
    # a park fills up over the years: earlier blocks first, with some noise
    rank = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    frac = rank / np.repeat(np.maximum(sizes - 1, 1), sizes)
    lo = np.where(old_park[park_of], old_start, new_start).astype("datetime64[D]")
    hi = np.where(old_park[park_of], old_end, new_end).astype("datetime64[D]")
    span = (hi - lo) / _DAY
    park_begin = rng.uniform(0.0, 0.45, n_parks)[park_of]
    park_span = rng.uniform(0.3, 0.55, n_parks)[park_of]
    pos = np.clip(park_begin + frac * park_span + rng.normal(0.0, 0.08, n), 0.0, 1.0)
    signed = lo + np.round(pos * span).astype(np.int64) * _DAY
    supply_year = signed.astype("datetime64[Y]").astype(np.int64) + 1970
    delivered = signed + rng.integers(15, 120, n) * _DAY

    # ---------------------------------------------------------------- holders and land use
    same_block_as_prev = np.concatenate([[False], block[1:] == block[:-1]])
    new_holder = ~same_block_as_prev | (rng.random(n) >= 0.2)
    holder_of = np.cumsum(new_holder) - 1
    n_holders = int(holder_of[-1]) + 1 if n else 0
    holder_first = np.flatnonzero(new_holder)
    holder_county = county_of[holder_first]
    holder_category = rng.choice(len(_LAND_USES), size=n_holders, p=_LAND_USE_P)
    category = holder_category[holder_of]
    land_use = _LAND_USES[category]
    industrial = category <= 3  # 1001xx and 1101 (仓储) carry industrial-land contracts
    city_names = (
        counties["city_name"].astype(str).to_numpy()
        if "city_name" in counties.columns
        else np.full(len(names), _CITY)
    )
    prefix = np.array(
        [
            names[c] if names[c].endswith("市") else city_names[c] + _short_name(names[c])
            for c in range(len(names))
        ]
    )
    holder_names = _holder_names(rng, prefix=prefix[holder_county], category=holder_category)
    serial_in_county = np.zeros(n_holders, dtype=np.int64)
    for c in np.unique(holder_county):
        mine = np.flatnonzero(holder_county == c)
        serial_in_county[mine] = np.arange(mine.size)
    county_offset = rng.integers(0, 100_000_000, len(codes))
    holder_ids = _uscc(codes[holder_county], serial_in_county, county_offset[holder_county])

    # ---------------------------------------------------------------- contracts
    new_era = ~old_park[park_of]
    c_tax = np.where(new_era, rng.uniform(15.0, 60.0, n), rng.uniform(15.0, 40.0, n)).round(1)
    c_output = (c_tax * rng.uniform(10.0, 22.0, n)).round(1)
    c_invest = np.where(new_era, rng.uniform(250.0, 600.0, n), rng.uniform(150.0, 350.0, n)).round(1)
    planned = (c_invest * area_mu).round(0)
    # major projects (重大项目): 10 亿 and 20 亿 and more, on the larger new parcels
    candidates = np.flatnonzero(industrial & new_era & (area_mu >= 40.0))
    n_major = min(candidates.size, max(2, round(0.015 * n)))
    major = np.zeros(n, dtype=bool)
    if n_major:
        picked = np.sort(rng.choice(candidates, size=n_major, replace=False))
        major[picked] = True
        big = np.arange(n_major) % 2 == 0
        planned[picked] = np.where(
            big, rng.uniform(200_000.0, 320_000.0, n_major), rng.uniform(100_000.0, 190_000.0, n_major)
        ).round(0)
        c_invest[picked] = (planned[picked] / area_mu[picked]).round(1)
        c_tax[picked] = rng.uniform(40.0, 80.0, n_major).round(1)
    terms = _contract_terms(counties)
    lease = np.where(major, np.where(rng.random(n) < 0.5, terms["major_lease_years"][county_of], 30), 20)
    lease = np.where(~new_era & ~major & (rng.random(n) < 0.12), 50, lease).astype(np.int64)
    min_far = np.where(category == 3, rng.uniform(1.0, 1.5, n), rng.uniform(1.0, 2.0, n)).round(1)

    build_days = np.where(planned > 200_000, 1095, np.where(planned >= 100_000, 913, 730))
    start_days = terms["start_days"][county_of]
    agreed_start = delivered + start_days * _DAY  # WZ §6: start within 3 months of delivery (YW §5: 1 year)
    # YW §5: completion within 3 years of delivery, whatever the investment; WZ §6: a build period after the start
    completion_days = terms["completion_days"][county_of]
    build_days = np.where(completion_days > 0, completion_days - start_days, build_days)
    agreed_completion = agreed_start + build_days * _DAY
    agreed_operation = agreed_completion + 182 * _DAY
    agreed_full = agreed_operation + rng.choice([365, 730, 730, 1095], n) * _DAY

    # ---------------------------------------------------------------- situations
    situation = np.full(n, _HEALTHY)
    free = industrial.copy()

    def assign(code: int, eligible: BoolArray) -> None:
        nonlocal free
        pick = _choose(rng, eligible & free, _SITUATION_SHARE[code], n)
        situation[pick] = code
        free &= ~pick

    # old parks: clusters of low-efficiency parcels across narrow roads (WZ §12 candidates)
    cluster = np.zeros(n, dtype=bool)
    if n:
        n_blocks = int(block.max()) + 1
        block_mu = np.bincount(block, weights=area_mu, minlength=n_blocks)
        block_park = np.zeros(n_blocks, dtype=np.int64)
        block_park[block] = park_of
        block_row = np.zeros(n_blocks, dtype=np.int64)
        block_row[block] = row
        block_gap = np.full(n_blocks, np.nan)
        block_gap[block] = gap_before
        b = np.arange(n_blocks - 1)
        pairs = b[
            (block_park[b] == block_park[b + 1])
            & (block_row[b] == block_row[b + 1])
            & (block_gap[b + 1] < 15.0)
            & old_park[block_park[b]]
            & (block_mu[b] + block_mu[b + 1] >= 65.0)
        ]
        n_old = int((~new_era).sum())
        n_clusters = min(pairs.size, max(1, round(0.07 * n_old / 7.0)))
        if n_clusters:
            chosen = rng.choice(pairs, size=n_clusters, replace=False)
            in_cluster = np.zeros(n_blocks, dtype=bool)
            in_cluster[chosen] = True
            in_cluster[chosen + 1] = True
            cluster = in_cluster[block] & industrial
            situation[cluster] = np.where(rng.random(int(cluster.sum())) < 0.5, _UNDERUSED, _BELOW_TARGET)
            free &= ~cluster

    before = as_of_d
    assign(_IDLE, new_era & (agreed_start <= before - 400 * _DAY))
    assign(_STALLED, new_era & (agreed_start <= before - 600 * _DAY))
    assign(_LATE_START, agreed_start <= before - 150 * _DAY)
    assign(_LATE_COMPLETION, agreed_completion <= before - 120 * _DAY)
    assign(_NOT_OPERATING, agreed_operation <= before - 90 * _DAY)
    assign(_BELOW_TARGET, agreed_full <= before - 60 * _DAY)
    assign(_UNDERUSED, agreed_operation <= before - 60 * _DAY)

    # ---------------------------------------------------------------- what actually happened
    started = agreed_start - rng.integers(0, 60, n) * _DAY
    started = np.maximum(started, delivered + 7 * _DAY)
    late_start = situation == _LATE_START
    started = np.where(late_start, agreed_start + rng.integers(120, 600, n) * _DAY, started)
    duration = (build_days * rng.uniform(0.75, 0.97, n)).astype(np.int64)
    completed = np.where(
        late_start, started + duration * _DAY, agreed_completion - rng.integers(0, 120, n) * _DAY
    )
    late_completion = situation == _LATE_COMPLETION
    completed = np.where(late_completion, agreed_completion + rng.integers(90, 720, n) * _DAY, completed)
    operating = completed + rng.integers(20, 150, n) * _DAY
    completed = np.where(situation == _STALLED, _NAT, completed)
    operating = np.where(
        (situation == _NOT_OPERATING) | (situation == _STALLED) | ~industrial, _NAT, operating
    )
    started = np.where(situation == _IDLE, _NAT, started)
    # nothing after as_of has happened yet; each stage needs the one before
    started = np.where(started > as_of_d, _NAT, started)
    completed = np.where(np.isnat(started) | (completed > as_of_d), _NAT, completed)
    operating = np.where(np.isnat(completed) | (operating > as_of_d), _NAT, operating)

    has_started, has_completed, has_operated = ~np.isnat(started), ~np.isnat(completed), ~np.isnat(operating)
    full_due = agreed_full <= as_of_d

    # ---------------------------------------------------------------- performance
    invest_ratio = np.select(
        [
            ~has_started,
            situation == _STALLED,
            ~has_completed,
            situation == _BELOW_TARGET,
            situation == _UNDERUSED,
        ],
        [
            0.0,
            rng.uniform(0.03, 0.22, n),
            rng.uniform(0.2, 0.8, n),
            rng.uniform(0.45, 0.95, n),
            rng.uniform(0.6, 1.0, n),
        ],
        default=rng.uniform(1.0, 1.3, n),
    )
    severe = rng.random(n) < 0.35
    tax_ratio = np.select(
        [
            ~has_operated,
            situation == _BELOW_TARGET,
            cluster,
            situation == _UNDERUSED,
            ~full_due,
        ],
        [
            0.0,
            np.where(severe, rng.uniform(0.05, 0.29, n), rng.uniform(0.3, 0.95, n)),
            rng.uniform(0.1, 0.7, n),
            rng.uniform(0.85, 1.4, n),
            rng.uniform(0.3, 1.1, n),
        ],
        default=rng.uniform(1.0, 1.8, n),
    )
    output_ratio = np.select(
        [tax_ratio == 0, situation == _BELOW_TARGET, cluster | ~full_due],
        [
            0.0,
            np.where(severe, rng.uniform(0.1, 0.49, n), rng.uniform(0.5, 0.95, n)),
            tax_ratio * rng.uniform(0.85, 1.15, n),
        ],
        default=np.maximum(tax_ratio * rng.uniform(0.85, 1.15, n), rng.uniform(1.0, 1.2, n)),
    )
    investment = (planned * invest_ratio).round(1)
    tax = (c_tax * area_mu * tax_ratio).round(1)
    output = (c_output * area_mu * output_ratio).round(1)

    low_use = (situation == _UNDERUSED) & has_completed
    far = np.where(low_use, min_far * rng.uniform(0.2, 0.65, n), min_far + rng.uniform(0.0, 1.0, n))
    coverage = np.where(low_use, rng.uniform(0.12, 0.28, n), rng.uniform(0.40, 0.60, n))
    far = np.where(industrial, far, rng.uniform(1.5, 2.8, n))
    coverage = np.minimum(np.where(industrial, coverage, rng.uniform(0.2, 0.35, n)), far)
    floor_area = np.where(has_completed, area_m2 * far, 0.0).round(1)
    footprint_area = np.where(has_completed, area_m2 * coverage, 0.0).round(1)

    flag_p = np.select(
        [
            situation == _HEALTHY,
            situation == _IDLE,
            situation == _STALLED,
            situation == _BELOW_TARGET,
            situation == _UNDERUSED,
            situation == _NOT_OPERATING,
        ],
        [0.0, 0.7, 0.8, 0.45, 0.55, 0.4],
        default=0.05,
    )
    is_low = cluster | (rng.random(n) < flag_p)

    # non-industrial land inside the parks has no industrial-land contract
    nan = np.nan
    planned = np.where(industrial, planned, nan)
    c_invest = np.where(industrial, c_invest, nan)
    c_tax = np.where(industrial, c_tax, nan)
    c_output = np.where(industrial, c_output, nan)
    investment = np.where(industrial, investment, nan)
    tax = np.where(industrial, tax, nan)
    output = np.where(industrial, output, nan)
    agreed_operation = np.where(industrial, agreed_operation, _NAT)
    agreed_full = np.where(industrial, agreed_full, _NAT)

    # ---------------------------------------------------------------- a few records with dates missing
    missing = rng.random(n) < _MISSING_DATES_SHARE
    if n >= 50 and not missing.any():
        missing[rng.integers(0, n)] = True
    kind = rng.integers(0, 3, n)
    delivered = np.where(missing & (kind == 0), _NAT, delivered)
    agreed_start = np.where(missing & (kind == 1), _NAT, agreed_start)
    agreed_completion = np.where(missing & (kind == 1), _NAT, agreed_completion)
    agreed_operation = np.where(missing & (kind == 2), _NAT, agreed_operation)
    agreed_full = np.where(missing & (kind == 2), _NAT, agreed_full)

    # ---------------------------------------------------------------- parcel numbers
    order = np.lexsort((signed, supply_year, county_of))
    key = county_of[order] * 10_000 + supply_year[order]
    group_start = np.concatenate([[True], key[1:] != key[:-1]])
    idx = np.arange(n)
    serial = np.empty(n, dtype=np.int64)
    serial[order] = idx - np.maximum.accumulate(np.where(group_start, idx, 0)) + 1
    parcel_no = (
        pd.Series(codes[county_of], dtype=str)
        + "-"
        + pd.Series(supply_year, dtype=np.int64).astype(str)
        + "-"
        + pd.Series(serial, dtype=np.int64).astype(str).str.zfill(4)
    )

    def as_dates(values: npt.NDArray[np.datetime64]) -> pd.Series:
        return pd.Series(values.astype("datetime64[D]").astype(object), dtype=object)

    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": parcel_no.to_numpy(dtype=str),
            "holder": holder_names[holder_of],
            "holder_id": holder_ids[holder_of],
            "land_use": land_use,
            "county_code": codes[county_of],
            "delivered_on": as_dates(delivered),
            "agreed_start_on": as_dates(agreed_start),
            "started_on": as_dates(started),
            "agreed_completion_on": as_dates(agreed_completion),
            "completed_on": as_dates(completed),
            "agreed_operation_on": as_dates(agreed_operation),
            "operating_since": as_dates(operating),
            "agreed_full_production_on": as_dates(agreed_full),
            "lease_years": lease,
            "planned_investment": planned,
            "committed_investment_per_mu": c_invest,
            "committed_tax_per_mu": c_tax,
            "committed_output_per_mu": c_output,
            "min_far": min_far,
            "investment": investment,
            "tax": tax,
            "output": output,
            "floor_area": floor_area,
            "footprint_area": footprint_area,
            "is_low_efficiency": is_low,
        },
        geometry=gpd.GeoSeries(geometry, crs=crs),
        crs=crs,
    )

    # ---------------------------------------------------------------- parks and block lines
    def reach(p: _ParkLayout) -> tuple[FloatArray, FloatArray]:  # how far a parcel's leaning corners reach
        ends = np.stack([(p.y0 - p.row_mid) * p.lean, (p.y1 - p.row_mid) * p.lean])
        return ends.min(axis=0), ends.max(axis=0)

    bounds = np.array(
        [[(p.x0 + reach(p)[0]).min(), (p.x1 + reach(p)[1]).max(), p.y0.min(), p.y1.max()] for p in parks]
    )
    half_w = np.array([p.width / 2 for p in parks])
    half_h = np.array([p.height / 2 for p in parks])
    bx0, bx1 = bounds[:, 0] - half_w, bounds[:, 1] - half_w
    by0, by1 = bounds[:, 2] - half_h, bounds[:, 3] - half_h
    place = {"cx": pcx, "cy": pcy, "theta": ptheta}
    park_geom = _rectangles(bx0, bx1, by0, by1, **place)
    e = _LEVEL1_BUFFER_M
    # the outline closes cross streets by growing whole block-rows: roads are at most 2 × e wide (_WIDE_ROAD_M)
    line_geom = _outlines((x0, x1, y0, y1), row, park_of, place, e, (lean, row_mid))
    ring_w = np.array([p.ring_m for p in parks])
    park_county_codes = codes[park_county]
    parks_gdf = gpd.GeoDataFrame(
        {"park_id": park_ids, "name": park_names, "county_code": park_county_codes},
        geometry=gpd.GeoSeries(park_geom, crs=crs),
        crs=crs,
    )
    l1 = np.flatnonzero(level1_park)
    level1 = gpd.GeoDataFrame(
        {"county_code": park_county_codes[l1], "name": [park_names[i] for i in l1]},
        geometry=gpd.GeoSeries(line_geom[l1], crs=crs),
        crs=crs,
    )
    l2 = np.flatnonzero(~level1_park)
    rings = np.flatnonzero(ring_park)
    ring_geom = shapely.difference(
        shapely.buffer(line_geom[rings], ring_w[rings], join_style="mitre"), line_geom[rings]
    )
    level2 = gpd.GeoDataFrame(
        {
            "county_code": np.concatenate([park_county_codes[l2], park_county_codes[rings]]),
            "name": [park_names[i] for i in l2] + [f"{park_names[i]}外围" for i in rings],
        },
        geometry=gpd.GeoSeries(np.concatenate([line_geom[l2], ring_geom]), crs=crs),
        crs=crs,
    )

    # ---------------------------------------------------------------- ratings (亩均论英雄)
    ratings = _ratings(
        rng,
        year=year,
        holder_of=holder_of,
        n_holders=n_holders,
        holder_ids=holder_ids,
        holder_industrial=holder_category <= 3,
        situation=situation,
        cluster=cluster,
        severe=severe & (situation == _BELOW_TARGET),
        operating=operating,
    )
    return DemoCity(parcels=parcels, level1=level1, level2=level2, parks=parks_gdf, ratings=ratings)


def _ratings(
    rng: np.random.Generator,
    *,
    year: int,
    holder_of: IntArray,
    n_holders: int,
    holder_ids: npt.NDArray[np.str_],
    holder_industrial: BoolArray,
    situation: IntArray,
    cluster: BoolArray,
    severe: BoolArray,
    operating: npt.NDArray[np.datetime64],
) -> pd.DataFrame:
    """Yearly grades for the last three years, from each enterprise's worst parcel."""
    severity_by_situation = np.array([0, 3, 3, 1, 1, 2, 3, 2])
    sev = severity_by_situation[situation]
    sev = np.where(cluster | severe, 4, sev)
    holder_sev = np.zeros(n_holders, dtype=np.int64)
    np.maximum.at(holder_sev, holder_of, sev)
    first_op = np.full(n_holders, np.datetime64("9999-12-31", "D"))
    op = np.where(np.isnat(operating), np.datetime64("9999-12-31", "D"), operating)
    np.minimum.at(first_op, holder_of, op)

    years = np.array([year - 3, year - 2, year - 1])
    r = rng.random((n_holders, 3))
    pattern = rng.random(n_holders)
    good_base = np.where(rng.random(n_holders) < 0.35, 0, 1)[:, None]
    good = np.clip(good_base + (r < 0.08).astype(int) - ((r > 0.92) & (good_base == 1)).astype(int), 0, 2)
    mild = np.where(r < 0.5, 1, 2)
    mixed = np.where(r < 0.15, 1, np.where(r < 0.6, 2, 3))
    d_twice = np.column_stack([np.where(r[:, 0] < 0.5, 2, 3), np.full(n_holders, 3), np.full(n_holders, 3)])
    c_thrice = np.full((n_holders, 3), 2)
    bad = np.where(
        (pattern < np.where(holder_sev == 4, 0.45, 0.3))[:, None],
        d_twice,
        np.where((pattern < np.where(holder_sev == 4, 0.85, 0.6))[:, None], c_thrice, mixed),
    )
    grade = np.where((holder_sev == 0)[:, None], good, np.where((holder_sev <= 2)[:, None], mild, bad))
    year_end = np.array([np.datetime64(f"{y}-12-31", "D") for y in years])
    rated = holder_industrial[:, None] & (first_op[:, None] <= year_end[None, :])
    h, k = np.nonzero(rated)
    return pd.DataFrame(
        {
            "holder_id": holder_ids[h].astype(str),
            "year": years[k].astype(np.int64),
            "grade": np.array(list("ABCD"))[grade[h, k]],
        }
    )


def generate_region(
    counties: gpd.GeoDataFrame,
    *,
    n_parcels: int,
    seed: int = 2020,
    as_of: datetime.date = datetime.date(2026, 11, 1),
) -> Iterator[tuple[str, DemoCity]]:
    """A demo region of several cities, one city at a time (so that a province never sits in memory whole).

    The parcels are shared out between the cities by area (within a city, :func:`generate_city` weights the
    counties by area to the power 0.6); a city whose counties cannot hold its share (islands) takes a tenth
    fewer, up to five times, and passes the rest on to the next city. Each city is generated by :func:`generate_city`
    with a seed of its own drawn from ``seed`` and the city's code (a region of one city uses ``seed`` itself,
    so that it is exactly ``generate_city(counties, seed=seed)``).

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        As for :func:`generate_city`, plus ``city_code`` (the 6-digit code of each county's city) and,
        optionally, ``city_name`` and the contract-term columns of :func:`generate_city`.
    n_parcels : int
        Parcels in all the cities together (exactly).
    seed, as_of
        As for :func:`generate_city`.

    Yields
    ------
    tuple of (str, DemoCity)
        The city's code and its demo city, cities in code order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> counties = gpd.GeoDataFrame(
    ...     {"code": ["330302", "330702"], "name": ["鹿城区", "婺城区"], "city_code": ["330300", "330700"]},
    ...     geometry=[box(0, 0, 20_000, 20_000), box(40_000, 0, 60_000, 20_000)], crs="EPSG:4549")
    >>> [(code, len(city.parcels)) for code, city in generate_region(counties, n_parcels=300, seed=1)]
    [('330300', 150), ('330700', 150)]
    """
    _check_counties(counties)
    if "city_code" not in counties.columns:
        raise ValueError("counties lacks the column city_code")
    if isinstance(n_parcels, bool) or not isinstance(n_parcels, (int, np.integer)) or n_parcels < 1:
        raise ValueError(f"n_parcels must be a positive integer, not {n_parcels!r}")
    city_codes = counties["city_code"].astype(str)
    cities = sorted(city_codes.unique())
    shares = _allocate(
        int(n_parcels), np.array([float(counties.geometry[city_codes == c].area.sum()) for c in cities])
    )
    carry = 0  # parcels a crowded city could not hold, passed on to the next
    for k, code in enumerate(cities):
        want = int(shares[k]) + carry
        if want == 0:
            continue
        mine = counties[city_codes == code].reset_index(drop=True)
        # one city is generate_city itself, seed and all; several draw a seed each from (seed, city code)
        city_seed = (
            seed if len(cities) == 1 else int(np.random.default_rng([seed, int(code)]).integers(0, 2**31))
        )
        city, got = _city_that_fits(mine, want=want, seed=city_seed, as_of=as_of, last=k == len(cities) - 1)
        carry = want - got
        yield code, city


def _city_that_fits(
    counties: gpd.GeoDataFrame, *, want: int, seed: int, as_of: datetime.date, last: bool
) -> tuple[DemoCity, int]:
    """``generate_city`` with ``want`` parcels, or with a tenth fewer each time the counties are too small
    (islands, 舟山), up to five times; the last city of a region must hold what it is given.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    n = want
    for _ in range(5):
        try:
            return generate_city(counties, n_parcels=n, seed=seed, as_of=as_of), n
        except ValueError:
            if last:
                raise
            n = max(1, int(n * 0.9))
    return generate_city(counties, n_parcels=n, seed=seed, as_of=as_of), n
