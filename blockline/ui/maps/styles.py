"""The map's colours: the style of each layer, the palette of categories and the colours of land uses.

Examples
--------
>>> category(True), category(float("nan")), category("M1")
('yes', '—', 'M1')
>>> styler(STYLE["layer.parcels"])({"properties": {"_fill": "#ff0000"}})["fillColor"]
'#ff0000'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from blockline.ui.i18n import land_use_label, translate
from geo.landuse import lookup

__all__ = [
    "FAMILY_COLORS",
    "HOVER",
    "OTHER_COLOR",
    "PALETTE",
    "STYLE",
    "category",
    "category_colors",
    "category_label",
    "land_use_colors",
    "styler",
]

#: layer key → its Leaflet path style
STYLE: dict[str, dict[str, object]] = {
    "layer.admin": {"color": "#4d4d4d", "weight": 2, "dashArray": "6 4", "fill": False, "fillOpacity": 0.0},
    "layer.level1": {"color": "#b03a2e", "weight": 2, "fillColor": "#e74c3c", "fillOpacity": 0.25},
    "layer.level2": {"color": "#b9770e", "weight": 2, "fillColor": "#f5b041", "fillOpacity": 0.2},
    "layer.parcels": {"color": "#1b4f72", "weight": 1, "fillColor": "#5dade2", "fillOpacity": 0.55},
    "layer.focus": {"color": "#7d3c98", "weight": 4, "fillColor": "#af7ac5", "fillOpacity": 0.3},
}
#: a parcel under the mouse
HOVER: dict[str, object] = {"weight": 3, "fillOpacity": 0.75}
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
#: the colour of every value the palette has no colour left for
OTHER_COLOR = "#cccccc"

#: the colour of each kind of land in the codes table (geo.landuse): every standard's 工业用地 is one colour
FAMILY_COLORS = {
    "industrial": "#c0392b",
    "warehouse": "#8e44ad",
    "mining": "#7f8c8d",
    "industrial_group": "#e67e22",
}


def category(value: object) -> str:
    """A value as the category it is coloured by: ``yes``/``no`` for booleans, a dash for nothing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


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


def category_colors(values: pd.Series) -> dict[str, str]:
    """Colours of the most frequent categories; the rest fall under "other"."""
    counts = values.map(category).value_counts(sort=True)
    order = sorted(counts.index, key=lambda c: (-counts[c], c))
    return {c: PALETTE[i] for i, c in enumerate(order[: len(PALETTE)])}


def category_label(column: str, value: str, lang: str) -> str:
    """The legend's label of a category of ``column``."""
    if value in ("yes", "no"):
        return translate(value, lang)
    if column == "land_use":
        return land_use_label(value, lang)
    return value


def styler(style: Mapping[str, object]) -> Callable[[dict[str, object]], dict[str, object]]:
    """A folium style function: the fixed ``style``, with the feature's own fill colour when it has one."""

    def style_of(feature: dict[str, object]) -> dict[str, object]:
        properties = feature.get("properties")
        fill = properties.get("_fill") if isinstance(properties, dict) else None
        return {**style, "fillColor": fill} if fill else dict(style)

    return style_of
