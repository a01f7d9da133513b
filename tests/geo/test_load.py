"""Loading planners' files into the real PostGIS store: values worked out by hand, checked by PostGIS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa

from geo.errors import InputError, ValidationError
from geo.load import load_blocklines, load_boundaries, load_parcels, load_ratings
from tests.files import WENZHOU_X0, WENZHOU_Y0, square, two_counties, write_shapefile

X, Y = WENZHOU_X0, WENZHOU_Y0
HOLDERS = ["温州宏达机械有限公司", "瓯海鑫源鞋业有限公司", "鹿城区永兴阀门厂"]


def _snapshot(engine: sa.Engine) -> dict[str, object]:
    """Everything a failed load must leave unchanged."""
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*), coalesce(max(id), 0) FROM {t}")).one()
            for t in ("loads", "parcels", "block_lines", "ratings")
        } | {"areas": conn.execute(sa.text("SELECT count(*) FROM admin_areas")).scalar_one()}


@pytest.fixture
def counties(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    path = tmp_path / "counties.gpkg"
    two_counties().to_file(path, engine="pyogrio")
    result = load_boundaries(engine, path, user="test")
    assert (result.inserted, result.updated) == (2, 0)
    return engine


def _parcel_file(tmp_path: Path, *, crs: str = "EPSG:4528", encoding: str = "GBK", cpg: bool = False) -> Path:
    # Three 100 m squares: two in 鹿城区 (x < X+2000), one in 瓯海区; written with the "40" zone prefix.
    offset = 40_000_000 if crs == "EPSG:4528" else 0
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["LC-001", "LC-002", "OH-001"],
            "权利人": HOLDERS,
            "土地用途": ["100101", "100102", "0701"],
            "约定开工日期": ["2021/3/5", "2021年4月1日", None],
            "用地面积": [10000.0, 10000.0, 13000.0],
            "备注": ["老厂区", None, "临路"],
        },
        geometry=[
            square(X + offset + 100, Y + 100),
            square(X + offset + 300, Y + 100),
            square(X + offset + 2500, Y + 500),
        ],
        crs=crs,
    )
    return write_shapefile(gdf, tmp_path / "宗地.shp", encoding=encoding, cpg=cpg)


def test_gbk_shapefile_without_cpg_in_4528(counties: sa.Engine, tmp_path: Path) -> None:
    path = _parcel_file(tmp_path)
    result = load_parcels(counties, path, user="planner-a")
    assert (result.inserted, result.updated) == (3, 0)
    assert result.read is not None and result.read.encoding == "GB18030"
    assert "4528" in result.read.source_crs
    with counties.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT parcel_no, holder, county_code, area_mu, ST_Area(geom) / (10000.0 / 15), agreed_start_on,
                   land_use, extra, source_area_mu, ST_SRID(geom), GeometryType(geom), created_by
            FROM parcels ORDER BY parcel_no""")
        ).all()
    assert [r.holder for r in rows] == [HOLDERS[0], HOLDERS[1], HOLDERS[2]]
    assert [r.county_code for r in rows] == ["330302", "330302", "330304"]
    for r in rows:
        assert r.area_mu == pytest.approx(15.0, rel=1e-9)
        assert r[4] == pytest.approx(r.area_mu, rel=1e-12)  # PostGIS agrees with shapely
        assert r[9] == 4549 and r[10] == "MULTIPOLYGON" and r.created_by == "planner-a"
    assert rows[0].agreed_start_on == dt.date(2021, 3, 5)
    assert rows[1].agreed_start_on == dt.date(2021, 4, 1)
    assert rows[2].agreed_start_on is None
    assert rows[0].extra["备注"] == "老厂区"  # unknown columns kept, not dropped
    # 13000 m² in the file against 10000 m² drawn: 19.50 亩 vs 15.00 亩, reported.
    assert rows[2].source_area_mu == pytest.approx(19.5)
    assert any("OH-001" in w and "19.50" in w for w in result.warnings)
    assert not any("LC-001" in w and "相差" in w for w in result.warnings)


def test_reload_updates_and_keeps_history(counties: sa.Engine, tmp_path: Path) -> None:
    path = _parcel_file(tmp_path)
    load_parcels(counties, path, user="test")
    again = load_parcels(counties, path, user="test")
    assert (again.inserted, again.updated) == (0, 3)
    with counties.connect() as conn:
        current = conn.execute(sa.text("SELECT count(*) FROM parcels WHERE valid_to IS NULL")).scalar_one()
        total = conn.execute(sa.text("SELECT count(*) FROM parcels")).scalar_one()
    assert (current, total) == (3, 6)


def test_file_without_crs_is_refused_and_nothing_written(counties: sa.Engine, tmp_path: Path) -> None:
    path = _parcel_file(tmp_path, crs="EPSG:4549")
    for f in tmp_path.glob("*.prj"):
        f.unlink()
    before = _snapshot(counties)
    with pytest.raises(InputError, match="--crs"):
        load_parcels(counties, path, user="test")
    assert _snapshot(counties) == before
    # the same file with --crs loads
    assert load_parcels(counties, path, user="test", crs="4549").inserted == 3


def test_a_bad_value_refuses_the_whole_file(counties: sa.Engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["A", "B", "B"], "约定开工日期": ["2021-01-01", "not a date", "2200-01-01"]},
        geometry=[square(X, Y), square(X + 200, Y), square(X + 400, Y)],
        crs="EPSG:4549",
    )
    path = tmp_path / "bad.gpkg"
    gdf.to_file(path, engine="pyogrio")
    before = _snapshot(counties)
    with pytest.raises(ValidationError) as info:
        load_parcels(counties, path, user="test")
    text = str(info.value)
    assert "not a date" in text and "2200-01-01" in text and "重复" in text
    assert {p.row for p in info.value.problems} == {2, 3}
    assert _snapshot(counties) == before


def test_failure_inside_the_transaction_leaves_nothing(counties: sa.Engine, tmp_path: Path) -> None:
    # A county code that no loaded boundary has is only found by the database, after the COPY.
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["A", "B"], "行政区代码": ["330302", "330399"]},
        geometry=[square(X, Y), square(X + 200, Y)],
        crs="EPSG:4549",
    )
    path = tmp_path / "codes.geojson"
    gdf.to_crs("EPSG:4326").to_file(path, engine="pyogrio")
    before = _snapshot(counties)
    with pytest.raises(InputError, match="330399"):
        load_parcels(counties, path, user="test")
    assert _snapshot(counties) == before


def test_field_map_and_missing_parcel_number(counties: sa.Engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"DKBH": ["Z-1"], "QYMC": ["宏达"]}, geometry=[square(X, Y)], crs="EPSG:4549")
    path = tmp_path / "plain.gpkg"
    gdf.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="--field-map"):
        load_parcels(counties, path, user="test")
    result = load_parcels(counties, path, user="test", field_map=["DKBH=parcel_no", "QYMC=holder"])
    assert result.inserted == 1
    with counties.connect() as conn:
        assert conn.execute(sa.text("SELECT holder FROM parcels")).scalar_one() == "宏达"


def test_repaired_geometry_is_stored_valid(counties: sa.Engine, tmp_path: Path) -> None:
    from shapely import Polygon

    bowtie = Polygon([(X, Y), (X + 100, Y + 100), (X + 100, Y), (X, Y + 100)])  # two triangles of 2500 m²
    gdf = gpd.GeoDataFrame({"宗地编号": ["BT-1"]}, geometry=[bowtie], crs="EPSG:4549")
    path = tmp_path / "bowtie.gpkg"
    gdf.to_file(path, engine="pyogrio")
    result = load_parcels(counties, path, user="test")
    assert result.read is not None and len(result.read.repairs.repaired) == 1
    with counties.connect() as conn:
        valid, area = conn.execute(sa.text("SELECT ST_IsValid(geom), ST_Area(geom) FROM parcels")).one()
    assert valid and area == pytest.approx(5000.0)


def test_database_refuses_invalid_geometry_directly(counties: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), counties.begin() as conn:
        conn.execute(
            sa.text("""
            INSERT INTO parcels (parcel_no, area_mu, created_by, geom)
            VALUES ('X', 1, 't', ST_Multi(ST_GeomFromText('POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))', 4549)))""")
        )


def test_county_derived_only_inside_boundaries(counties: sa.Engine, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["IN", "OUT"]},
        geometry=[square(X + 2100, Y + 100), square(X + 9000, Y + 9000)],
        crs="EPSG:4549",
    )
    path = tmp_path / "p.gpkg"
    gdf.to_file(path, engine="pyogrio")
    result = load_parcels(counties, path, user="test")
    assert any("1 parcels lie in no loaded county" in w for w in result.warnings)
    with counties.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT parcel_no, county_code FROM parcels")).all())
    assert got == {"IN": "330304", "OUT": None}


def test_blocklines_cut_by_county_and_versions_closed(counties: sa.Engine, tmp_path: Path) -> None:
    # 1000 m × 200 m straddling the county line at X+2000: 600 m in 鹿城区, 400 m in 瓯海区, 100 m outside.
    from shapely import box

    line = box(X + 1400, Y + 1900, X + 2400, Y + 2100)  # the top 100 m lies north of both counties
    path = tmp_path / "一级线.gpkg"
    gpd.GeoDataFrame(
        {"名称": ["瓯江口园区"], "批复文号": ["温政函〔2021〕1号"]}, geometry=[line], crs="EPSG:4549"
    ).to_file(path, engine="pyogrio")
    first = load_blocklines(counties, path, level=1, user="test")
    assert (first.inserted, first.closed) == (2, 0)
    # 1000 m × 100 m outside = 100000 m² = 150.00 亩 reported as not loaded
    assert any("150.00" in w for w in first.warnings)
    with counties.connect() as conn:
        got = dict(
            conn.execute(
                sa.text("SELECT county_code, ST_Area(geom) FROM block_lines WHERE valid_to IS NULL")
            ).all()
        )
        doc = conn.execute(sa.text("SELECT DISTINCT approval_doc FROM block_lines")).scalar_one()
    assert got["330302"] == pytest.approx(600 * 100)
    assert got["330304"] == pytest.approx(400 * 100)
    assert doc == "温政函〔2021〕1号"
    second = load_blocklines(counties, path, level=1, user="test", county="330304")
    assert (second.inserted, second.closed) == (1, 1)
    with counties.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM block_lines")).scalar_one() == 3
        assert (
            conn.execute(sa.text("SELECT count(*) FROM block_lines WHERE valid_to IS NULL")).scalar_one() == 2
        )


def test_blocklines_need_boundaries(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "l.gpkg"
    gpd.GeoDataFrame(geometry=[square(X, Y)], crs="EPSG:4549").to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="load boundaries"):
        load_blocklines(engine, path, level=1, user="test")


def test_boundaries_reload_updates(counties: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "b.geojson"
    gdf = two_counties("EPSG:4490").rename(columns={"code": "行政区代码", "name": "行政区名称"})
    gdf["行政区代码"] = gdf["行政区代码"] + "000000"  # 12-digit codes of the same counties
    gdf.to_file(path, engine="pyogrio")
    result = load_boundaries(counties, path, user="test")
    assert (result.inserted, result.updated) == (0, 2)
    with counties.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT code, level, parent_code, ST_Area(geom) FROM admin_areas ORDER BY code")
        ).all()
    assert [(r.code, r.level, r.parent_code) for r in rows] == [
        ("330302", "county", "330300"),
        ("330304", "county", "330300"),
    ]
    assert rows[0][3] == pytest.approx(4_000_000, rel=1e-6)


def test_ratings_from_xlsx_and_csv(engine: sa.Engine, tmp_path: Path) -> None:
    import pandas as pd

    xlsx = tmp_path / "亩均评价.xlsx"
    pd.DataFrame(
        {
            "统一社会信用代码": ["91330300MA2XXXXX1A", "91330300MA2XXXXX1A"],
            "年度": [2024, 2025],
            "评价等级": ["C类", "d"],
        }
    ).to_excel(xlsx, index=False)
    assert load_ratings(engine, xlsx, user="test").inserted == 2
    csv = tmp_path / "ratings.csv"
    csv.write_bytes("宗地编号,年度,等级\nLC-001,2025,B\n".encode("gbk"))
    assert load_ratings(engine, csv, user="test").inserted == 1
    # the same subject and year again replaces the grade
    pd.DataFrame({"统一社会信用代码": ["91330300MA2XXXXX1A"], "年度": [2025], "评价等级": ["A"]}).to_excel(
        xlsx, index=False
    )
    load_ratings(engine, xlsx, user="test")
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT coalesce(parcel_no, holder_id), year, grade FROM ratings ORDER BY 1, 2")
        ).all()
    assert [tuple(r) for r in got] == [
        ("91330300MA2XXXXX1A", 2024, "C"),
        ("91330300MA2XXXXX1A", 2025, "A"),
        ("LC-001", 2025, "B"),
    ]
    # the same subject and year twice in one file: the later row wins, as it would row by row
    twice = tmp_path / "twice.csv"
    twice.write_text("宗地编号,年度,等级\nLC-002,2025,A\nLC-002,2025,D\n LC-002 ,2024,C\n", encoding="utf-8")
    assert load_ratings(engine, twice, user="test").inserted == 3
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT year, grade FROM ratings WHERE parcel_no = 'LC-002' ORDER BY 1")
        ).all()
    assert [tuple(r) for r in got] == [(2024, "C"), (2025, "D")]
    bad = tmp_path / "bad.csv"
    bad.write_text("宗地编号,年度,等级\nX,2025,E\nY,19,A\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="A/B/C/D"):
        load_ratings(engine, bad, user="test")


def test_polygons_are_written_as_the_multipolygons_shapely_itself_writes() -> None:
    """The bulk path's hex EWKB (built with numpy, Polygons wrapped as one-part MultiPolygons without making
    the objects) is byte for byte what shapely writes for the MultiPolygons, in the storage SRID."""
    import numpy as np
    import shapely

    from geo.load_common import _hex_arrow

    polygons = np.array(
        [
            shapely.box(0, 0, 100, 100),
            shapely.Polygon([(0, 0), (30, 0), (0, 40)]),
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 7)]),
            shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 4, 4)),
        ],
        dtype=object,
    )
    multi = np.array(
        [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in polygons], dtype=object
    )
    expected = shapely.to_wkb(shapely.set_srid(multi, 4549), hex=True, include_srid=True, byte_order=1)
    assert _hex_arrow(polygons, 4549).to_pylist() == list(expected)
