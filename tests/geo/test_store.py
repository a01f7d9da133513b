"""The schema: migrations to head, one storage CRS, spatial indexes once, checks in the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from geo.errors import BlocklineError
from geo.settings import Settings
from geo.store import _alembic_config, migrate, open_store, schema_revision, storage_srid

HEAD = "0014"


def test_a_database_at_an_older_revision_is_upgraded_with_its_data(engine: sa.Engine) -> None:
    from alembic import command

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS bl_older"))
        conn.execute(sa.text("CREATE DATABASE bl_older"))
    older = sa.create_engine(engine.url.set(database="bl_older"))
    try:
        with older.connect() as conn:
            command.upgrade(_alembic_config(conn, 4549), "0001")
            conn.commit()
            conn.execute(sa.text("""INSERT INTO parcels (parcel_no, area_mu, created_by, geom) VALUES
                ('OLD-1', 15, 't', ST_Multi(ST_MakeEnvelope(0, 0, 100, 100, 4549)))"""))
            conn.commit()
            assert schema_revision(conn) == "0001"
        migrate(older, srid=4549)
        with older.connect() as conn:
            assert schema_revision(conn) == HEAD
            assert conn.execute(sa.text("SELECT parcel_no FROM parcels")).scalar_one() == "OLD-1"
    finally:
        older.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("DROP DATABASE bl_older"))


def test_schema_at_head_with_one_gist_index_per_geometry(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert schema_revision(conn) == HEAD
        assert storage_srid(conn) == 4549
        columns = conn.execute(sa.text(
            "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns ORDER BY 1, 2")).all()
        indexes = conn.execute(sa.text("""
            SELECT t.relname, a.attname, count(*) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_am am ON am.oid = c.relam JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
            WHERE am.amname = 'gist' GROUP BY 1, 2""")).all()
    assert {(t, g) for t, g, _, _ in columns} >= {
        ("admin_areas", "geom"), ("block_lines", "geom"), ("parcels", "geom"), ("zones", "geom"),
        ("adjustments", "removal_geom"), ("adjustments", "addition_geom")}
    assert all(kind == "MULTIPOLYGON" and srid == 4549 for _, _, kind, srid in columns)
    assert all(n == 1 for _, _, n in indexes)  # never two spatial indexes on one column
    assert {t for t, _, _ in indexes} >= {"admin_areas", "block_lines", "parcels", "zones"}


def test_migrate_again_is_a_no_op(engine: sa.Engine) -> None:
    assert migrate(engine, srid=4549) == HEAD


def test_an_older_empty_database_is_upgraded(engine: sa.Engine) -> None:
    url = engine.url
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
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
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
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
