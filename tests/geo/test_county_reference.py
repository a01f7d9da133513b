"""The parcels' county reference (migration 0018): checked per statement, with a foreign key's guarantees.

Every write here goes through the app's least-privileged role, as the app's own writes do.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

_AREA = "INSERT INTO admin_areas (code, name, level, geom) VALUES (CAST(:c AS text), '县' || CAST(:c AS text), 'county', ST_Multi(ST_MakeEnvelope(0, 0, 1000, 1000, 4549)))"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
_PARCEL = "INSERT INTO parcels (parcel_no, area_mu, created_by, county_code, geom) VALUES (:n, 1, 't', :c, ST_Multi(ST_MakeEnvelope(0, 0, 10, 10, 4549)))"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line


@pytest.fixture
def two_areas(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        for code in ("330302", "330303"):
            conn.execute(sa.text(_AREA), {"c": code})
    return engine


def _refused(conn: sa.Connection, sql: str, params: dict[str, str]) -> str:
    """The message of the foreign-key violation ``sql`` raises (the test fails if it raises none)."""
    with pytest.raises(sa.exc.IntegrityError) as caught:
        conn.execute(sa.text(sql), params)
    assert caught.value.orig.sqlstate == "23503"  # type: ignore[union-attr]
    return str(caught.value.orig)


def _parcels(engine: sa.Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.text("SELECT parcel_no, county_code FROM parcels ORDER BY 1"))
        ]


def test_a_parcel_of_an_unknown_county_is_refused_naming_the_code(two_areas: sa.Engine) -> None:
    with two_areas.connect() as conn:
        said = _refused(conn, _PARCEL, {"n": "P-1", "c": "999999"})
    assert "999999" in said and "admin_areas" in said
    assert _parcels(two_areas) == []


def test_one_unknown_code_refuses_the_whole_statement(two_areas: sa.Engine) -> None:
    sql = """INSERT INTO parcels (parcel_no, area_mu, created_by, county_code, geom)
             SELECT 'P-' || g, 1, 't', CASE WHEN g = 500 THEN '330399' ELSE '330302' END,
                    ST_Multi(ST_MakeEnvelope(g, 0, g + 1, 1, 4549))
             FROM generate_series(1, 1000) g"""
    with two_areas.connect() as conn:
        assert "330399" in _refused(conn, sql, {})
    assert _parcels(two_areas) == []


def test_known_and_missing_codes_are_written(two_areas: sa.Engine) -> None:
    with two_areas.begin() as conn:
        conn.execute(sa.text(_PARCEL), {"n": "P-1", "c": "330302"})
        conn.execute(sa.text(_PARCEL), {"n": "P-2", "c": None})
        conn.execute(sa.text(_PARCEL), {"n": "P-3", "c": "330303"})
    assert _parcels(two_areas) == [("P-1", "330302"), ("P-2", None), ("P-3", "330303")]


def test_a_parcels_code_changed_to_an_unknown_one_is_refused_other_updates_are_not(
    two_areas: sa.Engine,
) -> None:
    with two_areas.begin() as conn:
        conn.execute(sa.text(_PARCEL), {"n": "P-1", "c": "330302"})
    with two_areas.connect() as conn:
        assert "999999" in _refused(conn, "UPDATE parcels SET county_code = :c", {"c": "999999"})
    with two_areas.begin() as conn:
        conn.execute(sa.text("UPDATE parcels SET county_code = '330303'"))
        conn.execute(sa.text("UPDATE parcels SET valid_to = now()"))
    assert _parcels(two_areas) == [("P-1", "330303")]


def test_an_area_a_parcel_names_cannot_be_deleted_nor_its_code_changed(two_areas: sa.Engine) -> None:
    with two_areas.begin() as conn:
        conn.execute(sa.text(_PARCEL), {"n": "P-1", "c": "330302"})
        conn.execute(sa.text("UPDATE parcels SET valid_to = now()"))  # a closed version names it too
    with two_areas.connect() as conn:
        assert "330302" in _refused(conn, "DELETE FROM admin_areas WHERE code = :c", {"c": "330302"})
    with two_areas.connect() as conn:
        assert "330302" in _refused(
            conn, "UPDATE admin_areas SET code = '330399' WHERE code = :c", {"c": "330302"}
        )
    with (
        two_areas.begin() as conn
    ):  # the other, named by no parcel, goes; a rename keeping the code is an update
        conn.execute(sa.text("UPDATE admin_areas SET name = '鹿城区' WHERE code = '330302'"))
        assert conn.execute(sa.text("DELETE FROM admin_areas WHERE code = '330303'")).rowcount == 1
    with two_areas.connect() as conn:
        left = conn.execute(sa.text("SELECT code, name FROM admin_areas")).all()
    assert [tuple(r) for r in left] == [("330302", "鹿城区")]


def test_a_writer_locks_the_areas_it_names_until_it_commits(two_areas: sa.Engine) -> None:
    """As a foreign key does: the area cannot go while a parcel naming it is being written; after, it is named."""
    with two_areas.connect() as writer, two_areas.connect() as deleter:
        writer.execute(sa.text(_PARCEL), {"n": "P-1", "c": "330302"})  # not committed
        deleter.execute(sa.text("SET lock_timeout = '300ms'"))
        with pytest.raises(sa.exc.OperationalError) as caught:
            deleter.execute(sa.text("DELETE FROM admin_areas WHERE code = '330302'"))
        assert caught.value.orig.sqlstate == "55P03"  # type: ignore[union-attr]  # lock_not_available
        deleter.rollback()
        writer.commit()
        assert "330302" in _refused(deleter, "DELETE FROM admin_areas WHERE code = :c", {"c": "330302"})
    assert _parcels(two_areas) == [("P-1", "330302")]


def test_a_writer_naming_an_area_being_deleted_waits_and_is_refused(two_areas: sa.Engine) -> None:
    with two_areas.connect() as deleter, two_areas.connect() as writer:
        deleter.execute(sa.text("DELETE FROM admin_areas WHERE code = '330303'"))  # not committed
        writer.execute(sa.text("SET lock_timeout = '300ms'"))
        with pytest.raises(sa.exc.OperationalError):
            writer.execute(sa.text(_PARCEL), {"n": "P-1", "c": "330303"})
        writer.rollback()
        deleter.commit()
        assert "330303" in _refused(writer, _PARCEL, {"n": "P-1", "c": "330303"})
    assert _parcels(two_areas) == []
