"""Each parcel's marks for the map: its idle/low-efficiency category, lifecycle warning and latest rating.

The map colours parcels by what the policy engine finds, tile by tile, in PostGIS; so the findings of the
whole city are computed here once (about two seconds for 200,000 parcels) and written beside the parcels
(``geo.tiles.write_marks``). A set of marks is named by the profile, the date and the data version, so it
is computed again only when one of them changes.

Where a parcel has several findings, the mark is the first in the order of ``IDLE_CATEGORIES`` and
``LIFECYCLE_CATEGORIES`` (the more serious first). A breach cured before the date (a late start or completion
with ``until``) is no mark: the map shows the land as it is at the date, not its history.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.engine import Engine

from geo import queries
from geo.tiles import data_version, has_marks, write_marks
from zoning.consolidation import latest_grade
from zoning.idle import IDLE_CATEGORIES, idle_findings
from zoning.lifecycle import LIFECYCLE_CATEGORIES, lifecycle_findings
from zoning.policy import Profile

__all__ = ["MARK_COLUMNS", "ensure_marks", "mark_set_name", "parcel_marks"]

MARK_COLUMNS = ("idle", "lifecycle", "grade")


def _first(findings: pd.DataFrame, order: tuple[str, ...]) -> pd.Series:
    """parcel_no → the first category of ``order`` among its findings."""
    rank = {c: i for i, c in enumerate(order)}
    if "until" in findings.columns:  # cured breaches say nothing about the land today
        findings = findings[pd.isna(findings["until"])]
    chosen = findings[findings["category"].isin(rank)].assign(_rank=lambda f: f["category"].map(rank))
    return chosen.sort_values("_rank").drop_duplicates("parcel_no").set_index("parcel_no")["category"]


def parcel_marks(parcels: pd.DataFrame, ratings: pd.DataFrame, *, as_of: dt.date, profile: Profile) -> pd.DataFrame:
    """One row per parcel: parcel_no, idle, lifecycle, grade (None where nothing was found)."""
    idle = _first(idle_findings(parcels, as_of=as_of, profile=profile), IDLE_CATEGORIES)
    life = _first(lifecycle_findings(parcels, ratings, as_of=as_of, profile=profile), LIFECYCLE_CATEGORIES)
    grade = latest_grade(parcels, ratings, as_of=as_of)
    out = pd.DataFrame({"parcel_no": parcels["parcel_no"].astype(str).to_numpy()})
    out["idle"] = out["parcel_no"].map(idle)
    out["lifecycle"] = out["parcel_no"].map(life)
    out["grade"] = pd.Series(grade.to_numpy(), index=out.index) if len(grade) == len(out) else None
    return out.astype(object).where(out.notna(), None)


def mark_set_name(engine: Engine, *, as_of: dt.date, profile: Profile) -> str:
    """The name of the marks for this profile, date and the data as it is now."""
    return f"{profile.name}|{as_of.isoformat()}|{data_version(engine)}"


def ensure_marks(engine: Engine, *, as_of: dt.date, profile: Profile) -> str:
    """Compute and write the marks unless they are already there; returns the set's name for the tiles."""
    name = mark_set_name(engine, as_of=as_of, profile=profile)
    if not has_marks(engine, name):
        parcels = queries.read_parcels(engine, geometry=False)
        marks = parcel_marks(parcels, queries.read_ratings(engine), as_of=as_of, profile=profile)
        # Sets of the same data for other dates or profiles stay (other sessions may show them).
        write_marks(engine, name, marks.itertuples(index=False, name=None), keep_suffix="|" + name.rsplit("|", 1)[1])
    return name
