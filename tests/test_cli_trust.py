"""The command acts as a named user: users and roles, the audit trail, dump and restore into a fresh cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from geo.cluster import EmbeddedCluster
from geo.settings import get_settings
from geo.store import migrate
from tests.files import two_counties

runner = CliRunner()
PASSWORD = "correct horse battery"


def run(*args: str, user: str = "test", stdin: str | None = None) -> tuple[int, str, str]:
    import os

    os.environ["BLOCKLINE_USER"] = user
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, list(args), input=stdin)
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
    two_counties().to_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert run("load", "boundaries", str(tmp_path / "c.gpkg"))[0] == 0
    assert run("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    dump = tmp_path / "city.dump"
    code, _, err = run("db", "dump", str(dump))
    assert code == 0 and dump.read_bytes()[:5] == b"PGDMP"

    def snapshot(e: sa.Engine) -> dict[str, object]:
        with e.connect() as conn:
            return {
                "areas": conn.execute(sa.text("SELECT code, name, round(ST_Area(geom)) FROM admin_areas ORDER BY code")).all(),
                "loads": conn.execute(sa.text("SELECT id, kind, source, loaded_by FROM loads ORDER BY id")).all(),
                "users": conn.execute(sa.text("SELECT name, password_hash, roles FROM users ORDER BY name")).all(),
                "audit": conn.execute(sa.text("SELECT id, at, actor, action, target FROM audit ORDER BY id")).all(),
            }

    fresh = EmbeddedCluster(tmp_path / "fresh-home")
    fresh.start()
    try:
        other = sa.create_engine(fresh.url)
        migrate(other, srid=4549)
        from geo.backup import restore

        restore(other, dump)
        assert snapshot(other) == snapshot(engine)
        with pytest.raises(sa.exc.ProgrammingError), other.begin() as conn:  # the triggers came along
            conn.execute(sa.text("DELETE FROM audit"))
        with pytest.raises(Exception, match="already holds data"):
            restore(other, dump)  # never over data
        other.dispose()
    finally:
        fresh.stop()
