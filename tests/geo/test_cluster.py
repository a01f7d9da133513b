"""The embedded cluster: created on first use, socket only, survives a stop, a kill and a restart."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from geo.cluster import EmbeddedCluster
from geo.errors import BlocklineError


@pytest.fixture
def cluster():
    home = Path(tempfile.mkdtemp(prefix="bl-c-", dir="/tmp"))
    c = EmbeddedCluster(home)
    yield c
    c.stop()
    shutil.rmtree(home, ignore_errors=True)  # a cluster's files are a few dozen MB: none left in /tmp


def _conn(c: EmbeddedCluster) -> psycopg.Connection:
    return psycopg.connect(f"host={c.socket_dir} port=5432 user=blockline dbname=blockline", autocommit=True)


def test_lifecycle_keeps_committed_data(cluster: EmbeddedCluster) -> None:
    assert not cluster.initialised and not cluster.running
    assert cluster.start() is True
    assert cluster.start() is False  # already running: reused
    with _conn(cluster) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""  # no TCP at all
        assert conn.execute("SHOW unix_socket_permissions").fetchone()[0] == "0700"
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    assert oct(cluster.home.stat().st_mode & 0o777) == "0o700"
    assert cluster.stop() is True
    assert not cluster.running and cluster.status().initialised
    cluster.start()
    with _conn(cluster) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone()[0] == 42


def test_killed_server_comes_back_with_committed_data(cluster: EmbeddedCluster) -> None:
    cluster.start()
    with _conn(cluster) as conn:
        conn.execute("CREATE TABLE t (v int)")
        conn.execute("INSERT INTO t VALUES (7)")
    pid = cluster.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while cluster.running and time.monotonic() < deadline:
        time.sleep(0.1)
    cluster.start()
    with _conn(cluster) as conn:
        assert conn.execute("SELECT v FROM t").fetchone()[0] == 7


def test_status_says_how_it_runs(cluster: EmbeddedCluster) -> None:
    status = cluster.status().as_dict()
    assert status["running"] is False and status["bindir"]
    if os.geteuid() == 0:
        assert "root" in status["runs_as"] or "postgres" in status["runs_as"]
    else:
        assert status["runs_as"] == "current user"


def test_unwritable_home_is_reported(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/blockline-cannot-be-here")  # not creatable even by root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "home"
    with pytest.raises(BlocklineError, match="BLOCKLINE_HOME|writable|可写"):
        EmbeddedCluster(target).start()


def test_too_long_home_is_refused() -> None:
    with pytest.raises(BlocklineError, match="too long"):
        EmbeddedCluster(Path("/tmp/" + "x" * 120)).start()


def test_lost_socket_file_is_recovered_by_a_restart(cluster: EmbeddedCluster) -> None:
    cluster.start()
    with _conn(cluster) as conn:
        conn.execute("CREATE TABLE s (v int)")
        conn.execute("INSERT INTO s VALUES (3)")
    for f in cluster.socket_dir.iterdir():  # as a /tmp cleaner would
        f.unlink()
    assert not cluster.running
    assert cluster.start() is True
    with _conn(cluster) as conn:
        assert conn.execute("SELECT v FROM s").fetchone()[0] == 3
