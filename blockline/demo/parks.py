"""The parks (园区): old or new, level 1 or level 2, their names and ids, and their 工业区块线.

Half the parks are old (supplied 21–11 years before ``as_of``), half new (the last 8 years); about seven in
ten lie under level 1 (every county keeps at least one), and some level-1 parks get a ring of level-2
industrial land around them. A park's block line follows its built edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from blockline.demo._arrays import BoolArray, FloatArray, IntArray, ObjectArray, StrArray
from blockline.demo.ground import Ground, rectangles
from blockline.demo.layout import LEVEL1_BUFFER_M, ParkLayout
from blockline.demo.people import cn_number, short_name

__all__ = ["ParkPlan", "ParkFrames", "park_frames", "plan_parks"]

_PARK_KINDS = ("经济开发区", "高新技术产业园区", "工业园区", "小微企业园", "产业集聚区", "工业功能区")


@dataclass(frozen=True)
class ParkPlan:
    """Each park's era, block-line level, name and id (by park)."""

    old: BoolArray
    level1: BoolArray
    ring: BoolArray  # a level-1 park with a ring of level-2 land around it
    names: list[str]
    ids: list[str]


@dataclass(frozen=True)
class ParkFrames:
    """The parks and their level-1 and level-2 block lines, as frames."""

    parks: gpd.GeoDataFrame
    level1: gpd.GeoDataFrame
    level2: gpd.GeoDataFrame


def _levels(rng: np.random.Generator, park_county: IntArray) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Which parks are old, which lie under level 1, and which level-1 parks get a level-2 ring."""
    n_parks = park_county.size
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
    return old_park, level1_park, ring_park


def plan_parks(rng: np.random.Generator, ground: Ground, *, codes: StrArray, names: StrArray) -> ParkPlan:
    """Draw each park's era and level, and name it after its county, kind and direction (鹿城经济开发区东片)."""
    park_county = ground.park_county
    n_parks = park_county.size
    old_park, level1_park, ring_park = _levels(rng, park_county)
    park_names: list[str] = []
    seen: dict[str, int] = {}
    kinds = rng.integers(0, len(_PARK_KINDS), n_parks)
    for i, p in enumerate(ground.parks):
        base = f"{short_name(names[p.county])}{_PARK_KINDS[kinds[i]]}{p.direction}片"
        k = seen.get(base, 0) + 1
        seen[base] = k
        park_names.append(base if k == 1 else f"{base}{cn_number(k)}期")
    park_serial = np.zeros(n_parks, dtype=np.int64)
    for c in np.unique(park_county):
        mine = np.flatnonzero(park_county == c)
        park_serial[mine] = np.arange(1, mine.size + 1)
    park_ids = [f"{codes[c]}-P{s:03d}" for c, s in zip(park_county, park_serial, strict=True)]
    return ParkPlan(old=old_park, level1=level1_park, ring=ring_park, names=park_names, ids=park_ids)


def _outlines(
    local: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    row: IntArray,
    park_of: IntArray,
    place: dict[str, FloatArray],
    margin_m: float,
    lean: tuple[FloatArray, FloatArray],
    block: IntArray,
) -> ObjectArray:
    """Each park's outline: its parcels grown by ``margin_m`` (closing the roads between them), holes filled.

    ``local`` holds the parcels' extents (x0, x1, y0, y1) in their park's frame and ``place`` the parks'
    centres and rotations. The parcels of one block-row side by side (one run per y-extent: the front and the
    back of a row of back-to-back parcels) make one parallelogram (``lean``: the rows' lean and middle line,
    per parcel): the cross streets between its blocks are at most ``2 * margin_m`` wide across (40 m), so
    their grown blocks would meet anyway, and one shape per run is grown instead of one per block. The runs,
    grown with bevelled corners (no corner farther than ``margin_m`` from a parcel), are merged park by park,
    and kept within ``margin_m`` of the park's parcels (``block``: each parcel's block; a block's side, its
    parcels side by side, is their union in one shape): a run spans its cross streets, and grown whole it
    would reach up to 9 m beyond ``margin_m`` at each street's mouth. The outline follows the park's built
    edge, nowhere farther than ``margin_m`` from a parcel; the holes filled are where roads cross inside the
    park (a junction's middle can lie up to √2 × ``margin_m`` from the parcels around it).
    """
    x0, x1, y0, y1 = local
    n_parks = len(place["cx"])
    parcels = pd.DataFrame(
        {"park": park_of, "row": row, "y0": y0, "y1": y1, "x0": x0, "x1": x1, "lean": lean[0], "mid": lean[1]}
    )
    run_keys = ["park", "row", "y0", "y1"]
    runs, groups = _shapes(parcels, run_keys, place)
    # a block's side (its parcels side by side, no street between them): the parcels' union, in fewer shapes
    sides, side_groups = _shapes(parcels.assign(block=block), [*run_keys, "block"], place)
    # each run's sides grown together, run by run: one buffer of a park's sides took 16.8 s of the 21.2 s the
    # province's outlines took (409,443 sides), these 3.7 s and their union per park 5–6 s, the same outlines
    # to 0.02 m² (each park's symmetric difference, 2,089 parks)
    run_of_side = side_groups.groupby(run_keys, sort=True).ngroup().to_numpy()
    near = np.asarray(
        shapely.buffer(shapely.multipolygons(sides, indices=run_of_side), margin_m, quad_segs=2), dtype=object
    )
    park_of = groups["park"].to_numpy()
    out = np.empty(n_parks, dtype=object)
    cuts = np.searchsorted(park_of, np.arange(1, n_parks))
    for i, members in enumerate(np.split(np.arange(park_of.size), cuts)):
        # one buffer of the park's runs together: the same outline as the union of each run's buffer, in half
        # the time (GEOS merges the offset curves once)
        grown = shapely.buffer(shapely.multipolygons(runs[members]), margin_m, join_style="bevel")
        # nowhere farther than margin_m from a parcel: not past the mouths of the cross streets a run spans
        union = shapely.intersection(grown, shapely.union_all(near[members]))
        parts = shapely.get_parts(union)
        parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]  # no slivers of a touch
        filled = np.asarray(shapely.polygons(shapely.get_exterior_ring(parts)), dtype=object)
        out[i] = filled[0] if filled.size == 1 else shapely.union_all(filled)
    return out


def _shapes(
    parcels: pd.DataFrame, by: list[str], place: dict[str, FloatArray]
) -> tuple[ObjectArray, pd.DataFrame]:
    """The parcels grouped ``by`` (park first) into one parallelogram each, in the world; and the groups' keys."""
    groups = (
        parcels.groupby(by, sort=True)
        .agg(x0=("x0", "min"), x1=("x1", "max"), lean=("lean", "first"), mid=("mid", "first"))
        .reset_index()
    )
    park_of = groups["park"].to_numpy()
    shapes = rectangles(
        groups["x0"].to_numpy(),
        groups["x1"].to_numpy(),
        groups["y0"].to_numpy(),
        groups["y1"].to_numpy(),
        lean=groups["lean"].to_numpy(),
        mid=groups["mid"].to_numpy(),
        **{k: v[park_of] for k, v in place.items()},
    )
    return shapes, groups[by]


def _reach(p: ParkLayout) -> tuple[FloatArray, FloatArray]:
    """How far each of a park's parcels' leaning corners reach beyond its extents along the row."""
    ends = np.stack([(p.y0 - p.row_mid) * p.lean, (p.y1 - p.row_mid) * p.lean])
    return ends.min(axis=0), ends.max(axis=0)


def _park_rectangles(ground: Ground) -> ObjectArray:
    """Each park's rectangle: the extent of its parcels, leaning corners included."""
    parks = ground.parks
    bounds = np.array(
        [[(p.x0 + _reach(p)[0]).min(), (p.x1 + _reach(p)[1]).max(), p.y0.min(), p.y1.max()] for p in parks]
    )
    half_w = np.array([p.width / 2 for p in parks])
    half_h = np.array([p.height / 2 for p in parks])
    bx0, bx1 = bounds[:, 0] - half_w, bounds[:, 1] - half_w
    by0, by1 = bounds[:, 2] - half_h, bounds[:, 3] - half_h
    return rectangles(bx0, bx1, by0, by1, **ground.place)


def park_frames(ground: Ground, plan: ParkPlan, *, codes: StrArray, crs: object) -> ParkFrames:
    """The parks' frame and their block lines: level 1, and level 2 (the other parks and the rings)."""
    e = LEVEL1_BUFFER_M
    g = ground
    # the outline closes cross streets by growing whole block-rows: roads are at most 2 × e wide (_WIDE_ROAD_M)
    line_geom = _outlines(
        (g.x0, g.x1, g.y0, g.y1), g.row, g.park_of, g.place, e, (g.lean, g.row_mid), g.block
    )
    ring_w = np.array([p.ring_m for p in g.parks])
    park_county_codes = codes[g.park_county]
    park_names = plan.names
    parks_gdf = gpd.GeoDataFrame(
        {"park_id": plan.ids, "name": park_names, "county_code": park_county_codes},
        geometry=gpd.GeoSeries(_park_rectangles(g), crs=crs),
        crs=crs,
    )
    l1 = np.flatnonzero(plan.level1)
    level1 = gpd.GeoDataFrame(
        {"county_code": park_county_codes[l1], "name": [park_names[i] for i in l1]},
        geometry=gpd.GeoSeries(line_geom[l1], crs=crs),
        crs=crs,
    )
    l2 = np.flatnonzero(~plan.level1)
    rings = np.flatnonzero(plan.ring)
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
    return ParkFrames(parks=parks_gdf, level1=level1, level2=level2)
