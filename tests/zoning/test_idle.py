"""Idle and low-efficiency land: hand-built parcels whose answers are worked out from the policy texts.

Every parcel is 15 亩 (a 100 m × 100 m box, 10 000 m²) unless said otherwise; the date of judgement is
2026-11-22 unless said otherwise. The expected values are written down from WZ §6 / YW §5 and the national
闲置土地处置办法 as the profiles carry them, before the code runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from zoning.findings import FINDING_COLUMNS
from zoning.idle import IDLE_CATEGORIES, NEEDED, idle_findings, low_efficiency
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
YW = get_profile("yiwu")
AS_OF = dt.date(2026, 11, 22)
D = dt.date

ALL_COLUMNS = [
    "parcel_no",
    "holder",
    "holder_id",
    "land_use",
    "county_code",
    "delivered_on",
    "agreed_start_on",
    "started_on",
    "agreed_completion_on",
    "completed_on",
    "agreed_operation_on",
    "operating_since",
    "agreed_full_production_on",
    "lease_years",
    "planned_investment",
    "committed_investment_per_mu",
    "committed_tax_per_mu",
    "committed_output_per_mu",
    "min_far",
    "investment",
    "tax",
    "output",
    "floor_area",
    "footprint_area",
    "is_low_efficiency",
    "area_mu",
]


def parcel(no: str = "P-1", **fields: Any) -> dict[str, Any]:
    """One parcel with every canonical column: 15 亩 of 二类工业用地, nothing else known unless given."""
    row: dict[str, Any] = {c: None for c in ALL_COLUMNS}
    row.update(
        parcel_no=no,
        holder="温州市测试机械有限公司",
        holder_id="H-" + no,
        land_use="100102",
        county_code="330302",
        area_mu=15.0,
        is_low_efficiency=False,
    )
    row.update(fields)
    return row


def healthy(no: str = "OK-1", **fields: Any) -> dict[str, Any]:
    """A parcel that keeps every rule at 2026-11-22 under both profiles (and no evaluation or lease is near)."""
    good: dict[str, Any] = {
        "delivered_on": D(2015, 1, 1),
        "agreed_start_on": D(2015, 4, 1),
        "started_on": D(2015, 3, 20),
        "agreed_completion_on": D(2017, 1, 1),
        "completed_on": D(2016, 10, 1),
        "agreed_operation_on": D(2017, 6, 1),
        "operating_since": D(2017, 3, 1),
        "agreed_full_production_on": D(2019, 6, 1),
        "lease_years": 50,
        "planned_investment": 5000.0,
        "committed_investment_per_mu": 300.0,
        "committed_tax_per_mu": 30.0,
        "committed_output_per_mu": 500.0,
        "min_far": 1.0,
        "investment": 6000.0,
        "tax": 600.0,
        "output": 9000.0,
        "floor_area": 15000.0,
        "footprint_area": 5000.0,
    }
    return parcel(no, **(good | fields))


def cite_or(profile, key: str, fallback: str) -> str:
    """The article a rule cites: ``key`` once the profile has it, until then the nearest existing key."""
    return profile.cite(key) if key in profile.parameters else profile.cite(fallback)


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=ALL_COLUMNS)


def cats(f: pd.DataFrame, no: str | None = None) -> list[str]:
    sub = f if no is None else f[f["parcel_no"] == no]
    return sub["category"].tolist()


def only(f: pd.DataFrame, category: str) -> pd.Series:
    sub = f[f["category"] == category]
    assert len(sub) == 1, f"expected one {category} finding, got {sub.to_dict('records')}"
    return sub.iloc[0]


# ---------------------------------------------------------------------------------------------- shape


def test_columns_and_healthy_parcel_gives_nothing() -> None:
    for profile in (WZ, YW):
        f = idle_findings(frame(healthy()), as_of=AS_OF, profile=profile)
        assert f.columns.tolist() == [*FINDING_COLUMNS, "until"]
        assert len(f) == 0


def test_input_is_not_modified() -> None:
    parcels = frame(healthy(), parcel("LATE", agreed_start_on=D(2024, 1, 1)))
    before = parcels.copy(deep=True)
    idle_findings(parcels, as_of=AS_OF, profile=WZ)
    low_efficiency(parcels, None, as_of=AS_OF, profile=WZ)
    pd.testing.assert_frame_equal(parcels, before)


def test_missing_column_is_refused() -> None:
    with pytest.raises(ValueError, match="footprint_area"):
        idle_findings(frame(healthy()).drop(columns=["footprint_area"]), as_of=AS_OF, profile=WZ)
    with pytest.raises(ValueError, match="area_mu"):
        idle_findings(frame(healthy()).drop(columns=["area_mu"]), as_of=AS_OF, profile=WZ)


def test_area_from_a_projected_geometry() -> None:
    row = parcel("G-1", agreed_start_on=D(2026, 3, 1))
    del row["area_mu"]
    gdf = gpd.GeoDataFrame([row], geometry=[box(0, 0, 100, 100)], crs="EPSG:4549")
    f = idle_findings(gdf, as_of=AS_OF, profile=WZ)
    assert "late_start" in cats(f)
    with pytest.raises(ValueError, match="geographic"):
        idle_findings(gdf.set_crs("EPSG:4490", allow_override=True), as_of=AS_OF, profile=WZ)


# ---------------------------------------------------------------------------------------------- late start


def test_late_start_not_started() -> None:
    # agreed 2026-03-01, nothing started by 2026-11-22: 8 months 21 days late, under the year of idleness
    f = idle_findings(frame(parcel(agreed_start_on=D(2026, 3, 1))), as_of=AS_OF, profile=WZ)
    row = only(f, "late_start")
    assert cats(f) == [
        "late_start",
        "insufficient_data",
    ]  # the completion cannot be dated: no planned investment
    assert row["article"] == "wenzhou-2020 WZ §6"
    assert row["since"] == D(2026, 3, 1)
    assert row["detail"] == "约定开工日期 2026-03-01，截至 2026-11-22 未开工，已逾期 8个月"
    assert row["detail_en"] == "agreed start 2026-03-01; not started as of 2026-11-22, 8 months overdue"
    assert row["figures"] == {"agreed_start_on": "2026-03-01", "start_derived": False, "days_overdue": 266}
    assert np.isnan(row["penalty_wan"])


@pytest.mark.parametrize(("agreed", "late"), [(AS_OF, False), (AS_OF - dt.timedelta(days=1), True)])
def test_late_start_boundary_day(agreed: dt.date, late: bool) -> None:
    f = idle_findings(
        frame(parcel(agreed_start_on=agreed, planned_investment=5000.0)), as_of=AS_OF, profile=WZ
    )
    assert ("late_start" in cats(f)) is late
    if late:
        assert only(f, "late_start")["detail"].endswith("已逾期 1天")


def test_started_late_and_on_time() -> None:
    f = idle_findings(
        frame(
            parcel("A", agreed_start_on=D(2024, 6, 1), started_on=D(2024, 6, 15)),
            parcel("B", agreed_start_on=D(2024, 6, 1), started_on=D(2024, 6, 1)),
        ),
        as_of=D(2024, 12, 1),
        profile=WZ,
    )
    assert cats(f, "B") == ["insufficient_data"]  # only the undatable completion (no planned investment)
    row = only(f[f["parcel_no"] == "A"], "late_start")
    assert row["detail"] == "约定开工日期 2024-06-01，实际开工日期 2024-06-15，晚开工 14天"
    assert row["figures"]["days_late"] == 14


def test_started_after_as_of_has_not_happened_yet() -> None:
    f = idle_findings(
        frame(parcel(agreed_start_on=D(2026, 3, 1), started_on=D(2026, 12, 1))), as_of=AS_OF, profile=WZ
    )
    assert "未开工" in only(f, "late_start")["detail"]


def test_wenzhou_derives_the_start_from_delivery_plus_the_longest_start_period() -> None:
    # WZ §6: start within 3 months, at most half a year; without a contract date: delivery + 6 months
    f = idle_findings(
        frame(
            parcel("ON", delivered_on=D(2025, 1, 10), started_on=D(2025, 7, 10)),
            parcel("LATE", delivered_on=D(2025, 1, 10), started_on=D(2025, 7, 11)),
        ),
        as_of=D(2025, 9, 1),
        profile=WZ,
    )
    assert "late_start" not in cats(f, "ON")
    row = only(f[f["parcel_no"] == "LATE"], "late_start")
    assert row["article"] == WZ.cite("construction.start_months_max") == "wenzhou-2020 WZ §6"
    assert row["since"] == D(2025, 7, 10)
    assert row["figures"]["start_derived"] is True and row["figures"]["delivered_on"] == "2025-01-10"
    assert "按交地日期 2025-01-10 加 6 个月推算" in row["detail"]


@pytest.mark.parametrize(("started", "late"), [(D(2025, 3, 1), False), (D(2025, 3, 2), True)])
def test_yiwu_start_within_one_year_of_delivery(started: dt.date, late: bool) -> None:
    f = idle_findings(
        frame(parcel(delivered_on=D(2024, 3, 1), started_on=started)), as_of=D(2025, 6, 1), profile=YW
    )
    assert ("late_start" in cats(f)) is late
    if late:
        assert only(f, "late_start")["article"] == "yiwu YW §5"


# ---------------------------------------------------------------------------------------------- idle


@pytest.mark.parametrize("profile", [WZ, YW], ids=["wenzhou", "yiwu"])
@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2025, 11, 21), ["late_start"]),
        (D(2025, 11, 22), ["idle", "late_start"]),  # 满一年
        (D(2026, 11, 21), ["idle", "late_start"]),
        (D(2026, 11, 22), ["idle_reclaimable", "idle", "late_start"]),  # 满两年
    ],
)
def test_idle_at_one_year_and_reclaimable_at_two(profile, as_of: dt.date, expected: list[str]) -> None:
    # agreed start 2024-11-22 (Yiwu: delivered 2023-11-22 + 12 months), planned investment known (24 months
    # to build), nothing started
    row = parcel(planned_investment=5000.0)
    if profile is WZ:
        row["agreed_start_on"] = D(2024, 11, 22)
    else:
        row["delivered_on"] = D(2023, 11, 22)
    f = idle_findings(frame(row), as_of=as_of, profile=profile)
    assert [c for c in cats(f) if c != "late_completion"] == expected
    if "idle" in expected:
        idle = only(f, "idle")
        assert idle["since"] == D(2025, 11, 22)
        assert idle["article"] == profile.cite("idle.unstarted_years")
        assert idle["article"] == f"{profile.name} 闲置土地处置办法（国土资源部令第53号）第二条"
    if "idle_reclaimable" in expected:
        rec = only(f, "idle_reclaimable")
        assert rec["since"] == D(2026, 11, 22)
        assert rec["article"] == f"{profile.name} 闲置土地处置办法（国土资源部令第53号）第十四条"
        assert "可无偿收回" in rec["detail"]


def test_idle_detail_says_how_long() -> None:
    f = idle_findings(
        frame(parcel(agreed_start_on=D(2023, 3, 1), planned_investment=5000.0)), as_of=AS_OF, profile=WZ
    )
    assert (
        only(f, "late_start")["detail"] == "约定开工日期 2023-03-01，截至 2026-11-22 未开工，已逾期 3年8个月"
    )
    assert only(f, "idle")["detail"].startswith(
        "约定开工日期 2023-03-01，截至 2026-11-22 未开工，已逾期 3年8个月（满 1 年"
    )


@pytest.mark.parametrize(
    ("as_of", "fields", "stalled"),
    [
        # started 2022-01-01, agreed completion 2024-01-01, not completed; planned 10 000 万元
        (
            D(2025, 1, 1),
            {"investment": 2000.0, "footprint_area": 0.0},
            True,
        ),  # 20 % < 25 %, a year past completion
        (D(2024, 12, 31), {"investment": 2000.0, "footprint_area": 0.0}, False),  # a day short of the year
        (D(2025, 6, 1), {"investment": 3000.0, "footprint_area": 4000.0}, False),  # 30 % ≥ 25 %, 40 % ≥ 1/3
        (D(2025, 6, 1), {"investment": 3000.0, "footprint_area": 3000.0}, True),  # developed 30 % < 1/3
    ],
)
def test_started_but_stalled_is_idle(as_of: dt.date, fields: dict[str, float], stalled: bool) -> None:
    row = parcel(
        agreed_start_on=D(2022, 1, 1),
        started_on=D(2022, 1, 1),
        agreed_completion_on=D(2024, 1, 1),
        planned_investment=10000.0,
        **fields,
    )
    f = idle_findings(frame(row), as_of=as_of, profile=WZ)
    assert ("idle" in cats(f)) is stalled
    assert "late_completion" in cats(f)
    if stalled:
        idle = only(f, "idle")
        assert idle["since"] == D(2025, 1, 1)
        assert idle["article"] == WZ.cite("idle.stalled_years")
        assert "中止开发" in idle["detail"]


def test_stalled_without_figures_is_insufficient_data() -> None:
    row = parcel(
        agreed_start_on=D(2022, 1, 1),
        started_on=D(2022, 1, 1),
        agreed_completion_on=D(2024, 1, 1),
        planned_investment=10000.0,
    )
    f = idle_findings(frame(row), as_of=AS_OF, profile=WZ)
    ins = only(f, "insufficient_data")
    assert ins["figures"]["rule"] == "idle"
    assert ins["figures"]["missing"] == ["footprint_area", "investment"]
    assert "建筑占地面积、实际投资" in ins["detail"]


# ---------------------------------------------------------------------------------------------- completion


@pytest.mark.parametrize(
    ("planned_wan", "months", "due"),
    [
        (99_000.0, 24, D(2024, 1, 1)),  # 9.9 亿元: under 10 亿, 24 months
        (150_000.0, 30, D(2024, 7, 1)),  # 15 亿元: 10–20 亿, 30 months
        (250_000.0, 36, D(2025, 1, 1)),  # 25 亿元: over 20 亿, 36 months
    ],
)
def test_wenzhou_build_period_by_investment(planned_wan: float, months: int, due: dt.date) -> None:
    base = {"agreed_start_on": D(2022, 1, 1), "started_on": D(2022, 1, 1), "planned_investment": planned_wan}
    day = dt.timedelta(days=1)
    # not completed: on the due day in time, the day after late
    assert "late_completion" not in cats(idle_findings(frame(parcel(**base)), as_of=due, profile=WZ))
    f = idle_findings(frame(parcel(**base)), as_of=due + day, profile=WZ)
    row = only(f, "late_completion")
    assert row["since"] == due
    assert row["article"] == "wenzhou-2020 WZ §6"
    assert row["figures"]["build_months"] == months and row["figures"]["completion_derived"] is True
    assert f"加建设期 {months} 个月推算" in row["detail"]
    # completed exactly on the due day: in time; a day later: late by a day
    on_time = idle_findings(frame(parcel(**base, completed_on=due)), as_of=AS_OF, profile=WZ)
    assert "late_completion" not in cats(on_time)
    late = only(
        idle_findings(frame(parcel(**base, completed_on=due + day)), as_of=AS_OF, profile=WZ),
        "late_completion",
    )
    assert late["detail"].endswith(f"实际竣工日期 {(due + day).isoformat()}，晚竣工 1天")


@pytest.mark.parametrize(("completed", "late"), [(D(2024, 1, 1), False), (D(2024, 1, 2), True)])
def test_yiwu_completion_within_three_years_of_delivery(completed: dt.date, late: bool) -> None:
    f = idle_findings(
        frame(parcel(delivered_on=D(2021, 1, 1), started_on=D(2021, 6, 1), completed_on=completed)),
        as_of=D(2024, 3, 1),
        profile=YW,
    )
    assert ("late_completion" in cats(f)) is late
    if late:
        row = only(f, "late_completion")
        assert row["since"] == D(2024, 1, 1) and row["article"] == "yiwu YW §5"


def test_contract_completion_date_wins_and_missing_investment_is_insufficient() -> None:
    f = idle_findings(
        frame(
            parcel(
                "C",
                agreed_start_on=D(2022, 1, 1),
                started_on=D(2022, 1, 1),
                agreed_completion_on=D(2023, 1, 1),
                planned_investment=250_000.0,
            ),
            parcel("N", agreed_start_on=D(2022, 1, 1), started_on=D(2022, 1, 1)),
        ),
        as_of=D(2023, 2, 1),
        profile=WZ,
    )
    assert only(f[f["parcel_no"] == "C"], "late_completion")["since"] == D(2023, 1, 1)
    ins = only(f[f["parcel_no"] == "N"], "insufficient_data")
    assert ins["figures"] == {
        "rule": "late_completion",
        "missing": ["agreed_completion_on", "planned_investment"],
    }
    assert ins["detail"] == "无约定竣工日期，且缺计划总投资无法推算，无法判断是否按期竣工"


# ---------------------------------------------------------------------------------------------- production


def test_built_not_operating() -> None:
    base = {
        "agreed_start_on": D(2022, 1, 1),
        "started_on": D(2022, 1, 1),
        "agreed_completion_on": D(2024, 1, 1),
        "completed_on": D(2024, 1, 1),
        "floor_area": 15000.0,
        "footprint_area": 5000.0,
        "min_far": 1.0,
    }
    f = idle_findings(
        frame(
            parcel("IDLE", agreed_operation_on=D(2024, 7, 1), **base),
            parcel(
                "RUN",
                agreed_operation_on=D(2024, 7, 1),
                operating_since=D(2024, 6, 1),
                agreed_full_production_on=D(2030, 1, 1),
                **base,
            ),
            parcel("DUE", agreed_operation_on=AS_OF, **base),
            parcel("NODATE", **base),
        ),
        as_of=AS_OF,
        profile=WZ,
    )
    row = only(f[f["parcel_no"] == "IDLE"], "built_not_operating")
    assert row["since"] == D(2024, 7, 1)
    assert (
        row["detail"]
        == "已于 2024-01-01 竣工，约定投产日期 2024-07-01，截至 2026-11-22 未投产，已逾期 2年4个月"
    )
    assert row["article"] == cite_or(WZ, "production.built_not_operating", "use.unbuilt_share")
    assert cats(f, "RUN") == [] and cats(f, "DUE") == []
    ins = only(f[f["parcel_no"] == "NODATE"], "insufficient_data")
    assert ins["figures"] == {"rule": "built_not_operating", "missing": ["agreed_operation_on"]}


def test_operating_below_target() -> None:
    # 15 亩; committed 300 万元/亩 investment, 30 万元/亩 tax, 500 万元/亩 output
    run = healthy("RUN")
    low_tax = healthy("TAX", tax=300.0)  # 20 万元/亩 < 30
    early = healthy(
        "EARLY", tax=300.0, agreed_full_production_on=D(2026, 11, 23)
    )  # not yet at full production
    f = idle_findings(frame(run, low_tax, early), as_of=AS_OF, profile=WZ)
    assert cats(f, "RUN") == [] and cats(f, "EARLY") == []
    row = only(f, "operating_below_target")
    assert row["parcel_no"] == "TAX" and row["since"] == D(2019, 6, 1)
    assert (
        row["detail"]
        == "约定达产日期 2019-06-01 已到，截至 2026-11-22：亩均税收 20.00 万元/亩，低于约定 30.00 万元/亩"
    )
    assert row["figures"]["tax_per_mu_wan"] == 20.0 and row["figures"]["committed_tax_per_mu_wan"] == 30.0
    assert row["article"] == cite_or(WZ, "production.operating_below_target", "use.unbuilt_share")


def test_operating_without_figures_is_insufficient() -> None:
    f = idle_findings(
        frame(healthy("X", output=None), healthy("Y", agreed_full_production_on=None)),
        as_of=AS_OF,
        profile=YW,
    )
    x = only(f[f["parcel_no"] == "X"], "insufficient_data")
    assert x["figures"] == {"rule": "operating_below_target", "missing": ["output"]}
    y = only(f[f["parcel_no"] == "Y"], "insufficient_data")
    assert y["figures"] == {"rule": "operating_below_target", "missing": ["agreed_full_production_on"]}


@pytest.mark.parametrize(
    ("floor", "footprint", "why"),
    [
        (8000.0, 4000.0, ["容积率 0.80，低于约定 1.20"]),  # FAR 0.8 < 1.2
        (15000.0, 2000.0, ["建筑系数 20%，低于 30%"]),  # coverage 20 %; unbuilt 1 − 0.2/0.3 = 33 % ≤ 50 %
        (15000.0, 1000.0, ["建筑系数 10%，低于 30%", "按建筑系数推算未利用面积约占 67%，超过 50%"]),
        (15000.0, 4000.0, []),
    ],
)
def test_underused(floor: float, footprint: float, why: list[str]) -> None:
    row = healthy(min_far=1.2, floor_area=floor, footprint_area=footprint)
    f = idle_findings(frame(row), as_of=AS_OF, profile=WZ)
    if not why:
        assert len(f) == 0
        return
    u = only(f, "underused")
    assert u["detail"] == "2016-10-01 起建成使用，" + "；".join(why)
    assert u["since"] == D(2016, 10, 1)
    if "容积率" in why[0]:  # the contract's FAR: its own key once the profile has it, else the use standard
        assert u["article"] == cite_or(WZ, "use.below_contract_far", "use.min_building_coverage")
    else:
        assert u["article"] == "wenzhou-2020 WZ §13；《工业项目建设用地控制指标》（国土资发〔2008〕24号）"


def test_underused_without_figures_is_insufficient() -> None:
    f = idle_findings(frame(healthy(min_far=None)), as_of=AS_OF, profile=WZ)
    assert only(f, "insufficient_data")["figures"] == {"rule": "underused", "missing": ["min_far"]}


# ---------------------------------------------------------------------------------------------- scope, data


def test_no_dates_is_insufficient_data_never_a_silent_pass() -> None:
    f = idle_findings(frame(parcel("EMPTY")), as_of=AS_OF, profile=WZ)
    rules = [r["rule"] for r in f["figures"]]
    assert set(cats(f)) == {"insufficient_data"}
    assert rules == ["late_start", "late_completion"]
    assert f.iloc[0]["detail"] == "无约定开工日期与交地日期，无法判断是否按期开工、是否闲置"
    assert f.iloc[0]["detail_en"] == "no agreed start or delivery date: cannot judge the start or idleness"
    assert f.iloc[0]["figures"]["missing"] == ["agreed_start_on", "delivered_on"]


def test_non_industrial_land_is_out_of_scope() -> None:
    f = idle_findings(
        frame(parcel("R", land_use="0701"), parcel("B", land_use="商业用地")), as_of=AS_OF, profile=WZ
    )
    assert len(f) == 0


def test_every_article_names_the_profile_and_an_article_of_it() -> None:
    rows = [
        parcel("A", agreed_start_on=D(2023, 3, 1)),
        parcel("B", delivered_on=D(2021, 1, 1), started_on=D(2022, 6, 1), planned_investment=150_000.0),
        healthy("C", tax=100.0, floor_area=2000.0, footprint_area=1000.0),
        parcel(
            "D",
            agreed_start_on=D(2022, 1, 1),
            started_on=D(2022, 1, 1),
            completed_on=D(2023, 1, 1),
            agreed_completion_on=D(2024, 1, 1),
            agreed_operation_on=D(2023, 6, 1),
        ),
        parcel("E"),
    ]
    for profile in (WZ, YW):
        f = idle_findings(frame(*rows), as_of=AS_OF, profile=profile)
        articles = {profile.cite(k) for k in profile.parameters}
        assert set(f["category"]) >= {
            "late_start",
            "idle",
            "idle_reclaimable",
            "late_completion",
            "built_not_operating",
            "operating_below_target",
            "underused",
            "insufficient_data",
        }
        assert all(a in articles for a in f["article"]), set(f["article"]) - articles


# ---------------------------------------------------------------------------------------------- low efficiency


def test_low_efficiency() -> None:
    parcels = frame(
        healthy("OK"),
        healthy("SURVEY", is_low_efficiency=True),
        healthy("IDLE", agreed_operation_on=D(2017, 6, 1), operating_since=None),  # built, not operating
        healthy("RATED", holder_id="H-R"),
        healthy("RATEDP"),
        healthy("OLD", holder_id="H-O"),
        healthy("THIS", holder_id="H-T"),
        healthy("NODATA", agreed_full_production_on=None),  # insufficient_data only: not low-efficiency
    ).set_index(pd.Index([10, 11, 12, 13, 14, 15, 16, 17]))
    ratings = pd.DataFrame(
        {
            "parcel_no": [None, "RATEDP", None, None],
            "holder_id": ["H-R", None, "H-O", "H-T"],
            "year": [2025, 2025, 2024, 2026],  # WZ: the latest 1 year before 2026, i.e. 2025 only
            "grade": ["C", "D", "D", "D"],
        }
    )
    s = low_efficiency(parcels, ratings, as_of=AS_OF, profile=WZ)
    assert s.name == "low_efficiency" and s.index.tolist() == parcels.index.tolist() and s.dtype == bool
    assert s.tolist() == [False, True, True, True, True, False, False, False]
    assert set(IDLE_CATEGORIES) == {
        "idle",
        "idle_reclaimable",
        "late_start",
        "late_completion",
        "built_not_operating",
        "operating_below_target",
        "underused",
    }


def test_needed_lists_the_columns_read() -> None:
    assert set(NEEDED) <= set(ALL_COLUMNS)
