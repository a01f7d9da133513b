"""The tile route of blockline/server.py, called as Starlette calls it, on a real store."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from pyproj import Transformer
from shapely.geometry import box
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from blockline.server import ROUTES, TILE_MIME, ready_route, tile_route
from blockline.tile_cache import TILE_CACHE, cache_key
from blockline.tile_cache import new_tile_cache as _tile_cache
from blockline.warm_up import WARM_UP, cut_city_view
from blockline.warm_up import warm_up as _warm_up
from geo import clock
from geo.auth import Actor
from geo.load import load_parcels
from geo.settings import get_settings
from geo.store import open_store
from geo.tiles import ALL_LAYERS, data_version, tile, tiles_covering
from tests.files import WENZHOU_X0 as X
from tests.files import WENZHOU_Y0 as Y
from tests.files import load_two_county_city

HALF = 20037508.342789244


def call(path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    route = ROUTES[0]
    match, scope = route.matches({"type": "http", "method": "GET", "path": path})
    assert match.name == "FULL", f"{path} does not match {route.path}"
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": [],
            **scope,
        }
    )
    response = asyncio.run(tile_route(request))
    return response.status_code, dict(response.headers), bytes(response.body)


@pytest.fixture
def city(engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    load_two_county_city(engine, tmp_path)
    assert open_store() is not None  # the route opens the same store through the settings
    return engine


def level1_tile(z: int) -> tuple[int, int, int]:
    x, y = Transformer.from_crs(4549, 3857, always_xy=True).transform(X + 400, Y + 400)  # 鹿城's level-1 line
    size = 2 * HALF / (1 << z)
    return z, int((x + HALF) // size), int((HALF - y) // size)


def test_a_tile_is_served_with_its_type_and_cache(city):
    z, x, y = level1_tile(15)
    status, headers, body = call(f"/tiles/level1/{z}/{x}/{y}.pbf", f"v={data_version(city)}")
    assert status == 200 and headers["content-type"] == TILE_MIME
    assert "immutable" in headers["cache-control"]
    features = mapbox_vector_tile.decode(body)["level1"]["features"]
    assert [f["properties"]["county_code"] for f in features] == ["330302"]
    status, headers, body = call(f"/tiles/level1/{z}/{x}/{y}.pbf", "county=330304")
    assert status == 200 and body == b"" and headers["cache-control"] == "no-cache"


def test_tiles_of_a_data_version_are_kept_and_a_new_version_is_cut_anew(city, tmp_path):
    z, x, y = level1_tile(15)
    path, old = f"/tiles/all/{z}/{x}/{y}.pbf", f"v={data_version(city)}"
    status, _, first = call(path, old)
    layers = mapbox_vector_tile.decode(first)
    assert status == 200 and [f["properties"]["county_code"] for f in layers["level1"]["features"]] == [
        "330302"
    ]
    assert "parcels" not in layers and cache_key(path, [("v", old[2:])]) in TILE_CACHE
    # A parcel in that tile: PostGIS would now put it in, but the old version's tile is the one kept.
    gpd.GeoDataFrame(
        {"宗地编号": ["P-NEW"]}, geometry=[box(X + 350, Y + 350, X + 450, Y + 450)], crs="EPSG:4549"
    ).to_file(tmp_path / "new.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "new.gpkg", user="test")
    assert call(path, old)[2] == first
    new = f"v={data_version(city)}"
    assert new != old
    for query in (new, ""):  # the new version is cut again; a tile without a version is never kept
        status, headers, body = call(path, query)
        features = mapbox_vector_tile.decode(body)["parcels"]["features"]
        assert status == 200 and [f["properties"]["parcel_no"] for f in features] == ["P-NEW"]
    assert headers["cache-control"] == "no-cache" and cache_key(path, []) not in TILE_CACHE


def test_the_tile_cache_has_the_budget_of_the_settings(monkeypatch):
    for mb, expected in (("0", None), ("3", 3 * 2**20)):
        monkeypatch.setenv("BLOCKLINE_TILE_CACHE_MB", mb)
        get_settings.cache_clear()
        cache = _tile_cache()
        assert (cache.maxsize if cache is not None else None) == expected
    get_settings.cache_clear()
    monkeypatch.setenv("BLOCKLINE_TILE_CACHE_MB", "-1")
    with pytest.raises(ValueError, match="tile_cache_mb"):
        _tile_cache()
    monkeypatch.delenv("BLOCKLINE_TILE_CACHE_MB")
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        ("/tiles/roads/3/1/1.pbf", "", "no such tile layer"),
        ("/tiles/parcels/3/9/1.pbf", "", "out of range"),
        ("/tiles/parcels/3/1/1.pbf", "county=1;DROP TABLE parcels", "not a county code"),
        ("/tiles/parcels/3/1/1.pbf", "as_of=2024-13-01", "not a date"),
        ("/tiles/parcels/3/1/1.pbf", "marks=<script>", "not a mark set"),
    ],
)
def test_a_bad_request_is_a_400_that_says_why(city, path, query, says):
    status, _, body = call(path, query)
    assert status == 400 and says in body.decode()


def test_the_city_view_is_cut_into_the_cache_under_the_keys_of_the_maps_own_requests(city):
    lon0, lat0 = Transformer.from_crs(4549, 4326, always_xy=True).transform(X, Y)
    lon1, lat1 = Transformer.from_crs(4549, 4326, always_xy=True).transform(
        X + 4000, Y + 2000
    )  # both counties
    bounds, version = (lon0, lat0, lon1, lat1), data_version(city)
    TILE_CACHE.clear()
    expected = sum(len(tiles_covering(bounds, z, margin=2)) for z in (7, 8, 9))
    assert cut_city_view(city, version, bounds) == expected and len(TILE_CACHE) == expected
    assert cut_city_view(city, version, bounds) == 0  # kept: nothing is cut twice
    z = 9
    x, y = tiles_covering(bounds, z)[0]
    path = f"/tiles/{ALL_LAYERS}/{z}/{x}/{y}.pbf"
    kept = TILE_CACHE[cache_key(path, [("v", version)])]
    assert kept == tile(city, ALL_LAYERS, z, x, y) and "level1" in mapbox_vector_tile.decode(kept)
    TILE_CACHE[cache_key(path, [("v", version)])] = b"kept"  # what the route serves for the map's own URL
    assert call(path, f"v={version}")[2] == b"kept"


def test_the_server_says_it_is_ready_once_its_warm_up_is_done(city, tmp_path):
    import streamlit as st

    from blockline.ui import data
    from geo.queries import store_counts
    from geo.tiles import has_marks

    def ready() -> tuple[int, dict[str, object]]:
        response = asyncio.run(
            ready_route(
                Request(
                    {
                        "type": "http",
                        "method": "GET",
                        "path": "/_blockline/ready",
                        "query_string": b"",
                        "headers": [],
                    }
                )
            )
        )
        return response.status_code, json.loads(response.body)

    gpd.GeoDataFrame(
        {"宗地编号": ["P-1"]}, geometry=[box(X + 350, Y + 350, X + 450, Y + 450)], crs="EPSG:4549"
    ).to_file(tmp_path / "p.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "p.gpkg", user="test")
    st.cache_data.clear()  # another test's store may be cached under a version of seconds ago
    WARM_UP.clear()
    WARM_UP["done"] = False
    assert ready() == (503, {"done": False})
    TILE_CACHE.clear()
    _warm_up()
    status, said = ready()
    assert status == 200 and said["done"] is True and said["tiles"] == len(TILE_CACHE) > 0
    # Today's marks of the current data are in the store, under the name the map page asks for.
    marks = said["marks"]
    assert marks == f"{get_settings().policy}|{clock.today().isoformat()}|{data_version(city)}"
    assert has_marks(city, marks)
    assert data.store_counts() == store_counts(city) and store_counts(city)["parcels"] == 1


def test_a_warm_up_that_cannot_reach_the_database_still_ends_and_says_what_it_did(
    city, tmp_path, monkeypatch
):
    monkeypatch.setenv("BLOCKLINE_DATABASE_URL", f"postgresql+psycopg://nobody@/none?host={tmp_path}")
    get_settings.cache_clear()
    try:
        WARM_UP.clear()
        WARM_UP["done"] = False
        _warm_up()
    finally:
        monkeypatch.delenv("BLOCKLINE_DATABASE_URL")
        get_settings.cache_clear()
    assert (
        WARM_UP["done"] is True and "tiles" not in WARM_UP
    )  # the server serves; the pages say what is wrong


def test_the_warm_up_judges_the_city_once_and_a_restart_is_served_it(engine, monkeypatch):
    """Nothing stored: the warm-up judges today's city in a child process (whose memory is returned when it
    ends), and the map's marks and the zones come from that judgement; a restart with the same data (caches
    empty, WARM_UP anew) reads it back instead of judging again."""
    import streamlit as st

    from blockline.demo import load_demo

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM judgements"))
    load_demo(engine, user="test", n_parcels=300, seed=5)
    monkeypatch.setenv("BLOCKLINE_NOW", "2026-11-01T09:00:00+08:00")
    get_settings.cache_clear()
    try:
        _warm_up_twice(engine)
    finally:  # the settings (and so the clock) of the tests after this one are not this test's
        monkeypatch.delenv("BLOCKLINE_NOW")
        get_settings.cache_clear()
        st.cache_data.clear()


def _warm_up_twice(engine) -> None:
    """Two warm-ups on the same data (the second as after a restart): judged once, then read back."""
    import os
    import socket

    import streamlit as st

    from blockline.services.judged_write import judge_frames
    from blockline.ui import data
    from zoning.policy import get_profile

    def judgements() -> list[tuple]:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT id, as_of, profile, judged_by, served FROM judgements")).all()

    first: tuple[int, str] | None = None
    for restart in range(2):
        st.cache_data.clear()
        WARM_UP.clear()
        WARM_UP["done"] = False
        _warm_up()
        assert WARM_UP["done"] is True and WARM_UP["marks"]
        ((jid, as_of, profile, judged_by, served),) = judgements()
        host, pid = judged_by.split(":")
        assert (as_of, profile, host) == (dt.date(2026, 11, 1), "wenzhou-2020", socket.gethostname())
        assert int(pid) != os.getpid()  # not by the server: by its child
        if restart:
            assert (jid, judged_by) == first  # read back, not judged again
        first = (jid, judged_by)
        # marks and zones from the one judgement (judged by the first warm-up only); after the restart the
        # marks are found by their name and the zones are served the stored judgement again
        assert served == 1 + restart
    fresh = judge_frames(
        data.queries.read_parcels(engine, geometry=False),
        data.queries.read_ratings(engine),
        as_of=dt.date(2026, 11, 1),
        profile=get_profile("wenzhou-2020"),
    )
    shown = data.idle_report(dt.date(2026, 11, 1), "wenzhou-2020")
    assert shown["parcel_no"].tolist() == fresh["idle"]["parcel_no"].tolist() and len(shown) > 10
    # the child writes the commands' JSON documents after the warm-up went on (--documents-later): nobody here
    # asks for one, so they are there only if the child wrote them
    import time

    for _ in range(600):
        with engine.connect() as conn:
            written = conn.execute(
                sa.text("SELECT documents FROM judgements WHERE id = :i"), {"i": jid}
            ).scalar()
        if written:
            break
        time.sleep(0.1)
    assert written is True


# -- who may see a tile (issue 12.1) ---------------------------------------------------------------------
PASSWORD = "correct horse battery"


def call_as(
    path: str, query: str = "", *, token: str | None = None, site: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Call the route of blockline/server.py that answers ``path``, as Starlette would, with the session cookie ``token``
    and the browser's ``Sec-Fetch-Site`` header ``site`` when given."""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
    found = [(r, r.matches({"type": "http", "method": "GET", "path": path})) for r in ROUTES]
    found = [(r, scope) for r, (match, scope) in found if match.name == "FULL"]
    assert len(found) == 1, f"{path} matches {len(found)} routes"
    route, scope = found[0]
    headers = [(b"cookie", f"blockline_session={token}".encode())] if token else []
    headers += [(b"sec-fetch-site", site.encode())] if site else []
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
            **scope,
        }
    )
    response = asyncio.run(route.endpoint(request))
    return response.status_code, dict(response.headers), bytes(response.body)


def token_of(engine, name: str) -> str:
    """The cookie a browser holds after ``name`` signed in (the sign-in, the page's code, its redemption)."""
    from geo.auth import authenticate, redeem_handoff, start_session

    actor = authenticate(engine, name, PASSWORD)
    assert actor is not None
    _, code = start_session(engine, actor)
    token = redeem_handoff(engine, code)
    assert token is not None
    return token


@pytest.fixture
def staffed_city(city, tmp_path):
    """Two parcels, one per county, with holders; marks with a contract warning; four users."""
    from geo.auth import add_user
    from geo.tiles import write_marks

    gpd.GeoDataFrame(
        {"宗地编号": ["P-LC", "P-OH"], "权利人": ["鹿城甲公司", "瓯海乙公司"]},
        geometry=[box(X + 300, Y + 300, X + 400, Y + 400), box(X + 2300, Y + 300, X + 2400, Y + 400)],
        crs="EPSG:4549",
    ).to_file(tmp_path / "two.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "two.gpkg", user="test")
    write_marks(city, "m1", [("P-LC", "idle", "late_start", "C"), ("P-OH", None, "tax_shortfall", "D")])
    add_user(city, "admin", PASSWORD, roles=["admin"], by="installer")
    add_user(city, "lc", PASSWORD, roles=["planner"], counties=["330302"], by="admin")
    add_user(city, "reader", PASSWORD, roles=["viewer"], by="admin")
    add_user(city, "oh", PASSWORD, roles=["planner"], by="admin")
    return city


def city_tiles(z: int) -> list[tuple[int, int]]:
    lon0, lat0 = Transformer.from_crs(4549, 4326, always_xy=True).transform(X, Y)
    lon1, lat1 = Transformer.from_crs(4549, 4326, always_xy=True).transform(X + 4000, Y + 2000)
    return tiles_covering((lon0, lat0, lon1, lat1), z)


def features_seen(token: str | None, layer: str, z: int = 14, query: str = "marks=m1") -> list[dict]:
    """The properties of every feature of ``layer`` in the tiles over both counties, as ``token`` gets them."""
    seen = []
    for x, y in city_tiles(z):
        status, _, body = call_as(f"/tiles/all/{z}/{x}/{y}.pbf", query, token=token)
        assert status == 200
        seen += [f["properties"] for f in mapbox_vector_tile.decode(body).get(layer, {}).get("features", [])]
    return seen


def test_outside_setup_mode_a_tile_needs_a_live_session(staffed_city):
    from geo.auth import end_session, start_session

    z, x, y = level1_tile(15)
    path = f"/tiles/all/{z}/{x}/{y}.pbf"
    for token in (None, "", "made-up-token", "x" * 300):
        status, headers, body = call_as(path, token=token)
        assert status == 401 and b"P-LC" not in body and headers["cache-control"] == "no-store"
    token = token_of(staffed_city, "admin")
    status, _, body = call_as(path, "marks=m1", token=token)
    assert status == 200 and "level1" in mapbox_vector_tile.decode(body)
    with staffed_city.connect() as conn:  # the session the cookie names, ended as a sign-out ends it
        sid = conn.execute(sa.text("SELECT id FROM sessions WHERE token_hash IS NOT NULL")).scalar_one()
    end_session(staffed_city, sid)
    assert call_as(path, token=token)[0] == 401
    _, code = start_session(staffed_city, Actor(name="admin", roles=frozenset({"admin"})))
    assert call_as(path, token=code)[0] == 401  # a page's one-time code is not a cookie


def test_a_disabled_user_s_cookie_is_refused_at_once(staffed_city):
    from geo.auth import disable_user

    z, x, y = level1_tile(15)
    token = token_of(staffed_city, "lc")
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == 200
    disable_user(staffed_city, "lc", by="admin")
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == 401
    disable_user(staffed_city, "lc", by="admin", disabled=False)  # enabled again: the old session stays ended
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == 401


def test_a_county_limited_planner_gets_no_feature_of_another_county(staffed_city):
    admin, lc = token_of(staffed_city, "admin"), token_of(staffed_city, "lc")
    # One by one (z14) and as squares of counts (z10): the admin sees both counties, 鹿城's planner only 鹿城.
    assert sorted(p["parcel_no"] for p in features_seen(admin, "parcels")) == ["P-LC", "P-OH"]
    parcels = features_seen(lc, "parcels")
    assert [(p["parcel_no"], p["holder"], p["county_code"]) for p in parcels] == [
        ("P-LC", "鹿城甲公司", "330302")
    ]
    assert sum(p["parcels"] for p in features_seen(admin, "parcels", z=10)) == 2
    assert sum(p["parcels"] for p in features_seen(lc, "parcels", z=10)) == 1
    assert {p["county_code"] for p in features_seen(lc, "level1")} == {"330302"}
    assert {p["code"] for p in features_seen(lc, "counties")} == {"330302"}
    assert {p["code"] for p in features_seen(admin, "counties")} == {"330302", "330304"}
    # Asking for the other county by name gives nothing either.
    assert features_seen(lc, "parcels", query="county=330304") == []


def test_a_viewer_s_tile_has_no_contract_field(staffed_city):
    reader, planner = token_of(staffed_city, "reader"), token_of(staffed_city, "oh")
    seen = {p["parcel_no"]: p for p in features_seen(reader, "parcels")}
    assert set(seen) == {"P-LC", "P-OH"} and all("lifecycle" not in p for p in seen.values())
    assert (seen["P-LC"]["idle"], seen["P-LC"]["grade"], seen["P-OH"]["grade"]) == (
        "idle",
        "C",
        "D",
    )  # the rest
    assert {p["parcel_no"]: p["lifecycle"] for p in features_seen(planner, "parcels")} == {
        "P-LC": "late_start",
        "P-OH": "tax_shortfall",
    }


def test_a_cached_tile_never_reaches_a_user_with_fewer_rights(staffed_city):
    TILE_CACHE.clear()
    version = f"marks=m1&v={data_version(staffed_city)}"
    admin, lc, reader = (token_of(staffed_city, n) for n in ("admin", "lc", "reader"))
    full = features_seen(admin, "parcels", query=version)  # cut and kept first, for the admin
    assert {p["parcel_no"] for p in full} == {"P-LC", "P-OH"} and len(TILE_CACHE) > 0
    assert {p["parcel_no"] for p in features_seen(lc, "parcels", query=version)} == {"P-LC"}
    assert all("lifecycle" not in p for p in features_seen(reader, "parcels", query=version))
    assert {p["parcel_no"] for p in features_seen(admin, "parcels", query=version)} == {"P-LC", "P-OH"}
    z, x, y = level1_tile(15)
    _, headers, _ = call_as(f"/tiles/all/{z}/{x}/{y}.pbf", version, token=lc)
    assert headers["vary"] == "Cookie" and headers["cache-control"].startswith("private")


def test_the_page_s_code_is_redeemed_once_for_an_http_only_strict_cookie(staffed_city):
    from geo.auth import authenticate, start_session

    _, code = start_session(staffed_city, authenticate(staffed_city, "lc", PASSWORD))
    assert call_as("/_blockline/session", f"code={code}", site="cross-site")[0] == 403
    status, headers, _ = call_as("/_blockline/session", f"code={code}", site="same-origin")
    assert status == 204 and headers["cache-control"] == "no-store"
    name, _, rest = headers["set-cookie"].partition("=")
    token, *attributes = [part.strip() for part in rest.split(";")]
    assert name == "blockline_session" and {"HttpOnly", "SameSite=strict", "Path=/"} <= set(attributes)
    z, x, y = level1_tile(15)
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == 200
    assert call_as("/_blockline/session", f"code={code}")[0] == 403  # once only
    # A code is good for a minute: 2 s before its end it is redeemed, 2 s after it is not.
    for left_s, expected in ((2, 204), (-2, 403)):
        _, code = start_session(staffed_city, authenticate(staffed_city, "lc", PASSWORD))
        with staffed_city.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE sessions SET handoff_until = now() + make_interval(secs => :s) "
                    "WHERE handoff_hash IS NOT NULL"
                ),
                {"s": left_s},
            )
        assert call_as("/_blockline/session", f"code={code}")[0] == expected


def test_sign_out_at_the_server_ends_the_session_and_drops_the_cookie(staffed_city):
    token = token_of(staffed_city, "reader")
    z, x, y = level1_tile(15)
    status, headers, _ = call_as("/_blockline/sign-out", token=token, site="same-origin")
    assert status == 204 and headers["set-cookie"].startswith('blockline_session="";')
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == 401


@pytest.mark.parametrize(("minutes_idle", "status"), [(60 * 60 - 2, 200), (60 * 60 + 2, 401)])
def test_a_session_unused_for_the_session_minutes_is_refused(staffed_city, minutes_idle, status):
    token = token_of(staffed_city, "lc")
    with staffed_city.begin() as conn:  # BLOCKLINE_SESSION_MINUTES is 60 by default
        conn.execute(
            sa.text("UPDATE sessions SET last_seen = now() - make_interval(secs => :s)"), {"s": minutes_idle}
        )
    z, x, y = level1_tile(15)
    assert call_as(f"/tiles/all/{z}/{x}/{y}.pbf", token=token)[0] == status


def metrics_status(token: str | None) -> int:
    """What ``/_stcore/metrics`` answers through blockline/server.py's middleware (Streamlit's own route behind it)."""
    from blockline.server import ClosedMetrics

    async def streamlit_metrics(scope, receive, send):
        await PlainTextResponse("# metrics", status_code=200)(scope, receive, send)

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    headers = [(b"cookie", f"blockline_session={token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/_stcore/metrics",
        "query_string": b"",
        "headers": headers,
    }
    asyncio.run(ClosedMetrics(streamlit_metrics)(scope, receive, send))
    return sent[0]["status"]


def test_streamlit_s_metrics_are_closed_outside_setup_mode_but_to_an_admin(city, staffed_city):
    reader, admin = token_of(staffed_city, "reader"), token_of(staffed_city, "admin")
    assert [metrics_status(t) for t in (None, "made-up", reader, admin)] == [404, 404, 404, 200]
    with staffed_city.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM users")
        )  # setup mode is a flag written once: no users does not reopen it
    assert metrics_status(None) == 404


def test_streamlit_s_metrics_are_open_in_setup_mode(city):
    with (
        city.connect() as conn
    ):  # no user was ever added to this store: setup mode, open as everything else is
        assert conn.execute(sa.text("SELECT count(*) FROM setup_ended")).scalar_one() == 0
    assert metrics_status(None) == 200


def test_the_far_out_squares_are_coloured_as_the_map_asks(city, tmp_path):
    """Issue 18, item 7: ``color=land_use`` reaches the tile: its square carries the value covering most 亩."""
    gdf = gpd.GeoDataFrame(
        {"宗地编号": ["Q-1", "Q-2"], "用地性质": ["M1", "M2"]},
        geometry=[box(X + 150, Y + 150, X + 250, Y + 250), box(X + 150, Y + 300, X + 250, Y + 500)],
        crs="EPSG:4549",
    )  # 15 亩 of M1, 30 亩 of M2
    gdf.to_file(tmp_path / "q.gpkg", engine="pyogrio")
    load_parcels(city, tmp_path / "q.gpkg", user="test")
    x3857, y3857 = Transformer.from_crs(4549, 3857, always_xy=True).transform(X + 200, Y + 300)
    z = 9
    size = 2 * HALF / (1 << z)
    x, y = int((x3857 + HALF) // size), int((HALF - y3857) // size)
    status, _, body = call(f"/tiles/parcels/{z}/{x}/{y}.pbf", "color=land_use")
    assert status == 200
    (square,) = mapbox_vector_tile.decode(body)["parcels"]["features"]
    assert square["properties"]["top"] == "M2" and square["properties"]["top_share"] == pytest.approx(30 / 45)
    status, _, body = call(f"/tiles/parcels/{z}/{x}/{y}.pbf", "color=holder")
    assert status == 400 and b"cannot colour by" in body
