"""Building the one map (一张图) as a ``folium.Map``: pure functions, no Streamlit.

Layers, each named and switchable in the layer control: 行政区 (administrative areas), 一级线 and 二级线
(industrial block lines) and 宗地 (parcels), plus a legend and, optionally, a basemap.

Every text that comes from the data (a holder's name, a parcel number, a block line's name) reaches the
page HTML-escaped: each feature carries its facts escaped here with ``html.escape``, and one small
function per layer lays them out as the tooltip and popup tables Leaflet sets as ``innerHTML`` (folium's
``GeoJsonTooltip``/``GeoJsonPopup`` put property values into ``innerHTML`` unescaped, so they are not
used). The ``"none"`` basemap adds no tile layer at all, and the page loads nothing but Leaflet
(folium's jQuery, Bootstrap and marker fonts are not needed here), from ``leaflet_url`` when an intranet
serves its own copy: with both, the map needs no internet.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> parcels = gpd.GeoDataFrame({"parcel_no": ["A-1"], "holder": ["<b>甲</b>"]},
...                            geometry=[box(568000, 3097000, 568100, 3097100)], crs="EPSG:4549")
>>> m = build_map(counties=None, level1=None, level2=None, parcels=parcels)
>>> html = m.get_root().render()
>>> "tile" in html.lower(), "&lt;b&gt;" in unescape_js(html)
(False, True)
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template
from folium.utilities import JsCode
from pyproj import Geod

from blockline.ui.i18n import fmt_date, fmt_mu, fmt_mu_ha, land_use_label, translate
from geo.area import M2_PER_MU, area_mu
from geo.gcj02 import transform_geometry
from geo.tiles import ALL_LAYERS

__all__ = [
    "BASEMAPS",
    "COLOR_BY",
    "LAYER_KEYS",
    "LEAFLET_CDN",
    "PALETTE",
    "TILE_COLOR_BY",
    "TIANDITU_SUBDOMAINS",
    "TileSource",
    "build_map",
    "density_legend",
    "land_use_colors",
    "layer_control_last",
    "feature_facts",
    "fit_view",
    "tianditu_url",
    "unescape_js",
    "valid_asset_url",
    "valid_tile_url",
]

#: basemap choices; "none" adds no tiles (works without internet)
BASEMAPS = ("none", "osm", "tianditu_vec", "tianditu_img", "amap", "local")
#: parcel columns the map can colour by (the last three are the policy engine's marks, on tiles only)
COLOR_BY = ("land_use", "county_code", "is_low_efficiency")
TILE_COLOR_BY = (*COLOR_BY, "idle", "lifecycle", "grade")
#: AMap/Gaode's road map; its tiles are in GCJ-02, so the overlays are shifted to match (``gcj02=True``)
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
#: the app's own copy of Leaflet.VectorGrid (draws the vector tiles of ``blockline/server.py``)
VECTORGRID_JS = "/app/static/leaflet-vectorgrid/Leaflet.VectorGrid.bundled.min.js"
TIANDITU_SUBDOMAINS = "01234567"
#: where Leaflet comes from unless the deployment serves it (the version folium 0.20 is written for)
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist"
#: translation keys of the layer names, in drawing order
LAYER_KEYS = ("layer.admin", "layer.level2", "layer.level1", "layer.parcels")

_DISPLAY_EPSG = 4326
_DEFAULT_CENTER = (35.0, 105.0)  # China, for a map without data
_DEFAULT_ZOOM = 4
_PRECISION_DEG = 1e-6  # ~0.1 m: coordinates are rounded to this for a smaller page
_CGCS2000 = Geod(ellps="GRS80")  # CGCS2000's ellipsoid is GRS80 to within 0.1 mm

_STYLE = {
    "layer.admin": {"color": "#4d4d4d", "weight": 2, "dashArray": "6 4", "fill": False, "fillOpacity": 0.0},
    "layer.level1": {"color": "#b03a2e", "weight": 2, "fillColor": "#e74c3c", "fillOpacity": 0.25},
    "layer.level2": {"color": "#b9770e", "weight": 2, "fillColor": "#f5b041", "fillOpacity": 0.2},
    "layer.parcels": {"color": "#1b4f72", "weight": 1, "fillColor": "#5dade2", "fillOpacity": 0.55},
    "layer.focus": {"color": "#7d3c98", "weight": 4, "fillColor": "#af7ac5", "fillOpacity": 0.3},
}
_HOVER = {"weight": 3, "fillOpacity": 0.75}
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#7f7f7f",
)
_OTHER_COLOR = "#cccccc"

# Tooltips and popups are tables built in the browser from the feature's properties, which hold the facts
# already HTML-escaped here (Leaflet sets these strings as innerHTML); the row labels are sent once per layer.
_FACTS_JS = """function (feature, layer) {
    var p = feature.properties || {};
    function facts(rows) {
        var out = "<table class='blockline-facts'>";
        for (var i = 0; i < rows.length; i++) {
            var v = p[rows[i][1]];
            out += "<tr><th>" + rows[i][0] + "</th><td>" + (v == null ? "\\u2014" : v) + "</td></tr>";
        }
        return out + "</table>";
    }
    var tip = %(tip)s, popup = %(popup)s;
    if (tip.length) { layer.bindTooltip(function () { return facts(tip); }, {sticky: true}); }
    if (popup.length) { layer.bindPopup(function () { return facts(popup); }, {maxWidth: 420}); }
}"""
_FACTS_CSS = (
    "<style>.blockline-facts{font-size:13px;border-collapse:collapse}"
    ".blockline-facts th{text-align:left;padding:0 8px 0 0;white-space:nowrap;font-weight:600}</style>"
)


def tianditu_url(layer: str, key: str) -> str:
    """The WMTS tile URL of a Tianditu web-Mercator layer (``vec``, ``cva``, ``img``, ``cia``) with the key.

    >>> tianditu_url("vec", "abc").startswith("https://t{s}.tianditu.gov.cn/vec_w/wmts?")
    True
    """
    if layer not in ("vec", "cva", "img", "cia"):
        raise ValueError(f"not a Tianditu layer: {layer!r}")
    return (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={quote(key.strip(), safe='')}"
    )


def valid_tile_url(url: str | None) -> bool:
    """Whether ``url`` is an http(s) tile template with ``{z}``, ``{x}`` and ``{y}``.

    >>> valid_tile_url("http://10.0.0.5/tiles/{z}/{x}/{y}.png"), valid_tile_url("javascript:alert(1)")
    (True, False)
    """
    if not url:
        return False
    url = url.strip()
    return bool(re.match(r"^https?://[^\s\"'<>]+$", url)) and all(p in url for p in ("{z}", "{x}", "{y}"))


def valid_asset_url(url: str | None) -> bool:
    """Whether ``url`` can hold Leaflet: an http(s) URL or a path on the app's own server.

    >>> valid_asset_url("/app/static/leaflet"), valid_asset_url("javascript:alert(1)")
    (True, False)
    """
    return bool(url) and bool(re.match(r"^(https?://|/)[^\s\"'<>]*$", url.strip()))  # type: ignore[union-attr]


def unescape_js(text: str) -> str:
    r"""Undo the ``\uXXXX`` escapes folium's JSON uses: the strings as the browser's JavaScript sees them.

    >>> unescape_js('"\\u5b97\\u5730 \\u003cb\\u003e"')
    '"宗地 <b>"'
    """
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)


# -- facts -------------------------------------------------------------------------------------------------
def _get(row: pd.Series, column: str) -> object:
    value = row.get(column) if column in row.index else None
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _text(value: object) -> str:
    return "—" if value is None or (isinstance(value, str) and not value.strip()) else str(value)


def _bool_text(value: object, lang: str) -> str:
    if value is None:
        return "—"
    return translate("yes" if bool(value) else "no", lang)


def _escaped(text: str) -> str:
    return html.escape(text, quote=True)


#: fact → (label key, the fact of a row as text); facts are escaped when the properties are written
Fact = tuple[str, Callable[[pd.Series, str], str]]

_PARCEL_FACTS: dict[str, Fact] = {
    "no": ("field.parcel_no", lambda r, lang: _text(_get(r, "parcel_no"))),
    "holder": ("field.holder", lambda r, lang: _text(_get(r, "holder"))),
    "holder_id": ("field.holder_id", lambda r, lang: _text(_get(r, "holder_id"))),
    "use": ("field.land_use", lambda r, lang: land_use_label(_get(r, "land_use"), lang)),
    "county": ("field.county", lambda r, lang: _text(_get(r, "county_code"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(_get(r, "area_mu"))),
    "area": ("field.area", lambda r, lang: fmt_mu(_get(r, "area_mu"))),
    "delivered": ("field.delivered_on", lambda r, lang: fmt_date(_get(r, "delivered_on"))),
    "low": ("field.is_low_efficiency", lambda r, lang: _bool_text(_get(r, "is_low_efficiency"), lang)),
}
_ADMIN_FACTS: dict[str, Fact] = {
    "code": ("field.code", lambda r, lang: _text(_get(r, "code"))),
    "name": ("field.name", lambda r, lang: _text(_get(r, "name"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(_get(r, "area_mu"))),
}
_LINE_FACTS: dict[str, Fact] = {
    "name": ("field.name", lambda r, lang: _text(_get(r, "name"))),
    "county": ("field.county", lambda r, lang: _text(_get(r, "county_code"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(_get(r, "area_mu"))),
    "doc": ("field.approval_doc", lambda r, lang: _text(_get(r, "approval_doc"))),
    "since": ("field.valid_from", lambda r, lang: fmt_date(_get(r, "valid_from"))),
}
#: layer → (its facts, the facts of the tooltip, the facts of the popup)
_LAYER_FACTS: dict[str, tuple[dict[str, Fact], tuple[str, ...], tuple[str, ...]]] = {
    "layer.admin": (_ADMIN_FACTS, ("code", "name", "area_ha"), ()),
    "layer.level1": (
        _LINE_FACTS,
        ("name", "county", "area_ha"),
        ("name", "county", "area_ha", "doc", "since"),
    ),
    "layer.level2": (
        _LINE_FACTS,
        ("name", "county", "area_ha"),
        ("name", "county", "area_ha", "doc", "since"),
    ),
    "layer.parcels": (
        _PARCEL_FACTS,
        ("no", "holder", "use", "area_ha"),
        ("no", "holder", "holder_id", "use", "county", "area", "delivered", "low"),
    ),
}


def feature_facts(key: str, row: pd.Series, *, lang: str = "zh") -> dict[str, str]:
    """The facts a feature of layer ``key`` shows, HTML-escaped, by fact name.

    >>> feature_facts("layer.parcels", pd.Series({"parcel_no": "A-1", "holder": "<b>", "area_mu": 15.0}))["holder"]
    '&lt;b&gt;'
    """
    facts, tip, popup = _LAYER_FACTS[key]
    return {name: _escaped(facts[name][1](row, lang)) for name in dict.fromkeys((*tip, *popup))}


def _binder(key: str, lang: str) -> JsCode:
    """The onEachFeature function of layer ``key``: tooltip and popup tables with labels in ``lang``."""
    facts, tip, popup = _LAYER_FACTS[key]

    def rows(names: tuple[str, ...]) -> str:
        return json.dumps([[_escaped(translate(facts[n][0], lang)), n] for n in names])

    return JsCode(_FACTS_JS % {"tip": rows(tip), "popup": rows(popup)})


# -- frames ------------------------------------------------------------------------------------------------
def _with_area(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with an ``area_mu`` column: kept when given, else computed on the ground."""
    if "area_mu" in gdf.columns:
        return gdf
    out = gdf.copy()
    if gdf.crs.is_projected:
        out["area_mu"] = area_mu(gdf).to_numpy()
    else:  # geodesic, on the CGCS2000 ellipsoid (never in degrees, never in Web Mercator)
        out["area_mu"] = [abs(_CGCS2000.geometry_area_perimeter(g)[0]) / M2_PER_MU for g in gdf.geometry]
    return out


def _for_display(gdf: gpd.GeoDataFrame | None, *, what: str, gcj02: bool = False) -> gpd.GeoDataFrame | None:
    """A new frame in EPSG:4326 with area_mu and no empty geometries; None when there is nothing to draw.

    With ``gcj02`` the coordinates are then shifted to GCJ-02 (for AMap tiles); areas are computed before.
    """
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        raise ValueError(f"{what} has no CRS; give it one (the store's is EPSG:4549)")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    gdf = _with_area(gdf[keep])
    if len(gdf) == 0:
        return None
    if gdf.crs.to_epsg() != _DISPLAY_EPSG:
        gdf = gdf.to_crs(epsg=_DISPLAY_EPSG)
    if gcj02:
        gdf = gdf.set_geometry(
            transform_geometry(np.asarray(gdf.geometry.array), direction="wgs84_to_gcj02"), crs=_DISPLAY_EPSG
        )
    return gdf


def _collection(
    gdf: gpd.GeoDataFrame, properties: Callable[[pd.Series], dict[str, object]]
) -> dict[str, object]:
    geoms = shapely.set_precision(np.asarray(gdf.geometry.array), _PRECISION_DEG, mode="pointwise")
    features = []
    for (_, row), geom in zip(gdf.iterrows(), geoms, strict=False):
        features.append(
            {"type": "Feature", "properties": properties(row), "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def _category(value: object) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


#: the colour of each kind of land in the codes table (geo.landuse): every standard's 工业用地 is one colour
FAMILY_COLORS = {
    "industrial": "#c0392b",
    "warehouse": "#8e44ad",
    "mining": "#7f8c8d",
    "industrial_group": "#e67e22",
}


def land_use_colors(values: Sequence[str]) -> dict[str, str]:
    """A colour for each land-use value, by what the codes table says it is, not by its spelling.

    Industrial land of any standard (``0601``, ``M1``, ``100101``, ``工业用地``) takes one colour, and so do warehouse,
    mining and mixed 工矿 land; other land takes a palette colour per class (``R2`` and ``0701 城镇住宅用地`` differ,
    ``0701`` and ``0701 城镇住宅用地`` agree); unknown values a palette colour each.

    Examples
    --------
    >>> c = land_use_colors(["0601", "M1", "100101", "工业用地", "0604", "W", "R2", "0701"])
    >>> len({c["0601"], c["M1"], c["100101"], c["工业用地"]}), c["0604"] == c["W"], c["R2"] == c["0701"]
    (1, True, False)
    """
    from geo.landuse import lookup

    out: dict[str, str] = {}
    classes: dict[str, str] = {}
    for value in values:
        entry = lookup(value)
        if entry is not None and entry.family in FAMILY_COLORS:
            out[value] = FAMILY_COLORS[entry.family]
            continue
        key = f"{entry.standard}:{entry.code}" if entry is not None else f"?{value}"
        if key not in classes:
            classes[key] = PALETTE[len(classes) % len(PALETTE)]
        out[value] = classes[key]
    return out


def _category_colors(values: pd.Series) -> dict[str, str]:
    """Colours of the most frequent categories; the rest fall under "other"."""
    counts = values.map(_category).value_counts(sort=True)
    order = sorted(counts.index, key=lambda c: (-counts[c], c))
    return {c: PALETTE[i] for i, c in enumerate(order[: len(PALETTE)])}


def _category_label(column: str, category: str, lang: str) -> str:
    if category in ("yes", "no"):
        return translate(category, lang)
    if column == "land_use":
        return land_use_label(category, lang)
    return category


# -- the legend ----------------------------------------------------------------------------------------
class _Legend(MacroElement):
    """A Leaflet control in the bottom-right corner holding ready (escaped) HTML."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "blockline-legend");
            div.innerHTML = {{ this.body|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            // Sized to the map: never more than a fifth of it (a longer legend scrolls), whatever the screen.
            function fit() {
                var size = map.getSize();
                div.style.maxHeight = "";
                div.style.overflowY = "auto";
                var width = Math.max(div.offsetWidth, 1);
                div.style.maxHeight = Math.max(48, Math.min(size.y - 40, Math.floor(0.19 * size.x * size.y / width))) + "px";
            }
            map.on("resize", fit);
            setTimeout(fit, 0);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


class _PlainAttribution(MacroElement):
    """The attribution control without Leaflet's prefix (a link with a national flag icon): a government
    deployment shows only the attribution text of its base maps.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop

    _template = Template("""
        {% macro script(this, kwargs) %}
        if ({{ this._parent.get_name() }}.attributionControl) {
            {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        }
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "PlainAttribution"


def _swatch(style: dict[str, object], label: str) -> str:
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    dash = "dashed" if style.get("dashArray") else "solid"
    return (
        f"<div style='margin:2px 0'><span style='display:inline-block;width:14px;height:10px;"
        f"margin-right:6px;vertical-align:middle;background:{fill};border:2px {dash} {style['color']}'>"
        f"</span>{html.escape(label)}</div>"
    )


def _legend_html(entries: list[tuple[dict[str, object], str]], title: str) -> str:
    rows = "".join(_swatch(style, label) for style, label in entries)
    return (
        f"<div style='background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;"
        f"box-shadow:0 1px 4px rgba(0,0,0,0.3);font-size:12px;line-height:1.4;max-height:320px;"
        f"overflow-y:auto'><b>{html.escape(title)}</b>{rows}</div>"
    )


# -- basemaps ----------------------------------------------------------------------------------------------
def _add_basemap(
    m: folium.Map, basemap: str, *, tianditu_key: str | None, local_tile_url: str | None, lang: str
) -> None:
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}, not {basemap!r}")
    name = translate(f"basemap.{basemap}", lang)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=name, max_zoom=19).add_to(m)
    elif basemap in ("tianditu_vec", "tianditu_img"):
        if not tianditu_key or not tianditu_key.strip():
            return  # Tianditu serves nothing without a key: no tiles rather than a map of errors
        base, labels = ("vec", "cva") if basemap == "tianditu_vec" else ("img", "cia")
        attr = "&copy; 天地图 Tianditu"
        folium.TileLayer(
            tiles=tianditu_url(base, tianditu_key),
            attr=attr,
            name=name,
            subdomains=TIANDITU_SUBDOMAINS,
            max_zoom=18,
        ).add_to(m)
        folium.TileLayer(
            tiles=tianditu_url(labels, tianditu_key),
            attr=attr,
            name=translate("layer.basemap_labels", lang),
            subdomains=TIANDITU_SUBDOMAINS,
            max_zoom=18,
            overlay=True,
            control=True,
        ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            tiles=AMAP_URL, attr="&copy; 高德地图 AutoNavi", name=name, subdomains="1234", max_zoom=18
        ).add_to(m)
    elif basemap == "local":
        if not valid_tile_url(local_tile_url):
            raise ValueError("local_tile_url must be an http(s) URL template with {z}, {x} and {y}")
        assert local_tile_url is not None
        folium.TileLayer(tiles=local_tile_url.strip(), attr=html.escape(name), name=name, max_zoom=20).add_to(
            m
        )


# -- vector tiles ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TileSource:
    """Where and what the map's vector tiles are (``blockline/server.py`` serves them; see ``geo.tiles``).

    ``version`` is the data version (``geo.tiles.data_version``): part of every tile URL, so the browser may
    keep tiles until the data changes. ``mark_set`` names the policy engine's marks (for colouring by
    ``idle``, ``lifecycle`` or ``grade``). ``colors`` maps the values of ``color_by`` to colours.
    """

    version: str
    county: str | None = None
    as_of: dt.date | None = None
    mark_set: str | None = None
    color_by: str | None = None
    colors: Mapping[str, str] = field(default_factory=dict)
    base_url: str = "/tiles"
    script_url: str = VECTORGRID_JS

    def url(self, layer: str, *, gcj02: bool = False) -> str:
        """The Leaflet URL template of one tile layer, or of every layer at once (``ALL_LAYERS``).

        >>> TileSource(version="v1", county="330302").url("parcels")
        '/tiles/parcels/{z}/{x}/{y}.pbf?v=v1&county=330302'
        >>> TileSource(version="v1", mark_set="m1").url("all")
        '/tiles/all/{z}/{x}/{y}.pbf?v=v1&marks=m1'
        """
        query = {
            "v": self.version,
            "county": self.county,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "marks": self.mark_set if layer in ("parcels", ALL_LAYERS) else None,
            "color": self.color_by if layer in ("parcels", ALL_LAYERS) else None,
            "gcj": "1" if gcj02 else None,
        }
        return f"{self.base_url}/{layer}/{{z}}/{{x}}/{{y}}.pbf?" + urlencode(
            {k: v for k, v in query.items() if v}
        )


# Squares of the far-out parcel layer are shaded by the share of their ground that parcels cover (%).
_DENSITY = ((0, "#d6eaf8"), (2, "#aed6f1"), (5, "#5dade2"), (10, "#2e86c1"), (25, "#1b4f72"))


class _TileLayers(JSCSSMixin, MacroElement):
    """Block lines, parcels and county outlines from one Leaflet.VectorGrid, each layer switchable in the layer
    control, with escaped popups.

    Popups are built with DOM nodes and ``textContent``, so a value is never parsed as HTML.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var cfg = {{ this.config|tojson }};
            function label(key, value) {
                var names = cfg.values[key] || {};
                if (value === true) { return cfg.yes; }
                if (value === false) { return cfg.no; }
                if (key === "area_mu" || key === "low_mu") {
                    return Number(value).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2})
                        + " " + cfg.mu + " (" + (Number(value) / 15).toLocaleString("zh-CN",
                        {minimumFractionDigits: 2, maximumFractionDigits: 2}) + " " + cfg.ha + ")";
                }
                if (key === "parcels") { return Number(value).toLocaleString("zh-CN"); }
                if (key === "top") { names = cfg.values[cfg.colorBy] || {}; }
                if (key === "top_share") { return Math.round(100 * Number(value)) + "%"; }
                return names.hasOwnProperty(value) ? names[value] : String(value);
            }
            function facts(props, keys) {
                var table = document.createElement("table");
                table.className = "blockline-facts";
                keys.forEach(function (key) {
                    var v = props[key];
                    if (v === undefined || v === null || v === "") { return; }
                    var row = table.insertRow(), th = document.createElement("th"), td = row.insertCell(-1);
                    th.textContent = cfg.labels[key] || key;
                    row.insertBefore(th, td);
                    td.textContent = label(key, v);
                });
                return table;
            }
            function densityColor(mu, zoom) {
                // The ground a square covers: 16 px of a 256 px tile at this zoom, at the map's latitude.
                var side = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / Math.pow(2, zoom + 4);
                var share = 100 * mu / (side * side / (10000 / 15));
                var color = cfg.density[0][1];
                cfg.density.forEach(function (step) { if (share >= step[0]) { color = step[1]; } });
                return color;
            }
            function parcelStyle(p, zoom) {
                if (p.parcels !== undefined && p.parcel_no === undefined) {
                    if (cfg.colorBy) {  // the colour of the value that dominates the square, deeper the more it does
                        var top = p.top, known = top !== undefined && cfg.colors.hasOwnProperty(top);
                        return {fill: true, fillColor: known ? cfg.colors[top] : cfg.other, stroke: false, weight: 0,
                                fillOpacity: known ? 0.35 + 0.5 * Math.min(1, Number(p.top_share) || 0) : 0.35};
                    }
                    return {fill: true, fillColor: densityColor(p.area_mu, zoom), fillOpacity: 0.65, stroke: false,
                            weight: 0};
                }
                var style = Object.assign({fill: true}, cfg.styles.parcels);
                if (cfg.colorBy) {
                    var v = p[cfg.colorBy];
                    var key = (v === true || v === false) ? String(v) : v;
                    style.fillColor = (key !== undefined && cfg.colors.hasOwnProperty(key)) ? cfg.colors[key] : cfg.other;
                }
                return style;
            }
            // One VectorGrid draws every layer: blockline/server.py's /tiles/all/ holds them all, one tile per place, and
            // each tile is one canvas, drawn in the order of its layers (parcels, block lines, outlines above).
            // Only parcels answer the mouse: a click on a block line goes through to the parcel under it.
            var hidden = {}, styles = {}, keysOf = {};
            cfg.layers.forEach(function (spec) {
                var name = spec.layer;
                keysOf[name] = spec.keys;
                styles[name] = function (p, zoom) {
                    if (hidden[name]) { return []; }
                    if (name === "parcels") { return parcelStyle(p, zoom); }
                    return Object.assign({fill: true, interactive: false}, cfg.styles[name]);
                };
            });
            // VectorGrid 1.3 stops a click on a feature with L.DomEvent.fakeStop, which Leaflet 1.8 removed (the
            // click then throws and no popup opens); upstream's fix (Leaflet.VectorGrid#288) calls stop().
            if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = L.DomEvent.stop; }
            var grid = L.vectorGrid.protobuf(cfg.url, {
                vectorTileLayerStyles: styles, interactive: true, rendererFactory: L.canvas.tile,
                maxNativeZoom: 20, maxZoom: 22, keepBuffer: 1, updateWhenZooming: false
            });
            var tip = L.tooltip({direction: "top", offset: [0, -8], opacity: 0.95});
            grid.on("mouseover", function (e) {
                var props = e.layer.properties || {};
                var keys = (props.parcel_no === undefined) ? cfg.squareKeys : cfg.tipKeys;
                tip.setLatLng(e.latlng).setContent(facts(props, keys));
                map.openTooltip(tip);
            });
            grid.on("mouseout", function () { map.closeTooltip(tip); });
            grid.on("click", function (e) {
                var props = e.layer.properties || {};
                var keys = (props.parcel_no === undefined && props.parcels !== undefined) ? cfg.squareKeys : keysOf.parcels;
                L.popup({maxWidth: 420}).setLatLng(e.latlng).setContent(facts(props, keys)).openOn(map);
                L.DomEvent.stop(e);
            });
            // Added after streamlit-folium's initComponent, which gives every layer then on the map a click
            // handler that asks the clicked feature for GeoJSON (a tile's feature has none: it would throw).
            setTimeout(function () { grid.addTo(map); }, 0);
            // The layer control switches each layer by an empty layer of its name: switched off, its features
            // get no style and the tiles are drawn again (from the browser's cache).
            cfg.layers.forEach(function (spec) {
                var toggle = L.layerGroup();
                toggle.on("add", function () {
                    if (hidden[spec.layer]) { delete hidden[spec.layer]; grid.redraw(); }
                });
                toggle.on("remove", function () {
                    if (!hidden[spec.layer] && grid._map) { hidden[spec.layer] = true; grid.redraw(); }
                });
                toggle.addTo(map);
                {% if this.control %}
                // After the whole script: a page may move the layer control after its own layers.
                setTimeout(function () { {{ this.control }}.addOverlay(toggle, spec.name); }, 0);
                {% endif %}
            });
        })();
        {% endmacro %}
    """)  # noqa: E501 issue 14: left by tools/house_move.py lint, fix and drop

    def __init__(self, config: dict[str, object], script_url: str, control: str | None) -> None:
        super().__init__()
        self._name = "TileLayers"
        self.config = config
        self.control = control
        self.default_js = [("leaflet_vectorgrid", script_url)]


_TILE_KEYS = {
    "level1": ["name", "county_code", "area_mu", "approval_doc"],
    "level2": ["name", "county_code", "area_mu", "approval_doc"],
    "counties": ["code", "name"],
    "parcels": [
        "parcel_no",
        "holder",
        "land_use",
        "county_code",
        "area_mu",
        "is_low_efficiency",
        "idle",
        "lifecycle",
        "grade",
    ],
}


def _tile_config(
    source: TileSource, *, lang: str, gcj02: bool, value_names: Mapping[str, Mapping[str, str]]
) -> dict[str, object]:
    labels = {
        "parcel_no": translate("field.parcel_no", lang),
        "holder": translate("field.holder", lang),
        "land_use": translate("field.land_use", lang),
        "county_code": translate("field.county", lang),
        "area_mu": translate("field.area", lang),
        "is_low_efficiency": translate("color.is_low_efficiency", lang),
        "idle": translate("color.idle", lang),
        "lifecycle": translate("color.lifecycle", lang),
        "grade": translate("color.grade", lang),
        "name": translate("field.name", lang),
        "approval_doc": translate("field.approval_doc", lang),
        "parcels": translate("field.parcels", lang),
        "low_mu": translate("field.low_mu", lang),
        "top": translate("field.top", lang),
        "top_share": translate("field.top_share", lang),
    }
    layers = [
        {"layer": layer, "name": translate(key, lang), "keys": _TILE_KEYS[layer]}
        for layer, key in (
            ("parcels", "layer.parcels"),
            ("counties", "layer.admin"),
            ("level2", "layer.level2"),
            ("level1", "layer.level1"),
        )
    ]
    styles = {
        "level1": _STYLE["layer.level1"],
        "level2": _STYLE["layer.level2"],
        "parcels": _STYLE["layer.parcels"],
        "counties": _STYLE["layer.admin"],
    }
    return {
        "url": source.url(ALL_LAYERS, gcj02=gcj02),
        "layers": layers,
        "styles": styles,
        "labels": labels,
        "values": {k: dict(v) for k, v in value_names.items()},
        "colorBy": source.color_by,
        "colors": dict(source.colors),
        "other": _OTHER_COLOR,
        "density": [list(step) for step in _DENSITY],
        "squareKeys": ["parcels", "area_mu", "low_mu", *(["top", "top_share"] if source.color_by else [])],
        "tipKeys": ["parcel_no", "holder", "area_mu"],
        "mu": "亩" if lang == "zh" else "mu",
        "ha": "公顷" if lang == "zh" else "ha",
        "yes": translate("yes", lang),
        "no": translate("no", lang),
    }


def density_legend(lang: str) -> list[tuple[dict[str, object], str]]:
    """Legend rows of the far-out squares (亩 per square)."""
    rows = []
    for i, (low, color) in enumerate(_DENSITY):
        high = _DENSITY[i + 1][0] if i + 1 < len(_DENSITY) else None
        span = f"≥ {low}" if high is None else f"{low}–{high}"
        rows.append(
            ({"color": color, "fillColor": color, "weight": 0}, translate("legend.square", lang, span=span))
        )
    return rows


# -- the map -------------------------------------------------------------------------------------------------
def _bounds(frames: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    if not boxes:
        return None
    arr = np.vstack(boxes)
    minx, miny = arr[:, 0].min(), arr[:, 1].min()
    maxx, maxy = arr[:, 2].max(), arr[:, 3].max()
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def _styler(style: dict[str, object]) -> Callable[[dict[str, object]], dict[str, object]]:
    """A folium style function: the fixed ``style``, with the feature's own fill colour when it has one."""

    def styler(feature: dict[str, object]) -> dict[str, object]:
        fill = feature.get("properties", {}).get("_fill")  # type: ignore[union-attr]
        return {**style, "fillColor": fill} if fill else dict(style)

    return styler


def _properties(
    key: str,
    *,
    lang: str,
    color_by: str | None,
    colors: dict[str, str] | None,
) -> Callable[[pd.Series], dict[str, object]]:
    """The GeoJSON properties of one feature of layer ``key``: its escaped facts and its fill colour."""

    def properties(row: pd.Series) -> dict[str, object]:
        out: dict[str, object] = dict(feature_facts(key, row, lang=lang))
        if colors is not None and color_by is not None:
            out["_fill"] = colors.get(_category(_get(row, color_by)), _OTHER_COLOR)
        return out

    return properties


_FOCUS_PANE = "blockline-focus"


def _add_focus(m: folium.Map, collection: dict[str, object], name: str) -> None:
    """The found parcel, outlined above the parcels but deaf to the mouse.

    Its layer lives in a pane of its own that lets every click through: Leaflet draws vector layers on one
    canvas covering the whole view, which would otherwise swallow each click meant for the parcel tiles
    under it (issue 18: after a search no other parcel opened its popup). A click on the found parcel itself
    reaches the parcel under the outline, so its popup is the same as any other parcel's.
    """
    folium.map.CustomPane(_FOCUS_PANE, z_index=450, pointer_events=False).add_to(m)
    folium.GeoJson(
        collection,
        name=name,
        style_function=_styler(_STYLE["layer.focus"]),
        pane=_FOCUS_PANE,
        interactive=False,
    ).add_to(m)


def build_map(  # noqa: C901 issue 14: left by tools/house_move.py lint, fix and drop
    *,
    counties: gpd.GeoDataFrame | None,
    level1: gpd.GeoDataFrame | None,
    level2: gpd.GeoDataFrame | None,
    parcels: gpd.GeoDataFrame | None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    local_tile_url: str | None = None,
    color_by: str | None = None,
    highlight: str | None = None,
    lang: str = "zh",
    leaflet_url: str | None = None,
    tiles: TileSource | None = None,
    value_names: Mapping[str, Mapping[str, str]] | None = None,
    focus: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The one map: administrative areas, level-1 and level-2 block lines and parcels, as named layers.

    Parameters
    ----------
    counties, level1, level2, parcels
        Frames in any CRS (converted to EPSG:4326 here; a frame without a CRS is a ``ValueError``), or
        None. Parcels show parcel_no, holder, land_use and area_mu (computed on the ground when absent).
    basemap
        ``"none"`` (no tiles at all), ``"osm"``, ``"tianditu_vec"``/``"tianditu_img"`` (added only with
        ``tianditu_key``, with their annotation layer), or ``"local"`` (``local_tile_url``, an http(s)
        template with ``{z}``, ``{x}``, ``{y}``).
    color_by
        None for one colour, or a parcel column (``land_use``, ``county_code``, ``is_low_efficiency``)
        whose ten most frequent values get their own colours, listed in the legend.
    highlight
        A parcel number: that parcel is drawn on a layer of its own and the map zooms to it.
    lang
        ``"zh"`` or ``"en"``, for layer names, legend, tooltips and popups.
    leaflet_url
        The folder holding ``leaflet.js`` and ``leaflet.css`` (an intranet copy, e.g. ``/app/static/leaflet``);
        default ``LEAFLET_CDN``. Leaflet is the only script and style the map loads.
    tiles
        Draw block lines and parcels from vector tiles (``blockline/server.py``) instead of the frames: a city of any
        size, fetched tile by tile as the view moves (``level1``, ``level2`` and ``parcels`` must then be None;
        ``counties`` still fits the view). Colours follow ``tiles.color_by``/``tiles.colors``.
    value_names
        For tile popups and the legend: the label of each value, by property (``land_use``, ``idle``…).
    focus
        Parcels to show on a layer of their own and zoom to (a search result, with tiles); like ``highlight``.

    With ``basemap="amap"`` every layer is shifted to GCJ-02, the coordinates AMap's tiles are drawn in.

    Returns
    -------
    folium.Map
        A new map, fitted to the data (or to the highlighted parcel).

    Examples
    --------
    >>> m = build_map(counties=None, level1=None, level2=None, parcels=None, basemap="osm")
    >>> "tile.openstreetmap.org" in m.get_root().render()
    True
    """
    if color_by is not None and color_by not in COLOR_BY:
        raise ValueError(f"color_by must be None or one of {COLOR_BY}, not {color_by!r}")
    if tiles is not None and any(f is not None for f in (level1, level2, parcels)):
        raise ValueError(
            "with tiles, block lines and parcels come from the tiles: pass level1/level2/parcels as None"
        )
    if tiles is not None and tiles.color_by is not None and tiles.color_by not in TILE_COLOR_BY:
        raise ValueError(f"tiles.color_by must be None or one of {TILE_COLOR_BY}, not {tiles.color_by!r}")
    gcj02 = basemap == "amap"
    frames = {
        "layer.admin": _for_display(counties, what="counties", gcj02=gcj02),
        "layer.level2": _for_display(level2, what="level2", gcj02=gcj02),
        "layer.level1": _for_display(level1, what="level1", gcj02=gcj02),
        "layer.parcels": _for_display(parcels, what="parcels", gcj02=gcj02),
    }
    if leaflet_url is not None and not valid_asset_url(leaflet_url):
        raise ValueError("leaflet_url must be an http(s) URL or a path starting with /")
    m = folium.Map(
        location=_DEFAULT_CENTER,
        zoom_start=_DEFAULT_ZOOM,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
    )
    m.add_child(_MetricScale())  # metres and kilometres only, and no "Leaflet" prefix before the attribution
    base = (leaflet_url or LEAFLET_CDN).strip().rstrip("/")
    m.default_js = [("leaflet", f"{base}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    m.add_child(_PlainAttribution())
    _add_basemap(m, basemap, tianditu_key=tianditu_key, local_tile_url=local_tile_url, lang=lang)

    legend: list[tuple[dict[str, object], str]] = []
    for key in LAYER_KEYS:
        gdf = frames[key]
        if gdf is None or (tiles is not None and key == "layer.admin"):
            continue  # with tiles, the outlines come as tiles too (the frame still fits the view)
        name = translate(key, lang)
        style = dict(_STYLE[key])
        colors: dict[str, str] | None = None
        if key == "layer.parcels" and color_by is not None:
            values = (
                gdf[color_by] if color_by in gdf.columns else pd.Series([None] * len(gdf), index=gdf.index)
            )
            colors = _category_colors(values)
            legend += [
                ({**style, "fillColor": c}, f"{name}：{_category_label(color_by, v, lang)}")
                for v, c in colors.items()
            ]
            if values.map(_category).nunique() > len(colors):
                legend.append(
                    ({**style, "fillColor": _OTHER_COLOR}, f"{name}：{translate('legend.other', lang)}")
                )
        else:
            legend.append((style, name))
        folium.GeoJson(
            _collection(gdf, _properties(key, lang=lang, color_by=color_by, colors=colors)),
            name=name,
            style_function=_styler(style),
            highlight_function=_styler(_HOVER) if key == "layer.parcels" else None,
            on_each_feature=_binder(key, lang),
            smooth_factor=0.5,
        ).add_to(m)

    chosen_focus = _for_display(focus, what="focus", gcj02=gcj02)
    focus = None
    if chosen_focus is not None:
        focus = chosen_focus
        name = translate("layer.focus", lang)
        _add_focus(
            m, _collection(focus, _properties("layer.parcels", lang=lang, color_by=None, colors=None)), name
        )
        legend.append((_STYLE["layer.focus"], name))
    elif highlight is not None and frames["layer.parcels"] is not None:
        parcels_shown = frames["layer.parcels"]
        chosen = (
            parcels_shown[parcels_shown["parcel_no"].astype(str) == str(highlight)]
            if "parcel_no" in parcels_shown.columns
            else parcels_shown.iloc[0:0]
        )
        if len(chosen):
            focus = chosen
            name = translate("layer.focus", lang)
            _add_focus(
                m,
                _collection(chosen, _properties("layer.parcels", lang=lang, color_by=None, colors=None)),
                name,
            )
            legend.append((_STYLE["layer.focus"], name))

    bounds = _bounds([focus]) if focus is not None else _bounds(list(frames.values()))
    if bounds is not None:
        fit_view(m, bounds, max_zoom=17 if focus is not None else 16)
    names = {k: dict(v) for k, v in (value_names or {}).items()}
    if tiles is not None:
        legend += _tile_legend(tiles, names, lang)
    if legend:
        m.add_child(_Legend(_legend_html(legend, translate("legend.title", lang))))
    m.get_root().header.add_child(Element(_FACTS_CSS), name="blockline_facts_css")
    control = folium.LayerControl(collapsed=True)  # an icon until the mouse is on it (issue 18, item 5)
    control.add_to(m)
    if tiles is not None:
        if not valid_asset_url(tiles.script_url) or not valid_asset_url(tiles.base_url):
            raise ValueError("tile URLs must be http(s) URLs or paths starting with /")
        m.add_child(
            _TileLayers(
                _tile_config(tiles, lang=lang, gcj02=gcj02, value_names=names),
                tiles.script_url,
                control.get_name(),
            )
        )
    return m


def fit_view(m: folium.Map, bounds: list[list[float]], *, max_zoom: int) -> folium.Map:
    """Open the map on ``bounds`` ([[south, west], [north, east]]), replacing a view set before.

    Without animation: an animated fit starts from the map's first view (all of China), and the tile
    layers would fetch and draw the tiles of that view before those of the data; a second fit while the
    first is still animating would be lost.
    """
    for key, child in list(m._children.items()):
        if isinstance(child, folium.FitBounds):
            del m._children[key]
    fit = folium.FitBounds(bounds, padding=(20, 20), max_zoom=max_zoom)
    fit.options["animate"] = False
    m.add_child(fit)
    return m


def layer_control_last(m: folium.Map) -> folium.Map:
    """Move the map's layer control after every layer a page added after ``build_map``: the control's script
    names the layers, which must exist by then (else the browser meets an undefined variable and stops the
    whole map). Call it once the page has added its own layers.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
            m.add_child(child, name=key)
    return m


def _tile_legend(
    tiles: TileSource, names: Mapping[str, Mapping[str, str]], lang: str
) -> list[tuple[dict[str, object], str]]:
    rows: list[tuple[dict[str, object], str]] = [
        (_STYLE["layer.admin"], translate("layer.admin", lang)),
        (_STYLE["layer.level1"], translate("layer.level1", lang)),
        (_STYLE["layer.level2"], translate("layer.level2", lang)),
    ]
    parcels = translate("layer.parcels", lang)
    style = _STYLE["layer.parcels"]
    if tiles.color_by is None:
        rows.append((style, parcels))
    else:
        labels = names.get(tiles.color_by, {})
        rows += [
            ({**style, "fillColor": c}, f"{parcels}：{labels.get(v, v)}") for v, c in tiles.colors.items()
        ]
        rows.append(({**style, "fillColor": _OTHER_COLOR}, f"{parcels}：{translate('legend.no_mark', lang)}"))
    if tiles.color_by is None:
        return rows + density_legend(lang)
    # Far out the squares take the colour of the value that dominates them (issue 18, item 7): their own rows.
    deep = next(iter(tiles.colors.values()), _OTHER_COLOR)
    return rows + [
        (
            {"color": deep, "fillColor": deep, "fillOpacity": 0.85, "weight": 0},
            translate("legend.square_top", lang),
        ),
        (
            {"color": _OTHER_COLOR, "fillColor": _OTHER_COLOR, "weight": 0},
            translate("legend.square_none", lang),
        ),
    ]


class _MetricScale(MacroElement):
    """A metric-only scale bar (no miles or feet) and an attribution without Leaflet's prefix and flag.

    folium's own ``control_scale`` adds Leaflet's default scale, which shows miles too (``3 mi``); the
    attribution's prefix reads "Leaflet" with a flag in either language (issue 16).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
            {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        {% endmacro %}
    """)
