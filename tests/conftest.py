"""Test fixtures: one real embedded PostGIS cluster for the session, emptied before each test that uses it.

Set BLOCKLINE_TEST_DATABASE_URL to run the same tests against another PostGIS server instead.
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
TABLES = "users, sessions, sign_in_failures, parcel_cells, parcel_marks, drafts, quota_transfers, zones, block_lines, adjustments, ratings, parcels, admin_areas, loads"


@pytest.fixture(scope="session")
def settings() -> Iterator[object]:
    from geo.settings import Settings, get_settings

    external = os.environ.get("BLOCKLINE_TEST_DATABASE_URL")
    home = Path(tempfile.mkdtemp(prefix="bl-test-", dir="/tmp"))
    os.environ["BLOCKLINE_HOME"] = str(home)
    os.environ.pop("BLOCKLINE_DATABASE_URL", None)
    if external:
        os.environ["BLOCKLINE_DATABASE_URL"] = external
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


@pytest.fixture
def engine(_engine: sa.engine.Engine) -> sa.engine.Engine:
    """The store, empty: every table truncated before the test."""
    with _engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return _engine
