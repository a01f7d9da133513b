"""The map's parcel marks of a city's judgement, kept in ``parcel_marks`` for the tiles.

``blockline.services.judged`` writes the marks of (data version, date, profile) with the judgement itself;
``ensure_marks`` returns the name of that set, judging the city first when nobody has, and deriving the
marks from the stored findings when the judgement was kept without them.

Examples
--------
>>> import datetime as dt
>>> set_name("wenzhou-2020", dt.date(2026, 12, 5), "0a1b2c3d4e5f")
'wenzhou-2020|2026-12-05|0a1b2c3d4e5f'
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from blockline.services.judged import Judgement, judge_city, set_name
from geo.parcel_marks import has_marks, write_marks
from geo.versions import data_version
from zoning.policy import Profile

__all__ = ["ensure_marks", "mark_set_name", "set_name"]


def mark_set_name(engine: Engine, *, as_of: dt.date, profile: Profile) -> str:
    """The name of the marks for this profile, date and the data as it is now."""
    return set_name(profile.name, as_of, data_version(engine))


def ensure_marks(engine: Engine, *, as_of: dt.date, profile: Profile) -> str:
    """The name of the marks of the current data at ``as_of`` under ``profile``, written when missing.

    They come with the city's judgement (``blockline.services.judged.judge_city``): a stored one is not judged again.
    Sets of the same data for other dates or profiles stay (other sessions may show them).
    """
    name = mark_set_name(engine, as_of=as_of, profile=profile)
    if has_marks(engine, name):
        return name
    judgement = judge_city(engine, as_of=as_of, profile=profile)
    name = set_name(profile.name, as_of, judgement.data_version)
    if not has_marks(engine, name):  # judged before its marks were kept with it: from the stored findings
        _derive(engine, judgement, name)
    return name


def _derive(engine: Engine, judgement: Judgement, name: str) -> None:
    """Write the marks of a stored judgement: its findings' first categories and the parcels' latest grade."""
    # lazy: the judgement's writer and the rules import pyarrow, scipy and the rules (0.2 s, python -X importtime),
    # needed only for a judgement kept without its marks; a caller served stored marks (zones detect) skips them
    from blockline.services.judged_write import first_categories
    from geo import queries  # lazy: with the line above
    from zoning.consolidation import latest_grade  # lazy: with the line above
    from zoning.marks import marks_frame  # lazy: with the line above

    parcels = queries.read_parcel_columns(engine, ["parcel_no", "holder_id"])
    grade = latest_grade(parcels, queries.read_ratings(engine), as_of=judgement.as_of)
    marks = marks_frame(
        parcels["parcel_no"],
        first_categories("idle", judgement.findings("idle")),
        first_categories("lifecycle", judgement.findings("lifecycle")),
        grade,
    )
    write_marks(
        engine, name, marks.itertuples(index=False, name=None), keep_suffix="|" + name.rsplit("|", 1)[1]
    )
