"""Approvers in separate processes spending one county's surplus at the same moment (the real CLI).

鹿城 (330302) first records an adjustment that adds a 100 m × 100 m box of new level-1 land: a surplus of
15 亩. Then N approvers, one per other county, each record the removal of a 100 m × 60 m strip (9 亩) of
their county's level 1, covered by a transfer of 9 亩 from 鹿城 (more than half the surplus). Every one of
them reads the balances before any of them writes (a rendezvous in the ``on_checked`` hook), so every
check passes on the same 15 亩; the database must let exactly one through. Expected, worked out by hand:
one exit 0, N − 1 exits 1 ("nothing was written"), 鹿城 left with 15 − 9 = 6 亩 and never below zero, one
new adjustment, one transfer, one new ``adjustment.record`` audit row, and the losers' level 1 untouched.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import box

from blockline.services.balance import standing_balances
from blockline.services.ledger_record import record_adjustment
from tests.faults.conftest import COUNTIES, child_env, county_x, finish, python_m, spawn
from tests.files import WENZHOU_Y0 as Y
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
A = COUNTIES[0]


def _level1_mu(conn: sa.Connection, county: str) -> float:
    return float(
        conn.execute(
            sa.text("""SELECT coalesce(sum(ST_Area(geom)), 0) / (10000.0 / 15) FROM block_lines
        WHERE valid_to IS NULL AND level = 1 AND county_code = :c"""),
            {"c": county},
        ).scalar_one()
    )


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_approvers_spend_a_surplus_once(
    five_counties: sa.Engine, tmp_path: Path, writers: int
) -> None:
    engine = five_counties
    ax = county_x(A)
    record_adjustment(
        engine,
        county=A,
        addition=box(ax + 1000, Y + 1000, ax + 1100, Y + 1100),
        approval_doc="温政函〔2026〕1号",
        user="test",
        profile=WZ,
    )  # 鹿城 +15 亩
    with engine.connect() as conn:
        assert standing_balances(conn)[A] == pytest.approx(15.0)
        audit_before = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit")).scalar_one()

    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    spenders = COUNTIES[1 : 1 + writers]
    procs = {}
    for i, county in enumerate(spenders):
        cx = county_x(county)
        removal = tmp_path / f"remove-{county}.gpkg"
        gpd.GeoDataFrame(geometry=[box(cx + 100, Y + 600, cx + 200, Y + 660)], crs="EPSG:4549").to_file(
            removal, engine="pyogrio"
        )  # 6,000 m² = 9 亩 of the county's level 1
        procs[county] = spawn(
            python_m(
                "tests.faults.workers",
                "record",
                str(rendezvous),
                str(writers),
                "--",
                "balance",
                "record",
                "--county",
                county,
                "--remove",
                str(removal),
                "--doc",
                f"温政函〔2026〕{10 + i}号",
                "--transfer",
                f"{A}:9",
                "--format",
                "json",
            ),
            env=child_env(),
        )

    lowest = 15.0  # 鹿城's balance as any reader sees it while the approvers race
    while any(p.poll() is None for p in procs.values()):
        with engine.connect() as conn:
            lowest = min(lowest, standing_balances(conn)[A])
        time.sleep(0.05)  # leave the two cores to the approvers
    results = {county: finish(p) for county, p in procs.items()}

    codes = sorted(code for code, _, _ in results.values())
    assert codes == [0] + [1] * (writers - 1), results
    assert len(list(rendezvous.glob("arrived-*"))) == writers  # all had read 15 亩 before any wrote
    (winner,) = [c for c, (code, _, _) in results.items() if code == 0]
    recorded = json.loads(results[winner][1])
    assert recorded["county"] == winner and recorded["occupied_mu"] == pytest.approx(9.0)
    for county, (_, _, err) in results.items():
        if county != winner:
            assert "nothing was written" in err and "未写入任何数据" in err and "Traceback" not in err, err
            assert "cannot give 9.00 mu" in err and "6.00" in err  # refused against the balance left: 6 亩

    with engine.connect() as conn:
        balances = standing_balances(conn)
        adjustments = conn.execute(sa.text("SELECT county_code FROM adjustments ORDER BY id")).scalars().all()
        transfers = conn.execute(sa.text("SELECT from_county, to_county, mu FROM quota_transfers")).all()
        audited = conn.execute(
            sa.text("SELECT action, target FROM audit WHERE id > :i"), {"i": audit_before}
        ).all()
        level1 = {c: _level1_mu(conn, c) for c in spenders}
    lowest = min(lowest, balances[A])
    assert lowest >= 0.0
    assert balances[A] == pytest.approx(6.0)
    assert all(balances[c] == pytest.approx(0.0) for c in spenders)
    assert adjustments == [A, winner]
    assert [(f, t, float(mu)) for f, t, mu in transfers] == [(A, winner, 9.0)]
    assert [a for a, _ in audited] == ["adjustment.record"] and winner in audited[0][1]
    assert level1 == {c: pytest.approx(540.0 - 9.0 if c == winner else 540.0) for c in spenders}
