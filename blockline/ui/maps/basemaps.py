"""The map's base maps (none, OpenStreetMap, Tianditu, AMap, an intranet tile server) and the URLs it may load.

Examples
--------
>>> import folium
>>> m = folium.Map(tiles=None)
>>> add_basemap(m, "tianditu_vec", tianditu_key=" ", local_tile_url=None, lang="en")
>>> [c for c in m._children if c.startswith("tile_layer")]  # no key, no tiles
[]
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import folium

from blockline.ui.i18n import translate

__all__ = [
    "AMAP_URL",
    "BASEMAPS",
    "TIANDITU_SUBDOMAINS",
    "add_basemap",
    "tianditu_url",
    "valid_asset_url",
    "valid_tile_url",
]

#: basemap choices; "none" adds no tiles (works without internet)
BASEMAPS = ("none", "osm", "tianditu_vec", "tianditu_img", "amap", "local")
#: AMap/Gaode's road map; its tiles are in GCJ-02, so the overlays are shifted to match (``gcj02=True``)
AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
TIANDITU_SUBDOMAINS = "01234567"


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
    return url is not None and bool(url) and bool(re.match(r"^(https?://|/)[^\s\"'<>]*$", url.strip()))


def _add_tianditu(m: folium.Map, basemap: str, *, key: str, name: str, lang: str) -> None:
    """Tianditu's base layer and, above it, its annotation layer (place names)."""
    base, labels = ("vec", "cva") if basemap == "tianditu_vec" else ("img", "cia")
    attr = "&copy; 天地图 Tianditu"
    folium.TileLayer(
        tiles=tianditu_url(base, key),
        attr=attr,
        name=name,
        subdomains=TIANDITU_SUBDOMAINS,
        max_zoom=18,
    ).add_to(m)
    folium.TileLayer(
        tiles=tianditu_url(labels, key),
        attr=attr,
        name=translate("layer.basemap_labels", lang),
        subdomains=TIANDITU_SUBDOMAINS,
        max_zoom=18,
        overlay=True,
        control=True,
    ).add_to(m)


def add_basemap(
    m: folium.Map, basemap: str, *, tianditu_key: str | None, local_tile_url: str | None, lang: str
) -> None:
    """Add ``basemap``'s tile layers to ``m`` (none for ``"none"``, and none for Tianditu without a key)."""
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}, not {basemap!r}")
    name = translate(f"basemap.{basemap}", lang)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=name, max_zoom=19).add_to(m)
    elif basemap in ("tianditu_vec", "tianditu_img"):
        if (
            tianditu_key and tianditu_key.strip()
        ):  # Tianditu serves nothing without a key: no tiles, no errors
            _add_tianditu(m, basemap, key=tianditu_key, name=name, lang=lang)
    elif basemap == "amap":
        folium.TileLayer(
            tiles=AMAP_URL, attr="&copy; 高德地图 AutoNavi", name=name, subdomains="1234", max_zoom=18
        ).add_to(m)
    elif basemap == "local":
        if local_tile_url is None or not valid_tile_url(local_tile_url):
            raise ValueError("local_tile_url must be an http(s) URL template with {z}, {x} and {y}")
        folium.TileLayer(tiles=local_tile_url.strip(), attr=html.escape(name), name=name, max_zoom=20).add_to(
            m
        )
