"""The schema: migrations to head, one storage CRS, spatial indexes once, checks in the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from geo.errors import BlocklineError
from geo.settings import Settings
from geo.store import _alembic_config, migrate, open_store, schema_revision, storage_srid

HEAD = "0019"


@pytest.fixture
def superuser(engine: sa.Engine, settings: Settings) -> Iterator[sa.Engine]:
    """The cluster's superuser: only it may make databases (and PostGIS in them)."""
    from geo.store import cluster_for

    if not settings.embedded:
        pytest.skip("makes databases in the embedded cluster")
    su = sa.create_engine(cluster_for(settings).superuser_url, isolation_level="AUTOCOMMIT")
    yield su
    su.dispose()


def test_a_database_at_an_older_revision_is_upgraded_with_its_data(superuser: sa.Engine) -> None:
    from alembic import command

    with superuser.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS bl_older"))
        conn.execute(sa.text("CREATE DATABASE bl_older"))
    older = sa.create_engine(superuser.url.set(database="bl_older"))
    try:
        with older.connect() as conn:
            command.upgrade(_alembic_config(conn, 4549), "0001")
            conn.commit()
            conn.execute(
                sa.text("""INSERT INTO parcels (parcel_no, area_mu, created_by, geom) VALUES
                ('OLD-1', 15, 't', ST_Multi(ST_MakeEnvelope(0, 0, 100, 100, 4549)))""")
            )
            conn.commit()
            assert schema_revision(conn) == "0001"
        migrate(older, srid=4549)
        with older.connect() as conn:
            assert schema_revision(conn) == HEAD
            assert conn.execute(sa.text("SELECT parcel_no FROM parcels")).scalar_one() == "OLD-1"
    finally:
        older.dispose()
        with superuser.connect() as conn:
            conn.execute(sa.text("DROP DATABASE bl_older"))


def test_schema_at_head_with_one_gist_index_per_geometry(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert schema_revision(conn) == HEAD
        assert storage_srid(conn) == 4549
        columns = conn.execute(
            sa.text("SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns ORDER BY 1, 2")
        ).all()
        indexes = conn.execute(
            sa.text("""
            SELECT t.relname, a.attname, count(*) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_am am ON am.oid = c.relam JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
            WHERE am.amname = 'gist' GROUP BY 1, 2""")
        ).all()
    assert {(t, g) for t, g, _, _ in columns} >= {
        ("admin_areas", "geom"),
        ("block_lines", "geom"),
        ("parcels", "geom"),
        ("zones", "geom"),
        ("adjustments", "removal_geom"),
        ("adjustments", "addition_geom"),
    }
    assert all(kind == "MULTIPOLYGON" and srid == 4549 for _, _, kind, srid in columns)
    assert all(n == 1 for _, _, n in indexes)  # never two spatial indexes on one column
    assert {t for t, _, _ in indexes} >= {"admin_areas", "block_lines", "parcels", "zones"}


def test_migrate_again_is_a_no_op(owner_engine: sa.Engine) -> None:
    assert migrate(owner_engine, srid=4549) == HEAD


def test_the_head_read_without_alembic_is_alembics_head_and_the_revision_alembics_revision(
    owner_engine: sa.Engine,
) -> None:
    """Every command opens the store without importing alembic: its head and revision must be alembic's own."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from geo.store import _MIGRATIONS, head_revision

    assert head_revision() == ScriptDirectory(str(_MIGRATIONS)).get_current_head() == HEAD
    with owner_engine.connect() as conn:
        assert schema_revision(conn) == MigrationContext.configure(conn).get_current_revision() == HEAD


def test_an_older_empty_database_is_upgraded(superuser: sa.Engine) -> None:
    url = superuser.url
    with superuser.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS bl_upgrade"))
        conn.execute(sa.text("CREATE DATABASE bl_upgrade"))
    other = sa.create_engine(url.set(database="bl_upgrade"))
    try:
        with other.connect() as conn:
            assert schema_revision(conn) is None
        migrate(other, srid=4549)
        with other.connect() as conn:
            assert schema_revision(conn) == HEAD
    finally:
        other.dispose()
        with superuser.connect() as conn:
            conn.execute(sa.text("DROP DATABASE bl_upgrade"))


def test_a_database_in_another_crs_is_refused(engine: sa.Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with pytest.raises(BlocklineError, match="BLOCKLINE_STORAGE_EPSG=4549"):
        open_store(Settings(database_url=url + "&application_name=other", storage_epsg=4548))


def test_unreachable_database_is_exit_code_3(tmp_path) -> None:
    from geo.errors import DatabaseUnavailable

    url = f"postgresql+psycopg://nobody@/nothing?host={tmp_path}&port=1"
    with pytest.raises(DatabaseUnavailable) as info:
        open_store(Settings(database_url=url))
    assert info.value.exit_code == 3


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
        "ALTER TABLE audit DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_append_only ON audit",
        "DROP TRIGGER audit_chain ON audit",
        "ALTER TABLE audit ADD COLUMN note text",
        "ALTER TABLE audit OWNER TO blockline_app",
        "DROP TABLE audit",
        "TRUNCATE audit",
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "UPDATE audit_chain SET seq = 0",
        "DELETE FROM setup_ended",
        "TRUNCATE parcels",
        "DROP FUNCTION blockline_refuse_change() CASCADE",
        "CREATE TABLE mine (v int)",
        "CREATE ROLE another",
        "COPY (SELECT 1) TO PROGRAM 'true'",
    ],
)
def test_the_apps_role_may_not_rewrite_the_audit_trail_or_the_schema(
    engine: sa.Engine, statement: str
) -> None:
    from psycopg.errors import InsufficientPrivilege

    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit (actor, action) VALUES ('test', 'test.row')"))
    with pytest.raises(sa.exc.ProgrammingError) as info, engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert isinstance(info.value.orig, InsufficientPrivilege)


def test_the_apps_role_reads_and_appends_and_owns_nothing(engine: sa.Engine, owner_engine: sa.Engine) -> None:
    from geo.store import role_problems

    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar_one() == "blockline_app"
        n = conn.execute(sa.text("SELECT count(*) FROM audit")).scalar_one()
        conn.execute(sa.text("INSERT INTO audit (actor, action) VALUES ('test', 'test.row')"))
        assert conn.execute(sa.text("SELECT count(*) FROM audit")).scalar_one() == n + 1
        assert role_problems(conn) == []
    with owner_engine.connect() as conn:  # the owner is what the app's role must not be
        problems = {p["en"]: p["objects"] for p in role_problems(conn)}
    assert "audit" in problems["owns (so may alter, drop, disable triggers of)"].split(", ")
    assert "audit" in problems["may TRUNCATE"].split(", ")


def test_no_statement_of_the_apps_role_runs_for_ever(engine: sa.Engine) -> None:
    with engine.connect() as conn:  # the embedded cluster's role carries its own limit (issue 19)
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar_one() == "10min"
        conn.execute(
            sa.text("SET LOCAL statement_timeout = '50ms'")
        )  # the same kind of limit, shortened, bites
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            conn.execute(sa.text("SELECT pg_sleep(1)"))
