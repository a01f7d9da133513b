"""A lost commit reply: the connection drops right after the server received COMMIT (issue 19 item 1).

A small TCP proxy on 127.0.0.1 stands between the ``blockline`` command and the test database. Armed, it
watches the client's bytes for the transaction that inserts an adjustment, forwards its COMMIT to the
server, and then closes the client's side at once: the server commits (the proxy keeps its own side open
until the server has answered), while the command never hears back. Upstream is the session's PostGIS,
over its Unix socket (or over TCP when BLOCKLINE_TEST_DATABASE_URL names a TCP server).

The city is the five-county one (tests/faults/conftest.py). 鹿城 330302 first records 15 亩 of new level 1
(a 100 m × 100 m box): a surplus of 15. Then 龙湾 330303 removes a 100 m × 20 m strip of its level 1
(3 亩, from a file in EPSG:4528, whose eastings carry the zone number 40) covered by ``--transfer
330302:3``: the command the issue saw spend 鹿城's surplus twice. Expected, by hand: exit 3 with "outcome
unknown" (never "rolled back"); the entry is in the ledger once; 鹿城 12 亩 and 龙湾 0; the same command
again exits 0 with the same adjustment id and writes nothing; the same 文号 (written with full-width
digits and spaces) in a different request is refused with exit 2 naming the entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import affinity, box
from typer.testing import CliRunner

from blockline.cli import app
from blockline.services.balance import standing_balances
from blockline.services.ledger_record import record_adjustment
from tests.faults.conftest import COUNTIES, county_x
from tests.files import WENZHOU_Y0 as Y
from zoning.policy import get_profile

WZ = get_profile("wenzhou-2020")
LC, LW = COUNTIES[0], COUNTIES[1]
DOC = "温政函〔2026〕99号"


class CommitCutter:
    """A TCP proxy on 127.0.0.1 that, armed, cuts the client off right after forwarding an adjustment's COMMIT."""

    def __init__(self, upstream: Callable[[], socket.socket]) -> None:
        self.upstream = upstream
        self.armed = False
        self.marker = b"INSERT INTO adjustments"  # the statement whose transaction's COMMIT is cut
        self.cuts = 0
        self.server_answered = threading.Event()  # the server's answer to the cut COMMIT came (to the proxy)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            up = self.upstream()
            self._open += [client, up]
            answered = threading.Event()
            threading.Thread(target=self._client_to_server, args=(client, up, answered), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(up, client, answered), daemon=True).start()

    def _client_to_server(self, client: socket.socket, up: socket.socket, answered: threading.Event) -> None:
        seen = b""
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(up)
                return
            seen = (seen + data)[-4096:]
            if self.armed and self.marker in seen and b"COMMIT" in data:
                self.armed = False
                answered.clear()
                up.sendall(data)  # the server gets the COMMIT ...
                self.cuts += 1  # (counted before the cut: the command, cut off, may be asked at once)
                _close(client)  # ... and the command never hears its answer
                if answered.wait(30):  # the server has committed and answered into the void
                    self.server_answered.set()
                _close(up)
                return
            try:
                up.sendall(data)
            except OSError:
                _close(client)
                return

    @staticmethod
    def _server_to_client(up: socket.socket, client: socket.socket, answered: threading.Event) -> None:
        while True:
            try:
                data = up.recv(65536)
            except OSError:
                data = b""
            answered.set()
            if not data:
                _close(client)
                return
            with contextlib.suppress(OSError):  # cut off: keep reading the server's answer
                client.sendall(data)

    def close(self) -> None:
        _close(self.listener)
        for s in self._open:
            _close(s)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.close()


def _upstream_of(engine: sa.Engine) -> Callable[[], socket.socket]:
    """How to reach the test database: its Unix socket, or its TCP address."""
    url = engine.url
    host = url.host or url.query.get("host")
    port = int(url.port or url.query.get("port") or 5432)
    if isinstance(host, tuple):
        host = host[0]
    if host and str(host).startswith("/"):
        path = str(Path(str(host)) / f".s.PGSQL.{port}")

        def unix() -> socket.socket:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s

        return unix
    return lambda: socket.create_connection((str(host or "127.0.0.1"), port))


@pytest.fixture
def cutter(five_counties: sa.Engine) -> Iterator[tuple[CommitCutter, str]]:
    # the command's --db writes BLOCKLINE_DATABASE_URL into this process's environment: put it back after
    before = os.environ.get("BLOCKLINE_DATABASE_URL")
    proxy = CommitCutter(_upstream_of(five_counties))
    url = five_counties.url
    through = f"postgresql+psycopg://{url.username}@127.0.0.1:{proxy.port}/{url.database}?sslmode=disable"
    try:
        yield proxy, through
    finally:
        proxy.close()
        from geo.store import _engines  # the command's engine on the proxy's URL: gone with the proxy

        engine = _engines.pop(through, None)
        if engine is not None:
            engine.dispose()
        if before is None:
            os.environ.pop("BLOCKLINE_DATABASE_URL", None)
        else:
            os.environ["BLOCKLINE_DATABASE_URL"] = before
        from geo.settings import get_settings

        get_settings.cache_clear()


def _file(folder: Path, name: str, geom: object, crs: str) -> Path:
    path = folder / name
    gpd.GeoDataFrame(geometry=[geom], crs=crs).to_file(path, engine="pyogrio")
    return path


def _state(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            "adjustments": conn.execute(sa.text("SELECT count(*) FROM adjustments")).scalar_one(),
            "transfers": conn.execute(sa.text("SELECT count(*) FROM quota_transfers")).scalar_one(),
            "block_lines": conn.execute(sa.text("SELECT count(*) FROM block_lines")).scalar_one(),
            "audit": conn.execute(sa.text("SELECT count(*) FROM audit")).scalar_one(),
            "balances": {k: round(v, 6) for k, v in standing_balances(conn).items()},
        }


def test_a_lost_commit_is_reported_unknown_and_the_retry_records_nothing(
    five_counties: sa.Engine, cutter: tuple[CommitCutter, str], tmp_path: Path
) -> None:
    engine = five_counties
    proxy, url = cutter
    record_adjustment(
        engine,
        county=LC,
        addition=box(county_x(LC) + 1000, Y + 1000, county_x(LC) + 1100, Y + 1100),
        approval_doc="温政函〔2026〕1号",
        user="test",
        profile=WZ,
    )  # 鹿城 +15
    x = county_x(LW)
    strip = box(x + 100, Y + 100, x + 200, Y + 120)  # 100 m × 20 m of 龙湾's level 1 = 3 亩
    removal = _file(tmp_path, "removal.gpkg", affinity.translate(strip, xoff=40_000_000), "EPSG:4528")
    runner = CliRunner()
    command = [
        "--db",
        url,
        "balance",
        "record",
        "--county",
        LW,
        "--remove",
        str(removal),
        "--doc",
        DOC,
        "--transfer",
        f"{LC}:3",
        "--format",
        "json",
    ]
    proxy.armed = True
    lost = runner.invoke(app, command)
    assert proxy.cuts == 1  # the connection was cut right after the COMMIT went through
    assert proxy.server_answered.wait(30)  # the command gave up at once; the server finished the commit after
    assert lost.exit_code == 3, lost.output
    assert "结果未知" in lost.stderr and "outcome is unknown" in lost.stderr
    assert "blockline balance ledger" in lost.stderr and "--request-id" in lost.stderr
    assert "rolled back" not in lost.stderr and "撤销" not in lost.stderr
    recorded = _state(engine)
    # it was committed: one entry, one transfer, 鹿城 15 − 3 = 12, 龙湾 −3 + 3 = 0
    assert recorded["adjustments"] == 2 and recorded["transfers"] == 1
    assert recorded["balances"][LC] == pytest.approx(12.0) and recorded["balances"][LW] == pytest.approx(0.0)
    ledger = json.loads(
        runner.invoke(app, ["--db", url, "balance", "ledger", "--doc", DOC, "--format", "json"]).stdout
    )
    assert [e["approval_doc"] for e in ledger["entries"]] == [DOC]
    first_id = ledger["entries"][0]["id"]

    again = runner.invoke(app, command)  # the retry the message asks for, through the same proxy
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["adjustment_id"] == first_id and body["replayed"] is True
    assert body["occupied_mu"] == pytest.approx(3.0)
    assert _state(engine) == recorded  # nothing recorded, nothing spent twice, no audit row

    other = _file(tmp_path, "other.gpkg", box(x + 300, Y + 100, x + 400, Y + 120), "EPSG:4549")
    refused = runner.invoke(
        app,
        [
            "--db",
            url,
            "balance",
            "record",
            "--county",
            LW,
            "--remove",
            str(other),
            "--doc",
            "温政函 〔２０２６〕 99 号",
            "--transfer",
            f"{LC}:3",
        ],
    )
    assert refused.exit_code == 2, refused.output
    assert f"#{first_id}" in refused.stderr and "recorded once" in refused.stderr and DOC in refused.stderr
    assert _state(engine) == recorded


def test_a_load_whose_commit_is_lost_says_unknown_not_rolled_back(
    five_counties: sa.Engine, cutter: tuple[CommitCutter, str], tmp_path: Path
) -> None:
    """Every write goes through the store's one transaction: a lost COMMIT of a load is "unknown", and it was written.

    A 100 m × 100 m level-2 block line of 鹿城 (15 亩), from a file in EPSG:4528 with the zone prefix. The proxy
    cuts the command off right after the load's COMMIT reached the server. Before, the store's transaction
    said "the whole operation was rolled back" while the server had committed the lines.
    """
    engine = five_counties
    proxy, url = cutter
    x = county_x(LC)
    square = box(x + 1000, Y + 1000, x + 1100, Y + 1100)
    path = _file(tmp_path, "level2.gpkg", affinity.translate(square, xoff=40_000_000), "EPSG:4528")
    before = _state(engine)["block_lines"]
    proxy.marker = b"INSERT INTO block_lines"
    proxy.armed = True
    lost = CliRunner().invoke(
        app, ["--db", url, "load", "blocklines", str(path), "--level", "2", "--county", LC]
    )
    assert proxy.cuts == 1 and proxy.server_answered.wait(30), lost.output
    assert lost.exit_code == 3, lost.output
    assert "结果未知" in lost.stderr and "outcome is unknown" in lost.stderr
    assert "rolled back" not in lost.stderr and "撤销" not in lost.stderr
    with engine.connect() as conn:  # the server did commit: the line is there, 15 亩 by PostGIS
        written = conn.execute(
            sa.text(
                "SELECT count(*), sum(ST_Area(geom)) / (10000.0 / 15) FROM block_lines WHERE level = 2 AND county_code = :c"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
                " AND load_id = (SELECT max(id) FROM loads)"
            ),
            {"c": LC},
        ).one()
    assert _state(engine)["block_lines"] == before + 1
    assert written[0] == 1 and written[1] == pytest.approx(15.0)
