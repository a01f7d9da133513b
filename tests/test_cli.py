"""The blockline command: JSON as CLI.md specifies it, exit codes 0/2/3, messages that name the file and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from blockline.cli import app
from geo.settings import get_settings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties, write_shapefile

runner = CliRunner()


@pytest.fixture
def boundaries(engine: sa.Engine, tmp_path: Path) -> Path:
    path = tmp_path / "counties.gpkg"
    two_counties().to_file(path, engine="pyogrio")
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_load_and_list_parcels_as_json(boundaries: Path, tmp_path: Path) -> None:
    code, out, _ = _run("load", "boundaries", str(boundaries), "--format", "json")
    assert code == 0 and json.loads(out)["inserted"] == 2
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["LC-1", "OH-1"], "权利人": ["温州宏达机械有限公司", "瓯海鑫源鞋业"]},
        geometry=[square(40_000_000 + X + 10, Y + 10), square(40_000_000 + X + 2010, Y + 10)],
        crs="EPSG:4528",
    )
    path = write_shapefile(gdf, tmp_path / "p.shp", encoding="GBK", cpg=False)
    code, out, _ = _run("load", "parcels", str(path), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["inserted"] == 2 and report["read"]["encoding"] == "GB18030"
    code, out, _ = _run("parcels", "--format", "json")
    body = json.loads(out)
    assert code == 0 and body["count"] == 2
    by_no = {p["parcel_no"]: p for p in body["parcels"]}
    assert by_no["LC-1"]["holder"] == "温州宏达机械有限公司" and by_no["LC-1"]["county_code"] == "330302"
    assert by_no["OH-1"]["county_code"] == "330304"
    assert by_no["OH-1"]["area_mu"] == pytest.approx(15.0)
    code, out, _ = _run("parcels", "--county", "330304", "--format", "json")
    assert [p["parcel_no"] for p in json.loads(out)["parcels"]] == ["OH-1"]
    xlsx = tmp_path / "out.xlsx"
    code, _, _ = _run("parcels", "--format", "xlsx", "-o", str(xlsx))
    import pandas as pd

    assert code == 0 and list(pd.read_excel(xlsx)["parcel_no"]) == ["LC-1", "OH-1"]
    gpkg = tmp_path / "out.gpkg"
    code, _, _ = _run("parcels", "--format", "gpkg", "-o", str(gpkg))
    back = gpd.read_file(gpkg, engine="pyogrio")
    assert code == 0 and back.crs.to_epsg() == 4549 and back.area.sum() == pytest.approx(20000)


def test_no_crs_exits_2_naming_the_file_and_the_fix(
    boundaries: Path, tmp_path: Path, engine: sa.Engine
) -> None:
    gdf = gpd.GeoDataFrame({"宗地编号": ["A"]}, geometry=[square(X, Y)], crs="EPSG:4549")
    path = write_shapefile(gdf, tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink()
    code, out, err = _run("load", "parcels", str(path))
    assert code == 2
    assert "nocrs.shp" in err and "--crs" in err and "坐标系" in err
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM parcels")).scalar_one() == 0


def test_unreachable_database_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bogus = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    monkeypatch.setenv("BLOCKLINE_DATABASE_URL", bogus)
    try:
        code, _, err = _run("--db", bogus, "parcels")
    finally:
        get_settings.cache_clear()
    assert code == 3 and "BLOCKLINE_DATABASE_URL" in err


def test_the_installed_command_runs(engine: sa.Engine) -> None:
    exe = Path(sys.executable).with_name("blockline")
    proc = subprocess.run(
        [str(exe), "db", "status", "--format", "json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["embedded"] is True and status["running"] is True
    assert status["counts"]["parcels"] == 0
