"""The command acts as a named user: users and roles, the audit trail, dump and restore into a fresh cluster."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from blockline.cli import app
from geo.cluster import EmbeddedCluster
from geo.errors import InputError
from geo.settings import get_settings
from geo.store import migrate
from tests.files import two_counties
from tests.geo.test_store import HEAD  # the schema's newest revision

runner = CliRunner()
PASSWORD = "correct horse battery"


def run(
    *args: str, user: str = "test", stdin: str | None = None, env: dict[str, str | None] | None = None
) -> tuple[int, str, str]:
    import os

    os.environ["BLOCKLINE_USER"] = user
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, list(args), input=stdin, env=env)
    finally:
        os.environ["BLOCKLINE_USER"] = "test"
        get_settings.cache_clear()
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_users_roles_and_the_audit_trail(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:  # the audit trail outlives every test's data: read only what this one adds
        start = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit")).scalar_one()
    assert run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    code, _, err = run(
        "user", "add", "eve", "--role", "admin", "--password-stdin", user="eve", stdin=PASSWORD + "\n"
    )
    assert code == 4 and "admin" in err  # setup mode is over: only an admin adds users
    assert (
        run(
            "user",
            "add",
            "officer",
            "--role",
            "data_officer",
            "--password-stdin",
            user="boss",
            stdin=PASSWORD + "\n",
        )[0]
        == 0
    )
    assert (
        run(
            "user",
            "add",
            "reader",
            "--role",
            "viewer",
            "--password-stdin",
            user="boss",
            stdin=PASSWORD + "\n",
        )[0]
        == 0
    )
    assert (
        run("user", "add", "short", "--role", "viewer", "--password-stdin", user="boss", stdin="abc\n")[0]
        == 2
    )
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    code, _, err = run("load", "boundaries", str(tmp_path / "c.gpkg"), user="reader")
    assert code == 4 and "reader" in err and "data_officer" in err
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"), user="officer")[0] == 0
    assert run("user", "disable", "officer", user="boss")[0] == 0
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"), user="officer")[0] == 4  # disabled
    code, out, _ = run("user", "list", "--format", "json")
    users = {u["name"]: u for u in json.loads(out)}
    assert (
        users["officer"]["disabled"]
        and users["reader"]["roles"] == "viewer"
        and "password_hash" not in users["boss"]
    )
    code, out, _ = run("audit", "--format", "json")
    trail = [(r["actor"], r["action"]) for r in json.loads(out) if r["id"] > start]
    assert trail[:5] == [
        ("boss", "user.disable"),
        ("officer", "load.boundaries"),
        ("boss", "user.add"),
        ("boss", "user.add"),
        ("test", "user.add"),
    ]
    code, out, _ = run("audit", "--actor", "officer", "--action", "load.", "--format", "json")
    assert [r["target"].split(":")[0] for r in json.loads(out) if r["id"] > start] == ["load 1"]
    assert run("audit", "--format", "xlsx", "-o", str(tmp_path / "audit.xlsx"))[0] == 0
    assert run("audit", "--since", "2026-13-01")[0] == 2


def test_dump_and_restore_into_a_fresh_cluster(engine: sa.Engine, tmp_path: Path) -> None:
    from geo.audit import verify_chain
    from geo.backup import dump_key, manifest_path, restore

    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"))[0] == 0
    assert run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    dump = tmp_path / "city.dump"
    code, _, err = run("db", "dump", str(dump))
    assert code == 0 and dump.read_bytes()[:5] == b"PGDMP"
    manifest = json.loads(manifest_path(dump).read_text())
    assert manifest["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest() and manifest["mac"]

    def snapshot(e: sa.Engine) -> dict[str, object]:
        with e.connect() as conn:
            return {
                "areas": conn.execute(
                    sa.text("SELECT code, name, round(ST_Area(geom)) FROM admin_areas ORDER BY code")
                ).all(),
                "loads": conn.execute(
                    sa.text("SELECT id, kind, source, loaded_by FROM loads ORDER BY id")
                ).all(),
                "users": conn.execute(
                    sa.text("SELECT name, password_hash, roles FROM users ORDER BY name")
                ).all(),
                "audit": conn.execute(
                    sa.text(
                        "SELECT id, at, actor, action, target, chain_seq, row_hash FROM audit ORDER BY id"
                    )
                ).all(),
            }

    fresh = EmbeddedCluster(tmp_path / "fresh-home")
    fresh.start()
    try:
        other = sa.create_engine(fresh.owner_url)
        migrate(other, srid=4549)
        with other.connect() as conn:  # the restore runs as the schema's owner, not a superuser
            assert (
                conn.execute(
                    sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                ).scalar_one()
                is False
            )
        with pytest.raises(InputError, match="no key"):
            restore(other, dump, key=None)
        restore(other, dump, key=dump_key(home=get_settings().home), app_role="blockline_app")
        assert snapshot(other) == snapshot(engine)
        assert verify_chain(other).intact and verify_chain(other).head_hash == verify_chain(engine).head_hash
        with pytest.raises(sa.exc.ProgrammingError), other.begin() as conn:  # the triggers came along
            conn.execute(sa.text("DELETE FROM audit"))
        with pytest.raises(Exception, match="already holds data"):
            restore(other, dump, key=dump_key(home=get_settings().home))  # never over data
        other.dispose()
    finally:
        fresh.stop()


def _crafted_dump(
    cluster: EmbeddedCluster,
    path: Path,
    *,
    body: str = "CREATE TABLE IF NOT EXISTS pwned_by_check (v int)",
    database: str = "crafted",
) -> None:
    """A custom-format dump that blockline did not make: restoring it creates ``pwned``, whose CHECK runs ``body``."""
    import psycopg

    su = f"host={cluster.socket_dir} port=5432 user={cluster.superuser}"
    with psycopg.connect(su + " dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    with psycopg.connect(su + f" dbname={database}", autocommit=True) as conn:
        # the body runs where the dump is restored, not here where it is made
        conn.execute(
            f"CREATE FUNCTION evil(v int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
            f"IF current_database() <> '{database}' THEN {body}; END IF; RETURN true; END $$"
        )
        conn.execute("CREATE TABLE pwned (v int CHECK (evil(v)))")
        conn.execute("INSERT INTO pwned VALUES (1)")
    subprocess.run(
        [
            str(cluster.bindir / "pg_dump"),
            "--format=custom",
            f"--file={path}",
            f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname={database}",
        ],
        check=True,
    )


def test_restore_refuses_a_dump_blockline_did_not_make_before_anything_runs(
    engine: sa.Engine, tmp_path: Path
) -> None:
    from geo.backup import manifest_path

    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"))[0] == 0
    good = tmp_path / "good.dump"
    assert run("db", "dump", str(good))[0] == 0
    key_file = get_settings().home / "dump.key"
    fresh = EmbeddedCluster(tmp_path / "fh")
    assert run("db", "up", env={"BLOCKLINE_HOME": str(fresh.home)})[0] == 0  # an empty store at head
    try:
        crafted = tmp_path / "crafted.dump"
        _crafted_dump(fresh, crafted)
        # a manifest as an attacker can write it: the right checksum, but no key to sign it with
        forged = json.loads(manifest_path(good).read_text())
        forged.update(sha256=hashlib.sha256(crafted.read_bytes()).hexdigest(), bytes=crafted.stat().st_size)
        forged_mac = dict(forged, mac="0" * 64)
        altered = tmp_path / "altered.dump"
        altered.write_bytes(good.read_bytes()[:-1] + bytes([good.read_bytes()[-1] ^ 1]))
        manifest_path(altered).write_text(manifest_path(good).read_text())
        cases = [
            (crafted, None, "no readable manifest"),
            (crafted, forged_mac, "MAC does not match"),
            (crafted, dict(forged, mac=None), "MAC does not match"),
            (altered, ..., "checksum"),
        ]
        for path, manifest, message in cases:
            if manifest is None:
                manifest_path(path).unlink(missing_ok=True)
            elif manifest is not ...:
                manifest_path(path).write_text(json.dumps(manifest))
            code, _, err = run(
                "db",
                "restore",
                str(path),
                "--key-file",
                str(key_file),
                env={"BLOCKLINE_HOME": str(fresh.home)},
            )
            assert code == 2 and message in err and "restore refused" in err, (path, err)
        su = sa.create_engine(fresh.superuser_url, poolclass=NullPool)
        with su.connect() as conn:  # nothing ran: no table, no function
            assert conn.execute(
                sa.text(
                    "SELECT to_regclass('pwned'), to_regclass('pwned_by_check'), to_regprocedure('evil(int)')"
                )
            ).one() == (None, None, None)
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        code, _, err = run(
            "db", "restore", str(good), env={"BLOCKLINE_HOME": str(fresh.home)}
        )  # no key of its own
        assert code == 2 and "no key" in err
        code, _, err = run(
            "db", "restore", str(good), "--key-file", str(key_file), env={"BLOCKLINE_HOME": str(fresh.home)}
        )
        assert code == 0, err
    finally:
        fresh.stop()


def _audit_row(engine: sa.Engine, action: str) -> int:
    from geo.audit import record

    with engine.begin() as conn:
        return record(conn, actor="test", action=action, target="t", before={"a": 1}, after={"b": [1, "二"]})


def test_audit_verify_names_a_row_the_owner_edited_or_removed(
    engine: sa.Engine, owner_engine: sa.Engine
) -> None:
    _, edited, last = (_audit_row(engine, f"test.chain{i}") for i in range(3))
    code, out, _ = run("audit", "verify", "--format", "json")
    assert code == 0 and json.loads(out)["intact"]
    with owner_engine.connect() as conn:  # the owner can get round the triggers, as a superuser could
        kept = conn.execute(sa.text("SELECT * FROM audit WHERE id = :i"), {"i": edited}).mappings().one()
    try:
        with owner_engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit DISABLE TRIGGER USER"))
            conn.execute(sa.text("UPDATE audit SET actor = 'someone else' WHERE id = :i"), {"i": edited})
            conn.execute(sa.text("ALTER TABLE audit ENABLE TRIGGER USER"))
        code, out, _ = run("audit", "verify")
        assert code == 1 and f"audit row {edited} was altered" in " ".join(
            out.split()
        )  # as wrapped to the terminal
        with owner_engine.begin() as conn:  # put it back, then remove it: the row after it is named
            conn.execute(sa.text("ALTER TABLE audit DISABLE TRIGGER USER"))
            conn.execute(
                sa.text("UPDATE audit SET actor = :a WHERE id = :i"), {"a": kept["actor"], "i": edited}
            )
            conn.execute(sa.text("DELETE FROM audit WHERE id = :i"), {"i": edited})
            conn.execute(sa.text("ALTER TABLE audit ENABLE TRIGGER USER"))
        code, out, _ = run("audit", "verify", "--format", "json")
        found = json.loads(out)
        assert code == 1 and found["broken_id"] == last and found["broken_seq"] == kept["chain_seq"] + 1
        assert f"entries {kept['chain_seq']} to {kept['chain_seq']} are missing" in found["reason_en"]
    finally:
        with owner_engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE audit DISABLE TRIGGER USER"))
            conn.execute(sa.text("DELETE FROM audit WHERE id = :i"), {"i": edited})
            conn.execute(
                sa.text("INSERT INTO audit SELECT (jsonb_populate_record(NULL::audit, CAST(:r AS jsonb))).*"),
                {"r": json.dumps(dict(kept, row_hash="\\x" + bytes(kept["row_hash"]).hex()), default=str)},
            )
            conn.execute(sa.text("ALTER TABLE audit ENABLE TRIGGER USER"))
    assert run("audit", "verify")[0] == 0


def test_the_chain_hash_is_sha256_of_the_previous_and_the_rows_fields(engine: sa.Engine) -> None:
    row_id = _audit_row(engine, "test.by_hand")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM audit WHERE id = :i"), {"i": row_id}).mappings().one()
        prev = conn.execute(
            sa.text("SELECT row_hash FROM audit WHERE chain_seq = :s"), {"s": row["chain_seq"] - 1}
        ).scalar_one()
    at = row["at"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    fields = [
        str(row_id),
        at,
        "test",
        "test.by_hand",
        "t",
        None,
        '{"a": 1}',
        '{"b": [1, "二"]}',
        str(row["txid"]),
    ]
    text = "|".join("-" if f is None else f"{len(f)}:{f}" for f in fields)
    assert bytes(row["row_hash"]) == hashlib.sha256(bytes(prev) + text.encode("utf-8")).digest()


def test_concurrent_writers_keep_one_chain(engine: sa.Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from geo.audit import verify_chain

    with engine.connect() as conn:
        start = conn.execute(sa.text("SELECT seq FROM audit_chain")).scalar_one()

    def write(worker: int) -> None:
        for i in range(15):
            _audit_row(engine, f"test.race{worker}.{i}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    with engine.connect() as conn:
        seqs = (
            conn.execute(
                sa.text("SELECT chain_seq FROM audit WHERE chain_seq > :s ORDER BY chain_seq"), {"s": start}
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(start + 1, start + 61))  # no fork, no gap
    assert verify_chain(engine).intact


def test_check_roles(engine: sa.Engine, settings: object) -> None:
    from geo.store import owner_database_url

    code, out, _ = run("db", "check-roles", "--format", "json")
    assert code == 0 and json.loads(out) | {"url": None} == {
        "url": None,
        "role": "blockline_app",
        "ok": True,
        "problems": [],
    }
    code, out, _ = run(
        "db", "check-roles", "--format", "json", env={"BLOCKLINE_DATABASE_URL": owner_database_url(settings)}
    )  # (--db would outlive the test)
    problems = {p["en"]: p["objects"].split(", ") for p in json.loads(out)["problems"]}
    assert code == 1 and "audit" in problems["owns (so may alter, drop, disable triggers of)"]
    assert (
        "audit" in problems["may TRUNCATE"]
        and "UPDATE" in problems["may UPDATE, DELETE or add triggers to the audit trail"]
    )


def test_a_free_user_name_is_refused_against_a_url_store(engine: sa.Engine, settings: object) -> None:
    from geo.store import database_url

    assert run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    url = {
        "BLOCKLINE_DATABASE_URL": database_url(settings),
        "BLOCKLINE_TOKEN": None,
    }  # the same store, by URL
    args = ("user", "add", "evil", "--role", "admin", "--password-stdin")
    code, _, err = run(*args, user="boss", stdin=PASSWORD + "\n", env=url)
    assert code == 4 and "cannot prove that the command acts as boss" in err
    code, _, err = run(
        *args, user="boss", stdin=PASSWORD + "\n", env=url | {"BLOCKLINE_TOKEN": PASSWORD + "x"}
    )
    assert code == 4
    code, _, err = run("audit", "--format", "json", user="nobody", env=url | {"BLOCKLINE_TOKEN": PASSWORD})
    assert code == 4  # reading, too, needs a user who proves it
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users WHERE name = 'evil'")).scalar_one() == 0
    assert run(*args, user="boss", stdin=PASSWORD + "\n", env=url | {"BLOCKLINE_TOKEN": PASSWORD})[0] == 0
    # the embedded store: the operating-system user is the boundary, and the name is taken as given
    code, _, err = run(
        "user", "add", "clerk", "--role", "viewer", "--password-stdin", user="boss", stdin=PASSWORD + "\n"
    )
    assert code == 0, err


def test_deleting_every_user_does_not_reopen_setup_mode(engine: sa.Engine, owner_engine: sa.Engine) -> None:
    assert run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    with owner_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users"))
    code, _, err = run(
        "user", "add", "evil", "--role", "admin", "--password-stdin", user="evil", stdin=PASSWORD + "\n"
    )
    assert code == 4 and "evil" in err
    # nor can the app's role take the flag away
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM setup_ended"))


def test_db_reset_needs_an_admin_and_is_told_twice_to_discard_the_audit(
    engine: sa.Engine, tmp_path: Path
) -> None:
    home = {"BLOCKLINE_HOME": str(tmp_path / "rh")}
    cluster = EmbeddedCluster(tmp_path / "rh")
    try:
        assert (
            run(
                "user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n", env=home
            )[0]
            == 0
        )
        assert (
            run(
                "user",
                "add",
                "reader",
                "--role",
                "viewer",
                "--password-stdin",
                user="boss",
                stdin=PASSWORD + "\n",
                env=home,
            )[0]
            == 0
        )
        code, _, err = run("db", "reset", "--yes", user="reader", env=home)
        assert code == 4 and "admin" in err
        code, _, err = run("db", "reset", "--yes", user="boss", env=home)
        assert code == 2 and "the audit trail holds 2 rows" in err and "--discard-audit" in err
        code, _, err = run("db", "reset", "--yes", "--discard-audit", user="reader", env=home)
        assert code == 4
        assert run("user", "list", "--format", "json", env=home)[1].count('"name"') == 2  # nothing happened
        assert run("db", "reset", "--yes", "--discard-audit", user="boss", env=home)[0] == 0
        with sa.create_engine(cluster.url, poolclass=NullPool).connect() as conn:
            assert (
                conn.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM audit) "
                        "+ (SELECT count(*) FROM setup_ended)"
                    )
                ).scalar_one()
                == 0
            )
    finally:
        cluster.stop()


def test_a_signed_dump_that_runs_a_program_fails_as_the_owner_and_leaves_the_store_as_it_was(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """A holder of the key signs a dump whose CHECK runs COPY … TO PROGRAM: the owner role may not, and the
    restore is one transaction (before, it ran as the superuser, and the program ran)."""
    import hmac

    from geo.backup import manifest_path

    marker = tmp_path / "ran"
    fresh = EmbeddedCluster(tmp_path / "sh")
    assert run("db", "up", env={"BLOCKLINE_HOME": str(fresh.home)})[0] == 0
    try:
        signed = tmp_path / "signed.dump"
        _crafted_dump(fresh, signed, body=f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'", database="signed")
        key = b"a key the attacker holds"
        fields = {
            "made_by": "blockline db dump",
            "format": 1,
            "file": signed.name,
            "bytes": signed.stat().st_size,
            "sha256": hashlib.sha256(signed.read_bytes()).hexdigest(),
            "schema_revision": HEAD,
            "made_at": "2026-12-05T00:00:00+00:00",
        }
        body = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        fields["mac"] = hmac.new(key, body, hashlib.sha256).hexdigest()
        manifest_path(signed).write_text(json.dumps(fields))
        code, _, err = run(
            "db",
            "restore",
            str(signed),
            env={"BLOCKLINE_HOME": str(fresh.home), "BLOCKLINE_DUMP_KEY": key.decode()},
        )
        assert code == 2 and "the store is as it was" in err and "must be superuser" in err, err
        assert not marker.exists()
        su = sa.create_engine(fresh.superuser_url, poolclass=NullPool)
        with su.connect() as conn:
            assert conn.execute(
                sa.text("SELECT to_regclass('pwned'), to_regprocedure('evil(int)')")
            ).one() == (None, None)
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
            assert (
                conn.execute(
                    sa.text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'audit'")
                ).scalar_one()
                == "blockline_owner"
            )
        assert (
            run("db", "check-roles", env={"BLOCKLINE_HOME": str(fresh.home)})[0] == 0
        )  # the grants are intact
    finally:
        fresh.stop()
