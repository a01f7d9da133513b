"""The office's clock: one "today" and one way to show a timestamp, in the deployment's time zone.

A Chinese planning office lives in Asia/Shanghai (UTC+8): at 23:30 UTC it is already the next day there.
Every default date, every "today" that decides a finding and every timestamp shown or exported goes through
this module; the zone is ``BLOCKLINE_TIMEZONE``. Timestamps are stored as ``timestamptz`` (an instant), so
only showing them depends on the zone.

Examples
--------
>>> import datetime as dt
>>> shown(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.timezone.utc), zone="Asia/Shanghai")
'2026-12-06 07:30'
>>> shown(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.timezone.utc), zone="Asia/Shanghai", seconds=True)
'2026-12-06 07:30:00'
>>> shown(None)
''
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from geo.settings import get_settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["office_zone", "now", "today", "shown", "shown_iso"]


def office_zone(zone: str | None = None) -> ZoneInfo:
    """The deployment's time zone (``BLOCKLINE_TIMEZONE``), or ``zone`` when given."""
    return ZoneInfo(zone or get_settings().timezone)


def now() -> dt.datetime:
    """The current instant in the office's zone (``BLOCKLINE_NOW`` when set, else the system clock)."""
    fixed = get_settings().now
    instant = fixed if fixed is not None else dt.datetime.now(dt.UTC)
    return instant.astimezone(office_zone())


def today() -> dt.date:
    """Today's date in the office's zone: the default of every date picker and ``--as-of``."""
    return now().date()


def _instant(value: object, zone: ZoneInfo) -> pd.Timestamp | None:
    if value is None:
        return None
    # lazy: today() is asked by every command, and pandas costs 0.5 s to import; only shown() needs it
    import numpy as np
    import pandas as pd  # lazy: with the line above

    if not isinstance(value, dt.date | str | int | float | np.datetime64):
        raise TypeError(f"Cannot convert input [{value!r}] of type {type(value)} to Timestamp")
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:  # a naive value read from timestamptz by a driver that dropped the zone: UTC
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(zone)


def shown(value: object, *, seconds: bool = False, zone: str | None = None) -> str:
    """A stored timestamp as a planner reads it: ``YYYY-MM-DD HH:MM`` in the office's zone ('' if missing).

    Parameters
    ----------
    value
        A timezone-aware datetime or ``pd.Timestamp`` (naive values are taken as UTC), or None/NaT.
    seconds
        Show seconds too (audit trail).
    zone
        Another IANA zone instead of the deployment's (tests, examples).
    """
    stamp = _instant(value, office_zone(zone))
    if stamp is None:
        return ""
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def shown_iso(value: object, *, zone: str | None = None) -> str | None:
    """A stored timestamp as ISO 8601 with the office's offset (JSON exports), or None if missing.

    Examples
    --------
    >>> import datetime as dt
    >>> shown_iso(dt.datetime(2026, 12, 5, 5, 0, tzinfo=dt.timezone.utc), zone="Asia/Shanghai")
    '2026-12-05T13:00:00+08:00'
    """
    stamp = _instant(value, office_zone(zone))
    return None if stamp is None else stamp.isoformat()
