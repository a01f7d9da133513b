"""Every threshold of both profiles at its legal boundary: boundary − ε, boundary, boundary + ε.

民法典 第一千二百五十九条: 以上、以下、以内、届满 (and 满、不低于、不超过、达到) include the number; 不足、不满、超过、低于
exclude it. The expected answers are read from the texts (WZ = 温政办〔2020〕53号, YW = 义乌实施办法, 闲置土地处置办法
= 国土资源部令第53号) and worked out by hand on 15-亩 (100 m × 100 m = 10,000 m²) and 22.5-亩 (15,000 m²) parcels.
"""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError
from tests.zoning.test_idle import frame, healthy, parcel
from zoning.findings import pct_pair
from zoning.idle import idle_findings, low_efficiency
from zoning.lifecycle import lease_price_correction, lifecycle_findings, transfer_requirements
from zoning.marks import parcel_marks
from zoning.policy import BOUNDARY_WORDS, NATIONAL_SOURCES, PROFILE_DIR, THRESHOLDS, get_profile, load_profile

WZ = get_profile("wenzhou-2020")
YW = get_profile("yiwu")
D = dt.date
DAY = dt.timedelta(days=1)


def cats(f: pd.DataFrame, no: str | None = None) -> list[str]:
    return (f if no is None else f[f["parcel_no"] == no])["category"].tolist()


def idle_at(row: dict, as_of: dt.date, profile=WZ) -> list[str]:
    return cats(idle_findings(frame(row), as_of=as_of, profile=profile))


# ---------------------------------------------------------------------------------------------- the profiles


def test_every_threshold_of_both_profiles_states_its_word_and_the_civil_code_decides_inclusion() -> None:
    for profile in (WZ, YW):
        for key, p in profile.parameters.items():
            if key in THRESHOLDS:
                assert p.boundary in BOUNDARY_WORDS, key
                assert BOUNDARY_WORDS[p.boundary][0] == THRESHOLDS[key], key
            else:
                assert p.boundary is None, key
    # the words of the texts, by hand
    assert [
        WZ.boundary(k)
        for k in (
            "idle.stalled_developed_share",
            "idle.stalled_investment_share",
            "idle.unstarted_years",
            "acceptance.min_tax_share",
            "consolidation.min_mu",
            "consolidation.gap_m",
        )
    ] == ["不足", "不足", "满", "不足", "达到", "不超过"]
    assert [
        WZ.includes(k)
        for k in (
            "idle.stalled_developed_share",
            "idle.unstarted_years",
            "consolidation.min_mu",
            "consolidation.gap_m",
            "use.unbuilt_share",
        )
    ] == [False, True, True, True, False]
    assert YW.boundary("review.pay_difference_from_share") == "不低于" and YW.includes(
        "review.pay_difference_from_share"
    )
    assert YW.boundary("construction.completion_months_from_delivery") == "以内"
    # the national text says 不足百分之二十五; the 20 % was a misquote, and the note says so
    assert WZ.value("idle.stalled_investment_share") == 0.25 == YW.value("idle.stalled_investment_share")
    assert "误引" in WZ.parameters["idle.stalled_investment_share"].note


def _copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    path = tmp_path / f"copy-{name}.toml"
    shutil.copy(PROFILE_DIR / f"{name}.toml", path)
    text = path.read_text(encoding="utf-8").replace(f'name = "{name}"', f'name = "copy-{name}"')
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            '[use.min_building_coverage]\nvalue = 0.30\narticle = "WZ §13；《工业项目建设用地控制指标》（国土资发〔2008〕24号）"\n'  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
            'boundary = "不低于"',
            '[use.min_building_coverage]\nvalue = 0.30\narticle = "WZ §13；《工业项目建设用地控制指标》（国土资发'
            '〔2008〕24号）"\nboundary = "不足"',
            "比较方向不符",
        ),
        ('boundary = "满"', 'boundary = "大约"', "不认识"),
        ('article = "WZ §12"\nboundary = "达到"', 'article = "WZ §12"', "boundary"),
        ('boundary = "不足"', 'boundary = "不足"\nincludes = true', "民法典"),
    ],
)
def test_a_wrong_or_missing_boundary_word_is_refused(tmp_path: Path, old: str, new: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        load_profile(_copy(tmp_path, "wenzhou-2020", old, new))


# ---------------------------------------------------------------------------------------------- 闲置土地处置办法 §2, §14  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line


@pytest.mark.parametrize("profile", [WZ, YW])
@pytest.mark.parametrize(
    ("as_of", "idle", "reclaimable"),
    [
        (D(2025, 2, 28), False, False),  # a day short of 满一年
        (D(2025, 3, 1), True, False),  # 满一年: the anniversary itself
        (D(2025, 3, 2), True, False),
        (D(2026, 2, 28), True, False),
        (D(2026, 3, 1), True, True),  # 满两年
        (D(2026, 3, 2), True, True),
    ],
)
def test_unstarted_one_year_and_two_years(profile, as_of: dt.date, idle: bool, reclaimable: bool) -> None:
    row = parcel("U", agreed_start_on=D(2024, 3, 1))
    found = idle_at(row, as_of, profile)
    assert ("idle" in found, "idle_reclaimable" in found) == (idle, reclaimable)


def _stalled(footprint: float, investment: float, **kw) -> dict:
    """22.5 亩 = 15,000 m² (a third is 5,000 m²), started, not completed, agreed completion 2022-06-30."""
    return parcel(
        "S",
        area_mu=22.5,
        agreed_start_on=D(2020, 1, 1),
        started_on=D(2020, 1, 1),
        agreed_completion_on=D(2022, 6, 30),
        planned_investment=10000.0,
        investment=investment,
        footprint_area=footprint,
        **kw,
    )


@pytest.mark.parametrize("profile", [WZ, YW])
@pytest.mark.parametrize(
    ("footprint", "idle"),
    [(4999.0, True), (5000.0, False), (5001.0, False), (15000.0 / 3 * (1 - 1e-12), False)],
)  # noise under a third
def test_developed_share_under_one_third(profile, footprint: float, idle: bool) -> None:
    found = idle_at(_stalled(footprint, 9000.0), D(2026, 11, 22), profile)
    assert ("idle" in found) is idle


@pytest.mark.parametrize("profile", [WZ, YW])
@pytest.mark.parametrize(("investment", "idle"), [(2499.0, True), (2500.0, False), (2501.0, False)])
def test_investment_under_25_percent(profile, investment: float, idle: bool) -> None:
    found = idle_at(_stalled(9000.0, investment), D(2026, 11, 22), profile)
    assert ("idle" in found) is idle


@pytest.mark.parametrize(
    ("as_of", "idle"), [(D(2023, 6, 29), False), (D(2023, 6, 30), True), (D(2023, 7, 1), True)]
)
def test_stalled_one_year(as_of: dt.date, idle: bool) -> None:
    assert ("idle" in idle_at(_stalled(1000.0, 9000.0), as_of)) is idle  # 中止开发满一年 after 2022-06-30


def test_the_stalled_sentence_shows_a_figure_that_agrees_with_its_verdict() -> None:
    f = idle_findings(frame(_stalled(4999.0, 9000.0)), as_of=D(2026, 11, 22), profile=WZ)
    detail = f.loc[f["category"] == "idle", "detail"].iloc[0]
    assert "建筑占地面积为宗地面积的 33.33%（不足 33.33%）" not in detail  # the old contradiction
    assert "建筑占地面积为宗地面积的 33.327%（不足 33.333%）" in detail  # 4999 / 15000 = 33.3267 %


# ---------------------------------------------------------------------------------------------- WZ §6, YW §5


@pytest.mark.parametrize("profile", [WZ, YW])
@pytest.mark.parametrize(
    ("started", "late"), [(D(2024, 2, 29), False), (D(2024, 3, 1), False), (D(2024, 3, 2), True)]
)
def test_start_on_the_agreed_day_is_in_time(profile, started: dt.date, late: bool) -> None:
    row = parcel("S", agreed_start_on=D(2024, 3, 1), started_on=started)
    assert ("late_start" in idle_at(row, D(2024, 6, 1), profile)) is late


@pytest.mark.parametrize(("profile", "deadline"), [(WZ, D(2024, 7, 10)), (YW, D(2025, 1, 10))])
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_start_deadline_derived_from_delivery(profile, deadline: dt.date, offset: int) -> None:
    # WZ §6 最长不得超过半年, YW §5 交付之日起1年内: the deadline itself is in time
    row = parcel("S", delivered_on=D(2024, 1, 10), started_on=deadline + offset * DAY)
    assert ("late_start" in idle_at(row, D(2025, 6, 1), profile)) is (offset > 0)


@pytest.mark.parametrize(
    ("planned", "months"),
    [
        (99_999.99, 24),
        (100_000.0, 24),
        (100_000.01, 30),  # 10亿元以下 includes 10 亿
        (199_999.99, 30),
        (200_000.0, 36),
        (200_000.01, 36),  # exactly 20 亿: 20亿元以上 (the profile's note says why)
    ],
)
def test_wenzhou_build_period_tiers(planned: float, months: int) -> None:
    row = parcel("B", agreed_start_on=D(2020, 1, 1), started_on=D(2020, 1, 1), planned_investment=planned)
    f = idle_findings(frame(row), as_of=D(2026, 11, 22), profile=WZ)
    late = f[f["category"] == "late_completion"].iloc[0]
    assert late["figures"]["build_months"] == months
    assert late["since"] == D(2020 + months // 12, 1 + months % 12, 1)


@pytest.mark.parametrize(
    ("as_of", "late"), [(D(2024, 1, 9), False), (D(2024, 1, 10), False), (D(2024, 1, 11), True)]
)
def test_yiwu_completion_three_years_from_delivery(as_of: dt.date, late: bool) -> None:
    # the case: delivered 2021-01-10, agreed start 2021-04-10, started 2021-04-01, not completed
    row = parcel("Y", delivered_on=D(2021, 1, 10), agreed_start_on=D(2021, 4, 10), started_on=D(2021, 4, 1))
    f = idle_findings(frame(row), as_of=as_of, profile=YW)
    assert ("late_completion" in cats(f)) is late
    assert "late_completion" not in cats(idle_findings(frame(row), as_of=D(2023, 12, 1), profile=YW))
    if late:
        finding = f[f["category"] == "late_completion"].iloc[0]
        assert finding["since"] == D(2024, 1, 10) and finding["article"] == "yiwu YW §5"
        assert "按交地日期 2021-01-10 起 36 个月内竣工推算" in finding["detail"]


@pytest.mark.parametrize(
    ("completed", "late"), [(D(2024, 1, 9), False), (D(2024, 1, 10), False), (D(2024, 1, 11), True)]
)
def test_yiwu_completed_on_the_deadline_is_in_time_and_a_late_one_is_cured(
    completed: dt.date, late: bool
) -> None:
    row = parcel("Y", delivered_on=D(2021, 1, 10), started_on=D(2021, 4, 1), completed_on=completed)
    f = idle_findings(frame(row), as_of=D(2026, 11, 22), profile=YW)
    assert ("late_completion" in cats(f)) is late
    if late:
        assert f.loc[f["category"] == "late_completion", "until"].iloc[0] == completed


def test_yiwu_contract_completion_date_wins() -> None:
    row = parcel(
        "Y", delivered_on=D(2021, 1, 10), started_on=D(2021, 4, 1), agreed_completion_on=D(2023, 6, 30)
    )
    f = idle_findings(frame(row), as_of=D(2023, 12, 1), profile=YW)
    assert f.loc[f["category"] == "late_completion", "since"].tolist() == [D(2023, 6, 30)]


# ---------------------------------------------------------------------------------------------- use (用而未尽), targets


@pytest.mark.parametrize(("footprint", "underused"), [(2999.0, True), (3000.0, False), (3001.0, False)])
def test_building_coverage_not_under_30_percent(footprint: float, underused: bool) -> None:
    row = healthy("C", footprint_area=footprint, floor_area=20000.0, min_far=1.0)  # 15 亩 = 10,000 m²
    for profile in (WZ, YW):
        assert ("underused" in idle_at(row, D(2026, 11, 22), profile)) is underused


@pytest.mark.parametrize(("footprint", "over_half"), [(1499.0, True), (1500.0, False), (1501.0, False)])
def test_unbuilt_share_over_half(footprint: float, over_half: bool) -> None:
    # estimated unbuilt share 1 − coverage ÷ 30 %: exactly 50 % at 15 % coverage, which is not 超过
    row = healthy("C", footprint_area=footprint, floor_area=20000.0, min_far=1.0)
    f = idle_findings(frame(row), as_of=D(2026, 11, 22), profile=WZ)
    assert ("未利用面积" in f.loc[f["category"] == "underused", "detail"].iloc[0]) is over_half


@pytest.mark.parametrize(("floor", "underused"), [(9999.0, True), (10000.0, False), (10001.0, False)])
def test_floor_area_ratio_under_the_contract(floor: float, underused: bool) -> None:
    row = healthy("F", floor_area=floor, min_far=1.0, footprint_area=5000.0)
    f = idle_findings(frame(row), as_of=D(2026, 11, 22), profile=WZ)
    assert ("underused" in cats(f)) is underused
    if underused:  # 0.9999 against 1.0: not "1.00，低于约定 1.00"
        assert "容积率 0.9999，低于约定 1.0000" in f["detail"].iloc[0]


@pytest.mark.parametrize(("tax", "below"), [(449.85, True), (450.0, False), (450.15, False)])
def test_operating_below_the_committed_tax(tax: float, below: bool) -> None:
    row = healthy("T", tax=tax, committed_tax_per_mu=30.0)  # 450 万元 / 15 亩 = 30.00
    f = idle_findings(frame(row), as_of=D(2026, 11, 22), profile=WZ)
    assert ("operating_below_target" in cats(f)) is below
    if below:
        assert "亩均税收 29.99 万元/亩，低于约定 30.00 万元/亩" in f["detail"].iloc[0]


# ---------------------------------------------------------------------------------------------- WZ §10, YW §10–§12


_LIFE_AS_OF = D(2026, 11, 22)


def _life(row: dict, profile, as_of: dt.date = _LIFE_AS_OF, ratings=None) -> pd.DataFrame:
    return lifecycle_findings(frame(row), ratings, as_of=as_of, profile=profile)


@pytest.mark.parametrize(("output", "ends"), [(3749.0, True), (3750.0, False), (3751.0, False)])
def test_acceptance_output_under_half(output: float, ends: bool) -> None:
    row = healthy("A", output=output, committed_output_per_mu=500.0)  # 50 % of 500 × 15 亩 = 3,750
    assert ("termination_possible" in cats(_life(row, WZ))) is ends


@pytest.mark.parametrize(("tax", "ends"), [(134.0, True), (135.0, False), (136.0, False)])
def test_acceptance_tax_under_30_percent(tax: float, ends: bool) -> None:
    row = healthy("A", tax=tax, committed_tax_per_mu=30.0)  # 30 % of 30 × 15 亩 = 135
    f = _life(row, WZ)
    assert ("termination_possible" in cats(f)) is ends
    assert f.loc[f["category"] == "termination_possible", "article"].tolist() == (
        ["wenzhou-2020 WZ §10"] if ends else []
    )
    # YW has no acceptance rule: what Yiwu finds it finds under its own YW §11 review
    assert set(_life(row, YW)["article"]) <= {"yiwu YW §11"}


def test_acceptance_sentence_shows_the_share_that_agrees_with_its_verdict() -> None:
    f = _life(healthy("A", tax=134.955, committed_tax_per_mu=30.0), WZ)  # 29.99 %
    detail = f.loc[f["category"] == "termination_possible", "detail"].iloc[0]
    assert "的 29.99%（不足 30%）" in detail and "30%（不足 30%）" not in detail


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        (299.0, ["termination_possible"]),
        (300.0, ["tax_shortfall"]),
        (301.0, ["tax_shortfall"]),  # 不低于 50 %
        (599.0, ["tax_shortfall"]),
        (600.0, []),
        (601.0, []),  # 达到约定标准
    ],
)
def test_yiwu_review_shares(tax: float, expected: list[str]) -> None:
    row = healthy("R", agreed_full_production_on=D(2021, 6, 30), committed_tax_per_mu=40.0, tax=tax)
    f = _life(row, YW, as_of=D(2024, 7, 1))
    assert [c for c in cats(f) if c != "evaluation_due"] == expected


@pytest.mark.parametrize(("basis", "penalty"), [("whole_cycle", 450.0), ("cycle_year", 150.0)])
def test_yiwu_review_difference_basis(tmp_path: Path, basis: str, penalty: float) -> None:
    # 30 of 40 万元/亩 on 15 亩: (40 − 30) × 15 = 150 a year; the whole three-year cycle 450 (YW §11 实际差额)
    path = _copy(tmp_path, "yiwu", 'value = "whole_cycle"', f'value = "{basis}"')
    row = healthy("R", agreed_full_production_on=D(2021, 6, 30), committed_tax_per_mu=40.0, tax=450.0)
    f = _life(row, get_profile(str(path)), as_of=D(2024, 7, 1))
    short = f[f["category"] == "tax_shortfall"].iloc[0]
    assert short["penalty_wan"] == pytest.approx(penalty)
    assert short["figures"]["years_charged"] == (3 if basis == "whole_cycle" else 1)


@pytest.mark.parametrize(("tax", "short"), [(224.0, True), (225.0, False), (226.0, False)])
def test_yiwu_existing_land_at_least_15_wan(tax: float, short: bool) -> None:
    row = healthy("E", committed_tax_per_mu=None, tax=tax)  # 15 万元/亩 × 15 亩 = 225 (YW §10 不得低于)
    assert ("tax_shortfall" in cats(_life(row, YW))) is short


@pytest.mark.parametrize(
    ("grades", "ends"),
    [
        (["D"], False),
        (["D", "D"], True),
        (["D", "D", "D"], True),  # 连续两年 D
        (["C", "C"], False),
        (["C", "D", "C"], True),
        (["B", "C", "C", "C", "C"], True),  # 连续三年 C（含）以下
    ],
)
def test_yiwu_ratings_years_running(grades: list[str], ends: bool) -> None:
    years = range(2026 - len(grades), 2026)
    r = pd.DataFrame({"holder_id": "H-G", "year": list(years), "grade": grades})
    assert ("rating_termination_possible" in cats(_life(healthy("G"), YW, ratings=r))) is ends


@pytest.mark.parametrize(("average", "standard"), [(14.99, 15.0), (15.0, 15.0), (15.01, 18.0)])
def test_yiwu_transfer_standard_once_the_city_average_exceeds_15(average: float, standard: float) -> None:
    # YW §14: 不低于15万元; 全市平均已经超过15万元的, 不低于当年标准 (12) 的 1.5 倍 = 18
    r = transfer_requirements(
        parcel=healthy("X"),
        profile=YW,
        as_of=D(2026, 11, 22),
        seller_grade_last_year="B",
        city_average_tax_per_mu_wan=average,
        city_standard_tax_per_mu_wan=12.0,
    )
    assert r["tax_standard"]["min_tax_per_mu_wan"] == standard


@pytest.mark.parametrize(
    ("profile", "major", "limit"), [(WZ, False, 20), (YW, False, 20), (WZ, True, 50), (YW, True, 40)]
)
def test_lease_terms_not_over_the_maximum(profile, major: bool, limit: int) -> None:
    assert lease_price_correction(limit - 0.01, profile=profile, major=major) < limit / 50
    assert lease_price_correction(limit, profile=profile, major=major) == pytest.approx(limit / 50)
    with pytest.raises(ValueError, match="超过"):
        lease_price_correction(limit + 0.01, profile=profile, major=major)


@pytest.mark.parametrize(
    ("as_of", "category"),
    [
        (D(2026, 10, 2), None),
        (D(2026, 10, 3), "lease_expiring"),
        (D(2026, 12, 31), "lease_expiring"),  # 90 days 以内
        (D(2027, 1, 1), "lease_expired"),  # 届满 on the day
    ],
)
def test_lease_warning_window_and_expiry(as_of: dt.date, category: str | None) -> None:
    row = healthy("L", delivered_on=D(2007, 1, 1), lease_years=20, agreed_full_production_on=D(2008, 6, 1))
    found = [c for c in cats(_life(row, WZ, as_of=as_of)) if c.startswith("lease")]
    assert found == ([] if category is None else [category])


# ---------------------------------------------------------------------------------------------- breach versus state


def _cured(no: str = "CURED") -> dict:
    """Started one day late in 2019, completed and operating in time since, meeting its committed tax today."""
    return healthy(
        no,
        delivered_on=D(2019, 1, 1),
        agreed_start_on=D(2019, 4, 1),
        started_on=D(2019, 4, 2),
        agreed_completion_on=D(2021, 4, 1),
        completed_on=D(2021, 3, 1),
        agreed_operation_on=D(2021, 6, 1),
        operating_since=D(2021, 5, 1),
        agreed_full_production_on=D(2023, 6, 1),
    )


def test_a_cured_late_start_is_a_dated_breach_not_low_efficiency_today() -> None:
    rows = frame(_cured(), parcel("IDLE", agreed_start_on=D(2024, 3, 1)))
    f = idle_findings(rows, as_of=D(2026, 11, 22), profile=WZ)
    late = f[(f["parcel_no"] == "CURED")]
    assert late["category"].tolist() == ["late_start"]
    assert (late["since"].iloc[0], late["until"].iloc[0]) == (D(2019, 4, 1), D(2019, 4, 2))
    for profile in (WZ, YW):
        assert low_efficiency(rows, None, as_of=D(2026, 11, 22), profile=profile).tolist() == [False, True]
    marks = parcel_marks(
        rows, pd.DataFrame(columns=["parcel_no", "year", "grade"]), as_of=D(2026, 11, 22), profile=WZ
    )
    assert marks.set_index("parcel_no")["idle"].to_dict() == {"CURED": None, "IDLE": "idle"}


def test_a_late_start_still_open_is_a_breach_and_not_yet_idle() -> None:
    rows = frame(parcel("OPEN", agreed_start_on=D(2026, 6, 1)))
    f = idle_findings(rows, as_of=D(2026, 11, 22), profile=WZ)
    assert cats(f) == ["late_start", "insufficient_data"] and pd.isna(f["until"].iloc[0])
    assert low_efficiency(rows, None, as_of=D(2026, 11, 22), profile=WZ).tolist() == [False]


# ---------------------------------------------------------------------------------------------- each city its own rules


def _own(article: str, profile) -> bool:
    m = re.fullmatch(r"(.+)（(\S+) 采用）", article)
    if m:  # a declared adoption cites the adopted article
        return m.group(2) == profile.name and any(
            p.adopted_from == m.group(1) for p in profile.parameters.values()
        )
    assert article.startswith(profile.name + " ")
    parts = [a.strip() for a in article[len(profile.name) + 1 :].split("；")]
    return all(
        a.startswith(profile.article_prefix + " ") or any(n in a for n in NATIONAL_SOURCES) for a in parts
    )


def _every_finding(profile) -> pd.DataFrame:
    rows = [
        parcel("U", agreed_start_on=D(2023, 3, 1)),
        parcel("N"),
        _stalled(1000.0, 500.0),
        parcel(
            "B",
            agreed_start_on=D(2020, 1, 1),
            started_on=D(2020, 1, 2),
            delivered_on=D(2019, 10, 1),
            planned_investment=5000.0,
        ),
        healthy("O", operating_since=None, agreed_operation_on=D(2025, 1, 1)),
        healthy("T", tax=100.0, output=1000.0),
        healthy("W", footprint_area=1000.0),
        healthy("R", agreed_full_production_on=D(2026, 12, 1)),
        healthy("L", delivered_on=D(2006, 12, 1), lease_years=20),
        healthy("G"),
    ]
    r = pd.DataFrame({"holder_id": "H-G", "year": [2023, 2024, 2025], "grade": ["D", "D", "D"]})
    parcels = frame(*rows)
    return pd.concat(
        [
            idle_findings(parcels, as_of=D(2026, 11, 22), profile=profile),
            lifecycle_findings(parcels, r, as_of=D(2026, 11, 22), profile=profile),
        ]
    )


@pytest.mark.parametrize("profile", [WZ, YW])
def test_every_citation_belongs_to_the_profiles_city_or_a_declared_adoption(profile) -> None:
    f = _every_finding(profile)
    assert len(set(f["category"])) >= (12 if profile is WZ else 11)
    bad = sorted({a for a in f["article"] if not _own(a, profile)})
    assert bad == []
    if profile is YW:
        assert not any("WZ" in a for a in f["article"])


def test_an_adopted_rule_cites_the_adopted_article(tmp_path: Path) -> None:
    adopted = (
        '[acceptance.min_output_share]\nvalue = 0.5\narticle = "WZ §10"\nboundary = "不足"\n'
        'adopted_from = "wenzhou-2020 WZ §10"\n\n[acceptance.min_tax_share]\nvalue = 0.3\narticle = "WZ §10"\n'
        'boundary = "不足"\nadopted_from = "wenzhou-2020 WZ §10"\n\n[review.cycle_years]'
    )
    profile = get_profile(str(_copy(tmp_path, "yiwu", "[review.cycle_years]", adopted)))
    f = _life(healthy("A", output=1000.0), profile)
    ends = f[f["category"] == "termination_possible"]
    assert ends["article"].tolist() == ["wenzhou-2020 WZ §10（copy-yiwu 采用）"]
    assert _own(ends["article"].iloc[0], profile)


def test_a_borrowed_article_without_a_declaration_is_refused(tmp_path: Path) -> None:
    borrowed = '[bidding.price_cap_ratio]\nvalue = 1.2\narticle = "WZ §7"\nboundary = "不超过"\n\n[review.cycle_years]'
    with pytest.raises(InputError, match="WZ §7.*adopted_from"):
        load_profile(_copy(tmp_path, "yiwu", "[review.cycle_years]", borrowed))


@pytest.mark.parametrize(
    "key",
    [
        "balance.occupy_replace",
        "consolidation.min_mu",
        "acceptance.min_tax_share",
        "bidding.price_cap_ratio",
        "mortgage.before_acceptance",
    ],
)
def test_yiwu_has_no_rule_its_text_lacks_and_says_so(key: str) -> None:
    assert not YW.has(key) and WZ.has(key)
    with pytest.raises(InputError, match="义乌市的政策配置（yiwu）没有") as info:
        YW.value(key)
    assert "wenzhou-2020" in info.value.fix_en if hasattr(info.value, "fix_en") else True


def test_pct_pair_never_prints_a_share_equal_to_the_threshold_it_is_under() -> None:
    rng = np.random.default_rng(7)
    for t in (0.3, 0.5, 1 / 3, 0.25):
        for v in t - rng.uniform(1e-6, 0.05, 200):
            a, b = pct_pair(float(v), t)
            assert float(a.rstrip("%")) < float(b.rstrip("%")), (v, t, a, b)


def test_each_city_carries_none_of_the_others_rules() -> None:
    # Wenzhou's text has no periodic review, rating-run termination or tax standards for existing land and
    # transfers (YW §10–§14); Yiwu's has no pre-emption (WZ §14)
    for key in (
        "review.cycle_years",
        "ratings.d_years_running",
        "existing.min_tax_per_mu_wan",
        "transfer.min_tax_per_mu_wan",
        "transfer.city_standard_multiplier",
    ):
        assert YW.has(key) and not WZ.has(key), key
    for key in ("transfer.preempt_below_contract", "transfer.preempt_seller_grades"):
        assert WZ.has(key) and not YW.has(key), key
    r = transfer_requirements(
        parcel=healthy("X", tax=100.0),
        profile=YW,
        as_of=D(2026, 11, 22),
        seller_grade_last_year="D",
        city_average_tax_per_mu_wan=10.0,
        city_standard_tax_per_mu_wan=None,
    )
    assert r["preemption"] == [] and r["undetermined"] == []
