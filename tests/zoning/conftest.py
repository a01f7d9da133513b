"""A two-county city with level-1 and level-2 lines, hand-built in EPSG:4549 (see test_balance.py)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box

from geo.load import load_blocklines, load_boundaries
from tests.files import WENZHOU_X0 as X, WENZHOU_Y0 as Y, two_counties
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
LC, OH = "330302", "330304"
LC_L1 = box(X + 100, Y + 100, X + 700, Y + 700)


@pytest.fixture
def city(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    load_boundaries(engine, tmp_path / "c.gpkg", user="test")
    l1 = gpd.GeoDataFrame({"名称": ["鹿城一级", "瓯海一级"]},
                          geometry=[LC_L1, box(X + 2100, Y + 100, X + 2700, Y + 700)], crs="EPSG:4549")
    l1.to_file(tmp_path / "l1.gpkg", engine="pyogrio")
    load_blocklines(engine, tmp_path / "l1.gpkg", level=1, user="test")
    l2 = gpd.GeoDataFrame({"名称": ["鹿城二级"]}, geometry=[box(X + 800, Y + 100, X + 1200, Y + 700)], crs="EPSG:4549")
    l2.to_file(tmp_path / "l2.gpkg", engine="pyogrio")
    load_blocklines(engine, tmp_path / "l2.gpkg", level=2, user="test")
    return engine


