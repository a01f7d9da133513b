"""``blockline parcels --public``: the public list of YW §17, through the command, in every format.

Five parcels of 100 m × 100 m (15 亩), in a GeoPackage in EPSG:4528 (zone prefix 40 in the false easting) with
the fields an office ships, including some that must never be published (统一社会信用代码, actual tax and
investment, an internal note). Verdicts as of 2026-11-22 under wenzhou-2020, worked out by hand:

- LC-1 0601, in production since 2022-06-01, agreed full production 2024-01-01: investment 4,600 万元 / 15 亩 =
  306.67 ≥ 300 → met; tax 270 / 15 = 18 < 20 → not met; FAR 13,000 m² / 10,000 m² = 1.3 ≥ 1.2 → met.
- LC-2 M1, completed 2025-05-01, full production agreed 2027-06-30: tax not yet due; FAR 0.5 < 1.0 → not met;
  no investment commitment → empty.
- LC-3 R2 (housing) with commitments, LC-4 工业用地 with no agreement: not under management, not listed.
- OH-1 1001 in 瓯海区, nothing built, agreed completion 2024-12-31 and full production 2025-01-01 passed →
  investment not met, FAR not met; no tax commitment → empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from blockline.cli import app
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import square, two_counties

runner = CliRunner()
AS_OF = "2026-11-22"
KEYS = [
    "parcel_no",
    "county_name",
    "area_mu",
    "holder",
    "land_use",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "min_far",
    "investment_met",
    "tax_met",
    "far_met",
]
HEADERS = [
    "宗地编号",
    "县（市、区）",
    "面积（亩）",
    "权利人",
    "用途",
    "约定投资强度（万元/亩）",
    "约定亩均税收（万元/亩）",
    "约定容积率",
    "投资强度是否达到",
    "亩均税收是否达到",
    "容积率是否达到",
]
SECRETS = ("91330300MA2ABCDE1X", "内部备注：拟收回", "4600", "270")
EXPECTED = {
    "LC-1": {
        "parcel_no": "LC-1",
        "county_name": "鹿城区",
        "area_mu": 15.0,
        "holder": "温州宏达机械有限公司",
        "land_use": "工业用地",
        "committed_investment_per_mu": 300.0,
        "committed_tax_per_mu": 20.0,
        "min_far": 1.2,
        "investment_met": "met",
        "tax_met": "not_met",
        "far_met": "met",
    },
    "LC-2": {
        "parcel_no": "LC-2",
        "county_name": "鹿城区",
        "area_mu": 15.0,
        "holder": "鹿城鑫源鞋业",
        "land_use": "一类工业用地",
        "committed_investment_per_mu": None,
        "committed_tax_per_mu": 30.0,
        "min_far": 1.0,
        "investment_met": None,
        "tax_met": "not_due",
        "far_met": "not_met",
    },
    "OH-1": {
        "parcel_no": "OH-1",
        "county_name": "瓯海区",
        "area_mu": 15.0,
        "holder": "瓯海精工",
        "land_use": "工业用地",
        "committed_investment_per_mu": 250.0,
        "committed_tax_per_mu": None,
        "min_far": 1.5,
        "investment_met": "not_met",
        "tax_met": None,
        "far_met": "not_met",
    },
}


def _d(s: str | None) -> dt.date | None:
    return None if s is None else dt.date.fromisoformat(s)


@pytest.fixture
def public_city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert runner.invoke(app, ["load", "boundaries", str(tmp_path / "c.gpkg")]).exit_code == 0
    rows = [  # parcel, holder, land use, 约定投资强度, 约定亩均税收, 约定容积率, 实际投资, 年度税收, 建筑面积, 约定竣工, 实际竣工, 实际投产, 约定达产, x  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        (
            "LC-1",
            "温州宏达机械有限公司",
            "0601",
            300.0,
            20.0,
            1.2,
            4600.0,
            270.0,
            13000.0,
            "2021-12-31",
            "2022-01-01",
            "2022-06-01",
            "2024-01-01",
            X + 100,
        ),
        (
            "LC-2",
            "鹿城鑫源鞋业",
            "M1",
            None,
            30.0,
            1.0,
            None,
            None,
            5000.0,
            "2025-06-30",
            "2025-05-01",
            None,
            "2027-06-30",
            X + 300,
        ),
        (
            "LC-3",
            "鹿城置业",
            "R2",
            300.0,
            20.0,
            2.5,
            None,
            None,
            None,
            None,
            None,
            None,
            "2027-06-30",
            X + 500,
        ),
        ("LC-4", "鹿城老厂", "工业用地", None, None, None, None, None, None, None, None, None, None, X + 700),
        (
            "OH-1",
            "瓯海精工",
            "1001",
            250.0,
            None,
            1.5,
            None,
            None,
            None,
            "2024-12-31",
            None,
            None,
            "2025-01-01",
            X + 2100,
        ),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "宗地编号": [r[0] for r in rows],
            "权利人": [r[1] for r in rows],
            "土地用途": [r[2] for r in rows],
            "统一社会信用代码": ["91330300MA2ABCDE1X"] * len(rows),
            "备注": ["内部备注：拟收回"] * len(rows),
            "约定投资强度": [r[3] for r in rows],
            "约定亩均税收": [r[4] for r in rows],
            "约定容积率": [r[5] for r in rows],
            "实际投资": [r[6] for r in rows],
            "年度税收": [r[7] for r in rows],
            "建筑面积": [r[8] for r in rows],
            "约定竣工日期": [_d(r[9]) for r in rows],
            "实际竣工日期": [_d(r[10]) for r in rows],
            "实际投产日期": [_d(r[11]) for r in rows],
            "约定达产日期": [_d(r[12]) for r in rows],
            "交地日期": [dt.date(2020, 1, 1)] * len(rows),
            "约定开工日期": [dt.date(2020, 4, 1)] * len(rows),
            "实际开工日期": [dt.date(2020, 3, 1) if r[0] in ("LC-1", "LC-2") else None for r in rows],
        },
        geometry=[square(40_000_000 + r[13], Y + 100) for r in rows],
        crs="EPSG:4528",
    )
    gdf.to_file(tmp_path / "宗地.gpkg", engine="pyogrio")
    result = runner.invoke(app, ["load", "parcels", str(tmp_path / "宗地.gpkg"), "--format", "json"])
    assert result.exit_code == 0, result.output
    return engine


def _public(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["parcels", "--public", "--as-of", AS_OF, "--policy", "wenzhou-2020", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_lists_managed_parcels_with_exactly_the_public_fields(public_city: sa.Engine) -> None:
    code, out, _ = _public("--format", "json")
    assert code == 0
    body = json.loads(out)
    assert body["as_of"] == AS_OF and body["policy"] == "wenzhou-2020" and body["count"] == 3
    assert body["columns"] == KEYS
    assert all(list(p) == KEYS for p in body["parcels"])
    assert {p["parcel_no"]: p for p in body["parcels"]} == EXPECTED
    assert not any(s in out for s in SECRETS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_files_have_exactly_the_public_columns(public_city: sa.Engine, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"清单.{fmt}"
    code, _, _ = _public("--format", fmt, "-o", str(path))
    assert code == 0
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    else:
        rows = [
            ["" if v is None else str(v) for v in r]
            for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)
        ]
    assert rows[0] == HEADERS
    by_no = {r[0]: dict(zip(HEADERS, r, strict=False)) for r in rows[1:]}
    assert set(by_no) == {"LC-1", "LC-2", "OH-1"}
    assert (
        by_no["LC-1"]["投资强度是否达到"],
        by_no["LC-1"]["亩均税收是否达到"],
        by_no["LC-1"]["容积率是否达到"],
    ) == ("已达到", "未达到", "已达到")
    assert (
        by_no["LC-2"]["亩均税收是否达到"],
        by_no["LC-2"]["容积率是否达到"],
        by_no["LC-2"]["投资强度是否达到"],
    ) == ("未到期", "未达到", "")
    assert by_no["OH-1"]["县（市、区）"] == "瓯海区" and float(by_no["OH-1"]["面积（亩）"]) == 15.0
    text = "\n".join(",".join(r) for r in rows)
    assert not any(s in text for s in SECRETS)


def test_table_shows_the_list_and_no_secret(public_city: sa.Engine) -> None:
    code, out, _ = _public("--county", "330302")
    assert code == 0
    assert "LC-1" in out and "LC-2" in out and "OH-1" not in out and "LC-3" not in out and "LC-4" not in out
    assert not any(s in out for s in SECRETS)


def test_a_layer_format_is_refused_with_exit_2(public_city: sa.Engine, tmp_path: Path) -> None:
    code, _, err = _public("--format", "gpkg", "-o", str(tmp_path / "x.gpkg"))
    assert code == 2 and "--format" in err and not (tmp_path / "x.gpkg").exists()
