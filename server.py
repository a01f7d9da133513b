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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
from pathlib import Path

import streamlit as st
from cachetools import LRUCache
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

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


#: versioned tiles by their whole URL (path and query), within a byte budget; used on the event loop only
TILE_CACHE = _tile_cache()


async def tile_route(request: Request) -> Response:
    """One vector tile, or a 400 naming what is wrong with the request."""
    from geo.store import open_store
    from geo.tiles import tile

    path = request.path_params
    versioned = bool(request.query_params.get("v"))
    key = f"{request.url.path}?{sorted(request.query_params.multi_items())}"
    body = TILE_CACHE.get(key) if versioned and TILE_CACHE is not None else None
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
    if versioned and TILE_CACHE is not None and len(body) < TILE_CACHE.maxsize:
        TILE_CACHE[key] = body
    return Response(body, media_type=TILE_MIME, headers={"Cache-Control": _IMMUTABLE if versioned else "no-cache"})


ROUTES = [Route("/tiles/{layer}/{z}/{x}/{y}.pbf", tile_route, methods=["GET"])]


def _warm_up() -> None:
    """Import what the pages use and open the store while the server starts: the first visitor does not wait.

    Not ``streamlit_folium``: a component declared before Streamlit's runtime exists is never served.
    """
    import importlib

    for name in ("ui.data", "ui.maps", "ui.auth", "ui.balance_view", "ui.zones_view", "ui.lifecycle_view",
                 "folium", "altair", "zoning.balance", "zoning.idle", "zoning.lifecycle", "zoning.marks",
                 "zoning.zones_store", "geo.tiles", "geo.store"):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the page that needs it shows the error itself
            _LOG.info("warm-up: %s not imported (%s)", name, exc)
    try:
        importlib.import_module("geo.store").open_store()
    except Exception as exc:  # noqa: BLE001 - the pages say what is wrong with the database
        _LOG.info("warm-up: the store did not open (%s)", exc)


threading.Thread(target=_warm_up, name="blockline-warm-up", daemon=True).start()

os.environ["BLOCKLINE_TILES"] = "1"  # the pages draw their maps from these tiles
app = st.App(HERE / "app.py", routes=ROUTES)
