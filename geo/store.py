"""The store: a PostgreSQL + PostGIS database, embedded or given by URL, kept at the newest schema.

Examples
--------
>>> url = database_url(Settings(database_url="postgresql://u@h/db"), start=False)
>>> url
'postgresql+psycopg://u@h/db'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from geo.cluster import EmbeddedCluster
from geo.errors import BlocklineError, DatabaseUnavailable
from geo.settings import Settings, get_settings

__all__ = [
    "database_url",
    "cluster_for",
    "open_store",
    "migrate",
    "schema_revision",
    "storage_srid",
    "transaction",
    "SERIALIZATION_FAILURES",
    "safe_url",
]

#: SQLSTATEs of a transaction that lost to a concurrent one (serialization failure, deadlock)
SERIALIZATION_FAILURES = ("40001", "40P01")
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def cluster_for(settings: Settings) -> EmbeddedCluster:
    """The embedded cluster these settings describe."""
    return EmbeddedCluster(settings.home, bindir=settings.pg_bindir, database=settings.database_name)


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The database URL: ``BLOCKLINE_DATABASE_URL``, or the embedded cluster's (started when ``start``)."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    cluster = cluster_for(settings)
    if start:
        cluster.start()
    return cluster.url


def _alembic_config(connection: Connection, srid: int) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["srid"] = srid
    return cfg


def schema_revision(connection: Connection) -> str | None:
    """The migration revision the database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, *, srid: int) -> str:
    """Bring the schema to the newest revision; an older database is upgraded, never dropped."""
    head = ScriptDirectory(str(_MIGRATIONS)).get_current_head()
    with engine.connect() as conn:
        # One migrator at a time, even when several processes open the store at once.
        conn.execute(sa.text("SELECT pg_advisory_lock(726354)"))
        try:
            if schema_revision(conn) != head:
                conn.commit()
                command.upgrade(_alembic_config(conn, srid), "head")
                conn.commit()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(726354)"))
            conn.commit()
    return head or ""


def storage_srid(conn: Connection) -> int:
    """The SRID every geometry of this database is stored in."""
    return int(conn.execute(sa.text("SELECT value FROM store_meta WHERE key = 'storage_srid'")).scalar_one())


def open_store(settings: Settings | None = None) -> Engine:
    """An engine on an up-to-date store, shared by every caller in the process (one pool).

    Raises
    ------
    DatabaseUnavailable
        When the database cannot be reached.
    BlocklineError
        When the database was created with another storage CRS than the settings name.
    """
    settings = settings or get_settings()
    url = database_url(settings)
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        # JIT compilation costs ~0.7 s on the large estimated costs of spatial window and aggregate queries
        # (ST_ClusterDBSCAN, bulk INSERT ... SELECT) and gains nothing on queries of a second: off.
        engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                  connect_args={"options": "-c jit=off"})
        try:
            migrate(engine, srid=settings.storage_epsg)
            with engine.connect() as conn:
                srid = storage_srid(conn)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise DatabaseUnavailable(
                f"无法连接数据库：{_first_line(exc)}",
                f"cannot reach the database: {_first_line(exc)}",
                file=safe_url(url),
                fix_zh="检查 BLOCKLINE_DATABASE_URL 与数据库服务；内置数据库可用 blockline db up 启动",
                fix_en="check BLOCKLINE_DATABASE_URL and the database server; start the embedded one with blockline db up",
            ) from exc
        except sa.exc.ProgrammingError as exc:
            engine.dispose()
            raise BlocklineError(
                f"数据库结构升级失败：{_first_line(exc)}",
                f"the schema migration failed: {_first_line(exc)}",
                file=safe_url(url),
                fix_zh="确认数据库已安装 PostGIS 扩展且当前用户有建表权限",
                fix_en="make sure the PostGIS extension is available and the user may create tables",
            ) from exc
        if srid != settings.storage_epsg:
            engine.dispose()
            raise BlocklineError(
                f"数据库以 EPSG:{srid} 存储，而设置为 EPSG:{settings.storage_epsg}",
                f"the database stores EPSG:{srid} but the settings say EPSG:{settings.storage_epsg}",
                file=safe_url(url),
                fix_zh=f"设置 BLOCKLINE_STORAGE_EPSG={srid}，或使用新的数据库",
                fix_en=f"set BLOCKLINE_STORAGE_EPSG={srid}, or use a new database",
            )
        _engines[url] = engine
        return engine


@contextmanager
def transaction(engine: Engine, *, serializable: bool = False) -> Iterator[Connection]:
    """One transaction: everything inside commits together or not at all.

    Raises
    ------
    DatabaseUnavailable
        When the database cannot be reached, or the connection is lost before the commit (nothing is written).
    """
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        # e.g. the server was stopped while a large file was being read, before anything was written
        raise DatabaseUnavailable(
            f"无法连接数据库，未写入任何数据：{_first_line(exc)}",
            f"cannot reach the database; nothing was written: {_first_line(exc)}",
            fix_zh="检查数据库服务（内置数据库可用 blockline db up 启动）后重新执行",
            fix_en="check the database server (start the embedded one with blockline db up), then run the command again",
        ) from exc
    if serializable:
        conn = conn.execution_options(isolation_level="SERIALIZABLE")
    try:
        with conn.begin():
            yield conn
    except (sa.exc.OperationalError, psycopg.OperationalError) as exc:
        # psycopg's own errors come from the raw connection the bulk loads COPY through
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) in SERIALIZATION_FAILURES:
            raise  # not a fault: another transaction won; the caller may retry
        raise DatabaseUnavailable(
            f"数据库连接中断，本次操作已整体撤销：{_first_line(exc)}",
            f"the database connection failed; the whole operation was rolled back: {_first_line(exc)}",
            fix_zh="数据库恢复后重新执行", fix_en="run the command again once the database is back",
        ) from exc
    finally:
        conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or exc.__class__.__name__
    return text.strip().splitlines()[0]


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and status lines."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)
