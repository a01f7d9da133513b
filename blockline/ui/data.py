"""The app's way to the store: one shared engine, cached frames for display, upload previews and exports.

Loaders are cached by their arguments and the store's data version (``tile_version``, asked for every few
seconds), so what another process writes shows at once after that and nothing is read twice while the data
stays the same (``st.cache_data`` hands every caller its own copy, so a page may not change what another
session sees). They return frames in EPSG:4326 for the map, with ``area_mu`` computed in the storage CRS by
the database. ``clear_caches`` forgets them all after a load. The pure
helpers (``is_empty``, ``table_bytes``, ``preview_file``) carry the logic and are tested without
Streamlit. The engine is ``blockline.ui.engine``'s and the upload previews are ``blockline.ui.uploads``'s, both
importable from here too.

Examples
--------
>>> is_empty({"admin_areas": 0, "block_lines": 0, "parcels": 0}), is_empty({"parcels": 3})
(True, False)
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from blockline.services.judged import county_profiles
from blockline.services.marks import ensure_marks
from blockline.services.reports import idle_report as _stored_idle_report
from blockline.ui.auth import current_actor
from blockline.ui.engine import get_engine
from blockline.ui.i18n import translate
from blockline.ui.lifecycle_view import lifecycle_report as _lifecycle_work_list
from blockline.ui.uploads import (
    KINDS,
    Landing,
    Preview,
    error_dict,
    landing,
    preview_file,
    preview_upload,
    replaced_parcels,
    saved_upload,
    upload_layers,
)
from blockline.ui.zones_view import candidates as _candidate_zones
from geo import queries
from geo.area import area_mu
from geo.auth import Actor
from geo.drafts import clear_drafts as _clear_drafts
from geo.drafts import new_sketch, read_drafts, save_drafts, valid_sketch
from geo.export import write_table
from geo.settings import get_settings
from geo.store import safe_url
from geo.versions import data_version
from zoning.policy import get_profile

__all__ = [
    "KINDS",
    "Landing",
    "landing",
    "replaced_parcels",
    "TABLE_ROWS",
    "XLSX_MIME",
    "Preview",
    "acting_user",
    "blocklines",
    "clear_caches",
    "clear_drafts",
    "counties",
    "county_policies",
    "county_summary",
    "db_location",
    "drafts",
    "error_dict",
    "get_engine",
    "idle_report",
    "is_empty",
    "keep_drafts",
    "leaflet_draw_url",
    "leaflet_url",
    "lifecycle_report",
    "local_tile_url",
    "parcel_record",
    "parcels_xlsx",
    "policy_caption",
    "policy_index",
    "preview_file",
    "preview_upload",
    "upload_layers",
    "saved_upload",
    "find_parcels",
    "land_uses",
    "mark_set",
    "tile_version",
    "tiles_served",
    "totals",
    "sketch_id",
    "store_counts",
    "table_bytes",
    "tianditu_key",
    "zone_candidates",
]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DISPLAY_EPSG = 4326
#: how soon the app sees what another process (the command line) wrote: the data version is asked for again
_VERSION_TTL_S = 5
#: frames of one data version are kept this long; new data is a new version, so a new key, at once
_KEEP_S = 3600
_KEEP_ENTRIES = 64
_KEEP_LARGE = (
    8  # frames of a whole city's findings (tens of MB each at 200,000 parcels): the last few asked for
)
_OUTLINE_TOLERANCE_M = 5.0  # county outlines are drawn, never measured, from this: below a pixel at city zoom


# -- the store ----------------------------------------------------------------------------------------------
@st.cache_data(ttl=_VERSION_TTL_S, show_spinner=False)
def tile_version() -> str:
    """The store's data version (``geo.tiles.data_version``): in the map's tile URLs and every loader's key.

    Asked for again every ``_VERSION_TTL_S`` seconds (one query on primary keys, about 2 ms). The loaders
    are cached by their arguments *and* this version, so what another process wrote shows within seconds and
    a visit after a pause does not count 200,000 parcels again when nothing changed. The version is read
    before the data, so a cached frame is never older than the version it is kept under.
    """
    return data_version(get_engine())


def store_counts() -> dict[str, int]:
    """How many administrative areas, current block lines, current parcels and ratings the store holds."""
    return _store_counts(tile_version())


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _store_counts(version: str) -> dict[str, int]:
    del version  # the cache key only
    return queries.store_counts(get_engine())


def is_empty(counts: dict[str, int]) -> bool:
    """True when the store holds no areas, block lines or parcels."""
    return not any(counts.get(k, 0) for k in ("admin_areas", "block_lines", "parcels"))


def _stored(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A frame read from the store, in the storage CRS (an empty frame comes back without a CRS)."""
    return gdf.set_crs(epsg=get_settings().storage_epsg) if gdf.crs is None else gdf


def _display(gdf: gpd.GeoDataFrame, *, float_columns: Sequence[str] = ("area_mu",)) -> gpd.GeoDataFrame:
    """A frame from the store in EPSG:4326 for display, with its area columns as floats."""
    gdf = _stored(gdf)
    for column in float_columns:
        if column in gdf.columns:
            gdf[column] = pd.to_numeric(gdf[column], errors="coerce").astype(float)
    return gdf.to_crs(epsg=_DISPLAY_EPSG)


def counties() -> gpd.GeoDataFrame:
    """County-level administrative areas (code, name, parent_code, area_mu), EPSG:4326.

    The outlines are simplified to ``_OUTLINE_TOLERANCE_M`` for drawing; ``area_mu`` is of the full outline.
    """
    return _counties(tile_version())


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _counties(version: str) -> gpd.GeoDataFrame:
    del version
    gdf = _stored(queries.read_admin_areas(get_engine(), level="county"))
    gdf["area_mu"] = area_mu(gdf).to_numpy()
    gdf = gdf.set_geometry(gdf.geometry.simplify(_OUTLINE_TOLERANCE_M, preserve_topology=True))
    return _display(gdf)


def blocklines(level: int, county: str | None = None, as_of: dt.date | None = None) -> gpd.GeoDataFrame:
    """Block lines of ``level`` current now (or standing on ``as_of``), optionally of one county, EPSG:4326."""
    return _blocklines(tile_version(), level, county, as_of)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _blocklines(version: str, level: int, county: str | None, as_of: dt.date | None) -> gpd.GeoDataFrame:
    del version
    gdf = queries.read_blocklines(get_engine(), level=level, county=county, as_of=as_of)
    gdf["level"] = pd.to_numeric(gdf["level"], errors="coerce")
    return _display(gdf)


def tiles_served() -> bool:
    """Whether this process serves the map's vector tiles (the app was started by ``blockline/server.py``)."""
    return get_settings().tiles


def county_policies(policy: str) -> dict[str, str]:
    """The counties judged by their own city's profile under ``policy`` (``services.judged.county_profiles``)."""
    return _county_policies(tile_version(), policy)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _county_policies(version: str, policy: str) -> dict[str, str]:
    del version  # part of the cache key only
    return {c: p.name for c, p in county_profiles(get_engine(), get_profile(policy)).items()}


def policy_caption(policy: str, lang: str) -> str | None:
    """The line a findings page shows under its profile when some counties follow their own city's text."""
    pairs = county_policies(policy)
    if not pairs:
        return None
    areas = counties()
    names = dict(zip(areas["code"], areas["name"], strict=True))
    shown = "、".join(f"{names.get(c, c)}（{c}）→ {p}" for c, p in pairs.items())
    return translate("policy.by_county", lang, pairs=shown, policy=policy)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def mark_set(as_of: dt.date, policy: str, version: str) -> str:
    """Compute (once per profile, date and data version) the parcels' marks for colouring the tiles."""
    del version  # part of the cache key only
    return ensure_marks(get_engine(), as_of=as_of, profile=get_profile(policy))


def find_parcels(query: str, county: str | None = None, limit: int = 50) -> tuple[int, gpd.GeoDataFrame]:
    """(matches, the first ``limit`` in EPSG:4326): parcels whose number or holder contains ``query``."""
    return _find_parcels(tile_version(), query, county, limit)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _find_parcels(version: str, query: str, county: str | None, limit: int) -> tuple[int, gpd.GeoDataFrame]:
    del version
    total, gdf = queries.find_parcels(get_engine(), query, county=county, limit=limit)
    return total, _display(gdf)


def totals(county: str | None = None, as_of: dt.date | None = None) -> dict[str, float]:
    """Parcels (number, 亩) and block lines (亩 by level), counted by the database."""
    return _totals(tile_version(), county, as_of)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _totals(version: str, county: str | None, as_of: dt.date | None) -> dict[str, float]:
    del version
    return queries.parcel_totals(get_engine(), county=county, as_of=as_of)


def land_uses(limit: int = 10) -> list[str]:
    """The most common land-use codes of current parcels (for the map's colours)."""
    return _land_uses(tile_version(), limit)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _land_uses(version: str, limit: int) -> list[str]:
    del version
    with get_engine().connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT land_use FROM parcels WHERE valid_to IS NULL AND land_use IS NOT NULL "
                    "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT :n"
                ),
                {"n": limit},
            )
        ]


def county_summary() -> pd.DataFrame:
    """Per county: level-1 亩, level-2 亩, parcels, parcel 亩 and the number of block lines of each level.

    Summed by the database (``geo.queries.county_totals``): counties in code order, then any other code on
    block lines or parcels (an empty one for parcels in no county).
    """
    return _county_summary(tile_version())


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _county_summary(version: str) -> pd.DataFrame:
    del version
    return queries.county_totals(get_engine())


def idle_report(as_of: dt.date, policy: str) -> pd.DataFrame:
    """Every idle/low-efficiency finding at ``as_of`` under ``policy``, with the parcel's holder, county, area."""
    return _idle_report(tile_version(), as_of, policy)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_LARGE, show_spinner=False)
def _idle_report(version: str, as_of: dt.date, policy: str) -> pd.DataFrame:
    del version
    return _stored_idle_report(get_engine(), as_of=as_of, profile=get_profile(policy))


#: rows a page's table sends to the browser at most (130,000 idle findings are 36 MB; their Excel has every row)
TABLE_ROWS = 2000


def table_bytes(frame: pd.DataFrame, *, fmt: str = "xlsx", sheet: str = "blockline") -> bytes:
    """``frame``'s attributes as the bytes of an XLSX (or CSV) file, written by ``geo.export.write_table``."""
    with tempfile.TemporaryDirectory(prefix="blockline-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        write_table(frame, path, fmt=fmt, sheet=sheet)
        return path.read_bytes()


def lifecycle_report(as_of: dt.date, policy: str, city_standard: float | None = None) -> pd.DataFrame:
    """The lifecycle work list of the store (``blockline.ui.lifecycle_view.lifecycle_report``) at ``as_of``."""
    return _lifecycle_report(tile_version(), as_of, policy, city_standard)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_LARGE, show_spinner=False)
def _lifecycle_report(version: str, as_of: dt.date, policy: str, city_standard: float | None) -> pd.DataFrame:
    del version
    return _lifecycle_work_list(get_engine(), as_of, policy, city_standard_tax_per_mu_wan=city_standard)


def zone_candidates(as_of: dt.date, policy: str, min_mu: float, gap_m: float) -> gpd.GeoDataFrame:
    """The candidate 连片开发 zones of the store (``blockline.ui.zones_view.candidates``), storage CRS."""
    return _zone_candidates(tile_version(), as_of, policy, float(min_mu), float(gap_m))


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_LARGE, show_spinner=False)
def _zone_candidates(
    version: str, as_of: dt.date, policy: str, min_mu: float, gap_m: float
) -> gpd.GeoDataFrame:
    del version
    return _candidate_zones(
        get_engine(), as_of=as_of, profile=get_profile(policy), min_mu=min_mu, gap_m=gap_m
    )


def parcel_record(parcel_no: str) -> pd.Series | None:
    """The current parcel ``parcel_no``'s fields (no geometry), read by its number's index; None if none."""
    return _parcel_record(tile_version(), parcel_no)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def _parcel_record(version: str, parcel_no: str) -> pd.Series | None:
    del version
    found = queries.read_parcels(get_engine(), parcel_nos=[parcel_no], geometry=False)
    return found.iloc[0] if len(found) else None


def parcels_xlsx() -> bytes:
    """The current parcels (canonical columns, no geometry) as an XLSX file."""
    return _parcels_xlsx(tile_version())


@st.cache_data(ttl=_KEEP_S, max_entries=4, show_spinner=False)
def _parcels_xlsx(version: str) -> bytes:
    del version
    frame = queries.read_parcels(
        get_engine(), geometry=False
    )  # attributes only: no shape is read or reprojected
    columns = [c for c in queries.PARCEL_COLUMNS if c in frame.columns]
    return table_bytes(pd.DataFrame(frame[columns]), fmt="xlsx", sheet="parcels")


def clear_caches() -> None:
    """Forget every cached frame (after the app wrote to the store, or when the user asks), the pages' own too."""
    st.cache_data.clear()


# -- settings the app reads ------------------------------------------------------------------------------
def acting_user() -> Actor | str:
    """Who the app acts as: the signed-in user (an ``Actor``); in setup mode ``BLOCKLINE_USER``, else ``app``."""
    actor = current_actor()
    if actor is not None:
        return actor
    settings = get_settings()
    return settings.user if "user" in settings.model_fields_set and settings.user else "app"


def db_location() -> tuple[bool, str]:
    """(embedded, where): the embedded cluster's folder, or the database URL without its password."""
    settings = get_settings()
    if settings.embedded:
        return True, str(settings.home)
    return False, safe_url(settings.database_url or "")


def policy_index(policies: Sequence[str]) -> int:
    """Where the settings' profile stands in ``policies`` (0 when absent): the pages start on it.

    It is the profile whose findings the server computes while it starts.

    >>> policy_index(["yiwu", get_settings().policy])
    1
    """
    policy = get_settings().policy
    return list(policies).index(policy) if policy in policies else 0


def tianditu_key() -> str:
    """The Tianditu key from ``BLOCKLINE_TIANDITU_KEY`` (empty when unset)."""
    return get_settings().tianditu_key


#: Leaflet and Leaflet.draw as the app serves them from static/ (no CDN needed)
BUNDLED_LEAFLET = "/app/static/leaflet"
BUNDLED_LEAFLET_DRAW = "/app/static/leaflet-draw"


def leaflet_url() -> str | None:
    """Where the map loads Leaflet from: ``BLOCKLINE_LEAFLET_URL``, else the copy the app serves itself."""
    return get_settings().leaflet_url or BUNDLED_LEAFLET


def leaflet_draw_url() -> str:
    """Where the drawing tools load Leaflet.draw from: ``BLOCKLINE_LEAFLET_DRAW_URL``, else the app's own copy."""
    return get_settings().leaflet_draw_url or BUNDLED_LEAFLET_DRAW


def local_tile_url() -> str:
    """The intranet tile server's URL template from ``BLOCKLINE_LOCAL_TILES`` (empty when unset)."""
    return get_settings().local_tiles


# -- drafts: drawings kept in the store as soon as they are confirmed ---------------------------------------
def sketch_id() -> str:
    """Return this page's sketch id, kept in the address (``?sketch=``) so a reload or a link finds the drawings.

    A value that is not a sketch id (typed or forged) is replaced by a fresh one, never queried.
    """
    current = st.query_params.get("sketch")
    if current is None or not valid_sketch(current):
        # Moving between pages drops the address's parameters: the session remembers the sketch.
        remembered = st.session_state.get("_sketch")
        current = remembered if isinstance(remembered, str) and valid_sketch(remembered) else new_sketch()
        st.query_params["sketch"] = current
    st.session_state["_sketch"] = current
    return current


def drafts(purpose: str) -> list[dict[str, object]]:
    """The drawings kept for this sketch and ``purpose`` (GeoJSON Features, EPSG:4326), oldest first."""
    return read_drafts(get_engine(), sketch_id(), purpose)


def keep_drafts(purpose: str, features: Sequence[dict[str, object]]) -> int:
    """Write new drawings to the store at once (one transaction); returns how many were new."""
    return save_drafts(get_engine(), sketch_id(), purpose, features, user=acting_user())


def clear_drafts(purpose: str | None = None) -> int:
    """Delete this sketch's drawings (of one purpose, or all)."""
    return _clear_drafts(get_engine(), sketch_id(), purpose)
