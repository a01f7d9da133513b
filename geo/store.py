"""The store: a PostgreSQL + PostGIS database, embedded or given by URL, kept at the newest schema.

Examples
--------
>>> url = database_url(Settings(database_url="postgresql://u@h/db"), start=False)
>>> url
'postgresql+psycopg://u@h/db'
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from geo.cluster import EmbeddedCluster
from geo.errors import BlocklineError, DatabaseUnavailable, OutcomeUnknown
from geo.settings import Settings, get_settings

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "database_url",
    "owner_database_url",
    "cluster_for",
    "grant_app_role",
    "grant_sql",
    "role_problems",
    "open_store",
    "close_store",
    "migrate",
    "schema_revision",
    "head_revision",
    "storage_srid",
    "connected",
    "driver_connection",
    "transaction",
    "SERIALIZATION_FAILURES",
    "first_line",
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


def owner_database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The URL of the schema's owner (migrations, dump, restore).

    The embedded cluster's owner role, else ``BLOCKLINE_OWNER_DATABASE_URL``, else ``BLOCKLINE_DATABASE_URL``
    itself.
    """
    settings = settings or get_settings()
    if settings.database_url:
        return settings.owner_database_url or settings.database_url
    cluster = cluster_for(settings)
    if start:
        cluster.start()
    return cluster.owner_url


def _alembic_config(connection: Connection, srid: int) -> Config:
    from alembic.config import Config  # lazy: alembic is needed only to upgrade (+0.2 s on every command)

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["srid"] = srid
    return cfg


def schema_revision(connection: Connection) -> str | None:
    """The migration revision the database is at (None for an empty database).

    What alembic's ``MigrationContext.get_current_revision`` reads, without importing alembic (every command
    opens the store and asks this; alembic is needed only to upgrade).
    """
    if connection.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


_REVISION_LINE = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*["\']?([^"\'\s]+)', re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest migration: the revision no other migration revises (alembic's head, without alembic).

    From the ``revision`` / ``down_revision`` lines of the migrations; tests/geo/test_store.py checks it is alembic's.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else revised).add(value)
    heads = revisions - revised
    if len(heads) != 1:
        raise BlocklineError(
            f"数据库迁移脚本应有唯一的最新版本，实有 {sorted(heads)}",
            f"the migrations should have one head, they have {sorted(heads)}",
            file=str(_MIGRATIONS / "versions"),
            fix_zh="检查迁移脚本的 revision / down_revision",
            fix_en="check the migrations' revision / down_revision lines",
        )
    return heads.pop()


def migrate(engine: Engine, *, srid: int, app_role: str | None = None) -> str:
    """Bring the schema to the newest revision; an older database is upgraded, never dropped.

    ``engine`` connects as the schema's owner. With ``app_role``, that role is granted what the app needs and
    no more (see :func:`grant_app_role`) after an upgrade, or when it lacks it.
    """
    head = head_revision()
    with engine.connect() as conn:
        # One migrator at a time, even when several processes open the store at once.
        conn.execute(sa.text("SELECT pg_advisory_lock(726354)"))
        try:
            upgraded = schema_revision(conn) != head
            if upgraded:
                from alembic import command  # lazy: see _alembic_config

                conn.commit()
                command.upgrade(_alembic_config(conn, srid), "head")
                conn.commit()
            if app_role and (upgraded or _lacks_grants(conn, app_role)):
                grant_app_role(conn, app_role)
                conn.commit()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(726354)"))
            conn.commit()
    return head or ""


_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
#: what the app's role may do: rows of every table, but of the audit trail only read and append; never the
#: audit chain's head, the setup flag, the schema's version or its SRID; no table it owns, so no ALTER,
#: DISABLE TRIGGER, DROP or TRUNCATE
_GRANTS = """
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO "{app}"', t);
    END LOOP;
    FOR t IN SELECT format('%I', viewname) FROM pg_views WHERE schemaname = 'public' AND viewowner = current_user
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO "{app}"', t);
    END LOOP;
END $$;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit FROM "{app}";
REVOKE ALL ON audit_chain FROM "{app}";
GRANT SELECT ON audit_chain TO "{app}";
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON setup_ended, store_meta, alembic_version FROM "{app}";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app}";
"""


def grant_sql(app_role: str) -> str:
    """The SQL that grants ``app_role`` what the app needs on the tables the running role owns."""
    if not _ROLE_NAME.match(app_role):
        raise BlocklineError(
            f"角色名不合法：{app_role}",
            f"not a role name: {app_role}",
            fix_zh="使用字母、数字和下划线",
            fix_en="use letters, digits and underscores",
        )
    return _GRANTS.replace("{app}", app_role)


def grant_app_role(conn: Connection, app_role: str) -> None:
    """Grant ``app_role`` what the app needs on the tables the connection's role owns (run as the owner)."""
    conn.exec_driver_sql(grant_sql(app_role).replace("%", "%%"))  # psycopg formats even with no parameters


def _lacks_grants(conn: Connection, app_role: str) -> bool:
    return not conn.execute(
        sa.text("""
        SELECT to_regrole(:r) IS NOT NULL AND has_table_privilege(:r, 'audit', 'INSERT')
               AND has_table_privilege(:r, 'users', 'UPDATE')"""),
        {"r": app_role},
    ).scalar_one()


#: (zh, en, query): each query returns the names of what is wrong for the connection's role, none when right
_ROLE_CHECKS = (
    (
        "是超级用户",
        "is a superuser",
        "SELECT rolname FROM pg_roles WHERE rolname = current_user AND rolsuper",
    ),
    (
        "可建角色、数据库或绕过行级安全",
        "may create roles or databases, or bypass row security",
        "SELECT rolname FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolcreatedb OR rolbypassrls)",
    ),
    (
        "拥有（可改、可删、可停触发器）",
        "owns (so may alter, drop, disable triggers of)",
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND pg_has_role(current_user, c.relowner, 'USAGE')
        UNION ALL SELECT 'schema public' FROM pg_namespace
        WHERE nspname = 'public' AND pg_has_role(current_user, nspowner, 'USAGE')
        UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND left(p.proname, 9) = 'blockline'
          AND pg_has_role(current_user, p.proowner, 'USAGE')""",
    ),
    (
        "可在 public 模式中建对象",
        "may create objects in schema public",
        "SELECT 'public' WHERE has_schema_privilege('public', 'CREATE')",
    ),
    (
        "可清空（TRUNCATE）",
        "may TRUNCATE",
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND has_table_privilege(c.oid, 'TRUNCATE')""",
    ),
    (
        "可改写或删除审计记录",
        "may UPDATE, DELETE or add triggers to the audit trail",
        """SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRIGGER', 'REFERENCES']) p
        WHERE has_table_privilege('public.audit', p)""",
    ),
    (
        "可改写审计链",
        "may touch the audit chain's head",
        """SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
        WHERE has_table_privilege('public.audit_chain', p)""",
    ),
    (
        "不能读或追加审计记录",
        "may not read or append to the audit trail",
        """SELECT p FROM unnest(ARRAY['SELECT', 'INSERT']) p WHERE NOT has_table_privilege('public.audit', p)""",
    ),
    (
        "可运行服务器程序或读写服务器文件",
        "may run programs or read and write files on the server",
        """SELECT rolname FROM pg_roles WHERE rolname IN ('pg_execute_server_program', 'pg_write_server_files',
        'pg_read_server_files') AND pg_has_role(current_user, oid, 'USAGE')""",
    ),
    (
        "审计触发器已停用或缺失",
        "audit triggers disabled or missing",
        """SELECT t FROM unnest(ARRAY['audit_append_only', 'audit_no_truncate', 'audit_chain']) t
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = 'public.audit'::regclass
                          AND g.tgname = t AND g.tgenabled = 'O')""",
    ),
)


def role_problems(conn: Connection) -> list[dict[str, str]]:
    """What is wrong with the connection's role for an app that may read and append, never rewrite.

    Returns
    -------
    list of dict
        One per problem: ``zh``, ``en`` and ``objects`` (what it concerns); empty when the role is right.
    """
    problems = []
    for zh, en, sql in _ROLE_CHECKS:
        names = [str(n) for n in conn.execute(sa.text(sql)).scalars()]
        if names:
            problems.append({"zh": zh, "en": en, "objects": ", ".join(names)})
    return problems


def storage_srid(conn: Connection) -> int:
    """The SRID every geometry of this database is stored in."""
    return int(conn.execute(sa.text("SELECT value FROM store_meta WHERE key = 'storage_srid'")).scalar_one())


@contextmanager
def connected(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection of ``bind``: a new one of an engine (closed after), or the connection itself (left open).

    So that a reader can read inside the caller's transaction, in its snapshot, when it is given one.
    """
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def driver_connection(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under ``conn``, for what SQLAlchemy does not do (``COPY``).

    Raises ``TypeError`` when there is none: ``conn`` was closed or invalidated, or is not psycopg's.
    """
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"no psycopg connection under {conn!r}: {raw!r}")
    return raw


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
    owner_url = owner_database_url(settings, start=False)
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        # JIT compilation costs ~0.7 s on the large estimated costs of spatial window and aggregate queries
        # (ST_ClusterDBSCAN, bulk INSERT ... SELECT) and gains nothing on queries of a second: off.
        engine = sa.create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"options": "-c jit=off"}
        )
        try:
            _migrate_as_owner(owner_url, url, srid=settings.storage_epsg)
            with engine.connect() as conn:
                srid = storage_srid(conn)
        except sa.exc.OperationalError as exc:
            engine.dispose()
            raise DatabaseUnavailable(
                f"无法连接数据库：{first_line(exc)}",
                f"cannot reach the database: {first_line(exc)}",
                file=safe_url(url),
                fix_zh="检查 BLOCKLINE_DATABASE_URL 与数据库服务；内置数据库可用 blockline db up 启动",
                fix_en="check BLOCKLINE_DATABASE_URL and the database server; "
                "start the embedded one with blockline db up",
            ) from exc
        except sa.exc.ProgrammingError as exc:
            engine.dispose()
            raise BlocklineError(
                f"数据库结构升级失败：{first_line(exc)}",
                f"the schema migration failed: {first_line(exc)}",
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


def close_store(settings: Settings | None = None) -> None:
    """Close this process's engine on the store (before it is deleted): the next ``open_store`` migrates anew."""
    url = database_url(settings or get_settings(), start=False)
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _migrate_as_owner(owner_url: str, app_url: str, *, srid: int) -> None:
    """Migrate through the owner's URL (one short connection); grant the app's role when it is another."""
    app_role = sa.engine.make_url(app_url).username
    owner_role = sa.engine.make_url(owner_url).username
    owner = sa.create_engine(owner_url, poolclass=NullPool)
    try:
        migrate(
            owner, srid=srid, app_role=app_role if owner_url != app_url and app_role != owner_role else None
        )
    finally:
        owner.dispose()


@contextmanager
def transaction(engine: Engine, *, serializable: bool = False) -> Iterator[Connection]:
    """One transaction: everything inside commits together or not at all.

    The COMMIT is its own step, so a connection lost before it (nothing is written) is told apart from one
    lost after it was sent (the server may have committed: the outcome is unknown).

    Raises
    ------
    DatabaseUnavailable
        When the database cannot be reached, or the connection is lost before the commit (nothing is written).
    OutcomeUnknown
        When the connection is lost after COMMIT was sent: the work may or may not be written.
    """
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        # e.g. the server was stopped while a large file was being read, before anything was written
        raise DatabaseUnavailable(
            f"无法连接数据库，未写入任何数据：{first_line(exc)}",
            f"cannot reach the database; nothing was written: {first_line(exc)}",
            fix_zh="检查数据库服务（内置数据库可用 blockline db up 启动）后重新执行",
            fix_en="check the database server (start the embedded one with blockline db up), "
            "then run the command again",
        ) from exc
    if serializable:
        conn = conn.execution_options(isolation_level="SERIALIZABLE")
    try:
        tx = conn.begin()
        try:
            yield conn
        except BaseException as exc:
            _rollback_quietly(tx)
            if isinstance(exc, sa.exc.OperationalError | psycopg.OperationalError):
                # psycopg's own errors come from the raw connection the bulk loads COPY through
                if getattr(getattr(exc, "orig", exc), "sqlstate", None) in SERIALIZATION_FAILURES:
                    raise  # not a fault: another transaction won; the caller may retry
                raise DatabaseUnavailable(
                    f"数据库连接中断，本次操作已整体撤销：{first_line(exc)}",
                    f"the database connection failed; the whole operation was rolled back: {first_line(exc)}",
                    fix_zh="数据库恢复后重新执行",
                    fix_en="run the command again once the database is back",
                ) from exc
            raise
        commit(tx)
    finally:
        conn.close()


def commit(tx: sa.engine.Transaction) -> None:
    """Send COMMIT; a connection lost once it was sent is ``OutcomeUnknown``, never "rolled back".

    A refusal the server answers (a serialization failure, a deferred constraint: SQLSTATE class 40 or 23)
    is raised as it is, since the server rolled the transaction back and said so.
    """
    try:
        tx.commit()
    except sa.exc.DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None) or ""
        if state[:2] in ("40", "23"):
            raise
        raise OutcomeUnknown(
            f"提交（COMMIT）已发出后数据库连接中断，结果未知，可能已写入：{first_line(exc)}",
            f"the database connection was lost after COMMIT was sent; the outcome is unknown and the work may "
            f"have been written: {first_line(exc)}",
            fix_zh="数据库恢复后先查看是否已写入（blockline audit 与审计页列出每次写入），再决定是否重新执行",
            fix_en="once the database is back, look whether it was written (blockline audit and the audit page "
            "list every write) before running it again",
        ) from exc


def _rollback_quietly(tx: sa.engine.Transaction) -> None:
    """Roll back ``tx``; when the connection is gone, the server rolls back what it had."""
    with contextlib.suppress(sa.exc.DBAPIError):
        tx.rollback()


def first_line(exc: BaseException) -> str:
    r"""The first line of a database error's message (the driver's, under SQLAlchemy's wrapper), for a sentence.

    Examples
    --------
    >>> first_line(RuntimeError("server closed the connection\n\tThis probably means…"))
    'server closed the connection'
    """
    text = str(getattr(exc, "orig", exc)) or exc.__class__.__name__
    return text.strip().splitlines()[0]


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and status lines."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)
