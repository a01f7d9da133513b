"""The 占补平衡 page's pure side: drawn and uploaded shapes, the result layers, the ledger's frames.

No Streamlit here. Drawn shapes are GeoJSON Features in EPSG:4326, as streamlit-folium's ``all_drawings``
returns them and ``geo.drafts`` keeps them; they reach ``zoning.balance`` as shapely polygons in the storage
CRS. A 100 m × 100 m square is 15 亩 both ways.

Examples
--------
>>> from shapely import box
>>> square = box(568000, 3097000, 568100, 3097100)
>>> features = to_features([square], epsg=4549)
>>> round(area_of(from_features(features, epsg=4549)), 2)
15.0
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from blockline.ui.i18n import translate
from blockline.ui.ledger_view import (
    balances_chart,
    falls_frame,
    history_chart,
    history_frame,
    history_points,
    ledger_counties_frame,
    ledger_entries_frame,
    ledger_xlsx_bytes,
)
from blockline.ui.maps import fit_view
from geo.area import M2_PER_MU
from geo.drafts import fingerprint

__all__ = [
    "ROLES",
    "STYLES",
    "add_balance_layers",
    "fit_to_work",
    "add_draw_control",
    "allocate_transfers",
    "area_of",
    "balances_chart",
    "check_rows",
    "falls_frame",
    "from_features",
    "history_frame",
    "history_chart",
    "history_points",
    "ledger_counties_frame",
    "ledger_entries_frame",
    "ledger_xlsx_bytes",
    "new_drawings",
    "role_geometry",
    "suggestion_frame",
    "to_features",
    "warning_text",
]

#: the two roles a shape can play in an adjustment
ROLES = ("removal", "addition")
_DISPLAY_EPSG = 4326

#: layer key → style; purple for what leaves level 1, green for what joins it
STYLES: dict[str, dict[str, object]] = {
    "balance.layer.removal": {
        "color": "#7d3c98",
        "weight": 2,
        "dashArray": "6 4",
        "fillColor": "#c39bd3",
        "fillOpacity": 0.1,
    },
    "balance.layer.addition": {
        "color": "#1e8449",
        "weight": 2,
        "dashArray": "6 4",
        "fillColor": "#82e0aa",
        "fillOpacity": 0.1,
    },
    "balance.layer.occupied": {"color": "#5b2c6f", "weight": 3, "fillColor": "#8e44ad", "fillOpacity": 0.55},
    "balance.layer.replaced": {"color": "#145a32", "weight": 3, "fillColor": "#27ae60", "fillOpacity": 0.55},
    "balance.layer.suggested": {
        "color": "#117a65",
        "weight": 2,
        "dashArray": "2 4",
        "fillColor": "#48c9b0",
        "fillOpacity": 0.35,
    },
}


# -- shapes --------------------------------------------------------------------------------------------------
def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The polygonal part of ``geom`` made valid (None when nothing polygonal is left)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    return geom


def from_features(features: Iterable[Mapping[str, Any]] | None, *, epsg: int) -> list[BaseGeometry]:
    """GeoJSON Features (or bare geometries) in EPSG:4326 as valid polygons in ``EPSG:epsg``.

    Points and lines (which the drawing tools do not offer) are left out, as are empty shapes.
    """
    geoms = []
    for item in features or []:
        geometry = item.get("geometry") if item.get("type") == "Feature" else item
        if not geometry:
            continue
        geom = _polygonal(shape(dict(geometry)))
        if geom is not None:
            geoms.append(geom)
    if not geoms:
        return []
    projected = gpd.GeoSeries(geoms, crs=f"EPSG:{_DISPLAY_EPSG}").to_crs(epsg=epsg)
    return [g for g in (_polygonal(g) for g in projected) if g is not None]


def to_features(
    geoms: Iterable[BaseGeometry] | gpd.GeoSeries,
    *,
    epsg: int,
    properties: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Polygons in ``EPSG:epsg`` as GeoJSON Features in EPSG:4326 (the form drawings are kept in)."""
    items = [g for g in geoms]
    if not items:
        return []
    shown = gpd.GeoSeries(items, crs=f"EPSG:{epsg}").to_crs(epsg=_DISPLAY_EPSG)
    props = list(properties) if properties is not None else [{}] * len(items)
    return [
        {"type": "Feature", "properties": dict(p), "geometry": mapping(g)}
        for g, p in zip(shown, props, strict=False)
        if g is not None and not g.is_empty
    ]


def new_drawings(
    drawings: Iterable[Mapping[str, Any]] | None, seen: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The drawings not met before, by fingerprint (``geo.drafts.fingerprint``), in the order drawn.

    streamlit-folium sends every drawing on the map on each rerun, so a drawing already taken (or taken and
    cleared since) is recognised by its fingerprint and left out. Nothing is judged here: a line is returned
    like a polygon, for the drafts store to refuse with its reason.

    >>> sq = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
    ...       "coordinates": [[[120, 28], [120.001, 28], [120.001, 28.001], [120, 28]]]}}
    >>> fresh = new_drawings([sq, sq], [])
    >>> len(fresh), new_drawings([sq], list(fresh))
    (1, {})
    """
    known = set(seen)
    out: dict[str, dict[str, Any]] = {}
    for feature in drawings if isinstance(drawings, list) else []:
        if not isinstance(feature, Mapping):
            continue  # whatever the browser sent that is not a drawing
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        if not isinstance(geometry, Mapping) or not geometry.get("coordinates"):
            continue
        key = fingerprint(feature)
        if key not in known and key not in out:
            out[key] = {"type": "Feature", "properties": {}, "geometry": dict(geometry)}
    return out


def role_geometry(
    features: Iterable[Mapping[str, Any]] | None, uploaded: Iterable[BaseGeometry] = (), *, epsg: int
) -> BaseGeometry | None:
    """The union of the drawn (EPSG:4326 GeoJSON) and uploaded (storage CRS) shapes of one role, or None."""
    geoms = from_features(features, epsg=epsg) + [
        g for g in (_polygonal(u) for u in uploaded) if g is not None
    ]
    if not geoms:
        return None
    return _polygonal(shapely.union_all(np.array(geoms, dtype=object)))


def area_of(geoms: BaseGeometry | Iterable[BaseGeometry] | None) -> float:
    """The area (亩) of the union of ``geoms``, which are in a projected CRS."""
    if geoms is None:
        return 0.0
    items = [geoms] if isinstance(geoms, BaseGeometry) else list(geoms)
    items = [g for g in items if g is not None and not g.is_empty]
    return float(shapely.union_all(np.array(items, dtype=object)).area) / M2_PER_MU if items else 0.0


# -- the check -----------------------------------------------------------------------------------------------
def warning_text(warning: Mapping[str, str], lang: str) -> str:
    """A check's warning (``"中文 / English"``) in one language, with its article.

    >>> warning_text({"message": "甲 / a", "article": "WZ §5"}, "en")
    'a (WZ §5)'
    """
    zh, _, en = str(warning.get("message", "")).partition(" / ")
    text = (en or zh) if lang == "en" else zh
    article = warning.get("article")
    if not article:
        return text
    return f"{text}（{article}）" if lang != "en" else f"{text} ({article})"


def check_rows(check: Mapping[str, Any]) -> list[tuple[str, float | bool]]:
    """(label key, value) of the figures the page shows of ``BalanceCheck.as_dict()``, in order."""
    return [
        ("balance.occupied", check["occupied_mu"]),
        ("balance.replaced", check["replaced_mu"]),
        ("balance.standing", check["standing_balance_mu"]),
        ("balance.after", check["balance_after_mu"]),
        ("balance.city_after", check["city_balance_after_mu"]),
        ("balance.county_balanced", bool(check["county_balanced"])),
        ("balance.city_balanced", bool(check["city_balanced"])),
    ]


def allocate_transfers(
    shortfall_mu: float, balances: Mapping[str, float], donors: Sequence[str]
) -> dict[str, float]:
    """A first proposal of who gives what: the shortfall taken from ``donors`` in order, each up to its surplus.

    >>> allocate_transfers(7.5, {"a": 5.0, "b": 10.0}, ["a", "b"])
    {'a': 5.0, 'b': 2.5}
    """
    left = max(float(shortfall_mu), 0.0)
    out: dict[str, float] = {}
    for code in donors:
        give = round(min(left, max(float(balances.get(code, 0.0)), 0.0)), 2)
        out[code] = give
        left = max(left - give, 0.0)
    return out


def suggestion_frame(chosen: pd.DataFrame | Sequence[Mapping[str, Any]], lang: str) -> pd.DataFrame:
    """The suggested pieces (``Suggestion.chosen`` or the rows of its ``as_dict()``) as a table.

    Columns: kind, reference, holder, 亩, touches level 1 (labels in ``lang``).
    """
    chosen = pd.DataFrame(chosen, columns=["kind", "ref", "holder", "area_mu", "touches_level1"])
    kinds = {
        "parcel": translate("balance.kind.parcel", lang),
        "level2": translate("balance.kind.level2", lang),
    }
    frame = pd.DataFrame(
        {
            "kind": [kinds.get(k, str(k)) for k in chosen["kind"]],
            "ref": [str(r) for r in chosen["ref"]],
            "holder": ["" if pd.isna(h) else str(h) for h in chosen["holder"]],
            "area_mu": pd.to_numeric(chosen["area_mu"], errors="coerce").astype(float).round(2).to_numpy(),
            "touches_level1": [translate("yes" if bool(v) else "no", lang) for v in chosen["touches_level1"]],
        }
    )
    return frame.rename(columns={c: translate(f"balance.col.{c}", lang) for c in frame.columns})


# -- the map -------------------------------------------------------------------------------------------------
class _Legend(MacroElement):
    """A small legend of the balance layers in the bottom-left corner (escaped HTML)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomleft"});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "blockline-balance-legend");
            div.innerHTML = {{ this.body|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "BalanceLegend"
        self.body = body


def _legend(keys: Sequence[str], lang: str) -> str:
    rows = "".join(
        f"<div><span style='display:inline-block;width:14px;height:10px;margin-right:6px;"
        f"background:{STYLES[k]['fillColor']};border:2px solid {STYLES[k]['color']}'></span>"
        f"{html.escape(translate(k, lang))}</div>"
        for k in keys
    )
    return (
        "<div style='background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;"
        f"font-size:12px;line-height:1.4'>{rows}</div>"
    )


def add_balance_layers(
    m: folium.Map,
    *,
    epsg: int,
    lang: str = "zh",
    removal: Sequence[Mapping[str, Any]] = (),
    addition: Sequence[Mapping[str, Any]] = (),
    occupied: BaseGeometry | None = None,
    replaced: BaseGeometry | None = None,
    suggested: Sequence[Mapping[str, Any]] = (),
) -> folium.Map:
    """Add the adjustment's layers to ``m`` (a map of ``blockline.ui.maps.build_map``); returns ``m``.

    The layers: what was drawn or loaded for removal and addition (dashed outlines, GeoJSON 4326), the occupied
    and replaced parts (filled, polygons in ``EPSG:epsg``), and suggested pieces.
    """
    layers: list[tuple[str, list[dict[str, Any]]]] = [
        ("balance.layer.removal", [dict(f) for f in removal]),
        ("balance.layer.addition", [dict(f) for f in addition]),
        ("balance.layer.occupied", to_features([occupied], epsg=epsg) if occupied is not None else []),
        ("balance.layer.replaced", to_features([replaced], epsg=epsg) if replaced is not None else []),
        ("balance.layer.suggested", [dict(f) for f in suggested]),
    ]
    shown = []
    for key, features in layers:
        if not features:
            continue
        style = STYLES[key]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [{**f, "properties": {}} for f in features]},
            name=translate(key, lang),
            style_function=lambda _f, s=style: dict(s),
        ).add_to(m)
        shown.append(key)
    if shown:
        m.add_child(_Legend(_legend(shown, lang)))
    return m


def fit_to_work(m: folium.Map, work: Sequence[BaseGeometry | None], *, epsg: int) -> folium.Map:
    """Open the map on what was drawn or uploaded (polygons in ``EPSG:epsg``), as close as zoom 17.

    A planner draws at street scale: after each drawing the page reruns, and the map must come back where the
    drawing is (as 连片开发 does), not at the whole county where the shape is a speck. An upload is shown the
    same way. With nothing drawn the map keeps ``build_map``'s view of the county.
    """
    geoms = [g for g in work if g is not None and not g.is_empty]
    if not geoms:
        return m
    x0, y0, x1, y1 = gpd.GeoSeries(geoms, crs=f"EPSG:{epsg}").to_crs(epsg=_DISPLAY_EPSG).total_bounds
    return fit_view(m, [[float(y0), float(x0)], [float(y1), float(x1)]], max_zoom=17)


def add_draw_control(m: folium.Map, *, asset_url: str | None = None) -> folium.Map:
    """Add the drawing tools (polygon and rectangle only, no editing of what the page keeps) to ``m``.

    ``asset_url`` is the folder holding ``leaflet.draw.js`` and ``leaflet.draw.css`` (the app serves its own
    copy at ``/app/static/leaflet-draw``, so drawing works with no CDN); None keeps folium's CDN.
    """
    draw = Draw(
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False},
            "rectangle": True,
        },
        edit_options={"edit": False, "remove": True},
    )
    if asset_url is not None:
        base = asset_url.rstrip("/")
        draw.default_js = [("leaflet_draw_js", f"{base}/leaflet.draw.js")]
        draw.default_css = [("leaflet_draw_css", f"{base}/leaflet.draw.css")]
    draw.add_to(m)
    return m
