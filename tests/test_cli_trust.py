"""The command acts as a named user: users and roles, the audit trail, dump and restore into a fresh cluster."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from geo.cluster import EmbeddedCluster
from geo.errors import InputError
from geo.settings import get_settings
from geo.store import migrate
from tests.files import two_counties

runner = CliRunner()
PASSWORD = "correct horse battery"


def run(*args: str, user: str = "test", stdin: str | None = None,
        env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
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
    code, _, err = run("user", "add", "eve", "--role", "admin", "--password-stdin", user="eve", stdin=PASSWORD + "\n")
    assert code == 4 and "admin" in err  # setup mode is over: only an admin adds users
    assert run("user", "add", "officer", "--role", "data_officer", "--password-stdin", user="boss",
               stdin=PASSWORD + "\n")[0] == 0
    assert run("user", "add", "reader", "--role", "viewer", "--password-stdin", user="boss",
               stdin=PASSWORD + "\n")[0] == 0
    assert run("user", "add", "short", "--role", "viewer", "--password-stdin", user="boss", stdin="abc\n")[0] == 2
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    code, _, err = run("load", "boundaries", str(tmp_path / "c.gpkg"), user="reader")
    assert code == 4 and "reader" in err and "data_officer" in err
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"), user="officer")[0] == 0
    assert run("user", "disable", "officer", user="boss")[0] == 0
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"), user="officer")[0] == 4  # disabled
    code, out, _ = run("user", "list", "--format", "json")
    users = {u["name"]: u for u in json.loads(out)}
    assert users["officer"]["disabled"] and users["reader"]["roles"] == "viewer" and "password_hash" not in users["boss"]
    code, out, _ = run("audit", "--format", "json")
    trail = [(r["actor"], r["action"]) for r in json.loads(out) if r["id"] > start]
    assert trail[:5] == [("boss", "user.disable"), ("officer", "load.boundaries"), ("boss", "user.add"),
                         ("boss", "user.add"), ("test", "user.add")]
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
                "areas": conn.execute(sa.text("SELECT code, name, round(ST_Area(geom)) FROM admin_areas ORDER BY code")).all(),
                "loads": conn.execute(sa.text("SELECT id, kind, source, loaded_by FROM loads ORDER BY id")).all(),
                "users": conn.execute(sa.text("SELECT name, password_hash, roles FROM users ORDER BY name")).all(),
                "audit": conn.execute(sa.text("SELECT id, at, actor, action, target, chain_seq, row_hash FROM audit "
                                              "ORDER BY id")).all(),
            }

    fresh = EmbeddedCluster(tmp_path / "fresh-home")
    fresh.start()
    try:
        other = sa.create_engine(fresh.owner_url)
        migrate(other, srid=4549)
        with other.connect() as conn:  # the restore runs as the schema's owner, not a superuser
            assert conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one() is False
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


def _crafted_dump(cluster: EmbeddedCluster, path: Path) -> None:
    """A custom-format dump that blockline did not make: restoring it would create ``pwned`` and run a function."""
    import psycopg

    su = f"host={cluster.socket_dir} port=5432 user={cluster.superuser}"
    with psycopg.connect(su + " dbname=postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE crafted")
    with psycopg.connect(su + " dbname=crafted", autocommit=True) as conn:
        conn.execute("CREATE FUNCTION evil(v int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
                     "CREATE TABLE IF NOT EXISTS pwned_by_check (v int); RETURN true; END $$")
        conn.execute("CREATE TABLE pwned (v int CHECK (evil(v)))")
        conn.execute("INSERT INTO pwned VALUES (1)")
    subprocess.run([str(cluster.bindir / "pg_dump"), "--format=custom", f"--file={path}",
                    f"host={cluster.socket_dir} port=5432 user={cluster.superuser} dbname=crafted"], check=True)


def test_restore_refuses_a_dump_blockline_did_not_make_before_anything_runs(engine: sa.Engine, tmp_path: Path) -> None:
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
        cases = [(crafted, None, "no readable manifest"), (crafted, forged_mac, "MAC does not match"),
                 (crafted, dict(forged, mac=None), "MAC does not match"), (altered, ..., "checksum")]
        for path, manifest, message in cases:
            if manifest is None:
                manifest_path(path).unlink(missing_ok=True)
            elif manifest is not ...:
                manifest_path(path).write_text(json.dumps(manifest))
            code, _, err = run("db", "restore", str(path), "--key-file", str(key_file),
                               env={"BLOCKLINE_HOME": str(fresh.home)})
            assert code == 2 and message in err and "restore refused" in err, (path, err)
        with sa.create_engine(fresh.superuser_url).connect() as conn:  # nothing ran: no table, no function
            assert conn.execute(sa.text("SELECT to_regclass('pwned'), to_regclass('pwned_by_check'), "
                                        "to_regprocedure('evil(int)')")).one() == (None, None, None)
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        code, _, err = run("db", "restore", str(good), env={"BLOCKLINE_HOME": str(fresh.home)})  # no key of its own
        assert code == 2 and "no key" in err
        code, _, err = run("db", "restore", str(good), "--key-file", str(key_file), env={"BLOCKLINE_HOME": str(fresh.home)})
        assert code == 0, err
    finally:
        fresh.stop()
