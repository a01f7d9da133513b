"""The rules at their legal boundaries through the ``blockline`` command, from planners' files.

Files are made as 测绘 offices ship them: EPSG:4528 (CGCS2000 GK zone 40 with the "40" prefix in the false
easting) and EPSG:4549 (the same zone without it), at coordinates that are not round, so that the store's
reprojection leaves its floating-point noise. Expected answers are worked out by hand from the texts.
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
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city, two_counties

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _load(tmp_path: Path, rows: list[dict], geoms: list, crs: str) -> None:
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert _run("load", "boundaries", str(tmp_path / "c.gpkg"))[0] == 0
    path = tmp_path / f"parcels-{crs.replace(':', '')}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_file(path, engine="pyogrio")
    code, out, err = _run("load", "parcels", str(path), "--format", "json")
    assert code == 0, out + err


def _findings(command: str, *args: str) -> dict[str, list[dict]]:
    code, out, err = _run(command, *args, "--format", "json")
    assert code == 0, out + err
    return {p["parcel_no"]: p["findings"] for p in json.loads(out)["parcels"]}


def _offset(crs: str) -> float:
    return 40_000_000.0 if crs == "EPSG:4528" else 0.0


# ---------------------------------------------------------------------------------------------- 11.1 YW §5


def test_yiwu_completion_is_three_years_from_delivery(engine: sa.Engine, tmp_path: Path) -> None:
    row = {
        "宗地编号": "YW-1",
        "土地用途": "100102",
        "交地日期": "2021-01-10",
        "约定开工日期": "2021-04-10",
        "实际开工日期": "2021-04-01",
        "计划总投资": 20000.0,
    }
    _load(tmp_path, [row], [box(X + 10.5, Y + 10.5, X + 110.5, Y + 110.5)], "EPSG:4549")
    late = [
        f
        for f in _findings("idle", "--policy", "yiwu", "--as-of", "2023-12-01").get("YW-1", [])
        if f["category"] == "late_completion"
    ]
    assert late == []  # before: "agreed completion 2023-04-10 … 7 months overdue"
    for day, expected in (("2024-01-10", []), ("2024-01-11", ["2024-01-10"])):
        found = _findings("idle", "--policy", "yiwu", "--as-of", day).get("YW-1", [])
        assert [f["since"] for f in found if f["category"] == "late_completion"] == expected
    found = _findings("idle", "--policy", "yiwu", "--as-of", "2024-01-11")["YW-1"]
    late_f = next(f for f in found if f["category"] == "late_completion")
    assert late_f["article"] == "yiwu YW §5" and late_f["until"] is None


# ---------------------------------------------------------------------------------------------- 11.2–11.3 1/3, 25 %


@pytest.mark.parametrize("crs", ["EPSG:4528", "EPSG:4549"])
def test_one_third_and_25_percent_from_zone_prefixed_files(
    engine: sa.Engine, tmp_path: Path, crs: str
) -> None:
    # 150 m × 100 m = 15,000 m² = 22.5 亩 (a third: 5,000 m²); started, not completed, agreed completion
    # 2022-06-30 passed by more than a year (中止开发满一年). The parcels lie at non-round coordinates.
    cases = {
        "D-4999": (4999.0, 9000.0),
        "D-5000": (5000.0, 9000.0),
        "D-5001": (5001.0, 9000.0),
        "I-2499": (9000.0, 2499.0),
        "I-2500": (9000.0, 2500.0),
        "I-2501": (9000.0, 2501.0),
    }
    rows, geoms = [], []
    for i, (no, (footprint, investment)) in enumerate(cases.items()):
        x0 = _offset(crs) + X + 13.137 + 200.0 * i
        geoms.append(box(x0, Y + 17.731, x0 + 150.0, Y + 117.731))
        rows.append(
            {
                "宗地编号": no,
                "土地用途": "0601",
                "约定开工日期": "2020-01-01",
                "实际开工日期": "2020-01-01",
                "约定竣工日期": "2022-06-30",
                "计划总投资": 10000.0,
                "实际投资": investment,
                "建筑占地面积": footprint,
            }
        )
    _load(tmp_path, rows, geoms, crs)
    found = _findings("idle", "--as-of", "2026-11-22")
    idle = {no for no, fs in found.items() if any(f["category"] == "idle" for f in fs)}
    assert idle == {"D-4999", "I-2499"}  # 不足三分之一, 不足百分之二十五: the number itself is not idle
    detail = next(f["detail"] for f in found["D-4999"] if f["category"] == "idle")
    assert "33.327%（不足 33.333%）" in detail
    code, out, _ = _run("parcels", "--format", "json")
    areas = {p["parcel_no"]: p["area_mu"] for p in json.loads(out)["parcels"]}
    assert all(a == pytest.approx(22.5, abs=0.005) for a in areas.values())  # 0.01 亩 as planners report


# ---------------------------------------------------------------------------------------------- 11.5 breach vs state


def test_a_cured_late_start_is_not_pulled_into_a_consolidation_zone(
    engine: sa.Engine, tmp_path: Path
) -> None:
    load_two_county_city(engine, tmp_path)
    # four unstarted (idle) parcels of 15 亩 in a row, and beside them one that started a day late in 2019 but
    # completed, operates and pays its committed tax (30 万元/亩 × 15 亩 = 450 万元) today
    idle = {"土地用途": "100102", "约定开工日期": "2022-03-01"}
    cured = {
        "土地用途": "100102",
        "交地日期": "2019-01-01",
        "约定开工日期": "2019-04-01",
        "实际开工日期": "2019-04-02",
        "约定竣工日期": "2021-04-01",
        "实际竣工日期": "2021-03-01",
        "约定投产日期": "2021-06-01",
        "实际投产日期": "2021-05-01",
        "约定达产日期": "2023-06-01",
        "计划总投资": 5000.0,
        "约定投资强度": 300.0,
        "约定亩均税收": 30.0,
        "约定亩均产值": 500.0,
        "约定容积率": 1.0,
        "实际投资": 6000.0,
        "年度税收": 450.0,
        "年度产值": 9000.0,
        "建筑面积": 15000.0,
        "建筑占地面积": 5000.0,
        "出让年限": 50,
    }
    rows = [idle | {"宗地编号": f"IDLE-{i}"} for i in range(4)] + [cured | {"宗地编号": "CURED"}]
    geoms = [box(X + 1300 + 100 * i, Y + 1300, X + 1400 + 100 * i, Y + 1400) for i in range(5)]
    path = tmp_path / "p.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4549").to_file(path, engine="pyogrio")
    code, out, err = _run("load", "parcels", str(path))
    assert code == 0, out + err
    found = _findings("idle", "--as-of", "2026-11-22")
    late = [f for f in found["CURED"] if f["category"] == "late_start"]
    assert [(f["since"], f["until"]) for f in late] == [("2019-04-01", "2019-04-02")]
    assert {f["category"] for f in found["CURED"]} == {"late_start"}
    code, out, err = _run("zones", "detect", "--as-of", "2026-11-22", "--format", "json")
    assert code == 0, out + err
    zones = json.loads(out)["zones"]
    assert [sorted(z["parcels"]) for z in zones] == [[f"IDLE-{i}" for i in range(4)]]
    assert zones[0]["area_mu"] == pytest.approx(60.0)


# ---------------------------------------------------------------------------------------------- 17.1 own rules


def test_yiwu_refuses_the_rules_its_text_lacks(engine: sa.Engine, tmp_path: Path) -> None:
    load_two_county_city(engine, tmp_path)
    for args in (
        ("balance", "check", "--county", "330302", "--policy", "yiwu"),
        ("zones", "detect", "--policy", "yiwu"),
    ):
        code, out, err = _run(*args)
        assert code == 2, out + err
        assert (
            "义乌市的政策配置（yiwu）没有" in err and "wenzhou-2020" in err and "Traceback" not in err + out
        )


def test_policy_show_lists_only_each_citys_own_articles() -> None:
    code, out, _ = _run("policy", "show", "yiwu", "--format", "json")
    shown = json.loads(out)["parameters"]
    assert code == 0 and not any(
        k.split(".")[0] in ("balance", "consolidation", "bidding", "acceptance", "mortgage") for k in shown
    )
    assert not any("WZ" in p["article"] for p in shown.values())
    assert shown["construction.completion_months_from_delivery"]["value"] == 36
    code, out, _ = _run("policy", "show", "wenzhou-2020", "--format", "json")
    wz = json.loads(out)["parameters"]
    assert (
        wz["idle.stalled_developed_share"]["boundary"],
        wz["idle.stalled_developed_share"]["includes"],
    ) == ("不足", False)
    assert (wz["idle.unstarted_years"]["boundary"], wz["idle.unstarted_years"]["includes"]) == ("满", True)
    assert wz["construction.build_months_by_investment"]["value"][1] == [200000.0, 30, "不满"]
