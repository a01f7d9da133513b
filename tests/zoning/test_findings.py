"""The common shape of findings, its JSON (CLI.md), durations and calendar arithmetic, the docstring examples,
and properties of ``idle_findings`` / ``lifecycle_findings`` that must hold for any input."""

from __future__ import annotations

import calendar
import datetime as dt
import doctest
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import box

import zoning.calculators
import zoning.dates
import zoning.findings
import zoning.grades
import zoning.idle
import zoning.idle_in_use
import zoning.idle_insufficient
import zoning.idle_rules
import zoning.idle_sentences
import zoning.lifecycle
import zoning.lifecycle_production
import zoning.lifecycle_terms
import zoning.parcel_arrays
import zoning.rows
import zoning.wording
from blockline.demo import generate_city
from tests.zoning.test_idle import ALL_COLUMNS, frame, healthy, parcel
from zoning.dates import add_months as _add_months
from zoning.dates import months_between as _months_between
from zoning.findings import (
    CATEGORIES,
    FINDING_COLUMNS,
    duration_en,
    duration_zh,
    empty_findings,
    findings_json,
    group_by_parcel,
    industrial_scope,
)
from zoning.idle import idle_findings, low_efficiency
from zoning.lifecycle import lifecycle_findings
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
YW = get_profile("yiwu")
AS_OF = dt.date(2026, 11, 22)
D = dt.date


@pytest.mark.parametrize(
    "module",
    [
        zoning.findings,
        zoning.idle,
        zoning.lifecycle,
        zoning.calculators,
        zoning.dates,
        zoning.grades,
        zoning.idle_in_use,
        zoning.idle_insufficient,
        zoning.idle_rules,
        zoning.idle_sentences,
        zoning.lifecycle_production,
        zoning.lifecycle_terms,
        zoning.parcel_arrays,
        zoning.rows,
        zoning.wording,
    ],
)
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_public_names() -> None:
    assert zoning.findings.__all__ and zoning.idle.__all__ and zoning.lifecycle.__all__
    assert FINDING_COLUMNS == [
        "parcel_no",
        "category",
        "article",
        "detail",
        "detail_en",
        "since",
        "figures",
        "penalty_wan",
    ]


# ---------------------------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("start", "end", "zh", "en"),
    [
        (D(2023, 3, 1), D(2026, 11, 22), "3年8个月", "3 years 8 months"),
        (D(2024, 3, 1), D(2025, 3, 1), "1年", "1 year"),
        (D(2024, 3, 1), D(2024, 4, 30), "1个月", "1 month"),
        (D(2024, 1, 31), D(2024, 2, 29), "1个月", "1 month"),  # Jan 31 + 1 month = Feb 29
        (D(2024, 1, 31), D(2024, 2, 28), "28天", "28 days"),
        (D(2024, 3, 1), D(2024, 3, 2), "1天", "1 day"),
        (D(2024, 3, 1), D(2024, 3, 1), "0天", "0 days"),
        (D(2026, 11, 22), D(2023, 3, 1), "3年8个月", "3 years 8 months"),  # either order
    ],
)
def test_durations(start: dt.date, end: dt.date, zh: str, en: str) -> None:
    assert duration_zh(start, end) == zh and duration_en(start, end) == en


def _ref_add_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=D(1901, 1, 1), max_value=D(2090, 12, 31)), st.integers(-600, 600), st.integers(0, 4000)
)
def test_calendar_arithmetic_matches_the_calendar(d: dt.date, k: int, gap: int) -> None:
    arr = np.array([d], dtype="datetime64[D]")
    assert _add_months(arr, k)[0].astype(object) == _ref_add_months(d, k)
    later = d + dt.timedelta(days=gap)
    m = int(_months_between(arr, np.array([later], dtype="datetime64[D]"))[0])
    assert _ref_add_months(d, m) <= later < _ref_add_months(d, m + 1)


#: month ends and leap days, worked out on a calendar: (date, months, date + months)
_MONTH_TABLE = [
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # 2024 is a leap year
    (D(2023, 1, 31), 1, D(2023, 2, 28)),
    (D(2000, 1, 31), 1, D(2000, 2, 29)),  # divisible by 400: leap
    (D(1900, 1, 31), 1, D(1900, 2, 28)),  # divisible by 100, not 400: not leap
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
    (D(2024, 2, 29), 48, D(2028, 2, 29)),
    (D(2000, 2, 29), 1200, D(2100, 2, 28)),
    (D(2024, 3, 31), -1, D(2024, 2, 29)),
    (D(2024, 8, 31), -6, D(2024, 2, 29)),
    (D(2024, 5, 31), 1, D(2024, 6, 30)),
    (D(2024, 12, 31), 2, D(2025, 2, 28)),
    (D(2023, 12, 15), 0, D(2023, 12, 15)),
]
#: (a, b, whole months from a to b)
_BETWEEN_TABLE = [
    (D(2024, 1, 31), D(2024, 2, 29), 1),
    (D(2024, 1, 31), D(2024, 2, 28), 0),
    (D(2023, 1, 31), D(2023, 2, 28), 1),
    (D(2024, 2, 29), D(2025, 2, 28), 12),
    (D(2024, 2, 29), D(2025, 2, 27), 11),
    (D(2024, 3, 31), D(2024, 4, 30), 1),
    (D(2024, 3, 31), D(2024, 4, 29), 0),
    (D(2020, 2, 29), D(2024, 2, 28), 47),  # + 48 months is 2024-02-29, a day past
    (D(2024, 5, 15), D(2024, 5, 15), 0),
]


def test_months_at_month_ends_and_leap_days() -> None:
    days = np.array([d for d, _, _ in _MONTH_TABLE], dtype="datetime64[D]")
    out = _add_months(days, [k for _, k, _ in _MONTH_TABLE])
    assert out.dtype == np.dtype("datetime64[D]")
    assert out.astype(object).tolist() == [e for _, _, e in _MONTH_TABLE]
    a = np.array([x for x, _, _ in _BETWEEN_TABLE], dtype="datetime64[D]")
    b = np.array([y for _, y, _ in _BETWEEN_TABLE], dtype="datetime64[D]")
    assert _months_between(a, b).tolist() == [k for _, _, k in _BETWEEN_TABLE]
    assert _months_between(np.array(["NaT"], dtype="datetime64[D]"), b[:1]).tolist() == [0]


def test_missing_dates_stay_missing() -> None:
    out = _add_months(np.array(["NaT", "2024-02-29"], dtype="datetime64[D]"), [3, 12])
    assert np.isnat(out[0]) and str(out[1]) == "2025-02-28"


# ---------------------------------------------------------------------------------------------- JSON


def test_group_by_parcel_and_findings_json_shapes() -> None:
    parcels = frame(
        healthy("B-2", tax=300.0),  # tax_shortfall (penalty 150) and operating_below_target
        parcel("A-1", agreed_start_on=D(2023, 3, 1), planned_investment=5000.0),  # idle, reclaimable, late
        healthy("C-3"),
    )
    f = pd.concat(
        [
            idle_findings(parcels, as_of=AS_OF, profile=WZ),
            lifecycle_findings(parcels, None, as_of=AS_OF, profile=WZ),
        ],
        ignore_index=True,
    )
    doc = findings_json(f, as_of=AS_OF, profile=WZ)
    assert list(doc) == ["as_of", "policy", "parcels"]
    assert doc["as_of"] == "2026-11-22" and doc["policy"] == "wenzhou-2020"
    json.dumps(doc, allow_nan=False, ensure_ascii=False)  # JSON-ready: no NaN, no numpy, no dates
    assert [p["parcel_no"] for p in doc["parcels"]] == ["A-1", "B-2"]  # sorted, healthy C-3 absent
    a, b = doc["parcels"]
    assert list(a) == ["parcel_no", "categories", "findings"]
    # A-1 has no full-production date or lease on record: the lifecycle rules cannot be judged
    assert a["categories"] == [
        "idle_reclaimable",
        "idle",
        "late_start",
        "late_completion",
        "insufficient_data",
    ]
    assert b["categories"] == ["operating_below_target", "tax_shortfall"]
    for item in a["findings"] + b["findings"]:
        keys = ["category", "article", "detail", "detail_en", "since", "until", "figures"]
        assert list(item) == keys + (["penalty_wan"] if item["category"] == "tax_shortfall" else [])
        assert item["article"].startswith("wenzhou-2020 ")
        assert item["since"] is None or dt.date.fromisoformat(item["since"])
    late = next(i for i in a["findings"] if i["category"] == "late_start")
    assert late == {
        "category": "late_start",
        "article": "wenzhou-2020 WZ §6",
        "detail": "约定开工日期 2023-03-01，截至 2026-11-22 未开工，已逾期 3年8个月",
        "detail_en": "agreed start 2023-03-01; not started as of 2026-11-22, 3 years 8 months overdue",
        "since": "2023-03-01",
        "until": None,
        "figures": {"agreed_start_on": "2023-03-01", "start_derived": False, "days_overdue": 1362},
    }
    short = next(i for i in b["findings"] if i["category"] == "tax_shortfall")
    assert short["penalty_wan"] == 150.0 and isinstance(short["penalty_wan"], float)


def test_group_by_parcel_handles_any_order_and_empty() -> None:
    f = pd.DataFrame(
        [
            [
                "Z",
                "tax_shortfall",
                "yiwu YW §11",
                "b",
                "b",
                D(2025, 1, 1),
                {"x": np.float64(1.5)},
                np.float64(2.0),
            ],
            ["A", "late_start", "yiwu YW §5", "a", "a", None, {"d": D(2020, 1, 2)}, np.nan],
            ["Z", "idle", "yiwu x", "c", "c", D(2024, 1, 1), {}, np.nan],
        ],
        columns=FINDING_COLUMNS,
    )
    out = group_by_parcel(f)
    assert [p["parcel_no"] for p in out] == ["A", "Z"]
    assert out[0]["findings"][0]["since"] is None and out[0]["findings"][0]["figures"] == {"d": "2020-01-02"}
    assert "penalty_wan" not in out[0]["findings"][0]
    assert out[1]["categories"] == ["idle", "tax_shortfall"]
    assert [i["category"] for i in out[1]["findings"]] == ["idle", "tax_shortfall"]
    assert type(out[1]["findings"][1]["figures"]["x"]) is float
    assert group_by_parcel(empty_findings()) == []
    with pytest.raises(ValueError, match="figures"):
        group_by_parcel(f.drop(columns=["figures"]))


def test_industrial_scope() -> None:
    s = industrial_scope(
        pd.DataFrame(
            {
                "land_use": [
                    "100101",
                    "100103",
                    "1101",
                    "0701",
                    "0901",
                    "R2",
                    "B1",
                    "M1",
                    "W1",
                    "城镇住宅用地",
                    "工业用地",
                    None,
                ]
            },
            index=range(5, 17),
        )
    )
    assert s.index.tolist() == list(range(5, 17))
    assert s.tolist() == [True, True, True, False, False, False, False, True, True, False, True, True]


# ---------------------------------------------------------------------------------------------- the demo city


def test_demo_city_runs_and_every_finding_is_well_formed() -> None:
    counties = gpd.GeoDataFrame(
        {"code": ["330302", "330303"], "name": ["鹿城区", "龙湾区"]},
        geometry=[box(500_000, 3_100_000, 520_000, 3_120_000), box(520_000, 3_100_000, 540_000, 3_120_000)],
        crs="EPSG:4549",
    )
    city = generate_city(counties, n_parcels=3000, seed=11, as_of=AS_OF)
    for profile in (WZ, YW):
        idle = idle_findings(city.parcels, as_of=AS_OF, profile=profile)  # area from the geometry
        life = lifecycle_findings(city.parcels, city.ratings, as_of=AS_OF, profile=profile)
        low = low_efficiency(city.parcels, city.ratings, as_of=AS_OF, profile=profile)
        assert low.index.equals(city.parcels.index) and 0.2 < low.mean() < 0.8
        both = pd.concat([idle, life], ignore_index=True)
        assert set(both["category"]) <= set(CATEGORIES)
        assert set(idle["category"]) >= {
            "idle",
            "idle_reclaimable",
            "late_start",
            "late_completion",
            "built_not_operating",
            "operating_below_target",
            "underused",
        }
        assert set(life["category"]) >= {"tax_shortfall", "termination_possible", "evaluation_due"}
        assert both["article"].str.startswith(profile.name + " ").all()
        assert set(both["parcel_no"]) <= set(city.parcels["parcel_no"])
        assert both["detail"].str.len().gt(0).all() and both["detail_en"].str.len().gt(0).all()
        penalty = both["category"] == "tax_shortfall"
        assert both.loc[penalty, "penalty_wan"].gt(0).all() and both.loc[~penalty, "penalty_wan"].isna().all()
        json.dumps(findings_json(both, as_of=AS_OF, profile=profile), allow_nan=False, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------- properties

_dates = st.one_of(st.none(), st.dates(min_value=D(2012, 1, 1), max_value=D(2029, 12, 31)))
_money = st.one_of(st.none(), st.floats(min_value=0.0, max_value=50_000.0, allow_nan=False))


@st.composite
def parcels_and_ratings(draw) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for i in range(n):
        rows.append(
            parcel(
                f"P-{i:02d}",
                holder_id=draw(st.sampled_from(["H-A", "H-B", f"H-{i}", None])),
                land_use=draw(st.sampled_from(["100101", "1101", "0701", None])),
                delivered_on=draw(_dates),
                agreed_start_on=draw(_dates),
                started_on=draw(_dates),
                agreed_completion_on=draw(_dates),
                completed_on=draw(_dates),
                agreed_operation_on=draw(_dates),
                operating_since=draw(_dates),
                agreed_full_production_on=draw(_dates),
                lease_years=draw(st.sampled_from([None, 20, 30, 50])),
                planned_investment=draw(
                    st.one_of(st.none(), st.sampled_from([5000.0, 99_000.0, 150_000.0, 250_000.0]))
                ),
                committed_investment_per_mu=draw(_money),
                committed_tax_per_mu=draw(st.one_of(st.none(), st.floats(0, 80))),
                committed_output_per_mu=draw(_money),
                min_far=draw(st.one_of(st.none(), st.floats(0.5, 3.0))),
                investment=draw(_money),
                tax=draw(_money),
                output=draw(_money),
                floor_area=draw(_money),
                footprint_area=draw(_money),
                is_low_efficiency=draw(st.sampled_from([True, False, None])),
                area_mu=draw(st.one_of(st.none(), st.floats(min_value=1.0, max_value=150.0))),
            )
        )
    ratings = pd.DataFrame(
        draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "holder_id": st.sampled_from(["H-A", "H-B", "H-0", "H-1"]),
                        "year": st.integers(2021, 2026),
                        "grade": st.sampled_from(list("ABCD")),
                    }
                ),
                max_size=12,
            )
        ),
        columns=["holder_id", "year", "grade"],
    )
    return frame(*rows), ratings


def _all(
    parcels: pd.DataFrame, ratings: pd.DataFrame, profile
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return (
        idle_findings(parcels, as_of=AS_OF, profile=profile),
        lifecycle_findings(parcels, ratings, as_of=AS_OF, profile=profile),
        low_efficiency(parcels, ratings, as_of=AS_OF, profile=profile),
    )


_props = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_props
@given(
    parcels_and_ratings(),
    st.sampled_from(["wenzhou-2020", "yiwu"]).map(get_profile),
    st.randoms(use_true_random=False),
)
def test_results_do_not_depend_on_row_order(data, profile, rnd) -> None:
    parcels, ratings = data
    order = list(range(len(parcels)))
    rnd.shuffle(order)
    shuffled = parcels.iloc[order]
    a_idle, a_life, a_low = _all(parcels, ratings, profile)
    b_idle, b_life, b_low = _all(shuffled, ratings.iloc[::-1], profile)
    pd.testing.assert_frame_equal(a_idle, b_idle)
    pd.testing.assert_frame_equal(a_life, b_life)
    pd.testing.assert_series_equal(a_low, b_low.loc[a_low.index])
    assert group_by_parcel(a_idle) == group_by_parcel(b_idle)


@_props
@given(parcels_and_ratings(), st.sampled_from(["wenzhou-2020", "yiwu"]).map(get_profile))
def test_findings_only_for_parcels_given_and_well_formed(data, profile) -> None:
    parcels, ratings = data
    idle, life, _ = _all(parcels, ratings, profile)
    for f in (idle, life):
        assert f.columns.tolist() == [*FINDING_COLUMNS, "until"]
        assert set(f["parcel_no"]) <= set(parcels["parcel_no"])
        assert set(f["category"]) <= set(CATEGORIES)
        assert f["article"].map(lambda a: a.startswith(profile.name + " ")).all()
        assert f["figures"].map(lambda x: isinstance(x, dict)).all()
    # out-of-scope land (0701 城镇住宅) gets no finding at all
    outside = set(parcels.loc[parcels["land_use"] == "0701", "parcel_no"])
    assert not (set(idle["parcel_no"]) | set(life["parcel_no"])) & outside
    json.dumps(findings_json(pd.concat([idle, life]), as_of=AS_OF, profile=profile), allow_nan=False)


@_props
@given(parcels_and_ratings(), st.sampled_from(["wenzhou-2020", "yiwu"]).map(get_profile))
def test_adding_a_healthy_parcel_adds_no_finding(data, profile) -> None:
    parcels, ratings = data
    more = pd.concat([parcels, frame(healthy("ZZ-HEALTHY", holder_id="H-HEALTHY"))], ignore_index=True)
    a_idle, a_life, a_low = _all(parcels, ratings, profile)
    b_idle, b_life, b_low = _all(more, ratings, profile)
    pd.testing.assert_frame_equal(a_idle, b_idle)
    pd.testing.assert_frame_equal(a_life, b_life)
    assert not b_low.iloc[-1]
    pd.testing.assert_series_equal(a_low, b_low.iloc[:-1])


def test_all_columns_helper_matches_the_parcel_fields() -> None:
    from geo.fields import PARCEL_FIELDS

    assert set(ALL_COLUMNS) == set(PARCEL_FIELDS) | {"area_mu"}
