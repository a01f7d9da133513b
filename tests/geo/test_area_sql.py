"""m² → 亩 has one home (``geo.area``): the SQL form of the constant is the number PostgreSQL made of the literal
``10000.0 / 15`` the queries used to spell, and a 100 m × 100 m parcel is 15 亩 in SQL as in shapely."""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box

from geo.area import M2_PER_MU, M2_PER_MU_SQL, area_mu


def test_the_sql_constant_is_postgres_own_quotient(engine: sa.engine.Engine) -> None:
    with engine.connect() as conn:
        same, value = conn.execute(
            sa.text(f"SELECT CAST(10000.0 / 15 AS float8) = {M2_PER_MU_SQL}, {M2_PER_MU_SQL}")
        ).one()
    assert same is True
    assert value == M2_PER_MU  # the same double on both sides, not merely close


@pytest.mark.parametrize(("w", "h"), [(100.0, 100.0), (37.3, 81.9), (0.01, 0.01), (2500.0, 1733.7)])
def test_areas_in_sql_equal_the_old_literal_and_shapely(engine: sa.engine.Engine, w: float, h: float) -> None:
    envelope = f"ST_MakeEnvelope(0, 0, {w!r}, {h!r}, 4549)"
    with engine.connect() as conn:
        old, new = conn.execute(
            sa.text(f"SELECT ST_Area({envelope}) / (10000.0 / 15), ST_Area({envelope}) / {M2_PER_MU_SQL}")
        ).one()
    assert new == old
    parcel = gpd.GeoDataFrame(geometry=[box(0, 0, w, h)], crs="EPSG:4549")
    assert new == pytest.approx(float(area_mu(parcel).iloc[0]), rel=1e-12)
    if (w, h) == (100.0, 100.0):
        assert new == pytest.approx(15.0, rel=1e-12)
