"""blockline's web server: the Streamlit app (``app.py``) plus the vector tiles its maps draw.

``blockline app`` runs this file (``streamlit run blockline/server.py``). Streamlit serves ``app.py`` as usual; one
more route, ``/tiles/{layer}/{z}/{x}/{y}.pbf``, answers the map's tile requests from PostGIS
(``geo.tiles``) on the same origin, so a pan or a zoom fetches a few small tiles and never reruns the app.

``{layer}`` is one of ``geo.tiles.TILE_LAYERS`` or ``all`` (every layer in one tile: what the maps ask for).
Query parameters of a tile: ``county`` (a 6-digit code), ``as_of`` (YYYY-MM-DD), ``marks`` (a set of parcel
marks), ``color`` (what the far-out squares are coloured by), ``gcj=1`` (shifted for AMap/Gaode), ``v`` (the
data version: a new version is a new URL, so tiles can be cached by the browser). Anything malformed is a 400
with the reason, never a query.

**Who may see a tile.** Outside setup mode (once the store has a user) a tile needs a live session: the
browser's ``blockline_session`` cookie (HttpOnly, SameSite=Strict), which the pages have it fetch right after a
sign-in (``/_blockline/session?code=…``, a one-time code; ``/_blockline/sign-out`` drops it). Without one the
answer is 401. A user limited to some counties gets only those counties' features; a bare viewer gets no contract
field (``lifecycle``). The cache key of a tile includes what its user may see, so a tile cut for one user never
reaches another with fewer rights, and the browser keeps tiles per cookie (``Vary: Cookie``, ``private``).
Streamlit's own ``/_stcore/metrics`` (sessions, cache sizes) is closed outside setup mode except to an admin.

Tiles with a version are also kept in memory (``blockline.tile_cache``, up to ``BLOCKLINE_TILE_CACHE_MB``): the
city view that every visitor opens first is cut by PostGIS once per data version, not once per visitor.

While the server starts (the app's lifespan, once Streamlit's runtime runs), a thread makes the first visit
as quick as the later ones and has today's findings ready (``blockline.warm_up``); ``/_blockline/ready``
answers 200 once that is done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypedDict

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from blockline.tile_cache import (
    FULL_RIGHTS,
    TILE_CACHE,
    cache_key,
    cache_size,
    cached,
    keep,
    rights_key,
)
from blockline.warm_up import WARM_UP, cut_city_view, keep_warm, served_version, warm_up
from geo.auth import SESSION_COOKIE, Actor, end_session, redeem_handoff, session_by_token, setup_mode
from geo.errors import BlocklineError, InputError
from geo.settings import get_settings
from geo.store import open_store
from geo.tiles import TileBusy, tile, tile_engine

__all__ = [
    "FULL_RIGHTS",
    "ROUTES",
    "TILE_CACHE",
    "TILE_MIME",
    "WARM_UP",
    "ClosedMetrics",
    "app",
    "cache_key",
    "cut_city_view",
    "ready_route",
    "rights_key",
    "session_route",
    "sign_out_route",
    "tile_route",
    "version_route",
    "warm_up",
]

HERE = Path(__file__).parent
TILE_MIME = "application/vnd.mapbox-vector-tile"
_IMMUTABLE = "private, max-age=86400, immutable"
_VARY = {"Vary": "Cookie"}  # the same URL is another tile for a user with other rights
_COUNTY = re.compile(r"^\d{6}$")
_MARKS = re.compile(r"^[\w|.:-]{1,120}$")


class _TileOptions(TypedDict):
    """A tile request's query parameters, checked, as ``geo.tiles.tile`` takes them."""

    county: str | None
    as_of: dt.date | None
    mark_set: str | None
    gcj02: bool
    color_by: str | None


def _params(request: Request) -> _TileOptions:
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


def _oidc_configured() -> bool:
    """Whether the app signs in through an identity server (then there is no setup mode: everyone signs in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def _visitor(token: str | None) -> Actor | bool:
    """Who asks, by the session cookie's ``token``: True in setup mode, an ``Actor``, or False (no live session).

    Setup mode: no user yet and no identity server, so anyone sees all.
    """
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
    """One vector tile, a 400 naming what is wrong with the request, or a 503 with ``Retry-After``.

    503: the tiles are busy (every place of their own pool and queue taken, or a tile ran out of time).
    """
    try:
        visitor = await run_in_threadpool(_visitor, request.cookies.get(SESSION_COOKIE))
    except BlocklineError as exc:
        return PlainTextResponse(exc.en, status_code=503)
    if visitor is False:
        return _unauthorized()
    counties, contracts = _rights(visitor)
    path = request.path_params
    versioned = bool(request.query_params.get("v"))
    key = cache_key(request.url.path, request.query_params.multi_items(), rights_key(counties, contracts))
    kept = cached(key) if versioned else None
    if kept is not None:
        return Response(kept, media_type=TILE_MIME, headers={"Cache-Control": _IMMUTABLE, **_VARY})
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
        return _busy(exc.en)
    except (InputError, ValueError) as exc:
        text = exc.en if isinstance(exc, BlocklineError) else str(exc)
        return PlainTextResponse(text, status_code=400)
    except BlocklineError as exc:
        return PlainTextResponse(exc.en, status_code=503)
    finally:
        _give_tile_slot()
    if versioned:
        keep(key, body)
    return Response(
        body,
        media_type=TILE_MIME,
        headers={"Cache-Control": _IMMUTABLE if versioned else "no-cache", **_VARY},
    )


def _same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from this app's own pages (``Sec-Fetch-Site``).

    A client that sends none, such as a script, is taken at its word: it holds no cookie of another site to
    misuse.
    """
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
    """Redeem the one-time code a page gave its browser right after a sign-in: 204 with the session cookie.

    403 for an unknown, used or expired code, or a request from another site.
    """
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
    """ASGI middleware: Streamlit's ``/_stcore/metrics`` answers outside setup mode only to an admin's session.

    The metrics are sessions, cache sizes, memory; anyone else gets 404, as if there were no such page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``/_stcore/metrics`` with 404 unless the visitor may see it; pass anything else on."""
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


async def ready_route(request: Request) -> Response:
    """200 once the warm-up has finished, else 503; the body says what the warm-up did.

    A readiness probe: ``/_stcore/health`` answers as soon as the server listens.
    """
    del request
    return JSONResponse(WARM_UP, status_code=200 if WARM_UP["done"] else 503)


async def version_route(request: Request) -> Response:
    """The data version this process serves, its process and its tile cache's size.

    The version is the one its pages and tile URLs carry, re-read from the store every few seconds: for an
    operator or a load balancer checking that every app process behind it serves the same data. Nothing of the
    data itself.
    """
    del request
    try:
        version = await run_in_threadpool(served_version)
    except BlocklineError as exc:
        return PlainTextResponse(exc.en, status_code=503)
    tiles, size = cache_size()
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
    threading.Thread(target=keep_warm, name="blockline-warm-up", daemon=True).start()
    yield


os.environ["BLOCKLINE_TILES"] = "1"  # the pages draw their maps from these tiles (Settings.tiles)
get_settings.cache_clear()  # read again with it
app = st.App(
    HERE.parent / "app.py", routes=ROUTES, lifespan=_lifespan, middleware=[Middleware(ClosedMetrics)]
)
