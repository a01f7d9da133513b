"""全生命周期: the page on a real store (the demo city), and the Streamlit-free helpers of blockline.ui.lifecycle_view."""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from blockline.ui import lifecycle_view as lv
from geo import clock
from zoning.findings import FINDING_COLUMNS

PAGE = Path(__file__).resolve().parents[2] / "blockline" / "app_pages" / "lifecycle.py"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Cached frames of one test's store must not leak into the next."""
    import streamlit as st

    st.cache_data.clear()


@pytest.fixture
def demo(engine: Engine) -> Engine:
    from blockline.demo import load_demo

    load_demo(engine, user="test", n_parcels=300, seed=5)
    return engine


def open_page(*, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    if lang is not None:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def expected_findings(engine: Engine, policy: str, as_of: dt.date) -> pd.DataFrame:
    """The work list computed straight from the engine, without the page's helpers."""
    from geo.queries import read_parcels, read_ratings
    from zoning.idle import idle_findings
    from zoning.lifecycle import lifecycle_findings
    from zoning.policy import get_profile

    parcels = read_parcels(engine, geometry=False)
    profile = get_profile(policy)
    idle = idle_findings(parcels, as_of=as_of, profile=profile)
    life = lifecycle_findings(parcels, read_ratings(engine), as_of=as_of, profile=profile)
    idle = idle[idle["category"].isin(["late_start", "late_completion"])]
    life = life[life["category"] != "insufficient_data"]
    return pd.concat([idle, life], ignore_index=True)


# -- the page -------------------------------------------------------------------------------------------------
def test_page_on_an_empty_store(engine: Engine) -> None:
    at = open_page()
    assert at.title[0].value == "全生命周期管理"
    assert "数据库为空" in texts(at)


def test_work_list_counts_match_the_engine(demo: Engine) -> None:
    at = open_page()
    assert at.title[0].value == "全生命周期管理"
    expected = expected_findings(demo, "wenzhou-2020", clock.today())
    assert len(expected) > 0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["涉及宗地（宗）"] == f"{expected['parcel_no'].nunique():,}"
    penalty = pd.to_numeric(expected["penalty_wan"], errors="coerce").sum()
    assert metrics["违约金合计（万元）"] == f"{penalty:,.2f}"
    ended = expected[expected["category"].isin(["termination_possible", "rating_termination_possible"])]
    assert metrics["可终止合同（宗）"] == f"{ended['parcel_no'].nunique():,}"
    table = at.dataframe[0].value
    assert len(table) == len(expected)
    assert set(table["宗地编号"]) == set(expected["parcel_no"])
    assert table["依据"].str.startswith("wenzhou-2020 ").all()
    assert not table["类别"].isin(lv.WORK_CATEGORIES).any()  # categories are shown as words, not codes
    assert at.get("download_button")


def test_yiwu_changes_the_articles(demo: Engine) -> None:
    at = open_page()
    at.selectbox(key="lifecycle_policy").set_value("yiwu").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["依据"].str.startswith("yiwu ").all()
    expected = expected_findings(demo, "yiwu", clock.today())
    assert len(table) == len(expected)
    assert {m.label: m.value for m in at.metric}["涉及宗地（宗）"] == f"{expected['parcel_no'].nunique():,}"


def test_category_and_county_filters(demo: Engine) -> None:
    at = open_page()
    expected = expected_findings(demo, "wenzhou-2020", clock.today())
    category = expected["category"].mode()[0]
    at.multiselect(key="lifecycle_categories").set_value([category]).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == (expected["category"] == category).sum()
    county = at.selectbox(key="lifecycle_county").options[1]
    at.selectbox(key="lifecycle_county").set_value(county).run()
    assert not at.exception
    shown = set(at.dataframe[0].value["宗地编号"])
    from geo.queries import read_parcels

    in_county = set(read_parcels(demo, geometry=False).query("county_code == @county")["parcel_no"])
    assert shown <= in_county


def test_a_parcels_timeline_shows_its_dates(demo: Engine) -> None:
    from geo.queries import read_parcels

    parcels = read_parcels(demo, geometry=False)
    parcel = parcels[parcels["delivered_on"].notna()].iloc[0]
    at = open_page()
    at.text_input(key="lifecycle_search").input(parcel["parcel_no"]).run()
    assert not at.exception
    assert at.selectbox(key="lifecycle_parcel").value == parcel["parcel_no"]
    line = next(d.value for d in at.dataframe if "节点" in d.value.columns)
    delivered = line.loc[line["节点"] == "交地", "日期"].iloc[0]
    assert delivered == parcel["delivered_on"].isoformat()
    assert len(delivered) == 10 and delivered[4] == "-" and delivered[7] == "-"
    assert "截至日期" in set(line["节点"])
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    figures = next(d.value for d in at.dataframe if "指标" in d.value.columns)
    assert list(figures["指标"]) == ["亩均投资", "亩均税收", "亩均产值"]


def test_the_first_listed_parcel_shows_its_findings(demo: Engine) -> None:
    at = open_page()
    parcel_no = at.selectbox(key="lifecycle_parcel").value
    assert parcel_no == at.dataframe[0].value["宗地编号"].iloc[0]
    assert any("wenzhou-2020 " in w.value for w in at.warning)


def test_lease_correction_worked_by_hand(demo: Engine) -> None:
    at = open_page()
    at.number_input(key="calc_term").set_value(20.0).run()
    # 20 years ÷ the legal maximum of 50 years = 0.4
    assert any("年期修正系数 0.4（wenzhou-2020 WZ §6" in s.value for s in at.success)
    at.number_input(key="calc_term").set_value(30.0).run()
    errors = [e.value for e in at.error]
    assert any("wenzhou-2020 WZ §6" in e and "30" in e for e in errors)
    at.checkbox(key="calc_major").check().run()
    assert any("年期修正系数 0.6（" in s.value for s in at.success)  # 30 ÷ 50


def test_other_calculators(demo: Engine) -> None:
    at = open_page()
    at.number_input(key="calc_start_price").set_value(1000.0).run()
    assert any("封顶地价 1,200.00 万元（wenzhou-2020 WZ §7）" in s.value for s in at.success)
    # 900 万元 × 15 / 45 亩 = 300 万元, 20 万元/亩
    assert any("本宗地税收 300.00 万元，亩均 20.00 万元/亩" in s.value for s in at.success)
    at.number_input(key="calc_split_total").set_value(10.0).run()
    assert any("大于企业总用地" in e.value for e in at.error)
    at.number_input(key="calc_sale").set_value(800.0).run()
    assert any("抵押价格上限 800.00 万元（wenzhou-2020 WZ §14）" in s.value for s in at.success)
    at.selectbox(key="calc_grade").set_value("D").run()
    assert not at.exception
    assert any("须行使优先收购权（wenzhou-2020 WZ §14）" in w.value and "D 类" in w.value for w in at.warning)


def test_english(demo: Engine) -> None:
    at = open_page(lang="en")
    assert at.title[0].value == "Lifecycle management"
    assert {"Parcels", "Penalties (万元)", "Contracts that may be ended"} <= {m.label for m in at.metric}
    table = at.dataframe[0].value
    assert "Parcel no." in table.columns and "Finding" in table.columns
    assert not table["Finding"].str.contains("[\u4e00-\u9fff]", regex=True).all()
    assert any("Starting-price correction 0.4" in s.value for s in at.success)
    at.number_input(key="calc_term").set_value(30.0).run()
    assert any(e.value.startswith("a lease of 30 years") for e in at.error)


# -- the helpers ------------------------------------------------------------------------------------------------
def test_timeline_orders_known_dates_and_puts_unknown_last() -> None:
    parcel = pd.Series(
        {
            "parcel_no": "A-1",
            "delivered_on": dt.date(2020, 1, 1),
            "agreed_start_on": dt.date(2020, 4, 1),
            "started_on": dt.date(2020, 3, 1),
            "agreed_completion_on": None,
            "completed_on": float("nan"),
            "lease_years": 20.0,
        }
    )
    line = lv.timeline(parcel, as_of=dt.date(2026, 5, 1))
    known = line[line["date"].notna()]
    assert known["event"].tolist() == ["delivered_on", "started_on", "agreed_start_on", "as_of", "lease_end"]
    assert known["kind"].tolist() == ["actual", "actual", "agreed", "today", "agreed"]
    assert line.loc[line["event"] == "lease_end", "date"].iloc[0] == dt.date(2040, 1, 1)
    assert set(line.loc[line["date"].isna(), "event"]) == set(lv.TIMELINE_EVENTS) - {
        "delivered_on",
        "agreed_start_on",
        "started_on",
        "lease_end",
    }
    assert len(line) == len(lv.TIMELINE_EVENTS) + 1


def test_timeline_without_delivery_has_no_lease_end() -> None:
    line = lv.timeline({"parcel_no": "B", "lease_years": 20}, as_of=dt.date(2026, 1, 1))
    assert line.iloc[0].tolist() == ["as_of", dt.date(2026, 1, 1), "today"]
    assert line.loc[line["event"] == "lease_end", "date"].iloc[0] is None


def test_lease_end() -> None:
    assert lv.lease_end(dt.date(2021, 6, 30), 20) == dt.date(2041, 6, 30)
    assert lv.lease_end(dt.date(2020, 2, 29), 1) == dt.date(2021, 2, 28)
    assert lv.lease_end(dt.date(2020, 1, 31), 0.5) == dt.date(2020, 7, 31)
    assert lv.lease_end(dt.date(2020, 1, 1), None) is None
    assert lv.lease_end(dt.date(2020, 1, 1), float("nan")) is None


def test_contract_figures_by_hand() -> None:
    # 15 亩: investment 6,000 万元 → 400 万元/亩 against 300; tax 300 → 20 against 30; output missing
    parcel = {
        "area_mu": 15.0,
        "investment": 6000.0,
        "committed_investment_per_mu": 300.0,
        "tax": 300.0,
        "committed_tax_per_mu": 30.0,
        "output": None,
        "committed_output_per_mu": 500.0,
    }
    f = lv.contract_figures(parcel).set_index("measure")
    assert f.loc["investment", "actual_per_mu_wan"] == pytest.approx(400.0)
    assert f.loc["investment", "share"] == pytest.approx(4 / 3)
    assert f.loc["tax", "actual_per_mu_wan"] == pytest.approx(20.0)
    assert f.loc["tax", "share"] == pytest.approx(2 / 3)
    assert f.loc["output", "committed_per_mu_wan"] == 500.0
    assert math.isnan(f.loc["output", "actual_per_mu_wan"]) and math.isnan(f.loc["output", "share"])
    no_area = lv.contract_figures({"tax": 300.0, "committed_tax_per_mu": 30.0}, ["tax"])
    assert math.isnan(no_area.loc[0, "actual_per_mu_wan"])


def _finding(parcel_no: str, category: str, penalty: float | None = None) -> list[object]:
    return [parcel_no, category, "p §1", "中", "en", dt.date(2025, 1, 1), {}, penalty]


def test_work_list_keeps_the_warnings_and_joins_the_parcel() -> None:
    parcels = pd.DataFrame(
        {
            "parcel_no": ["A", "B"],
            "holder": ["甲", "乙"],
            "county_code": ["330302", "330304"],
            "area_mu": [15.0, 30.0],
        }
    )
    idle = pd.DataFrame(
        [
            _finding("B", "idle"),
            _finding("B", "late_completion"),
            _finding("A", "late_start"),
            _finding("A", "insufficient_data"),
        ],
        columns=FINDING_COLUMNS,
    )
    life = pd.DataFrame(
        [
            _finding("A", "tax_shortfall", 150.0),
            _finding("B", "lease_expired"),
            _finding("B", "insufficient_data"),
        ],
        columns=FINDING_COLUMNS,
    )
    out = lv.work_list(parcels, idle, life)
    assert out[["parcel_no", "category"]].values.tolist() == [
        ["A", "late_start"],
        ["A", "tax_shortfall"],
        ["B", "late_completion"],
        ["B", "lease_expired"],
    ]
    assert out["holder"].tolist() == ["甲", "甲", "乙", "乙"]
    assert out["area_mu"].tolist() == [15.0, 15.0, 30.0, 30.0]
    assert "figures" not in out.columns
    assert lv.summarise(out) == {"parcels": 2, "penalty_wan": 150.0, "terminations": 0}
    assert parcels.columns.tolist() == ["parcel_no", "holder", "county_code", "area_mu"]  # not modified


def test_summarise_counts_terminating_parcels_once() -> None:
    report = pd.DataFrame(
        {
            "parcel_no": ["A", "A", "B", "C"],
            "category": [
                "termination_possible",
                "rating_termination_possible",
                "rating_termination_possible",
                "evaluation_due",
            ],
            "penalty_wan": [None, None, None, None],
        }
    )
    assert lv.summarise(report) == {"parcels": 3, "penalty_wan": 0.0, "terminations": 2}


def test_lifecycle_report_on_the_store(demo: Engine) -> None:
    today = clock.today()
    report = lv.lifecycle_report(demo, today, "yiwu")
    expected = expected_findings(demo, "yiwu", today)
    assert len(report) == len(expected)
    assert set(report["category"]) <= set(lv.WORK_CATEGORIES)
    assert report["holder"].notna().all() and (report["area_mu"] > 0).all()


def test_split_message() -> None:
    msg = "出让年限 30 年超过一般项目最高 20 年（yiwu YW §5） / a lease of 30 years exceeds the maximum"
    assert lv.split_message(msg, "zh") == "出让年限 30 年超过一般项目最高 20 年（yiwu YW §5）"
    assert lv.split_message(msg, "en") == "a lease of 30 years exceeds the maximum"
    assert lv.split_message("plain", "en") == "plain"


def test_mortgage_calculator_prompts_before_input_and_errs_after(demo: Engine) -> None:
    """Issue 18 item 8: no red error in 抵押上限 before anything is typed; a wrong input is still an error."""
    at = open_page()
    assert not [e.value for e in at.error if "出让价格" in str(e.value)]
    assert any("出让价格" in str(i.value) for i in at.info)
    at.number_input(key="calc_standard_price").set_value(100.0).run()
    assert any("出让价格" in str(e.value) for e in at.error)


def test_penalties_and_missing_figures_read_as_words(demo: Engine) -> None:
    """Issue 18, item 8: a dash where no penalty is due (never None), each figure to the cent; the transfer
    calculator names what it lacks by the page's words (the grade picker's label), never a field's code."""
    at = open_page()
    expected = expected_findings(demo, "wenzhou-2020", clock.today())
    table = at.dataframe[0].value
    due = pd.to_numeric(expected["penalty_wan"], errors="coerce").tolist()
    shown = table["违约金（万元）"].tolist()
    assert "None" not in map(str, shown) and "nan" not in map(str, shown)
    assert shown.count("—") == sum(pd.isna(v) for v in due) > 0
    assert sorted(v for v in shown if v != "—") == sorted(f"{v:,.2f}" for v in due if pd.notna(v)) != []
    assert at.selectbox(key="calc_grade").value == ""  # no grade picked: the rule cannot be judged
    lacking = [i.value for i in at.info if "无法判断" in i.value]
    assert any(v.endswith("缺少：“转让方上年亩均论英雄评价”") for v in lacking), lacking
    assert not [v for v in lacking if re.search(r"[a-z]+_[a-z_]+", v)], lacking
