"""county_totals: the per-county sums of the overview, counted by PostGIS, checked against areas worked out by hand.

The city is tests.files.load_two_county_city (1 亩 = 10000/15 m²):

- 鹿城 330302: level 1 was [X+100, X+700] × [Y+100, Y+700] (540 亩), then redrawn as the 300 m × 300 m
  square at (X+100, Y+100): 135 亩 (the old version is closed and counts no more); level 2
  [X+800, X+1200] × [Y+100, Y+700] = 400 m × 600 m = 360 亩;
- 瓯海 330304: level 1 [X+2100, X+2700] × [Y+100, Y+700] = 540 亩, no level 2;

and parcels of 100 m × 100 m (15 亩): P-1 in 鹿城, reloaded as 200 m × 100 m (30 亩, its first version
closed), P-2 in 鹿城, P-3 in 瓯海, P-4 outside both counties (no county), P-5 filed under the city 330300
(an area, but not a county).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.area import area_mu
from geo.load import load_boundaries, write_blocklines, write_parcels
from geo.queries import county_totals, read_blocklines, read_parcels
from geo.store import transaction
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city, square, two_counties

COLUMNS = [
    "county",
    "name",
    "level1_mu",
    "level2_mu",
    "parcels",
    "parcels_mu",
    "level1_lines",
    "level2_lines",
]


def _parcels(rows: list[tuple[str, object, str | None]]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"parcel_no": [r[0] for r in rows], "county_code": [r[2] for r in rows]},
        geometry=[shapely.MultiPolygon([r[1]]) for r in rows],
        crs="EPSG:4549",
    )
    gdf["area_mu"] = area_mu(gdf).to_numpy()
    return gdf


@pytest.fixture
def city(engine: Engine, tmp_path: Path) -> Engine:
    load_two_county_city(engine, tmp_path)
    with transaction(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO admin_areas (code, name, level, geom) "
                "SELECT '330300', '温州市', 'city', ST_Multi(ST_Union(geom)) FROM admin_areas"
            )
        )
        redrawn = gpd.GeoDataFrame(
            {"name": ["鹿城一级（调整后）"]},
            geometry=[shapely.MultiPolygon([square(X + 100, Y + 100, 300)])],
            crs="EPSG:4549",
        )
        write_blocklines(conn, redrawn, level=1, county="330302", load_id=None, user="test")
        write_parcels(
            conn,
            _parcels(
                [
                    ("P-1", square(X + 200, Y + 200), None),
                    ("P-2", square(X + 400, Y + 200), None),
                    ("P-3", square(X + 2200, Y + 200), None),
                    ("P-4", square(X - 500, Y + 200), None),
                    ("P-5", square(X + 600, Y + 1200), "330300"),
                ]
            ),
            load_id=None,
            user="test",
        )
    with transaction(engine) as conn:
        write_parcels(
            conn,
            _parcels([("P-1", shapely.box(X + 200, Y + 200, X + 400, Y + 300), None)]),
            load_id=None,
            user="test",
        )
    return engine


def test_county_totals_by_hand(city: Engine) -> None:
    totals = county_totals(city)
    assert list(totals.columns) == COLUMNS
    assert totals["county"].tolist() == ["330302", "330304", "", "330300"]  # counties, then the others
    assert totals["name"].tolist() == ["鹿城区", "瓯海区", "", ""]
    assert totals["level1_mu"].tolist() == pytest.approx([135.0, 540.0, 0.0, 0.0], rel=1e-9)
    assert totals["level2_mu"].tolist() == pytest.approx([360.0, 0.0, 0.0, 0.0], rel=1e-9)
    assert totals["parcels"].tolist() == [2, 1, 1, 1]
    assert totals["parcels_mu"].tolist() == pytest.approx([45.0, 15.0, 15.0, 15.0], rel=1e-9)
    assert totals["level1_lines"].tolist() == [1, 1, 0, 0]
    assert totals["level2_lines"].tolist() == [1, 0, 0, 0]
    assert {c: str(t) for c, t in totals.dtypes.items()} == {
        "county": "object",
        "name": "object",
        "level1_mu": "float64",
        "level2_mu": "float64",
        "parcels": "int64",
        "parcels_mu": "float64",
        "level1_lines": "int64",
        "level2_lines": "int64",
    }


def test_county_totals_agree_with_the_readers(city: Engine) -> None:
    """The sums equal those of the rows the readers return (block-line 亩 as read_blocklines computes them)."""
    totals = county_totals(city).set_index("county")
    lines, parcels = read_blocklines(city), read_parcels(city, geometry=False)
    for level in (1, 2):
        by_county = lines[lines["level"] == level].groupby("county_code")["area_mu"].sum()
        for code, mu in by_county.items():
            assert totals.loc[code, f"level{level}_mu"] == pytest.approx(mu, rel=1e-9)
    by_county = parcels.assign(county_code=parcels["county_code"].fillna("")).groupby("county_code")[
        "area_mu"
    ]
    pd.testing.assert_series_equal(
        totals.loc[by_county.sum().index, "parcels_mu"],
        by_county.sum(),
        check_names=False,
        check_index_type=False,
    )
    assert totals["parcels"].sum() == len(parcels) == 5


def test_county_totals_of_an_empty_store(engine: Engine) -> None:
    totals = county_totals(engine)
    assert list(totals.columns) == COLUMNS and totals.empty


def test_county_totals_of_counties_without_data(engine: Engine, tmp_path: Path) -> None:
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    load_boundaries(engine, tmp_path / "c.gpkg", user="test")
    totals = county_totals(engine)
    assert totals["county"].tolist() == ["330302", "330304"]
    assert totals[["level1_mu", "level2_mu", "parcels_mu"]].to_numpy().tolist() == [[0.0] * 3] * 2
    assert totals[["parcels", "level1_lines", "level2_lines"]].to_numpy().tolist() == [[0] * 3] * 2
