"""The app's loaders (blockline.ui.data) are cached by their arguments and the store's data version, on a real store."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import streamlit as st
from shapely.geometry import box

from blockline.ui import data
from geo import queries
from geo.load import load_parcels
from geo.tiles import data_version
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city


@pytest.fixture
def city(engine, tmp_path: Path):
    st.cache_data.clear()
    load_two_county_city(engine, tmp_path)
    return engine


def test_counts_are_read_once_per_data_version_and_again_when_a_load_makes_a_new_one(
    city, tmp_path, monkeypatch
):
    reads = []
    real = queries.store_counts
    monkeypatch.setattr(queries, "store_counts", lambda engine: reads.append(1) or real(engine))
    before = data.store_counts()
    assert data.store_counts() == before == real(city) and len(reads) == 1  # the second call is the cache's
    assert data.tile_version() == data_version(city)

    gpd.GeoDataFrame(
        {"宗地编号": ["P-NEW"]}, geometry=[box(X + 350, Y + 350, X + 450, Y + 450)], crs="EPSG:4549"
    ).to_file(tmp_path / "new.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "new.gpkg", user="test")
    data.tile_version.clear()  # as when its few seconds have passed
    assert data.tile_version() == data_version(city)
    after = data.store_counts()
    assert after["parcels"] == before["parcels"] + 1 and len(reads) == 2


def test_totals_of_each_county_are_kept_apart(city, tmp_path):
    gpd.GeoDataFrame(
        {"宗地编号": ["P-1", "P-2"]},  # 15 亩 each: one in 鹿城 (330302), one in 瓯海 (330304)
        geometry=[box(X + 350, Y + 350, X + 450, Y + 450), box(X + 2350, Y + 350, X + 2450, Y + 450)],
        crs="EPSG:4549",
    ).to_file(tmp_path / "two.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "two.gpkg", user="test")
    data.tile_version.clear()
    assert data.totals("330302")["parcels_mu"] == pytest.approx(15.0)
    assert data.totals(None)["parcels_mu"] == pytest.approx(30.0)
    assert data.totals("330304")["parcels"] == 1
