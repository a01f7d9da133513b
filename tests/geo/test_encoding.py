"""Text encodings of planners' files (``geo.encoding``, through ``geo.io``): no mojibake, ever.

Shapefiles in GBK with and without ``.cpg`` (and with one that lies), UTF-8 with field names cut
mid-character by the format's 10-byte limit, CSVs in GBK and in UTF-8 with a byte-order mark.
The decoded names must equal the originals exactly.
"""

from __future__ import annotations

import struct
from pathlib import Path

import geopandas as gpd
import pytest

from geo.encoding import (
    detect_bytes_encoding,
    detect_dbf_encoding,
    normalise_encoding_name,
)
from geo.errors import InputError
from geo.fields import map_columns
from geo.io import read_table, read_vector
from tests.files import WENZHOU_X0, WENZHOU_Y0, square, write_shapefile

PARCEL_NOS = ["WZ-001", "WZ-002", "WZ-003"]
# 镕 is in GBK but not in GB2312 (a GB2312 decoder would lose it); the brackets are full-width.
HOLDERS = ["温州宏达机械有限公司", "乐清市镕盛电气有限公司", "瓯海区甬江阀门厂（普通合伙）"]


def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"宗地编号": PARCEL_NOS, "权利人": HOLDERS},
        geometry=[square(WENZHOU_X0 + 200 * i, WENZHOU_Y0) for i in range(3)],
        crs="EPSG:4549",
    )


def shapefile(tmp: Path, encoding: str, *, cpg: str | None) -> Path:
    """The parcels as a shapefile in ``encoding``; ``cpg`` is the .cpg's text, or None for no .cpg."""
    shp = write_shapefile(parcels(), tmp / "宗地.shp", encoding=encoding, cpg=cpg is not None)
    if cpg is not None:
        (tmp / "宗地.cpg").write_bytes(cpg.encode("ascii"))
    return shp


def dbf_field_names(dbf: Path) -> list[bytes]:
    raw = dbf.read_bytes()
    header_len = struct.unpack("<H", raw[8:10])[0]
    return [raw[pos : pos + 11].split(b"\0")[0] for pos in range(32, header_len - 1, 32) if raw[pos] != 0x0D]


def set_dbf_field_name(dbf: Path, index: int, name: bytes) -> None:
    """Overwrite the ``index``-th field name of a dBase header with raw bytes (at most 10, NUL-padded)."""
    assert len(name) <= 10
    raw = bytearray(dbf.read_bytes())
    pos = 32 + 32 * index
    raw[pos : pos + 11] = name + b"\0" * (11 - len(name))
    dbf.write_bytes(bytes(raw))


# --- shapefiles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cpg", ["GBK", "936", "CP936", "GB2312", "ANSI 936", "gbk\r\n"])
def test_gbk_shapefile_with_cpg(tmp_path: Path, cpg: str) -> None:
    shp = shapefile(tmp_path, "GBK", cpg=cpg)
    gdf, report = read_vector(shp, storage_epsg=4549)
    assert gdf.columns.tolist() == ["宗地编号", "权利人", "geometry"]
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding == "GB18030"
    assert report.encoding_how == ".cpg file (宗地.cpg)"


def test_gbk_shapefile_without_cpg_is_told_from_its_bytes(tmp_path: Path) -> None:
    shp = shapefile(tmp_path, "GBK", cpg=None)
    gdf, report = read_vector(shp, storage_epsg=4549)
    assert gdf.columns.tolist() == ["宗地编号", "权利人", "geometry"]
    assert gdf["宗地编号"].tolist() == PARCEL_NOS
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding == "GB18030"
    assert report.encoding_how == "strict GB18030 decode"


@pytest.mark.parametrize("cpg", ["UTF-8", "65001", None])
def test_utf8_shapefile_with_and_without_cpg(tmp_path: Path, cpg: str | None) -> None:
    shp = shapefile(tmp_path, "UTF-8", cpg=cpg)
    gdf, report = read_vector(shp, storage_epsg=4549)
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding == "UTF-8"
    assert report.encoding_how == (".cpg file (宗地.cpg)" if cpg else "strict UTF-8 decode")


def test_cpg_that_lies_is_not_trusted(tmp_path: Path) -> None:
    # The bytes are GBK; the .cpg (copied from another export) says UTF-8.
    shp = shapefile(tmp_path, "GBK", cpg="UTF-8")
    gdf, report = read_vector(shp, storage_epsg=4549)
    assert gdf.columns.tolist() == ["宗地编号", "权利人", "geometry"]
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding == "GB18030"
    assert "the .cpg says UTF-8, which does not decode the attributes" in report.encoding_how


def test_explicit_encoding_wins_over_a_lying_cpg(tmp_path: Path) -> None:
    shp = shapefile(tmp_path, "GBK", cpg="UTF-8")
    gdf, report = read_vector(shp, storage_epsg=4549, encoding="GBK")
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding_how == "--encoding"


def test_explicit_encoding_on_a_shapefile_without_cpg(tmp_path: Path) -> None:
    shp = shapefile(tmp_path, "GBK", cpg=None)
    gdf, report = read_vector(shp, storage_epsg=4549, encoding="cp936")
    assert gdf["权利人"].tolist() == HOLDERS
    assert (report.encoding, report.encoding_how) == ("GB18030", "--encoding")


def test_unknown_explicit_encoding_is_refused(tmp_path: Path) -> None:
    shp = shapefile(tmp_path, "GBK", cpg=None)
    with pytest.raises(InputError, match="unknown text encoding 'klingon'"):
        read_vector(shp, storage_epsg=4549, encoding="klingon")


@pytest.mark.parametrize("cpg", ["UTF-8", None])
def test_utf8_header_cut_mid_character_is_read_and_recognised(tmp_path: Path, cpg: str | None) -> None:
    # 宗地编号 is 12 bytes in UTF-8; the format keeps 10: 宗 地 编 (9 bytes) and the first byte of 号.
    full = "宗地编号".encode()
    assert len(full) == 12
    shp = shapefile(tmp_path, "UTF-8", cpg=cpg)
    set_dbf_field_name(shp.with_suffix(".dbf"), 0, full[:10])  # whatever the writer did, make it the trap
    assert dbf_field_names(shp.with_suffix(".dbf"))[0] == b"\xe5\xae\x97\xe5\x9c\xb0\xe7\xbc\x96\xe5"

    gdf, report = read_vector(shp, storage_epsg=4549)

    assert gdf.columns.tolist() == ["宗地编", "权利人", "geometry"]
    assert gdf["宗地编"].tolist() == PARCEL_NOS
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding == "UTF-8"
    assert any("cut mid-character" in n for n in report.notes)
    assert map_columns(gdf.columns, field_map={}).rename == {"宗地编": "parcel_no", "权利人": "holder"}
    # The file on disk is not modified.
    assert dbf_field_names(shp.with_suffix(".dbf"))[0] == full[:10]


def test_gbk_headers_fit_whole_in_ten_bytes(tmp_path: Path) -> None:
    # The same header in GBK is 8 bytes: nothing is cut.
    shp = shapefile(tmp_path, "GBK", cpg=None)
    assert dbf_field_names(shp.with_suffix(".dbf")) == ["宗地编号".encode("gbk"), "权利人".encode("gbk")]


def test_detect_dbf_encoding_reads_only_the_sidecars(tmp_path: Path) -> None:
    shp = shapefile(tmp_path, "GBK", cpg=None)
    assert detect_dbf_encoding(shp) == ("GB18030", "strict GB18030 decode")
    (tmp_path / "宗地.cpg").write_text("UTF-8")
    found, how = detect_dbf_encoding(shp)
    assert found == "GB18030" and "the .cpg says UTF-8" in how


def test_uppercase_sidecars_are_found(tmp_path: Path) -> None:
    # Files copied from old Windows tools: 宗地.SHP, 宗地.DBF, 宗地.CPG …
    (tmp_path / "lower").mkdir()
    shapefile(tmp_path / "lower", "GBK", cpg="GBK")
    upper = tmp_path / "upper"
    upper.mkdir()
    for f in (tmp_path / "lower").iterdir():
        (upper / (f.stem + f.suffix.upper())).write_bytes(f.read_bytes())
    assert detect_dbf_encoding(upper / "宗地.SHP") == ("GB18030", ".cpg file (宗地.CPG)")
    gdf, _ = read_vector(upper / "宗地.SHP", storage_epsg=4549)
    assert gdf["权利人"].tolist() == HOLDERS


# --- CSV ----------------------------------------------------------------------------------------------------


def csv_text() -> str:
    rows = "".join(
        f'{p},{h},"{square(WENZHOU_X0 + 200 * i, WENZHOU_Y0).wkt}"\n'
        for i, (p, h) in enumerate(zip(PARCEL_NOS, HOLDERS, strict=False))
    )
    return "宗地编号,权利人,WKT\n" + rows


@pytest.mark.parametrize(
    "codec,expected", [("gbk", "GB18030"), ("utf-8-sig", "UTF-8-SIG"), ("utf-8", "UTF-8")]
)
def test_csv_with_wkt_in_each_encoding(tmp_path: Path, codec: str, expected: str) -> None:
    (tmp_path / "p.csv").write_bytes(csv_text().encode(codec))
    gdf, report = read_vector(tmp_path / "p.csv", storage_epsg=4549, crs="4549")
    assert gdf.columns.tolist() == ["宗地编号", "权利人", "geometry"]  # no "\ufeff宗地编号"
    assert gdf["权利人"].tolist() == HOLDERS
    assert gdf.area.tolist() == pytest.approx([10000.0] * 3, rel=1e-9)
    assert report.encoding == expected


@pytest.mark.parametrize("codec", ["gbk", "utf-8-sig", "utf-8"])
def test_read_table_in_each_encoding(tmp_path: Path, codec: str) -> None:
    (tmp_path / "t.csv").write_bytes(csv_text().encode(codec))
    table = read_table(tmp_path / "t.csv")
    assert table.columns.tolist() == ["宗地编号", "权利人", "WKT"]
    assert table["权利人"].tolist() == HOLDERS


def test_explicit_encoding_for_csv(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_bytes(csv_text().encode("gbk"))
    gdf, report = read_vector(tmp_path / "p.csv", storage_epsg=4549, crs="4549", encoding="GBK")
    assert gdf["权利人"].tolist() == HOLDERS
    assert report.encoding_how == "--encoding"
    assert read_table(tmp_path / "p.csv", encoding="GBK")["权利人"].tolist() == HOLDERS


def test_wrong_explicit_encoding_for_csv_is_refused_not_mojibake(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_bytes(csv_text().encode("gbk"))
    with pytest.raises(InputError, match="cannot read the file"):
        read_vector(tmp_path / "p.csv", storage_epsg=4549, crs="4549", encoding="UTF-8")


# --- the pieces ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("GBK", "GB18030"),
        ("gbk", "GB18030"),
        ("936", "GB18030"),
        ("cp936", "GB18030"),
        ("GB2312", "GB18030"),
        ("gb18030", "GB18030"),
        ("UTF-8", "UTF-8"),
        ("utf8", "UTF-8"),
        ("utf_8", "UTF-8"),
        ("65001", "UTF-8"),
        (" UTF-8\n", "UTF-8"),
        ("big5", "BIG5"),
        ("950", "BIG5"),
        ("latin1", "ISO-8859-1"),
    ],
)
def test_normalise_encoding_name(name: str, expected: str) -> None:
    assert normalise_encoding_name(name) == expected


def test_normalise_encoding_name_refuses_unknown() -> None:
    with pytest.raises(InputError, match="unknown text encoding"):
        normalise_encoding_name("not-a-codec")


@pytest.mark.parametrize(
    "data,expected",
    [
        ("宗地编号".encode("gbk"), "GB18030"),
        ("宗地编号".encode(), "UTF-8"),
        ("宗地编号".encode("utf-8-sig"), "UTF-8-SIG"),
        (b"ZDBH,QLR\nA-1,x\n", "UTF-8"),  # pure ASCII is UTF-8
        ("乐清市镕盛电气有限公司".encode("gb18030"), "GB18030"),
    ],
)
def test_detect_bytes_encoding(data: bytes, expected: str) -> None:
    assert detect_bytes_encoding(data)[0] == expected
