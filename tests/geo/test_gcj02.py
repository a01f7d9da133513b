"""Tests for geo.gcj02, against prcoords (an independent public-domain implementation of GCJ-02)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import prcoords
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely import LineString, MultiPolygon, Point, Polygon

from geo.gcj02 import CHINA_BBOX_DEG, gcj02_to_wgs84, in_china_bbox, transform_geometry, wgs84_to_gcj02

WGS84 = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """2000 random points over mainland China and Hainan (a box well inside the GCJ-02 box)."""
    rng = np.random.default_rng(20240601)
    return rng.uniform(73.6, 134.8, 2000), rng.uniform(18.0, 53.5, 2000)


def _distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(WGS84.inv(lon1, lat1, lon2, lat2)[2])


# --- forward ------------------------------------------------------------------------------------------


def test_forward_matches_prcoords(china_points):
    lon, lat = china_points
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    expected = np.array(
        [prcoords.wgs_gcj((b, a)) for a, b in zip(lon, lat, strict=False)]
    )  # prcoords is (lat, lon)
    np.testing.assert_allclose(gcj_lat, expected[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(gcj_lon, expected[:, 1], rtol=0, atol=1e-10)


def test_forward_known_point_in_wenzhou():
    lon, lat = wgs84_to_gcj02(120.699, 27.994)
    expected_lat, expected_lon = prcoords.wgs_gcj((27.994, 120.699))
    assert float(lon) == pytest.approx(expected_lon, abs=1e-10)
    assert float(lat) == pytest.approx(expected_lat, abs=1e-10)


# --- inverse ------------------------------------------------------------------------------------------


def test_inverse_matches_prcoords_default_precision(china_points):
    gcj_lon, gcj_lat = wgs84_to_gcj02(*china_points)
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    expected = np.array([prcoords.gcj_wgs_bored((b, a)) for a, b in zip(gcj_lon, gcj_lat, strict=False)])
    np.testing.assert_allclose(lat, expected[:, 0], rtol=0, atol=1e-7)
    np.testing.assert_allclose(lon, expected[:, 1], rtol=0, atol=1e-7)


def test_inverse_matches_prcoords_run_to_convergence(china_points, monkeypatch):
    # prcoords stops at 1e-5 degree steps by default; tighten it to compare at 1e-9 degree (0.1 mm).
    monkeypatch.setattr(prcoords, "PRC_EPS", 1e-13)
    gcj_lon, gcj_lat = wgs84_to_gcj02(*china_points)
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    expected = np.array([prcoords.gcj_wgs_bored((b, a)) for a, b in zip(gcj_lon, gcj_lat, strict=False)])
    np.testing.assert_allclose(lat, expected[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lon, expected[:, 1], rtol=0, atol=1e-9)


def test_round_trip_wgs_gcj_wgs_well_under_a_centimetre(china_points):
    lon, lat = china_points
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9
    assert _distance_m(lon, lat, back_lon, back_lat).max() < 1e-3


def test_round_trip_gcj_wgs_gcj(china_points):
    gcj_lon, gcj_lat = china_points
    again_lon, again_lat = wgs84_to_gcj02(*gcj02_to_wgs84(gcj_lon, gcj_lat))
    np.testing.assert_allclose(again_lon, gcj_lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(again_lat, gcj_lat, rtol=0, atol=1e-9)


def test_inverse_is_exact_not_the_one_step_approximation(china_points):
    lon, lat = china_points
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    rough = np.array(
        [prcoords.gcj_wgs((b, a)) for a, b in zip(gcj_lon, gcj_lat, strict=False)]
    )  # one-step inverse
    rough_error_m = _distance_m(lon, lat, rough[:, 1], rough[:, 0])
    exact_error_m = _distance_m(lon, lat, *gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert rough_error_m.max() > 1.0  # the one-step inverse is off by metres somewhere in China
    assert exact_error_m.max() < 1e-3


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(min_value=CHINA_BBOX_DEG[0] + 0.1, max_value=CHINA_BBOX_DEG[2] - 0.1),
    lat=st.floats(min_value=CHINA_BBOX_DEG[1] + 0.1, max_value=CHINA_BBOX_DEG[3] - 0.1),
)
def test_round_trip_property(lon, lat):
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert float(back_lon) == pytest.approx(lon, abs=1e-9)
    assert float(back_lat) == pytest.approx(lat, abs=1e-9)


def test_inverse_reports_non_convergence():
    with pytest.raises(ValueError, match="did not converge .* for 1 of 1 points"):
        gcj02_to_wgs84(120.7, 28.0, max_iter=1)


@pytest.mark.parametrize("kwargs", [{"tol_deg": 0.0}, {"tol_deg": -1e-9}, {"max_iter": 0}])
def test_inverse_refuses_bad_options(kwargs):
    with pytest.raises(ValueError, match="tol_deg|max_iter"):
        gcj02_to_wgs84(120.7, 28.0, **kwargs)


# --- outside China, shapes, NaN -----------------------------------------------------------------------

OUTSIDE = [(2.35, 48.857), (-74.006, 40.713), (139.69, 35.69), (151.21, -33.87), (71.9, 40.0), (100.0, 56.0)]


@pytest.mark.parametrize("func", [wgs84_to_gcj02, gcj02_to_wgs84])
def test_identity_outside_china(func):
    lon, lat = np.array(OUTSIDE).T
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)
    assert not in_china_bbox(lon, lat).any()


@pytest.mark.parametrize("func", [wgs84_to_gcj02, gcj02_to_wgs84])
def test_nan_passes_through_and_shapes_broadcast(func):
    lon = np.array([[120.7, np.nan], [120.8, 2.35]])
    out_lon, out_lat = func(lon, 28.0)
    assert out_lon.shape == out_lat.shape == (2, 2)
    assert np.isnan(out_lon[0, 1])
    assert out_lon[1, 1] == 2.35 and out_lat[1, 1] == 28.0
    scalar_lon, scalar_lat = func(120.7, 28.0)
    assert scalar_lon.shape == scalar_lat.shape == ()
    assert float(scalar_lon) == pytest.approx(out_lon[0, 0], abs=0)


def test_inputs_are_not_modified():
    lon, lat = np.array([120.7, 121.0]), np.array([28.0, 28.1])
    wgs84_to_gcj02(lon, lat)
    gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, [120.7, 121.0])
    np.testing.assert_array_equal(lat, [28.0, 28.1])


# --- the offset is real ---------------------------------------------------------------------------------


def test_offset_is_hundreds_of_metres_in_wenzhou_and_yiwu():
    lon = np.array([120.699, 120.075])
    lat = np.array([27.994, 29.306])
    offset_m = _distance_m(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert ((offset_m > 400) & (offset_m < 700)).all()


def test_offset_varies_across_china(china_points):
    lon, lat = china_points
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    offset_m = _distance_m(lon, lat, gcj_lon, gcj_lat)
    assert 200 < np.median(offset_m) < 700
    assert offset_m.max() - offset_m.min() > 300  # not a constant shift ...
    azimuth = np.asarray(WGS84.inv(lon, lat, gcj_lon, gcj_lat)[0])
    assert np.ptp(azimuth) > 30  # ... in size or in direction


def test_offset_varies_over_a_kilometre():
    # Two points 1 km apart in Wenzhou are moved differently (the offset is not locally constant either).
    lon = np.array([120.699, 120.699 + 1000 / (111_320 * np.cos(np.radians(27.994)))])
    lat = np.array([27.994, 27.994])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    before = _distance_m(lon[0], lat[0], lon[1], lat[1])
    after = _distance_m(gcj_lon[0], gcj_lat[0], gcj_lon[1], gcj_lat[1])
    assert abs(after - before) > 0.01


# --- geometries ---------------------------------------------------------------------------------------

SQUARE = [(120.69, 27.99), (120.70, 27.99), (120.70, 28.00), (120.69, 28.00), (120.69, 27.99)]
HOLE = [(120.693, 27.993), (120.693, 27.996), (120.696, 27.996), (120.696, 27.993), (120.693, 27.993)]
GEOMS = [
    Polygon(SQUARE, [HOLE]),
    MultiPolygon([Polygon(SQUARE, [HOLE]), Polygon([(120.8, 28.1), (120.9, 28.1), (120.9, 28.2)])]),
    LineString([(120.0, 29.3), (120.1, 29.31)]),
    Point(120.075, 29.306),
    Point(120.075, 29.306, 42.0),
    shapely.from_wkt("POLYGON EMPTY"),
    None,
]


@pytest.mark.parametrize("direction", ["gcj02_to_wgs84", "wgs84_to_gcj02"])
def test_geometries_keep_type_rings_vertices_and_z(direction):
    moved = transform_geometry(np.array(GEOMS, dtype=object), direction=direction)
    assert isinstance(moved, np.ndarray) and len(moved) == len(GEOMS)
    assert moved[-1] is None
    src, out = np.array(GEOMS[:-1], dtype=object), moved[:-1]
    assert shapely.get_type_id(out).tolist() == shapely.get_type_id(src).tolist()
    assert shapely.get_num_geometries(out).tolist() == shapely.get_num_geometries(src).tolist()
    assert shapely.get_num_coordinates(out).tolist() == shapely.get_num_coordinates(src).tolist()
    assert shapely.has_z(out).tolist() == shapely.has_z(src).tolist()
    assert shapely.get_num_interior_rings(out[0]) == 1
    assert [shapely.get_num_interior_rings(p) for p in out[1].geoms] == [1, 0]
    assert shapely.get_coordinates(out[4], include_z=True)[0, 2] == 42.0
    assert shapely.is_valid(out[:2]).all()


@pytest.mark.parametrize("direction", ["gcj02_to_wgs84", "wgs84_to_gcj02"])
def test_geometry_vertices_match_the_point_functions(direction):
    func = gcj02_to_wgs84 if direction == "gcj02_to_wgs84" else wgs84_to_gcj02
    moved = transform_geometry(GEOMS[1], direction=direction)
    src_xy, out_xy = shapely.get_coordinates(GEOMS[1]), shapely.get_coordinates(moved)
    exp_lon, exp_lat = func(src_xy[:, 0], src_xy[:, 1])
    np.testing.assert_array_equal(out_xy[:, 0], exp_lon)
    np.testing.assert_array_equal(out_xy[:, 1], exp_lat)


def test_geometry_round_trip():
    there = transform_geometry(np.array(GEOMS[:4], dtype=object), direction="wgs84_to_gcj02")
    back = transform_geometry(there, direction="gcj02_to_wgs84")
    assert shapely.equals_exact(back, np.array(GEOMS[:4], dtype=object), tolerance=1e-9).all()
    assert not shapely.equals_exact(there, np.array(GEOMS[:4], dtype=object), tolerance=1e-3).any()


def test_geoseries_keeps_index_and_name_and_sets_crs():
    gcj = gpd.GeoSeries(GEOMS[:4], index=[10, 20, 30, 40], name="shape", crs=None)
    wgs = transform_geometry(gcj, direction="gcj02_to_wgs84")
    assert isinstance(wgs, gpd.GeoSeries)
    assert wgs.index.tolist() == [10, 20, 30, 40] and wgs.name == "shape"
    assert wgs.crs == "EPSG:4326"
    assert gcj.crs is None and gcj.iloc[3].equals(GEOMS[3])  # input untouched
    cgcs = transform_geometry(gcj.set_crs(4490), direction="gcj02_to_wgs84")
    assert cgcs.crs == "EPSG:4490"
    assert transform_geometry(cgcs, direction="wgs84_to_gcj02").crs is None


def test_geoseries_in_projected_crs_is_refused():
    projected = gpd.GeoSeries([Point(500000, 3100000)], crs=4549)
    with pytest.raises(ValueError, match="projected"):
        transform_geometry(projected, direction="gcj02_to_wgs84")


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        transform_geometry([GEOMS[3]], direction="bd09_to_wgs84")  # type: ignore[arg-type]
