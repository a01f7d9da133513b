"""The 连片开发 page's map layers: candidate zones, an opened saved zone, the drawn zone and the parcels it takes.

Examples
--------
>>> import folium
>>> from shapely import box
>>> from blockline.ui.maps import unescape_js
>>> m = add_zone_layers(folium.Map(tiles=None), epsg=4549, zone=box(568000, 3097000, 568100, 3097100))
>>> "面积" in unescape_js(m.get_root().render()), "15.00 亩" in unescape_js(m.get_root().render())
(True, True)
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
from folium.utilities import JsCode
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from blockline.ui.i18n import fmt_int, fmt_mu, translate
from blockline.ui.maps import fit_view, layer_control_last
from blockline.ui.maps.frames import DISPLAY_EPSG
from blockline.ui.maps.scripts import script
from blockline.ui.zones_view.shapes import dissolved
from blockline.ui.zones_view.tables import share_text
from geo.area import M2_PER_MU

__all__ = ["STYLES", "add_zone_layers"]

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


def _tip(rows: Sequence[tuple[str, object]]) -> str:
    """A tooltip table, every label and value HTML-escaped."""
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='blockline-facts'>{body}</table>"


def _collection(geoms: Sequence[BaseGeometry | None], tips: Sequence[str], *, epsg: int) -> dict[str, Any]:
    pairs = [(g, tip) for g, tip in zip(geoms, tips, strict=False) if g is not None and not g.is_empty]
    if not pairs:
        return {"type": "FeatureCollection", "features": []}
    shown = gpd.GeoSeries([g for g, _ in pairs], crs=f"EPSG:{epsg}").to_crs(epsg=DISPLAY_EPSG)
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
        on_each_feature=JsCode(script("tip")),  # the tip: escaped here, set as the tooltip's HTML
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
    """Add the page's layers to ``m``, all in ``EPSG:epsg``; returns ``m``.

    The layers: the candidate zones (``chosen`` stands out), an opened saved zone, the drawn zone and the
    parcels it takes (red when low-efficiency). The map is fitted to the drawn zone, else the saved one, else
    the chosen candidate, else every candidate.
    """
    bounds: list[BaseGeometry] = []
    if candidates is not None and len(candidates):
        bounds = _add_candidates(m, candidates, chosen=chosen, epsg=epsg, lang=lang)
    if saved is not None:
        rows = [(translate("zones.col.name", lang), saved_name or ""), _area_row(saved, lang)]
        _add(m, "zones.layer.saved", _collection([saved], [_tip(rows)], epsg=epsg), lang)
        bounds = [saved]
    if taken is not None and result is not None and len(taken):
        _add_taken(m, taken, result, epsg=epsg, lang=lang)
    if zone is not None:
        _add(m, "zones.layer.zone", _collection([zone], [_tip([_area_row(zone, lang)])], epsg=epsg), lang)
        bounds = [zone]
    if bounds:
        x0, y0, x1, y1 = gpd.GeoSeries(bounds, crs=f"EPSG:{epsg}").to_crs(epsg=DISPLAY_EPSG).total_bounds
        fit_view(m, [[y0, x0], [y1, x1]], max_zoom=17)
    layer_control_last(m)
    return m


def _area_row(geom: BaseGeometry, lang: str) -> tuple[str, str]:
    """The tooltip row of a zone's area (its geometry in a metric CRS), in 亩."""
    return (translate("zones.area", lang), fmt_mu(geom.area / M2_PER_MU))


def _add_candidates(
    m: folium.Map, candidates: gpd.GeoDataFrame, *, chosen: str | None, epsg: int, lang: str
) -> list[BaseGeometry]:
    """The candidate zones, the chosen one on a layer of its own; returns what the map opens on."""
    geoms = dissolved(candidates.geometry)
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
    others = [g for g, c in zip(geoms, is_chosen, strict=False) if not c]
    other_tips = [t for t, c in zip(tips, is_chosen, strict=False) if not c]
    _add(m, "zones.layer.candidates", _collection(others, other_tips, epsg=epsg), lang)
    picked = [g for g, c in zip(geoms, is_chosen, strict=False) if c]
    picked_tips = [t for t, c in zip(tips, is_chosen, strict=False) if c]
    _add(m, "zones.layer.chosen", _collection(picked, picked_tips, epsg=epsg), lang)
    return [g for g in picked if g is not None] or [g for g in geoms if g is not None]


def _add_taken(
    m: folium.Map, taken: gpd.GeoDataFrame, result: Mapping[str, Any], *, epsg: int, lang: str
) -> None:
    """The parcels the drawn zone takes: low-efficiency ones on a red layer, the others on a grey one."""
    facts = {p["parcel_no"]: p for p in result["parcels"]}
    for key, low in (("zones.layer.low", True), ("zones.layer.healthy", False)):
        rows = [r for r in taken.itertuples() if bool(facts[str(r.parcel_no)]["low_efficiency"]) is low]
        tips = [_tip(_parcel_rows(str(r.parcel_no), facts[str(r.parcel_no)], lang)) for r in rows]
        _add(m, key, _collection([r.geometry for r in rows], tips, epsg=epsg), lang)


def _parcel_rows(parcel_no: str, fact: Mapping[str, Any], lang: str) -> list[tuple[str, object]]:
    """The tooltip rows of a parcel the zone takes: number, holder, share inside, 亩 inside, rating."""
    return [
        (translate("zones.col.parcel_no", lang), parcel_no),
        (translate("zones.col.holder", lang), fact.get("holder") or ""),
        (translate("zones.col.share_pct", lang), share_text(fact["share"])),
        (translate("zones.col.area_in_zone_mu", lang), fmt_mu(fact["area_in_zone_mu"])),
        (translate("zones.col.rating", lang), fact.get("rating") or translate("zones.unrated", lang)),
    ]
