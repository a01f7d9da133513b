"""Each parcel's marks for the map: its idle/low-efficiency category, lifecycle warning and latest rating.

The map colours parcels by what the policy engine finds, tile by tile, in PostGIS; so the marks of the whole
city are derived once from the city's judgement (``blockline.services.judged``) and written beside the parcels
(``blockline.services.marks.ensure_marks``). This module holds the rule only, on frames: no store.

Where a parcel has several findings, the mark is the first in the order of ``IDLE_CATEGORIES`` and
``LIFECYCLE_CATEGORIES`` (the more serious first). A breach cured before the date (a late start or completion
with ``until``) is no mark: the map shows the land as it is at the date, not its history.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from zoning.consolidation import latest_grade
from zoning.idle import IDLE_CATEGORIES, idle_findings
from zoning.lifecycle import LIFECYCLE_CATEGORIES, lifecycle_findings
from zoning.policy import Profile

__all__ = ["MARK_COLUMNS", "first_category", "marks_frame", "parcel_marks"]

MARK_COLUMNS = ("idle", "lifecycle", "grade")


def first_category(findings: pd.DataFrame, order: tuple[str, ...]) -> pd.Series:
    """parcel_no → the first category of ``order`` among its findings (cured breaches left out).

    Examples
    --------
    >>> f = pd.DataFrame({"parcel_no": ["A", "A", "B"], "category": ["late_start", "idle", "x"]})
    >>> first_category(f, ("idle", "late_start")).to_dict()
    {'A': 'idle'}
    """
    rank = {c: i for i, c in enumerate(order)}
    if "until" in findings.columns:  # cured breaches say nothing about the land today
        findings = findings[pd.isna(findings["until"])]
    chosen = findings[findings["category"].isin(rank)].assign(_rank=lambda f: f["category"].map(rank))
    return chosen.sort_values("_rank").drop_duplicates("parcel_no").set_index("parcel_no")["category"]


def marks_frame(
    parcel_nos: pd.Series, idle: pd.Series, lifecycle: pd.Series, grade: pd.Series
) -> pd.DataFrame:
    """One row per parcel of ``parcel_nos``: parcel_no, idle, lifecycle, grade (None where nothing was found).

    ``idle`` and ``lifecycle`` are :func:`first_category` of the findings; ``grade`` is
    ``zoning.consolidation.latest_grade`` of the same parcels, in their order.
    """
    out = pd.DataFrame({"parcel_no": parcel_nos.astype(str).to_numpy()})
    out["idle"] = out["parcel_no"].map(idle)
    out["lifecycle"] = out["parcel_no"].map(lifecycle)
    out["grade"] = pd.Series(grade.to_numpy(), index=out.index) if len(grade) == len(out) else None
    return out.astype(object).where(out.notna(), None)


def parcel_marks(
    parcels: pd.DataFrame, ratings: pd.DataFrame, *, as_of: dt.date, profile: Profile
) -> pd.DataFrame:
    """One row per parcel: parcel_no, idle, lifecycle, grade (None where nothing was found)."""
    idle = first_category(idle_findings(parcels, as_of=as_of, profile=profile), IDLE_CATEGORIES)
    life = first_category(
        lifecycle_findings(parcels, ratings, as_of=as_of, profile=profile), LIFECYCLE_CATEGORIES
    )
    return marks_frame(parcels["parcel_no"], idle, life, latest_grade(parcels, ratings, as_of=as_of))
