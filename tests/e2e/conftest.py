"""End-to-end fixtures: the demo city in a database of its own, the app as a user runs it, headless Chromium.

- ``e2e_url``: a database ``blockline_e2e`` on the session's PostGIS (the embedded cluster of
  ``tests/conftest.py``, or ``BLOCKLINE_TEST_DATABASE_URL``'s server), so the ``engine`` fixture, which
  empties its own database before each test, never touches what the browser sees. The demo city is loaded
  into it with ``blockline demo --parcels 2000``, as a user would.
- ``app_url``: ``blockline app --port P`` on that database (``BLOCKLINE_DATABASE_URL``), up once
  ``/_stcore/health`` answers, stopped once the e2e tests are done (the fixtures are package-scoped).
- ``browser``: Debian's ``chromium`` (or ``$CHROMIUM``) driven by Playwright through its executable path;
  Playwright never downloads a browser. ``./dev.sh test`` installs it (and ``fonts-noto-cjk``) when missing.
- ``shots``: the folder every page's screenshot is written to: ``$BLOCKLINE_SCREENSHOTS``, else a pytest
  temporary folder (its path is printed at the end of the run, with the app's log). A failing test leaves
  ``FAILED-<test>.png`` there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from blockline.ui.serving import NotServing, free_port, start_app, stop_server
from tests.e2e.app_driver import screenshot

E2E_DATABASE = "blockline_e2e"
DEMO_PARCELS = 2000
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1440, "height": 1000}
BLOCKLINE = Path(sys.executable).with_name("blockline")
APP_START_S = 90
#: keeps every uncaught script error of a frame in ``window.__blErrors`` (read by app_driver.wait_for_map)
RECORD_ERRORS_JS = """window.__blErrors = [];
window.addEventListener('error', e => window.__blErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => window.__blErrors.push(String(e.reason)));"""

_SHOTS = pytest.StashKey[Path]()
_APP_LOG = pytest.StashKey[Path]()
_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.fixture(scope="package")
def e2e_url(_engine: sa.engine.Engine, settings: object) -> Iterator[str]:
    """URL of a fresh database holding the demo city (2,000 parcels), dropped at the end."""
    from tests.conftest import superuser_url

    su = sa.engine.make_url(superuser_url(settings))  # the app's own role may not make databases
    url = su.set(database=E2E_DATABASE)
    admin = sa.create_engine(su, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{E2E_DATABASE}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{E2E_DATABASE}"'))
    rendered = url.render_as_string(hide_password=False)
    done = subprocess.run(
        [
            str(BLOCKLINE),
            "--db",
            rendered,
            "--user",
            "e2e",
            "demo",
            "--parcels",
            str(DEMO_PARCELS),
            "--format",
            "json",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"blockline demo failed ({done.returncode}):\n{done.stderr}"
    assert json.loads(done.stdout)["inserted"] == DEMO_PARCELS
    yield rendered
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{E2E_DATABASE}" WITH (FORCE)'))
    admin.dispose()


def back_to_setup_mode(engine: sa.engine.Engine) -> None:
    """Put the demo store back as the e2e tests found it: no users, and setup mode's flag (``setup_ended``,
    written once by the first user; migration 0008) cleared. Only the tests' owner connection does this: the
    app's role may not touch the flag, and deleting every user alone does not reopen setup mode."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
        conn.execute(sa.text("DELETE FROM setup_ended"))


@pytest.fixture(scope="package")
def e2e_engine(e2e_url: str) -> Iterator[sa.engine.Engine]:
    """An engine on the app's database, to read what the app should show (never to write)."""
    engine = sa.create_engine(e2e_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def app_url(
    e2e_url: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The app, started with ``blockline app --port P`` on the e2e database, as a user runs it."""
    port = free_port()
    log = tmp_path_factory.mktemp("e2e-app") / "app.log"
    request.config.stash[_APP_LOG] = log
    env = os.environ.copy()
    env.update(BLOCKLINE_DATABASE_URL=e2e_url, BLOCKLINE_USER="e2e")
    with log.open("wb") as out:
        try:
            proc = start_app(port, env=env, output=out, timeout_s=APP_START_S)
        except NotServing as exc:
            pytest.fail(f"blockline app: {exc}:\n{log.read_text(errors='replace')}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system (Debian's ``chromium`` package), driven by Playwright."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the end-to-end tests drive Debian's chromium package. "
            "`./dev.sh test` installs it (and fonts-noto-cjk); or set CHROMIUM to a Chromium binary."
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="package")
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The folder the screenshots are written to (``$BLOCKLINE_SCREENSHOTS`` or a pytest temporary folder)."""
    folder = os.environ.get("BLOCKLINE_SCREENSHOTS")
    path = Path(folder).absolute() if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    request.config.stash[_SHOTS] = path
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[_REPORT] = report
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for key, what in ((_SHOTS, "e2e screenshots"), (_APP_LOG, "e2e app log")):
        path = config.stash.get(key, None)
        if path is not None:
            terminalreporter.write_line(f"{what}: {path}")


@pytest.fixture
def page(browser: Browser, app_url: str, shots: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page (its own session of the app) at 1440 × 1000, in Chinese."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=app_url)
    context.set_default_timeout(30_000)
    context.add_init_script(script=RECORD_ERRORS_JS)  # in every frame, the map iframes too
    pg = context.new_page()
    yield pg
    report = request.node.stash.get(_REPORT, None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            screenshot(pg, shots / f"FAILED-{name}.png")
        except PlaywrightError as exc:  # the page may be gone: the failure itself is what matters
            print(f"no failure screenshot: {exc}")
    context.close()
