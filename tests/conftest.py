"""Test fixtures: one real embedded PostGIS cluster for the session, emptied before each test that uses it.

Set BLOCKLINE_TEST_DATABASE_URL to run the same tests against another PostGIS server instead (and
BLOCKLINE_TEST_OWNER_DATABASE_URL for the schema owner's, when it is another role). The store is used as the
app uses it, through its least-privileged role; the tests empty it as the schema's owner (``owner_engine``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

#: every table a test may fill (the audit trail is not among them: the database refuses to empty it)
TABLES = "setup_ended, users, sessions, sign_in_failures, parcel_cells, parcel_cell_of, parcel_cell_values, mark_cell_values, parcel_marks, drafts, quota_transfers, zones, block_lines, adjustments, ratings, parcels, admin_areas, loads"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line


@pytest.fixture(scope="session")
def settings() -> Iterator[object]:
    from geo.settings import Settings, get_settings

    external = os.environ.get("BLOCKLINE_TEST_DATABASE_URL")
    home = Path(tempfile.mkdtemp(prefix="bl-test-", dir="/tmp"))
    os.environ["BLOCKLINE_HOME"] = str(home)
    os.environ.pop("BLOCKLINE_DATABASE_URL", None)
    os.environ.pop("BLOCKLINE_OWNER_DATABASE_URL", None)
    if external:
        os.environ["BLOCKLINE_DATABASE_URL"] = external
        if os.environ.get("BLOCKLINE_TEST_OWNER_DATABASE_URL"):
            os.environ["BLOCKLINE_OWNER_DATABASE_URL"] = os.environ["BLOCKLINE_TEST_OWNER_DATABASE_URL"]
    os.environ["BLOCKLINE_USER"] = "test"
    get_settings.cache_clear()
    s = Settings()
    yield s
    if s.embedded:
        from geo.store import cluster_for

        cluster_for(s).stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def _engine(settings: object) -> sa.engine.Engine:
    from geo.store import open_store

    return open_store(settings)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def owner_engine(_engine: sa.engine.Engine, settings: object) -> Iterator[sa.engine.Engine]:
    """The store as the schema's owner (migrations' role): for what the app's role may not do, such as TRUNCATE."""
    from geo.store import owner_database_url

    owner = sa.create_engine(owner_database_url(settings))  # type: ignore[arg-type]
    yield owner
    owner.dispose()


def superuser_url(settings: object) -> str:
    """The session cluster's superuser (it alone makes databases), or the test server's own URL."""
    from geo.store import cluster_for

    if not settings.embedded:  # type: ignore[attr-defined]
        return str(os.environ["BLOCKLINE_TEST_DATABASE_URL"])
    return cluster_for(settings).superuser_url  # type: ignore[arg-type]


def empty_store(owner_engine: sa.engine.Engine) -> None:
    """Every table a test may fill truncated (the audit trail stays), setup mode again."""
    with owner_engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(_engine: sa.engine.Engine, owner_engine: sa.engine.Engine) -> sa.engine.Engine:
    """The store, empty: every table truncated before the test."""
    empty_store(owner_engine)
    return _engine


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests in one group: with ``-n 2 --dist loadgroup`` (``./dev.sh test``) one worker runs them in
    turn (one app server and browser at a time, as a planner's day), while the other takes the rest."""
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if item.path.is_relative_to(e2e):
            item.add_marker(pytest.mark.xdist_group("browser"))
