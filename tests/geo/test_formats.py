"""Reading planners' files in every format they arrive in (``geo.io.read_vector``).

The same two parcels, hand-built 100 m × 100 m boxes near Wenzhou in EPSG:4549 (10000 m² = 15 亩 each),
with Chinese attributes, are written as GeoPackage, GeoJSON (lon/lat), FileGDB, KML (lon/lat), CSV with a
WKT column, a zipped shapefile and a zipped FileGDB. Every one must come back with the names exactly as
written and the areas of the boxes.

Tolerances. Binary formats store the EPSG:4549 doubles as written: no error at all. GeoJSON and KML store
lon/lat as text with 15 significant digits (GDAL's default), i.e. 1e-12° ≈ 1e-7 m, and the
EPSG:4549 → lon/lat → EPSG:4549 round trip through PROJ's Gauss-Krüger is exact to well below that. So
1e-6 m on every vertex (ten times the worst text rounding) and ``rel=1e-6`` on areas (0.01 m² of 10000 m²)
hold for all formats; a real error (a wrong datum shift, a swapped axis) is metres to kilometres.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import MultiPolygon, Point, Polygon
from shapely.testing import assert_geometries_equal

from geo.errors import InputError, ValidationError
from geo.io import read_table, read_vector
from tests.files import WENZHOU_X0, WENZHOU_Y0, square, write_shapefile

PARCEL_NOS = ["WZ-001", "WZ-002"]
# 镕 is in GBK but not in GB2312: a decoder that falls back to GB2312 would lose it.
HOLDERS = ["温州宏达机械有限公司", "乐清市镕盛电气有限公司"]
BOXES = [square(WENZHOU_X0, WENZHOU_Y0), square(WENZHOU_X0 + 200, WENZHOU_Y0)]
EXPECTED = [MultiPolygon([b]) for b in BOXES]
TOL_M = 1e-6


def assert_boxes(got: gpd.GeoSeries | list, expected: list, *, tol_m: float = TOL_M) -> None:
    """Vertex by vertex within ``tol_m``, whatever the ring's start vertex and orientation.

    Coordinates are rounded to the micrometre before normalising, so that 567999.9999999999 and 568000.0
    sort alike (normalisation orders rings by their smallest vertex).
    """
    snap = shapely.transform(np.asarray(got, dtype=object), lambda c: np.round(c, 6))
    assert_geometries_equal(snap, np.asarray(expected, dtype=object), tolerance=tol_m, normalize=True)


def parcels(crs: str | int = "EPSG:4549") -> gpd.GeoDataFrame:
    """The two parcels, built in EPSG:4549 and reprojected to ``crs``."""
    gdf = gpd.GeoDataFrame({"宗地编号": PARCEL_NOS, "权利人": HOLDERS}, geometry=BOXES, crs="EPSG:4549")
    return gdf.to_crs(crs)


def zip_tree(root: Path, archive: Path) -> Path:
    """Zip everything under ``root`` with paths relative to ``root``'s parent (so a .gdb stays a folder)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root.parent).as_posix())
    return archive


def zip_files(files: list[Path], archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.name)
    return archive


# --- one writer per format: (path to read, read_vector options, drivers that may report it) ---------------


def _gpkg(tmp: Path) -> tuple[Path, dict, set[str]]:
    parcels().to_file(tmp / "宗地.gpkg", driver="GPKG", engine="pyogrio")
    return tmp / "宗地.gpkg", {}, {"GPKG"}


def _geojson(tmp: Path) -> tuple[Path, dict, set[str]]:
    parcels(4326).to_file(tmp / "宗地.geojson", driver="GeoJSON", engine="pyogrio")
    return tmp / "宗地.geojson", {}, {"GeoJSON"}


def _filegdb(tmp: Path) -> tuple[Path, dict, set[str]]:
    parcels().to_file(tmp / "宗地.gdb", driver="OpenFileGDB", layer="parcels", engine="pyogrio")
    return tmp / "宗地.gdb", {}, {"OpenFileGDB"}


def _kml(tmp: Path) -> tuple[Path, dict, set[str]]:
    parcels(4326).to_file(tmp / "宗地.kml", driver="KML", engine="pyogrio")
    return tmp / "宗地.kml", {}, {"KML", "LIBKML"}


def _csv_wkt(tmp: Path) -> tuple[Path, dict, set[str]]:
    gdf = parcels()
    pd.DataFrame({"宗地编号": gdf["宗地编号"], "权利人": gdf["权利人"], "WKT": gdf.geometry.to_wkt()}).to_csv(
        tmp / "宗地.csv", index=False, encoding="utf-8"
    )
    return tmp / "宗地.csv", {"crs": "4549"}, {"CSV (WKT)"}


def _zipped_shapefile(tmp: Path) -> tuple[Path, dict, set[str]]:
    folder = tmp / "shp"
    folder.mkdir()
    # GBK with a .cpg, as Chinese offices send them; GBK keeps 宗地编号 (8 bytes) whole in the 10-byte header.
    write_shapefile(parcels(), folder / "宗地.shp", encoding="GBK")
    return zip_files(sorted(folder.iterdir()), tmp / "宗地.zip"), {}, {"ESRI Shapefile"}


def _zipped_filegdb(tmp: Path) -> tuple[Path, dict, set[str]]:
    folder = tmp / "gdb"
    folder.mkdir()
    parcels().to_file(folder / "宗地.gdb", driver="OpenFileGDB", layer="parcels", engine="pyogrio")
    return zip_tree(folder / "宗地.gdb", tmp / "宗地gdb.zip"), {}, {"OpenFileGDB"}


WRITERS: dict[str, Callable[[Path], tuple[Path, dict, set[str]]]] = {
    "gpkg": _gpkg,
    "geojson-lonlat": _geojson,
    "filegdb": _filegdb,
    "kml-lonlat": _kml,
    "csv-wkt": _csv_wkt,
    "zipped-shapefile": _zipped_shapefile,
    "zipped-filegdb": _zipped_filegdb,
}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_gives_the_names_and_the_boxes(tmp_path: Path, fmt: str) -> None:
    path, options, drivers = WRITERS[fmt](tmp_path)

    gdf, report = read_vector(path, storage_epsg=4549, **options)

    assert gdf["宗地编号"].tolist() == PARCEL_NOS
    assert gdf["权利人"].tolist() == HOLDERS
    assert gdf.crs.to_epsg() == 4549
    assert list(gdf.index) == [0, 1]
    assert gdf.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    assert gdf.area.tolist() == pytest.approx([10000.0, 10000.0], rel=1e-6)
    assert_boxes(gdf.geometry.array, EXPECTED)
    assert report.features == 2
    assert report.driver in drivers
    assert report.repairs.problems == [] and report.repairs.repaired == []


def test_zipped_shapefile_report_names_the_dataset_inside(tmp_path: Path) -> None:
    path, _, _ = _zipped_shapefile(tmp_path)
    _, report = read_vector(path, storage_epsg=4549)
    assert report.file == "宗地.zip"
    assert report.dataset == "宗地.shp"
    assert report.encoding == "GB18030"  # GBK as read by its superset
    assert report.crs_how == "file"


def test_csv_without_crs_is_refused_naming_the_option(tmp_path: Path) -> None:
    path, _, _ = _csv_wkt(tmp_path)
    with pytest.raises(InputError, match="--crs"):
        read_vector(path, storage_epsg=4549)


def test_csv_in_lonlat_with_crs_4490(tmp_path: Path) -> None:
    gdf = parcels(4490)
    # Full precision (17 significant digits, 1e-14° ≈ 1e-9 m); to_wkt's default of 6 decimals would be 0.1 m.
    wkt = gdf.geometry.to_wkt(rounding_precision=-1)
    pd.DataFrame({"宗地编号": gdf["宗地编号"], "权利人": gdf["权利人"], "geometry": wkt}).to_csv(
        tmp_path / "ll.csv", index=False
    )
    got, _ = read_vector(tmp_path / "ll.csv", storage_epsg=4549, crs="EPSG:4490")
    assert_boxes(got.geometry.array, EXPECTED)


def test_csv_with_bad_wkt_names_the_row(tmp_path: Path) -> None:
    text = f'宗地编号,WKT\nWZ-001,"{BOXES[0].wkt}"\nWZ-002,"POLYGON ((1 2, 3"\n'
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"row 2.*WKT does not parse") as info:
        read_vector(tmp_path / "bad.csv", storage_epsg=4549, crs="4549")
    assert [p.row for p in info.value.problems] == [2]


def test_csv_without_a_wkt_column_is_refused(tmp_path: Path) -> None:
    pd.DataFrame({"宗地编号": PARCEL_NOS, "权利人": HOLDERS}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError, match="no WKT geometry column"):
        read_vector(tmp_path / "t.csv", storage_epsg=4549, crs="4549")


# --- layers --------------------------------------------------------------------------------------------


def _two_polygon_layers(tmp: Path) -> Path:
    path = tmp / "两年.gpkg"
    parcels().to_file(path, layer="宗地_2023", engine="pyogrio")
    parcels().iloc[[1]].to_file(path, layer="宗地_2024", engine="pyogrio")
    return path


def test_two_polygon_layers_need_a_layer_and_the_message_lists_them(tmp_path: Path) -> None:
    path = _two_polygon_layers(tmp_path)
    with pytest.raises(InputError, match="--layer: 宗地_2023, 宗地_2024"):
        read_vector(path, storage_epsg=4549)


def test_layer_option_picks_that_layer(tmp_path: Path) -> None:
    path = _two_polygon_layers(tmp_path)
    gdf, report = read_vector(path, storage_epsg=4549, layer="宗地_2024")
    assert report.layer == "宗地_2024"
    assert gdf["宗地编号"].tolist() == ["WZ-002"]
    assert_boxes(gdf.geometry.array, EXPECTED[1:])


def test_unknown_layer_is_refused_listing_the_layers(tmp_path: Path) -> None:
    path = _two_polygon_layers(tmp_path)
    with pytest.raises(InputError, match="no layer named '宗地_2025'.*layers: 宗地_2023, 宗地_2024"):
        read_vector(path, storage_epsg=4549, layer="宗地_2025")


def test_the_only_polygon_layer_is_chosen_beside_a_point_layer(tmp_path: Path) -> None:
    path = tmp_path / "mixed.gpkg"
    gpd.GeoDataFrame(
        {"名称": ["门卫"]}, geometry=[Point(WENZHOU_X0 + 50, WENZHOU_Y0 + 50)], crs="EPSG:4549"
    ).to_file(path, layer="门卫点", engine="pyogrio")
    parcels().to_file(path, layer="宗地", engine="pyogrio")
    gdf, report = read_vector(path, storage_epsg=4549)
    assert report.layer == "宗地"
    assert gdf["宗地编号"].tolist() == PARCEL_NOS


def test_the_only_polygon_layer_is_chosen_beside_an_attribute_table(tmp_path: Path) -> None:
    # A GeoPackage with the parcels and a plain lookup table (no geometry): the table is not a candidate.
    path = tmp_path / "with_table.gpkg"
    parcels().to_file(path, layer="宗地", engine="pyogrio")
    pyogrio.write_dataframe(pd.DataFrame({"代码": ["1001"], "名称": ["工业用地"]}), path, layer="用途代码表")
    assert pyogrio.list_layers(path)[1, 1] is None  # GDAL reports the table with no geometry type
    gdf, report = read_vector(path, storage_epsg=4549)
    assert report.layer == "宗地"
    assert gdf["宗地编号"].tolist() == PARCEL_NOS


# --- refusals: damaged, empty, attributes only ------------------------------------------------------------


def test_truncated_geopackage_is_refused_not_a_crash(tmp_path: Path) -> None:
    good, _, _ = _gpkg(tmp_path)
    raw = good.read_bytes()
    (tmp_path / "half.gpkg").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="cannot read the file"):
        read_vector(tmp_path / "half.gpkg", storage_epsg=4549)


def test_garbage_named_gpkg_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.gpkg").write_bytes(b"this is not a GeoPackage\n" * 50)
    with pytest.raises(InputError, match="cannot read the file"):
        read_vector(tmp_path / "junk.gpkg", storage_epsg=4549)


def _shapefile_folder(tmp: Path) -> Path:
    folder = tmp / "shp"
    folder.mkdir()
    return write_shapefile(parcels(), folder / "p.shp", encoding="GBK")


def test_shp_cut_inside_its_header_is_refused(tmp_path: Path) -> None:
    shp = _shapefile_folder(tmp_path)
    shp.write_bytes(shp.read_bytes()[:50])  # the main file header alone is 100 bytes
    with pytest.raises(InputError, match="cannot read the file"):
        read_vector(shp, storage_epsg=4549)


def test_shp_cut_inside_the_second_record_is_refused(tmp_path: Path) -> None:
    shp = _shapefile_folder(tmp_path)
    raw = shp.read_bytes()
    # 100-byte header, then record 1: 8-byte record header + 128-byte polygon of 5 points (44 + 4 + 80).
    # Cutting at 100 + 136 + 20 leaves record 2 incomplete.
    assert len(raw) == 100 + 2 * 136
    shp.write_bytes(raw[: 100 + 136 + 20])
    with pytest.raises(InputError, match=r"corrupt|row 2"):
        read_vector(shp, storage_epsg=4549)


def test_shapefile_without_dbf_is_refused(tmp_path: Path) -> None:
    shp = _shapefile_folder(tmp_path)
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(InputError, match=r"no \.dbf"):
        read_vector(shp, storage_epsg=4549)


def test_empty_layer_is_refused(tmp_path: Path) -> None:
    parcels().iloc[:0].to_file(tmp_path / "empty.gpkg", engine="pyogrio")
    with pytest.raises(InputError, match="no features"):
        read_vector(tmp_path / "empty.gpkg", storage_epsg=4549)


def test_attribute_only_geopackage_table_is_refused(tmp_path: Path) -> None:
    pyogrio.write_dataframe(
        pd.DataFrame({"宗地编号": PARCEL_NOS, "权利人": HOLDERS}), tmp_path / "t.gpkg", layer="宗地表"
    )
    with pytest.raises(InputError, match=r"no geometry \(attributes only\)"):
        read_vector(tmp_path / "t.gpkg", storage_epsg=4549)


def test_xlsx_table_is_refused_as_attributes_only(tmp_path: Path) -> None:
    pd.DataFrame({"宗地编号": PARCEL_NOS, "权利人": HOLDERS}).to_excel(tmp_path / "t.xlsx", index=False)
    with pytest.raises(InputError, match=r"no geometry \(attributes only\)"):
        read_vector(tmp_path / "t.xlsx", storage_epsg=4549)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_vector(tmp_path / "nowhere.gpkg", storage_epsg=4549)


# --- what reading does to the features ---------------------------------------------------------------------


def test_z_coordinates_are_dropped_and_counted(tmp_path: Path) -> None:
    gdf = parcels()
    gdf = gdf.set_geometry(shapely.force_3d(np.asarray(gdf.geometry.array), z=12.5), crs=gdf.crs)
    gdf.to_file(tmp_path / "z.gpkg", engine="pyogrio")
    got, report = read_vector(tmp_path / "z.gpkg", storage_epsg=4549)
    assert report.repairs.dropped_z == 2
    assert not shapely.has_z(np.asarray(got.geometry.array)).any()
    assert got.area.tolist() == pytest.approx([10000.0, 10000.0], rel=1e-6)


def test_a_bow_tie_in_a_file_is_repaired_and_reported(tmp_path: Path) -> None:
    x, y = WENZHOU_X0, WENZHOU_Y0
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gpd.GeoDataFrame({"宗地编号": ["WZ-009"]}, geometry=[bowtie], crs="EPSG:4549").to_file(
        tmp_path / "b.gpkg", engine="pyogrio"
    )
    got, report = read_vector(tmp_path / "b.gpkg", storage_epsg=4549, label_column="宗地编号")
    # Two triangles meeting at the centre, each half of 100 × 50: 2500 + 2500.
    assert got.area.iloc[0] == pytest.approx(5000.0, rel=1e-9)
    [repair] = report.repairs.repaired
    assert (repair.row, repair.feature) == (1, "宗地编号=WZ-009")
    assert "Self-intersection" in repair.reason
    assert (repair.area_before, repair.area_after) == pytest.approx((0.0, 5000.0), abs=1e-6)


def test_every_problem_of_a_file_is_reported_at_once_with_rows_and_labels(tmp_path: Path) -> None:
    x, y = WENZHOU_X0, WENZHOU_Y0
    gpd.GeoDataFrame(
        {"宗地编号": ["A", "B", "C", "D"]},
        geometry=[None, square(x, y), square(x + 40_000_000, y), Point(x, y)],  # C carries a zone prefix
        crs="EPSG:4549",
    ).to_file(tmp_path / "bad.gpkg", engine="pyogrio")
    with pytest.raises(ValidationError, match="3 problem") as info:
        read_vector(tmp_path / "bad.gpkg", storage_epsg=4549, label_column="宗地编号")
    problems = info.value.problems
    assert [(p.row, p.feature) for p in problems] == [(1, "宗地编号=A"), (3, "宗地编号=C"), (4, "宗地编号=D")]
    assert "empty or missing" in problems[0].en
    assert "4528" in problems[1].en
    assert "Point" in problems[2].en


def test_read_table_reads_csv_and_xlsx(tmp_path: Path) -> None:
    frame = pd.DataFrame({"宗地编号": PARCEL_NOS, "权利人": HOLDERS})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    for name in ("t.csv", "t.xlsx"):
        got = read_table(tmp_path / name)
        assert got.columns.tolist() == ["宗地编号", "权利人"]
        assert got["权利人"].tolist() == HOLDERS


def test_read_table_refuses_other_files(tmp_path: Path) -> None:
    _gpkg(tmp_path)
    with pytest.raises(InputError, match="must be CSV or XLSX"):
        read_table(tmp_path / "宗地.gpkg")
