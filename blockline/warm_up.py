"""The server's warm-up: the first visit as quick as the later ones, and today's findings kept ready.

While the server starts (the app's lifespan, once Streamlit's runtime runs), a thread imports what the pages
use, opens the store's pool of connections, fills the loaders' caches the map and overview pages read, cuts the
tiles of the city view into the tile cache (``blockline.tile_cache``) and has today's judgement of the city
ready (``blockline.services.judged``: judged here only when no load or other process has stored it), from which
it reads the parcel marks (the idle, lifecycle and rating colours) and the candidate zones into the pages'
caches. ``WARM_UP`` says what it did (``/_blockline/ready``). Then it checks every few minutes that today's
findings of the current data are there (a new day, a new load).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from types import ModuleType

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from streamlit import delta_generator

from blockline.judging import Judging, adopt, finish, start
from blockline.tile_cache import FULL_RIGHTS, TILE_CACHE, cache_key, cached, keep
from geo import clock
from geo.settings import get_settings
from geo.store import open_store
from geo.tiles import ALL_LAYERS, tile, tiles_covering
from zoning.policy import get_profile

__all__ = ["FINDINGS_EVERY_S", "WARM_UP", "cut_city_view", "keep_warm", "served_version", "warm_up"]

_LOG = logging.getLogger("blockline.server")
#: the zoom levels of the city view (fitted to the counties on any screen) and the tiles around it
_CITY_VIEW_ZOOMS = (7, 8, 9)
_CITY_VIEW_MARGIN = 2
#: how often the server checks that today's findings of the current data are there (computed when missing)
FINDINGS_EVERY_S = 300
#: what the warm-up did: ``done`` once it has finished (or given up), its seconds, the tiles it cut, the marks
WARM_UP: dict[str, object] = {"done": False}
#: what the pages import, imported here first (not ``streamlit_folium`` itself: a component declared outside a
#: script run is never registered, so never served; ``folium.plugins`` is most of its import)
_PAGE_MODULES = (
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
)


def _loaders() -> ModuleType:
    """The pages' cached loaders (``blockline.ui.data``), which the warm-up fills."""
    # lazy: blockline.ui.data declares st.cache_data loaders; imported with the server, before Streamlit's
    # runtime runs, each logs "No runtime found" (16 warnings at every start, measured)
    from blockline.ui import data

    return data


def served_version() -> str:
    """The data version the pages and tile URLs of this process carry (re-read from the store every few s)."""
    return str(_loaders().tile_version())


def cut_city_view(engine: Engine, version: str, bounds: tuple[float, float, float, float]) -> int:
    """Cut the tiles of the city view (``bounds`` in degrees) into the tile cache; returns how many.

    They are kept under the keys of the map's own requests (every layer, the data ``version``, nothing else).
    """
    cut = 0
    for z in _CITY_VIEW_ZOOMS:
        for x, y in tiles_covering(bounds, z, margin=_CITY_VIEW_MARGIN):
            key = cache_key(f"/tiles/{ALL_LAYERS}/{z}/{x}/{y}.pbf", [("v", version)], FULL_RIGHTS)
            if cached(key) is None:
                keep(key, tile(engine, ALL_LAYERS, z, x, y))
                cut += 1
    return cut


def _import_page_modules() -> None:
    """Import what the pages use, and pay two first-time costs of Streamlit's own here.

    Measured in the first session's run (0.5 s of it): ``streamlit.emojis`` compiles one very large regular
    expression (0.3 s) when a page icon is first set, and the first element sent asks, once per process,
    whether it runs in a REPL (``inspect.stack()``, 0.16 s).
    """
    for name in _PAGE_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the page that needs it shows the error itself
            _LOG.info("warm-up: %s not imported (%s)", name, exc)
    try:
        delta_generator._maybe_print_use_warning()  # the once-per-process REPL check (private; may go)
    except Exception as exc:  # noqa: BLE001 - only the first page run pays for it then
        _LOG.info("warm-up: Streamlit's REPL check not made (%s)", exc)


def _warm_up_steps() -> int:
    """Imports, the pool's connections, the loaders' caches and the city view's tiles; returns the tiles cut."""
    _import_page_modules()
    data = _loaders()
    engine = open_store()
    # Every connection of the pool at once (open_store's is a QueuePool), each with PostGIS loaded (~15 ms each).
    size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 1
    with contextlib.ExitStack() as stack:
        for conn in [stack.enter_context(engine.connect()) for _ in range(size)]:
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


def _todays_findings(judging: Judging | None = None, *, started: bool = False) -> str | None:
    """Have today's judgement of the current data under the default profile ready, and the pages' first reads.

    A planner would otherwise wait for them the first time each day or after each load. The city is judged
    once per data version, date and profile by whichever process asks first (``blockline.services.judged``: a
    load judges it itself; otherwise this warm-up does, in a child process, 10–12 s for 200,000 parcels) and
    kept in the store with the map's marks; every app process then only reads it back. With ``started``, the
    warm-up has asked already (``blockline.judging``) and ``judging`` is its child, or None when none was
    needed; else it is asked here.
    Read here: the marks' set name (the map's colours) and the candidate 连片开发 zones at the profile's
    threshold and gap (their description takes a few seconds of PostGIS). The idle page's findings and the
    lifecycle work list are read from the stored judgement on their page's first visit (about 2 s each at
    200,000 parcels; held in memory here they would take some 330 MB of the server's before anyone asked).
    Returns the marks' set name, or None when there are no parcels.

    Through the pages' own cached loaders (``blockline.ui.data``), so a page that asks at the same moment waits
    for this instead of asking a second time.
    """
    data = _loaders()
    if not data.store_counts()["parcels"]:
        finish(judging)
        return None
    today, policy = clock.today(), get_settings().policy
    profile = get_profile(policy)
    finish(judging if started else start())
    marks = str(data.mark_set(today, policy, data.tile_version()))  # judges here only if the child could not
    if profile.has("consolidation.min_mu"):  # a city without 连片开发 rules (Yiwu) has no candidates
        data.zone_candidates(
            today,
            policy,
            float(profile.value("consolidation.min_mu")),
            float(profile.value("consolidation.gap_m")),
        )
    return marks


def warm_up() -> None:
    """Make the first visit as quick as the later ones (see the module's docstring).

    Today's judgement, when it is missing, is judged in a child process while the tiles are cut: the one
    ``blockline app`` started before it became this server (``blockline.judging.adopt``), or one started now. A
    step that fails is only logged: the page that needs it computes it, or shows the error, itself.
    """
    t0 = time.perf_counter()
    judging, started = None, False
    try:
        judging, started = adopt() or start(), True  # blockline app may have started it already
    except Exception as exc:  # noqa: BLE001 - the marks step below judges, or the pages do
        _LOG.info("warm-up: judging not started (%s)", exc)
    for name, step in (
        ("tiles", _warm_up_steps),
        ("marks", lambda: _todays_findings(judging, started=started)),
    ):
        try:
            WARM_UP[name] = step()
        except Exception as exc:  # noqa: BLE001
            _LOG.info("warm-up: %s not done (%s)", name, exc)
    WARM_UP.update(done=True, seconds=round(time.perf_counter() - t0, 2))
    _LOG.info("warm-up: %s", WARM_UP)


def keep_warm() -> None:
    """The warm-up, then today's findings checked every ``FINDINGS_EVERY_S`` (a new day, a new load), for ever."""
    warm_up()
    while True:
        time.sleep(FINDINGS_EVERY_S)
        try:
            _todays_findings()
        except Exception as exc:  # noqa: BLE001 - the pages compute them themselves when asked
            _LOG.info("findings: not computed (%s)", exc)
