"""The 亩均论英雄 grade that counts (``zoning.grades``), on hand-built ratings whose answers are written down first."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.zoning.test_idle import frame, healthy
from zoning.grades import grades_by_year, latest_grades
from zoning.idle import low_efficiency
from zoning.lifecycle import lifecycle_findings
from zoning.policy import get_profile

AS_OF = dt.date(2026, 6, 1)
PARCELS = pd.DataFrame({"parcel_no": ["P1", "P2", "P3"], "holder_id": ["H1", "H1", "H2"]}, index=[10, 20, 30])


def ratings(*rows: tuple[str | None, str | None, object, object]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["parcel_no", "holder_id", "year", "grade"])


def table(r: pd.DataFrame) -> list[list[object]]:
    return grades_by_year(PARCELS, r, as_of=AS_OF).values.tolist()


@pytest.mark.parametrize("order", [slice(None), slice(None, None, -1)])
def test_two_grades_of_one_kind_in_a_year_the_worst_counts_in_any_order(order: slice) -> None:
    r = ratings(
        (None, "H1", 2025, "B"), (None, "H1", 2025, "D"), ("P3", None, 2024, "A"), ("P3", None, 2024, "C")
    )
    r = r.iloc[order]
    assert table(r) == [[0, 2025, "D"], [1, 2025, "D"], [2, 2024, "C"]]
    assert latest_grades(PARCELS, r, as_of=AS_OF).to_dict() == {10: "D", 20: "D", 30: "C"}


def test_the_parcels_own_grade_wins_over_its_holders_in_the_same_year() -> None:
    # the parcel's B counts although its holder's D is worse; P2 has only the holder's
    r = ratings(("P1", None, 2025, "B"), (None, "H1", 2025, "D"))
    assert table(r) == [[0, 2025, "B"], [1, 2025, "D"]]


def test_the_latest_year_wins_whoever_was_rated() -> None:
    r = ratings(("P1", None, 2024, "A"), (None, "H1", 2025, "C"), ("P2", None, 2025, "B"))
    assert latest_grades(PARCELS, r, as_of=AS_OF).to_dict() == {10: "C", 20: "B", 30: None}
    assert table(r) == [[0, 2024, "A"], [0, 2025, "C"], [1, 2025, "B"]]


def test_only_finished_years_count() -> None:
    r = ratings((None, "H1", 2026, "D"), (None, "H1", 2025, "A"))
    assert latest_grades(PARCELS, r, as_of=AS_OF).tolist() == ["A", "A", None]
    assert latest_grades(PARCELS, r, as_of=dt.date(2025, 12, 31)).tolist() == [None, None, None]


def test_grades_and_keys_are_read_leniently() -> None:
    r = ratings((" P1 ", None, 2025, " d"), ("", "H2", 2025.0, "b"), (None, "", 2025, "A"))
    assert table(r) == [[0, 2025, "D"], [2, 2025, "B"]]  # a blank key matches nothing


def test_a_bad_grade_of_a_year_that_counts_is_refused_with_its_rows() -> None:
    with pytest.raises(ValueError, match=r"rows \[1\] have a grade other than A–D"):
        grades_by_year(PARCELS, ratings((None, "H1", 2025, "B"), (None, "H9", 2024, "E")), as_of=AS_OF)
    with pytest.raises(ValueError, match=r"rows \[0\] have a grade other than A–D"):
        grades_by_year(PARCELS, ratings((None, "H1", 2025, None)), as_of=AS_OF)
    # a grade of a year not yet finished is not read
    assert table(ratings((None, "H1", 2026, "E"))) == []


def test_a_year_that_is_not_a_number_is_refused_and_a_missing_year_left_out() -> None:
    with pytest.raises(ValueError, match=r"rows \[0\] have a year that is not a number"):
        grades_by_year(PARCELS, ratings((None, "H1", "last year", "B")), as_of=AS_OF)
    assert table(ratings((None, "H1", None, "B"), (None, "H2", 2025, "C"))) == [[2, 2025, "C"]]


def test_no_ratings_and_missing_columns() -> None:
    assert table(ratings()) == []
    assert grades_by_year(PARCELS, None, as_of=AS_OF).empty
    assert latest_grades(PARCELS, None, as_of=AS_OF).tolist() == [None, None, None]
    with pytest.raises(ValueError, match="parcel_no and/or holder_id"):
        grades_by_year(PARCELS, pd.DataFrame({"year": [2025], "grade": ["A"]}), as_of=AS_OF)
    with pytest.raises(ValueError, match="parcels lacks the column parcel_no"):
        grades_by_year(PARCELS.drop(columns="parcel_no"), ratings((None, "H1", 2025, "A")), as_of=AS_OF)


def test_findings_use_the_worst_grade_of_a_year() -> None:
    """A year rated both B and D for one enterprise counts as D: two such years end a Yiwu contract."""
    r = pd.DataFrame(
        {
            "holder_id": ["H-A", "H-A", "H-A", "H-A"],
            "year": [2024, 2024, 2025, 2025],
            "grade": ["D", "B", "B", "D"],
        }
    )
    parcels = frame(healthy("A", holder_id="H-A"))
    f = lifecycle_findings(parcels, r, as_of=dt.date(2026, 11, 22), profile=get_profile("yiwu"))
    assert f["category"].tolist() == ["rating_termination_possible"]
    assert "（2024 D、2025 D）" in f.loc[0, "detail"]
    low = low_efficiency(
        parcels, r.iloc[[1, 2]], as_of=dt.date(2026, 11, 22), profile=get_profile("wenzhou-2020")
    )
    assert low.tolist() == [False]  # B only: not low-efficiency by its grade
    low = low_efficiency(parcels, r, as_of=dt.date(2026, 11, 22), profile=get_profile("wenzhou-2020"))
    assert low.tolist() == [True]


def test_the_ratings_of_a_part_are_those_a_plain_loop_finds() -> None:
    """``ratings_of`` (runs of rows by key value) against a loop over every rating: its parcel number or its
    holder, stripped of spaces and not blank, is one of the part's; the rows in their order."""
    import numpy as np
    import pandas as pd

    from zoning.grades import rating_keys, ratings_of

    rng = np.random.default_rng(7)
    keys = [None, "", " ", *[f"P{i}" for i in range(40)], *[f" P{i} " for i in range(5)]]
    holders = [None, "", *[f"H{i}" for i in range(15)], "H3 "]
    ratings = pd.DataFrame(
        {
            "parcel_no": rng.choice(np.array(keys, dtype=object), 600),
            "holder_id": rng.choice(np.array(holders, dtype=object), 600),
            "year": rng.integers(2018, 2026, 600),
            "grade": rng.choice(list("ABCD"), 600),
        }
    )
    index = rating_keys(ratings)
    for lo in range(0, 40, 7):
        part = pd.DataFrame(
            {
                "parcel_no": [f"P{i}" for i in range(lo, lo + 7)],
                "holder_id": [f"H{(lo + i) % 17}" for i in range(7)],
            }
        )
        nos = {str(x).strip() for x in part["parcel_no"]}
        hs = {str(x).strip() for x in part["holder_id"]}
        expected = [
            i
            for i, (p, h) in enumerate(zip(ratings["parcel_no"], ratings["holder_id"], strict=True))
            if (isinstance(p, str) and p.strip() and p.strip() in nos)
            or (isinstance(h, str) and h.strip() and h.strip() in hs)
        ]
        assert list(ratings_of(part, ratings, keys=index).index) == expected and expected
        assert list(ratings_of(part, ratings).index) == expected
