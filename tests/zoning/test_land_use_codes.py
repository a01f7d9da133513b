"""Land-use codes of every standard through ``blockline balance check`` and the level-1 suggestions.

The two-county city of tests/zoning/conftest.py (EPSG:4549). One 100 m × 100 m parcel (15 亩) per land use,
in a row north of level 2 (y from Y+800 to Y+900, x from X+100 in steps of 150 m): outside level 1 and level 2
of 鹿城区. Adding exactly a parcel's box to level 1 replaces 15 亩; the addition is fit for industry (no
``outside_industrial_land`` warning) when and only when the parcel is 工业用地 in its standard. Warehouse land
(0604, W, 1101) is not 工业用地 (WZ §4 protects 工业用地; GB/T 21010, GB 50137 and 用地用海分类 class 仓储
apart from 工业): it is warned, so a planner checks it.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box
from typer.testing import CliRunner

from blockline.cli import app
from blockline.services.suggest import candidate_land
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import write_shapefile
from tests.zoning.conftest import LC, WZ

runner = CliRunner()
# land use → fit for industry (written down from the standards, not from geo.landuse)
USES = {
    "0601": True,
    "M1": True,
    "100101": True,
    "工业用地": True,
    "Ｍ２": True,
    "0601 工业用地": True,
    "一类工业用地（M1）": True,
    "0701": False,
    "R2": False,
    "0604": False,
    "W": False,
    "1101": False,
    "1001 铁路用地": False,
}
ZONE_PREFIX = 40_000_000  # EPSG:4528 writes the zone number 40 before the false easting


def _box(i: int) -> tuple[float, float, float, float]:
    return X + 100 + 150 * i, Y + 800, X + 200 + 150 * i, Y + 900


def _shift(crs: str) -> float:
    return ZONE_PREFIX if crs == "EPSG:4528" else 0.0


@pytest.fixture(params=["EPSG:4528", "EPSG:4549"])
def coded_city(request: pytest.FixtureRequest, city: sa.Engine, tmp_path: Path) -> tuple[sa.Engine, str]:
    """The city with one parcel per land use, loaded through the command from a shapefile in the CRS."""
    crs = request.param
    dx = _shift(crs)
    gdf = gpd.GeoDataFrame(
        {"宗地编号": [f"P{i}" for i in range(len(USES))], "土地用途": list(USES)},
        geometry=[box(x0 + dx, y0, x1 + dx, y1) for x0, y0, x1, y1 in map(_box, range(len(USES)))],
        crs=crs,
    )
    path = write_shapefile(gdf, tmp_path / "parcels.shp", encoding="GBK", cpg=False)
    result = runner.invoke(app, ["load", "parcels", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return city, crs


def test_balance_check_warns_only_land_that_is_not_industrial(
    coded_city: tuple[sa.Engine, str], tmp_path: Path
) -> None:
    _, crs = coded_city
    other = "EPSG:4549" if crs == "EPSG:4528" else "EPSG:4528"  # the addition comes in the other CRS
    warned: dict[str, tuple[bool, bool]] = {}
    for i, use in enumerate(USES):
        x0, y0, x1, y1 = _box(i)
        add = tmp_path / f"add{i}.gpkg"
        dx = _shift(other)
        gpd.GeoDataFrame(geometry=[box(x0 + dx, y0, x1 + dx, y1)], crs=other).to_file(add, engine="pyogrio")
        result = runner.invoke(
            app, ["balance", "check", "--county", LC, "--add", str(add), "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        assert body["replaced_mu"] == 15.0
        codes = [w["code"] for w in body["warnings"]]
        warned[use] = ("outside_industrial_land" in codes, "non_industrial_use" in codes)
        if "outside_industrial_land" in codes:
            unfit = next(w for w in body["warnings"] if w["code"] == "outside_industrial_land")
            assert "15.00" in unfit["message"] and unfit["article"].startswith("wenzhou-2020 WZ §")
    assert warned == {use: (not fit, not fit) for use, fit in USES.items()}


def test_non_industrial_warning_names_the_use(coded_city: tuple[sa.Engine, str], tmp_path: Path) -> None:
    i = list(USES).index("R2")
    x0, y0, x1, y1 = _box(i)
    add = tmp_path / "add.gpkg"
    gpd.GeoDataFrame(geometry=[box(x0, y0, x1, y1)], crs="EPSG:4549").to_file(add, engine="pyogrio")
    body = json.loads(
        runner.invoke(app, ["balance", "check", "--county", LC, "--add", str(add), "--format", "json"]).stdout
    )
    (item,) = [w for w in body["warnings"] if w["code"] == "non_industrial_use"]
    assert f"P{i}（R2 二类居住用地）" in item["message"] and "R2 class-2 residential" in item["message"]


def test_suggestions_take_industrial_parcels_of_every_standard(coded_city: tuple[sa.Engine, str]) -> None:
    engine, _ = coded_city
    found = candidate_land(engine, county=LC, profile=WZ)
    parcels = set(found.loc[found["kind"] == "parcel", "ref"])
    assert parcels == {f"P{i}" for i, fit in enumerate(USES.values()) if fit}
    mu = found.set_index("ref").loc[sorted(parcels), "area_mu"]
    assert mu.to_numpy() == pytest.approx(15.0, abs=0.005)
