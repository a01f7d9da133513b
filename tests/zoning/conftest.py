"""A two-county city with level-1 and level-2 lines, hand-built in EPSG:4549 (see test_balance.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely import box

from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
LC, OH = "330302", "330304"
LC_L1 = box(X + 100, Y + 100, X + 700, Y + 700)


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    """The two-county city with its level-1 and level-2 lines (tests.files.load_two_county_city)."""
    load_two_county_city(engine, tmp_path)
    return engine
