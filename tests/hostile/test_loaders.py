"""Hand-made hostile files through every loader and the command: each refused with nothing written, or loaded
with the documented repair. The broken geometries and numbers of the README's "Loading your own files" are
also in tests/geo; here each goes all the way through a load into the real store, through ``attempt``.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from shapely import Polygon, box
from typer.testing import CliRunner

from blockline.cli import app
from geo.errors import InputError, ValidationError
from geo.load import load_blocklines, load_boundaries, load_parcels, load_ratings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, write_shapefile
from tests.hostile.conftest import attempt, snapshot
from tests.hostile.strategies import HOLDER, write_frame
from tests.hostile.test_generated import stored_geometry_faults

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio")  # GDAL on the broken files it reads

SQL = "'; DROP TABLE parcels; --"


def _parcels(geoms: list[object], crs: str | None = "EPSG:4549", **columns: list[object]) -> gpd.GeoDataFrame:
    data = {"宗地编号": [f"P-{i}" for i in range(len(geoms))], "权利人": [HOLDER] * len(geoms), **columns}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _csv(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


WKT = square(X + 100, Y + 100).wkt


def _nan_polygon() -> shapely.Geometry:
    with np.errstate(invalid="ignore"):
        return shapely.from_wkt(f"POLYGON(({X} {Y}, NaN {Y}, {X} {Y + 9}, {X} {Y}))")


# (id, file name, how to write it into a folder, --crs, the English words the refusal must hold; None: loads)
PARCEL_CASES: list[tuple[str, str, Callable[[Path], Path], str | None, str | None]] = [
    (
        "no CRS",
        "p.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)], crs=None), p),
        None,
        "no coordinate reference system",
    ),
    (
        "metres labelled lon/lat",
        "p.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)], crs="EPSG:4490"), p),
        None,
        "projected metres, not degrees",
    ),
    (
        "lat/lon swapped",
        "p.gpkg",
        lambda p: write_frame(_parcels([box(28.0, 120.7, 28.001, 120.701)], crs="EPSG:4490"), p),
        None,
        "swapped",
    ),
    (
        "zone prefix in a CRS without",
        "p.gpkg",
        lambda p: write_frame(_parcels([square(X + 40_000_000, Y)]), p),
        None,
        "zone prefix 40",
    ),
    (
        "degrees labelled GK",
        "p.gpkg",
        lambda p: write_frame(_parcels([box(120.7, 28.0, 120.701, 28.001)]), p),
        None,
        "look like degrees",
    ),
    ("wrong --crs", "p.gpkg", lambda p: write_frame(_parcels([square(X, Y)]), p), "3857", "outside China"),
    (
        "unknown --crs",
        "p.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)]), p),
        "EPSG:999999",
        "unknown CRS '",
    ),
    (
        "self-intersecting",
        "p.gpkg",
        lambda p: write_frame(
            _parcels([Polygon([(X, Y), (X + 100, Y + 100), (X + 100, Y), (X, Y + 100)])]), p
        ),
        None,
        None,
    ),
    (
        "hole outside its shell",
        "p.shp",
        lambda p: write_frame(
            _parcels([Polygon(square(X, Y).exterior.coords, [square(X + 500, Y + 500).exterior.coords])]), p
        ),
        None,
        None,
    ),
    ("empty", "p.gpkg", lambda p: write_frame(_parcels([Polygon()]), p), None, "empty or missing geometry"),
    (
        "a point",
        "p.geojson",
        lambda p: write_frame(_parcels([shapely.Point(X, Y)]), p),
        None,
        "not a polygon",
    ),
    (
        "collapsed to a line",
        "p.gpkg",
        lambda p: write_frame(_parcels([Polygon([(X, Y), (X + 100, Y), (X + 200, Y)])]), p),
        None,
        "no polygon is left",
    ),
    (
        "NaN coordinate",
        "p.gpkg",
        lambda p: write_frame(_parcels([_nan_polygon()]), p),
        None,
        "no polygon is left",
    ),
    (
        "huge coordinates",
        "p.gpkg",
        lambda p: write_frame(_parcels([box(-1e300, -1e300, 1e300, 1e300)]), p),
        None,
        "outside China",
    ),
    (
        "a million vertices",
        "p.gpkg",
        lambda p: write_frame(_parcels([shapely.Point(X + 500, Y + 500).buffer(400, quad_segs=250_000)]), p),
        None,
        None,
    ),
    (
        "negative investment",
        "p.geojson",
        lambda p: write_frame(_parcels([square(X, Y)], 实际投资=[-1.0]), p),
        None,
        "not a non-negative number",
    ),
    (
        "lease of 0 years",
        "p.geojson",
        lambda p: write_frame(_parcels([square(X, Y)], 出让年限=[0.0]), p),
        None,
        "not a lease",
    ),
    (
        "lease of -0.0 years",
        "p.csv",
        lambda p: _csv(p, f'宗地编号,出让年限,WKT\nP-1,-0.0,"{WKT}"\n'),
        "4549",
        "not a lease",
    ),
    (
        "date in 1900",
        "p.geojson",
        lambda p: write_frame(_parcels([square(X, Y)], 交地日期=["1900-01-01"]), p),
        None,
        "1900-01-01 is before the range of dates the store accepts",
    ),
    (
        "date in 2200",
        "p.csv",
        lambda p: _csv(p, f'宗地编号,约定竣工日期,WKT\nP-1,2200-01-01,"{WKT}"\n'),
        "4549",
        "2200-01-01 is after the range of dates the store accepts",
    ),
    (
        "tax of 1e309",
        "p.csv",
        lambda p: _csv(p, f'宗地编号,年度税收,WKT\nP-1,1e309,"{WKT}"\n'),
        "4549",
        "is not a number",
    ),
    (
        "NUL in a value",
        "p.csv",
        lambda p: _csv(p, f'宗地编号,权利人,WKT\nP-1,a\x00b,"{WKT}"\n'),
        "4549",
        "NUL",
    ),
    ("NUL in a header", "p.csv", lambda p: _csv(p, f'宗地编号,备\x00注,WKT\nP-1,x,"{WKT}"\n'), "4549", "NUL"),
    (
        "short row",
        "p.csv",
        lambda p: _csv(p, f'宗地编号,权利人,WKT\nP-1,x,"{WKT}"\nP-2\n'),
        "4549",
        "empty or missing",
    ),
    (
        "WKT that does not parse",
        "p.csv",
        lambda p: _csv(p, '宗地编号,WKT\nP-1,"POLYGON((1 2, 3"\n'),
        "4549",
        "does not parse",
    ),
    (
        "no WKT column",
        "p.csv",
        lambda p: _csv(p, "宗地编号,权利人\nP-1,x\n"),
        "4549",
        "no WKT geometry column",
    ),
    (
        "no parcel number column",
        "p.geojson",
        lambda p: write_frame(gpd.GeoDataFrame({"x": [1]}, geometry=[square(X, Y)], crs="EPSG:4549"), p),
        None,
        "no parcel number field",
    ),
    (
        "SQL as a parcel number, HTML as holder",
        "p.geojson",
        lambda p: write_frame(
            gpd.GeoDataFrame(
                {"宗地编号": [SQL], "权利人": [HOLDER], SQL: [HOLDER]},
                geometry=[square(X, Y)],
                crs="EPSG:4549",
            ),
            p,
        ),
        None,
        None,
    ),
    (
        "not a GIS file at all",
        "p.gpkg",
        lambda p: _csv(p, "<html><body>404</body></html>"),
        None,
        "cannot read the file",
    ),
    ("empty file", "p.geojson", lambda p: _csv(p, ""), None, "cannot read the file"),
    (
        "GeoJSON of nested junk",
        "p.geojson",
        lambda p: _csv(
            p,
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
            '{"type": "Polygon", "coordinates": [[["a", {}], [null]]]}, "properties": {"宗地编号": [1, [2]]}}]}',
        ),
        "4549",
        None,
    ),
    (
        "no features",
        "p.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)]).iloc[:0], p),
        None,
        "no features",
    ),
    ("missing file", "p.shp", lambda p: p, None, "does not exist"),
]


def _run_parcel_case(
    engine: sa.Engine,
    folder: Path,
    name: str,
    write: Callable[[Path], Path],
    crs: str | None,
    says: str | None,
    label: str,
) -> None:
    path = write(folder / name)
    outcome = attempt(
        f"load_parcels ({Path(name).suffix[1:]})", engine, load_parcels, engine, path, user="test", crs=crs
    )
    if says is None and label == "GeoJSON of nested junk":  # GDAL may read it, or not: either way, clean
        assert outcome.refused or stored_geometry_faults(engine, "parcels", outcome.value.load_id) == []
        return
    if says is None:
        assert not outcome.refused, f"{label}: {outcome.error}"
        assert stored_geometry_faults(engine, "parcels", outcome.value.load_id) == []
        return
    assert outcome.refused, f"{label} was loaded"
    error = outcome.error
    assert says in str(error), f"{label}: {error}"
    assert error.fix_en, error
    if "unknown CRS" not in says:  # an option's error names the option; a file's names the file
        assert error.file is not None and Path(name).name in str(error), error


@pytest.mark.parametrize(
    ("label", "name", "write", "crs", "says"), PARCEL_CASES, ids=[c[0] for c in PARCEL_CASES]
)
def test_hostile_parcel_files(city: sa.Engine, tmp_path: Path, label, name, write, crs, says) -> None:
    _run_parcel_case(city, tmp_path, name, write, crs, says, label)


def test_repairs_are_reported_and_hostile_text_is_stored_verbatim(city: sa.Engine, tmp_path: Path) -> None:
    bowtie = Polygon([(X, Y), (X + 100, Y + 100), (X + 100, Y), (X, Y + 100)])
    path = write_frame(
        gpd.GeoDataFrame(
            {"宗地编号": [SQL], "权利人": [HOLDER], "备注": ["=1+1"]}, geometry=[bowtie], crs="EPSG:4549"
        ),
        tmp_path / "p.gpkg",
    )
    result = attempt("load_parcels (gpkg)", city, load_parcels, city, path, user="test").value
    (repair,) = result.read.repairs.repaired
    assert (repair.row, repair.feature, repair.area_before, repair.area_after) == (
        1,
        f"宗地编号={SQL}",
        0.0,
        5000.0,
    )
    with city.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM parcels")).scalar_one() == 1
        )  # the table is still there
        row = conn.execute(
            sa.text("SELECT parcel_no, holder, extra->>'备注', ST_Area(geom) FROM parcels")
        ).one()
    assert tuple(row) == (SQL, HOLDER, "=1+1", pytest.approx(5000.0))


# -- encodings -------------------------------------------------------------------------------------------
def _dbf_rows(tmp_path: Path, holders_bytes: list[bytes]) -> Path:
    """A shapefile whose .dbf holder values are exactly ``holders_bytes`` (no .cpg), whatever their encoding."""
    n = len(holders_bytes)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": [f"E-{i}" for i in range(n)], "权利人": ["X" * 40] * n},
        geometry=[square(X + 120 * i, Y) for i in range(n)],
        crs="EPSG:4549",
    )
    path = write_shapefile(gdf, tmp_path / "enc.shp", encoding="GBK", cpg=False)
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    for raw in holders_bytes:
        at = data.index(b"X" * 40)
        data[at : at + 40] = raw.ljust(40, b" ")[:40]
    dbf.write_bytes(bytes(data))
    return path


def test_mixed_encodings_in_one_dbf_are_one_encoding_or_refused(city: sa.Engine, tmp_path: Path) -> None:
    # one row in GBK, one in UTF-8: no single encoding reads both right
    path = _dbf_rows(tmp_path, ["温州宏达".encode("gbk"), "瓯海鑫源".encode()])
    outcome = attempt("load_parcels (shp)", city, load_parcels, city, path, user="test")
    if outcome.refused:
        assert "encoding" in str(outcome.error)
        return
    assert outcome.value.read.encoding in ("GB18030", "UTF-8")
    with city.connect() as conn:
        holders = conn.execute(sa.text("SELECT holder FROM parcels ORDER BY parcel_no")).scalars().all()
    assert holders[0] == "温州宏达"  # GB18030 decodes every byte: the UTF-8 row comes out as other characters
    assert len(holders) == 2 and all(h and "\x00" not in h for h in holders)


def test_a_cpg_that_lies_is_checked_against_the_bytes(city: sa.Engine, tmp_path: Path) -> None:
    path = _dbf_rows(tmp_path, ["温州宏达机械".encode("gbk")])
    path.with_suffix(".cpg").write_text("UTF-8")
    outcome = attempt("load_parcels (shp)", city, load_parcels, city, path, user="test")
    assert not outcome.refused, outcome.error
    with city.connect() as conn:
        assert conn.execute(sa.text("SELECT holder FROM parcels")).scalar_one() == "温州宏达机械"


def test_bytes_in_no_chinese_encoding_are_refused_not_guessed(city: sa.Engine, tmp_path: Path) -> None:
    path = _dbf_rows(tmp_path, [bytes([0x81, 0x30, 0xFF, 0xFE, 0x80])])  # neither UTF-8 nor GB18030
    outcome = attempt("load_parcels (shp)", city, load_parcels, city, path, user="test")
    assert (
        outcome.refused and "neither UTF-8 nor GBK" in str(outcome.error) and outcome.error.file == "enc.shp"
    )
    outcome = attempt("load_parcels (shp)", city, load_parcels, city, path, user="test", encoding="KLINGON-8")
    assert outcome.refused and "unknown text encoding" in str(outcome.error)


# -- boundaries, block lines, ratings --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "frame", "says"),
    [
        ("SQL as a code", {"code": [SQL], "name": ["x"]}, "not a 6-digit area code"),
        ("HTML as a code", {"code": [HOLDER], "name": ["x"]}, "not a 6-digit area code"),
        ("no code column", {"name": ["x"]}, "cannot find the 行政区代码/code field"),
        ("HTML as a name", {"code": ["330305"], "name": [HOLDER]}, None),
    ],
)
def test_hostile_boundaries(
    city: sa.Engine, tmp_path: Path, label: str, frame: dict, says: str | None
) -> None:
    path = write_frame(
        gpd.GeoDataFrame(frame, geometry=[square(X + 5000, Y)], crs="EPSG:4549"), tmp_path / "b.geojson"
    )
    outcome = attempt("load_boundaries (geojson)", city, load_boundaries, city, path, user="test")
    if says is None:
        with city.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT name FROM admin_areas WHERE code = '330305'")).scalar_one()
                == HOLDER
            )
        return
    assert outcome.refused and says in str(outcome.error) and outcome.error.file == "b.geojson"


@pytest.mark.parametrize(
    ("label", "kwargs", "says"),
    [
        ("level 3", {"level": 3}, "level must be 1 or 2"),
        ("SQL as the county", {"level": 1, "county": SQL}, "no administrative area"),
        ("outside every county", {"level": 1, "where": 50_000}, "overlap no loaded county"),
        ("HTML and SQL as the name", {"level": 2}, None),
    ],
)
def test_hostile_block_lines(
    city: sa.Engine, tmp_path: Path, label: str, kwargs: dict, says: str | None
) -> None:
    where = kwargs.pop("where", 900)
    gdf = gpd.GeoDataFrame(
        {"名称": [HOLDER], "批复文号": [SQL]}, geometry=[square(X + where, Y + 100)], crs="EPSG:4549"
    )
    path = write_frame(gdf, tmp_path / "l.gpkg")
    outcome = attempt("load_blocklines (gpkg)", city, load_blocklines, city, path, user="test", **kwargs)
    if says is None:
        with city.connect() as conn:
            row = conn.execute(
                sa.text("SELECT name, approval_doc FROM block_lines WHERE load_id = :l"),
                {"l": outcome.value.load_id},
            ).one()
        assert tuple(row) == (HOLDER, SQL)
        return
    assert outcome.refused and says in str(outcome.error)


def _xlsx(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_excel(path, index=False)
    return path


RATING_CASES = [
    (
        "year 1900",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\nP-1,1900,A\n"),
        "year '1900' is not valid",
    ),
    (
        "year 2200",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\nP-1,2200,A\n"),
        "year '2200' is not valid",
    ),
    (
        "year NaN",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\nP-1,NaN,A\n"),
        "year 'NaN' is not valid",
    ),
    (
        "year 1e308",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\nP-1,1e308,A\n"),
        "is not valid",
    ),
    (
        "grade HTML",
        lambda p: _csv(p.with_suffix(".csv"), f"宗地编号,年度,等级\nP-1,2023,{HOLDER}\n"),
        "is not A/B/C/D",
    ),
    (
        "no subject",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\n ,2023,A\n"),
        "neither parcel number",
    ),
    ("NUL", lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\nP\x00-1,2023,A\n"), "NUL"),
    (
        "GBK without saying",
        lambda p: _csv(p.with_suffix(".csv"), "宗地编号,年度,等级\n温州-1,2023,A\n", encoding="gbk"),
        None,
    ),
    (
        "SQL and a formula as subjects",
        lambda p: _xlsx(
            p.with_suffix(".xlsx"),
            pd.DataFrame(
                {"宗地编号": [SQL], "统一社会信用代码": ["91330300MA"], "年度": [2023], "等级": ["b"]}
            ),
        ),
        None,
    ),
    ("a zip named .xlsx", lambda p: _zip_named(p.with_suffix(".xlsx")), "cannot read the file"),
    (
        "random bytes named .xlsx",
        lambda p: _bytes(p.with_suffix(".xlsx"), bytes(range(256)) * 8),
        "cannot read the file",
    ),
    (
        "an image named .csv",
        lambda p: _bytes(p.with_suffix(".csv"), b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        None,
    ),
    ("a .dbf", lambda p: _bytes(p.with_suffix(".dbf"), b"x"), "must be CSV or XLSX"),
]


def _zip_named(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("label", "write", "says"), RATING_CASES, ids=[c[0] for c in RATING_CASES])
def test_hostile_ratings(city: sa.Engine, tmp_path: Path, label: str, write, says: str | None) -> None:
    path = write(tmp_path / "评价")
    outcome = attempt(f"load_ratings ({path.suffix[1:]})", city, load_ratings, city, path, user="test")
    if says is None:
        if label == "an image named .csv":  # decoded somehow and refused for its columns, or unreadable
            assert outcome.refused and outcome.error.file == path.name
            return
        assert not outcome.refused, outcome.error
        with city.connect() as conn:
            rows = conn.execute(sa.text("SELECT parcel_no, holder_id, year, grade FROM ratings")).all()
        assert rows == [("温州-1", None, 2023, "A")] or rows == [(SQL, "91330300MA", 2023, "B")]
        return
    assert outcome.refused, f"{label} was loaded"
    assert says in str(outcome.error) and outcome.error.file == path.name, outcome.error


# -- the command -----------------------------------------------------------------------------------------
runner = CliRunner()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


CLI_CASES = [
    (
        "corrupt GeoPackage",
        ["load", "parcels"],
        "宗地.gpkg",
        lambda p: _bytes(p, b"SQLite format 3\x00" + b"\x00" * 50),
        "cannot read the file",
    ),
    ("truncated shapefile", ["load", "parcels"], "宗地.shp", lambda p: _truncated_shp(p), "宗地.shp"),
    ("missing file", ["load", "blocklines", "--level", "1"], "没有.gpkg", lambda p: p, "does not exist"),
    (
        "no CRS",
        ["load", "boundaries"],
        "县界.gpkg",
        lambda p: write_frame(
            gpd.GeoDataFrame({"code": ["330305"], "name": ["x"]}, geometry=[square(X, Y)]), p
        ),
        "no coordinate reference system",
    ),
    ("broken workbook", ["load", "ratings"], "评价.xlsx", lambda p: _zip_named(p), "cannot read the file"),
    (
        "hostile field map",
        ["load", "parcels", "--field-map", f"{SQL}"],
        "宗地.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)]), p),
        "is not SRC=DST",
    ),
    (
        "hostile encoding",
        ["load", "parcels", "--encoding", HOLDER],
        "宗地.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)]), p),
        "unknown text encoding",
    ),
    (
        "hostile CRS",
        ["load", "parcels", "--crs", SQL],
        "宗地.gpkg",
        lambda p: write_frame(_parcels([square(X, Y)]), p),
        "unknown CRS",
    ),
    ("bomb zip", ["load", "parcels"], "宗地.zip", lambda p: _bomb(p), "zip bomb"),
]


def _truncated_shp(path: Path) -> Path:
    write_shapefile(_parcels([square(X, Y), square(X + 200, Y)]), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 50])
    return path


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("宗地.geojson", b" " * (40 * 1024 * 1024))
    return path


@pytest.mark.parametrize(
    ("label", "command", "name", "write", "says"), CLI_CASES, ids=[c[0] for c in CLI_CASES]
)
def test_the_command_refuses_with_exit_2_and_no_traceback(
    city: sa.Engine, tmp_path: Path, label, command, name, write, says
) -> None:
    path = write(tmp_path / name)
    before = snapshot(city)
    code, out, err = _cli(*command[:2], str(path), *command[2:])
    assert snapshot(city) == before
    assert code == 2, (code, out, err)
    assert says in err and "Traceback" not in err + out and "Fix:" in err, err
    from tests.hostile.conftest import TALLY

    TALLY["CLI blockline load"]["refused"] += 1


def test_the_command_refuses_hostile_balance_input(city: sa.Engine, tmp_path: Path) -> None:
    from tests.hostile.conftest import TALLY

    add = write_frame(
        gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(X, Y).buffer(50)], crs="EPSG:4549"),
        tmp_path / "add.gpkg",
    )
    line = write_frame(
        gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.LineString([(X, Y), (X + 9, Y)])], crs="EPSG:4549"),
        tmp_path / "line.gpkg",
    )
    for args, says in (
        (["--county", SQL, "--add", str(add)], "no county"),
        (["--county", "330302", "--add", str(line)], "not a polygon"),
        (["--county", "330302", "--add", str(tmp_path / "none.gpkg")], "does not exist"),
        (["--county", "330302", "--remove", str(add), "--doc", "   "], "approval document"),
    ):
        before = snapshot(city)
        verb = "record" if "--doc" in args else "check"
        code, _, err = _cli("balance", verb, *args)
        assert snapshot(city) == before
        assert code == 2 and says in err and "Traceback" not in err, (args, code, err)
        TALLY["CLI blockline balance"]["refused"] += 1


def test_nan_in_floats_is_not_a_value(city: sa.Engine, tmp_path: Path) -> None:
    """NaN and ±inf in a GeoPackage's real column: NaN is a blank, infinity refused."""
    path = write_frame(
        _parcels([square(X, Y), square(X + 200, Y)], 年度税收=[math.nan, math.inf]), tmp_path / "p.gpkg"
    )
    outcome = attempt("load_parcels (gpkg)", city, load_parcels, city, path, user="test")
    assert outcome.refused and isinstance(outcome.error, ValidationError)
    assert [p.row for p in outcome.error.problems] == [2]
    assert isinstance(outcome.error, InputError)
