"""`blockline demo`: the generated city lands in PostGIS whole, inside the real counties, and can be rerun."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from blockline.demo import load_demo


def test_demo_loads_and_reloads(engine: sa.Engine) -> None:
    first = load_demo(engine, user="test", n_parcels=300, seed=7)
    assert first.inserted == 300
    with engine.connect() as conn:
        areas = conn.execute(
            sa.text("SELECT count(*) FROM admin_areas WHERE code LIKE '3303%' AND level = 'county'")
        ).scalar_one()
        missing_county = conn.execute(
            sa.text("SELECT count(*) FROM parcels WHERE valid_to IS NULL AND county_code IS NULL")
        ).scalar_one()
        # every parcel lies inside the county it is filed under (checked by PostGIS, not by the generator)
        misplaced = conn.execute(
            sa.text("""
            SELECT count(*) FROM parcels p JOIN admin_areas a ON a.code = p.county_code
            WHERE p.valid_to IS NULL AND NOT ST_Covers(ST_Buffer(a.geom, 0.01), p.geom)""")
        ).scalar_one()
        worst = conn.execute(
            sa.text("SELECT max(abs(area_mu - ST_Area(geom) / (10000.0 / 15))) FROM parcels")
        ).scalar_one()
        levels = dict(
            conn.execute(
                sa.text("SELECT level, count(*) FROM block_lines WHERE valid_to IS NULL GROUP BY level")
            ).all()
        )
        overlap = conn.execute(
            sa.text("""
            SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0) FROM block_lines a
            JOIN block_lines b ON a.level = 1 AND b.level = 2 AND ST_Intersects(a.geom, b.geom)
            WHERE a.valid_to IS NULL AND b.valid_to IS NULL""")
        ).scalar_one()
        # missing figures arrive as NULL, never as the float NaN
        nulls, nans = conn.execute(
            sa.text("""
            SELECT count(*) FILTER (WHERE committed_tax_per_mu IS NULL),
                   count(*) FILTER (WHERE committed_tax_per_mu = 'NaN' OR tax = 'NaN' OR planned_investment = 'NaN')
            FROM parcels""")
        ).one()
        no_dates = conn.execute(sa.text("SELECT count(*) FROM parcels WHERE started_on IS NULL")).scalar_one()
    assert nulls > 0 and nans == 0 and no_dates > 0
    assert areas == 12 and missing_county == 0 and misplaced == 0
    assert worst == pytest.approx(0, abs=1e-6)
    assert levels[1] > 0 and levels[2] > 0
    assert overlap < 1.0  # m²: level 1 and level 2 do not overlap
    again = load_demo(engine, user="test", n_parcels=300, seed=7)
    assert (again.inserted, again.updated, again.closed) == (300, 0, 300)  # the old demo kept as history
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM parcels WHERE valid_to IS NULL")).scalar_one() == 300
        )
