"""The map's per-parcel marks: the most serious finding of each kind, and the latest grade (from the rules' text)."""

from __future__ import annotations

import pandas as pd

from zoning.marks import parcel_marks
from zoning.policy import get_profile

from .test_idle import AS_OF, D, frame, healthy, parcel

WZ = get_profile("wenzhou-2020")


def test_marks_pick_the_first_category_of_each_kind_and_the_latest_grade() -> None:
    parcels = frame(
        healthy("OK"),
        # delivered 2023-01-01, start agreed 2023-06-01, nothing begun by 2026-11-22: idle (WZ §6: a year after
        # the agreed start), which comes before late_start in IDLE_CATEGORIES
        parcel("IDLE", delivered_on=D(2023, 1, 1), agreed_start_on=D(2023, 6, 1), planned_investment=5000.0),
        healthy(
            "LATE",
            agreed_start_on=D(2026, 3, 1),
            started_on=None,
            completed_on=None,
            operating_since=None,
            agreed_completion_on=D(2028, 1, 1),
            agreed_operation_on=D(2028, 6, 1),
            agreed_full_production_on=D(2030, 1, 1),
        ),
    )
    ratings = pd.DataFrame(
        {
            "parcel_no": ["OK", "OK", "IDLE"],
            "holder_id": [None, None, None],
            "year": [2024, 2025, 2026],
            "grade": ["B", "D", "A"],
        }
    )
    marks = parcel_marks(parcels, ratings, as_of=AS_OF, profile=WZ).set_index("parcel_no")
    assert (
        marks.loc["OK", "idle"] is None and marks.loc["OK", "grade"] == "D"
    )  # 2025 is the latest before 2026
    assert marks.loc["IDLE", "idle"] == "idle"
    assert marks.loc["IDLE", "grade"] is None  # a 2026 grade is not yet "上年" on 2026-11-22
    assert marks.loc["LATE", "idle"] == "late_start"
    assert list(marks.columns) == ["idle", "lifecycle", "grade"]
