"""Candidate zones kept with their judgement (``judged_zone_sets`` / ``judged_zones``, migration 0017).

The referee is a fresh computation of the same judgement: ``judged_zones`` (one query over the judgement's rows)
and, independently of the judgement's tables, ``detect_zones_in_store`` on its list of low-efficiency parcels
described by ``describe_in_store``. What was kept must be that frame exactly (columns, dtypes, values to the
bit, order), read back by every later caller; a new load (a new data version, a new judgement) takes the kept
zones away with the old judgement, and the next caller keeps the new ones.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal
from shapely import box

from blockline.cli.zones import _json_bytes, _zones_body
from blockline.services.judged import judge_city
from blockline.services.marks import ensure_marks
from blockline.services.zones import (
    candidate_zone_rows,
    candidate_zones,
    describe_in_store,
    detect_zones_in_store,
    judged_zones,
    keep_candidate_zones,
    kept_rows,
    kept_zones,
)
from geo.load import load_blocklines
from geo.queries import read_parcels
from zoning.policy import get_profile

AS_OF = dt.date(2026, 11, 1)
PROFILE = get_profile("wenzhou-2020")
MIN_MU = float(PROFILE.value("consolidation.min_mu"))
GAP_M = float(PROFILE.value("consolidation.gap_m"))


def _sets(engine: sa.Engine) -> list[tuple[int, float, float, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT judgement_id, min_mu, gap_m, zones FROM judged_zone_sets ORDER BY id")
        ).all()
    return [tuple(r) for r in rows]


def _fresh(engine: sa.Engine, *, geometry: bool = False) -> gpd.GeoDataFrame:
    """The zones computed now from the judgement's list, without its tables of zones or line areas."""
    judgement = judge_city(engine, as_of=AS_OF, profile=PROFILE)
    mark_set = ensure_marks(engine, as_of=AS_OF, profile=PROFILE)
    zones = detect_zones_in_store(
        engine,
        low_efficiency_parcel_nos=judgement.low_efficiency(),
        min_mu=MIN_MU,
        gap_m=GAP_M,
        geometry=geometry,
    )
    return describe_in_store(engine, zones, mark_set=mark_set)


def _zones(engine: sa.Engine, *, geometry: bool = False) -> gpd.GeoDataFrame:
    return candidate_zones(
        engine, as_of=AS_OF, profile=PROFILE, min_mu=MIN_MU, gap_m=GAP_M, geometry=geometry
    )


def test_the_kept_zones_are_a_fresh_computation_and_are_read_back(demo: sa.Engine) -> None:
    judgement = judge_city(demo, as_of=AS_OF, profile=PROFILE)
    first = _zones(demo)  # computed and kept
    assert len(first) > 2 and _sets(demo) == [(judgement.id, MIN_MU, GAP_M, len(first))]
    fresh = judged_zones(
        demo,
        judgement.id,
        mark_set=ensure_marks(demo, as_of=AS_OF, profile=PROFILE),
        min_mu=MIN_MU,
        gap_m=GAP_M,
        geometry=False,
    )
    again = _zones(demo)  # read back
    assert_frame_equal(first, fresh, check_exact=True)
    assert_frame_equal(again, fresh, check_exact=True)
    # and the same as found without the judgement's tables (its list clustered, the lines intersected now)
    assert_frame_equal(
        again.drop(columns="geometry"), _fresh(demo).drop(columns="geometry"), check_exact=False, rtol=1e-12
    )
    assert _sets(demo) == [(judgement.id, MIN_MU, GAP_M, len(first))]  # kept once

    # what is read is what was kept: a kept value changed by hand comes back changed
    with demo.begin() as conn:
        conn.execute(sa.text("UPDATE judged_zones SET holders = holders + 1000 WHERE rank = 0"))
    assert _zones(demo)["holders"].iloc[0] == first["holders"].iloc[0] + 1000


def test_with_geometry_the_zones_are_computed_kept_and_read_back_with_their_members_shapes(
    demo: sa.Engine,
) -> None:
    shown = _zones(demo, geometry=True)  # what the app asks: computed with the geometry, kept without it
    fresh = _fresh(demo, geometry=True)
    assert_frame_equal(
        shown.drop(columns="geometry"), fresh.drop(columns="geometry"), check_exact=False, rtol=1e-12
    )
    assert shown.geometry.geom_equals_exact(fresh.geometry, tolerance=0).all()
    assert [s[3] for s in _sets(demo)] == [len(shown)]
    assert_frame_equal(_zones(demo), shown.assign(geometry=None).set_crs(shown.crs), check_exact=True)

    # asked again with the geometry: the kept rows, each zone's shape collected again from its members, not
    # clustered again (a kept value changed by hand comes back changed); the same frame and the same WKB
    with demo.begin() as conn:
        conn.execute(sa.text("UPDATE judged_zones SET holders = holders + 1000 WHERE rank = 0"))
    again = _zones(demo, geometry=True)
    assert again["holders"].iloc[0] == shown["holders"].iloc[0] + 1000
    assert_frame_equal(
        again.drop(columns=["geometry", "holders"]),
        shown.drop(columns=["geometry", "holders"]),
        check_exact=True,
    )
    assert again.crs == shown.crs and list(again.geometry.to_wkb()) == list(shown.geometry.to_wkb())
    assert len(_sets(demo)) == 1


def test_the_judging_steps_hook_keeps_them_once(demo: sa.Engine) -> None:
    judgement = judge_city(demo, as_of=AS_OF, profile=PROFILE)
    n = keep_candidate_zones(demo, judge_city(demo, as_of=AS_OF, profile=PROFILE), profile=PROFILE)
    assert n > 0 and _sets(demo) == [(judgement.id, MIN_MU, GAP_M, n)]
    again = keep_candidate_zones(demo, judge_city(demo, as_of=AS_OF, profile=PROFILE), profile=PROFILE)
    assert again == n and len(_sets(demo)) == 1
    assert_frame_equal(_zones(demo), _fresh(demo), check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("min_mu", [MIN_MU, MIN_MU / 2])
def test_the_rows_are_the_frames_kept_or_not(demo: sa.Engine, min_mu: float) -> None:
    def rows() -> list:
        return candidate_zone_rows(demo, as_of=AS_OF, profile=PROFILE, min_mu=min_mu, gap_m=GAP_M)

    def frame() -> gpd.GeoDataFrame:
        return candidate_zones(demo, as_of=AS_OF, profile=PROFILE, min_mu=min_mu, gap_m=GAP_M, geometry=False)

    first = rows()  # computed (and kept at the profile's own threshold)
    assert len(first) > 0 and [tuple(r) for r in first] == kept_rows(frame())
    assert [tuple(r) for r in rows()] == [tuple(r) for r in first]  # read back (kept) or computed again
    assert len(_sets(demo)) == (min_mu == MIN_MU)


def test_other_thresholds_are_computed_not_kept(demo: sa.Engine) -> None:
    zones = candidate_zones(
        demo, as_of=AS_OF, profile=PROFILE, min_mu=MIN_MU / 2, gap_m=GAP_M, geometry=False
    )
    assert len(zones) > 0 and _sets(demo) == []


def test_a_set_of_no_zones_is_kept_as_none(demo: sa.Engine) -> None:
    judgement = judge_city(demo, as_of=AS_OF, profile=PROFILE)
    mark_set = ensure_marks(demo, as_of=AS_OF, profile=PROFILE)
    args = {"mark_set": mark_set, "min_mu": 1e9, "gap_m": GAP_M, "geometry": False}
    none = kept_zones(demo, judgement.id, **args)
    assert len(none) == 0 and _sets(demo) == [(judgement.id, 1e9, GAP_M, 0)]
    assert_frame_equal(kept_zones(demo, judgement.id, **args), none)
    assert_frame_equal(none, judged_zones(demo, judgement.id, **args))


def test_a_new_load_takes_the_kept_zones_away_with_its_judgement(demo: sa.Engine, tmp_path: Path) -> None:
    before = judge_city(demo, as_of=AS_OF, profile=PROFILE)
    old = _zones(demo)
    # a level-2 line over the first zone's first parcel: a new data version, new line areas
    parcel = read_parcels(demo, parcel_nos=[old["parcels"].iloc[0][0]])
    path = tmp_path / "level2.gpkg"
    gpd.GeoDataFrame({"名称": ["新二级线"]}, geometry=[box(*parcel.total_bounds)], crs=parcel.crs).to_file(
        path
    )
    load_blocklines(demo, path, level=2, user="test")
    after = judge_city(demo, as_of=AS_OF, profile=PROFILE)
    assert after.id != before.id and _sets(demo) == []  # gone with the old judgement
    new = _zones(demo)
    assert _sets(demo) == [(after.id, MIN_MU, GAP_M, len(new))]
    assert_frame_equal(new.drop(columns="geometry"), _fresh(demo).drop(columns="geometry"), rtol=1e-12)
    assert new["level2_mu"].iloc[0] > old["level2_mu"].iloc[0]


def test_the_json_written_is_jsons_and_orjson_only_where_it_writes_the_same(demo: sa.Engine) -> None:
    zones = _zones(demo)
    body = _zones_body(kept_rows(zones), min_mu=MIN_MU, gap_m=GAP_M, profile=PROFILE, day=AS_OF)

    def dumped(b: dict) -> bytes:
        return (json.dumps(b, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")

    assert _json_bytes(body) == dumped(body)
    # where orjson would write otherwise: a tiny gap (1e-05), an area that is not a number
    odd = body | {"gap_m": 1e-05}
    assert _json_bytes(odd) == dumped(odd) and b'"gap_m": 1e-05' in _json_bytes(odd)
    odd = body | {"zones": [body["zones"][0] | {"area_mu": math.nan}, *body["zones"][1:]]}
    assert _json_bytes(odd) == dumped(odd)
    # a zone without a main county: null, strict JSON (it was NaN, which JSON.parse and jq refuse)
    row = kept_rows(zones)[0]
    body = _zones_body([(*row[:4], None, *row[5:])], min_mu=MIN_MU, gap_m=GAP_M, profile=PROFILE, day=AS_OF)
    assert body["zones"][0]["county_code"] is None and _json_bytes(body) == dumped(body)
    assert json.loads(_json_bytes(body), parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    empty = _zones_body(kept_rows(zones.iloc[:0]), min_mu=MIN_MU, gap_m=GAP_M, profile=PROFILE, day=AS_OF)
    assert empty["zones"] == [] and _json_bytes(empty) == dumped(empty)


@pytest.mark.parametrize("geometry", [False, True])
def test_the_kept_zones_do_not_change_what_is_described(demo: sa.Engine, geometry: bool) -> None:
    zones = _zones(demo, geometry=geometry)
    for z in zones.itertuples():
        assert sum(z.rating_mix.values()) == len(z.parcels) == z.n_parcels
        assert sum(z.rating_mix_mu.values()) == pytest.approx(z.area_mu, rel=1e-9)


def test_todays_judging_keeps_the_zones_at_the_profiles_own_threshold(demo: sa.Engine) -> None:
    """``judge_today`` (what a load, ``blockline demo`` and the warm-up's child run) keeps the candidate zones of
    its judgement, so the first ``zones detect`` after a load reads them; they are those computed now."""
    from blockline.services.judged import judge_today
    from geo.clock import today

    (judgement,) = judge_today(demo)
    with demo.connect() as conn:
        sets = conn.execute(
            sa.text("SELECT count(*) FROM judged_zone_sets WHERE judgement_id = :j"), {"j": judgement.id}
        ).scalar_one()
    assert sets == 1
    profile = get_profile("wenzhou-2020")
    mark_set = ensure_marks(demo, as_of=today(), profile=profile)
    fresh = judged_zones(demo, judgement.id, mark_set=mark_set, min_mu=50.0, gap_m=15.0, geometry=False)
    kept = candidate_zones(demo, as_of=today(), profile=profile, min_mu=50.0, gap_m=15.0, geometry=False)
    assert len(fresh) > 0
    assert_frame_equal(kept.drop(columns="geometry"), fresh.drop(columns="geometry"), check_exact=True)
