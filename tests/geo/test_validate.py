"""Geometry checks on the way in (``geo.validate``): each feature a clean MultiPolygon or a counted problem.

Shapes are hand-built in metres (EPSG:4549 labels; the checks are planar) with areas worked out by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box
from shapely.testing import assert_geometries_equal

from geo.validate import repair_polygons, to_multipolygons

BOWTIE = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
SQUARE = box(0, 0, 100, 100)


def series(geoms: list, **kw) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs="EPSG:4549", **kw)


def test_bow_tie_becomes_two_triangles_and_is_reported() -> None:
    fixed, report = repair_polygons(series([BOWTIE]), labels=["宗地编号=WZ-001"])
    # The edges (0,0)-(100,100) and (100,0)-(0,100) cross at (50,50): triangles (50,50),(100,100),(100,0)
    # and (0,0),(0,100),(50,50), each ½ · 100 · 50 = 2500 m². The ring's signed area is 0 (the lobes cancel).
    expected = MultiPolygon(
        [Polygon([(50, 50), (100, 100), (100, 0)]), Polygon([(0, 0), (0, 100), (50, 50)])]
    )
    assert_geometries_equal(fixed.iloc[0], expected, normalize=True)
    assert fixed.iloc[0].area == 5000.0
    [repair] = report.repaired
    assert (repair.row, repair.feature) == (1, "宗地编号=WZ-001")
    assert repair.reason.startswith("Self-intersection")
    assert (repair.area_before, repair.area_after) == (0.0, 5000.0)
    assert report.problems == []


def test_hole_crossing_the_shell_is_cut_out() -> None:
    # Hole x 50..150, y 25..75 sticks out of the 100 m square; the part inside (50 × 50) is cut out.
    poly = Polygon(SQUARE.exterior.coords, [[(50, 25), (150, 25), (150, 75), (50, 75)]])
    fixed, report = repair_polygons(series([poly]))
    assert fixed.iloc[0].area == 10000.0 - 2500.0
    expected = MultiPolygon([SQUARE.difference(box(50, 25, 100, 75))])
    assert_geometries_equal(fixed.iloc[0], expected, normalize=True)
    [repair] = report.repaired
    assert (repair.area_before, repair.area_after) == (10000.0 - 5000.0, 7500.0)  # before: shell − whole hole


def test_hole_sharing_an_edge_with_the_shell_is_cut_out() -> None:
    # Hole x 0..50, y 25..75 lies on the shell's left edge: invalid, the notch (2500 m²) is removed.
    poly = Polygon(SQUARE.exterior.coords, [[(0, 25), (50, 25), (50, 75), (0, 75)]])
    fixed, report = repair_polygons(series([poly]))
    assert fixed.iloc[0].area == 7500.0
    assert fixed.iloc[0].is_valid
    assert len(report.repaired) == 1


def test_hole_touching_the_shell_at_one_point_is_valid_and_kept() -> None:
    # A triangular hole (0,50),(50,25),(50,75) touches the shell at (0,50) only: valid. ½ · 50 · 50 = 1250.
    poly = Polygon(SQUARE.exterior.coords, [[(0, 50), (50, 25), (50, 75)]])
    fixed, report = repair_polygons(series([poly]))
    assert_geometries_equal(fixed.iloc[0], MultiPolygon([poly]))
    assert fixed.iloc[0].area == 10000.0 - 1250.0
    assert report.repaired == [] and report.problems == []


def test_duplicate_vertices_are_harmless() -> None:
    poly = Polygon([(0, 0), (100, 0), (100, 0), (100, 100), (0, 100), (0, 100), (0, 0)])
    fixed, report = repair_polygons(series([poly]))
    assert fixed.iloc[0].area == 10000.0
    assert fixed.iloc[0].geom_type == "MultiPolygon" and fixed.iloc[0].is_valid
    assert report.repaired == [] and report.problems == []


def test_overlapping_parts_of_a_multipolygon_are_merged() -> None:
    # Two 100 m squares overlapping by 50 m: 10000 + 10000 − 5000 = 15000.
    multi = MultiPolygon([SQUARE, box(50, 0, 150, 100)])
    fixed, report = repair_polygons(series([multi]))
    # The union keeps the crossing points as extra (collinear) vertices: compare topologically.
    assert fixed.iloc[0].geom_type == "MultiPolygon"
    assert fixed.iloc[0].equals(box(0, 0, 150, 100))
    [repair] = report.repaired
    assert (repair.area_before, repair.area_after) == (20000.0, 15000.0)


@pytest.mark.parametrize(
    "geom",
    [Polygon(), None, shapely.from_wkt("POLYGON Z EMPTY"), MultiPolygon()],
    ids=["empty", "None", "empty-z", "empty-multi"],
)
def test_empty_or_missing_geometry_is_a_problem(geom: object) -> None:
    fixed, report = repair_polygons(series([SQUARE, geom]), labels=["A", "B"])
    assert fixed.iloc[1] is None
    [problem] = report.problems
    assert (problem.row, problem.feature) == (2, "B")
    assert "empty or missing geometry" in problem.en


@pytest.mark.parametrize(
    "geom,name",
    [
        (Point(50, 50), "Point"),
        (LineString([(0, 0), (100, 100)]), "LineString"),
        (shapely.from_wkt("MULTIPOINT (0 0, 1 1)"), "MultiPoint"),
        (shapely.from_wkt("MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))"), "MultiLineString"),
    ],
)
def test_points_and_lines_are_problems_naming_the_type(geom: object, name: str) -> None:
    fixed, report = repair_polygons(series([geom]))
    assert fixed.iloc[0] is None
    [problem] = report.problems
    assert problem.row == 1
    assert f"geometry is a {name}, not a polygon" == problem.en


def test_z_coordinates_are_dropped_and_counted() -> None:
    z_square = Polygon([(0, 0, 7), (100, 0, 7), (100, 100, 8), (0, 100, 8)])
    fixed, report = repair_polygons(series([z_square, SQUARE, z_square]))
    assert report.dropped_z == 2
    assert not shapely.has_z(np.asarray(fixed.array)).any()
    assert_geometries_equal(fixed.iloc[0], MultiPolygon([SQUARE]), normalize=True)


def test_collection_keeps_its_polygon_and_drops_the_line() -> None:
    coll = GeometryCollection([SQUARE, LineString([(0, 0), (200, 200)])])
    fixed, report = repair_polygons(series([coll]))
    assert_geometries_equal(fixed.iloc[0], MultiPolygon([SQUARE]), normalize=True)
    [repair] = report.repaired
    assert "GeometryCollection" in repair.reason
    assert (repair.area_before, repair.area_after) == (10000.0, 10000.0)


def test_collection_without_a_polygon_is_a_problem() -> None:
    coll = GeometryCollection([Point(0, 0), LineString([(0, 0), (1, 1)])])
    fixed, report = repair_polygons(series([coll]))
    assert fixed.iloc[0] is None
    [problem] = report.problems
    assert "no polygon is left" in problem.en


def test_polygons_and_multipolygons_all_come_back_as_multipolygons() -> None:
    two = MultiPolygon([SQUARE, box(200, 0, 300, 100)])
    fixed, report = repair_polygons(series([SQUARE, two]))
    assert fixed.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    assert_geometries_equal(fixed.iloc[0], MultiPolygon([SQUARE]))
    assert_geometries_equal(fixed.iloc[1], two)
    assert fixed.area.tolist() == [10000.0, 20000.0]
    assert report.repaired == [] and report.problems == []


@pytest.mark.parametrize(
    "collapsed",
    [
        Polygon([(0, 0), (100, 0), (200, 0), (0, 0)]),  # all on a line
        Polygon([(0, 0), (100, 0), (100, 0), (0, 0)]),  # there and back
    ],
    ids=["on-a-line", "there-and-back"],
)
def test_zero_area_polygon_is_a_problem(collapsed: Polygon) -> None:
    fixed, report = repair_polygons(series([SQUARE, collapsed]))
    assert fixed.iloc[1] is None
    [problem] = report.problems
    assert problem.row == 2
    assert "no polygon is left after repair" in problem.en


def test_index_and_crs_are_kept_and_the_input_is_untouched() -> None:
    z_square = Polygon([(0, 0, 1), (100, 0, 1), (100, 100, 1), (0, 100, 1)])
    geoms = series([BOWTIE, z_square, Point(1, 1)], index=[10, 20, 30])
    before = geoms.copy()
    fixed, _ = repair_polygons(geoms)
    assert list(fixed.index) == [10, 20, 30]
    assert fixed.crs == geoms.crs
    assert fixed is not geoms
    assert_geometries_equal(np.asarray(geoms.array), np.asarray(before.array))
    assert geoms.iloc[1].has_z  # the Z was dropped in the result only
    assert geoms.iloc[0].geom_type == "Polygon" and not geoms.iloc[0].is_valid


def test_rows_are_counted_from_one_in_position_not_index() -> None:
    fixed, report = repair_polygons(series([SQUARE, None, BOWTIE], index=[7, 8, 9]))
    assert [p.row for p in report.problems] == [2]
    assert [r.row for r in report.repaired] == [3]


def test_to_multipolygons_flattens_nested_collections() -> None:
    nested = GeometryCollection(
        [GeometryCollection([SQUARE]), MultiPolygon([box(200, 0, 300, 100)]), Point(0, 0)]
    )
    out = to_multipolygons(np.array([nested, LineString([(0, 0), (1, 1)]), SQUARE], dtype=object))
    assert_geometries_equal(out[0], MultiPolygon([SQUARE, box(200, 0, 300, 100)]), normalize=True)
    assert out[1] is None
    assert_geometries_equal(out[2], MultiPolygon([SQUARE]))


# --- properties ---------------------------------------------------------------------------------------------

coord = st.integers(min_value=-5000, max_value=5000)
size = st.integers(min_value=1, max_value=2000)
boxes = st.builds(lambda x, y, w, h: box(x, y, x + w, y + h), coord, coord, size, size)


@settings(max_examples=60, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=20))
def test_valid_boxes_come_back_unchanged(geoms: list[Polygon]) -> None:
    fixed, report = repair_polygons(series(geoms))
    expected = np.array([MultiPolygon([g]) for g in geoms], dtype=object)
    assert_geometries_equal(np.asarray(fixed.array), expected)
    assert report.problems == [] and report.repaired == [] and report.dropped_z == 0


small = st.integers(min_value=0, max_value=100)
# Random quadrilaterals on a 100 m grid: valid ones, bow-ties, collapsed ones, and the odd repeated point.
quads = st.builds(lambda *xy: Polygon(list(zip(xy[0::2], xy[1::2], strict=False))), *[small] * 8)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(quads, min_size=1, max_size=12).flatmap(
        lambda g: st.tuples(st.just(g), st.permutations(range(len(g))))
    )
)
def test_result_does_not_depend_on_row_order(case: tuple[list[Polygon], list[int]]) -> None:
    geoms, order = case
    fixed, report = repair_polygons(series(geoms))
    fixed_p, report_p = repair_polygons(series([geoms[i] for i in order]))
    assert_geometries_equal(np.asarray(fixed_p.array), np.asarray(fixed.array)[order])
    # Each row is either a valid MultiPolygon or exactly one problem, whatever the order.
    none_rows = {i + 1 for i, g in enumerate(fixed) if g is None}
    assert {p.row for p in report.problems} == none_rows
    assert len(report.problems) == len(none_rows)
    kept = [g for g in fixed if g is not None]
    assert all(g.geom_type == "MultiPolygon" and g.is_valid and g.area > 0 for g in kept)
    # Problems and repairs follow their rows.
    position = {old: new + 1 for new, old in enumerate(order)}
    assert sorted(position[p.row - 1] for p in report.problems) == sorted(p.row for p in report_p.problems)
    assert sorted((position[r.row - 1], r.area_after) for r in report.repaired) == sorted(
        (r.row, r.area_after) for r in report_p.repaired
    )
