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

from blockline.cli import app
from geo.crs import suggest_crs
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties, write_shapefile

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
        return tuple(
            conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM parcels), (SELECT coalesce(max(id), 0) FROM parcels),"
                    " (SELECT count(*) FROM loads), (SELECT count(*) FROM audit)"
                )
            ).one()
        )


# -- 11.6 Esri's Shape_Area / Shape_Leng ------------------------------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_arcgis_shapefile_shape_area_is_not_read_as_hectares(
    counties: sa.Engine, tmp_path: Path, crs: str
) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["E-1", "E-2"], "Shape_Leng": [400.0, 600.0], "Shape_Area": [10000.0, 20000.0]},
        geometry=[
            square(X + dx + 100, Y + 100),
            square(X + dx + 300, Y + 100, 100).union(square(X + dx + 400, Y + 100, 100)),
        ],
        crs=crs,
    )
    path = write_shapefile(gdf, tmp_path / "arcgis.shp")
    code, out, err = _run("load", "parcels", str(path), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["inserted"] == 2
    assert not any("%" in w or "mu vs" in w for w in report["warnings"])  # no "999,900 % off"
    assert any("Shape_Area" in n and "Shape_Leng" in n for n in report["read"]["notes"])
    with counties.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT parcel_no, area_mu, source_area_mu, extra FROM parcels ORDER BY parcel_no")
        ).all()
    assert [(r.parcel_no, r.area_mu) for r in rows] == [
        ("E-1", pytest.approx(15.0)),
        ("E-2", pytest.approx(30.0)),
    ]
    assert all(
        r.source_area_mu is None and r.extra == {} for r in rows
    )  # neither compared nor kept as attributes


def test_filegdb_style_fields_with_the_planners_own_area(counties: sa.Engine, tmp_path: Path) -> None:
    """SHAPE_Area/SHAPE_Length (FileGDB's spelling) are left out; the planner's 用地面积 is still compared."""
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["G-1", "G-2"],
            "SHAPE_Length": [400.0, 400.0],
            "SHAPE_Area": [10000.0, 10000.0],
            "用地面积": [15.0, 20.0],
        },  # 亩 (told from the values): G-2's 20 亩 is 33.33 % more than its 15 亩
        geometry=[square(X + 100, Y + 100), square(X + 300, Y + 100)],
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "gdb.gpkg", engine="pyogrio")
    code, out, err = _run("load", "parcels", str(tmp_path / "gdb.gpkg"), "--format", "json")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    mismatches = [w for w in warnings if "mu vs" in w]
    assert (
        len(mismatches) == 1
        and "G-2" in mismatches[0]
        and "用地面积" in mismatches[0]
        and "(33%)" in mismatches[0]
    )


# -- 11.7 --layer ----------------------------------------------------------------------------------------------
def _two_layer_parcels(path: Path, crs: str) -> None:
    dx = _offset(crs)
    gpd.GeoDataFrame({"宗地编号": ["Y19-1"]}, geometry=[square(X + dx + 100, Y + 100)], crs=crs).to_file(
        path, layer="宗地2019", engine="pyogrio"
    )
    gpd.GeoDataFrame(
        {"宗地编号": ["Y20-1", "Y20-2"]},
        geometry=[square(X + dx + 100, Y + 100), square(X + dx + 300, Y + 100)],
        crs=crs,
    ).to_file(path, layer="宗地2020", engine="pyogrio")


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
        nos = (
            conn.execute(sa.text("SELECT parcel_no FROM parcels WHERE valid_to IS NULL ORDER BY 1"))
            .scalars()
            .all()
        )
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
        path, layer="市界", engine="pyogrio"
    )
    code, _, err = _run("load", "boundaries", str(path))
    assert code == 2 and "--layer" in err and "县界" in err and "市界" in err
    code, out, err = _run("load", "boundaries", str(path), "--layer", "县界", "--format", "json")
    assert code == 0 and json.loads(out)["inserted"] == 2, err
    lines = tmp_path / "区块线.gpkg"
    gpd.GeoDataFrame({"名称": ["一级"]}, geometry=[square(X + 100, Y + 100, 600)], crs="EPSG:4549").to_file(
        lines, layer="一级", engine="pyogrio"
    )
    gpd.GeoDataFrame({"名称": ["二级"]}, geometry=[square(X + 800, Y + 100, 400)], crs="EPSG:4549").to_file(
        lines, layer="二级", engine="pyogrio"
    )
    code, _, err = _run("load", "blocklines", str(lines), "--level", "1")
    assert code == 2 and "--layer" in err and "一级" in err and "二级" in err
    code, _, err = _run("load", "blocklines", str(lines), "--level", "2", "--layer", "二级")
    assert code == 0, err
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT level, name, ST_Area(geom) FROM block_lines WHERE valid_to IS NULL")
        ).one()
    assert (row[0], row[1], row[2]) == (2, "二级", pytest.approx(160_000.0))


def test_ratings_take_layer_as_the_sheet(counties: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "评价.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"宗地编号": ["A-1"], "年度": [2023], "等级": ["A"]}).to_excel(
            xw, sheet_name="2023", index=False
        )
        pd.DataFrame({"宗地编号": ["A-1", "A-2"], "年度": [2024, 2024], "等级": ["C", "D"]}).to_excel(
            xw, sheet_name="2024", index=False
        )
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
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["N-1"]},
        geometry=[square(X + dx + 100, Y + 100)],
        crs="EPSG:4528" if dx else "EPSG:4549",
    ).to_crs(crs)
    path = write_shapefile(gdf, tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    return path


@pytest.mark.parametrize(
    "crs,first",
    [
        ("EPSG:4528", "4528"),  # CGCS2000 3-degree zone 40 with its prefix
        ("EPSG:4549", "4549"),  # no prefix: CM 120°E, Wenzhou's
        ("EPSG:4490", "4490"),  # degrees
    ],
)
def test_no_prj_suggests_the_crs_the_coordinates_tell_first(
    counties: sa.Engine, tmp_path: Path, crs: str, first: str
) -> None:
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
    assert (
        params["False easting"] == zone * 1e6 + 500_000
        and params["Longitude of natural origin"] == 6 * zone - 3
    )


def test_mixed_prefixes_suggest_nothing_zoned() -> None:
    assert suggest_crs((40_500_000.0, 3_300_000.0, 41_500_000.0, 3_310_000.0)) == []


# -- 17.7 dates before the store's range ------------------------------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
@pytest.mark.parametrize(
    "started,ok,says",
    [
        ("1948-12-31", False, "before the range of dates the store accepts (1949-01-01 to 2100-12-31)"),
        ("1949-01-01", True, ""),
        ("1949-01-02", True, ""),
        ("2100-12-31", True, ""),
        ("2101-01-01", False, "after the range of dates the store accepts (1949-01-01 to 2100-12-31)"),
    ],
)
def test_dates_outside_the_store_range_say_why(
    counties: sa.Engine, tmp_path: Path, crs: str, started: str, ok: bool, says: str
) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["D-1"], "实际开工日期": [started]}, geometry=[square(X + dx + 100, Y + 100)], crs=crs
    )
    gdf.to_file(tmp_path / "d.gpkg", engine="pyogrio")
    code, _, err = _run("load", "parcels", str(tmp_path / "d.gpkg"))
    if ok:
        assert code == 0, err
        assert _count(counties, f"SELECT count(*) FROM parcels WHERE started_on = DATE '{started}'") == 1
    else:
        text = " ".join(err.split())
        assert code == 2 and says in text and "not a date" not in text and "数据库接受的日期范围" in text
        assert _count(counties, "SELECT count(*) FROM parcels") == 0


# -- 17.5 a parcel across a county line -------------------------------------------------------------------------
def _shares_by_postgis(engine: sa.Engine) -> dict[str, dict[str, float]]:
    """Each current parcel's share in each county it overlaps, measured by PostGIS (the loader uses shapely)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT p.parcel_no, a.code, ST_Area(ST_Intersection(p.geom, a.geom)) / ST_Area(p.geom)
            FROM parcels p JOIN admin_areas a ON ST_Intersects(p.geom, a.geom) AND a.level = 'county'
            WHERE p.valid_to IS NULL""")
        ).all()
    out: dict[str, dict[str, float]] = {}
    for no, code, share in rows:
        if share > 0:
            out.setdefault(no, {})[code] = share
    return out


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_parcels_across_a_county_line_are_reported_with_their_shares(
    counties: sa.Engine, tmp_path: Path, crs: str
) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["X-60", "X-30", "IN-1", "EDGE"]},
        geometry=[
            square(X + dx + 1940, Y + 100),  # 60 m of 100 in 鹿城区, 40 m in 瓯海区
            square(X + dx + 1970, Y + 300),  # 30 m in 鹿城区, 70 m in 瓯海区
            square(X + dx + 100, Y + 100),  # inside 鹿城区
            square(X + dx + 1900, Y + 500),
        ],  # up to the line, not across it
        crs=crs,
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    code, out, err = _run("load", "parcels", str(tmp_path / "p.gpkg"), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    across = {a["parcel_no"]: a for a in report["across_counties"]}
    assert set(across) == {"X-30", "X-60"}
    assert across["X-60"]["county_code"] == "330302"
    assert across["X-60"]["county_shares"] == pytest.approx({"330302": 0.6, "330304": 0.4}, abs=1e-6)
    assert across["X-30"]["county_code"] == "330304"  # the county with the largest share
    assert across["X-30"]["county_shares"] == pytest.approx({"330302": 0.3, "330304": 0.7}, abs=1e-6)
    said = [w for w in report["warnings"] if "X-60" in w]
    assert (
        len(said) == 1
        and "跨县" in said[0]
        and "330302" in said[0]
        and "60.00%" in said[0]
        and "40.00%" in said[0]
    )

    code, out, _ = _run("parcels", "--format", "json")
    facts = {p["parcel_no"]: p for p in json.loads(out)["parcels"]}
    assert facts["X-60"]["county_shares"] == pytest.approx({"330302": 0.6, "330304": 0.4}, abs=1e-6)
    assert facts["X-30"]["county_code"] == "330304"
    assert facts["IN-1"]["county_shares"] is None and facts["EDGE"]["county_shares"] is None
    assert facts["EDGE"]["county_code"] == "330302"
    measured = _shares_by_postgis(counties)
    for no in ("X-60", "X-30"):
        assert facts[no]["county_shares"] == pytest.approx(measured[no], abs=1e-6)


@pytest.mark.parametrize("x,across", [(1999.01, False), (1999.0, True), (1998.99, True)])
def test_a_sliver_under_one_percent_is_drawing_noise(
    counties: sa.Engine, tmp_path: Path, x: float, across: bool
) -> None:
    """A part of less than 1 % in the next county is two surveys' lines not meeting; 1 % and more is reported."""
    gdf = gpd.GeoDataFrame({"宗地编号": ["S-1"]}, geometry=[square(X + x, Y + 100)], crs="EPSG:4549")
    gdf.to_file(tmp_path / "s.gpkg", engine="pyogrio")
    code, out, err = _run("load", "parcels", str(tmp_path / "s.gpkg"), "--format", "json")
    assert code == 0, err
    assert bool(json.loads(out)["across_counties"]) is across
    share = (2000 - x) / 100  # 鹿城区's part of the 100 m width
    measured = _shares_by_postgis(counties)["S-1"]["330302"]
    assert measured == pytest.approx(share, abs=1e-9)
    code, out, _ = _run("parcels", "--format", "json")
    [fact] = json.loads(out)["parcels"]
    assert fact["county_code"] == "330304"
    if across:
        assert fact["county_shares"]["330302"] == pytest.approx(share, abs=1e-6)
    else:
        assert fact["county_shares"] is None


# -- 17.8 a 台账 joined by parcel number ---------------------------------------------------------------------------
def _load_three(tmp_path: Path, crs: str) -> None:
    dx = _offset(crs)
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": ["P-1", "P-2", "P-3"],
            "权利人": ["甲公司", "乙公司", "丙公司"],
            "年度税收": [10.0, 20.0, 30.0],
            "实际开工日期": ["2021-01-04", "2021-02-01", None],
            "备注": ["老厂区", "", "临路"],
        },
        geometry=[
            square(X + dx + 100, Y + 100),
            square(X + dx + 300, Y + 100, 150),
            square(X + dx + 2500, Y + 500),
        ],
        crs=crs,
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    code, _, err = _run("load", "parcels", str(tmp_path / "p.gpkg"))
    assert code == 0, err


def _versions(engine: sa.Engine) -> dict[str, list[dict[str, object]]]:
    """Every version of every parcel, oldest first, with its shape as PostGIS writes it (WKB)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text("""
            SELECT parcel_no, holder, tax, started_on::text AS started_on, is_low_efficiency, extra, area_mu,
                   county_code, ST_AsBinary(geom) AS wkb, valid_to IS NULL AS current, load_id
            FROM parcels ORDER BY parcel_no, id""")
            )
            .mappings()
            .all()
        )
    out: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        out.setdefault(r["parcel_no"], []).append(dict(r) | {"wkb": bytes(r["wkb"])})
    return out


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_a_ledger_updates_attributes_as_new_versions_without_touching_shapes(
    counties: sa.Engine, tmp_path: Path, crs: str
) -> None:
    _load_three(tmp_path, crs)
    before = _versions(counties)
    ledger = tmp_path / "台账.xlsx"
    pd.DataFrame(
        {
            "宗地编号": ["P-1", "P-2", "P-9"],
            "年度税收": [120.5, None, 5.0],
            "实际开工日期": ["2021-05-06", "2021年3月1日", None],
            "低效用地": ["是", None, "否"],
            "联系人": ["张三", "李四", "王五"],
        }
    ).to_excel(ledger, index=False)
    code, out, err = _run("load", "parcels", str(ledger), "--join", "parcel_no", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["updated"], report["unchanged"], report["inserted"]) == (2, 0, 0)
    assert report["not_found"] == ["P-9"] and any("P-9" in w for w in report["warnings"])
    after = _versions(counties)
    for no in ("P-1", "P-2"):
        old, new = after[no]
        assert not old["current"] and new["current"] and new["load_id"] == report["load_id"]
        assert old == before[no][0] | {"current": False}  # the old version kept as it was, closed
        assert new["wkb"] == old["wkb"]  # the shape unchanged, byte for byte
        assert (new["area_mu"], new["county_code"], new["holder"]) == (
            old["area_mu"],
            old["county_code"],
            old["holder"],
        )
    p1, p2 = after["P-1"][1], after["P-2"][1]
    assert (p1["tax"], p1["started_on"], p1["is_low_efficiency"]) == (120.5, "2021-05-06", True)
    assert p1["extra"] == {
        "备注": "老厂区",
        "联系人": "张三",
    }  # the file's other columns added to what was kept
    assert (p2["tax"], p2["started_on"], p2["is_low_efficiency"]) == (20.0, "2021-03-01", None)  # blank: kept
    assert after["P-3"] == before["P-3"]  # not in the 台账: untouched
    with counties.connect() as conn:
        load = conn.execute(
            sa.text("SELECT kind, source, report FROM loads WHERE id = :i"), {"i": report["load_id"]}
        ).one()
        audit = conn.execute(
            sa.text("SELECT action, target, after FROM audit ORDER BY id DESC LIMIT 1")
        ).one()
    assert (load.kind, load.source, load.report["join"], load.report["not_found"]) == (
        "parcels",
        "台账.xlsx",
        "parcel_no",
        ["P-9"],
    )
    assert audit.action == "load.parcels" and "台账.xlsx" in audit.target
    assert audit.after["updated"] == 2 and audit.after["not_found"] == 1

    code, out, err = _run("load", "parcels", str(ledger), "--join", "parcel_no", "--format", "json")
    assert code == 0 and (json.loads(out)["updated"], json.loads(out)["unchanged"]) == (0, 2), err
    assert _count(counties, "SELECT count(*) FROM parcels") == 5  # the same 台账 again: no new version


def test_a_ledger_with_one_bad_value_is_refused_and_nothing_is_written(
    counties: sa.Engine, tmp_path: Path
) -> None:
    _load_three(tmp_path, "EPSG:4528")
    before, snapshot = _versions(counties), _snapshot(counties)
    ledger = tmp_path / "台账.csv"
    pd.DataFrame(
        {
            "宗地编号": ["P-1", "P-2", "P-3"],
            "年度税收": ["99", "abc", "7"],
            "实际开工日期": ["2021-05-06", "2021-05-07", "1948-12-31"],
        }
    ).to_csv(ledger, index=False, encoding="gbk")
    code, out, err = _run("load", "parcels", str(ledger), "--join", "parcel_no")
    text = " ".join(err.split())
    assert code == 2 and "台账.csv" in text
    assert "abc" in text and "P-2" in text and "row 3" in text  # the spreadsheet's row: the header is row 1
    assert "1948-12-31 is before the range" in text and "row 4" in text
    assert _versions(counties) == before and _snapshot(counties) == snapshot


def test_a_ledger_joined_by_its_own_header_in_the_table_output(counties: sa.Engine, tmp_path: Path) -> None:
    _load_three(tmp_path, "EPSG:4549")
    ledger = tmp_path / "ledger.csv"
    pd.DataFrame({"地块号": ["P-3", "Q-1", "Q-2"], "实际投资": ["1,250", "1", "2"]}).to_csv(
        ledger, index=False
    )
    code, out, err = _run("load", "parcels", str(ledger), "--join", "地块号")
    assert code == 0, err
    text = " ".join(out.split())
    assert "updated 1 parcels by 地块号" in text and "not found 2" in text and "Q-1, Q-2" in text
    with counties.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT investment FROM parcels WHERE parcel_no = 'P-3' AND valid_to IS NULL")
            ).scalar_one()
            == 1250.0
        )
    code, _, err = _run("load", "parcels", str(ledger), "--join", "宗地号码")
    assert code == 2 and "--join" in err and "地块号" in err
    code, _, err = _run("load", "parcels", str(ledger), "--join", "地块号", "--crs", "4549")
    assert code == 2 and "--crs" in err and "ledger.csv" in err
