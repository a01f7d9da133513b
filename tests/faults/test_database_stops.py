"""The database stops in the middle of a load or an adjustment: the caller is told, and nothing is half-written.

A private cluster (not the session's: these tests stop and kill it) holds the five-county city and 200
parcels. A load of 2,000 more is interrupted at each of its stages by stopping the server (``pg_ctl stop
-m fast``) or killing the postmaster (``kill -9``) from the load's own progress callback; an adjustment
is interrupted between its balance check and its first write (``on_checked``). Each time: exit code 3
with a message in Chinese and English, then, the server started again, the store is exactly as before
(parcels, loads, adjustments, block lines, audit rows), and the same work done again succeeds.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely import box
from sqlalchemy.pool import NullPool

from blockline.services.balance import standing_balances
from blockline.services.ledger_record import record_adjustment
from geo.cluster import EmbeddedCluster
from geo.errors import DatabaseUnavailable
from geo.load import load_parcels
from geo.store import migrate
from tests.faults.conftest import COUNTIES, county_x, load_five_county_city, wait_for, write_grid_parcels
from tests.files import WENZHOU_Y0 as Y
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")


class Private:
    def __init__(self, cluster: EmbeddedCluster, engine: sa.Engine, folder: Path) -> None:
        self.cluster, self.engine, self.folder = cluster, engine, folder

    def interrupt(self, how: str) -> None:
        """Stop the server the way a planner's machine might: ``stop`` (db down, a shutdown) or ``kill``."""
        if how == "stop":
            assert self.cluster.stop() is True
            return
        pid = self.cluster.status().pid
        assert pid is not None
        family = [pid, *_children(pid)]
        os.kill(pid, signal.SIGKILL)
        # the backends notice their postmaster is gone and exit; wait for all, so the restart is clean
        wait_for(
            lambda: not any(_alive(p) for p in family), timeout_s=30, what="the killed server's processes"
        )

    def state(self) -> dict[str, object]:
        """Everything an interrupted write could have left behind."""
        with self.engine.connect() as conn:

            def one(sql: str) -> int:
                return int(conn.execute(sa.text(sql)).scalar_one())

            return {
                "parcels": one("SELECT count(*) FROM parcels"),
                "current_parcels": one("SELECT count(*) FROM parcels WHERE valid_to IS NULL"),
                "parcel_cells": one("SELECT count(*) FROM parcel_cells"),
                "loads": one("SELECT count(*) FROM loads"),
                "adjustments": one("SELECT count(*) FROM adjustments"),
                "transfers": one("SELECT count(*) FROM quota_transfers"),
                "block_lines": one("SELECT count(*) FROM block_lines"),
                "current_block_lines": one("SELECT count(*) FROM block_lines WHERE valid_to IS NULL"),
                "audit": one("SELECT count(*) FROM audit"),
                "balances": standing_balances(conn),
            }


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting for its parent to reap it does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.fixture(scope="module")
def private() -> Iterator[Private]:
    home = Path(tempfile.mkdtemp(prefix="bl-f-", dir="/tmp"))  # short: the socket path has a length limit
    cluster = EmbeddedCluster(home)
    cluster.start()
    engine = sa.create_engine(
        cluster.url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"options": "-c jit=off"}
    )
    try:
        owner = sa.create_engine(
            cluster.owner_url, poolclass=NullPool
        )  # the schema's owner migrates, the app writes
        migrate(owner, srid=4549, app_role="blockline_app")
        owner.dispose()
        (home / "files").mkdir()
        load_five_county_city(engine, home / "files")
        load_parcels(
            engine,
            write_grid_parcels(home / "files" / "small.gpkg", 200, prefix="S", y0=Y + 800),
            user="test",
        )
        yield Private(cluster, engine, home / "files")
    finally:
        engine.dispose()
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def db(private: Private) -> Private:
    private.cluster.start()  # running at the start of every test, whatever the last one did
    return private


@pytest.mark.parametrize(
    ("stage", "done", "how", "zh", "en"),
    [
        (
            "读取/reading",
            1,
            "stop",
            "未写入任何数据",
            "nothing was written",
        ),  # file read, transaction not begun
        (
            "写入/writing",
            2000,
            "kill",
            "本次操作已整体撤销",
            "the whole operation was rolled back",
        ),  # inside the COPY
        (
            "地图汇总/map squares",
            0,
            "stop",
            "本次操作已整体撤销",
            "the whole operation was rolled back",
        ),  # all rows in
        (
            "地图汇总/map squares",
            1,
            "kill",
            "本次操作已整体撤销",
            "the whole operation was rolled back",
        ),  # just before commit
    ],
)
def test_server_gone_during_a_load(db: Private, stage: str, done: int, how: str, zh: str, en: str) -> None:
    path = write_grid_parcels(
        db.folder / f"big-{how}-{stage[:2]}{done}.gpkg", 2000, prefix=f"B{how}{done}{stage[:2]}", y0=Y + 1000
    )
    before = db.state()
    stages: list[tuple[str, int]] = []

    def progress(s: str, d: int, total: int) -> None:
        stages.append((s, d))
        if (s, d) == (stage, done):
            db.interrupt(how)

    with pytest.raises(DatabaseUnavailable) as caught:
        load_parcels(db.engine, path, user="test", progress=progress)
    assert (stage, done) in stages
    err = caught.value
    assert err.exit_code == 3
    assert zh in err.zh and "数据库" in err.zh and en in err.en and "database" in err.en
    assert err.fix_zh and err.fix_en and "again" in err.fix_en

    assert db.cluster.start() is True
    assert db.state() == before  # no parcel, no loads row, no audit row, no map square of the failed load
    result = load_parcels(db.engine, path, user="test")
    assert result.inserted == 2000
    after = db.state()
    assert after["current_parcels"] == before["current_parcels"] + 2000
    assert (after["loads"], after["audit"]) == (before["loads"] + 1, before["audit"] + 1)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_server_gone_between_the_check_and_the_write_of_an_adjustment(db: Private, how: str) -> None:
    county = COUNTIES[1 + ["stop", "kill"].index(how)]
    x = county_x(county)
    addition = box(x + 1000, Y + 1000, x + 1100, Y + 1100)  # 15 亩 of new level 1
    before = db.state()
    checked: list[bool] = []

    def on_checked() -> None:
        checked.append(True)
        db.interrupt(how)

    with pytest.raises(DatabaseUnavailable) as caught:
        record_adjustment(
            db.engine,
            county=county,
            addition=addition,
            approval_doc=f"温政函〔2026〕{how}号",
            user="test",
            profile=WZ,
            on_checked=on_checked,
        )
    assert checked == [True]  # the balance was read and checked; the server went before the first write
    err = caught.value
    assert err.exit_code == 3
    assert "本次操作已整体撤销" in err.zh and "rolled back" in err.en

    assert db.cluster.start() is True
    assert db.state() == before  # no adjustment, no new block line, no closed line, no audit row
    _, check = record_adjustment(
        db.engine,
        county=county,
        addition=addition,
        approval_doc=f"温政函〔2026〕{how}号",
        user="test",
        profile=WZ,
    )
    assert check.replaced_mu == pytest.approx(15.0)
    after = db.state()
    assert after["adjustments"] == before["adjustments"] + 1 and after["audit"] == before["audit"] + 1
    assert after["balances"][county] == pytest.approx(before["balances"][county] + 15.0)
