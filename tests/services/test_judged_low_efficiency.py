"""The low-efficiency parcels of a judgement with their area inside the block lines (``judged_low_efficiency``).

The referee is shapely, independently of PostGIS: for a handful of the judgement's low-efficiency parcels, the
parcel's area inside the union of the current lines of each level that meet it, from the geometries read back.
A new load of block lines changes the data version: the next judgement has rows for the new lines and the old
rows are gone with their judgement. A judgement found without its rows (an older release, a crash) gets them
when zones are asked for, the same.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from shapely import box

from blockline.services.judged import judge_city
from blockline.services.zones import candidate_zones
from geo.load import load_blocklines
from geo.queries import read_blocklines, read_parcels
from zoning.policy import get_profile

AS_OF = dt.date(2026, 11, 1)


def _stored(engine: sa.Engine, judgement_id: int) -> dict[str, tuple[float, float]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT parcel_no, level1_m2, level2_m2 FROM judged_low_efficiency WHERE judgement_id = :j"
            ),
            {"j": judgement_id},
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _by_shapely(engine: sa.Engine, parcel_nos: list[str]) -> dict[str, tuple[float, float]]:
    """Each parcel's area (m²) inside the union of the current lines of each level it meets, in shapely."""
    parcels = read_parcels(engine, parcel_nos=parcel_nos)
    out = {}
    lines = {level: read_blocklines(engine, level=level).geometry.to_numpy() for level in (1, 2)}
    for no, geom in zip(parcels["parcel_no"], parcels.geometry, strict=True):
        m2 = []
        for level in (1, 2):
            meeting = [g for g in lines[level] if g.intersects(geom)]
            m2.append(shapely.intersection(geom, shapely.union_all(meeting)).area if meeting else 0.0)
        out[str(no)] = (m2[0], m2[1])
    return out


def _sample(stored: dict[str, tuple[float, float]]) -> list[str]:
    """A handful of parcels: some inside level 1, some inside level 2, some in neither, one in both if any."""
    nos = sorted(stored)
    pick = [n for n in nos if stored[n][0] > 0][:3] + [n for n in nos if stored[n][1] > 0][:3]
    pick += [n for n in nos if stored[n] == (0.0, 0.0)][:2] + [n for n in nos if min(stored[n]) > 0][:1]
    return sorted(set(pick))


def test_the_stored_areas_are_shapelys_and_follow_a_load_of_lines(demo: sa.Engine, tmp_path: Path) -> None:
    profile = get_profile("wenzhou-2020")
    before = judge_city(demo, as_of=AS_OF, profile=profile)
    stored = _stored(demo, before.id)
    # one row per low-efficiency parcel of the judgement (each is a current parcel)
    assert sorted(stored) == before.low_efficiency() and len(stored) > 20
    sample = _sample(stored)
    assert any(stored[n][0] > 0 for n in sample) and any(stored[n][1] > 0 for n in sample)
    expected = _by_shapely(demo, sample)
    for no in sample:
        assert stored[no] == pytest.approx(expected[no], rel=1e-9, abs=1e-6), no

    # new level-2 lines: a box over half of a level-1 parcel's envelope and the whole of another parcel
    a, b = sample[0], sample[-1]
    parcels = read_parcels(demo, parcel_nos=[a, b])
    shapes = dict(zip(parcels["parcel_no"], parcels.geometry, strict=True))
    ga, gb = shapes[a], shapes[b]
    x0, y0, x1, y1 = ga.bounds
    new = [box(x0, y0, (x0 + x1) / 2, y1), gb.envelope.buffer(5)]
    path = tmp_path / "level2.gpkg"
    gpd.GeoDataFrame({"名称": ["新二级线甲", "新二级线乙"]}, geometry=new, crs=parcels.crs).to_file(path)
    load_blocklines(demo, path, level=2, user="test")

    after = judge_city(demo, as_of=AS_OF, profile=profile)
    assert after.computed and after.id != before.id
    assert _stored(demo, before.id) == {}  # gone with its judgement
    stored = _stored(demo, after.id)
    expected = _by_shapely(demo, sample)
    for no in sample:
        assert stored[no] == pytest.approx(expected[no], rel=1e-9, abs=1e-6), no
    assert stored[b][1] == pytest.approx(gb.area, rel=1e-9)  # wholly inside the new level-2 line
    assert 0 < stored[a][1] < ga.area


def test_a_judgement_without_its_rows_gets_them_when_zones_are_asked(demo: sa.Engine) -> None:
    profile = get_profile("wenzhou-2020")
    judgement = judge_city(demo, as_of=AS_OF, profile=profile)
    min_mu, gap_m = float(profile.value("consolidation.min_mu")), float(profile.value("consolidation.gap_m"))
    zones = candidate_zones(demo, as_of=AS_OF, profile=profile, min_mu=min_mu, gap_m=gap_m, geometry=False)
    stored = _stored(demo, judgement.id)
    with demo.begin() as conn:  # as an older release left it (nor zones kept), or a crash emptied the tables
        conn.execute(sa.text("DELETE FROM judged_low_efficiency"))
        conn.execute(sa.text("DELETE FROM judged_zone_sets"))
    again = candidate_zones(demo, as_of=AS_OF, profile=profile, min_mu=min_mu, gap_m=gap_m, geometry=False)
    assert len(zones) > 0 and _stored(demo, judgement.id) == stored
    assert again.drop(columns="geometry").equals(zones.drop(columns="geometry"))
