"""Contract compliance: acceptance (WZ §10), tax reviews (YW §11), ratings (YW §12), evaluations (WZ §11), the
lease, and the calculators, on hand-built parcels whose answers are worked out by hand first.

Parcels are 15 亩; the date of judgement is 2026-11-22 unless said otherwise.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError
from tests.zoning.test_idle import cite_or, frame, healthy, parcel
from zoning.findings import FINDING_COLUMNS
from zoning.lifecycle import (
    LIFECYCLE_CATEGORIES,
    bid_price_cap,
    lease_price_correction,
    lifecycle_findings,
    mortgage_cap,
    parcel_tax_share_wan,
    transfer_requirements,
)
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
YW = get_profile("yiwu")
AS_OF = dt.date(2026, 11, 22)
D = dt.date


def run(*rows, ratings=None, profile=WZ, as_of=AS_OF, **kw) -> pd.DataFrame:
    return lifecycle_findings(frame(*rows), ratings, as_of=as_of, profile=profile, **kw)


def of(f: pd.DataFrame, no: str, category: str | None = None) -> pd.DataFrame:
    sub = f[f["parcel_no"] == no]
    return sub if category is None else sub[sub["category"] == category]


def one(f: pd.DataFrame, no: str, category: str) -> pd.Series:
    sub = of(f, no, category)
    assert len(sub) == 1, f"expected one {category} for {no}: {of(f, no).to_dict('records')}"
    return sub.iloc[0]


def test_healthy_parcel_gives_nothing_under_both_profiles() -> None:
    for profile in (WZ, YW):
        f = run(healthy(), profile=profile)
        assert f.columns.tolist() == [*FINDING_COLUMNS, "until"] and len(f) == 0


# ---------------------------------------------------------------------------------------------- WZ §10


def test_full_production_acceptance_wenzhou() -> None:
    # committed 500 万元/亩 output and 30 万元/亩 tax, full production 2024-06-30, 15 亩
    base = {"agreed_full_production_on": D(2024, 6, 30), "delivered_on": D(2020, 1, 1)}
    f = run(
        healthy("OUT", output=3000.0, **base),  # 200/亩 = 40 % < 50 %: may end
        healthy("OUT50", output=3750.0, **base),  # 250/亩 = 50 %: not under
        healthy("TAXLOW", tax=120.0, **base),  # 8/亩 = 26.7 % < 30 %: may end; penalty (30 − 8) × 15 = 330
        healthy("TAX30", tax=135.0, **base),  # 9/亩 = 30 %: not under; penalty (30 − 9) × 15 = 315
        healthy("SHORT", tax=300.0, **base),  # 20/亩: penalty (30 − 20) × 15 = 150
        healthy("EARLY", tax=0.0, output=0.0, agreed_full_production_on=D(2027, 6, 1)),  # not yet due
    )
    out = one(f, "OUT", "termination_possible")
    assert out["article"] == "wenzhou-2020 WZ §10" == WZ.cite("acceptance.min_output_share")
    assert out["since"] == D(2024, 6, 30)
    assert "亩均产值 200.00 万元/亩，为约定 500.00 万元/亩的 40%（不足 50%）" in out["detail"]
    assert of(f, "OUT", "tax_shortfall").empty
    assert of(f, "OUT50").empty
    assert one(f, "TAXLOW", "termination_possible")["article"] == WZ.cite("acceptance.min_tax_share")
    assert one(f, "TAXLOW", "tax_shortfall")["penalty_wan"] == pytest.approx(330.0)
    assert of(f, "TAX30", "termination_possible").empty
    assert one(f, "TAX30", "tax_shortfall")["penalty_wan"] == pytest.approx(315.0)
    short = one(f, "SHORT", "tax_shortfall")
    assert short["penalty_wan"] == pytest.approx(150.0)
    assert short["detail"] == (
        "约定达产日期 2024-06-30 已到，亩均税收 20.00 万元/亩，低于约定 30.00 万元/亩："
        "违约金 =（30.00 − 20.00）× 15.00 亩 = 150.00 万元"
    )
    assert short["figures"]["penalty_wan"] == 150.0 and short["figures"]["area_mu"] == 15.0
    assert of(f, "EARLY").empty
    assert f.loc[f["category"] != "tax_shortfall", "penalty_wan"].isna().all()


# ---------------------------------------------------------------------------------------------- YW §11


@pytest.mark.parametrize(
    ("tax", "as_of", "expected", "penalty"),
    [
        (300.0, D(2024, 6, 29), [], None),  # the first three-year cycle has not ended
        (
            300.0,
            D(2024, 6, 30),
            ["tax_shortfall"],
            900.0,
        ),  # 20 of 40 万元/亩 = 50 %: pay (40 − 20) × 15 × 3 years
        (299.99, D(2024, 6, 30), ["termination_possible"], None),  # just under 50 %
        (
            450.0,
            D(2024, 6, 30),
            ["tax_shortfall"],
            450.0,
        ),  # 30/40 = 75 %: pay (40 − 30) × 15 × 3 (whole cycle)
        (600.0, D(2024, 6, 30), [], None),  # 40/40: continue
    ],
)
def test_three_year_review_yiwu(
    tax: float, as_of: dt.date, expected: list[str], penalty: float | None
) -> None:
    row = healthy("R", agreed_full_production_on=D(2021, 6, 30), committed_tax_per_mu=40.0, tax=tax)
    f = run(row, profile=YW, as_of=as_of)
    f = f[f["category"] != "evaluation_due"]  # the 3-year process evaluation falls on the same day
    assert f["category"].tolist() == expected
    if expected:
        assert f.iloc[0]["article"] == "yiwu YW §11"
        assert f.iloc[0]["since"] == D(2024, 6, 30)
        assert "第1个考核周期（2021-06-30 至 2024-06-30）期满" in f.iloc[0]["detail"]
    if penalty is not None:
        assert f.iloc[0]["penalty_wan"] == pytest.approx(penalty)


def test_review_counts_cycles() -> None:
    row = healthy("R", agreed_full_production_on=D(2021, 6, 30), committed_tax_per_mu=40.0, tax=450.0)
    f = run(row, profile=YW, as_of=D(2027, 7, 1))
    short = one(f, "R", "tax_shortfall")
    assert short["since"] == D(2027, 6, 30)
    assert short["detail"].startswith("第2个考核周期（2024-06-30 至 2027-06-30）期满")
    assert short["figures"]["review_cycle"] == 2


def test_missing_committed_tax_uses_the_existing_land_or_city_standard() -> None:
    row = healthy("M", committed_tax_per_mu=None, tax=150.0)  # 10 万元/亩
    yw = one(run(row, profile=YW), "M", "tax_shortfall")  # YW §10: at least 15 万元/亩
    assert yw["penalty_wan"] == pytest.approx(
        225.0
    )  # (15 − 10) × 15 亩 × 3 years of the cycle (YW §11 实际差额)
    assert "按存量纳管标准 15 万元/亩" in yw["detail"] and yw["figures"]["committed_tax_assumed"] is True
    wz = one(run(row, profile=WZ, city_standard_tax_per_mu_wan=20.0), "M", "tax_shortfall")
    assert wz["penalty_wan"] == pytest.approx(150.0) and "按全市亩均税收标准 20 万元/亩" in wz["detail"]
    ins = one(run(row, profile=WZ), "M", "insufficient_data")
    assert ins["figures"] == {"rule": "acceptance", "missing": ["committed_tax_per_mu"]}


# ---------------------------------------------------------------------------------------------- YW §12


def ratings(**runs: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"holder_id": "H-" + no, "year": y, "grade": g} for no, seq in runs.items() for y, g in seq]
    )


def test_rating_runs_yiwu() -> None:
    r = ratings(
        DD=[(2024, "D"), (2025, "D")],
        CCC=[(2023, "C"), (2024, "C"), (2025, "C")],
        CDC=[(2023, "C"), (2024, "D"), (2025, "C")],
        DBD=[(2023, "D"), (2024, "B"), (2025, "D")],  # broken
        GAP=[(2022, "D"), (2023, "D"), (2025, "D")],  # 2024 missing: not consecutive
        OLD=[(2023, "D"), (2024, "D")],  # the latest rated years
        THIS=[(2025, "B"), (2026, "D")],  # 2026 is not a finished year on 2026-11-22
        DDD=[(2023, "D"), (2024, "D"), (2025, "D")],
        CC=[(2024, "C"), (2025, "C")],  # only two
    )
    nos = ["DD", "CCC", "CDC", "DBD", "GAP", "OLD", "THIS", "DDD", "CC"]
    f = run(*[healthy(n) for n in nos], ratings=r, profile=YW)
    hits = f[f["category"] == "rating_termination_possible"]
    assert sorted(hits["parcel_no"]) == ["CCC", "CDC", "DD", "DDD", "DDD", "OLD"]
    dd = one(f, "DD", "rating_termination_possible")
    assert dd["article"] == "yiwu YW §12" == YW.cite("ratings.d_years_running")
    assert dd["since"] == D(2025, 12, 31)
    assert dd["detail"] == "亩均论英雄综合评价连续 2 年被评为 D 类（2024 D、2025 D）：可解除出让合同"
    assert dd["figures"] == {"years_running": 2.0, "first_year": 2024.0, "last_year": 2025.0}
    assert (
        "连续 3 年被评为 C 类（含）以下（2023 C、2024 D、2025 C）"
        in one(f, "CDC", "rating_termination_possible")["detail"]
    )
    assert one(f, "OLD", "rating_termination_possible")["since"] == D(2024, 12, 31)
    # Wenzhou has no rating rule (counts 0)
    assert run(healthy("DD"), ratings=r, profile=WZ).empty


def test_ratings_match_by_parcel_and_the_parcel_wins() -> None:
    r = pd.DataFrame(
        {
            "parcel_no": ["P", "P", None, None, "Q"],
            "holder_id": [None, None, "H-Q", "H-Q", None],
            "year": [2024, 2025, 2024, 2025, 2025],
            "grade": ["D", "d ", "D", "D", "B"],  # grades are read case- and space-insensitively
        }
    )
    f = run(healthy("P"), healthy("Q"), ratings=r, profile=YW)
    assert f["parcel_no"].tolist() == ["P"] and f["category"].tolist() == ["rating_termination_possible"]


# ---------------------------------------------------------------------------------------------- WZ §11


def test_evaluations_due() -> None:
    f = run(
        healthy("FULL", agreed_full_production_on=D(2026, 12, 1)),  # 达产评估 in 9 days
        healthy("PROC", agreed_full_production_on=D(2021, 12, 1)),  # 5 years after: 2026-12-01
        healthy("LATE", agreed_full_production_on=D(2026, 10, 1)),  # 52 days overdue
        healthy("GONE", agreed_full_production_on=D(2026, 6, 1)),  # 174 days ago: out of the window
        healthy(
            "EXP", delivered_on=D(2007, 12, 1), lease_years=20
        ),  # lease ends 2027-12-01: 到期评估 2026-12-01
        healthy("EDGE", agreed_full_production_on=AS_OF + dt.timedelta(days=90)),
        healthy("PAST", agreed_full_production_on=AS_OF + dt.timedelta(days=91)),
    )
    full = one(f, "FULL", "evaluation_due")
    assert full["article"] == "wenzhou-2020 WZ §11" and full["since"] == D(2026, 12, 1)
    assert full["detail"] == "达产评估应于 2026-12-01（约定达产日期）进行，还有 9天"
    assert (
        full["detail_en"]
        == "full-production evaluation due 2026-12-01 (the agreed full-production date), in 9 days"
    )
    assert full["figures"] == {
        "evaluation": "full_production",
        "due_on": "2026-12-01",
        "days_to_due": 9.0,
        "warn_days": 90.0,
    }
    proc = one(f, "PROC", "evaluation_due")
    assert (
        proc["detail"]
        == "过程评估（达产后第 5 年）应于 2026-12-01（约定达产日期 2021-12-01 后 5 年）进行，还有 9天"
    )
    assert one(f, "LATE", "evaluation_due")["detail"].endswith("已逾期 52天")
    assert one(f, "LATE", "evaluation_due")["figures"]["days_to_due"] == -52
    assert of(f, "GONE").empty and of(f, "PAST").empty
    assert len(of(f, "EDGE", "evaluation_due")) == 1
    exp = one(f, "EXP", "evaluation_due")
    assert exp["detail"] == "到期评估应于 2026-12-01（出让期满 2027-12-01 前 1 年）进行，还有 9天"
    assert exp["figures"]["lease_ends_on"] == "2027-12-01"


def test_yiwu_evaluates_every_three_years() -> None:
    f = run(healthy("P3", agreed_full_production_on=D(2023, 12, 1)), profile=YW)
    e = one(f, "P3", "evaluation_due")
    assert e["article"] == "yiwu YW §11" and e["since"] == D(2026, 12, 1)
    assert "达产后第 3 年" in e["detail"]


# ---------------------------------------------------------------------------------------------- lease


def test_lease_expiring_and_expired() -> None:
    f = run(
        healthy("SOON", delivered_on=D(2006, 12, 1), lease_years=20),
        healthy("GONE", delivered_on=D(2006, 11, 1), lease_years=20),
        healthy("TODAY", delivered_on=D(2006, 11, 22), lease_years=20),
        healthy("NOTERM", lease_years=None),
    )
    soon = one(f, "SOON", "lease_expiring")
    assert soon["detail"] == "交地日期 2006-12-01 起出让 20 年，将于 2026-12-01 期满，还有 9天"
    assert soon["since"] == D(2026, 12, 1) and soon["article"] == "wenzhou-2020 WZ §6"
    gone = one(f, "GONE", "lease_expired")
    assert gone["detail"] == "交地日期 2006-11-01 起出让 20 年，已于 2026-11-01 期满，已过 21天"
    assert one(f, "TODAY", "lease_expired")["detail"].endswith("于今日 2026-11-22 期满")
    ins = one(f, "NOTERM", "insufficient_data")
    assert ins["figures"] == {"rule": "lease", "missing": ["lease_years"]}
    assert (
        one(
            run(healthy("SOON", delivered_on=D(2006, 12, 1), lease_years=20), profile=YW),
            "SOON",
            "lease_expiring",
        )["article"]
        == "yiwu YW §5"
    )


def test_missing_full_production_date_is_insufficient_data() -> None:
    f = run(healthy("X", agreed_full_production_on=None))
    ins = one(f, "X", "insufficient_data")
    assert ins["article"] == "wenzhou-2020 WZ §10"
    assert ins["detail"] == "无约定达产日期，无法判断达产验收、税收考核与绩效评估"
    assert ins["figures"] == {"rule": "full_production", "missing": ["agreed_full_production_on"]}


def test_every_category_names_the_profile_and_its_article() -> None:
    r = ratings(DD=[(2024, "D"), (2025, "D")])
    rows = [
        healthy("OUT", output=1000.0, tax=100.0, agreed_full_production_on=D(2021, 6, 30)),
        healthy("DD"),
        healthy("SHORT", tax=300.0),
        healthy("FULL", agreed_full_production_on=D(2026, 12, 1)),
        healthy("SOON", delivered_on=D(2006, 12, 1), lease_years=20),
        healthy("GONE", delivered_on=D(2006, 11, 1), lease_years=20),
        healthy("X", agreed_full_production_on=None),
    ]
    for profile in (WZ, YW):
        f = run(*rows, ratings=r, profile=profile)
        articles = {profile.cite(k) for k in profile.parameters}
        assert all(a in articles for a in f["article"]), set(f["article"]) - articles
        expected = set(LIFECYCLE_CATEGORIES) | {"insufficient_data"}
        if profile is WZ:
            expected -= {"rating_termination_possible"}
        else:  # the Yiwu text has no 达产评估 (WZ §11): its profile does not carry it
            expected -= {"evaluation_due"}
        assert set(f["category"]) == expected


def test_input_not_modified_and_out_of_scope_land() -> None:
    parcels = frame(healthy("A", tax=10.0), parcel("R", land_use="0701"))
    before = parcels.copy(deep=True)
    f = lifecycle_findings(parcels, None, as_of=AS_OF, profile=WZ)
    pd.testing.assert_frame_equal(parcels, before)
    assert set(f["parcel_no"]) == {"A"}


# ---------------------------------------------------------------------------------------------- calculators


def test_lease_price_correction() -> None:
    assert lease_price_correction(20, profile=WZ) == pytest.approx(0.4)  # 20 ÷ 50
    assert lease_price_correction(50, profile=WZ, major=True) == pytest.approx(1.0)
    assert lease_price_correction(40, profile=YW, major=True) == pytest.approx(0.8)
    with pytest.raises(ValueError, match=r"wenzhou-2020 WZ §6"):
        lease_price_correction(21, profile=WZ)
    with pytest.raises(ValueError, match=r"超过重大产业项目最高 50 年"):
        lease_price_correction(51, profile=WZ, major=True)
    with pytest.raises(ValueError, match=r"yiwu YW §5"):
        lease_price_correction(41, profile=YW, major=True)
    with pytest.raises(ValueError, match="more than 0"):
        lease_price_correction(0, profile=WZ)


def test_bid_price_cap_and_tax_share() -> None:
    assert bid_price_cap(1000.0, profile=WZ) == pytest.approx(1200.0)  # WZ §7: start × 1.2
    with pytest.raises(ValueError, match="negative"):
        bid_price_cap(-1.0, profile=WZ)
    assert parcel_tax_share_wan(900.0, parcel_mu=15.0, enterprise_total_mu=45.0) == pytest.approx(300.0)
    with pytest.raises(ValueError, match="larger than"):
        parcel_tax_share_wan(900.0, parcel_mu=50.0, enterprise_total_mu=45.0)
    with pytest.raises(ValueError, match="more than 0"):
        parcel_tax_share_wan(900.0, parcel_mu=15.0, enterprise_total_mu=0.0)


PARCEL = {
    "area_mu": 15.0,
    "tax": 300.0,
    "committed_tax_per_mu": 30.0,
    "investment": 6000.0,
    "committed_investment_per_mu": 300.0,
    "agreed_full_production_on": D(2024, 6, 30),
}


@pytest.mark.parametrize(
    ("average", "standard", "required", "key"),
    [
        (14.0, 12.0, 15.0, "transfer.min_tax_per_mu_wan"),  # city average ≤ 15: at least 15
        (20.0, 12.0, 18.0, "transfer.city_standard_multiplier"),  # average > 15: 1.5 × 12 = 18
        (20.0, 8.0, 15.0, "transfer.min_tax_per_mu_wan"),  # 1.5 × 8 = 12, but never under 15
    ],
)
def test_transfer_tax_standard_yiwu(average: float, standard: float, required: float, key: str) -> None:
    r = transfer_requirements(
        parcel=PARCEL,
        profile=YW,
        as_of=AS_OF,
        seller_grade_last_year="B",
        city_average_tax_per_mu_wan=average,
        city_standard_tax_per_mu_wan=standard,
    )
    assert r["tax_standard"]["min_tax_per_mu_wan"] == pytest.approx(required)
    assert r["tax_standard"]["article"] == YW.cite(key) == "yiwu YW §14"
    assert r["tax_standard"]["original_committed_tax_per_mu_wan"] == 30.0
    assert r["preemption"] == [] and r["preemption_required"] is False


def test_transfer_make_up_by_the_enterprise_split_yiwu() -> None:
    # the enterprise paid 900 万元 on 45 亩; this parcel's share is 300 万元 against 30 × 15 = 450: make up 150
    r = transfer_requirements(
        parcel=PARCEL | {"tax": None},
        profile=YW,
        as_of=AS_OF,
        seller_grade_last_year=None,
        city_average_tax_per_mu_wan=14.0,
        city_standard_tax_per_mu_wan=None,
        enterprise_tax_wan=900.0,
        enterprise_total_mu=45.0,
    )
    m = r["tax_to_make_up"]
    assert (m["parcel_tax_wan"], m["committed_tax_wan"], m["shortfall_wan"]) == pytest.approx(
        (300.0, 450.0, 150.0)
    )
    assert m["article"] == cite_or(
        YW, "transfer.make_up_tax_before_transfer", "transfer.preempt_below_contract"
    )
    assert m["article"] == "yiwu YW §13"
    before = transfer_requirements(
        parcel=PARCEL | {"agreed_full_production_on": D(2027, 1, 1)},
        profile=YW,
        as_of=AS_OF,
        seller_grade_last_year=None,
        city_average_tax_per_mu_wan=14.0,
        city_standard_tax_per_mu_wan=None,
    )
    assert before["tax_to_make_up"] is None  # the assessment period has not begun: the buyer takes it over


def test_transfer_preemption_wenzhou() -> None:
    r = transfer_requirements(
        parcel=PARCEL | {"agreed_full_production_on": D(2027, 1, 1)},
        profile=WZ,
        as_of=AS_OF,
        seller_grade_last_year="C",
        city_average_tax_per_mu_wan=None,
        city_standard_tax_per_mu_wan=None,
    )
    assert r["tax_standard"] is None and r["tax_to_make_up"] is None
    assert [t["trigger"] for t in r["preemption"]] == [
        "below_contract",
        "before_full_production",
        "seller_grade",
    ]
    assert all(t["article"] == "wenzhou-2020 WZ §14" for t in r["preemption"])
    assert r["preemption"][0]["detail"] == "亩均税收 20.00 万元/亩低于约定 30.00：政府必须行使优先收购权"
    ok = transfer_requirements(
        parcel=PARCEL | {"tax": 600.0},
        profile=WZ,
        as_of=AS_OF,
        seller_grade_last_year=None,
        city_average_tax_per_mu_wan=None,
        city_standard_tax_per_mu_wan=None,
    )
    assert ok["preemption_required"] is False
    assert ok["undetermined"] == [
        {"trigger": "seller_grade", "article": "wenzhou-2020 WZ §14", "missing": ["seller_grade_last_year"]}
    ]
    with pytest.raises(ValueError, match="area_mu"):
        transfer_requirements(
            parcel={"tax": 1.0},
            profile=WZ,
            as_of=AS_OF,
            seller_grade_last_year=None,
            city_average_tax_per_mu_wan=None,
            city_standard_tax_per_mu_wan=None,
        )


def test_transfer_needs_the_city_figures_where_the_profile_uses_them() -> None:
    with pytest.raises(ValueError, match="YW §14"):
        transfer_requirements(
            parcel=PARCEL,
            profile=YW,
            as_of=AS_OF,
            seller_grade_last_year="B",
            city_average_tax_per_mu_wan=None,
            city_standard_tax_per_mu_wan=None,
        )
    with pytest.raises(ValueError, match="city_standard_tax_per_mu_wan"):
        transfer_requirements(
            parcel=PARCEL,
            profile=YW,
            as_of=AS_OF,
            seller_grade_last_year="B",
            city_average_tax_per_mu_wan=20.0,
            city_standard_tax_per_mu_wan=None,
        )


def test_mortgage_cap() -> None:
    before = mortgage_cap(accepted=False, sale_price_wan=800.0, standard_land_price_wan=1000.0, profile=WZ)
    assert (before["cap_wan"], before["basis"], before["article"]) == (
        800.0,
        "sale_price",
        "wenzhou-2020 WZ §14",
    )
    after = mortgage_cap(accepted=True, sale_price_wan=800.0, standard_land_price_wan=1000.0, profile=WZ)
    assert (after["cap_wan"], after["basis"]) == (1000.0, "standard_land_price")
    with pytest.raises(InputError, match="义乌市的政策配置（yiwu）没有抵押规则"):  # not in the Yiwu text
        mortgage_cap(accepted=True, sale_price_wan=800.0, standard_land_price_wan=1000.0, profile=YW)
    assert "标定地价" in after["detail"]
    with pytest.raises(ValueError, match="标定地价"):
        mortgage_cap(accepted=True, sale_price_wan=800.0, standard_land_price_wan=None, profile=WZ)
    assert np.isfinite(before["cap_wan"])


@pytest.mark.parametrize(("output", "ended"), [(3744.75, True), (3750.0, False), (3755.25, False)])
def test_the_fifty_percent_word_only_when_under(output: float, ended: bool) -> None:
    """WZ §10 达产验收：产值不足约定的50% — 不足 excludes 50 % itself (民法典 §1259). 15 亩 and 500 万元/亩 committed:
    3,744.75 万元 is 249.65 万元/亩, 49.93 % (under); 3,750 is 50 % and 3,755.25 is 50.07 % (neither under)."""
    f = run(healthy("P", output=output, agreed_full_production_on=D(2024, 6, 30), delivered_on=D(2020, 1, 1)))
    found = of(f, "P", "termination_possible")
    assert len(found) == int(ended)
    details = " ".join(f["detail"])
    if ended:
        assert "亩均产值 249.65 万元/亩，为约定 500.00 万元/亩的 49.9%（不足 50%）" in found.iloc[0]["detail"]
    else:
        assert "不足" not in details and "产值" not in details
