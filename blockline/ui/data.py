"""The app's way to the store: one shared engine, cached frames for display, upload previews and exports.

Loaders are cached by their arguments and the store's data version (``tile_version``, asked for every few
seconds), so what another process writes shows at once after that and nothing is read twice while the data
stays the same (``st.cache_data`` hands every caller its own copy, so a page may not change what another
session sees). They return frames in EPSG:4326 for the map, with ``area_mu`` computed in the storage CRS by
the database. ``clear_caches`` forgets them all after a load. The pure
helpers (``is_empty``, ``table_bytes``, ``preview_file``) carry the logic and are tested without
Streamlit.

Examples
--------
>>> is_empty({"admin_areas": 0, "block_lines": 0, "parcels": 0}), is_empty({"parcels": 3})
(True, False)
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from geo import queries
from geo.area import area_mu
from geo.errors import BlocklineError, ValidationError
from geo.settings import get_settings

__all__ = [
    "KINDS",
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

#: what an uploaded file can be loaded as
KINDS = (
    "parcels",
    "level1",
    "level2",
    "boundaries",
    "ledger",
)  # ledger: a 台账 joined to the parcels by number
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
_PREVIEW_ROWS = 10
_OUTLINE_TOLERANCE_M = 5.0  # county outlines are drawn, never measured, from this: below a pixel at city zoom


# -- the store ----------------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    """The store's engine, opened (and migrated) once per process and shared by every session."""
    from geo.store import open_store

    return open_store()


@st.cache_data(ttl=_VERSION_TTL_S, show_spinner=False)
def tile_version() -> str:
    """The store's data version (``geo.tiles.data_version``): in the map's tile URLs, and part of the key of
    every loader below.

    Asked for again every ``_VERSION_TTL_S`` seconds (one query on primary keys, about 2 ms). The loaders
    are cached by their arguments *and* this version, so what another process wrote shows within seconds and
    a visit after a pause does not count 200,000 parcels again when nothing changed. The version is read
    before the data, so a cached frame is never older than the version it is kept under.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.tiles import data_version

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
    return os.environ.get("BLOCKLINE_TILES") == "1"


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_ENTRIES, show_spinner=False)
def mark_set(as_of: dt.date, policy: str, version: str) -> str:
    """Compute (once per profile, date and data version) the parcels' marks for colouring the tiles."""
    from blockline.services.marks import ensure_marks
    from zoning.policy import get_profile

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
    import sqlalchemy as sa

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
    from blockline.services.reports import idle_report as report
    from zoning.policy import get_profile

    del version
    return report(get_engine(), as_of=as_of, profile=get_profile(policy))


#: rows a page's table sends to the browser at most (130,000 idle findings are 36 MB; their Excel has every row)
TABLE_ROWS = 2000


def table_bytes(frame: pd.DataFrame, *, fmt: str = "xlsx", sheet: str = "blockline") -> bytes:
    """``frame``'s attributes as the bytes of an XLSX (or CSV) file, written by ``geo.export.write_table``."""
    from geo.export import write_table

    with tempfile.TemporaryDirectory(prefix="blockline-export-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        write_table(frame, path, fmt=fmt, sheet=sheet)
        return path.read_bytes()


def lifecycle_report(as_of: dt.date, policy: str, city_standard: float | None = None) -> pd.DataFrame:
    """The lifecycle work list of the store (``blockline.ui.lifecycle_view.lifecycle_report``) at ``as_of``."""
    return _lifecycle_report(tile_version(), as_of, policy, city_standard)


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_LARGE, show_spinner=False)
def _lifecycle_report(version: str, as_of: dt.date, policy: str, city_standard: float | None) -> pd.DataFrame:
    from blockline.ui.lifecycle_view import lifecycle_report as report

    del version
    return report(get_engine(), as_of, policy, city_standard_tax_per_mu_wan=city_standard)


def zone_candidates(as_of: dt.date, policy: str, min_mu: float, gap_m: float) -> gpd.GeoDataFrame:
    """The candidate 连片开发 zones of the store (``blockline.ui.zones_view.candidates``), storage CRS."""
    return _zone_candidates(tile_version(), as_of, policy, float(min_mu), float(gap_m))


@st.cache_data(ttl=_KEEP_S, max_entries=_KEEP_LARGE, show_spinner=False)
def _zone_candidates(
    version: str, as_of: dt.date, policy: str, min_mu: float, gap_m: float
) -> gpd.GeoDataFrame:
    from blockline.ui.zones_view import candidates
    from zoning.policy import get_profile

    del version
    return candidates(get_engine(), as_of=as_of, profile=get_profile(policy), min_mu=min_mu, gap_m=gap_m)


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
def acting_user() -> object:
    """Who the app acts as: the signed-in user (an ``Actor``); in setup mode ``BLOCKLINE_USER``, else ``app``."""
    from blockline.ui.auth import current_actor

    actor = current_actor()
    if actor is not None:
        return actor
    return get_settings().user if os.environ.get("BLOCKLINE_USER") else "app"


def db_location() -> tuple[bool, str]:
    """(embedded, where): the embedded cluster's folder, or the database URL without its password."""
    settings = get_settings()
    if settings.embedded:
        return True, str(settings.home)
    from geo.store import safe_url

    return False, safe_url(settings.database_url or "")


def policy_index(policies: Sequence[str]) -> int:
    """Where the settings' profile stands in ``policies`` (0 when absent): the pages start on it, the profile
    whose findings the server computes while it starts.

    >>> policy_index(["yiwu", get_settings().policy])
    1
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    policy = get_settings().policy
    return list(policies).index(policy) if policy in policies else 0


def tianditu_key() -> str:
    """The Tianditu key from ``BLOCKLINE_TIANDITU_KEY`` (empty when unset)."""
    return os.environ.get("BLOCKLINE_TIANDITU_KEY", "")


#: Leaflet and Leaflet.draw as the app serves them from static/ (no CDN needed)
BUNDLED_LEAFLET = "/app/static/leaflet"
BUNDLED_LEAFLET_DRAW = "/app/static/leaflet-draw"


def leaflet_url() -> str | None:
    """Where the map loads Leaflet from: ``BLOCKLINE_LEAFLET_URL``, else the copy the app serves itself."""
    return os.environ.get("BLOCKLINE_LEAFLET_URL") or BUNDLED_LEAFLET


def leaflet_draw_url() -> str:
    """Where the drawing tools load Leaflet.draw from: ``BLOCKLINE_LEAFLET_DRAW_URL``, else the app's own copy."""
    return os.environ.get("BLOCKLINE_LEAFLET_DRAW_URL") or BUNDLED_LEAFLET_DRAW


def local_tile_url() -> str:
    """The intranet tile server's URL template from ``BLOCKLINE_LOCAL_TILES`` (empty when unset)."""
    return os.environ.get("BLOCKLINE_LOCAL_TILES", "")


# -- drafts: drawings kept in the store as soon as they are confirmed ---------------------------------------
def sketch_id() -> str:
    """This page's sketch id, kept in the address (``?sketch=``) so a reload or a shared link finds the drawings.

    A value that is not a sketch id (typed or forged) is replaced by a fresh one, never queried.
    """  # noqa: D404 issue 14: left by tools/house_move.py lint, fix and drop
    from geo.drafts import new_sketch, valid_sketch

    current = st.query_params.get("sketch")
    if not valid_sketch(current):
        # Moving between pages drops the address's parameters: the session remembers the sketch.
        remembered = st.session_state.get("_sketch")
        current = remembered if valid_sketch(remembered) else new_sketch()
        st.query_params["sketch"] = current
    st.session_state["_sketch"] = current
    return current


def drafts(purpose: str) -> list[dict[str, object]]:
    """The drawings kept for this sketch and ``purpose`` (GeoJSON Features, EPSG:4326), oldest first."""
    from geo.drafts import read_drafts

    return read_drafts(get_engine(), sketch_id(), purpose)


def keep_drafts(purpose: str, features: Sequence[dict[str, object]]) -> int:
    """Write new drawings to the store at once (one transaction); returns how many were new."""
    from geo.drafts import save_drafts

    return save_drafts(get_engine(), sketch_id(), purpose, features, user=acting_user())


def clear_drafts(purpose: str | None = None) -> int:
    """Delete this sketch's drawings (of one purpose, or all)."""
    from geo.drafts import clear_drafts as clear

    return clear(get_engine(), sketch_id(), purpose)


# -- uploads -----------------------------------------------------------------------------------------------
def error_dict(exc: BlocklineError) -> dict[str, object]:
    """A blockline error as plain data (cacheable): message and fix in both languages, and its problems."""
    out: dict[str, object] = dict(exc.as_dict())
    out["problems"] = (
        [{"row": p.row, "feature": p.feature, "zh": p.zh, "en": p.en} for p in getattr(exc, "problems", [])]
        if isinstance(exc, ValidationError)
        else []
    )
    return out


@dataclass
class Preview:
    """What reading an uploaded file found, before anything is written."""

    file: str
    kind: str
    features: int = 0
    report: dict[str, object] | None = None
    head: pd.DataFrame | None = None
    rename: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    area_column: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: dict[str, object] | None = None
    #: the shapes as they would be stored (storage CRS), with parcel_no for parcels: drawn before loading
    shapes: gpd.GeoDataFrame | None = None

    @property
    def ok(self) -> bool:
        """True when the file can be loaded as it is."""
        return self.error is None


@contextmanager
def saved_upload(name: str, content: bytes) -> Iterator[Path]:
    """The uploaded bytes as a file of the same name in a private temporary folder (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="blockline-upload-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(content)
        yield path


def preview_file(
    path: Path,
    *,
    kind: str,
    crs: str | None = None,
    encoding: str | None = None,
    field_map: Sequence[str] = (),
    display_name: str | None = None,
    storage_epsg: int | None = None,
    layer: str | None = None,
) -> Preview:
    """Read ``path`` as ``kind`` would be loaded and check it, writing nothing.

    For parcels the canonical fields are mapped and typed too (``geo.load.prepare_parcels``), so every
    problem that would stop the load shows here first; a 台账 (``ledger``) is typed as its join would type it
    (``geo.load.prepare_attributes``). ``layer`` is the layer (or sheet) of a multi-layer file. Errors come
    back in ``Preview.error``.
    """
    from geo.fields import map_columns, parse_field_map
    from geo.io import read_vector
    from geo.load import prepare_parcels

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    name = display_name or path.name
    preview = Preview(file=name, kind=kind)
    epsg = storage_epsg or get_settings().storage_epsg
    if kind == "ledger":
        return _preview_ledger(path, preview, encoding=encoding, field_map=field_map, layer=layer)
    try:
        fmap = parse_field_map([line for line in field_map if line.strip()]) if kind == "parcels" else {}

        def label(columns: list[str]) -> str | None:  # the parcel number names the features in problems
            rename = map_columns(columns, field_map=fmap).rename
            return next((src for src, dst in rename.items() if dst == "parcel_no"), None)

        gdf, report = read_vector(
            path,
            storage_epsg=epsg,
            crs=crs or None,
            encoding=encoding or None,
            display_name=name,
            label_column=label if kind == "parcels" else None,
            layer=layer,
        )
        preview.features = len(gdf)
        preview.report = report.as_dict()
        preview.shapes = _shapes(gdf, fmap if kind == "parcels" else None)
        attributes = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).head(_PREVIEW_ROWS)
        preview.head = attributes.map(
            lambda v: "" if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)) else str(v)
        )
        if kind == "parcels":
            mapping = map_columns([c for c in gdf.columns if c != gdf.geometry.name], field_map=fmap)
            preview.rename, preview.unknown = dict(mapping.rename), list(mapping.unknown)
            preview.area_column = mapping.area_column
            _, preview.warnings = prepare_parcels(gdf, field_map=fmap, file=name)
    except BlocklineError as exc:
        preview.error = error_dict(exc)
    return preview


def _shapes(gdf: gpd.GeoDataFrame, fmap: dict[str, str] | None) -> gpd.GeoDataFrame:
    """The geometry (and, for parcels, the parcel number) of what was read, for the preview map."""
    from geo.fields import map_columns

    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    if fmap is not None:
        rename = map_columns([c for c in gdf.columns if c != gdf.geometry.name], field_map=fmap).rename
        source = next((src for src, dst in rename.items() if dst == "parcel_no"), None)
        if source is not None:
            out["parcel_no"] = gdf[source].astype(str).to_numpy()
    return out[~out.geometry.is_empty & out.geometry.notna()]


_LANDING_SQL = """
SELECT code, name FROM admin_areas
WHERE level = 'county' AND ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_GeomFromWKB(:wkb), :srid), ST_SRID(geom)))
ORDER BY code
"""


def landing(shapes: gpd.GeoDataFrame) -> dict[str, object]:
    """Where the previewed shapes land: their bounds in lon/lat and the loaded counties they fall in.

    Returns
    -------
    dict
        ``bounds`` ([[south, west], [north, east]] in EPSG:4326, None without shapes), ``counties``
        (``[(code, name)]`` the shapes intersect, by PostGIS) and ``any_county`` (whether any county is loaded).
    """
    if shapes is None or shapes.empty:
        return {"bounds": None, "counties": [], "any_county": False}
    west, south, east, north = shapes.to_crs(4326).total_bounds
    union = shapely.union_all(shapes.geometry.values)
    with get_engine().connect() as conn:
        found = conn.execute(
            sa.text(_LANDING_SQL), {"wkb": shapely.to_wkb(union), "srid": shapes.crs.to_epsg()}
        ).all()
        any_county = conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM admin_areas WHERE level = 'county')")
        ).scalar_one()
    return {
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
        "counties": [(str(c), str(n)) for c, n in found],
        "any_county": bool(any_county),
    }


def replaced_parcels(shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The current parcels a parcel file would replace: those whose number it carries (None if it has none)."""
    if shapes is None or "parcel_no" not in shapes.columns or shapes.empty:
        return None
    with get_engine().connect() as conn:
        found = gpd.read_postgis(
            sa.text("SELECT parcel_no, geom FROM parcels WHERE valid_to IS NULL AND parcel_no = ANY(:nos)"),
            conn,
            geom_col="geom",
            params={"nos": sorted(set(shapes["parcel_no"]))},
        )
    return found if not found.empty else None


def _preview_ledger(
    path: Path, preview: Preview, *, encoding: str | None, field_map: Sequence[str], layer: str | None
) -> Preview:
    """The preview of a 台账 (CSV/XLSX without shapes) to join to the current parcels by number."""
    from geo.fields import map_columns, parse_field_map
    from geo.io import ReadReport, read_table
    from geo.load import prepare_attributes

    try:
        fmap = parse_field_map([line for line in field_map if line.strip()])
        table = read_table(path, encoding=encoding or None, display_name=preview.file, sheet=layer)
        preview.features = len(table)
        head = table.head(_PREVIEW_ROWS)
        preview.head = head.map(
            lambda v: "" if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)) else str(v)
        )
        mapping = map_columns([str(c) for c in table.columns], field_map=fmap)
        preview.rename, preview.unknown = dict(mapping.rename), list(mapping.unknown)
        attributes = prepare_attributes(table, field_map=fmap, file=preview.file)
        preview.report = ReadReport(
            file=preview.file, layer=layer, features=len(table), notes=attributes.notes
        ).as_dict()
    except BlocklineError as exc:
        preview.error = error_dict(exc)
    return preview


@st.cache_data(max_entries=16, show_spinner=False)
def upload_layers(file_id: str, name: str, _content: bytes) -> list[str]:
    """The layers (or a workbook's sheets) of an uploaded file, cached by its upload id; [] when unreadable."""
    from geo.io import list_layers

    with saved_upload(name, _content) as path:
        try:
            return list_layers(path, display_name=name)
        except BlocklineError:
            return []  # the preview says what is wrong with the file


@st.cache_data(max_entries=16, show_spinner=False)
def preview_upload(
    file_id: str,
    name: str,
    _content: bytes,
    kind: str,
    crs: str | None,
    encoding: str | None,
    field_map: tuple[str, ...],
    layer: str | None = None,
) -> Preview:
    """``preview_file`` of an uploaded file, cached by its upload id and the options."""
    with saved_upload(name, _content) as path:
        return preview_file(
            path, kind=kind, crs=crs, encoding=encoding, field_map=field_map, display_name=name, layer=layer
        )
