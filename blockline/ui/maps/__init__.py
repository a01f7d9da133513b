"""Building the one map (一张图) as a ``folium.Map``: pure functions, no Streamlit.

Layers, each named and switchable in the layer control: 行政区 (administrative areas), 一级线 and 二级线
(industrial block lines) and 宗地 (parcels), plus a legend and, optionally, a basemap.

Every text that comes from the data (a holder's name, a parcel number, a block line's name) reaches the
page HTML-escaped (``facts``). The ``"none"`` basemap adds no tile layer at all, and the page loads nothing but Leaflet
(folium's jQuery, Bootstrap and marker fonts are not needed here), from ``leaflet_url`` when an intranet
serves its own copy: with both, the map needs no internet.

The parts, one module each: ``styles`` (colours), ``facts`` (tooltips and popups), ``frames`` (what is drawn,
in EPSG:4326), ``basemaps``, ``furniture`` (legend, scale, first view), ``tiles`` (vector tiles) and ``scripts``
(the JavaScript in ``js/``). This module puts them together.

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

import re
from collections.abc import Iterable, Mapping

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure

from blockline.ui.i18n import translate
from blockline.ui.maps.basemaps import (
    BASEMAPS,
    TIANDITU_SUBDOMAINS,
    add_basemap,
    tianditu_url,
    valid_asset_url,
    valid_tile_url,
)
from blockline.ui.maps.facts import FACTS_CSS, binder, feature_facts, properties
from blockline.ui.maps.frames import bounds_of, collection, for_display
from blockline.ui.maps.furniture import (
    Legend,
    LegendRow,
    MetricScale,
    PlainAttribution,
    fit_view,
    layer_control_last,
    legend_html,
)
from blockline.ui.maps.styles import (
    FAMILY_COLORS,
    HOVER,
    OTHER_COLOR,
    PALETTE,
    STYLE,
    category,
    category_colors,
    category_label,
    land_use_colors,
    styler,
)
from blockline.ui.maps.tiles import (
    VECTORGRID_JS,
    TileLayers,
    TileSource,
    density_legend,
    tile_config,
    tile_legend,
)

__all__ = [
    "BASEMAPS",
    "COLOR_BY",
    "FAMILY_COLORS",
    "LAYER_KEYS",
    "LEAFLET_CDN",
    "PALETTE",
    "TILE_COLOR_BY",
    "TIANDITU_SUBDOMAINS",
    "VECTORGRID_JS",
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

#: parcel columns the map can colour by (the last three are the policy engine's marks, on tiles only)
COLOR_BY = ("land_use", "county_code", "is_low_efficiency")
TILE_COLOR_BY = (*COLOR_BY, "idle", "lifecycle", "grade")
#: where Leaflet comes from unless the deployment serves it (the version folium 0.20 is written for)
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist"
#: translation keys of the layer names, in drawing order
LAYER_KEYS = ("layer.admin", "layer.level2", "layer.level1", "layer.parcels")

# ui/qgis.py draws the QGIS project in the map's colours
_STYLE = STYLE
_OTHER_COLOR = OTHER_COLOR

_DEFAULT_CENTER = (35.0, 105.0)  # China, for a map without data
_DEFAULT_ZOOM = 4
_FOCUS_PANE = "blockline-focus"
#: layer key → what its frame is called in an error
_WHAT = {
    "layer.admin": "counties",
    "layer.level2": "level2",
    "layer.level1": "level1",
    "layer.parcels": "parcels",
}


def unescape_js(text: str) -> str:
    r"""Undo the ``\uXXXX`` escapes folium's JSON uses: the strings as the browser's JavaScript sees them.

    >>> unescape_js('"\\u5b97\\u5730 \\u003cb\\u003e"')
    '"宗地 <b>"'
    """
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)


def build_map(
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
    _check_options(color_by=color_by, tiles=tiles, drawn=(level1, level2, parcels))
    gcj02 = basemap == "amap"
    frames = _frames_shown((counties, level2, level1, parcels), gcj02=gcj02)
    m = _new_map(leaflet_url)
    add_basemap(m, basemap, tianditu_key=tianditu_key, local_tile_url=local_tile_url, lang=lang)
    legend = _add_frames(m, frames, with_tiles=tiles is not None, color_by=color_by, lang=lang)
    found = for_display(focus, what="focus", gcj02=gcj02)
    if found is None and highlight is not None:
        found = _highlighted(frames["layer.parcels"], highlight)
    if found is not None:
        legend.append(_add_focus(m, found, lang))
    _fit(m, found, frames.values())
    names = {k: dict(v) for k, v in (value_names or {}).items()}
    if tiles is not None:
        legend += tile_legend(tiles, names, lang)
    control = _add_furniture(m, legend, lang)
    if tiles is not None:
        _add_tiles(m, tiles, control, lang=lang, gcj02=gcj02, value_names=names)
    return m


def _check_options(
    *, color_by: str | None, tiles: TileSource | None, drawn: tuple[gpd.GeoDataFrame | None, ...]
) -> None:
    """Refuse a colouring the map cannot draw, and frames of block lines or parcels beside tiles."""
    if color_by is not None and color_by not in COLOR_BY:
        raise ValueError(f"color_by must be None or one of {COLOR_BY}, not {color_by!r}")
    if tiles is not None and any(f is not None for f in drawn):
        raise ValueError(
            "with tiles, block lines and parcels come from the tiles: pass level1/level2/parcels as None"
        )
    if tiles is not None and tiles.color_by is not None and tiles.color_by not in TILE_COLOR_BY:
        raise ValueError(f"tiles.color_by must be None or one of {TILE_COLOR_BY}, not {tiles.color_by!r}")


def _frames_shown(
    frames: tuple[gpd.GeoDataFrame | None, ...], *, gcj02: bool
) -> dict[str, gpd.GeoDataFrame | None]:
    """The frames of ``LAYER_KEYS`` (in that order) as drawn: EPSG:4326 (or GCJ-02), with their area."""
    return {
        key: for_display(gdf, what=_WHAT[key], gcj02=gcj02)
        for key, gdf in zip(LAYER_KEYS, frames, strict=True)
    }


def _new_map(leaflet_url: str | None) -> folium.Map:
    """An empty map of China that loads Leaflet, and only Leaflet, from ``leaflet_url`` (else the CDN)."""
    if leaflet_url is not None and not valid_asset_url(leaflet_url):
        raise ValueError("leaflet_url must be an http(s) URL or a path starting with /")
    m = folium.Map(
        location=_DEFAULT_CENTER,
        zoom_start=_DEFAULT_ZOOM,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
    )
    m.add_child(MetricScale())  # metres and kilometres only, and no "Leaflet" prefix before the attribution
    base = (leaflet_url or LEAFLET_CDN).strip().rstrip("/")
    m.default_js = [("leaflet", f"{base}/leaflet.js")]
    m.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    m.add_child(PlainAttribution())
    return m


def _add_frames(
    m: folium.Map,
    frames: Mapping[str, gpd.GeoDataFrame | None],
    *,
    with_tiles: bool,
    color_by: str | None,
    lang: str,
) -> list[LegendRow]:
    """Draw each frame as a named GeoJSON layer with its tooltips and popups; returns their legend rows.

    With tiles the outlines come as tiles too (their frame still fits the view).
    """
    legend: list[LegendRow] = []
    for key in LAYER_KEYS:
        gdf = frames[key]
        if gdf is None or (with_tiles and key == "layer.admin"):
            continue
        name = translate(key, lang)
        style = dict(STYLE[key])
        colors: dict[str, str] | None = None
        if key == "layer.parcels" and color_by is not None:
            values = (
                gdf[color_by] if color_by in gdf.columns else pd.Series([None] * len(gdf), index=gdf.index)
            )
            colors = category_colors(values)
            legend += _category_legend(values, colors, style, name=name, color_by=color_by, lang=lang)
        else:
            legend.append((style, name))
        folium.GeoJson(
            collection(gdf, properties(key, lang=lang, color_by=color_by, colors=colors)),
            name=name,
            style_function=styler(style),
            highlight_function=styler(HOVER) if key == "layer.parcels" else None,
            on_each_feature=binder(key, lang),
            smooth_factor=0.5,
        ).add_to(m)
    return legend


def _category_legend(
    values: pd.Series,
    colors: Mapping[str, str],
    style: Mapping[str, object],
    *,
    name: str,
    color_by: str,
    lang: str,
) -> list[LegendRow]:
    """Legend rows of parcels coloured by ``color_by``: one per coloured value, and "other" for the rest."""
    rows: list[LegendRow] = [
        ({**style, "fillColor": c}, f"{name}：{category_label(color_by, v, lang)}") for v, c in colors.items()
    ]
    if values.map(category).nunique() > len(colors):
        rows.append(({**style, "fillColor": OTHER_COLOR}, f"{name}：{translate('legend.other', lang)}"))
    return rows


def _highlighted(parcels: gpd.GeoDataFrame | None, parcel_no: str) -> gpd.GeoDataFrame | None:
    """The shown parcel numbered ``parcel_no``; None when there is none."""
    if parcels is None or "parcel_no" not in parcels.columns:
        return None
    chosen = parcels[parcels["parcel_no"].astype(str) == str(parcel_no)]
    return chosen if len(chosen) else None


def _add_focus(m: folium.Map, found: gpd.GeoDataFrame, lang: str) -> LegendRow:
    """The found parcel, outlined above the parcels but deaf to the mouse; returns its legend row.

    Its layer lives in a pane of its own that lets every click through: Leaflet draws vector layers on one
    canvas covering the whole view, which would otherwise swallow each click meant for the parcel tiles
    under it (issue 18: after a search no other parcel opened its popup). A click on the found parcel itself
    reaches the parcel under the outline, so its popup is the same as any other parcel's.
    """
    name = translate("layer.focus", lang)
    folium.map.CustomPane(_FOCUS_PANE, z_index=450, pointer_events=False).add_to(m)
    folium.GeoJson(
        collection(found, properties("layer.parcels", lang=lang, color_by=None, colors=None)),
        name=name,
        style_function=styler(STYLE["layer.focus"]),
        pane=_FOCUS_PANE,
        interactive=False,
    ).add_to(m)
    return (STYLE["layer.focus"], name)


def _fit(m: folium.Map, found: gpd.GeoDataFrame | None, frames: Iterable[gpd.GeoDataFrame | None]) -> None:
    """Open the map on the found parcels, else on every frame (nothing to fit: the map of China stays)."""
    bounds = bounds_of([found]) if found is not None else bounds_of(list(frames))
    if bounds is not None:
        fit_view(m, bounds, max_zoom=17 if found is not None else 16)


def _add_furniture(m: folium.Map, legend: list[LegendRow], lang: str) -> folium.LayerControl:
    """The legend (when it has rows), the style of the fact tables and the layer control, which it returns."""
    if legend:
        m.add_child(Legend(legend_html(legend, translate("legend.title", lang))))
    root = m.get_root()
    assert isinstance(root, Figure)  # a folium.Map is made inside a Figure
    root.header.add_child(Element(FACTS_CSS), name="blockline_facts_css")
    control = folium.LayerControl(collapsed=True)  # an icon until the mouse is on it (issue 18, item 5)
    control.add_to(m)
    return control


def _add_tiles(
    m: folium.Map,
    tiles: TileSource,
    control: folium.LayerControl,
    *,
    lang: str,
    gcj02: bool,
    value_names: Mapping[str, Mapping[str, str]],
) -> None:
    """Block lines, parcels and outlines from ``tiles``, each switchable in ``control``."""
    if not valid_asset_url(tiles.script_url) or not valid_asset_url(tiles.base_url):
        raise ValueError("tile URLs must be http(s) URLs or paths starting with /")
    config = tile_config(tiles, lang=lang, gcj02=gcj02, value_names=value_names)
    m.add_child(TileLayers(config, tiles.script_url, control.get_name()))
