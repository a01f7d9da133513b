"""What the map has besides its layers: the legend, a metric scale, a plain attribution, and the first view.

Examples
--------
>>> legend_html([({"color": "#000", "fillColor": "#fff"}, "宗地 <1>")], "图例").endswith("宗地 &lt;1&gt;</div></div>")
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import folium
from branca.element import MacroElement
from folium.template import Template
from jinja2.utils import htmlsafe_json_dumps

from blockline.ui.maps.scripts import script

__all__ = [
    "Legend",
    "LegendRow",
    "MetricScale",
    "PlainAttribution",
    "fit_view",
    "layer_control_last",
    "legend_html",
]

#: one row of the legend: the style of its swatch and its label (plain text)
LegendRow = tuple[Mapping[str, object], str]


class Legend(MacroElement):
    """A Leaflet control in the bottom-right corner holding ready (escaped) HTML (``js/legend.js``)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = ({{ this.code }})({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.code = script("legend").replace("LEGEND_HTML", htmlsafe_json_dumps(body))


class PlainAttribution(MacroElement):
    """The attribution control without Leaflet's prefix (a link with a national flag icon).

    A government deployment shows only the attribution text of its base maps.
    """

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


class MetricScale(MacroElement):
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


def _swatch(style: Mapping[str, object], label: str) -> str:
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    dash = "dashed" if style.get("dashArray") else "solid"
    return (
        f"<div style='margin:2px 0'><span style='display:inline-block;width:14px;height:10px;"
        f"margin-right:6px;vertical-align:middle;background:{fill};border:2px {dash} {style['color']}'>"
        f"</span>{html.escape(label)}</div>"
    )


def legend_html(entries: Sequence[LegendRow], title: str) -> str:
    """The legend's HTML: a swatch and a label per row under ``title``, every text escaped."""
    rows = "".join(_swatch(style, label) for style, label in entries)
    return (
        f"<div style='background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;"
        f"box-shadow:0 1px 4px rgba(0,0,0,0.3);font-size:12px;line-height:1.4;max-height:320px;"
        f"overflow-y:auto'><b>{html.escape(title)}</b>{rows}</div>"
    )


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
    """Move the map's layer control after every layer a page added after ``build_map``.

    The control's script names the layers, which must exist by then (else the browser meets an undefined
    variable and stops the whole map). Call it once the page has added its own layers.
    """
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
            m.add_child(child, name=key)
    return m
