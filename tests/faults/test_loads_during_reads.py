"""A load in one process while another reads: readers see the store before the load or after it, never half.

The store holds 200 parcels of 30 m × 30 m (1.35 亩 each, 270 亩); another process loads 3,000 more
(4,050 亩). It stops once every row is written but not committed and waits for the reader to have looked:
the reader must still see 200. Then the same file is loaded again with the real CLI: 3,000 parcels are
closed and re-issued in one transaction, and a reader must see 3,200 current parcels throughout, never
6,200 (both versions) nor 200 (neither).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlalchemy as sa

from geo.load import load_parcels
from geo.queries import parcel_totals, read_parcels
from tests.faults.conftest import child_env, finish, python_m, spawn, wait_for, write_grid_parcels
from tests.files import WENZHOU_Y0 as Y


def _look(engine: sa.Engine) -> tuple[tuple[int, float], int]:
    """What a reader sees, in two statements (each its own snapshot, as two widgets of a page): the current
    parcels counted by the database with their 亩, and the number of rows of the parcel list."""
    totals = parcel_totals(engine)
    return (totals["parcels"], round(totals["parcels_mu"], 2)), len(read_parcels(engine, geometry=False))


def _only(looks: list[tuple[tuple[int, float], int]], *states: tuple[int, float]) -> bool:
    """Every look saw one of ``states`` in its count and 亩, and one of their counts in its rows."""
    return all(t in states and n in {s[0] for s in states} for t, n in looks)


def test_readers_see_a_load_all_or_nothing(five_counties: sa.Engine, tmp_path: Path) -> None:
    engine = five_counties
    load_parcels(
        engine, write_grid_parcels(tmp_path / "old.gpkg", 200, prefix="OLD", y0=Y + 800), user="test"
    )
    new_file = write_grid_parcels(tmp_path / "new.gpkg", 3000, prefix="NEW", y0=Y + 1000)
    before, after = (200, 270.0), (3200, 4320.0)
    assert _look(engine) == (before, 200)
    with engine.connect() as conn:
        loads_before = conn.execute(sa.text("SELECT count(*) FROM loads")).scalar_one()

    signals = tmp_path / "signals"
    signals.mkdir()
    loader = spawn(python_m("tests.faults.workers", "load", str(new_file), str(signals)), env=child_env())
    seen: list[tuple[tuple[int, float], int]] = []
    wait_for(
        lambda: (signals / "written").exists() or loader.poll() is not None,
        timeout_s=90,
        what="the loader to write every row",
    )
    assert loader.poll() is None, finish(loader)
    during = [_look(engine) for _ in range(3)]  # all 3,000 rows are in the table, uncommitted
    (signals / "seen").touch()
    while loader.poll() is None:
        seen.append(_look(engine))
        time.sleep(0.02)  # and leave the loader some of the two cores
    code, out, err = finish(loader)
    assert code == 0, err
    assert json.loads(out)["inserted"] == 3000
    seen.append(_look(engine))
    assert during == [(before, 200)] * 3
    assert _only(seen, before, after) and seen[-1] == (after, 3200), seen

    # The same file again, by the CLI: every parcel closed and re-issued in one transaction.
    cli = spawn(python_m("blockline.cli", "load", "parcels", str(new_file)), env=child_env())
    again: list[tuple[tuple[int, float], int]] = []
    while cli.poll() is None:
        again.append(_look(engine))
        time.sleep(0.02)  # and leave the loader some of the two cores
    code, _, err = finish(cli)
    assert code == 0, err
    again.append(_look(engine))
    assert _only(again, after), sorted(set(again))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM loads")).scalar_one() == loads_before + 2
        assert (
            conn.execute(sa.text("SELECT count(*) FROM parcels WHERE valid_to IS NOT NULL")).scalar_one()
            == 3000
        )
    assert len(seen) + len(again) > 10  # the readers really did read while the loads ran
