"""Real planners' files through ``blockline load``: Esri's geometry fields, several layers, no .prj with a zone
prefix, dates before the store's range, parcels across a county line, and a 台账 joined by parcel number.

The two counties of ``tests.files.two_counties``: 鹿城区 (330302) is [X, X+2000] × [Y, Y+2000] and 瓯海区
(330304) is [X+2000, X+4000] × [Y, Y+2000] in EPSG:4549; a 100 m × 100 m square is 15 亩 (10,000 m²).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from pyproj import CRS
from typer.testing import CliRunner

from cli import app
from geo.crs import suggest_crs
from tests.files import WENZHOU_X0 as X, WENZHOU_Y0 as Y, square, two_counties, write_shapefile

runner = CliRunner()
PREFIX = 40_000_000.0  # the "40" zone prefix of EPSG:4528's false easting


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _offset(crs: str) -> float:
    return PREFIX if crs == "EPSG:4528" else 0.0


@pytest.fixture
def counties(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    path = tmp_path / "counties.gpkg"
    two_counties().to_file(path, engine="pyogrio")
    code, _, err = _run("load", "boundaries", str(path))
    assert code == 0, err
    return engine


def _count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def _snapshot(engine: sa.Engine) -> tuple[object, ...]:
    """Everything a refused load must leave as it was: parcels (all versions) and the record of loads."""
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM parcels), (SELECT coalesce(max(id), 0) FROM parcels),"
            " (SELECT count(*) FROM loads), (SELECT count(*) FROM audit)")).one())


# -- 11.6 Esri's Shape_Area / Shape_Leng ------------------------------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_arcgis_shapefile_shape_area_is_not_read_as_hectares(counties: sa.Engine, tmp_path: Path, crs: str) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["E-1", "E-2"], "Shape_Leng": [400.0, 600.0], "Shape_Area": [10000.0, 20000.0]},
        geometry=[square(X + dx + 100, Y + 100), square(X + dx + 300, Y + 100, 100).union(
            square(X + dx + 400, Y + 100, 100))], crs=crs)
    path = write_shapefile(gdf, tmp_path / "arcgis.shp")
    code, out, err = _run("load", "parcels", str(path), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["inserted"] == 2
    assert not any("%" in w or "mu vs" in w for w in report["warnings"])  # no "999,900 % off"
    assert any("Shape_Area" in n and "Shape_Leng" in n for n in report["read"]["notes"])
    with counties.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT parcel_no, area_mu, source_area_mu, extra FROM parcels ORDER BY parcel_no")).all()
    assert [(r.parcel_no, r.area_mu) for r in rows] == [("E-1", pytest.approx(15.0)), ("E-2", pytest.approx(30.0))]
    assert all(r.source_area_mu is None and r.extra == {} for r in rows)  # neither compared nor kept as attributes


def test_filegdb_style_fields_with_the_planners_own_area(counties: sa.Engine, tmp_path: Path) -> None:
    """SHAPE_Area/SHAPE_Length (FileGDB's spelling) are left out; the planner's 用地面积 is still compared."""
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["G-1", "G-2"], "SHAPE_Length": [400.0, 400.0], "SHAPE_Area": [10000.0, 10000.0],
         "用地面积": [15.0, 20.0]},  # 亩 (told from the values): G-2's 20 亩 is 33.33 % more than its 15 亩
        geometry=[square(X + 100, Y + 100), square(X + 300, Y + 100)], crs="EPSG:4549")
    gdf.to_file(tmp_path / "gdb.gpkg", engine="pyogrio")
    code, out, err = _run("load", "parcels", str(tmp_path / "gdb.gpkg"), "--format", "json")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    mismatches = [w for w in warnings if "mu vs" in w]
    assert len(mismatches) == 1 and "G-2" in mismatches[0] and "用地面积" in mismatches[0] and "(33%)" in mismatches[0]


# -- 11.7 --layer ----------------------------------------------------------------------------------------------
def _two_layer_parcels(path: Path, crs: str) -> None:
    dx = _offset(crs)
    gpd.GeoDataFrame({"宗地编号": ["Y19-1"]}, geometry=[square(X + dx + 100, Y + 100)], crs=crs).to_file(
        path, layer="宗地2019", engine="pyogrio")
    gpd.GeoDataFrame({"宗地编号": ["Y20-1", "Y20-2"]}, geometry=[square(X + dx + 100, Y + 100),
                                                            square(X + dx + 300, Y + 100)], crs=crs).to_file(
        path, layer="宗地2020", engine="pyogrio")


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_parcels_layer_picked_with_layer(counties: sa.Engine, tmp_path: Path, crs: str) -> None:
    path = tmp_path / "宗地.gpkg"
    _two_layer_parcels(path, crs)
    before = _snapshot(counties)
    code, _, err = _run("load", "parcels", str(path))
    assert code == 2
    assert "--layer" in err and "宗地2019" in err and "宗地2020" in err and "宗地.gpkg" in err
    assert _snapshot(counties) == before
    code, out, err = _run("load", "parcels", str(path), "--layer", "宗地2020", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["read"]["layer"] == "宗地2020"
    with counties.connect() as conn:
        nos = conn.execute(sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL ORDER BY 1")).scalars().all()
    assert nos == ["Y20-1", "Y20-2"]


def test_unknown_layer_lists_the_layers(counties: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "宗地.gpkg"
    _two_layer_parcels(path, "EPSG:4549")
    code, _, err = _run("load", "parcels", str(path), "--layer", "宗地2021")
    assert code == 2 and "宗地2021" in err and "宗地2019" in err and "宗地2020" in err


def test_boundaries_and_blocklines_take_layer(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    two_counties().to_file(path, layer="县界", engine="pyogrio")
    two_counties().dissolve().assign(code="330300", name="温州市")[["code", "name", "geometry"]].to_file(
        path, layer="市界", engine="pyogrio")
    code, _, err = _run("load", "boundaries", str(path))
    assert code == 2 and "--layer" in err and "县界" in err and "市界" in err
    code, out, err = _run("load", "boundaries", str(path), "--layer", "县界", "--format", "json")
    assert code == 0 and json.loads(out)["inserted"] == 2, err
    lines = tmp_path / "区块线.gpkg"
    gpd.GeoDataFrame({"名称": ["一级"]}, geometry=[square(X + 100, Y + 100, 600)], crs="EPSG:4549").to_file(
        lines, layer="一级", engine="pyogrio")
    gpd.GeoDataFrame({"名称": ["二级"]}, geometry=[square(X + 800, Y + 100, 400)], crs="EPSG:4549").to_file(
        lines, layer="二级", engine="pyogrio")
    code, _, err = _run("load", "blocklines", str(lines), "--level", "1")
    assert code == 2 and "--layer" in err and "一级" in err and "二级" in err
    code, _, err = _run("load", "blocklines", str(lines), "--level", "2", "--layer", "二级")
    assert code == 0, err
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT level, name, ST_Area(geom) FROM block_lines WHERE valid_to IS NULL")).one()
    assert (row[0], row[1], row[2]) == (2, "二级", pytest.approx(160_000.0))


def test_ratings_take_layer_as_the_sheet(counties: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "评价.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"宗地编号": ["A-1"], "年度": [2023], "等级": ["A"]}).to_excel(xw, sheet_name="2023", index=False)
        pd.DataFrame({"宗地编号": ["A-1", "A-2"], "年度": [2024, 2024], "等级": ["C", "D"]}).to_excel(
            xw, sheet_name="2024", index=False)
    code, _, err = _run("load", "ratings", str(path))
    assert code == 2 and "--layer" in err and "2023" in err and "2024" in err
    code, out, err = _run("load", "ratings", str(path), "--layer", "2024", "--format", "json")
    assert code == 0 and json.loads(out)["inserted"] == 2, err
    with counties.connect() as conn:
        rows = conn.execute(sa.text("SELECT parcel_no, year, grade FROM ratings ORDER BY 1")).all()
    assert [tuple(r) for r in rows] == [("A-1", 2024, "C"), ("A-2", 2024, "D")]


# -- 17.6 no .prj, eastings with a zone prefix ------------------------------------------------------------------
def _no_prj(tmp_path: Path, crs: str) -> Path:
    """A 100 m square in 鹿城区, written in ``crs`` and its .prj removed."""
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame({"宗地编号": ["N-1"]}, geometry=[square(X + dx + 100, Y + 100)],
                           crs="EPSG:4528" if dx else "EPSG:4549").to_crs(crs)
    path = write_shapefile(gdf, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    return path


@pytest.mark.parametrize("crs,first", [
    ("EPSG:4528", "4528"),  # CGCS2000 3-degree zone 40 with its prefix
    ("EPSG:4549", "4549"),  # no prefix: CM 120°E, Wenzhou's
    ("EPSG:4490", "4490"),  # degrees
])
def test_no_prj_suggests_the_crs_the_coordinates_tell_first(counties: sa.Engine, tmp_path: Path, crs: str,
                                                            first: str) -> None:
    path = _no_prj(tmp_path, crs)
    code, _, err = _run("load", "parcels", str(path))
    assert code == 2 and "noprj.shp" in err and "坐标系" in err  # refused: never guessed silently
    text = " ".join(err.split())
    assert text.index(f"--crs {first}") == text.index("--crs ")  # the right one is the first suggested
    assert _count(counties, "SELECT count(*) FROM parcels") == 0
    code, _, err = _run("load", "parcels", str(path), "--crs", first)
    assert code == 0, err  # and it is right: the square lands in 鹿城区
    assert _count(counties, "SELECT count(*) FROM parcels WHERE county_code = '330302'") == 1


@pytest.mark.parametrize("zone", range(25, 46))
def test_every_3_degree_zone_prefix_is_told(zone: int) -> None:
    cm = 3 * zone
    [first, *_] = suggest_crs((zone * 1e6 + 450_000.0, 3_300_000.0, zone * 1e6 + 550_000.0, 3_310_000.0))
    params = {p.name: p.value for p in CRS.from_epsg(first.epsg).coordinate_operation.params}
    assert CRS.from_epsg(first.epsg).datum.name == "China 2000"
    assert params["False easting"] == zone * 1e6 + 500_000 and params["Longitude of natural origin"] == cm


@pytest.mark.parametrize("zone", range(13, 24))
def test_every_6_degree_zone_prefix_is_told(zone: int) -> None:
    [first, *_] = suggest_crs((zone * 1e6 + 450_000.0, 3_300_000.0, zone * 1e6 + 550_000.0, 3_310_000.0))
    params = {p.name: p.value for p in CRS.from_epsg(first.epsg).coordinate_operation.params}
    assert CRS.from_epsg(first.epsg).datum.name == "China 2000"
    assert params["False easting"] == zone * 1e6 + 500_000 and params["Longitude of natural origin"] == 6 * zone - 3


def test_mixed_prefixes_suggest_nothing_zoned() -> None:
    assert suggest_crs((40_500_000.0, 3_300_000.0, 41_500_000.0, 3_310_000.0)) == []


# -- 17.7 dates before the store's range ------------------------------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
@pytest.mark.parametrize("started,ok,says", [
    ("1948-12-31", False, "before the range of dates the store accepts (1949-01-01 to 2100-12-31)"),
    ("1949-01-01", True, ""),
    ("1949-01-02", True, ""),
    ("2100-12-31", True, ""),
    ("2101-01-01", False, "after the range of dates the store accepts (1949-01-01 to 2100-12-31)"),
])
def test_dates_outside_the_store_range_say_why(counties: sa.Engine, tmp_path: Path, crs: str, started: str,
                                               ok: bool, says: str) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame({"宗地编号": ["D-1"], "实际开工日期": [started]}, geometry=[square(X + dx + 100, Y + 100)],
                           crs=crs)
    gdf.to_file(tmp_path / "d.gpkg", engine="pyogrio")
    code, _, err = _run("load", "parcels", str(tmp_path / "d.gpkg"))
    if ok:
        assert code == 0, err
        assert _count(counties, f"SELECT count(*) FROM parcels WHERE started_on = DATE '{started}'") == 1
    else:
        text = " ".join(err.split())
        assert code == 2 and says in text and "not a date" not in text and "数据库接受的日期范围" in text
        assert _count(counties, "SELECT count(*) FROM parcels") == 0
