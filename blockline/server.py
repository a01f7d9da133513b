"""blockline's web server: the Streamlit app (``app.py``) plus the vector tiles its maps draw.

``blockline app`` runs this file (``streamlit run blockline/server.py``). Streamlit serves ``app.py`` as usual; one
more route, ``/tiles/{layer}/{z}/{x}/{y}.pbf``, answers the map's tile requests from PostGIS
(``geo.tiles``) on the same origin, so a pan or a zoom fetches a few small tiles and never reruns the app.

``{layer}`` is one of ``geo.tiles.TILE_LAYERS`` or ``all`` (every layer in one tile: what the maps ask for).
Query parameters of a tile: ``county`` (a 6-digit code), ``as_of`` (YYYY-MM-DD), ``marks`` (a set of parcel
marks), ``color`` (what the far-out squares are coloured by), ``gcj=1`` (shifted for AMap/Gaode), ``v`` (the data version: a new version is a new URL, so tiles
can be cached by the browser). Anything malformed is a 400 with the reason, never a query.

**Who may see a tile.** Outside setup mode (once the store has a user) a tile needs a live session: the
browser's ``blockline_session`` cookie (HttpOnly, SameSite=Strict), which the pages have it fetch right after a
sign-in (``/_blockline/session?code=…``, a one-time code; ``/_blockline/sign-out`` drops it). Without one the
answer is 401. A user limited to some counties gets only those counties' features; a bare viewer gets no contract
field (``lifecycle``). The cache key of a tile includes what its user may see, so a tile cut for one user never
reaches another with fewer rights, and the browser keeps tiles per cookie (``Vary: Cookie``, ``private``).
Streamlit's own ``/_stcore/metrics`` (sessions, cache sizes) is closed outside setup mode except to an admin.

Tiles with a version are also kept in memory here, least recently used out first, up to
``BLOCKLINE_TILE_CACHE_MB`` (default 128; 0 turns the cache off): the city view that every visitor opens
first is cut by PostGIS once per data version, not once per visitor. A new version is a new key, so the
cache never serves a tile of older data.

While the server starts (the app's lifespan, once Streamlit's runtime runs), a thread makes the first visit
as quick as the later ones: it imports what the pages use, opens the store's pool of connections, fills the
loaders' caches the map and overview pages read, cuts the tiles of the city view into the tile cache and
has today's judgement of the city ready (``blockline.services.judged``: judged here only when no load or other process
has stored it), from which it reads the parcel marks (the idle, lifecycle and rating colours) and the
candidate zones into the pages' caches.
``/_blockline/ready`` answers 200 once that is done. Then it checks every few minutes that today's findings of
the current data are there (a new day, a new load).
"""  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from cachetools import LRUCache
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from geo import clock
from geo.auth import SESSION_COOKIE, Actor
from geo.errors import BlocklineError, InputError
from geo.settings import get_settings

HERE = Path(__file__).parent
_LOG = logging.getLogger("blockline.server")
TILE_MIME = "application/vnd.mapbox-vector-tile"
_IMMUTABLE = "private, max-age=86400, immutable"
_VARY = {"Vary": "Cookie"}  # the same URL is another tile for a user with other rights
_COUNTY = re.compile(r"^\d{6}$")
_MARKS = re.compile(r"^[\w|.:-]{1,120}$")


def _params(request: Request) -> dict[str, object]:
    query = request.query_params
    county = query.get("county") or None
    if county is not None and not _COUNTY.match(county):
        raise InputError(
            f"区县代码无效：{county!r}",
            f"not a county code: {county!r}",
            fix_zh="六位行政区划代码",
            fix_en="a 6-digit division code",
        )
    as_of = query.get("as_of") or None
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(
            f"日期无效：{as_of!r}", f"not a date: {as_of!r}", fix_zh="YYYY-MM-DD", fix_en="YYYY-MM-DD"
        ) from None
    marks = query.get("marks") or None
    if marks is not None and not _MARKS.match(marks):
        raise InputError(
            "标注集名称无效", "not a mark set name", fix_zh="由地图生成", fix_en="made by the map"
        )
    color = (
        query.get("color") or None
    )  # the far-out squares' colouring (geo.tiles.SQUARE_COLOR_BY, checked there)
    return {
        "county": county,
        "as_of": day,
        "mark_set": marks,
        "gcj02": query.get("gcj") == "1",
        "color_by": color,
    }


def _tile_cache() -> LRUCache[str, bytes] | None:
    budget = get_settings().tile_cache_mb * 2**20
    return LRUCache(maxsize=budget, getsizeof=lambda body: len(body) + 200) if budget > 0 else None


#: versioned tiles by their whole URL (path and query), within a byte budget
TILE_CACHE = _tile_cache()
_CACHE_LOCK = threading.Lock()  # the event loop and the warm-up thread both use the cache


#: the rights of a user who may see everything (setup mode, or no county limit and contract figures allowed)
FULL_RIGHTS = "all"


def rights_key(counties: frozenset[str] | None, contracts: bool) -> str:
    """What a user may see in a tile, as a short text: ``FULL_RIGHTS``, or their counties and contract flag."""
    if counties is None and contracts:
        return FULL_RIGHTS
    return f"{','.join(sorted(counties)) if counties is not None else '*'};contracts={int(contracts)}"


def cache_key(path: str, query: list[tuple[str, str]], rights: str = FULL_RIGHTS) -> str:
    """The tile cache's key of a request: its path, its query parameters in any order and what its user may
    see (``rights_key``): one user's tile is never another's with fewer rights.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    return f"{path}?{sorted(query)}#{rights}"


def _oidc_configured() -> bool:
    """Whether the app signs in through an identity server (then there is no setup mode: everyone signs in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def _visitor(token: str | None) -> Actor | bool:
    """Who asks, by the session cookie's ``token``: True in setup mode (no user yet and no identity server:
    anyone sees all), an ``Actor``, or False (no live session).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.auth import session_by_token, setup_mode
    from geo.store import open_store

    engine = open_store()
    if not _oidc_configured():
        with engine.connect() as conn:
            if setup_mode(conn):
                return True
    session = session_by_token(engine, token)
    return session.actor if session is not None else False


def _rights(visitor: Actor | bool) -> tuple[frozenset[str] | None, bool]:
    """(counties, contracts) a visitor may see in a tile (see ``geo.tiles.tile``)."""
    if visitor is True:
        return None, True
    assert isinstance(visitor, Actor)
    return (frozenset(visitor.counties) or None), visitor.reads_contracts


def _unauthorized() -> Response:
    return PlainTextResponse(
        "sign in first (no live session) / 请先登录", status_code=401, headers={"Cache-Control": "no-store"}
    )


def _cached(key: str) -> bytes | None:
    if TILE_CACHE is None:
        return None
    with _CACHE_LOCK:
        return TILE_CACHE.get(key)


def _keep(key: str, body: bytes) -> None:
    if TILE_CACHE is not None and len(body) < TILE_CACHE.maxsize:
        with _CACHE_LOCK:
            TILE_CACHE[key] = body


#: tile requests being cut or waiting for one of the tiles' connections (``geo.tiles.tile_engine``)
_TILES_IN_FLIGHT = [0]
_TILES_LOCK = threading.Lock()
_RETRY_AFTER = "2"  # seconds


def _busy(text: str) -> Response:
    return PlainTextResponse(text, status_code=503, headers={"Retry-After": _RETRY_AFTER})


def _take_tile_slot() -> bool:
    """A place among the tiles being cut or queued (the tiles' pool plus ``Settings.tile_queue``), or False."""
    settings = get_settings()
    with _TILES_LOCK:
        if _TILES_IN_FLIGHT[0] >= settings.tile_pool_size + settings.tile_queue:
            return False
        _TILES_IN_FLIGHT[0] += 1
        return True


def _give_tile_slot() -> None:
    with _TILES_LOCK:
        _TILES_IN_FLIGHT[0] -= 1


async def tile_route(request: Request) -> Response:
    """One vector tile, a 400 naming what is wrong with the request, or a 503 with ``Retry-After`` when the
    tiles are busy (every place of their own pool and queue taken, or a tile ran out of time).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.store import open_store
    from geo.tiles import TileBusy, tile, tile_engine

    try:
        visitor = await run_in_threadpool(_visitor, request.cookies.get(SESSION_COOKIE))
    except BlocklineError as exc:
        return PlainTextResponse(exc.as_dict()["message_en"], status_code=503)
    if visitor is False:
        return _unauthorized()
    counties, contracts = _rights(visitor)
    path = request.path_params
    versioned = bool(request.query_params.get("v"))
    key = cache_key(request.url.path, request.query_params.multi_items(), rights_key(counties, contracts))
    body = _cached(key) if versioned else None
    if body is not None:
        return Response(body, media_type=TILE_MIME, headers={"Cache-Control": _IMMUTABLE, **_VARY})
    if not _take_tile_slot():
        return _busy("the map tiles are busy: retry shortly")
    try:
        z, x, y = int(path["z"]), int(path["x"]), int(path["y"])
        options = _params(request)
        engine = tile_engine(await run_in_threadpool(open_store))
        body = await run_in_threadpool(
            lambda: tile(engine, path["layer"], z, x, y, **options, counties=counties, contracts=contracts)
        )
    except TileBusy as exc:
        return _busy(exc.as_dict()["message_en"])
    except (InputError, ValueError) as exc:
        text = exc.as_dict()["message_en"] if isinstance(exc, BlocklineError) else str(exc)
        return PlainTextResponse(text, status_code=400)
    except BlocklineError as exc:
        return PlainTextResponse(exc.as_dict()["message_en"], status_code=503)
    finally:
        _give_tile_slot()
    if versioned:
        _keep(key, body)
    return Response(
        body,
        media_type=TILE_MIME,
        headers={"Cache-Control": _IMMUTABLE if versioned else "no-cache", **_VARY},
    )


def _same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from this app's own pages (``Sec-Fetch-Site``; a client that
    sends none, such as a script, is taken at its word: it holds no cookie of another site to misuse).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def session_route(request: Request) -> Response:
    """Redeem the one-time code a page gave its browser right after a sign-in: 204 with the session cookie, or
    403 (an unknown, used or expired code, or a request from another site).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.auth import redeem_handoff
    from geo.store import open_store

    code = request.query_params.get("code", "")
    if not _same_origin(request) or not 20 <= len(code) <= 100:
        return PlainTextResponse("refused / 拒绝", status_code=403, headers={"Cache-Control": "no-store"})
    engine = await run_in_threadpool(open_store)
    token = await run_in_threadpool(redeem_handoff, engine, code)
    if token is None:
        return PlainTextResponse("refused / 拒绝", status_code=403, headers={"Cache-Control": "no-store"})
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    _set_cookie(response, request, token)
    return response


async def sign_out_route(request: Request) -> Response:
    """End the session of the browser's cookie (if it is live) and drop the cookie: 204."""
    from geo.auth import end_session, session_by_token
    from geo.store import open_store

    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if not _same_origin(request):
        return response
    engine = await run_in_threadpool(open_store)
    session = await run_in_threadpool(session_by_token, engine, request.cookies.get(SESSION_COOKIE))
    if session is not None:
        await run_in_threadpool(end_session, engine, session.id)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


class ClosedMetrics:
    """ASGI middleware: Streamlit's ``/_stcore/metrics`` (sessions, cache sizes, memory) answers outside setup
    mode only to an admin's session; anyone else gets 404, as if there were no such page.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 issue 14: left by tools/house_move.py lint, fix and drop
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/_stcore/metrics"):
            token = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
            try:
                visitor = await run_in_threadpool(_visitor, token)
            except BlocklineError:
                visitor = False
            if visitor is not True and not (isinstance(visitor, Actor) and visitor.can("admin")):
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: the zoom levels of the city view (fitted to the counties on any screen) and the tiles around it
_CITY_VIEW_ZOOMS = (7, 8, 9)
_CITY_VIEW_MARGIN = 2
#: how often the server checks that today's findings of the current data are there (computed when missing)
FINDINGS_EVERY_S = 300
#: what the warm-up did: ``done`` once it has finished (or given up), its seconds, the tiles it cut, the marks
WARM_UP: dict[str, object] = {"done": False}


def cut_city_view(engine: Engine, version: str, bounds: tuple[float, float, float, float]) -> int:
    """Cut the tiles of the city view (``bounds`` in degrees) into the tile cache, under the keys of the
    map's own requests (every layer, the data ``version``, nothing else asked); returns how many.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.tiles import ALL_LAYERS, tile, tiles_covering

    cut = 0
    for z in _CITY_VIEW_ZOOMS:
        for x, y in tiles_covering(bounds, z, margin=_CITY_VIEW_MARGIN):
            key = cache_key(f"/tiles/{ALL_LAYERS}/{z}/{x}/{y}.pbf", [("v", version)], FULL_RIGHTS)
            if _cached(key) is None:
                _keep(key, tile(engine, ALL_LAYERS, z, x, y))
                cut += 1
    return cut


def _warm_up_steps() -> int:
    """Imports, the pool's connections, the loaders' caches and the city view's tiles; returns the tiles cut.

    Not ``streamlit_folium`` itself: a component declared outside a script run is never registered, so never
    served (the map's frame would stay empty); ``folium.plugins`` is most of its import. Two first-time costs
    of Streamlit's own, measured in the first session's run (0.5 s of it), are paid here instead:
    ``streamlit.emojis`` compiles one very large regular expression (0.3 s) when a page icon is first set, and
    the first element sent asks, once per process, whether it runs in a REPL (``inspect.stack()``, 0.16 s).
    """
    import importlib

    for name in (
        "blockline.ui.data",
        "blockline.ui.maps",
        "blockline.ui.auth",
        "blockline.ui.balance_view",
        "blockline.ui.zones_view",
        "blockline.ui.lifecycle_view",
        "folium",
        "folium.plugins",
        "altair",
        "blockline.services.ledger_record",
        "zoning.idle",
        "zoning.lifecycle",
        "blockline.services.judged",
        "blockline.services.marks",
        "blockline.services.reports",
        "blockline.services.zones_store",
        "geo.tiles",
        "geo.store",
        "streamlit.emojis",
    ):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the page that needs it shows the error itself
            _LOG.info("warm-up: %s not imported (%s)", name, exc)
    try:
        from streamlit import delta_generator

        delta_generator._maybe_print_use_warning()  # the once-per-process REPL check (private; may go)
    except Exception as exc:  # noqa: BLE001 - only the first page run pays for it then
        _LOG.info("warm-up: Streamlit's REPL check not made (%s)", exc)

    import sqlalchemy as sa

    from blockline.ui import data
    from geo.store import open_store

    engine = open_store()
    # Every connection of the pool at once, each with PostGIS loaded (~15 ms a connection).
    with contextlib.ExitStack() as stack:
        for conn in [stack.enter_context(engine.connect()) for _ in range(engine.pool.size())]:
            conn.execute(sa.text("SELECT postgis_lib_version()"))
    if data.is_empty(data.store_counts()):
        return 0
    for loader in (
        data.totals,
        data.land_uses,
        data.county_summary,
    ):  # with the arguments the pages start with
        loader()
    counties = data.counties()
    if TILE_CACHE is None or not len(counties):
        return 0
    west, south, east, north = (float(v) for v in counties.total_bounds)
    return cut_city_view(engine, data.tile_version(), (west, south, east, north))


def _todays_findings() -> str | None:
    """Have today's judgement of the current data under the default profile ready, and what the map and the
    zones page show first read into their caches. A planner would otherwise wait for them the first time each
    day or after each load.

    The city is judged once per data version, date and profile by whichever process asks first
    (``blockline.services.judged``: a load judges it itself; otherwise this warm-up does, 5–10 s for 200,000 parcels) and
    kept in the store with the map's marks; every app process then only reads it back. Read here: the marks'
    set name (the map's colours) and the candidate 连片开发 zones at the profile's threshold and gap (their
    description takes a few seconds of PostGIS). The idle page's findings and the lifecycle work list are read
    from the stored judgement on their page's first visit (about 2 s each at 200,000 parcels; held in memory
    here they would take some 330 MB of the server's before anyone asked). Returns the marks' set name, or
    None when there are no parcels.

    Through the pages' own cached loaders (``blockline.ui.data``), so a page that asks at the same moment waits for this
    instead of asking a second time.
    """  # noqa: D205, E501 issue 14: left by tools/house_move.py lint, fix and drop
    from blockline.ui import data
    from zoning.policy import get_profile

    if not data.store_counts()["parcels"]:
        return None
    today, policy = clock.today(), get_settings().policy
    profile = get_profile(policy)
    _judge_in_child(today, policy)
    marks = data.mark_set(today, policy, data.tile_version())  # judges here only if the child could not
    if profile.has("consolidation.min_mu"):  # a city without 连片开发 rules (Yiwu) has no candidates
        data.zone_candidates(
            today,
            policy,
            float(profile.value("consolidation.min_mu")),
            float(profile.value("consolidation.gap_m")),
        )
    return marks


def _judge_in_child(today: dt.date, policy: str) -> None:
    """Judge today's city in a child process (``python -m blockline.services.judged``) unless its marks, written with
    the judgement, are stored: the judging's few hundred MB at city scale are returned to the system when
    the child ends, not kept by the server for ever. A child that fails is only logged.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import subprocess
    import sys

    from blockline.services.marks import mark_set_name
    from blockline.ui import data
    from geo.tiles import has_marks
    from zoning.policy import get_profile

    engine = data.get_engine()
    if has_marks(engine, mark_set_name(engine, as_of=today, profile=get_profile(policy))):
        return
    done = subprocess.run(
        [sys.executable, "-m", "blockline.services.judged"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "BLOCKLINE_POLICY": policy},
        check=False,
        timeout=1800,
    )
    _LOG.info(
        "warm-up: judged in a child process (exit %s) %s %s",
        done.returncode,
        done.stdout.strip(),
        done.stderr.strip()[-500:],
    )


def _warm_up() -> None:
    """Make the first visit as quick as the later ones (see the module's docstring). A step that fails is only
    logged: the page that needs it computes it, or shows the error, itself.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    import time

    t0 = time.perf_counter()
    for name, step in (("tiles", _warm_up_steps), ("marks", _todays_findings)):
        try:
            WARM_UP[name] = step()
        except Exception as exc:  # noqa: BLE001
            _LOG.info("warm-up: %s not done (%s)", name, exc)
    WARM_UP.update(done=True, seconds=round(time.perf_counter() - t0, 2))
    _LOG.info("warm-up: %s", WARM_UP)


def _keep_warm() -> None:
    """The warm-up, then today's findings checked every ``FINDINGS_EVERY_S`` (a new day, a new load), for ever."""
    import time

    _warm_up()
    while True:
        time.sleep(FINDINGS_EVERY_S)
        try:
            _todays_findings()
        except Exception as exc:  # noqa: BLE001 - the pages compute them themselves when asked
            _LOG.info("findings: not computed (%s)", exc)


async def ready_route(request: Request) -> Response:
    """200 once the warm-up has finished (a readiness probe; ``/_stcore/health`` answers as soon as the server
    listens), else 503; the body says what the warm-up did.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    del request
    return JSONResponse(WARM_UP, status_code=200 if WARM_UP["done"] else 503)


async def version_route(request: Request) -> Response:
    """The data version this process serves (the one its pages and tile URLs carry, re-read from the store
    every few seconds), its process and its tile cache's size: for an operator or a load balancer checking
    that every app process behind it serves the same data. Nothing of the data itself.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    del request
    from blockline.ui import data

    try:
        version = await run_in_threadpool(data.tile_version)
    except BlocklineError as exc:
        return PlainTextResponse(exc.as_dict()["message_en"], status_code=503)
    with _CACHE_LOCK:
        tiles = len(TILE_CACHE) if TILE_CACHE is not None else 0
        size = int(TILE_CACHE.currsize) if TILE_CACHE is not None else 0
    return JSONResponse(
        {"data_version": version, "pid": os.getpid(), "tile_cache": {"tiles": tiles, "bytes": size}},
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [
    Route("/tiles/{layer}/{z}/{x}/{y}.pbf", tile_route, methods=["GET"]),
    Route("/_blockline/ready", ready_route, methods=["GET"]),
    Route("/_blockline/version", version_route, methods=["GET"]),
    Route("/_blockline/session", session_route, methods=["GET"]),
    Route("/_blockline/sign-out", sign_out_route, methods=["GET"]),
]


@contextlib.asynccontextmanager
async def _lifespan(_app: object) -> AsyncIterator[None]:
    """Runs once Streamlit's runtime has started: the caches and the component the pages use exist by then."""
    threading.Thread(target=_keep_warm, name="blockline-warm-up", daemon=True).start()
    yield


os.environ["BLOCKLINE_TILES"] = "1"  # the pages draw their maps from these tiles
app = st.App(
    HERE.parent / "app.py", routes=ROUTES, lifespan=_lifespan, middleware=[Middleware(ClosedMetrics)]
)
