"""Suggestions to cover a shortfall: exact least surplus (checked by brute force), then preferences."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from blockline.services.suggest import candidate_land, suggest_cover
from geo.load import load_parcels
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.zoning.conftest import LC, WZ
from zoning.suggest import choose_cover


@pytest.fixture
def with_parcels(city: sa.Engine, tmp_path: Path) -> sa.Engine:
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["P1", "P2", "H1"], "土地用途": ["100101", "100102", "0701"]},
        geometry=[
            box(X + 700, Y + 300, X + 800, Y + 400),  # touches level 1 (x = 700), 15 亩
            box(X + 1500, Y + 1500, X + 1600, Y + 1600),  # far from it, 15 亩
            box(X + 700, Y + 500, X + 800, Y + 600),
        ],  # housing: never a candidate
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "p.gpkg", user="test")
    return city


def test_candidates_are_disjoint_and_outside_level1(with_parcels: sa.Engine) -> None:
    cand = candidate_land(with_parcels, county=LC, profile=WZ)
    assert sorted(cand["ref"][cand["kind"] == "parcel"]) == ["P1", "P2"]
    level2 = cand[cand["kind"] == "level2"]
    assert len(level2) == 1 and level2["area_mu"].iloc[0] == pytest.approx(400 * 600 / (10000 / 15))
    assert bool(cand.set_index("ref").loc["P1", "touches_level1"]) and not bool(
        cand.set_index("ref").loc["P2", "touches_level1"]
    )
    geoms = list(cand.geometry)
    assert all(a.intersection(b).area < 1e-6 for a, b in itertools.combinations(geoms, 2))


def test_least_surplus_then_preference(with_parcels: sa.Engine) -> None:
    s = suggest_cover(with_parcels, county=LC, shortfall_mu=14.0, profile=WZ)
    assert [c["ref"] for c in s.as_dict()["chosen"]] == ["P1"]  # 15 亩 either way: the one touching level 1
    s = suggest_cover(with_parcels, county=LC, shortfall_mu=20.0, profile=WZ)
    assert (
        sorted(c["ref"] for c in s.as_dict()["chosen"]) == ["P1", "P2"] and s.as_dict()["surplus_mu"] == 10.0
    )
    s = suggest_cover(with_parcels, county=LC, shortfall_mu=100.0, profile=WZ)
    d = s.as_dict()
    assert [c["kind"] for c in d["chosen"]] == ["level2"] and d["total_mu"] == 360.0 and d["optimal"]
    s = suggest_cover(with_parcels, county=LC, shortfall_mu=1000.0, profile=WZ)
    assert s.as_dict()["covered"] is False


@settings(max_examples=40, deadline=None)
@given(areas=st.lists(st.integers(1, 60), min_size=1, max_size=9), need=st.integers(1, 200))
def test_property_least_total_matches_brute_force(areas: list[int], need: int) -> None:
    chosen, status = choose_cover([float(a) for a in areas], [0.5] * len(areas), need=float(need), slack=0.0)
    totals = [
        sum(c) for r in range(len(areas) + 1) for c in itertools.combinations(areas, r) if sum(c) >= need
    ]
    if not totals:
        assert status["feasible"] is False
        return
    assert status["least_total"] == pytest.approx(min(totals))
    assert sum(areas[i] for i in chosen) == pytest.approx(min(totals))
