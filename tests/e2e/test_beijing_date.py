"""Issue 18, item 4, in the browser: at 23:30 UTC it is already the next day in Beijing, and every date picker
a planner opens says so.

The app runs as a user starts it (``blockline app``) with its clock set to 2026-12-05 23:30 UTC through
``BLOCKLINE_NOW`` (the one setting ``geo.clock`` reads); the deployment's zone is the default, Asia/Shanghai.
Each page is opened by its address as a person types it, and the picker's value is read as the page shows it.
The expected date is worked out here from the instant and the zone with the standard library, not by the app.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page

from blockline.ui.serving import free_port, wait_healthy
from tests.e2e.app_driver import open_page
from tests.e2e.conftest import BLOCKLINE, VIEWPORT

LATE_EVENING_UTC = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)
BEIJING_DAY = LATE_EVENING_UTC.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()

#: page address → the label of its date picker (as the page shows it in Chinese)
PICKERS = {
    "idle": "截至日期",
    "lifecycle": "截至日期",
    "zones": "截至日期",
    "map": "区块线截至日期",
}


@pytest.fixture(scope="module")
def late_app(e2e_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``blockline app`` on the e2e city, its clock at 23:30 UTC; its address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ.copy()
    env.pop("BLOCKLINE_TIMEZONE", None)  # the default zone, as a deployment in China has it
    env.update(
        BLOCKLINE_DATABASE_URL=e2e_url, BLOCKLINE_USER="e2e", BLOCKLINE_NOW=LATE_EVENING_UTC.isoformat()
    )
    log = tmp_path_factory.mktemp("late-app") / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BLOCKLINE), "app", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_healthy(url, proc=proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def late_page(browser: Browser, late_app: str) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=late_app)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def test_the_expected_day_is_the_next_one() -> None:
    # the premise of the test, from the standard library: 07:30 on 2026-12-06 in Beijing
    assert BEIJING_DAY == "2026-12-06" and LATE_EVENING_UTC.date().isoformat() == "2026-12-05"


@pytest.mark.parametrize("address", list(PICKERS))
def test_every_date_picker_opens_on_beijing_day(late_page: Page, address: str) -> None:
    open_page(late_page, address)
    picker = late_page.locator('[data-testid="stDateInput"]').filter(
        has=late_page.locator('[data-testid="stWidgetLabel"]').get_by_text(PICKERS[address], exact=True)
    )
    assert picker.locator("input").input_value() == BEIJING_DAY
