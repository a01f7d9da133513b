"""Parcel attributes (``geo.fields``): CLI.md's canonical names, the Chinese headers, and typed values.

Every header of CLI.md's "Parcel fields" table is recognised as written and as a shapefile cuts it
(10 bytes: 5 characters in GBK, 3 in UTF-8). Dates, numbers and yes/no are read in every form planners'
files hold them, and every value that does not parse is a problem naming its row (from 1) and parcel.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError
from geo.fields import (
    PARCEL_FIELDS,
    coerce_parcel_columns,
    map_columns,
    parse_bool,
    parse_date,
    parse_field_map,
    parse_number,
)

# CLI.md, "Parcel fields": every recognised Chinese header and its canonical field.
CLI_HEADERS = {
    "宗地编号": "parcel_no",
    "宗地代码": "parcel_no",
    "不动产单元号": "parcel_no",
    "权利人": "holder",
    "使用权人": "holder",
    "企业名称": "holder",
    "统一社会信用代码": "holder_id",
    "土地用途": "land_use",
    "用途": "land_use",
    "地类": "land_use",
    "行政区代码": "county_code",
    "行政区划代码": "county_code",
    "交地日期": "delivered_on",
    "约定开工日期": "agreed_start_on",
    "实际开工日期": "started_on",
    "约定竣工日期": "agreed_completion_on",
    "实际竣工日期": "completed_on",
    "约定投产日期": "agreed_operation_on",
    "实际投产日期": "operating_since",
    "约定达产日期": "agreed_full_production_on",
    "出让年限": "lease_years",
    "计划总投资": "planned_investment",
    "约定投资强度": "committed_investment_per_mu",
    "约定亩均税收": "committed_tax_per_mu",
    "约定亩均产值": "committed_output_per_mu",
    "约定容积率": "min_far",
    "实际投资": "investment",
    "年度税收": "tax",
    "年度产值": "output",
    "建筑面积": "floor_area",
    "建筑占地面积": "footprint_area",
    "低效用地": "is_low_efficiency",
}
DATE = dt.date(2021, 3, 5)


def cut(header: str, codec: str) -> str:
    """The header as a shapefile stores it: 10 bytes in ``codec``, a broken last character dropped."""
    return header.encode(codec)[:10].decode(codec, errors="ignore")


def test_every_canonical_field_of_cli_md_has_a_chinese_header() -> None:
    assert set(CLI_HEADERS.values()) == set(PARCEL_FIELDS)


@pytest.mark.parametrize("header", list(CLI_HEADERS))
def test_cli_md_header_maps_to_its_field(header: str) -> None:
    mapping = map_columns([header], field_map={})
    assert mapping.rename == {header: CLI_HEADERS[header]}
    assert mapping.unknown == [] and mapping.problems == []


@pytest.mark.parametrize("header", [h for h in CLI_HEADERS if len(h.encode("gbk")) > 10])
def test_cli_md_header_cut_to_ten_gbk_bytes_still_maps(header: str) -> None:
    short = cut(header, "gbk")  # 5 characters: 统一社会信用代码 → 统一社会信
    assert len(short) == 5
    assert map_columns([short], field_map={}).rename == {short: CLI_HEADERS[header]}


@pytest.mark.parametrize("header", [h for h in CLI_HEADERS if len(h.encode("utf-8")) > 10])
def test_cli_md_header_cut_to_ten_utf8_bytes_maps_or_stays_unknown(header: str) -> None:
    # 3 characters in UTF-8. Some prefixes name one field (约定开 → agreed_start_on); some name two
    # (约定投 → 约定投产日期 or 约定投资强度): those must stay unknown, never be guessed.
    short = cut(header, "utf-8")
    candidates = {f for h, f in CLI_HEADERS.items() if h.startswith(short)}
    mapping = map_columns([short], field_map={})
    if len(candidates) == 1:
        assert mapping.rename == {short: CLI_HEADERS[header]}
    else:
        assert mapping.rename == {} and mapping.unknown == [short]


@pytest.mark.parametrize(
    "header,field",
    [
        ("parcel_no", "parcel_no"),
        ("Parcel_No", "parcel_no"),
        ("ZDBH", "parcel_no"),
        ("QLR", "holder"),
        (" 宗地编号 ", "parcel_no"),
        ("【宗地编号】", "parcel_no"),
        ("宗 地 编 号", "parcel_no"),
        ("Shape_Tax", None),
    ],
)
def test_headers_match_ignoring_case_spaces_and_brackets(header: str, field: str | None) -> None:
    assert map_columns([header], field_map={}).rename == ({header: field} if field else {})


def test_unknown_columns_are_kept_in_order_and_the_area_column_is_found() -> None:
    mapping = map_columns(["宗地编号", "备注", "用地面积", "联系人", "geometry"], field_map={})
    assert mapping.rename == {"宗地编号": "parcel_no"}
    assert mapping.unknown == ["备注", "用地面积", "联系人"]
    assert mapping.area_column == "用地面积"


@pytest.mark.parametrize(
    "header", ["用地面积", "宗地面积", "面积", "面积(亩)", "用地面积（平方米）", "宗地面积㎡", "ZDMJ"]
)
def test_area_columns_are_recognised_for_comparison(header: str) -> None:
    mapping = map_columns(["宗地编号", header], field_map={})
    assert mapping.area_column == header
    assert header not in mapping.rename  # never used as area_mu


@pytest.mark.parametrize(
    "header",
    [
        "Shape_Area",
        "Shape_Leng",
        "SHAPE_Area",
        "SHAPE_Length",
        "shape_area",
        "SHAPE_LENG",
        "st_area(shape)",
        "SHAPE.STArea()",
    ],
)
def test_esri_geometry_fields_are_neither_attributes_nor_the_area_to_compare(header: str) -> None:
    mapping = map_columns(["宗地编号", header, "用地面积"], field_map={})
    assert mapping.geometry_fields == [header]
    assert mapping.area_column == "用地面积"  # the planner's own area column is still the one compared
    assert header not in mapping.unknown and header not in mapping.rename  # not kept in extra either


def test_field_map_names_columns_no_alias_knows() -> None:
    field_map = {"地块号": "parcel_no", "单位名称": "holder"}
    mapping = map_columns(["地块号", "单位名称", "备注"], field_map=field_map)
    assert mapping.rename == {"地块号": "parcel_no", "单位名称": "holder"}
    assert mapping.unknown == ["备注"]


def test_field_map_wins_over_the_alias_of_the_same_column() -> None:
    # 用途 is an alias of land_use; this office uses it for something else.
    mapping = map_columns(["用途", "地类编码"], field_map={"用途": "holder"})
    assert mapping.rename == {"用途": "holder", "地类编码": "land_use"}


@pytest.mark.parametrize("columns", [["宗地编号", "不动产单元号"], ["不动产单元号", "宗地编号"]])
def test_field_map_wins_over_another_columns_alias(columns: list[str]) -> None:
    # Both headers are aliases of parcel_no. The user says which one is the parcel number: that settles it,
    # whichever comes first, and the other column is kept as an ordinary attribute.
    mapping = map_columns(columns, field_map={"不动产单元号": "parcel_no"})
    assert mapping.rename == {"不动产单元号": "parcel_no"}
    assert mapping.unknown == ["宗地编号"]
    assert mapping.problems == []


def test_two_columns_for_one_field_are_a_problem() -> None:
    mapping = map_columns(["宗地编号", "宗地代码", "权利人"], field_map={})
    [problem] = mapping.problems
    assert "宗地代码" in problem.en and "宗地编号" in problem.en and "parcel_no" in problem.en
    assert mapping.rename["权利人"] == "holder"


def test_parse_field_map() -> None:
    got = parse_field_map(["地块号=parcel_no", " 单位 = holder "])
    assert got == {"地块号": "parcel_no", "单位": "holder"}


@pytest.mark.parametrize(
    "item,message",
    [
        ("地块号", "not SRC=DST"),
        ("=parcel_no", "not SRC=DST"),
        ("地块号=", "not SRC=DST"),
        ("地块号=parcel_number", "'parcel_number' is not a canonical field"),
    ],
)
def test_parse_field_map_refuses(item: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_field_map([item])


# --- dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2021-03-05",
        "2021-3-5",
        "2021/3/5",
        "2021/03/05",
        "2021.3.5",
        "2021年3月5日",
        "2021年03月05日",
        "20210305",
        20210305,
        " 2021-03-05 ",
        "2021-03-05 08:30:00",
        "2021-03-05T08:30",
        # Excel serial: days since 1899-12-30. 1900-01-01 → 2021-01-01 is 121 years with 30 leap days
        # (1904 … 2020) = 44195 days, + 2 from 1899-12-30 = 44197; + 31 (Jan) + 28 (Feb) + 4 = 44260.
        44260,
        44260.0,
        44260.75,
        np.int64(44260),
        np.float64(44260.0),
        dt.date(2021, 3, 5),
        dt.datetime(2021, 3, 5, 14, 30),
        pd.Timestamp("2021-03-05 09:00"),
        np.datetime64("2021-03-05"),
    ],
)
def test_parse_date_accepts(value: object) -> None:
    assert parse_date(value) == DATE


def test_excel_serial_anchors() -> None:
    assert parse_date(44197) == dt.date(2021, 1, 1)
    assert parse_date(61) == dt.date(1900, 3, 1)  # after Excel's phantom 1900-02-29


@pytest.mark.parametrize("value", [None, "", "  ", "-", "—", "无", float("nan"), pd.NaT, np.nan])
def test_parse_date_blank_is_none(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value", ["abc", "2021-02-30", "2021-13-01", "3/5/2021", "21-3-5", 0, -1, 22000101, True]
)
def test_parse_date_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


@pytest.mark.parametrize(
    "value,side,shown",
    [
        ("1900-01-01", "before", "1900-01-01"),
        ("1948-12-31", "before", "1948-12-31"),
        (100, "before", "1900-04-09"),  # an Excel serial: day 100 after 1899-12-30
        (pd.Timestamp("1948-12-31"), "before", "1948-12-31"),
        ("2200-01-01", "after", "2200-01-01"),
        ("2101-01-01", "after", "2101-01-01"),
    ],
)
def test_dates_outside_the_store_range_say_so(value: object, side: str, shown: str) -> None:
    df = pd.DataFrame({"started_on": ["2021-03-05", value]})
    out, problems = coerce_parcel_columns(df)
    assert out["started_on"].tolist() == [DATE, None]
    [problem] = problems
    assert problem.row == 2
    assert problem.en == (
        f"field started_on: {shown} is {side} the range of dates the store accepts (1949-01-01 to 2100-12-31)"
    )
    assert ("早于" if side == "before" else "晚于") in problem.zh and "1949-01-01 至 2100-12-31" in problem.zh


@pytest.mark.parametrize("value", ["1949-01-01", "2100-12-31"])
def test_the_ends_of_the_store_range_are_accepted(value: str) -> None:
    out, problems = coerce_parcel_columns(pd.DataFrame({"started_on": [value]}))
    assert problems == [] and out["started_on"].tolist() == [dt.date.fromisoformat(value)]


def test_a_date_that_does_not_exist_is_still_not_a_date() -> None:
    [problem] = coerce_parcel_columns(pd.DataFrame({"started_on": ["1948-02-30"]}))[1]
    assert problem.en == "field started_on: '1948-02-30' is not a date"


# --- numbers and yes/no -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1,234.5", 1234.5),
        ("12,345,678", 12345678.0),
        ("1，234", 1234.0),
        (" 12 ", 12.0),
        ("-3.5", -3.5),
        (7, 7.0),
        (2.5, 2.5),
        (np.int64(3), 3.0),
        ("1e3", 1000.0),
    ],
)
def test_parse_number(value: object, expected: float) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize("value", [None, "", "—", "-", "无", float("nan")])
def test_parse_number_blank_is_none(value: object) -> None:
    assert parse_number(value) is None


@pytest.mark.parametrize("value", ["abc", "12亩", "inf", float("inf"), True])
def test_parse_number_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_number(value)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("是", True),
        ("否", False),
        ("yes", True),
        ("no", False),
        ("YES", True),
        ("No", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        ("true", True),
        ("FALSE", False),
        (True, True),
        (np.bool_(False), False),
        ("低效", True),
        (" 是 ", True),
    ],
)
def test_parse_bool(value: object, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", [None, "", float("nan")])
def test_parse_bool_blank_is_none(value: object) -> None:
    assert parse_bool(value) is None


@pytest.mark.parametrize("value", ["maybe", "2", "对", -1])
def test_parse_bool_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_bool(value)


# --- coerce_parcel_columns ----------------------------------------------------------------------------------


def test_coerce_types_every_kind_and_keeps_the_index() -> None:
    df = pd.DataFrame(
        {
            "parcel_no": ["WZ-001", 1234.0, None],
            "county_code": ["330302", 330304.0, "330302000"],
            "started_on": ["2021/3/5", 44260, None],
            "floor_area": ["1,234.5", 0, ""],
            "tax": ["-12.5", "3", None],  # a refund year: tax may be negative
            "is_low_efficiency": ["是", "否", None],
            "备注": ["x", "y", "z"],  # not a canonical field: not carried
        },
        index=[10, 11, 12],
    )
    before = df.copy()
    out, problems = coerce_parcel_columns(df)
    assert problems == []
    assert list(out.index) == [10, 11, 12]
    assert out["parcel_no"].tolist() == ["WZ-001", "1234", None]
    assert out["county_code"].tolist() == ["330302", "330304", "330302"]
    assert out["started_on"].tolist() == [DATE, DATE, None]
    assert out["floor_area"].tolist()[:2] == [1234.5, 0.0] and np.isnan(out["floor_area"].iloc[2])
    assert out["tax"].tolist()[:2] == [-12.5, 3.0]
    assert out["is_low_efficiency"].tolist() == [True, False, None]
    assert "备注" not in out.columns
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("field", [f for f, kind in PARCEL_FIELDS.items() if kind == "nonneg"])
def test_negative_values_are_refused_for_non_negative_fields(field: str) -> None:
    out, problems = coerce_parcel_columns(pd.DataFrame({field: ["5", "-5"]}))
    [problem] = problems
    assert problem.row == 2
    assert f"field {field}: '-5' is not a non-negative number" == problem.en
    assert out[field].iloc[0] == 5.0 and np.isnan(out[field].iloc[1])


def test_problems_name_rows_from_one_and_the_parcel() -> None:
    df = pd.DataFrame(
        {
            "parcel_no": ["A", "B", "C", "D"],
            "started_on": ["2021-03-05", "abc", "abc", "2021-02-30"],
            "floor_area": ["100", "-1", "100", "x"],
            "is_low_efficiency": ["是", "否", "maybe", None],
            "county_code": ["330302", "33030", "330302", "3303021"],
        },
        index=[100, 200, 300, 400],
    )
    labels = [f"宗地编号={p}" for p in df["parcel_no"]]
    _, problems = coerce_parcel_columns(df, labels=labels)
    found = sorted((p.row, p.feature, p.en.split(":")[0]) for p in problems)
    assert found == [
        (2, "宗地编号=B", "field county_code"),
        (2, "宗地编号=B", "field floor_area"),
        (2, "宗地编号=B", "field started_on"),
        (3, "宗地编号=C", "field is_low_efficiency"),
        (3, "宗地编号=C", "field started_on"),
        (4, "宗地编号=D", "field county_code"),
        (4, "宗地编号=D", "field floor_area"),
        (4, "宗地编号=D", "field started_on"),
    ]
    assert any("'abc'" in p.en for p in problems)


def test_year_limits_are_parameters() -> None:
    df = pd.DataFrame({"started_on": ["1990-01-01"]})
    assert coerce_parcel_columns(df)[1] == []
    assert len(coerce_parcel_columns(df, min_year=2000)[1]) == 1
