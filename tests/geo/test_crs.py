"""Coordinate reference systems at the edge (``geo.crs``, through ``geo.io.read_vector``).

The same two 100 m boxes near Wenzhou, built in EPSG:4549 (CGCS2000 GK, CM 120°E, no zone prefix), are
written in every CRS Chinese data arrives in and must land on the same storage coordinates. Files whose
label does not match their numbers are refused with a hint that names the right CRS.

GCJ-02 coordinates are made with ``prcoords`` (an implementation independent of ``geo.gcj02``), from
lon/lat of the boxes reprojected by PROJ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely import MultiPolygon
from shapely.testing import assert_geometries_equal

from geo.crs import (
    GCJ02,
    gk_zone_epsg,
    parse_crs_option,
    resolve_source_crs,
    to_storage,
)
from geo.errors import InputError, ValidationError
from geo.io import read_vector
from tests.files import WENZHOU_X0, WENZHOU_Y0, square, write_shapefile

BOXES = [square(WENZHOU_X0, WENZHOU_Y0), square(WENZHOU_X0 + 200, WENZHOU_Y0)]
EXPECTED = [MultiPolygon([b]) for b in BOXES]
ZONE_PREFIX_M = 40_000_000.0  # zone 40: EPSG:4528's false easting is 40 500 000 m, EPSG:4549's 500 000 m


def parcels(crs: str | int = "EPSG:4549") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"宗地编号": ["WZ-001", "WZ-002"]}, geometry=BOXES, crs="EPSG:4549").to_crs(crs)


def relabelled(
    gdf: gpd.GeoDataFrame, crs: str | int | None, move: Callable[[np.ndarray], np.ndarray] | None = None
) -> gpd.GeoDataFrame:
    """The same numbers (optionally moved by ``move``) under another CRS label: no reprojection."""
    geoms = np.asarray(gdf.geometry.array)
    if move is not None:
        geoms = shapely.transform(geoms, move)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=geoms, crs=crs)


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, engine="pyogrio")
    return path


def assert_boxes(got: object, expected: list, *, tol_m: float) -> None:
    """Vertex by vertex within ``tol_m`` (rounded to the micrometre first so that rings normalise alike)."""
    snap = shapely.transform(np.asarray(got, dtype=object), lambda c: np.round(c, 6))
    assert_geometries_equal(snap, np.asarray(expected, dtype=object), tolerance=tol_m, normalize=True)


# --- every CRS of Chinese data lands on the same storage coordinates ---------------------------------------

SOURCES: dict[str, Callable[[], gpd.GeoDataFrame]] = {
    "EPSG:4490 lon/lat": lambda: parcels(4490),
    "EPSG:4326 WGS84 lon/lat": lambda: parcels(4326),
    "EPSG:4549 GK no prefix": lambda: parcels(4549),
    "EPSG:4528 GK zone 40, reprojected": lambda: parcels(4528),
    # By hand: the same numbers with 40 in front of the easting, labelled as what they are.
    "EPSG:4528 GK zone 40, prefix added by hand": lambda: relabelled(
        parcels(4549), 4528, lambda c: c + [ZONE_PREFIX_M, 0.0]
    ),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_crs_lands_on_the_same_storage_coordinates(tmp_path: Path, source: str) -> None:
    path = write(SOURCES[source](), tmp_path / "p.gpkg")
    got, report = read_vector(path, storage_epsg=4549)
    assert got.crs.to_epsg() == 4549
    # GPKG stores doubles; PROJ's GK round trip is exact to nanometres.
    assert_boxes(got.geometry.array, EXPECTED, tol_m=1e-6)
    assert got.area.tolist() == pytest.approx([10000.0, 10000.0], rel=1e-9)
    assert report.crs_how == "file"


def test_hand_prefixed_eastings_equal_pyproj_zone_40() -> None:
    by_hand = relabelled(parcels(4549), 4528, lambda c: c + [ZONE_PREFIX_M, 0.0])
    assert_boxes(by_hand.geometry.array, list(parcels(4528).geometry), tol_m=1e-6)


def test_storage_in_the_prefixed_zone(tmp_path: Path) -> None:
    path = write(parcels(4490), tmp_path / "p.gpkg")
    got, _ = read_vector(path, storage_epsg=4528)
    expected = [MultiPolygon([shapely.transform(b, lambda c: c + [ZONE_PREFIX_M, 0.0])]) for b in BOXES]
    assert_boxes(got.geometry.array, expected, tol_m=1e-6)


# --- GCJ-02 ------------------------------------------------------------------------------------------------


def _to_gcj02_with_prcoords(coords: np.ndarray) -> np.ndarray:
    out = np.empty_like(coords)
    for i, (lon, lat) in enumerate(coords):
        moved = prcoords.wgs_gcj(prcoords.Coords(lat, lon))  # prcoords takes and gives (lat, lon)
        out[i] = (moved.lon, moved.lat)
    return out


@pytest.fixture
def gcj_sites() -> gpd.GeoDataFrame:
    """A box in Wenzhou and one in Hangzhou (about 250 km apart, both in the CM 120°E zone), in EPSG:4549.

    The GCJ-02 offset differs between them by tens of metres, so a constant shift cannot pass.
    """
    hx, hy = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True).transform(120.15, 30.27)
    return gpd.GeoDataFrame(
        {"宗地编号": ["WZ-001", "HZ-001"]},
        geometry=[square(WENZHOU_X0, WENZHOU_Y0), square(round(hx), round(hy))],
        crs="EPSG:4549",
    )


def _gcj_file(sites: gpd.GeoDataFrame, path: Path, label: str | int | None) -> Path:
    wgs = sites.to_crs(4326)
    gcj = relabelled(wgs, None, _to_gcj02_with_prcoords)
    if path.suffix == ".csv":
        pd.DataFrame({"宗地编号": gcj["宗地编号"], "WKT": gcj.geometry.to_wkt(rounding_precision=-1)}).to_csv(
            path, index=False
        )
    else:
        gcj.set_crs(label).to_file(path, engine="pyogrio")
    return path


def test_gcj02_offset_of_the_test_data_is_hundreds_of_metres_and_not_constant(
    gcj_sites: gpd.GeoDataFrame,
) -> None:
    # A check on the test's own data (prcoords against PROJ), not on blockline.
    wgs = gcj_sites.to_crs(4326)
    gcj = relabelled(wgs, 4326, _to_gcj02_with_prcoords).to_crs(4549)
    shift = shapely.get_coordinates(gcj.centroid.values) - shapely.get_coordinates(gcj_sites.centroid.values)
    size = np.hypot(shift[:, 0], shift[:, 1])
    assert ((size > 300) & (size < 1000)).all()
    assert np.hypot(*(shift[0] - shift[1])) > 50


@pytest.mark.parametrize("option", ["gcj02", "GCJ-02", "gcj"])
def test_gcj02_file_is_converted_back_to_the_true_position(
    tmp_path: Path, gcj_sites: gpd.GeoDataFrame, option: str
) -> None:
    path = _gcj_file(gcj_sites, tmp_path / "amap.geojson", 4326)
    got, report = read_vector(path, storage_epsg=4549, crs=option)
    # The inverse is iterated to 1e-9° (0.1 mm); prcoords and geo.gcj02 share the published constants.
    assert_boxes(got.geometry.array, [MultiPolygon([g]) for g in gcj_sites.geometry], tol_m=0.05)
    assert "GCJ-02" in report.source_crs
    assert report.crs_how == "option overrides file"


def test_gcj02_file_read_as_wgs84_is_hundreds_of_metres_off(
    tmp_path: Path, gcj_sites: gpd.GeoDataFrame
) -> None:
    path = _gcj_file(gcj_sites, tmp_path / "amap.geojson", 4326)
    got, _ = read_vector(path, storage_epsg=4549, crs="4326")
    off = shapely.hausdorff_distance(np.asarray(got.geometry.array), np.asarray(gcj_sites.geometry.array))
    assert (off > 300).all()


@pytest.mark.parametrize("name,label", [("amap.csv", None), ("amap.gpkg", 4490)])
def test_gcj02_from_a_file_without_crs_or_labelled_cgcs2000(
    tmp_path: Path, gcj_sites: gpd.GeoDataFrame, name: str, label: int | None
) -> None:
    path = _gcj_file(gcj_sites, tmp_path / name, label)
    got, report = read_vector(path, storage_epsg=4549, crs="gcj02")
    assert_boxes(got.geometry.array, [MultiPolygon([g]) for g in gcj_sites.geometry], tol_m=0.05)
    assert "GCJ-02" in report.source_crs


# --- no CRS ------------------------------------------------------------------------------------------------


def test_shapefile_without_prj_and_no_option_is_refused(tmp_path: Path) -> None:
    shp = write_shapefile(parcels(), tmp_path / "p.shp", encoding="GBK")
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"no coordinate reference system.*--crs"):
        read_vector(shp, storage_epsg=4549)


def test_shapefile_without_prj_with_option_is_read(tmp_path: Path) -> None:
    shp = write_shapefile(parcels(), tmp_path / "p.shp", encoding="GBK")
    shp.with_suffix(".prj").unlink()
    got, report = read_vector(shp, storage_epsg=4549, crs="4549")
    assert_boxes(got.geometry.array, EXPECTED, tol_m=1e-6)
    assert report.crs_how == "option"


# --- mislabelled files are refused with the right hint ------------------------------------------------------


def test_prefixed_eastings_labelled_4549_are_refused_naming_4528(tmp_path: Path) -> None:
    path = write(relabelled(parcels(), 4549, lambda c: c + [ZONE_PREFIX_M, 0.0]), tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="--crs 4528") as info:
        read_vector(path, storage_epsg=4549)
    assert [p.row for p in info.value.problems] == [1, 2]
    assert all("zone prefix 40" in p.en for p in info.value.problems)


def test_unprefixed_eastings_labelled_4528_are_refused_naming_4549(tmp_path: Path) -> None:
    path = write(relabelled(parcels(), 4528), tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="--crs 4549") as info:
        read_vector(path, storage_epsg=4549)
    assert all("no zone prefix" in p.en for p in info.value.problems)


def test_swapped_lonlat_labelled_4490_is_refused_as_swapped(tmp_path: Path) -> None:
    path = write(relabelled(parcels(4490), 4490, lambda c: c[:, ::-1].copy()), tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="swapped"):
        read_vector(path, storage_epsg=4549)


def test_projected_metres_labelled_4490_are_refused(tmp_path: Path) -> None:
    path = write(relabelled(parcels(), 4490), tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="projected metres, not degrees"):
        read_vector(path, storage_epsg=4549)


def test_degrees_labelled_4549_are_refused_with_a_hint_to_4490(tmp_path: Path) -> None:
    # A lon/lat file that carries a .prj copied from a projected one.
    path = write(relabelled(parcels(4490), 4549), tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="look like degrees: use --crs 4490") as info:
        read_vector(path, storage_epsg=4549)
    assert all("--crs 4549" not in p.en for p in info.value.problems)  # not the CRS it already has


def test_many_mislabelled_features_are_refused_quickly(tmp_path: Path) -> None:
    # Each refused feature names the CRS; naming it must not cost a CRS database search per feature
    # (comparing a pyproj CRS with the string "gcj02" makes pyproj try to parse "gcj02": ~0.3 s a time).
    n = 6
    gdf = gpd.GeoDataFrame(
        {"宗地编号": [f"WZ-{i:03d}" for i in range(n)]},
        geometry=[square(WENZHOU_X0 + 200 * i, WENZHOU_Y0) for i in range(n)],
        crs=4490,
    )
    path = write(gdf, tmp_path / "p.gpkg")
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=f"{n} problem"):
        read_vector(path, storage_epsg=4549)
    assert time.perf_counter() - started < 2.0


def test_a_box_in_tokyo_is_refused_as_outside_china(tmp_path: Path) -> None:
    tokyo = gpd.GeoDataFrame(
        {"宗地编号": ["JP-1"]}, geometry=[shapely.box(139.70, 35.68, 139.701, 35.681)], crs=4326
    )
    path = write(tokyo, tmp_path / "p.gpkg")
    with pytest.raises(ValidationError, match="falls outside China"):
        read_vector(path, storage_epsg=4549)


# --- --crs overrides the file's own -------------------------------------------------------------------------

OVERRIDES: dict[str, tuple[Callable[[], gpd.GeoDataFrame], str]] = {
    "metres labelled 4490, --crs 4549": (lambda: relabelled(parcels(), 4490), "4549"),
    "prefixed labelled 4549, --crs 4528": (
        lambda: relabelled(parcels(), 4549, lambda c: c + [ZONE_PREFIX_M, 0.0]),
        "EPSG:4528",
    ),
    "lon/lat labelled 4549, --crs 4490": (lambda: relabelled(parcels(4490), 4549), "4490"),
    "4549 labelled 4549, --crs 4549": (lambda: parcels(), "4549"),
}


@pytest.mark.parametrize("case", list(OVERRIDES))
def test_crs_option_overrides_the_file(tmp_path: Path, case: str) -> None:
    make, option = OVERRIDES[case]
    path = write(make(), tmp_path / "p.gpkg")
    got, report = read_vector(path, storage_epsg=4549, crs=option)
    assert_boxes(got.geometry.array, EXPECTED, tol_m=1e-6)
    assert report.crs_how == "option overrides file"
    assert report.source_crs.startswith(f"EPSG:{parse_crs_option(option).to_epsg()} ")


# --- the pieces -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["4549", "EPSG:4549", "epsg:4549", " 4549 ", 4549])
def test_parse_crs_option_reads_epsg_codes(value: str | int) -> None:
    crs = parse_crs_option(value)
    assert isinstance(crs, CRS)
    assert crs.to_epsg() == 4549


@pytest.mark.parametrize("value", ["gcj02", "GCJ-02", "GCJ02", "gcj", "amap", "Gaode"])
def test_parse_crs_option_reads_gcj02(value: str) -> None:
    assert parse_crs_option(value) == GCJ02


@pytest.mark.parametrize("value", [None, ""])
def test_parse_crs_option_blank_is_none(value: str | None) -> None:
    assert parse_crs_option(value) is None


@pytest.mark.parametrize("value", ["EPSG:999999", "999999", "not a crs", "gcj03"])
def test_parse_crs_option_refuses_unknown(value: str) -> None:
    with pytest.raises(InputError, match="unknown CRS"):
        parse_crs_option(value)


def test_gk_zone_epsg_for_wenzhou() -> None:
    assert gk_zone_epsg(zone=40, prefixed=True) == 4528
    assert gk_zone_epsg(zone=40, prefixed=False) == 4549


@pytest.mark.parametrize("zone", range(25, 46))
def test_gk_zone_epsg_matches_the_epsg_definitions(zone: int) -> None:
    # Zone n: central meridian 3n °E; false easting n·10⁶ + 500 000 m with the prefix, 500 000 m without.
    for prefixed, false_easting in ((True, zone * 1_000_000 + 500_000), (False, 500_000)):
        crs = CRS.from_epsg(gk_zone_epsg(zone=zone, prefixed=prefixed))
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        assert "CGCS2000" in crs.name
        assert params["Longitude of natural origin"] == 3 * zone
        assert params["False easting"] == false_easting


@pytest.mark.parametrize("zone", [24, 46])
def test_gk_zone_epsg_refuses_zones_outside_china(zone: int) -> None:
    with pytest.raises(ValueError, match=f"zone {zone}"):
        gk_zone_epsg(zone=zone, prefixed=False)


def test_resolve_source_crs_order() -> None:
    file_crs = CRS.from_epsg(4549)
    assert resolve_source_crs(file_crs, None, file="f").how == "file"
    assert resolve_source_crs(file_crs, None, file="f").crs.to_epsg() == 4549
    over = resolve_source_crs(file_crs, CRS.from_epsg(4528), file="f")
    assert (over.crs.to_epsg(), over.how) == (4528, "option overrides file")
    gcj = resolve_source_crs(None, GCJ02, file="f")
    assert (gcj.crs, gcj.gcj02, gcj.how) == (None, True, "option")
    with pytest.raises(InputError, match="--crs"):
        resolve_source_crs(None, None, file="f")


def test_to_storage_returns_a_new_frame_and_leaves_the_input_alone() -> None:
    lonlat = parcels(4490)
    before = lonlat.copy()
    source = resolve_source_crs(lonlat.crs, None, file="f")
    out = to_storage(lonlat, source=source, storage_epsg=4549, file="f")
    assert out is not lonlat
    assert out.crs.to_epsg() == 4549
    assert list(out.index) == list(lonlat.index)
    assert_boxes(out.geometry.array, BOXES, tol_m=1e-6)
    assert lonlat.crs.to_epsg() == 4490
    assert_geometries_equal(np.asarray(lonlat.geometry.array), np.asarray(before.geometry.array))
