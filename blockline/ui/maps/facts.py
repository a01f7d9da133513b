"""What a feature of the map says: the facts of each layer, HTML-escaped, and the tooltips and popups showing them.

Every text that comes from the data (a holder's name, a parcel number, a block line's name) reaches the page
HTML-escaped: each feature carries its facts escaped here with ``html.escape``, and one small function per layer
(``js/facts.js``) lays them out as the tooltip and popup tables Leaflet sets as ``innerHTML`` (folium's
``GeoJsonTooltip``/``GeoJsonPopup`` put property values into ``innerHTML`` unescaped, so they are not used).

Examples
--------
>>> feature_facts("layer.parcels", pd.Series({"parcel_no": "A-1", "holder": "<b>", "area_mu": 15.0}))["holder"]
'&lt;b&gt;'
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable

import pandas as pd
from folium.utilities import JsCode

from blockline.ui.i18n import fmt_date, fmt_mu, fmt_mu_ha, land_use_label, translate
from blockline.ui.maps.scripts import script
from blockline.ui.maps.styles import OTHER_COLOR, category

__all__ = ["FACTS_CSS", "Fact", "binder", "feature_facts", "properties", "value_of"]

#: the style of the fact tables, once per page
FACTS_CSS = (
    "<style>.blockline-facts{font-size:13px;border-collapse:collapse}"
    ".blockline-facts th{text-align:left;padding:0 8px 0 0;white-space:nowrap;font-weight:600}</style>"
)


def value_of(row: pd.Series, column: str) -> object:
    """The value of ``column`` in ``row``; None when the row has no such column or holds nothing there."""
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
    "no": ("field.parcel_no", lambda r, lang: _text(value_of(r, "parcel_no"))),
    "holder": ("field.holder", lambda r, lang: _text(value_of(r, "holder"))),
    "holder_id": ("field.holder_id", lambda r, lang: _text(value_of(r, "holder_id"))),
    "use": ("field.land_use", lambda r, lang: land_use_label(value_of(r, "land_use"), lang)),
    "county": ("field.county", lambda r, lang: _text(value_of(r, "county_code"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(value_of(r, "area_mu"))),
    "area": ("field.area", lambda r, lang: fmt_mu(value_of(r, "area_mu"))),
    "delivered": ("field.delivered_on", lambda r, lang: fmt_date(value_of(r, "delivered_on"))),
    "low": ("field.is_low_efficiency", lambda r, lang: _bool_text(value_of(r, "is_low_efficiency"), lang)),
}
_ADMIN_FACTS: dict[str, Fact] = {
    "code": ("field.code", lambda r, lang: _text(value_of(r, "code"))),
    "name": ("field.name", lambda r, lang: _text(value_of(r, "name"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(value_of(r, "area_mu"))),
}
_LINE_FACTS: dict[str, Fact] = {
    "name": ("field.name", lambda r, lang: _text(value_of(r, "name"))),
    "county": ("field.county", lambda r, lang: _text(value_of(r, "county_code"))),
    "area_ha": ("field.area", lambda r, lang: fmt_mu_ha(value_of(r, "area_mu"))),
    "doc": ("field.approval_doc", lambda r, lang: _text(value_of(r, "approval_doc"))),
    "since": ("field.valid_from", lambda r, lang: fmt_date(value_of(r, "valid_from"))),
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

    >>> feature_facts("layer.admin", pd.Series({"code": "330302", "name": "鹿城区"}))["name"]
    '鹿城区'
    """
    facts, tip, popup = _LAYER_FACTS[key]
    return {name: _escaped(facts[name][1](row, lang)) for name in dict.fromkeys((*tip, *popup))}


def binder(key: str, lang: str) -> JsCode:
    """The onEachFeature function of layer ``key``: tooltip and popup tables with labels in ``lang``."""
    facts, tip, popup = _LAYER_FACTS[key]

    def rows(names: tuple[str, ...]) -> str:
        return json.dumps([[_escaped(translate(facts[n][0], lang)), n] for n in names])

    return JsCode(script("facts").replace("TIP_ROWS", rows(tip)).replace("POPUP_ROWS", rows(popup)))


def properties(
    key: str,
    *,
    lang: str,
    color_by: str | None,
    colors: dict[str, str] | None,
) -> Callable[[pd.Series], dict[str, object]]:
    """The GeoJSON properties of one feature of layer ``key``: its escaped facts and its fill colour."""

    def properties_of(row: pd.Series) -> dict[str, object]:
        out: dict[str, object] = dict(feature_facts(key, row, lang=lang))
        if colors is not None and color_by is not None:
            out["_fill"] = colors.get(category(value_of(row, color_by)), OTHER_COLOR)
        return out

    return properties_of
