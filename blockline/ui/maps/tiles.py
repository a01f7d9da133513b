"""Block lines and parcels from the vector tiles of ``blockline/server.py`` (Leaflet.VectorGrid), and their legend.

Examples
--------
>>> TileSource(version="v1", county="330302").url("parcels")
'/tiles/parcels/{z}/{x}/{y}.pbf?v=v1&county=330302'
>>> density_legend("en")[0][1]
'parcels cover 0–2% of the square'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from blockline.ui.i18n import translate
from blockline.ui.maps.furniture import LegendRow
from blockline.ui.maps.scripts import script
from blockline.ui.maps.styles import OTHER_COLOR, STYLE
from geo.area import M2_PER_MU, MU_PER_HECTARE
from geo.tiles import ALL_LAYERS

__all__ = ["VECTORGRID_JS", "TileLayers", "TileSource", "density_legend", "tile_config", "tile_legend"]

#: the app's own copy of Leaflet.VectorGrid (draws the vector tiles of ``blockline/server.py``)
VECTORGRID_JS = "/app/static/leaflet-vectorgrid/Leaflet.VectorGrid.bundled.min.js"


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


class TileLayers(JSCSSMixin, MacroElement):
    """Block lines, parcels and county outlines from one Leaflet.VectorGrid (``js/tile_layers.js``).

    Each layer is switchable in the layer control named ``control``; popups are built with DOM nodes and
    ``textContent``, so a value is never parsed as HTML.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        ({{ this.code }})({{ this._parent.get_name() }}, {{ this.config|tojson }},
            {% if this.control %}function () { return {{ this.control }}; }{% else %}null{% endif %});
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, object], script_url: str, control: str | None) -> None:
        super().__init__()
        self._name = "TileLayers"
        self.config = config
        self.control = control
        self.code = script("tile_layers")
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
#: property → translation key of its label in popups and tooltips
_LABEL_KEYS = {
    "parcel_no": "field.parcel_no",
    "holder": "field.holder",
    "land_use": "field.land_use",
    "county_code": "field.county",
    "area_mu": "field.area",
    "is_low_efficiency": "color.is_low_efficiency",
    "idle": "color.idle",
    "lifecycle": "color.lifecycle",
    "grade": "color.grade",
    "name": "field.name",
    "approval_doc": "field.approval_doc",
    "parcels": "field.parcels",
    "low_mu": "field.low_mu",
    "top": "field.top",
    "top_share": "field.top_share",
}


def tile_config(
    source: TileSource, *, lang: str, gcj02: bool, value_names: Mapping[str, Mapping[str, str]]
) -> dict[str, object]:
    """What ``js/tile_layers.js`` is called with: the tile URL, layers, styles, labels, colours and units."""
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
        "level1": STYLE["layer.level1"],
        "level2": STYLE["layer.level2"],
        "parcels": STYLE["layer.parcels"],
        "counties": STYLE["layer.admin"],
    }
    return {
        "url": source.url(ALL_LAYERS, gcj02=gcj02),
        "layers": layers,
        "styles": styles,
        "labels": {prop: translate(key, lang) for prop, key in _LABEL_KEYS.items()},
        "values": {k: dict(v) for k, v in value_names.items()},
        "colorBy": source.color_by,
        "colors": dict(source.colors),
        "other": OTHER_COLOR,
        "density": [list(step) for step in _DENSITY],
        "squareKeys": ["parcels", "area_mu", "low_mu", *(["top", "top_share"] if source.color_by else [])],
        "tipKeys": ["parcel_no", "holder", "area_mu"],
        "mu": "亩" if lang == "zh" else "mu",
        "ha": "公顷" if lang == "zh" else "ha",
        "m2PerMu": M2_PER_MU,
        "muPerHa": MU_PER_HECTARE,
        "yes": translate("yes", lang),
        "no": translate("no", lang),
    }


def density_legend(lang: str) -> list[LegendRow]:
    """Legend rows of the far-out squares (亩 per square)."""
    rows: list[LegendRow] = []
    for i, (low, color) in enumerate(_DENSITY):
        high = _DENSITY[i + 1][0] if i + 1 < len(_DENSITY) else None
        span = f"≥ {low}" if high is None else f"{low}–{high}"
        rows.append(
            ({"color": color, "fillColor": color, "weight": 0}, translate("legend.square", lang, span=span))
        )
    return rows


def tile_legend(tiles: TileSource, names: Mapping[str, Mapping[str, str]], lang: str) -> list[LegendRow]:
    """Legend rows of the tile layers: outlines, block lines, parcels by colour, and the far-out squares."""
    rows: list[LegendRow] = [
        (STYLE["layer.admin"], translate("layer.admin", lang)),
        (STYLE["layer.level1"], translate("layer.level1", lang)),
        (STYLE["layer.level2"], translate("layer.level2", lang)),
    ]
    parcels = translate("layer.parcels", lang)
    style = STYLE["layer.parcels"]
    if tiles.color_by is None:
        rows.append((style, parcels))
    else:
        labels = names.get(tiles.color_by, {})
        rows += [
            ({**style, "fillColor": c}, f"{parcels}：{labels.get(v, v)}") for v, c in tiles.colors.items()
        ]
        rows.append(({**style, "fillColor": OTHER_COLOR}, f"{parcels}：{translate('legend.no_mark', lang)}"))
    if tiles.color_by is None:
        return rows + density_legend(lang)
    # Far out the squares take the colour of the value that dominates them (issue 18, item 7): their own rows.
    deep = next(iter(tiles.colors.values()), OTHER_COLOR)
    return rows + [
        (
            {"color": deep, "fillColor": deep, "fillOpacity": 0.85, "weight": 0},
            translate("legend.square_top", lang),
        ),
        (
            {"color": OTHER_COLOR, "fillColor": OTHER_COLOR, "weight": 0},
            translate("legend.square_none", lang),
        ),
    ]
