"""The app's sessions share one engine and one pool: Streamlit runs each session in its own thread.

``blockline.ui.data.get_engine`` is ``st.cache_resource`` over ``geo.store.open_store``, which keeps one engine per
database URL for the whole process (pool_size 5 + max_overflow 10). Twenty sessions at once must get that
one engine, and the database must never see more than 15 of its connections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from geo.queries import parcel_totals
from geo.settings import Settings
from geo.store import database_url, open_store

SESSIONS = 20
POOL_LIMIT = 5 + 10


def _at_once(fn: Callable[[], Any], n: int = SESSIONS) -> list[Any]:
    """``fn`` called from ``n`` threads released together."""
    barrier = threading.Barrier(n, timeout=60)

    def run(_: int) -> Any:
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_every_session_gets_the_one_engine(engine: sa.Engine, settings: Settings) -> None:
    from blockline.ui.data import get_engine

    engines = _at_once(lambda: (get_engine(), open_store(settings)))
    assert {id(e) for pair in engines for e in pair} == {id(engine)}
    assert engine.pool.size() == 5


@pytest.fixture
def fresh_engine_settings(settings: Settings) -> Settings:
    """The same database under a URL no engine was opened for yet (its connections named for the test)."""
    url = sa.engine.make_url(database_url(settings)).update_query_dict({"application_name": "bl-faults-pool"})
    return Settings(
        database_url=url.render_as_string(hide_password=False), storage_epsg=settings.storage_epsg
    )


def test_first_open_from_many_threads_and_the_pool_limit(
    engine: sa.Engine, fresh_engine_settings: Settings
) -> None:
    engines = _at_once(lambda: open_store(fresh_engine_settings))
    shared = engines[0]
    assert all(e is shared for e in engines)  # one engine, made once, even when 20 sessions open it together
    try:
        lock = threading.Lock()
        out = {"now": 0, "most": 0}

        def checkout(*_: object) -> None:
            with lock:
                out["now"] += 1
                out["most"] = max(out["most"], out["now"])

        def checkin(*_: object) -> None:
            with lock:
                out["now"] -= 1

        sa.event.listen(shared, "checkout", checkout)
        sa.event.listen(shared, "checkin", checkin)
        server_side: list[int] = []
        done = threading.Event()
        libpq_url = sa.engine.make_url(database_url(fresh_engine_settings)).set(drivername="postgresql")

        def watch() -> None:  # the database's own count of this engine's connections, from outside the pool
            with psycopg.connect(
                libpq_url.render_as_string(hide_password=False),
                application_name="bl-faults-watch",
                autocommit=True,
            ) as conn:
                while not done.is_set():
                    server_side.append(
                        conn.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bl-faults-pool'"
                        ).fetchone()[0]
                    )
                    done.wait(0.02)

        def session() -> tuple[int, int]:
            totals = parcel_totals(shared)
            with shared.connect() as conn:  # a slow page: holds its connection a while
                pid = conn.execute(sa.text("SELECT pg_backend_pid() FROM pg_sleep(0.5)")).scalar_one()
            return pid, totals["parcels"]

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            results = _at_once(session)
        finally:
            done.set()
            watcher.join()
        assert len(results) == SESSIONS and all(n == 0 for _, n in results)
        assert out["most"] == POOL_LIMIT  # all 15 were used, and the other 5 sessions waited for one
        assert len({pid for pid, _ in results}) <= POOL_LIMIT
        assert 5 <= max(server_side) <= POOL_LIMIT
        assert shared.pool.checkedout() == 0
    finally:
        shared.dispose()
