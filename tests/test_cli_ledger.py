"""The ledger through the ``blockline`` command: it agrees with the check, refuses a change of nothing, and
every table it (or any other export) writes keeps formula-like text inert; the audit's JSON is strict JSON.

The city is tests.files.two_counties with its block lines (worked numbers in tests/zoning/test_balance.py):
鹿城 330302 level 1 [X+100, X+700] × [Y+100, Y+700] (540 亩), 瓯海 330304 level 1 [X+2100, X+2700] × …,
鹿城 level 2 [X+800, X+1200] × [Y+100, Y+700]. A 100 m × 100 m box is 15 亩. Files are written in EPSG:4549
and in EPSG:4528 (the same zone with the zone number 40 in front of the eastings).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import affinity, box
from typer.testing import CliRunner

from blockline.cli import app
from geo.export import write_table
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

runner = CliRunner()
LC, OH = "330302", "330304"
#: what a spreadsheet takes for the start of a formula (OWASP, CSV injection)
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    load_two_county_city(engine, tmp_path)
    return engine


def _file(folder: Path, name: str, geom: object, crs: str) -> Path:
    """``geom`` (drawn in EPSG:4549) written to a GeoPackage in ``crs`` (4549, or 4528 with its zone prefix)."""
    if crs == "EPSG:4528":
        geom = affinity.translate(geom, xoff=40_000_000)  # same zone (CM 120°E), false easting 40 500 000
    path = folder / name
    gpd.GeoDataFrame(geometry=[geom], crs=crs).to_file(path, engine="pyogrio")
    return path


# -- issue 17 item 3: the ledger says what the check said --------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:4528"])
def test_a_transfer_covered_adjustment_is_balanced_in_the_check_and_in_the_ledger(
    city: sa.Engine, tmp_path: Path, crs: str
) -> None:
    surplus = _file(tmp_path, "oh.gpkg", box(X + 2100, Y + 800, X + 2200, Y + 900), crs)  # 瓯海 +15 亩
    assert (
        _run("balance", "record", "--county", OH, "--add", str(surplus), "--doc", "瓯政〔2026〕2号")[0] == 0
    )
    removal = _file(
        tmp_path, "rem.gpkg", box(X + 100, Y + 100, X + 700, Y + 200), crs
    )  # 90 亩 of 鹿城's level 1
    addition = _file(
        tmp_path, "add.gpkg", box(X + 800, Y + 800, X + 1350, Y + 900), crs
    )  # 82.5 亩 of new land
    code, out, _ = _run(
        "balance",
        "check",
        "--county",
        LC,
        "--remove",
        str(removal),
        "--add",
        str(addition),
        "--format",
        "json",
    )
    check = json.loads(out)
    assert code == 1 and check["county_balanced"] is False  # 鹿城 alone is 7.5 亩 short ...
    assert check["city_balanced"] is True and check["city_balance_after_mu"] == 7.5  # ... the city is not
    code, out, err = _run(
        "balance",
        "record",
        "--county",
        LC,
        "--remove",
        str(removal),
        "--add",
        str(addition),
        "--doc",
        "温政函〔2026〕3号",
        "--transfer",
        f"{OH}:7.5",
        "--format",
        "json",
    )
    assert code == 0, err
    recorded = json.loads(out)
    assert recorded["city_balanced"] is True
    code, out, _ = _run("balance", "ledger", "--format", "json")
    book = json.loads(out)
    entry = next(e for e in book["entries"] if e["id"] == recorded["adjustment_id"])
    # one fact: the check's "city balanced" is the ledger's "the city's level-1 total did not fall"
    assert entry["fell"] is False and entry["city_balance_after_mu"] == 7.5
    assert book["city_balanced"] is True and book["city_fell_by"] is None and book["city_balance_mu"] == 7.5
    moment = next(h for h in book["level1_history"] if h["adjustment_id"] == recorded["adjustment_id"])
    assert (
        moment["change_mu"] == -7.5 and moment["fell"] is False
    )  # the total of the moment dipped: not a fall
    assert not any(h["fell"] for h in book["level1_history"])
    code, out, _ = _run("balance", "ledger")
    assert code == 0 and "低于原有总量" not in out


# -- issue 19 item 2: a change of nothing ------------------------------------------------------------------
@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:4528"])
def test_record_refuses_an_adjustment_that_changes_nothing(city: sa.Engine, tmp_path: Path, crs: str) -> None:
    elsewhere = _file(
        tmp_path, "oh.gpkg", box(X + 2100, Y + 800, X + 2200, Y + 900), crs
    )  # new land, in 瓯海
    code, out, _ = _run("balance", "check", "--county", LC, "--add", str(elsewhere), "--format", "json")
    assert code == 0 and "no_change" in {w["code"] for w in json.loads(out)["warnings"]}
    code, _, err = _run(
        "balance", "record", "--county", LC, "--add", str(elsewhere), "--doc", "温政函〔2026〕4号"
    )
    assert code == 2
    assert "would change nothing" in err and "不会改变任何东西" in err and "outside county 330302" in err
    code, out, _ = _run("balance", "ledger", "--format", "json")
    assert json.loads(out)["entries"] == []


# -- issue 19 item 7: strict JSON from the audit trail -------------------------------------------------------
def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_audit_json_is_strict_json(city: sa.Engine) -> None:
    code, out, _ = _run("audit", "--format", "json")
    assert code == 0
    rows = _strict(out)
    loads = [r for r in rows if r["action"] == "load.blocklines"]
    assert loads and all(r["approval_doc"] is None for r in loads)  # a load has no 文号: null, not NaN
    assert all(r["at"][10] == "T" and r["at"].endswith("+08:00") for r in rows)


# -- issue 19 item 4: every table export keeps text inert -----------------------------------------------------
FORMULAS = {
    "doc": '=HYPERLINK("http://evil.example/x","批复")',
    "reason": "=1+2",
    "parcel_no": "-2+3",
    "holder": "@SUM(1+1)*cmd|' /C calc'!A0",
    "holder_id": "+91330300MA2XYZ",
    "land_use": "=工业用地",
    "lc_name": "=鹿城区",
    "oh_name": "\t=瓯海区",
}


def _cells(path_or_bytes: Path | bytes) -> list[openpyxl.cell.Cell]:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = openpyxl.load_workbook(src)
    return [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_inert_xlsx(path_or_bytes: Path | bytes, planted: list[str]) -> None:
    cells = _cells(path_or_bytes)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []  # no formula anywhere
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for v in planted:
        assert v in texts or v.strip() in texts, f"{v!r} is not in the workbook as text"
    for c in cells:
        if isinstance(c.value, str) and c.value.startswith(FORMULA_LEADS):
            assert c.data_type == "s" and c.quotePrefix, c.coordinate


def _assert_inert_csv(text: str, planted: list[str]) -> None:
    fields = [f for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for f in row]
    for f in fields:
        if f.startswith(FORMULA_LEADS):
            float(f)  # only a number (a negative balance) may start so; text would be a formula
    for v in planted:
        assert "'" + v in fields or "'" + v.strip() in fields, f"{v!r} is not in the CSV as inert text"


@pytest.fixture
def formula_city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    """Two counties whose names, a parcel whose every text field, and an entry whose 文号 and reason are formulas."""
    counties = gpd.GeoDataFrame(
        {"code": [LC, OH], "name": [FORMULAS["lc_name"], FORMULAS["oh_name"]]},
        geometry=[box(X, Y, X + 2000, Y + 2000), box(X + 2000, Y, X + 4000, Y + 2000)],
        crs="EPSG:4549",
    )
    counties.to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert _run("load", "boundaries", str(tmp_path / "c.gpkg"))[0] == 0
    gpd.GeoDataFrame(
        {"name": ["一级"]}, geometry=[box(X + 100, Y + 100, X + 700, Y + 700)], crs="EPSG:4549"
    ).to_file(tmp_path / "l1.gpkg", engine="pyogrio")
    assert _run("load", "blocklines", str(tmp_path / "l1.gpkg"), "--level", "1")[0] == 0
    gpd.GeoDataFrame(
        {
            "宗地编号": [FORMULAS["parcel_no"]],
            "权利人": [FORMULAS["holder"]],
            "统一社会信用代码": [FORMULAS["holder_id"]],
            "土地用途": [FORMULAS["land_use"]],
        },
        geometry=[box(X + 1300, Y + 1300, X + 1400, Y + 1400)],
        crs="EPSG:4549",
    ).to_file(tmp_path / "p.gpkg", engine="pyogrio")
    code, _, err = _run("load", "parcels", str(tmp_path / "p.gpkg"))
    assert code == 0, err
    add = _file(tmp_path, "add.gpkg", box(X + 800, Y + 800, X + 900, Y + 900), "EPSG:4528")
    code, _, err = _run(
        "balance",
        "record",
        "--county",
        LC,
        "--add",
        str(add),
        "--doc",
        FORMULAS["doc"],
        "--reason",
        FORMULAS["reason"],
    )
    assert code == 0, err
    return engine


def test_every_table_export_keeps_formula_text_inert(formula_city: sa.Engine, tmp_path: Path) -> None:
    from blockline.services.balance import ledger
    from blockline.ui import balance_view as bv
    from blockline.ui.data import table_bytes

    entry = [FORMULAS["doc"], FORMULAS["reason"], FORMULAS["lc_name"]]
    names = [FORMULAS["lc_name"], FORMULAS["oh_name"]]
    parcel = [FORMULAS[k] for k in ("parcel_no", "holder", "holder_id", "land_use")]
    assert _run("balance", "ledger", "--format", "xlsx", "-o", str(tmp_path / "l.xlsx"))[0] == 0
    _assert_inert_xlsx(tmp_path / "l.xlsx", entry + names)
    _assert_inert_xlsx(bv.ledger_xlsx_bytes(ledger(formula_city)), entry + names)  # the app's download
    assert _run("balance", "ledger", "--format", "csv", "-o", str(tmp_path / "l.csv"))[0] == 0
    _assert_inert_csv((tmp_path / "l.csv").read_text(encoding="utf-8-sig"), entry)
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"p.{fmt}"
        code, _, err = _run("parcels", "--format", fmt, "-o", str(out))
        assert code == 0, err
        if fmt == "csv":
            _assert_inert_csv(out.read_text(encoding="utf-8-sig"), parcel)
        else:
            _assert_inert_xlsx(out, parcel)
        out = tmp_path / f"a.{fmt}"
        assert _run("audit", "--format", fmt, "-o", str(out))[0] == 0
        if fmt == "csv":
            _assert_inert_csv(out.read_text(encoding="utf-8-sig"), [FORMULAS["doc"]])
        else:
            _assert_inert_xlsx(out, [FORMULAS["doc"]])
    frame = pd.DataFrame({"parcel_no": [FORMULAS["parcel_no"]], "holder": [FORMULAS["holder"]]})
    _assert_inert_xlsx(table_bytes(frame, fmt="xlsx"), parcel[:2])  # the app's table downloads
    _assert_inert_csv(table_bytes(frame, fmt="csv").decode("utf-8-sig"), parcel[:2])


def test_the_saved_zone_workbook_keeps_formula_text_inert() -> None:
    from blockline.ui import zones_view as zv

    assessment = {
        "area_mu": 93.75,
        "meets_threshold": True,
        "holders": 1,
        "low_efficiency_share": 0.5,
        "block_line_levels": [1],
        "article": "wenzhou-2020 WZ §12",
        "policy": "wenzhou-2020",
        "parcels": [
            {
                "parcel_no": FORMULAS["parcel_no"],
                "share": 1.0,
                "area_in_zone_mu": 15.0,
                "low_efficiency": True,
                "holder": FORMULAS["holder"],
                "rating": "C",
            }
        ],
    }
    zone = pd.Series(
        {
            "id": 7,
            "name": FORMULAS["doc"],
            "kind": "drawn",
            "county_code": LC,
            "area_mu": 93.75,
            "params": {},
            "requirements": {"industry": FORMULAS["reason"], "tax_per_mu_wan": -30.0},
            "assessment": assessment,
            "created_by": FORMULAS["holder_id"],
            "created_at": pd.Timestamp("2026-11-23 08:00", tz="Asia/Shanghai"),
        }
    )
    data = zv.saved_zone_xlsx(zone, "zh")
    _assert_inert_xlsx(
        data,
        [
            FORMULAS["doc"],
            FORMULAS["reason"],
            FORMULAS["holder_id"],
            FORMULAS["parcel_no"],
            FORMULAS["holder"],
        ],
    )
    numbers = [c.value for c in _cells(data) if c.data_type == "n"]
    assert -30.0 in numbers and 93.75 in numbers  # numbers stay numbers, a negative one too


def test_the_one_writer_guards_text_and_keeps_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["=1+2", "-3", "\t=A1", "\r@x", "+1", "温政函〔2026〕9号"],
            "mu": [-7.5, 0.0, 1.25, -0.01, 2.0, 3.0],
            "n": [-2, 0, 1, 2, 3, 4],
        }
    )
    write_table(frame, tmp_path / "t.xlsx", fmt="xlsx")
    cells = {c.coordinate: c for c in _cells(tmp_path / "t.xlsx")}
    # the text itself, unchanged (an openpyxl that writes a carriage return bare reads it back as a line feed)
    assert [cells[f"A{r}"].value.replace("\r", "\n") for r in range(2, 8)] == [
        v.replace("\r", "\n") for v in frame["text"]
    ]
    assert all(cells[f"A{r}"].data_type == "s" for r in range(2, 8))
    assert [cells[f"A{r}"].quotePrefix for r in range(2, 8)] == [True] * 5 + [False]
    assert [(cells[f"B{r}"].data_type, cells[f"B{r}"].value) for r in (2, 5)] == [("n", -7.5), ("n", -0.01)]
    assert (cells["C2"].data_type, cells["C2"].value) == ("n", -2)
    write_table(frame, tmp_path / "t.csv", fmt="csv")
    with (tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'-3", "'\t=A1", "'\r@x", "'+1", "温政函〔2026〕9号"]
    assert [r[1] for r in rows[1:3]] == ["-7.5", "0.0"] and rows[1][2] == "-2"
