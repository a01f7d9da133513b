"""blockline's web server: the Streamlit app (``app.py``) plus the vector tiles its maps draw.

``blockline app`` runs this file (``streamlit run server.py``). Streamlit serves ``app.py`` as usual; one
more route, ``/tiles/{layer}/{z}/{x}/{y}.pbf``, answers the map's tile requests from PostGIS
(``geo.tiles``) on the same origin, so a pan or a zoom fetches a few small tiles and never reruns the app.

``{layer}`` is one of ``geo.tiles.TILE_LAYERS`` or ``all`` (every layer in one tile: what the maps ask for).
Query parameters of a tile: ``county`` (a 6-digit code), ``as_of`` (YYYY-MM-DD), ``marks`` (a set of parcel
marks), ``gcj=1`` (shifted for AMap/Gaode), ``v`` (the data version: a new version is a new URL, so tiles
can be cached by the browser). Anything malformed is a 400 with the reason, never a query.

Tiles with a version are also kept in memory here, least recently used out first, up to
``BLOCKLINE_TILE_CACHE_MB`` (default 128; 0 turns the cache off): the city view that every visitor opens
first is cut by PostGIS once per data version, not once per visitor. A new version is a new key, so the
cache never serves a tile of older data.

While the server starts (the app's lifespan, once Streamlit's runtime runs), a thread makes the first visit
as quick as the later ones: it imports what the pages use, opens the store's pool of connections, fills the
loaders' caches the map and overview pages read, cuts the tiles of the city view into the tile cache and
computes today's parcel marks (the idle, lifecycle and rating colours), idle findings, lifecycle work list and
candidate zones.
``/_blockline/ready`` answers 200 once that is done. Then it checks every few minutes that today's findings of
the current data are there (a new day, a new load).
"""

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
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from geo import clock
from geo.errors import BlocklineError, InputError
from geo.settings import get_settings

HERE = Path(__file__).parent
_LOG = logging.getLogger("blockline.server")
TILE_MIME = "application/vnd.mapbox-vector-tile"
_IMMUTABLE = "public, max-age=86400, immutable"
_COUNTY = re.compile(r"^\d{6}$")
_MARKS = re.compile(r"^[\w|.:-]{1,120}$")


def _params(request: Request) -> dict[str, object]:
    query = request.query_params
    county = query.get("county") or None
    if county is not None and not _COUNTY.match(county):
        raise InputError(f"区县代码无效：{county!r}", f"not a county code: {county!r}",
                         fix_zh="六位行政区划代码", fix_en="a 6-digit division code")
    as_of = query.get("as_of") or None
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(f"日期无效：{as_of!r}", f"not a date: {as_of!r}", fix_zh="YYYY-MM-DD", fix_en="YYYY-MM-DD") from None
    marks = query.get("marks") or None
    if marks is not None and not _MARKS.match(marks):
        raise InputError("标注集名称无效", "not a mark set name", fix_zh="由地图生成", fix_en="made by the map")
    return {"county": county, "as_of": day, "mark_set": marks, "gcj02": query.get("gcj") == "1"}


def _tile_cache() -> LRUCache[str, bytes] | None:
    budget = get_settings().tile_cache_mb * 2**20
    return LRUCache(maxsize=budget, getsizeof=lambda body: len(body) + 200) if budget > 0 else None


#: versioned tiles by their whole URL (path and query), within a byte budget
TILE_CACHE = _tile_cache()
_CACHE_LOCK = threading.Lock()  # the event loop and the warm-up thread both use the cache


def cache_key(path: str, query: list[tuple[str, str]]) -> str:
    """The tile cache's key of a request: its path and its query parameters in any order."""
    return f"{path}?{sorted(query)}"


def _cached(key: str) -> bytes | None:
    if TILE_CACHE is None:
        return None
    with _CACHE_LOCK:
        return TILE_CACHE.get(key)


def _keep(key: str, body: bytes) -> None:
    if TILE_CACHE is not None and len(body) < TILE_CACHE.maxsize:
        with _CACHE_LOCK:
            TILE_CACHE[key] = body


async def tile_route(request: Request) -> Response:
    """One vector tile, or a 400 naming what is wrong with the request."""
    from geo.store import open_store
    from geo.tiles import tile

    path = request.path_params
    versioned = bool(request.query_params.get("v"))
    key = cache_key(request.url.path, request.query_params.multi_items())
    body = _cached(key) if versioned else None
    if body is not None:
        return Response(body, media_type=TILE_MIME, headers={"Cache-Control": _IMMUTABLE})
    try:
        z, x, y = int(path["z"]), int(path["x"]), int(path["y"])
        options = _params(request)
        engine = await run_in_threadpool(open_store)
        body = await run_in_threadpool(tile, engine, path["layer"], z, x, y, **options)
    except (InputError, ValueError) as exc:
        text = exc.as_dict()["message_en"] if isinstance(exc, BlocklineError) else str(exc)
        return PlainTextResponse(text, status_code=400)
    except BlocklineError as exc:
        return PlainTextResponse(exc.as_dict()["message_en"], status_code=503)
    if versioned:
        _keep(key, body)
    return Response(body, media_type=TILE_MIME, headers={"Cache-Control": _IMMUTABLE if versioned else "no-cache"})


#: the zoom levels of the city view (fitted to the counties on any screen) and the tiles around it
_CITY_VIEW_ZOOMS = (7, 8, 9)
_CITY_VIEW_MARGIN = 2
#: how often the server checks that today's findings of the current data are there (computed when missing)
FINDINGS_EVERY_S = 300
#: what the warm-up did: ``done`` once it has finished (or given up), its seconds, the tiles it cut, the marks
WARM_UP: dict[str, object] = {"done": False}


def cut_city_view(engine: Engine, version: str, bounds: tuple[float, float, float, float]) -> int:
    """Cut the tiles of the city view (``bounds`` in degrees) into the tile cache, under the keys of the
    map's own requests (every layer, the data ``version``, nothing else asked); returns how many."""
    from geo.tiles import ALL_LAYERS, tile, tiles_covering

    cut = 0
    for z in _CITY_VIEW_ZOOMS:
        for x, y in tiles_covering(bounds, z, margin=_CITY_VIEW_MARGIN):
            key = cache_key(f"/tiles/{ALL_LAYERS}/{z}/{x}/{y}.pbf", [("v", version)])
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

    for name in ("ui.data", "ui.maps", "ui.auth", "ui.balance_view", "ui.zones_view", "ui.lifecycle_view",
                 "folium", "folium.plugins", "altair", "zoning.balance", "zoning.idle", "zoning.lifecycle",
                 "zoning.marks", "zoning.zones_store", "geo.tiles", "geo.store", "streamlit.emojis"):
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

    from geo.store import open_store
    from ui import data

    engine = open_store()
    # Every connection of the pool at once, each with PostGIS loaded (~15 ms a connection).
    with contextlib.ExitStack() as stack:
        for conn in [stack.enter_context(engine.connect()) for _ in range(engine.pool.size())]:
            conn.execute(sa.text("SELECT postgis_lib_version()"))
    if data.is_empty(data.store_counts()):
        return 0
    for loader in (data.totals, data.land_uses, data.county_summary):  # with the arguments the pages start with
        loader()
    counties = data.counties()
    if TILE_CACHE is None or not len(counties):
        return 0
    west, south, east, north = (float(v) for v in counties.total_bounds)
    return cut_city_view(engine, data.tile_version(), (west, south, east, north))


def _todays_findings() -> str | None:
    """Compute what the pages show first and is slow to find at city scale, today under the default profile
    for the current data: the marks the map and the idle page colour parcels by (6–15 s for 200,000 parcels,
    kept in the store), the idle page's findings (6 s), the lifecycle work list (9 s) and the candidate
    连片开发 zones at the profile's threshold and gap (13 s). A planner would otherwise wait for them the first
    time each day or after each load. Returns the marks' set name, or None when there are no parcels.

    Through the pages' own cached loaders (``ui.data``), so a page that asks at the same moment waits for this
    computation instead of making a second one.
    """
    from ui import data
    from zoning.policy import get_profile

    if not data.store_counts()["parcels"]:
        return None
    today, policy = clock.today(), get_settings().policy
    profile = get_profile(policy)
    data.idle_report(today, policy)
    data.lifecycle_report(today, policy)
    data.zone_candidates(today, policy, float(profile.value("consolidation.min_mu")),
                         float(profile.value("consolidation.gap_m")))
    return data.mark_set(today, policy, data.tile_version())


def _warm_up() -> None:
    """Make the first visit as quick as the later ones (see the module's docstring). A step that fails is only
    logged: the page that needs it computes it, or shows the error, itself."""
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
    listens), else 503; the body says what the warm-up did."""
    del request
    return JSONResponse(WARM_UP, status_code=200 if WARM_UP["done"] else 503)


ROUTES = [Route("/tiles/{layer}/{z}/{x}/{y}.pbf", tile_route, methods=["GET"]),
          Route("/_blockline/ready", ready_route, methods=["GET"])]


@contextlib.asynccontextmanager
async def _lifespan(_app: object) -> AsyncIterator[None]:
    """Runs once Streamlit's runtime has started: the caches and the component the pages use exist by then."""
    threading.Thread(target=_keep_warm, name="blockline-warm-up", daemon=True).start()
    yield


os.environ["BLOCKLINE_TILES"] = "1"  # the pages draw their maps from these tiles
app = st.App(HERE / "app.py", routes=ROUTES, lifespan=_lifespan)
