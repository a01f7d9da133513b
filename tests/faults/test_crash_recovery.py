"""The embedded postmaster is killed (``kill -9``) while a backend still runs a long query: the next
``blockline`` command ends that orphaned backend of its own data folder, and only it, and starts.

Before, the new postmaster refused to start ("pre-existing shared memory block is still in use"): the
orphan still held the old shared memory, and nothing ended it. The session's own cluster runs alongside
the whole time and must not lose a single backend.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import psycopg
import sqlalchemy as sa

from geo.cluster import EmbeddedCluster, _processes_in
from tests.faults.conftest import child_env, finish, python_m, spawn, wait_for


def _busy(cluster: EmbeddedCluster, errors: list[BaseException]) -> threading.Thread:
    """A backend of ``cluster`` running a query of minutes that never looks at its postmaster."""

    def run() -> None:
        try:
            with psycopg.connect(
                f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname=postgres"
            ) as c:
                c.execute("SELECT count(*) FROM generate_series(1, 10000000000)")
        except psycopg.Error as exc:
            errors.append(exc)  # its server goes away under it: expected

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_orphaned_backends_of_a_killed_server_are_ended_and_the_server_starts(
    engine: sa.Engine, settings: object
) -> None:
    home = Path(tempfile.mkdtemp(prefix="bl-k-", dir="/tmp"))  # short: the socket path has a length limit
    cluster = EmbeddedCluster(home)
    try:
        cluster.start()
        with psycopg.connect(
            f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname=blockline", autocommit=True
        ) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (9)")
        ours_before = set(_processes_in(Path(settings.home) / "pgdata"))  # type: ignore[attr-defined]
        errors: list[BaseException] = []
        thread = _busy(cluster, errors)
        postmaster = cluster.status().pid
        assert postmaster is not None

        def query_running() -> bool:
            with psycopg.connect(
                f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname=postgres"
            ) as c:
                return bool(
                    c.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                        "'SELECT count(*) FROM generate_series%' AND state = 'active'"
                    ).fetchone()[0]
                )

        wait_for(query_running, timeout_s=30, what="the long query")
        os.kill(postmaster, signal.SIGKILL)
        wait_for(lambda: cluster.status().pid is None, timeout_s=30, what="the postmaster's death")
        orphans = cluster.orphans()
        assert orphans, "the long query's backend should outlive its postmaster"
        code, _, err = finish(
            spawn(python_m("blockline.cli", "db", "up"), env=child_env(BLOCKLINE_HOME=str(home)))
        )
        assert code == 0, err
        assert not any(Path(f"/proc/{p}").exists() and p in _processes_in(cluster.data_dir) for p in orphans)
        thread.join(timeout=30)
        assert not thread.is_alive() and errors
        with psycopg.connect(
            f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname=blockline"
        ) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone()[0] == 9
        # the session's cluster, in another folder, kept every backend and still answers
        assert ours_before <= set(_processes_in(Path(settings.home) / "pgdata"))  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        for pid in cluster.orphans():  # never leave a spinning backend behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
