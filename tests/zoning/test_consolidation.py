"""Consolidation zones (连片开发, WZ §12) on hand-built boxes in EPSG:4549, answers written down first.

A 100 m × 100 m box is 15 亩; a 200 m × 100 m box 30 亩. X, Y is a point in 鹿城区 (``tests.files``).
The policy numbers of the scenarios are wenzhou-2020's: zones of at least 50 亩, a 15 m gap tolerance,
parcels with less than 5 % inside a drawn zone not taken.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box
from shapely.affinity import translate
from shapely.testing import assert_geometries_equal

from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from zoning.consolidation import (
    ASSESS_FIELDS,
    ASSESS_PARCEL_FIELDS,
    GRADES,
    ZONE_COLUMNS,
    assess_zone,
    describe_zones,
    detect_zones,
    latest_grade,
)
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
M2_PER_MU = 10000.0 / 15.0
CRS = "EPSG:4549"
NONE = gpd.GeoDataFrame(geometry=[], crs=CRS)  # no block lines

# the fields of `blockline zones assess` in CLI.md, and what this module adds to them
CLI_ASSESS = {"area_mu", "meets_threshold", "holders", "low_efficiency_share", "parcels", "block_line_levels"}
CLI_PARCEL = {"parcel_no", "share", "area_in_zone_mu", "low_efficiency"}


def make(
    geoms: list[shapely.Geometry],
    *,
    low: bool | list[bool | None] = True,
    nos: list[str] | None = None,
    holder_ids: list[str | None] | None = None,
    holders: list[str | None] | None = None,
    county: str | list[str] = "330302",
    **extra: list[object],
) -> gpd.GeoDataFrame:
    """Parcels P1, P2, … (or ``nos``), each its own holder unless told otherwise."""
    n = len(geoms)
    nos = nos or [f"P{i + 1}" for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "parcel_no": nos,
            "holder": holders if holders is not None else [f"企业{no}" for no in nos],
            "holder_id": holder_ids if holder_ids is not None else [f"91330302{no:0>10}" for no in nos],
            "county_code": county if isinstance(county, list) else [county] * n,
            "low_efficiency": low if isinstance(low, list) else [low] * n,
            **extra,
        },
        geometry=geoms,
        crs=CRS,
    )


def groups(zones: gpd.GeoDataFrame) -> set[frozenset[str]]:
    return {frozenset(p) for p in zones["parcels"]}


def across_road(road_m: float) -> list[shapely.Geometry]:
    """Two 15-亩 blocks stacked on each side of a north–south road ``road_m`` wide: 60 亩 in all."""
    east = X + 100 + road_m
    return [
        box(X, Y, X + 100, Y + 100),
        box(X, Y + 100, X + 100, Y + 200),
        box(east, Y, east + 100, Y + 100),
        box(east, Y + 100, east + 100, Y + 200),
    ]


# ======================================================================================================
# detect_zones: the scenarios of DOMAIN.md
# ======================================================================================================


def test_four_blocks_across_a_12m_road_make_one_60_mu_zone() -> None:
    parcels = make(across_road(12.0))
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    assert list(zones.columns) == ZONE_COLUMNS
    assert len(zones) == 1
    zone = zones.iloc[0]
    assert zone["area_mu"] == pytest.approx(60.0, rel=1e-9)
    assert zone["parcels"] == ["P1", "P2", "P3", "P4"]
    assert zone["n_parcels"] == 4 and zone["holders"] == 4
    assert zone["county_code"] == "330302" and zone["county_codes"] == ["330302"]
    assert zone["zone_id"].startswith("Z-330302-")
    # the union, for display: the two 30-亩 halves, the road between them not included
    assert_geometries_equal(zone.geometry, shapely.union_all(parcels.geometry.to_numpy()), normalize=True)
    assert zone.geometry.area == pytest.approx(60 * M2_PER_MU, rel=1e-9)
    assert zones.crs == parcels.crs


def test_the_profile_parameters_give_the_same_zone() -> None:
    zones = detect_zones(
        make(across_road(12.0)),
        min_mu=WZ.value("consolidation.min_mu"),
        gap_m=WZ.value("consolidation.gap_m"),
    )
    assert groups(zones) == {frozenset({"P1", "P2", "P3", "P4"})}


def test_the_same_blocks_across_a_20m_road_make_two_groups_of_30_mu_and_no_zone() -> None:
    parcels = make(across_road(20.0))
    assert len(detect_zones(parcels, min_mu=50, gap_m=15)) == 0
    halves = detect_zones(parcels, min_mu=30, gap_m=15)  # the two groups, seen with a lower threshold
    assert groups(halves) == {frozenset({"P1", "P2"}), frozenset({"P3", "P4"})}
    assert halves["area_mu"].tolist() == pytest.approx([30.0, 30.0], rel=1e-9)


def test_a_healthy_parcel_between_two_low_efficiency_ones_does_not_bridge_them() -> None:
    row = [box(X, Y, X + 200, Y + 100), box(X + 212, Y, X + 412, Y + 100), box(X + 424, Y, X + 624, Y + 100)]
    assert groups(detect_zones(make(row), min_mu=50, gap_m=15)) == {frozenset({"P1", "P2", "P3"})}  # 90 亩
    bridged = make(row, low=[True, False, True])
    assert len(detect_zones(bridged, min_mu=50, gap_m=15)) == 0  # 30 + 30 亩, 224 m apart
    assert groups(detect_zones(bridged, min_mu=30, gap_m=15)) == {frozenset({"P1"}), frozenset({"P3"})}


def test_zones_are_made_of_low_efficiency_parcels_only() -> None:
    healthy = make(across_road(12.0), low=False)
    empty = detect_zones(healthy, min_mu=50, gap_m=15)
    assert len(empty) == 0 and list(empty.columns) == ZONE_COLUMNS and empty.crs == healthy.crs
    # a missing flag is not low efficiency: 3 × 15 = 45 亩 < 50
    mixed = make(across_road(12.0), low=[True, True, None, True])
    assert len(detect_zones(mixed, min_mu=50, gap_m=15)) == 0
    assert groups(detect_zones(mixed, min_mu=45, gap_m=15)) == {frozenset({"P1", "P2", "P4"})}


def test_holders_are_counted_once_each() -> None:
    # five touching 15-亩 parcels in a row: 75 亩
    row = [box(X + 100 * i, Y, X + 100 * (i + 1), Y + 100) for i in range(5)]
    parcels = make(
        row,
        holder_ids=["91330302MA0000001X", "91330302MA0000001X", None, None, None],
        holders=["瓯江阀门有限公司", "瓯江阀门股份公司", "鹿城鞋业有限公司", "鹿城鞋业有限公司", None],
    )
    # the same 信用代码 under two names is one holder; the same name without a code is one; nobody is one
    assert detect_zones(parcels, min_mu=50, gap_m=15)["holders"].tolist() == [3]


def test_a_zone_is_reached_at_exactly_the_threshold_and_not_just_below() -> None:
    row = [box(X + 100 * i, Y, X + 100 * (i + 1), Y + 100) for i in range(3)]  # 45 亩
    assert len(detect_zones(make(row), min_mu=45, gap_m=0)) == 1
    assert len(detect_zones(make(row), min_mu=45.01, gap_m=0)) == 0


def test_gap_zero_joins_only_parcels_that_touch() -> None:
    corner = [box(X, Y, X + 200, Y + 100), box(X + 200, Y + 100, X + 400, Y + 200)]  # touch at one point
    assert len(detect_zones(make(corner), min_mu=50, gap_m=0)) == 1
    apart = [box(X, Y, X + 200, Y + 100), box(X + 200.01, Y, X + 400, Y + 100)]
    assert len(detect_zones(make(apart), min_mu=50, gap_m=0)) == 0


def test_a_zone_spanning_two_counties_names_both_and_the_larger_first() -> None:
    parcels = make(
        across_road(12.0) + [box(X + 224, Y, X + 324, Y + 100)],
        county=["330302", "330302", "330304", "330304", "330304"],
    )
    zone = detect_zones(parcels, min_mu=50, gap_m=15).iloc[0]
    assert zone["county_code"] == "330304" and zone["county_codes"] == ["330302", "330304"]


def test_area_mu_column_is_used_when_present() -> None:
    parcels = make(across_road(12.0), area_mu=[20.0, 20.0, 20.0, 20.0])
    assert detect_zones(parcels, min_mu=50, gap_m=15)["area_mu"].tolist() == [80.0]


def test_zone_geometry_is_the_union_also_where_parcels_do_not_form_a_clean_coverage() -> None:
    t_junction = [
        box(X, Y, X + 200, Y + 200),
        box(X + 200, Y, X + 300, Y + 100),
        box(X + 200, Y + 100, X + 300, Y + 200),
    ]  # a corner of two on the edge of the third
    clean = [box(X + 1000 + 100 * i, Y, X + 1100 + 100 * i, Y + 200) for i in range(3)]  # same zone size
    overlapping = [box(X + 2000, Y, X + 2200, Y + 200), box(X + 2100, Y, X + 2300, Y + 200)]
    parcels = make(t_junction + clean + overlapping)
    zones = detect_zones(parcels, min_mu=50, gap_m=0)
    assert len(zones) == 3
    for zone in zones.itertuples():
        members = parcels[parcels["parcel_no"].isin(zone.parcels)].geometry.to_numpy()
        assert zone.geometry.is_valid
        assert_geometries_equal(zone.geometry, shapely.union_all(members), normalize=True, tolerance=1e-6)
    # the overlapping pair: the zone's area is the sum of its parcels' (120 亩), its geometry covers 90 亩
    pair = zones[zones["n_parcels"] == 2].iloc[0]
    assert pair["area_mu"] == pytest.approx(120.0, rel=1e-9)
    assert pair.geometry.area / M2_PER_MU == pytest.approx(90.0, rel=1e-9)


# ------------------------------------------------------------------------------------------------------
# near the tolerance: true distances, not buffers
# ------------------------------------------------------------------------------------------------------


def corner_to_corner(distance_m: float, angle_deg: float = 45.0) -> list[shapely.Geometry]:
    """Two 30-亩 parcels whose closest points are the NE corner of one and the SW corner of the other."""
    dx = distance_m * math.cos(math.radians(angle_deg))
    dy = distance_m * math.sin(math.radians(angle_deg))
    x1, y1 = X + 200 + dx, Y + 100 + dy
    return [box(X, Y, X + 200, Y + 100), box(x1, y1, x1 + 200, y1 + 100)]


def buffer_dissolve_groups(parcels: gpd.GeoDataFrame, *, gap_m: float) -> int:
    """The naive approach: buffer by half the gap (geopandas' default segments), dissolve, count the pieces."""
    blobs = parcels.geometry.buffer(gap_m / 2).union_all()
    return len(shapely.get_parts(blobs))


@pytest.mark.parametrize(
    ("distance_m", "angle_deg", "joined"),
    [
        (14.9, 45.0, True),
        (15.1, 45.0, False),
        # 47.8125° lies half-way between two vertices of a 16-segment quarter circle (and of an 8-segment
        # one), where a buffer falls short of its radius by 7.5 m × (1 − cos 2.8125°) ≈ 9 mm on each side
        (14.99, 47.8125, True),
        (15.01, 47.8125, False),
        (14.99, 30.9375, True),
    ],
)
def test_corner_to_corner_gaps_are_measured_exactly(
    distance_m: float, angle_deg: float, joined: bool, record_property: pytest.RecordProperty
) -> None:
    parcels = make(corner_to_corner(distance_m, angle_deg))
    assert shapely.distance(*parcels.geometry) == pytest.approx(distance_m, abs=1e-6)
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    assert len(zones) == (1 if joined else 0)
    # What buffer-and-dissolve says, shown and not asserted: at 45° (a vertex of the buffer's arc) it gets
    # 14.9 m right, but at 14.99 m between vertices its polygonal buffers miss each other and it finds 2
    # groups where there is one. detect_zones measures the true distance, so its answer does not move.
    record_property("buffer_dissolve_groups", buffer_dissolve_groups(parcels, gap_m=15))


def test_an_exact_15m_road_is_within_the_tolerance() -> None:
    parcels = make([box(X, Y, X + 200, Y + 100), box(X, Y + 115, X + 200, Y + 215)])
    assert len(detect_zones(parcels, min_mu=50, gap_m=15)) == 1


# ------------------------------------------------------------------------------------------------------
# invariants (hypothesis)
# ------------------------------------------------------------------------------------------------------

# road widths and tolerances never equal, so no answer hangs on the last bit of a distance
ROADS_M = [0.0, 0.0, 5.0, 10.0, 12.0, 15.0, 20.0, 30.0]
GAPS_M = [0.0, 5.25, 12.25, 15.25, 20.25]


@st.composite
def grids(draw: st.DrawFn) -> gpd.GeoDataFrame:
    """A random grid of parcels separated by roads of random widths, some of them low-efficiency."""
    n_cols = draw(st.integers(1, 6))
    n_rows = draw(st.integers(1, 5))
    widths = draw(st.lists(st.sampled_from([50.0, 100.0, 150.0, 200.0]), min_size=n_cols, max_size=n_cols))
    heights = draw(st.lists(st.sampled_from([50.0, 100.0, 140.0]), min_size=n_rows, max_size=n_rows))
    roads_x = draw(st.lists(st.sampled_from(ROADS_M), min_size=n_cols, max_size=n_cols))
    roads_y = draw(st.lists(st.sampled_from(ROADS_M), min_size=n_rows, max_size=n_rows))
    x0 = X + np.concatenate([[0.0], np.cumsum(np.add(widths, roads_x))[:-1]])
    y0 = Y + np.concatenate([[0.0], np.cumsum(np.add(heights, roads_y))[:-1]])
    gx, gy = np.meshgrid(x0, y0)
    gw, gh = np.meshgrid(widths, heights)
    n = gx.size
    low = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    holders = draw(st.lists(st.sampled_from(["H1", "H2", "H3", "H4", None]), min_size=n, max_size=n))
    geoms = shapely.box(gx.ravel(), gy.ravel(), (gx + gw).ravel(), (gy + gh).ravel())
    return make(
        list(geoms), low=low, holder_ids=holders, holders=[None] * n, nos=[f"G{i:03d}" for i in range(n)]
    )


def brute_force_groups(parcels: gpd.GeoDataFrame, *, gap_m: float, min_mu: float) -> set[frozenset[str]]:
    """The groups by an independent method: every pair's distance, and a union-find."""
    low = parcels[parcels["low_efficiency"].fillna(False).astype(bool)]
    geoms, nos = list(low.geometry), list(low["parcel_no"])
    parent = list(range(len(geoms)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if geoms[i].distance(geoms[j]) <= gap_m:
                parent[find(i)] = find(j)
    members: dict[int, list[int]] = {}
    for i in range(len(geoms)):
        members.setdefault(find(i), []).append(i)
    return {
        frozenset(nos[i] for i in m)
        for m in members.values()
        if sum(geoms[i].area for i in m) / M2_PER_MU >= min_mu - 0.005
    }


@settings(max_examples=60, deadline=None)
@given(parcels=grids(), gap_m=st.sampled_from(GAPS_M), min_mu=st.sampled_from([7.5, 20.0, 50.0, 90.0]))
def test_a_zone_is_the_sum_of_its_parcels_and_the_groups_are_right(
    parcels: gpd.GeoDataFrame, gap_m: float, min_mu: float
) -> None:
    zones = detect_zones(parcels, min_mu=min_mu, gap_m=gap_m)
    area = dict(zip(parcels["parcel_no"], parcels.geometry.area / M2_PER_MU, strict=False))
    low = dict(zip(parcels["parcel_no"], parcels["low_efficiency"], strict=False))
    for zone in zones.itertuples():
        assert zone.area_mu == pytest.approx(sum(area[p] for p in zone.parcels), rel=1e-9)
        assert zone.geometry.area / M2_PER_MU == pytest.approx(zone.area_mu, rel=1e-9)
        assert zone.area_mu >= min_mu - 0.005
        assert all(low[p] for p in zone.parcels)
        assert zone.parcels == sorted(zone.parcels) and zone.n_parcels == len(zone.parcels)
    assert groups(zones) == brute_force_groups(parcels, gap_m=gap_m, min_mu=min_mu)
    assert zones["area_mu"].is_monotonic_decreasing


@settings(max_examples=40, deadline=None)
@given(data=st.data(), parcels=grids())
def test_zones_do_not_depend_on_the_order_of_the_rows(data: st.DataObject, parcels: gpd.GeoDataFrame) -> None:
    order = data.draw(st.permutations(range(len(parcels))))
    shuffled = parcels.iloc[list(order)]
    shuffled.index = data.draw(st.permutations(range(100, 100 + len(parcels))))
    for min_mu, gap_m in ((20.0, 12.25), (7.5, 0.0)):
        expected = detect_zones(parcels, min_mu=min_mu, gap_m=gap_m)
        assert_geodataframe_equal(
            detect_zones(shuffled, min_mu=min_mu, gap_m=gap_m), expected, normalize=True
        )


# ------------------------------------------------------------------------------------------------------
# refusals and purity
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.set_crs(None, allow_override=True), "no CRS"),
        (lambda p: p.to_crs("EPSG:4490"), "geographic CRS"),
        (lambda p: p.drop(columns="low_efficiency"), "low_efficiency"),
        (lambda p: p.drop(columns="parcel_no"), "parcel_no"),
        (lambda p: p.assign(parcel_no=["P1", "P1", "P3", "P4"]), "parcel_no repeats"),
        (lambda p: p.assign(parcel_no=["P1", None, "P3", "P4"]), "no parcel_no"),
        (lambda p: p.assign(low_efficiency=["是", "是", "否", "是"]), "True/False"),
        (lambda p: p.set_geometry([None, *p.geometry[1:]], crs=CRS), "have no geometry"),
        (
            lambda p: p.set_geometry(
                [shapely.Polygon([(X, Y), (X + 10, Y + 10), (X + 10, Y), (X, Y + 10)]), *p.geometry[1:]],
                crs=CRS,
            ),
            "invalid",
        ),
        (lambda p: p.set_geometry([shapely.Point(X, Y), *p.geometry[1:]], crs=CRS), "not polygons"),
    ],
)
def test_detect_zones_refuses_what_it_cannot_measure(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        detect_zones(change(make(across_road(12.0))), min_mu=50, gap_m=15)


@pytest.mark.parametrize(("min_mu", "gap_m"), [(0, 15), (-1, 15), (50, -1), (float("nan"), 15), (50, "wide")])
def test_detect_zones_refuses_impossible_parameters(min_mu: float, gap_m: float) -> None:
    with pytest.raises(ValueError, match="min_mu|gap_m"):
        detect_zones(make(across_road(12.0)), min_mu=min_mu, gap_m=gap_m)


def test_detect_zones_refuses_a_frame_without_geometry() -> None:
    with pytest.raises(TypeError, match="GeoDataFrame"):
        detect_zones(pd.DataFrame(make(across_road(12.0)).drop(columns="geometry")), min_mu=50, gap_m=15)


def test_no_function_modifies_its_inputs() -> None:
    parcels = make(across_road(12.0), rating=["C", "D", "A", None])
    level1 = gpd.GeoDataFrame(geometry=[box(X, Y, X + 50, Y + 50)], crs=CRS)
    ratings = pd.DataFrame({"holder_id": parcels["holder_id"], "year": 2025, "grade": "C"})
    before = (parcels.copy(deep=True), level1.copy(deep=True), ratings.copy(deep=True))
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    zones_before = zones.copy(deep=True)
    zones_before["parcels"] = copy.deepcopy(list(zones["parcels"]))
    describe_zones(zones, parcels, level1=level1, level2=NONE, ratings=ratings, as_of=dt.date(2026, 6, 1))
    assess_zone(box(X, Y, X + 300, Y + 300), parcels, level1=level1, level2=NONE, profile=WZ)
    assert_geodataframe_equal(parcels, before[0])
    assert_geodataframe_equal(level1, before[1])
    pd.testing.assert_frame_equal(ratings, before[2])
    assert_geodataframe_equal(zones, zones_before)


# ======================================================================================================
# describe_zones and latest_grade
# ======================================================================================================


def test_describe_zones_gives_levels_and_rating_mix() -> None:
    parcels = make(across_road(12.0))
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    level1 = gpd.GeoDataFrame(
        geometry=[box(X - 100, Y - 100, X + 50, Y + 300)], crs=CRS
    )  # west halves of P1, P2
    level2 = gpd.GeoDataFrame(geometry=[box(X + 212, Y, X + 500, Y + 200)], crs=CRS)  # touches P3, P4
    hid = dict(zip(parcels["parcel_no"], parcels["holder_id"], strict=False))
    ratings = pd.DataFrame(
        {
            "parcel_no": [None, None, None, None, "P3", None],
            "holder_id": [hid["P1"], hid["P1"], hid["P2"], hid["P3"], None, hid["P2"]],
            "year": [2024, 2025, 2024, 2025, 2025, 2026],
            "grade": ["B", "C", "D", "C", "A", "A"],  # P2's 2026 grade is not known on 2026-06-01
        }
    )
    out = describe_zones(
        zones, parcels, level1=level1, level2=level2, ratings=ratings, as_of=dt.date(2026, 6, 1)
    )
    row = out.iloc[0]
    assert row["block_line_levels"] == [1]
    assert row["level1_mu"] == pytest.approx(15.0, rel=1e-9) and row["level2_mu"] == 0.0
    # P1 C (2025), P2 D (2024), P3 A (its own 2025 grade beats its enterprise's C of the same year), P4 none
    assert row["rating_mix"] == {"A": 1, "B": 0, "C": 1, "D": 1, "unrated": 1}
    assert row["rating_mix_mu"] == pytest.approx({"A": 15.0, "B": 0.0, "C": 15.0, "D": 15.0, "unrated": 15.0})
    assert list(out.columns[: len(ZONE_COLUMNS)]) == ZONE_COLUMNS


def test_describe_zones_of_no_zones() -> None:
    parcels = make(across_road(12.0), low=False)
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    out = describe_zones(
        zones,
        parcels,
        level1=NONE,
        level2=NONE,
        ratings=pd.DataFrame({"holder_id": [], "year": [], "grade": []}),
        as_of=dt.date(2026, 6, 1),
    )
    assert len(out) == 0 and {"block_line_levels", "rating_mix"} <= set(out.columns)


def test_describe_zones_refuses_layers_in_another_crs() -> None:
    parcels = make(across_road(12.0))
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    with pytest.raises(ValueError, match="different CRSs"):
        describe_zones(
            zones,
            parcels,
            level1=NONE.to_crs("EPSG:4547"),
            level2=NONE,
            ratings=pd.DataFrame({"holder_id": [], "year": [], "grade": []}),
            as_of=dt.date(2026, 6, 1),
        )


def test_latest_grade_looks_at_years_before_as_of() -> None:
    parcels = pd.DataFrame({"parcel_no": ["P1", "P2"], "holder_id": ["H1", "H2"]}, index=[7, 3])
    ratings = pd.DataFrame(
        {"holder_id": ["H1", "H1", "H2"], "year": [2024, 2025, 2025], "grade": ["a", "D", "B"]}
    )
    assert latest_grade(parcels, ratings, as_of=dt.date(2026, 1, 1)).to_dict() == {7: "D", 3: "B"}
    assert latest_grade(parcels, ratings, as_of=dt.date(2025, 12, 31)).to_dict() == {7: "A", 3: None}
    with pytest.raises(ValueError, match="A–D"):
        latest_grade(parcels, ratings.assign(grade="E"), as_of=dt.date(2026, 1, 1))


# ======================================================================================================
# assess_zone: a drawn polygon
# ======================================================================================================

# P1 [X, X+100] × [Y, Y+100]; P2 east of it; P3 east of P2; P4 south of P2.
ROW = [
    box(X, Y, X + 100, Y + 100),
    box(X + 100, Y, X + 200, Y + 100),
    box(X + 200, Y, X + 300, Y + 100),
    box(X + 100, Y - 100, X + 200, Y),
]
# The zone takes the east half of P1, all of P2, only touches P3 (along x = X+200), and reaches 3 m into
# P4 (300 m² of 10000 = 3 % < 5 %): 150 m × 103 m = 15450 m² = 23.175 亩.
DRAWN = box(X + 50, Y - 3, X + 200, Y + 100)
LEVEL1 = gpd.GeoDataFrame(
    {"name": ["一级"]}, geometry=[box(X + 150, Y, X + 400, Y + 100)], crs=CRS
)  # overlaps
LEVEL2 = gpd.GeoDataFrame({"name": ["二级"]}, geometry=[box(X - 100, Y, X + 50, Y + 100)], crs=CRS)  # touches


def drawn_parcels() -> gpd.GeoDataFrame:
    return make(
        ROW, low=[True, False, True, True], holders=["甲", "乙", "丙", "丁"], rating=["C", "A", "D", "B"]
    )


def test_assess_zone_takes_parcels_by_their_share_inside() -> None:
    result = assess_zone(DRAWN, drawn_parcels(), level1=LEVEL1, level2=LEVEL2, profile=WZ)
    assert result["area_mu"] == pytest.approx(23.175, rel=1e-9)
    assert result["meets_threshold"] is False
    assert [p["parcel_no"] for p in result["parcels"]] == ["P1", "P2"]  # not P3 (touches), not P4 (3 %)
    p1, p2 = result["parcels"]
    assert p1["share"] == pytest.approx(0.5, rel=1e-9) and p1["area_in_zone_mu"] == pytest.approx(
        7.5, rel=1e-9
    )
    assert p2["share"] == pytest.approx(1.0, rel=1e-9) and p2["area_in_zone_mu"] == pytest.approx(
        15.0, rel=1e-9
    )
    assert (p1["low_efficiency"], p1["holder"], p1["rating"]) == (True, "甲", "C")
    assert (p2["low_efficiency"], p2["holder"], p2["rating"]) == (False, "乙", "A")
    assert result["holders"] == 2
    assert result["parcels_area_mu"] == pytest.approx(22.5, rel=1e-9)
    assert result["low_efficiency_share"] == pytest.approx(7.5 / 22.5, rel=1e-9)
    assert result["block_line_levels"] == [1]  # level 2 only touches the zone
    assert result["article"] == WZ.cite("consolidation.min_mu") == "wenzhou-2020 WZ §12"
    assert result["policy"] == "wenzhou-2020"


def test_assess_zone_output_has_exactly_the_cli_fields() -> None:
    result = assess_zone(DRAWN, drawn_parcels(), level1=LEVEL1, level2=LEVEL2, profile=WZ)
    assert set(result) == CLI_ASSESS | {"article", "policy", "parcels_area_mu"} == set(ASSESS_FIELDS)
    for entry in result["parcels"]:
        assert set(entry) == CLI_PARCEL | {"holder", "rating"} == set(ASSESS_PARCEL_FIELDS)
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result


def test_assess_zone_threshold_at_exactly_50_mu_and_just_below() -> None:
    parcels = drawn_parcels()
    exactly = box(X, Y, X + 200, Y + 500 / 3)  # 200 m × 166.67 m = 33333.33 m² = 50.00 亩
    below = box(X, Y, X + 200, Y + 49.99 * M2_PER_MU / 200)
    assert assess_zone(exactly, parcels, level1=NONE, level2=NONE, profile=WZ)["meets_threshold"] is True
    result = assess_zone(below, parcels, level1=NONE, level2=NONE, profile=WZ)
    assert result["area_mu"] == pytest.approx(49.99, rel=1e-9) and result["meets_threshold"] is False
    assert (
        assess_zone(below, parcels, level1=NONE, level2=NONE, profile=WZ, min_mu=40)["meets_threshold"]
        is True
    )


def test_assess_zone_takes_a_parcel_at_exactly_the_minimum_share() -> None:
    share = WZ.value("consolidation.min_share_inside")
    parcels = make([box(X, Y, X + 100, Y + 100)])
    edge = box(X - 50, Y, X + 100 * share, Y + 100)
    assert [
        p["parcel_no"] for p in assess_zone(edge, parcels, level1=NONE, level2=NONE, profile=WZ)["parcels"]
    ] == ["P1"]
    short = box(X - 50, Y, X + 100 * share * 0.98, Y + 100)
    assert assess_zone(short, parcels, level1=NONE, level2=NONE, profile=WZ)["parcels"] == []


def test_a_parcel_that_only_touches_is_not_taken_even_without_a_minimum_share() -> None:
    params = dict(WZ.parameters)
    params["consolidation.min_share_inside"] = dataclasses.replace(
        params["consolidation.min_share_inside"], value=0.0
    )
    lenient = dataclasses.replace(WZ, parameters=params)
    result = assess_zone(DRAWN, drawn_parcels(), level1=LEVEL1, level2=LEVEL2, profile=lenient)
    assert [p["parcel_no"] for p in result["parcels"]] == ["P1", "P2", "P4"]  # P4's 3 % now counts; P3 never


def test_assess_zone_on_empty_ground() -> None:
    result = assess_zone(
        box(X + 1000, Y + 1000, X + 1100, Y + 1100), drawn_parcels(), level1=LEVEL1, level2=LEVEL2, profile=WZ
    )
    assert result["parcels"] == [] and result["holders"] == 0 and result["low_efficiency_share"] == 0.0
    assert result["area_mu"] == pytest.approx(15.0, rel=1e-9) and result["block_line_levels"] == []


def test_assess_zone_with_a_multipolygon_counts_a_holder_once() -> None:
    parcels = make(ROW[:3], holder_ids=["H1", "H2", "H1"])
    zone = shapely.MultiPolygon([box(X, Y, X + 100, Y + 100), box(X + 200, Y, X + 300, Y + 100)])
    result = assess_zone(zone, parcels, level1=NONE, level2=NONE, profile=WZ)
    assert [p["parcel_no"] for p in result["parcels"]] == ["P1", "P3"] and result["holders"] == 1
    assert result["area_mu"] == pytest.approx(30.0, rel=1e-9)


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        (shapely.Point(X, Y), "Polygon or MultiPolygon"),
        (shapely.Polygon(), "empty"),
        (shapely.Polygon([(X, Y), (X + 10, Y + 10), (X + 10, Y), (X, Y + 10)]), "not a valid polygon"),
        (box(120.6, 28.0, 120.7, 28.1), "longitude/latitude"),
    ],
)
def test_assess_zone_refuses_a_zone_it_cannot_measure(zone: shapely.Geometry, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assess_zone(zone, drawn_parcels(), level1=LEVEL1, level2=LEVEL2, profile=WZ)


def test_assess_zone_refuses_layers_in_different_crss() -> None:
    with pytest.raises(ValueError, match="different CRSs"):
        assess_zone(DRAWN, drawn_parcels(), level1=LEVEL1.to_crs("EPSG:4547"), level2=LEVEL2, profile=WZ)
    with pytest.raises(ValueError, match="geographic"):
        assess_zone(DRAWN, drawn_parcels().to_crs("EPSG:4490"), level1=LEVEL1, level2=LEVEL2, profile=WZ)


# ======================================================================================================
# an independent check in PostGIS: ST_ClusterDBSCAN with eps = gap finds the same groups
# ======================================================================================================


def city_block(seed: int) -> gpd.GeoDataFrame:
    """About 300 parcels on a grid with roads of 0–30 m (none within a centimetre of 15 m), plus the
    corner-to-corner pairs at 14.9 m and 15.1 m and the healthy bridge."""
    rng = np.random.default_rng(seed)
    n_cols, n_rows = 20, 14
    widths = rng.choice([40.0, 70.0, 100.0, 160.0], n_cols)
    heights = rng.choice([60.0, 100.0, 150.0], n_rows)
    roads = np.array([0.0, 0.0, 8.0, 12.0, 14.5, 15.5, 20.0, 30.0])
    x0 = X + np.concatenate([[0.0], np.cumsum(widths + rng.choice(roads, n_cols))[:-1]])
    y0 = Y + np.concatenate([[0.0], np.cumsum(heights + rng.choice(roads, n_rows))[:-1]])
    gx, gy = np.meshgrid(x0, y0)
    gw, gh = np.meshgrid(widths, heights)
    grid = list(shapely.box(gx.ravel(), gy.ravel(), (gx + gw).ravel(), (gy + gh).ravel()))
    low = list(rng.random(len(grid)) < 0.5)
    far = 10_000.0
    extra = [translate(g, far) for g in corner_to_corner(14.9)]
    extra += [translate(g, far, 1000) for g in corner_to_corner(15.1)]
    extra += [
        translate(g, far, 2000)
        for g in (
            box(X, Y, X + 200, Y + 100),
            box(X + 212, Y, X + 412, Y + 100),
            box(X + 424, Y, X + 624, Y + 100),
        )
    ]
    return make(
        grid + extra,
        low=low + [True] * 4 + [True, False, True],
        nos=[f"C{i:04d}" for i in range(len(grid) + len(extra))],
    )


@pytest.mark.parametrize(("min_mu", "gap_m"), [(50.0, 15.0), (20.0, 15.0), (20.0, 0.0), (50.0, 13.0)])
def test_postgis_cluster_dbscan_finds_the_same_zones(engine: sa.Engine, min_mu: float, gap_m: float) -> None:
    parcels = city_block(seed=11)
    zones = detect_zones(parcels, min_mu=min_mu, gap_m=gap_m)
    assert len(zones) >= 3  # a test that compares something
    rows = [
        {"no": no, "low": bool(low), "wkb": wkb}
        for no, low, wkb in zip(
            parcels["parcel_no"],
            parcels["low_efficiency"],
            shapely.to_wkb(parcels.geometry.to_numpy(), hex=True),
            strict=False,
        )
    ]
    with engine.connect() as conn:
        conn.execute(
            sa.text("CREATE TEMP TABLE t_parcels (parcel_no text, low boolean, geom geometry(Polygon, 4549))")
        )
        conn.execute(
            sa.text(
                "INSERT INTO t_parcels VALUES (:no, :low, ST_SetSRID(ST_GeomFromWKB(decode(:wkb, 'hex')), 4549))"
            ),
            rows,
        )
        found = conn.execute(
            sa.text("""
            WITH c AS (
                SELECT parcel_no, geom, ST_ClusterDBSCAN(geom, eps := :gap, minpoints := 1) OVER () AS cid
                FROM t_parcels WHERE low)
            SELECT array_agg(parcel_no ORDER BY parcel_no), sum(ST_Area(geom)) / :m2_per_mu
            FROM c GROUP BY cid HAVING sum(ST_Area(geom)) / :m2_per_mu >= :min_mu - 0.005"""),
            {"gap": gap_m, "m2_per_mu": M2_PER_MU, "min_mu": min_mu},
        ).all()
        conn.rollback()
    assert {frozenset(r[0]) for r in found} == groups(zones)
    by_group = {frozenset(r[0]): r[1] for r in found}
    for zone in zones.itertuples():
        assert zone.area_mu == pytest.approx(by_group[frozenset(zone.parcels)], rel=1e-9)


def test_grades_are_the_four_of_the_profile() -> None:
    assert set(WZ.value("consolidation.low_efficiency_grades")) <= set(GRADES)


def test_store_path_finds_the_same_zones_as_the_memory_path(engine) -> None:
    """PostGIS ST_ClusterDBSCAN (the CLI's path) against STRtree + components, on the demo city."""
    from blockline.demo import load_demo
    from blockline.services.zones import detect_zones_in_store
    from geo.queries import read_parcels

    load_demo(engine, user="test", n_parcels=1500, seed=11)
    parcels = read_parcels(engine)
    parcels["low_efficiency"] = parcels["is_low_efficiency"].fillna(False).astype(bool)
    for gap, min_mu in ((15.0, 50.0), (30.0, 100.0), (0.0, 20.0)):
        memory = detect_zones(parcels, min_mu=min_mu, gap_m=gap)
        store = detect_zones_in_store(
            engine,
            low_efficiency_parcel_nos=parcels.loc[parcels["low_efficiency"], "parcel_no"],
            min_mu=min_mu,
            gap_m=gap,
        )
        assert len(memory) > 0
        assert list(store["zone_id"]) == list(memory["zone_id"])
        assert list(store["area_mu"]) == pytest.approx(list(memory["area_mu"]))
        assert list(store["holders"]) == list(memory["holders"])


# -- the boundaries at the millimetre and the hundredth of a 亩 (issue 11.2/11.3) -------------------------------


def test_a_15_m_gap_joins_after_reprojection_from_the_zone_prefixed_crs() -> None:
    """Pairs of 30-亩 parcels 14.999, 15.000 (twelve times) and 15.001 m apart, drawn in EPSG:4528 (the "40"
    zone prefix) and reprojected to EPSG:4549, where the 15.000 m gaps come out a few nanometres either side."""
    gaps = [14.999] + [15.000] * 12 + [15.001]
    geoms, nos = [], []
    for i, gap in enumerate(gaps):
        x0 = 40_000_000 + X + 10.0 + (i % 4) * 480.123 + i * 0.0137
        y0 = Y + 10.0 + (i // 4) * 150.77 + i * 0.0291
        geoms += [box(x0, y0, x0 + 200, y0 + 100), box(x0 + 200 + gap, y0, x0 + 400 + gap, y0 + 100)]
        nos += [f"G{i:02d}-a", f"G{i:02d}-b"]
    parcels = make(geoms, nos=nos).set_crs("EPSG:4528", allow_override=True).to_crs(CRS)
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    assert sorted(z[0][:3] for z in zones["parcels"]) == [
        f"G{i:02d}" for i, g in enumerate(gaps) if g <= 15.0
    ]
    assert zones["area_mu"].tolist() == pytest.approx([60.0] * 13)


def test_a_zone_of_50_00_mu_reaches_the_threshold() -> None:
    """达到50亩 includes 50.00 亩: areas are compared to the hundredth of a 亩 a planner reports."""
    for mu, reached in ((49.99, False), (50.00, True), (50.01, True), (49.995 - 1e-9, False)):
        parcel = make([box(X, Y, X + 100, Y + mu * 20 / 3)])
        assert len(detect_zones(parcel, min_mu=50, gap_m=15)) == int(reached), mu
        result = assess_zone(
            box(X, Y, X + 100, Y + mu * 20 / 3), parcel, level1=NONE, level2=NONE, profile=WZ
        )
        assert result["meets_threshold"] is reached, mu


def test_block_line_levels_ignore_slivers_below_the_reported_hundredth() -> None:
    """A zone is in a level when its overlap with the lines reaches 0.005 亩 (3.33 m², 0.01 亩 as reported): a
    line that only touches the zone, or overlaps it by rounding noise, is not listed."""
    parcels = make([box(X, Y, X + 200, Y + 100), box(X, Y + 100, X + 200, Y + 200)])
    zones = detect_zones(parcels, min_mu=50, gap_m=15)
    ratings = pd.DataFrame({"parcel_no": [], "year": [], "grade": []})
    for width, listed in ((0.0, False), (0.0166, False), (0.0167, True), (1.0, True)):
        line = gpd.GeoDataFrame(
            geometry=[box(X + 200 - width, Y, X + 400, Y + 200)], crs=CRS
        )  # width × 200 m
        out = describe_zones(
            zones, parcels, level1=line, level2=NONE, ratings=ratings, as_of=dt.date(2026, 6, 1)
        )
        assert out.loc[0, "block_line_levels"] == ([1] if listed else []), width
        assert out.loc[0, "level1_mu"] == pytest.approx(width * 200 / M2_PER_MU, abs=1e-9)
