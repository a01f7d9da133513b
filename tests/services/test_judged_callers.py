"""Who asks the stored judgement (blockline.services.judged): the loads judge today's city after their commit, and the
pages' data functions, the map's marks and the candidate zones read it instead of judging themselves.

The referee is, as in test_judged.py, a fresh judgement in memory by the rules of ``zoning`` on the parcels
read row by row (the way the pages read them before): each caller's answer must be what the old code
computed, and the ``judgements`` table must show that the city was judged once, by whom, and served since.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal

from blockline.services.zones import describe_zones_in_store, detect_zones_in_store
from geo.tiles import has_marks
from zoning.findings import findings_json
from zoning.idle import idle_findings, low_efficiency
from zoning.lifecycle import lifecycle_findings
from zoning.marks import parcel_marks
from zoning.policy import get_profile

from .test_judged import _judgements, _rows_read

#: the office's clock for the commands started here (BLOCKLINE_NOW): "today" is 2026-11-01 in Asia/Shanghai
NOW = "2026-11-01T09:00:00+08:00"
TODAY = dt.date(2026, 11, 1)
EXE = Path(sys.executable).with_name("blockline")


def _run(argv: list[str], **env: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """A ``blockline`` process with the office's clock at NOW: its result and its pid."""
    proc = subprocess.Popen(
        [str(EXE), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BLOCKLINE_NOW": NOW, **env},
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), proc.pid


def test_the_demo_and_a_load_judge_today_and_the_next_process_is_served(
    engine: sa.Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
    demo, pid = _run(["demo", "--parcels", "400", "--seed", "4", "--format", "json"])
    assert json.loads(demo.stdout)["inserted"] == 400  # the load's own JSON, unchanged on stdout
    assert "judged and stored" in demo.stderr and "2026-11-01 wenzhou-2020" in demo.stderr
    ((jid, profile, as_of, judged_at, judged_by, served),) = _judgements(engine)
    assert (profile, as_of, served, judged_by) == ("wenzhou-2020", TODAY, 0, f"{socket.gethostname()}:{pid}")
    # the next process asking today's idle land reads it: not judged again, counted as served
    idle, _ = _run(["idle", "--format", "json"])
    assert _judgements(engine) == [(jid, profile, as_of, judged_at, judged_by, 1)]
    parcels, _ = _rows_read(engine)
    fresh = idle_findings(parcels, as_of=TODAY, profile=get_profile("wenzhou-2020"))
    expected = json.loads(
        json.dumps(findings_json(fresh, as_of=TODAY, profile=get_profile("wenzhou-2020")), ensure_ascii=False)
    )
    assert json.loads(idle.stdout) == expected and expected["parcels"]
    # a ratings load (new data) judges again in the load's process; the judgement of the old data is gone
    with engine.connect() as conn:
        no = conn.execute(sa.text("SELECT min(parcel_no) FROM parcels WHERE valid_to IS NULL")).scalar_one()
    (tmp_path / "r.csv").write_text(f"parcel_no,year,grade\n{no},2025,D\n", encoding="utf-8")
    ratings, pid = _run(["load", "ratings", str(tmp_path / "r.csv")])
    assert "judged and stored" in ratings.stdout
    ((jid2, _, as_of2, _, judged_by2, served2),) = _judgements(engine)
    assert jid2 != jid and (as_of2, served2, judged_by2) == (TODAY, 0, f"{socket.gethostname()}:{pid}")


def test_a_load_that_changes_nothing_judges_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
    (tmp_path / "r.csv").write_text("parcel_no,year,grade\nNONE-1,2025,D\n", encoding="utf-8")
    proc = subprocess.run(
        [str(EXE), "load", "ratings", str(tmp_path / "r.csv")],
        capture_output=True,
        text=True,
        env={**os.environ, "BLOCKLINE_NOW": NOW},
        timeout=300,
    )
    assert "judged" not in proc.stdout + proc.stderr  # an empty store: no parcels, no judgement
    assert _judgements(engine) == []


def test_the_judgement_writes_the_maps_marks_and_ensure_marks_reads_them(demo: sa.Engine) -> None:
    from blockline.services.judged import judge_city
    from blockline.services.marks import ensure_marks, mark_set_name

    profile = get_profile("wenzhou-2020")
    parcels, ratings = _rows_read(demo)
    fresh = parcel_marks(parcels, ratings, as_of=TODAY, profile=profile).sort_values(
        "parcel_no", ignore_index=True
    )
    assert fresh["idle"].notna().any() and fresh["lifecycle"].notna().any() and fresh["grade"].notna().any()

    def stored(name: str) -> pd.DataFrame:
        with demo.connect() as conn:
            frame = pd.read_sql(
                sa.text(
                    "SELECT parcel_no, idle, lifecycle, grade FROM parcel_marks "
                    "WHERE mark_set = :s ORDER BY parcel_no"
                ),
                conn,
                params={"s": name},
            )
        return frame.astype(object).where(frame.notna(), None)

    judgement = judge_city(demo, as_of=TODAY, profile=profile)
    name = mark_set_name(demo, as_of=TODAY, profile=profile)
    assert has_marks(demo, name)  # written with the judgement
    assert_frame_equal(stored(name), fresh, check_exact=True)
    assert ensure_marks(demo, as_of=TODAY, profile=profile) == name
    # marks lost (or a judgement kept before marks were): derived from the stored findings, not judged again
    with demo.begin() as conn:
        conn.execute(sa.text("DELETE FROM parcel_marks"))
    assert ensure_marks(demo, as_of=TODAY, profile=profile) == name
    assert_frame_equal(stored(name), fresh, check_exact=True)
    ((jid, *_, served),) = _judgements(demo)
    assert jid == judgement.id and served == 1


def test_the_pages_data_is_the_stored_judgement(demo: sa.Engine) -> None:
    """The idle page's list, the lifecycle work list and the candidate zones: what the old code computed from
    a fresh read, but from one judgement, judged once and then served."""
    from blockline.services.reports import idle_report
    from blockline.ui.lifecycle_view import lifecycle_report, work_list
    from blockline.ui.zones_view import candidates

    profile = get_profile("wenzhou-2020")
    parcels, ratings = _rows_read(demo)
    facts = parcels[["parcel_no", "holder", "county_code", "area_mu"]]
    idle = idle_findings(parcels, as_of=TODAY, profile=profile)
    life = lifecycle_findings(parcels, ratings, as_of=TODAY, profile=profile)

    report = idle_report(demo, as_of=TODAY, profile=profile)
    expected = idle.drop(columns=["figures"]).merge(facts, on="parcel_no", how="left")
    assert_frame_equal(report, expected, check_exact=True)
    assert len(_judgements(demo)) == 1  # the first caller judged

    work = lifecycle_report(demo, TODAY, "wenzhou-2020")
    assert_frame_equal(work, work_list(parcels, idle, life), check_exact=True)
    assert len(work) > 10

    low = low_efficiency(parcels, ratings, as_of=TODAY, profile=profile)
    min_mu, gap_m = float(profile.value("consolidation.min_mu")), float(profile.value("consolidation.gap_m"))
    old = detect_zones_in_store(
        demo,
        low_efficiency_parcel_nos=list(parcels.loc[low.to_numpy(), "parcel_no"]),
        min_mu=min_mu,
        gap_m=gap_m,
    )
    old = describe_zones_in_store(demo, old, ratings=ratings, as_of=TODAY)
    zones = candidates(demo, as_of=TODAY, profile=profile, min_mu=min_mu, gap_m=gap_m)
    assert len(old) > 0
    # the block-line areas are overlays of the same shapes taken in another order (a lateral join through the
    # lines' index against the union of the zone's lines): GEOS may differ in the last bits, never by 1e-9 亩
    assert_frame_equal(
        pd.DataFrame(zones.drop(columns="geometry")),
        pd.DataFrame(old.drop(columns="geometry")),
        check_exact=False,
        rtol=1e-12,
        atol=1e-9,
    )
    assert zones.geometry.geom_equals_exact(old.geometry, tolerance=0).all()
    ((_, _, _, _, judged_by, served),) = _judgements(
        demo
    )  # one judgement, by this process, served twice since
    assert judged_by == f"{socket.gethostname()}:{os.getpid()}" and served == 2


def test_zones_detect_from_the_store_is_the_in_memory_detect_on_the_demo_city(demo: sa.Engine) -> None:
    """``blockline zones detect --format json`` (clustered and described in PostGIS, grades from the stored
    marks) gives the zones ``detect_zones`` and ``describe_zones`` find in memory on the parcels and lines."""
    from geo.queries import read_blocklines, read_parcels, read_ratings
    from zoning.consolidation import describe_zones, detect_zones

    profile = get_profile("wenzhou-2020")
    parcels = read_parcels(demo)
    ratings = read_ratings(demo)
    parcels["low_efficiency"] = low_efficiency(parcels, ratings, as_of=TODAY, profile=profile).to_numpy()
    min_mu, gap_m = float(profile.value("consolidation.min_mu")), float(profile.value("consolidation.gap_m"))
    zones = detect_zones(parcels, min_mu=min_mu, gap_m=gap_m)
    zones = describe_zones(
        zones,
        parcels,
        level1=read_blocklines(demo, level=1),
        level2=read_blocklines(demo, level=2),
        ratings=ratings,
        as_of=TODAY,
    )
    proc, _ = _run(["zones", "detect", "--format", "json"])
    got = json.loads(proc.stdout)["zones"]
    assert len(got) == len(zones) > 0
    for z, row in zip(got, zones.itertuples(), strict=True):
        assert (z["zone_id"], z["parcels"], z["holders"], z["county_code"]) == (
            row.zone_id,
            list(row.parcels),
            row.holders,
            row.county_code,
        )
        assert z["area_mu"] == pytest.approx(round(float(row.area_mu), 2), abs=0.006)
        assert z["block_line_levels"] == list(row.block_line_levels) and z["rating_mix"] == row.rating_mix
