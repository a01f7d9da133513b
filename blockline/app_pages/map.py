"""一张图: block lines (as they stood on a chosen date), parcels and county boundaries on one map.

Block lines and parcels come as vector tiles cut by PostGIS (``blockline/server.py``), so the page sends no layer
of its own and a pan or a zoom fetches tiles without rerunning the page.
"""

import streamlit as st
from streamlit_folium import st_folium

from blockline.ui import data
from blockline.ui.home import home_area
from blockline.ui.i18n import current_lang, error_text, fmt_date, fmt_int, fmt_mu, land_use_label, t
from blockline.ui.maps import (
    BASEMAPS,
    PALETTE,
    TILE_COLOR_BY,
    TileSource,
    build_map,
    land_use_colors,
    valid_tile_url,
)
from geo import clock
from geo.errors import InputError
from geo.settings import get_settings
from zoning.idle import IDLE_CATEGORIES
from zoning.lifecycle import LIFECYCLE_CATEGORIES

_SEARCH_LIMIT = 50
_GRADE_COLORS = {"A": "#1e8449", "B": "#82e0aa", "C": "#f5b041", "D": "#c0392b"}
_MARKS = ("idle", "lifecycle", "grade")
_ALL = "*"  # every loaded area, the deployment's own and the others

st.title(t("map.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()
if not data.tiles_served():
    st.warning(t("map.no_tiles"))

lang = current_lang()
counties = data.counties()
names = dict(zip(counties["code"], counties["name"], strict=False))
today = clock.today()

# Labels are made during the run (a format_func runs later, outside it).
# The first view fits the deployment's own area (BLOCKLINE_HOME_AREA); every loaded area is one pick away.
home, home_name = home_area()
others = [c for c in names if c not in home]
county_labels = (
    {None: t("map.home", name=home_name) if others else t("map.whole_city")}
    | {c: f"{c} {names[c]}" for c in home}
    | ({_ALL: t("map.all_areas")} if others else {})
    | {c: f"{c} {names[c]}" for c in others}
)
basemap_labels = {b: t(f"basemap.{b}") for b in BASEMAPS}
color_labels = {c: t(f"color.{c or 'none'}") for c in (None, *TILE_COLOR_BY)}

c1, c2, c3, c4 = st.columns(4)
picked = c1.selectbox(
    t("map.county"), list(county_labels), format_func=county_labels.__getitem__, key="map_county"
)
county = None if picked == _ALL else picked
as_of = c2.date_input(
    t("map.as_of"),
    value=today,
    max_value=today,
    format="YYYY-MM-DD",
    key="map_as_of",
    help=t("map.as_of_help"),
)
basemap = (
    c3.selectbox(t("map.basemap"), BASEMAPS, format_func=basemap_labels.__getitem__, key="map_basemap")
    or "none"  # never None: the options are there and the first is the default
)
color_by = c4.selectbox(
    t("map.color_by"), list(color_labels), format_func=color_labels.__getitem__, key="map_color_by"
)

key, tile_url = None, None
if basemap.startswith("tianditu"):
    key = st.text_input(
        t("map.tianditu_key"), value=data.tianditu_key(), type="password", key="map_tianditu_key"
    )
    if not key.strip():
        st.info(t("map.tianditu_missing"))
elif basemap == "local":
    tile_url = st.text_input(
        t("map.local_url"), value=data.local_tile_url(), help=t("map.local_url_help"), key="map_local_url"
    )
    if not tile_url.strip():
        st.info(t("map.local_missing"))
    elif not valid_tile_url(tile_url):
        st.warning(t("map.local_invalid"))
    if not valid_tile_url(tile_url):
        basemap, tile_url = "none", None

history = as_of is not None and as_of < today
lines_as_of = as_of if history else None
version = data.tile_version()

# What each value of a colouring means, for the legend and the popups.
value_names = {
    "land_use": {v: land_use_label(v, lang) for v in data.land_uses()},
    "county_code": {c: f"{c} {n}" for c, n in names.items()},
    "idle": {c: t(f"cat.{c}") for c in IDLE_CATEGORIES},
    "lifecycle": {c: t(f"lifecycle.cat.{c}") for c in LIFECYCLE_CATEGORIES},
    "grade": {g: t("map.grade", grade=g) for g in _GRADE_COLORS},
    "is_low_efficiency": {"true": t("yes"), "false": t("no")},
}
if color_by is None:
    colors: dict[str, str] = {}
elif color_by == "grade":
    colors = dict(_GRADE_COLORS)
else:
    colors = (
        land_use_colors(list(value_names[color_by]))
        if color_by == "land_use"
        else dict(zip(value_names[color_by], PALETTE, strict=False))
    )
if color_by == "is_low_efficiency":
    colors = {"true": "#c0392b", "false": "#5dade2"}

mark_set = None
if color_by in _MARKS:
    with st.spinner(t("map.marks_busy")):
        mark_set = data.mark_set(today, get_settings().policy, version)

query = st.text_input(t("map.search"), placeholder=t("map.search_placeholder"), key="map_search")
focus = None
try:
    total, found = data.find_parcels(query.strip(), county, _SEARCH_LIMIT) if query.strip() else (0, None)
except InputError as exc:  # a control character (NUL) in the search: said, not raised
    st.warning(error_text(exc.as_dict(), lang))
    query = ""
if query.strip() and found is not None:
    if total == 0:
        st.warning(t("map.no_match"))
    else:
        st.caption(
            t("map.matches", n=fmt_int(total))
            if total <= _SEARCH_LIMIT
            else t("map.matches_cut", n=fmt_int(total), limit=_SEARCH_LIMIT)
        )
        st.dataframe(
            found.assign(
                land_use=[land_use_label(v, lang) for v in found["land_use"]],
                county_code=[f"{c} {names.get(c, '')}".strip() for c in found["county_code"]],
            )[["parcel_no", "holder", "land_use", "county_code", "area_mu"]].rename(
                columns={
                    "parcel_no": t("field.parcel_no"),
                    "holder": t("field.holder"),
                    "land_use": t("field.land_use"),
                    "county_code": t("field.county"),
                    "area_mu": t("col.parcels_mu"),
                }
            ),
            hide_index=True,
            width="stretch",
            height=min(36 * (len(found) + 1) + 2, 260),
            column_config={t("col.parcels_mu"): st.column_config.NumberColumn(format="%,.2f")},
        )
        chosen = st.selectbox(t("map.focus"), list(found["parcel_no"]), key="map_focus")
        focus = found[found["parcel_no"] == chosen]

shown_counties = (
    counties[counties["code"] == county]
    if county is not None
    else counties[counties["code"].isin(home)]
    if picked is None
    else counties
)
tiles = TileSource(
    version=version, county=county, as_of=lines_as_of, mark_set=mark_set, color_by=color_by, colors=colors
)
m = build_map(
    counties=shown_counties,
    level1=None,
    level2=None,
    parcels=None,
    basemap=basemap,
    tianditu_key=key,
    local_tile_url=tile_url,
    lang=lang,
    leaflet_url=data.leaflet_url(),
    tiles=tiles,
    value_names=value_names,
    focus=focus,
)
sums = data.totals(county, lines_as_of)
st.caption(
    t(
        "map.shown",
        parcels=fmt_int(sums["parcels"]),
        parcels_mu=fmt_mu(sums["parcels_mu"]),
        l1=fmt_mu(sums["level1_mu"]),
        l2=fmt_mu(sums["level2_mu"]),
    )
)
if history:
    st.caption(t("map.history", date=fmt_date(as_of)))
st.caption(t("map.zoom_hint"))
st_folium(m, key="main_map", returned_objects=[], height=650, use_container_width=True)
