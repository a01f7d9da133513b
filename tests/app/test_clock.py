"""One clock for the office (issue 18 item 4): every "today" and every timestamp shown is Beijing time.

At 23:30 UTC it is already 07:30 the next day in Asia/Shanghai (UTC+8, no summer time): the date pickers, the
command's default ``--as-of`` and the warm-up must say the next day, and the audit trail and the saved zones
must show one and the same clock. The clock is set through ``BLOCKLINE_NOW`` (the setting geo.clock reads),
the zone through ``BLOCKLINE_TIMEZONE``; the expected values are worked out by hand or by PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from shapely.geometry import box
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from geo import clock
from geo.settings import Settings, get_settings
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y

PAGES = Path(__file__).resolve().parents[2] / "blockline" / "app_pages"
LATE_EVENING_UTC = "2026-12-05T23:30:00+00:00"  # 2026-12-06 07:30 in Beijing


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set the office's clock (and zone) for one test; the settings are read afresh and restored after."""

    def _set(now: str | None, zone: str | None = None) -> None:
        for name, value in (("BLOCKLINE_NOW", now), ("BLOCKLINE_TIMEZONE", zone)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield _set
    monkeypatch.delenv("BLOCKLINE_NOW", raising=False)
    monkeypatch.delenv("BLOCKLINE_TIMEZONE", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def demo(engine: Engine) -> Engine:
    import streamlit as st

    from blockline.demo import load_demo

    st.cache_data.clear()
    load_demo(engine, user="test", n_parcels=120, seed=3)
    return engine


# -- the day turns at 16:00 UTC (00:00 Beijing) ------------------------------------------------------------
@pytest.mark.parametrize(
    ("utc", "beijing_day"),
    [
        ("2026-12-05T15:59:59+00:00", dt.date(2026, 12, 5)),  # 23:59:59 Beijing: still the 5th
        ("2026-12-05T16:00:00+00:00", dt.date(2026, 12, 6)),  # 00:00:00 Beijing: the 6th begins
        ("2026-12-05T16:00:01+00:00", dt.date(2026, 12, 6)),
        (LATE_EVENING_UTC, dt.date(2026, 12, 6)),
    ],
)
def test_today_is_the_beijing_day(set_clock: object, utc: str, beijing_day: dt.date) -> None:
    set_clock(utc)  # type: ignore[operator]
    assert clock.today() == beijing_day
    assert clock.now().utcoffset() == dt.timedelta(hours=8)


def test_a_deployment_elsewhere_sets_its_zone(set_clock: object) -> None:
    set_clock(LATE_EVENING_UTC, "Europe/Berlin")  # type: ignore[operator]
    assert clock.today() == dt.date(2026, 12, 6)  # 00:30 in Berlin (UTC+1 in December)
    set_clock(LATE_EVENING_UTC, "America/New_York")  # type: ignore[operator]
    assert clock.today() == dt.date(2026, 12, 5)  # 18:30 in New York
    assert clock.shown(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)) == "2026-12-05 18:30"


def test_the_default_zone_is_shanghai_and_a_bad_one_is_refused(set_clock: object) -> None:
    set_clock(None)  # type: ignore[operator]
    assert get_settings().timezone == "Asia/Shanghai"
    with pytest.raises(ValidationError, match="BLOCKLINE_TIMEZONE"):
        Settings(timezone="Beijing")
    with pytest.raises(ValidationError, match="BLOCKLINE_NOW"):
        Settings(now=dt.datetime(2026, 12, 5, 23, 30))  # no offset: which clock?


# -- every date picker and the command -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "key"),
    [("idle.py", "idle_as_of"), ("lifecycle.py", "lifecycle_as_of"), ("zones.py", "zones_as_of")],
)
def test_date_pickers_show_the_next_day_at_2330_utc(
    demo: Engine, set_clock: object, page: str, key: str
) -> None:
    set_clock(LATE_EVENING_UTC)  # type: ignore[operator]
    at = AppTest.from_file(str(PAGES / page), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.date_input(key=key).value == dt.date(2026, 12, 6)


def test_the_commands_default_as_of_is_the_beijing_day(demo: Engine, set_clock: object) -> None:
    from blockline.cli import app

    set_clock(LATE_EVENING_UTC)  # type: ignore[operator]
    result = CliRunner().invoke(app, ["idle", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["as_of"] == "2026-12-06"


# -- one clock on 审计 and on the saved zones --------------------------------------------------------------
def test_audit_and_saved_zones_show_the_same_clock(engine: Engine) -> None:
    from blockline.services.zones_store import read_zones, save_zone
    from blockline.ui.zones_view import saved_frame
    from geo.audit import as_text, read_audit

    zone_id = save_zone(
        engine,
        name="北片",
        geometry=box(X + 800, Y + 800, X + 1400, Y + 900),
        assessment={"area_mu": 90.0},
        requirements={},
        user="test",
    )
    with engine.connect() as conn:  # PostgreSQL's own conversion, independent of geo.clock
        beijing = conn.execute(
            sa.text("""SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                                          FROM zones WHERE id = :i"""),
            {"i": zone_id},
        ).scalar_one()
    audit_at = as_text(read_audit(engine, action="zone.save")).iloc[0]["at"]
    zone_at = saved_frame(read_zones(engine), "zh").iloc[0]["保存时间"]
    assert zone_at == beijing
    assert audit_at[:16] == beijing  # the audit shows seconds too; the same transaction, the same instant


def test_exported_instants_carry_the_beijing_day(set_clock: object) -> None:
    from geo.export import json_safe

    set_clock(None)  # type: ignore[operator]
    assert json_safe(dt.datetime(2026, 12, 5, 15, 59, 59, tzinfo=dt.UTC)) == "2026-12-05"
    assert json_safe(dt.datetime(2026, 12, 5, 16, 0, 0, tzinfo=dt.UTC)) == "2026-12-06"
    assert json_safe(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)) == "2026-12-06"
    assert json_safe(dt.date(2026, 12, 5)) == "2026-12-05"  # a date stays the date it is


def test_a_papers_cover_is_dated_the_beijing_day(set_clock: object) -> None:
    """The 日期 on a paper's cover is the office's day, the day its findings are counted to (CI found it UTC)."""
    from blockline.reports.gather import cover_for

    set_clock(LATE_EVENING_UTC)  # type: ignore[operator]
    assert cover_for(prepared_by="test").date == dt.date(2026, 12, 6)
    assert cover_for(prepared_by="test", date=dt.date(2026, 1, 2)).date == dt.date(2026, 1, 2)
