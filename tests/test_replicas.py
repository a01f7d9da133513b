"""Two app processes on one PostgreSQL server reached over TCP with a password serve the same city.

The server is a cluster of its own, made here with ``initdb`` and ``pg_ctl`` (not the embedded store's Unix
socket): it listens on 127.0.0.1 only and asks every TCP client for a password (``scram-sha-256``). The
roles are those of a deployment: ``blockline_owner`` owns the schema (migrations, given to the first
command only), ``blockline_app`` is what the app processes and the commands connect as.

Checked over HTTP, as a load balancer or an operator would see it:

- both processes answer ``/_stcore/health`` and finish their warm-up, and serve the same data version
  (``/_blockline/version``) and byte-identical tiles for it;
- a load through the command line is seen by both within 5 s (the pages re-read the version every
  ``blockline.ui.data._VERSION_TTL_S`` = 5 s; the bound allows one poll more), and their tiles under the new version
  are the new data, identical in both, different from the old version's;
- the tile cache is each process's own: a tile one of them cuts adds to its cache only;
- a judgement one process stored is served to another, not judged again (``judgements.judged_by`` keeps the
  host:pid of the process that judged, ``served`` counts every other ask).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from blockline.ui.serving import free_port, wait_healthy, wait_warm

BLOCKLINE = Path(sys.executable).with_name("blockline")
SEE_WITHIN_S = 5.0  # the bound
POLL_S = 0.2


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def server(settings: object) -> Iterator[dict[str, str]]:
    """A PostgreSQL + PostGIS cluster on 127.0.0.1:PORT with password authentication; the two roles' URLs."""
    from geo.cluster import _machine_runner, find_bindir

    home = Path(tempfile.mkdtemp(prefix="bl-tcp-", dir="/tmp"))
    atexit.register(
        shutil.rmtree, home, True
    )  # also when initdb or the start fails (the finally below is later)
    data, sock, log = home / "pgdata", home / "run", home / "postgres.log"
    sock.mkdir()
    bindir = find_bindir(settings.pg_bindir)  # type: ignore[attr-defined]
    prefix, _ = _machine_runner()  # as root: PostgreSQL runs as an unprivileged user
    port = free_port()
    passwords = {role: secrets.token_urlsafe(16) for role in ("postgres", "blockline_owner", "blockline_app")}
    pwfile = home / "pw"
    pwfile.write_text(passwords["postgres"] + "\n")
    _run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]
    )
    pwfile.unlink()
    with (data / "postgresql.conf").open("a", encoding="utf-8") as fh:
        fh.write(
            f"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sock}'\n"
            "password_encryption = 'scram-sha-256'\nmax_connections = 80\nshared_buffers = 128MB\n"
            "timezone = 'Asia/Shanghai'\n"
        )
    # TCP only from this machine, only with a password; the socket (the fixture's own setup) trusts
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
    _run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"])
    try:
        su = sa.create_engine(
            f"postgresql+psycopg://postgres:{passwords['postgres']}@127.0.0.1:{port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with su.connect() as conn:
            for role in ("blockline_owner", "blockline_app"):
                conn.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{passwords[role]}'"))
            conn.execute(sa.text("CREATE DATABASE blockline OWNER blockline_owner"))
        su.dispose()
        su = sa.create_engine(
            f"postgresql+psycopg://postgres:{passwords['postgres']}@127.0.0.1:{port}/blockline",
            isolation_level="AUTOCOMMIT",
        )
        with su.connect() as conn:
            conn.execute(sa.text("CREATE EXTENSION postgis"))
        su.dispose()
        yield {
            role: f"postgresql+psycopg://{role}:{passwords[role]}@127.0.0.1:{port}/blockline"
            for role in ("blockline_owner", "blockline_app")
        }
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def _env(server: dict[str, str], *, owner: bool = False) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("BLOCKLINE_OWNER_DATABASE_URL", None)
    home = tempfile.mkdtemp(prefix="bl-rep-", dir="/tmp")
    atexit.register(shutil.rmtree, home, True)  # none left in /tmp once the tests end
    env.update(
        BLOCKLINE_DATABASE_URL=server["blockline_app"], BLOCKLINE_USER="replica-test", BLOCKLINE_HOME=home
    )
    if owner:
        env["BLOCKLINE_OWNER_DATABASE_URL"] = server["blockline_owner"]
    return env


def _demo(server: dict[str, str], seed: int) -> None:
    done = _run(
        [str(BLOCKLINE), "demo", "--parcels", "1500", "--seed", str(seed), "--format", "json"],
        env=_env(server, owner=True),
    )
    assert json.loads(done.stdout)["inserted"] == 1500


@pytest.fixture(scope="module")
def apps(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The demo city loaded through the command, then two ``blockline app`` processes on it (app role only)."""
    _demo(server, seed=1)
    procs, urls = [], []
    logs = tmp_path_factory.mktemp("replicas")
    try:
        for k in range(2):
            port = free_port()
            with (logs / f"app{k}.log").open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [str(BLOCKLINE), "app", "--port", str(port)],
                        env=_env(server),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy(url, proc=proc, timeout_s=120)
        for url in urls:
            assert wait_warm(url, timeout_s=240).get("done") is True
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read()


def _version(url: str) -> dict[str, object]:
    return dict(json.loads(_get(f"{url}/_blockline/version")[1]))


def _tile_of_a_parcel(server: dict[str, str], z: int = 15) -> tuple[int, int, int]:
    """The z/x/y (XYZ, Web Mercator) of the tile holding some current parcel, computed here from its lon/lat."""
    engine = sa.create_engine(server["blockline_app"])
    with engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text("""
            SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p FROM parcels
            WHERE valid_to IS NULL ORDER BY parcel_no LIMIT 1) s""")
        ).one()
    engine.dispose()
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def test_two_processes_serve_the_same_data_and_see_a_load_within_5_s(
    server: dict[str, str], apps: list[str]
) -> None:
    a, b = apps
    va, vb = _version(a), _version(b)
    assert va["pid"] != vb["pid"]
    assert va["data_version"] == vb["data_version"]
    old = str(va["data_version"])
    z, x, y = _tile_of_a_parcel(server)
    path = f"/tiles/all/{z}/{x}/{y}.pbf?v={old}"
    (sa_, ta), (sb, tb) = _get(a + path), _get(b + path)
    assert sa_ == sb == 200 and ta == tb and len(ta) > 100  # a parcel's tile: not empty, the same from both

    # the tile cache is each process's own: a tile only B cuts adds to B's cache, not to A's
    before_a, before_b = _version(a)["tile_cache"]["tiles"], _version(b)["tile_cache"]["tiles"]  # type: ignore[index]
    other = f"/tiles/all/{z}/{x + 1}/{y}.pbf?v={old}"
    assert _get(b + other)[0] == 200
    assert _version(b)["tile_cache"]["tiles"] == before_b + 1  # type: ignore[index]
    assert _version(a)["tile_cache"]["tiles"] == before_a  # type: ignore[index]

    _demo(server, seed=2)  # a load through the command line: committed when the command returns
    loaded = time.monotonic()
    seen: dict[str, float] = {}
    while len(seen) < 2 and time.monotonic() - loaded < 3 * SEE_WITHIN_S:
        for url in (a, b):
            if url not in seen and _version(url)["data_version"] != old:
                seen[url] = time.monotonic() - loaded
        time.sleep(POLL_S)
    assert sorted(seen) == sorted(apps), f"a process did not see the load in {3 * SEE_WITHIN_S} s: {seen}"
    assert max(seen.values()) <= SEE_WITHIN_S + POLL_S, seen
    new = str(_version(a)["data_version"])
    assert new == _version(b)["data_version"] != old
    z, x, y = _tile_of_a_parcel(server)
    (sa_, na), (sb, nb) = (
        _get(f"{a}/tiles/all/{z}/{x}/{y}.pbf?v={new}"),
        _get(f"{b}/tiles/all/{z}/{x}/{y}.pbf?v={new}"),
    )
    assert sa_ == sb == 200 and na == nb and len(na) > 100
    assert na != ta  # the new version's tile is the new city, not the cached old one


def _judgement(server: dict[str, str]) -> list[tuple[str, str, int]]:
    engine = sa.create_engine(server["blockline_owner"])
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT profile, judged_by, served FROM judgements WHERE profile = 'wenzhou-2020'"
                " AND as_of = DATE '2026-11-01' ORDER BY id"
            )
        ).all()  # the day asked (the load judged its own today)
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_judgement_stored_by_one_process_is_served_to_another(
    server: dict[str, str], apps: list[str]
) -> None:
    """Two command processes on the same server and day: the first judges (or finds what an app process
    judged), the second is served the stored judgement; one row, one judge, the same answer."""
    cmd = [str(BLOCKLINE), "idle", "--as-of", "2026-11-01", "--format", "json"]
    first = subprocess.Popen(cmd, env=_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    rows = _judgement(server)
    assert len(rows) == 1, rows
    judged_by, served = rows[0][1], rows[0][2]
    app_pids = {int(_version(url)["pid"]) for url in apps}  # type: ignore[arg-type]
    assert int(judged_by.rsplit(":", 1)[1]) in app_pids | {first.pid}
    second = subprocess.Popen(
        cmd, env=_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out2, err2 = second.communicate(timeout=300)
    assert second.returncode == 0, err2
    after = _judgement(server)
    assert len(after) == 1 and after[0][1] == judged_by  # not judged again by the second process
    assert after[0][2] == served + 1  # served to it from the store
    assert json.loads(out1) == json.loads(out2)
    assert json.loads(out1)["parcels"]  # the demo city has idle findings to agree on
