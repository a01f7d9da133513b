"""Uploaded files, read and checked before anything is written: the preview of the data page.

``preview_file`` reads a file as its kind would be loaded (``geo.io``, ``geo.load``) and says what it found and
what would stop the load; ``landing`` and ``replaced_parcels`` ask the store where its shapes fall and what they
would replace. ``upload_layers`` and ``preview_upload`` are the same, cached by the upload's id.

Examples
--------
>>> "parcels" in KINDS and "ledger" in KINDS
True
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
import streamlit as st

from blockline.ui.engine import get_engine
from geo.errors import BlocklineError, ValidationError
from geo.fields import map_columns, parse_field_map
from geo.io import ReadReport, list_layers, read_table, read_vector
from geo.load import prepare_attributes, prepare_parcels
from geo.settings import get_settings

__all__ = [
    "KINDS",
    "Landing",
    "Preview",
    "error_dict",
    "landing",
    "preview_file",
    "preview_upload",
    "replaced_parcels",
    "saved_upload",
    "upload_layers",
]

#: what an uploaded file can be loaded as
KINDS = (
    "parcels",
    "level1",
    "level2",
    "boundaries",
    "ledger",
)  # ledger: a 台账 joined to the parcels by number
_PREVIEW_ROWS = 10


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
    #: the read report's JSON (``geo.io.ReadReport.as_dict``)
    report: dict[str, Any] | None = None
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


class Landing(TypedDict):
    """Where previewed shapes land (``landing``)."""

    #: [[south, west], [north, east]] in EPSG:4326; None without shapes
    bounds: list[list[float]] | None
    #: [(code, name)] of the loaded counties the shapes intersect
    counties: list[tuple[str, str]]
    #: whether any county is loaded at all
    any_county: bool


def landing(shapes: gpd.GeoDataFrame) -> Landing:
    """Where the previewed shapes land: their bounds in lon/lat and the loaded counties they fall in.

    Returns
    -------
    Landing
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
