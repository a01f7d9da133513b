"""The 连片开发 page's pure side: candidates, the drawn zone and its assessment, saved zones, exports, map layers.

No Streamlit here. The drawn zone travels as GeoJSON Features in EPSG:4326 (what the map draws and
``geo.drafts`` keeps) and reaches ``zoning.consolidation`` as one polygon in the storage CRS: the union of
every drawing. Everything computed is ``zoning``'s; this module reads the store for it, and lays the results
out as tables, texts, files and map layers in the user's language. A 100 m × 100 m square is 15 亩.

Examples
--------
>>> from shapely import box
>>> square = box(568000, 3097000, 568100, 3097100)
>>> zone = zone_from_features(features_of(square, epsg=4549), epsg=4549)
>>> round(zone.area / 666.6666666666666, 2)
15.0
>>> share_text(0.871134)
'87.1%'
>>> levels_text([1, 2], "en")
'level 1, level 2'
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from folium.utilities import JsCode
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from blockline.ui.i18n import LANGS, fmt_int, fmt_mu, translate
from blockline.ui.maps import fit_view, layer_control_last
from geo.area import M2_PER_MU
from geo.clock import shown, shown_iso
from geo.export import write_workbook
from zoning.policy import Profile

__all__ = [
    "PURPOSE",
    "STYLES",
    "add_zone_layers",
    "assess",
    "assessment_frame",
    "assessment_layer",
    "assessment_rows",
    "candidates",
    "candidates_frame",
    "candidates_layer",
    "features_of",
    "layer_bytes",
    "levels_text",
    "main_county",
    "new_drawings",
    "rating_mix_text",
    "requirements_of",
    "saved_frame",
    "saved_layer",
    "saved_zone_xlsx",
    "share_text",
    "shortfall_mu",
    "zone_from_features",
]

#: the drafts purpose of the drawn zone (``geo.drafts``)
PURPOSE = "zones:zone"
_DISPLAY_EPSG = 4326
_GRADES = ("A", "B", "C", "D")

#: layer key → style: candidates orange, the drawn zone blue, its parcels red (low-efficiency) or grey
STYLES: dict[str, dict[str, object]] = {
    "zones.layer.candidates": {"color": "#ca6f1e", "weight": 2, "fillColor": "#f5b041", "fillOpacity": 0.35},
    "zones.layer.chosen": {"color": "#7e5109", "weight": 4, "fillColor": "#f39c12", "fillOpacity": 0.5},
    "zones.layer.saved": {
        "color": "#6c3483",
        "weight": 3,
        "dashArray": "4 4",
        "fillColor": "#bb8fce",
        "fillOpacity": 0.25,
    },
    "zones.layer.low": {"color": "#922b21", "weight": 1, "fillColor": "#e74c3c", "fillOpacity": 0.45},
    "zones.layer.healthy": {"color": "#566573", "weight": 1, "fillColor": "#aab7b8", "fillOpacity": 0.45},
    "zones.layer.zone": {"color": "#1f618d", "weight": 3, "fillColor": "#5dade2", "fillOpacity": 0.15},
}

# Facts are HTML-escaped in Python; Leaflet sets the tooltip as innerHTML, so a name is text, never markup.
_TIP_JS = JsCode("""function (feature, layer) {
    if (feature.properties && feature.properties.tip) { layer.bindTooltip(feature.properties.tip, {sticky: true}); }
}""")


# -- shapes --------------------------------------------------------------------------------------------------
def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The polygonal part of ``geom``, made valid (None when nothing polygonal is left)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [
        g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty
    ]
    if not parts:
        return None
    out = shapely.union_all(np.array(parts, dtype=object))
    return out if not out.is_empty else None


def zone_from_features(features: Iterable[Mapping[str, Any]] | None, *, epsg: int) -> BaseGeometry | None:
    """The union of drawn shapes (GeoJSON Features or geometries, EPSG:4326) in ``EPSG:epsg``, or None."""
    geoms = []
    for item in features or []:
        geometry = item.get("geometry") if item.get("type") == "Feature" else item
        if geometry and geometry.get("type") in ("Polygon", "MultiPolygon"):
            geoms.append(shape(geometry))
    if not geoms:
        return None
    projected = gpd.GeoSeries(geoms, crs=f"EPSG:{_DISPLAY_EPSG}").to_crs(epsg=epsg)
    parts = [g for g in (_polygonal(g) for g in projected) if g is not None]
    return _polygonal(shapely.union_all(np.array(parts, dtype=object))) if parts else None


def features_of(geom: BaseGeometry | None, *, epsg: int) -> list[dict[str, Any]]:
    """A polygon of ``EPSG:epsg`` (parts of a collection dissolved) as GeoJSON Features in EPSG:4326."""
    geom = _polygonal(geom)
    if geom is None:
        return []
    shown = gpd.GeoSeries([geom], crs=f"EPSG:{epsg}").to_crs(epsg=_DISPLAY_EPSG).iloc[0]
    return [{"type": "Feature", "properties": {}, "geometry": mapping(shown)}]


def new_drawings(drawings: Iterable[Mapping[str, Any]] | None, known: Iterable[str]) -> list[dict[str, Any]]:
    """The polygons among ``drawings`` (streamlit-folium's ``all_drawings``) whose fingerprints are not ``known``.

    The map sends every drawing again on each rerun, and a drawing already kept (or kept and cleared) must
    not come back, so the page passes the fingerprints of what it has kept and seen.

    >>> sq = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
    ...       "coordinates": [[[120, 28], [120.001, 28], [120.001, 28.001], [120, 28]]]}}
    >>> from geo.drafts import fingerprint
    >>> len(new_drawings([sq], [])), len(new_drawings([sq], [fingerprint(sq)]))
    (1, 0)
    """
    from geo.drafts import fingerprint

    seen = set(known)
    out = []
    for feature in drawings if isinstance(drawings, list) else []:
        if not isinstance(feature, Mapping):
            continue  # whatever the browser sent that is not a drawing
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        key = fingerprint(feature)
        if key in seen:
            continue
        seen.add(key)
        out.append({"type": "Feature", "properties": {}, "geometry": dict(geometry)})
    return out


# -- candidates ----------------------------------------------------------------------------------------------
def candidates(
    engine: Engine, *, as_of: dt.date, profile: Profile, min_mu: float, gap_m: float
) -> gpd.GeoDataFrame:
    """The candidate zones of the store (``blockline zones detect``): described, in the storage CRS.

    Low-efficiency land is the city's stored judgement (``blockline.services.judged``: ``zoning.idle.low_efficiency`` at
    ``as_of`` under ``profile``); the groups are
    ``zoning.consolidation.detect_zones_in_store`` at ``gap_m`` and ``min_mu``, with their block-line levels
    and rating mix (``describe_zones_in_store``: the levels computed in the store, as the command does).
    """
    from blockline.services.reports import zone_candidates

    return zone_candidates(engine, as_of=as_of, profile=profile, min_mu=min_mu, gap_m=gap_m)


def levels_text(levels: Iterable[int] | None, lang: str) -> str:
    """Block-line levels as words: ``一级线、二级线``, or a dash for none."""
    words = [translate(f"zones.level{int(lv)}", lang) for lv in levels or []]
    return ("、" if lang != "en" else ", ").join(words) if words else translate("none", lang)


def rating_mix_text(mix: Mapping[str, int] | None, lang: str) -> str:
    """A rating mix ``{"A": n, …, "unrated": n}`` as ``A 1 · C 2 · 未评价 1`` (grades with none left out).

    >>> rating_mix_text({"A": 0, "B": 1, "C": 2, "D": 0, "unrated": 1}, "zh")
    'B 1 · C 2 · 未评价 1'
    """
    mix = dict(mix or {})
    parts = [f"{g} {fmt_int(mix[g])}" for g in _GRADES if mix.get(g)]
    if mix.get("unrated"):
        parts.append(f"{translate('zones.unrated', lang)} {fmt_int(mix['unrated'])}")
    return " · ".join(parts) if parts else translate("none", lang)


def candidates_frame(zones: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The candidates as a table (headers in ``lang``): id, county, 亩, parcels, holders, lines, ratings."""
    n = len(zones)

    def column(name: str, default: object) -> list[object]:
        return list(zones[name]) if name in zones.columns else [default] * n

    frame = pd.DataFrame(
        {
            "zone_id": [str(z) for z in column("zone_id", "")],
            "county_code": ["" if c is None or pd.isna(c) else str(c) for c in column("county_code", None)],
            "area_mu": np.round(
                pd.to_numeric(pd.Series(column("area_mu", np.nan), dtype=object), errors="coerce")
                .astype(float)
                .to_numpy(),
                2,
            ),
            "n_parcels": np.array([int(v) for v in column("n_parcels", 0)], dtype=np.int64),
            "holders": np.array([int(v) for v in column("holders", 0)], dtype=np.int64),
            "block_line_levels": [levels_text(v, lang) for v in column("block_line_levels", [])],
            "rating_mix": [rating_mix_text(v, lang) for v in column("rating_mix", {})],
            "parcels": ["、".join(str(p) for p in v) for v in column("parcels", [])],
        }
    )
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def _dissolved(geoms: Iterable[BaseGeometry | None]) -> list[BaseGeometry | None]:
    return [_polygonal(shapely.union_all(shapely.get_parts(g))) if g is not None else None for g in geoms]


def candidates_layer(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidates as a layer for a GeoPackage: plain columns, each zone one (Multi)Polygon, own CRS."""
    frame = pd.DataFrame(
        {
            "zone_id": [str(z) for z in zones["zone_id"]],
            "county_code": [None if c is None or pd.isna(c) else str(c) for c in zones["county_code"]],
            "area_mu": pd.to_numeric(zones["area_mu"]).astype(float).round(2).to_numpy(),
            "n_parcels": zones["n_parcels"].astype(np.int64).to_numpy(),
            "holders": zones["holders"].astype(np.int64).to_numpy(),
            "parcels": [",".join(str(p) for p in v) for v in zones["parcels"]],
        }
    )
    for column in ("block_line_levels", "rating_mix"):
        if column in zones.columns:
            frame[column] = [json.dumps(v, ensure_ascii=False, default=str) for v in zones[column]]
    return gpd.GeoDataFrame(frame, geometry=_dissolved(zones.geometry), crs=zones.crs)


# -- a drawn zone ----------------------------------------------------------------------------------------------
def _parcels_in(engine: Engine, zone: BaseGeometry) -> list[str]:
    """The numbers of the current parcels that the zone reaches (PostGIS, with the spatial index)."""
    from geo.store import storage_srid

    with engine.connect() as conn:
        srid = storage_srid(conn)
        rows = conn.execute(
            sa.text("""
            SELECT parcel_no FROM parcels
            WHERE valid_to IS NULL AND ST_Intersects(geom, ST_GeomFromEWKB(decode(:g, 'hex')))
            ORDER BY parcel_no"""),
            {"g": shapely.to_wkb(shapely.set_srid(zone, srid), hex=True, include_srid=True)},
        ).all()
    return [str(r[0]) for r in rows]


def assess(
    engine: Engine, zone: BaseGeometry, *, as_of: dt.date, profile: Profile, min_mu: float | None = None
) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    """``zoning.consolidation.assess_zone`` of a zone drawn in the storage CRS, on the current store.

    The parcels the zone reaches get their low-efficiency flag (``zoning.idle.low_efficiency`` at ``as_of``)
    and their latest rating (``latest_grade``). Returns the assessment and the parcels it takes (storage CRS,
    with ``low_efficiency``, ``rating``, ``share`` and ``area_in_zone_mu``), for the map and the exports.
    """
    from geo.queries import read_blocklines, read_parcels, read_ratings
    from zoning.consolidation import assess_zone, latest_grade
    from zoning.idle import low_efficiency

    nos = _parcels_in(engine, zone)
    near = read_parcels(engine, parcel_nos=nos)
    if near.crs is None:  # an empty frame comes back without one
        from geo.settings import get_settings

        near = near.set_crs(epsg=get_settings().storage_epsg)
    ratings = read_ratings(engine)
    near["low_efficiency"] = low_efficiency(near, ratings, as_of=as_of, profile=profile).to_numpy()
    near["rating"] = latest_grade(near, ratings, as_of=as_of).to_numpy() if len(near) else []
    lines = {}
    for level in (1, 2):
        found = read_blocklines(engine, level=level)
        found = found.set_crs(near.crs) if found.crs is None else found
        lines[level] = found[found.intersects(zone)] if len(found) else found
    result = assess_zone(zone, near, level1=lines[1], level2=lines[2], profile=profile, min_mu=min_mu)
    taken = {p["parcel_no"]: p for p in result["parcels"]}
    kept = near[near["parcel_no"].astype(str).isin(taken)].copy()
    kept["share"] = [float(taken[str(n)]["share"]) for n in kept["parcel_no"]]
    kept["area_in_zone_mu"] = [float(taken[str(n)]["area_in_zone_mu"]) for n in kept["parcel_no"]]
    kept["rating"] = pd.Series(
        [taken[str(n)]["rating"] for n in kept["parcel_no"]], index=kept.index, dtype=object
    )
    return result, kept


def share_text(share: object) -> str:
    """A share (0–1) as a percentage with one decimal."""
    try:
        value = float(share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    return f"{value:.1%}" if np.isfinite(value) else "—"


def shortfall_mu(result: Mapping[str, Any], min_mu: float) -> float:
    """How many 亩 the zone lacks to reach ``min_mu`` (0 when it reaches it)."""
    return max(float(min_mu) - float(result["area_mu"]), 0.0) if not result["meets_threshold"] else 0.0


def assessment_rows(result: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, value) of the figures shown beside the map, in ``lang``, values formatted."""
    mix: dict[str, int] = {g: 0 for g in (*_GRADES, "unrated")}
    for p in result["parcels"]:
        mix[p.get("rating") or "unrated"] = mix.get(p.get("rating") or "unrated", 0) + 1
    rows = [
        ("zones.area", fmt_mu(result["area_mu"])),
        ("zones.meets", translate("yes" if result["meets_threshold"] else "no", lang)),
        ("zones.n_parcels", fmt_int(len(result["parcels"]))),
        ("zones.parcels_area", fmt_mu(result["parcels_area_mu"])),
        ("zones.holders", fmt_int(result["holders"])),
        ("zones.low_share", share_text(result["low_efficiency_share"])),
        ("zones.levels", levels_text(result["block_line_levels"], lang)),
        ("zones.ratings", rating_mix_text(mix, lang)),
    ]
    return [(translate(k, lang), v) for k, v in rows]


def assessment_frame(
    result: Mapping[str, Any], lang: str, *, county_of: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """The parcels the zone takes, one row each (headers in ``lang``): number, holder, county, share, 亩 inside,
    low-efficiency, rating. Names are data: shown as written, never as markup.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    counties = dict(county_of or {})
    rows = list(result["parcels"])
    frame = pd.DataFrame(
        {
            "parcel_no": [str(p["parcel_no"]) for p in rows],
            "holder": ["" if p.get("holder") is None else str(p["holder"]) for p in rows],
            "county_code": [
                "" if counties.get(p["parcel_no"]) is None else str(counties[p["parcel_no"]]) for p in rows
            ],
            "share_pct": np.array([round(float(p["share"]) * 100, 1) for p in rows], dtype=float),
            "area_in_zone_mu": np.array([round(float(p["area_in_zone_mu"]), 2) for p in rows], dtype=float),
            "low_efficiency": [translate("yes" if p["low_efficiency"] else "no", lang) for p in rows],
            "rating": [p.get("rating") or translate("zones.unrated", lang) for p in rows],
        }
    )
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def assessment_layer(
    result: Mapping[str, Any], taken: gpd.GeoDataFrame, zone: BaseGeometry
) -> gpd.GeoDataFrame:
    """The drawn zone and the parcels it takes as one layer (own CRS): ``kind`` is ``zone`` or ``parcel``."""
    rows = [
        {
            "kind": "zone",
            "parcel_no": None,
            "holder": None,
            "share": None,
            "area_in_zone_mu": round(float(result["area_mu"]), 2),
            "low_efficiency": None,
            "rating": None,
            "geometry": zone,
        }
    ]
    by_no = (
        {str(n): g for n, g in zip(taken["parcel_no"], taken.geometry, strict=False)} if len(taken) else {}
    )
    for p in result["parcels"]:
        rows.append(
            {
                "kind": "parcel",
                "parcel_no": str(p["parcel_no"]),
                "holder": p.get("holder"),
                "share": round(float(p["share"]), 4),
                "area_in_zone_mu": round(float(p["area_in_zone_mu"]), 2),
                "low_efficiency": bool(p["low_efficiency"]),
                "rating": p.get("rating"),
                "geometry": by_no.get(str(p["parcel_no"])),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=taken.crs)


def main_county(result: Mapping[str, Any], county_of: Mapping[str, object]) -> str | None:
    """The county holding most of the parcel land the zone takes (the smaller code on a tie), or None.

    >>> main_county({"parcels": [{"parcel_no": "A", "area_in_zone_mu": 5.0},
    ...                          {"parcel_no": "B", "area_in_zone_mu": 7.5}]}, {"A": "330302", "B": "330304"})
    '330304'
    """
    mu: dict[str, float] = {}
    for p in result["parcels"]:
        code = county_of.get(p["parcel_no"])
        if code is not None and not (isinstance(code, float) and np.isnan(code)):
            mu[str(code)] = mu.get(str(code), 0.0) + float(p["area_in_zone_mu"])
    return min(mu, key=lambda c: (-mu[c], c)) if mu else None


def requirements_of(values: Mapping[str, object]) -> dict[str, object]:
    """The requirements a planner filled in (blank text and empty numbers left out), text stripped.

    >>> requirements_of({"industry": " 智能装备 ", "entry_conditions": "", "tax_per_mu_wan": None,
    ...                  "investment_per_mu_wan": 300.0})
    {'industry': '智能装备', 'investment_per_mu_wan': 300.0}
    """
    out: dict[str, object] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            if value.strip():
                out[key] = value.strip()
        else:
            out[key] = float(value)  # type: ignore[arg-type]
    return out


# -- saved zones ---------------------------------------------------------------------------------------------
def _mapping(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return {}


def _requirements_text(requirements: Mapping[str, Any], lang: str) -> str:
    parts = []
    for key, value in requirements.items():
        label = translate(f"zones.req.{key}", lang) if f"zones.req.{key}" in LANGS["zh"] else str(key)
        shown = (
            f"{float(value):,.2f}"
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else str(value)
        )
        parts.append(f"{label}：{shown}" if lang != "en" else f"{label}: {shown}")
    return "；".join(parts) if lang != "en" else "; ".join(parts)


def saved_frame(zones: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Saved zones (``blockline.services.zones_store.read_zones``) as a table, headers in ``lang``."""
    rows = []
    for z in zones.itertuples():
        assessment = _mapping(z.assessment)
        params = _mapping(z.params)
        met = assessment.get("meets_threshold")
        rows.append(
            {
                "id": int(z.id),
                "name": str(z.name),
                "kind": translate(f"zones.kind.{z.kind}", lang),
                "county_code": "" if z.county_code is None or pd.isna(z.county_code) else str(z.county_code),
                "area_mu": round(float(z.area_mu), 2)
                if z.area_mu is not None and not pd.isna(z.area_mu)
                else np.nan,
                "meets": "" if met is None else translate("yes" if met else "no", lang),
                "holders": str(assessment.get("holders", params.get("holders", ""))),
                "policy": str(assessment.get("article") or params.get("policy") or ""),
                "requirements": _requirements_text(_mapping(z.requirements), lang),
                "created_by": str(z.created_by),
                "created_at": shown(z.created_at),
            }
        )
    columns = [
        "id",
        "name",
        "kind",
        "county_code",
        "area_mu",
        "meets",
        "holders",
        "policy",
        "requirements",
        "created_by",
        "created_at",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["area_mu"] = frame["area_mu"].astype(float)
    return frame.rename(columns={c: translate(f"zones.col.{c}", lang) for c in frame.columns})


def saved_layer(zone: pd.Series, crs: object) -> gpd.GeoDataFrame:
    """One saved zone as a layer for a GeoPackage: its fields, requirements and assessment as columns."""
    assessment = _mapping(zone["assessment"])
    requirements = _mapping(zone["requirements"])
    row: dict[str, Any] = {
        "id": int(zone["id"]),
        "name": str(zone["name"]),
        "kind": str(zone["kind"]),
        "county_code": None
        if zone["county_code"] is None or pd.isna(zone["county_code"])
        else str(zone["county_code"]),
        "area_mu": round(float(zone["area_mu"]), 2),
        "meets_threshold": assessment.get("meets_threshold"),
        "holders": assessment.get("holders"),
        "low_efficiency_share": assessment.get("low_efficiency_share"),
        "article": assessment.get("article"),
        "policy": assessment.get("policy"),
        "parcels": ",".join(str(p["parcel_no"]) for p in assessment.get("parcels", [])) or None,
    }
    for key in _requirement_keys():
        row[key] = requirements.get(key)
    row["created_by"] = str(zone["created_by"])
    row["created_at"] = shown_iso(zone["created_at"])
    return gpd.GeoDataFrame([row], geometry=[zone["geometry"]], crs=crs)


def _requirement_keys() -> tuple[str, ...]:
    from blockline.services.zones_store import REQUIREMENT_KEYS

    return REQUIREMENT_KEYS


def saved_zone_xlsx(zone: pd.Series, lang: str) -> bytes:
    """One saved zone as an Excel workbook: a sheet of its facts and requirements, and one of its parcels."""
    assessment = _mapping(zone["assessment"])
    requirements = _mapping(zone["requirements"])
    facts: list[tuple[str, object]] = [
        (translate("zones.col.id", lang), int(zone["id"])),
        (translate("zones.col.name", lang), str(zone["name"])),
        (translate("zones.col.kind", lang), translate(f"zones.kind.{zone['kind']}", lang)),
        (
            translate("zones.col.county_code", lang),
            "" if zone["county_code"] is None or pd.isna(zone["county_code"]) else str(zone["county_code"]),
        ),
        (translate("zones.col.area_mu", lang), round(float(zone["area_mu"]), 2)),
    ]
    if assessment:
        facts += [
            (
                translate("zones.meets", lang),
                translate("yes" if assessment.get("meets_threshold") else "no", lang),
            ),
            (translate("zones.holders", lang), assessment.get("holders")),
            (translate("zones.low_share", lang), share_text(assessment.get("low_efficiency_share"))),
            (translate("zones.levels", lang), levels_text(assessment.get("block_line_levels"), lang)),
            (translate("zones.col.policy", lang), assessment.get("article")),
        ]
    facts += [(translate(f"zones.req.{k}", lang), requirements.get(k)) for k in _requirement_keys()]
    facts += [
        (translate("zones.col.created_by", lang), str(zone["created_by"])),
        (translate("zones.col.created_at", lang), shown(zone["created_at"])),
    ]
    sheet = pd.DataFrame(
        facts, columns=[translate("zones.col.item", lang), translate("zones.col.value", lang)]
    )
    sheet[sheet.columns[1]] = sheet[sheet.columns[1]].map(lambda v: "" if v is None else v)
    parcels = assessment_frame({"parcels": assessment.get("parcels", [])}, lang)
    buffer = io.BytesIO()
    # the one guarded table writer: a zone name or a holder that starts like a formula stays text
    write_workbook(
        {translate("zones.sheet.zone", lang): sheet, translate("zones.sheet.parcels", lang): parcels},
        buffer,
        width_factor=1.5,
    )
    return buffer.getvalue()


# -- files ---------------------------------------------------------------------------------------------------
def layer_bytes(layer: gpd.GeoDataFrame, *, name: str) -> bytes:
    """``layer`` as the bytes of a GeoPackage (one layer called ``name``, in the layer's own CRS)."""
    from geo.export import write_layer

    with tempfile.TemporaryDirectory(prefix="blockline-zones-") as tmp:
        path = write_layer(layer, Path(tmp) / "zones.gpkg", fmt="gpkg", layer=name)
        return path.read_bytes()


# -- the map -------------------------------------------------------------------------------------------------
def _tip(rows: Sequence[tuple[str, object]]) -> str:
    """A tooltip table, every label and value HTML-escaped."""
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='blockline-facts'>{body}</table>"


def _collection(geoms: Sequence[BaseGeometry | None], tips: Sequence[str], *, epsg: int) -> dict[str, Any]:
    pairs = [(g, tip) for g, tip in zip(geoms, tips, strict=False) if g is not None and not g.is_empty]
    if not pairs:
        return {"type": "FeatureCollection", "features": []}
    shown = gpd.GeoSeries([g for g, _ in pairs], crs=f"EPSG:{epsg}").to_crs(epsg=_DISPLAY_EPSG)
    shown = shown.set_precision(1e-7)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"tip": tip}, "geometry": mapping(g)}
            for g, (_, tip) in zip(shown, pairs, strict=False)
        ],
    }


def _add(m: folium.Map, key: str, collection: dict[str, Any], lang: str) -> bool:
    if not collection["features"]:
        return False
    style = STYLES[key]
    folium.GeoJson(
        collection,
        name=translate(key, lang),
        style_function=lambda _f, s=style: dict(s),
        on_each_feature=_TIP_JS,
    ).add_to(m)
    return True


def add_zone_layers(
    m: folium.Map,
    *,
    epsg: int,
    lang: str = "zh",
    candidates: gpd.GeoDataFrame | None = None,
    chosen: str | None = None,
    saved: BaseGeometry | None = None,
    saved_name: str | None = None,
    zone: BaseGeometry | None = None,
    result: Mapping[str, Any] | None = None,
    taken: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Add the page's layers to ``m``: the candidate zones (``chosen`` stands out), an opened saved zone, the
    drawn zone and the parcels it takes (red when low-efficiency), all in ``EPSG:epsg``; the map is fitted to
    the drawn zone, else the saved one, else the chosen candidate, else every candidate. Returns ``m``.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    bounds: list[BaseGeometry] = []
    if candidates is not None and len(candidates):
        geoms = _dissolved(candidates.geometry)
        tips = [
            _tip(
                [
                    (translate("zones.col.zone_id", lang), z.zone_id),
                    (translate("zones.col.area_mu", lang), fmt_mu(z.area_mu)),
                    (translate("zones.col.n_parcels", lang), fmt_int(z.n_parcels)),
                    (translate("zones.col.holders", lang), fmt_int(z.holders)),
                ]
            )
            for z in candidates.itertuples()
        ]
        is_chosen = [str(z) == str(chosen) for z in candidates["zone_id"]]
        _add(
            m,
            "zones.layer.candidates",
            _collection(
                [g for g, c in zip(geoms, is_chosen, strict=False) if not c],
                [t for t, c in zip(tips, is_chosen, strict=False) if not c],
                epsg=epsg,
            ),
            lang,
        )
        picked = [g for g, c in zip(geoms, is_chosen, strict=False) if c]
        _add(
            m,
            "zones.layer.chosen",
            _collection(picked, [t for t, c in zip(tips, is_chosen, strict=False) if c], epsg=epsg),
            lang,
        )
        bounds = [g for g in picked if g is not None] or [g for g in geoms if g is not None]
    if saved is not None:
        _add(
            m,
            "zones.layer.saved",
            _collection(
                [saved],
                [
                    _tip(
                        [
                            (translate("zones.col.name", lang), saved_name or ""),
                            (translate("zones.area", lang), fmt_mu(saved.area / M2_PER_MU)),
                        ]
                    )
                ],
                epsg=epsg,
            ),
            lang,
        )
        bounds = [saved]
    if taken is not None and result is not None and len(taken):
        facts = {p["parcel_no"]: p for p in result["parcels"]}
        for key, low in (("zones.layer.low", True), ("zones.layer.healthy", False)):
            rows = [r for r in taken.itertuples() if bool(facts[str(r.parcel_no)]["low_efficiency"]) is low]
            tips = [
                _tip(
                    [
                        (translate("zones.col.parcel_no", lang), r.parcel_no),
                        (translate("zones.col.holder", lang), facts[str(r.parcel_no)].get("holder") or ""),
                        (
                            translate("zones.col.share_pct", lang),
                            share_text(facts[str(r.parcel_no)]["share"]),
                        ),
                        (
                            translate("zones.col.area_in_zone_mu", lang),
                            fmt_mu(facts[str(r.parcel_no)]["area_in_zone_mu"]),
                        ),
                        (
                            translate("zones.col.rating", lang),
                            facts[str(r.parcel_no)].get("rating") or translate("zones.unrated", lang),
                        ),
                    ]
                )
                for r in rows
            ]
            _add(m, key, _collection([r.geometry for r in rows], tips, epsg=epsg), lang)
    if zone is not None:
        tip = _tip([(translate("zones.area", lang), fmt_mu(zone.area / M2_PER_MU))])
        _add(m, "zones.layer.zone", _collection([zone], [tip], epsg=epsg), lang)
        bounds = [zone]
    if bounds:
        x0, y0, x1, y1 = gpd.GeoSeries(bounds, crs=f"EPSG:{epsg}").to_crs(epsg=_DISPLAY_EPSG).total_bounds
        fit_view(m, [[y0, x0], [y1, x1]], max_zoom=17)
    layer_control_last(m)
    return m
