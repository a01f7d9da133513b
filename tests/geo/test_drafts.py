"""Drafts: drawings kept in PostGIS at once, read back as drawn, refused when not a surface."""

import pytest
import sqlalchemy as sa

from geo.drafts import clear_drafts, new_sketch, read_drafts, save_drafts, valid_sketch
from geo.errors import InputError

# A square of 0.001° at 28°N, 120.6°E (Wenzhou): about 98 m × 111 m.
SQUARE = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[120.6, 28.0], [120.601, 28.0], [120.601, 28.001], [120.6, 28.001], [120.6, 28.0]]],
    },
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[120.6, 28.0], [120.601, 28.001], [120.601, 28.0], [120.6, 28.001], [120.6, 28.0]]],
}


def test_a_drawing_is_kept_once_and_read_back_where_it_was_drawn(engine):
    sketch = new_sketch()
    assert save_drafts(engine, sketch, "balance:removal", [SQUARE, SQUARE], user="t") == 1
    assert (
        save_drafts(engine, sketch, "balance:removal", [SQUARE], user="t") == 0
    )  # streamlit-folium resends it
    back = read_drafts(engine, sketch, "balance:removal")
    assert len(back) == 1
    ring = back[0]["geometry"]["coordinates"][0][0]
    xs = sorted({round(x, 7) for x, _ in ring})
    assert xs == [120.6, 120.601]
    assert read_drafts(engine, sketch, "balance:addition") == []
    with engine.connect() as conn:  # stored in the storage CRS; PostGIS computes the area independently
        area = conn.execute(
            sa.text("SELECT ST_Area(geom), ST_Area(ST_Transform(geom, 4326)::geography) FROM drafts")
        ).one()
    assert area[0] == pytest.approx(area[1], rel=2e-3)
    assert 10_500 < area[0] < 11_100  # 0.001° × 0.001° at 28°N


def test_a_self_crossing_drawing_is_repaired_and_a_line_refused(engine):
    sketch = new_sketch()
    assert save_drafts(engine, sketch, "zones:zone", [BOWTIE], user="t") == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT ST_NumGeometries(geom), ST_IsValid(geom) FROM drafts")).one() == (
            2,
            True,
        )
    with pytest.raises(InputError, match="not a polygon"):
        save_drafts(
            engine,
            sketch,
            "zones:zone",
            [{"type": "LineString", "coordinates": [[120.6, 28.0], [120.7, 28.1]]}],
            user="t",
        )
    with pytest.raises(InputError, match="no area"):
        save_drafts(
            engine,
            sketch,
            "zones:zone",
            [
                {
                    "type": "Polygon",
                    "coordinates": [[[120.6, 28.0], [120.601, 28.0], [120.602, 28.0], [120.6, 28.0]]],
                }
            ],
            user="t",
        )
    assert len(read_drafts(engine, sketch, "zones:zone")) == 1  # a refused batch writes nothing


def test_clearing_a_sketch_and_a_forged_id(engine):
    a, b = new_sketch(), new_sketch()
    save_drafts(engine, a, "balance:removal", [SQUARE], user="t")
    save_drafts(engine, a, "balance:addition", [SQUARE], user="t")
    save_drafts(engine, b, "balance:removal", [SQUARE], user="t")
    assert clear_drafts(engine, a, "balance:removal") == 1
    assert len(read_drafts(engine, a, "balance:addition")) == 1
    assert clear_drafts(engine, a) == 1
    assert len(read_drafts(engine, b, "balance:removal")) == 1
    forged = "' OR 1=1 --"
    assert not valid_sketch(forged)
    assert read_drafts(engine, forged, "balance:removal") == [] and clear_drafts(engine, forged) == 0
    with pytest.raises(InputError):
        save_drafts(engine, forged, "balance:removal", [SQUARE], user="t")
