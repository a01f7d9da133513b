"""一张图: block lines (as they stood on a chosen date), parcels and county boundaries on one map."""

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from ui import data
from ui.i18n import current_lang, fmt_date, fmt_int, fmt_mu, land_use_label, t
from ui.maps import BASEMAPS, COLOR_BY, build_map, valid_tile_url

_SEARCH_LIMIT = 50

st.title(t("map.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

lang = current_lang()
counties = data.counties()
names = dict(zip(counties["code"], counties["name"]))
today = dt.date.today()

# Labels are made during the run (a format_func runs later, outside it).
county_labels = {None: t("map.whole_city")} | {c: f"{c} {n}" for c, n in names.items()}
basemap_labels = {b: t(f"basemap.{b}") for b in BASEMAPS}
color_labels = {c: t(f"color.{c or 'none'}") for c in (None, *COLOR_BY)}

c1, c2, c3, c4 = st.columns(4)
county = c1.selectbox(t("map.county"), list(county_labels), format_func=county_labels.get, key="map_county")
as_of = c2.date_input(t("map.as_of"), value=today, max_value=today, format="YYYY-MM-DD", key="map_as_of",
                      help=t("map.as_of_help"))
basemap = c3.selectbox(t("map.basemap"), BASEMAPS, format_func=basemap_labels.get, key="map_basemap")
color_by = c4.selectbox(t("map.color_by"), list(color_labels), format_func=color_labels.get, key="map_color_by")

key, tile_url = None, None
if basemap.startswith("tianditu"):
    key = st.text_input(t("map.tianditu_key"), value=data.tianditu_key(), type="password", key="map_tianditu_key")
    if not key.strip():
        st.info(t("map.tianditu_missing"))
elif basemap == "local":
    tile_url = st.text_input(t("map.local_url"), value=data.local_tile_url(), help=t("map.local_url_help"),
                             key="map_local_url")
    if not tile_url.strip():
        st.info(t("map.local_missing"))
    elif not valid_tile_url(tile_url):
        st.warning(t("map.local_invalid"))
    if not valid_tile_url(tile_url):
        basemap, tile_url = "none", None

history = as_of is not None and as_of < today
lines_as_of = as_of if history else None
level1 = data.blocklines(1, county=county, as_of=lines_as_of)
level2 = data.blocklines(2, county=county, as_of=lines_as_of)
parcels = data.parcels(county=county)
shown_counties = counties if county is None else counties[counties["code"] == county]

query = st.text_input(t("map.search"), placeholder=t("map.search_placeholder"), key="map_search")
focus = None
if query.strip():
    found = data.search_parcels(parcels, query)
    if len(found) == 0:
        st.warning(t("map.no_match"))
    else:
        st.caption(t("map.matches", n=fmt_int(len(found))) if len(found) <= _SEARCH_LIMIT
                   else t("map.matches_cut", n=fmt_int(len(found)), limit=_SEARCH_LIMIT))
        listed = found.head(_SEARCH_LIMIT)
        st.dataframe(
            listed.assign(land_use=[land_use_label(v, lang) for v in listed["land_use"]])[
                ["parcel_no", "holder", "land_use", "county_code", "area_mu"]
            ].rename(columns={"parcel_no": t("field.parcel_no"), "holder": t("field.holder"),
                              "land_use": t("field.land_use"), "county_code": t("field.county"),
                              "area_mu": t("col.parcels_mu")}),
            hide_index=True, width="stretch", height=min(36 * (len(listed) + 1) + 2, 260),
            column_config={t("col.parcels_mu"): st.column_config.NumberColumn(format="%.2f")},
        )
        focus = st.selectbox(t("map.focus"), list(listed["parcel_no"]), key="map_focus")

m = build_map(counties=shown_counties, level1=level1, level2=level2, parcels=parcels, basemap=basemap,
              tianditu_key=key, local_tile_url=tile_url, color_by=color_by, highlight=focus, lang=lang,
              leaflet_url=data.leaflet_url())
st.caption(t("map.shown", parcels=fmt_int(len(parcels)), parcels_mu=fmt_mu(parcels["area_mu"].sum()),
             l1=fmt_mu(level1["area_mu"].sum()), l2=fmt_mu(level2["area_mu"].sum())))
if history:
    st.caption(t("map.history", date=fmt_date(as_of)))
st_folium(m, key="main_map", returned_objects=[], height=650, use_container_width=True)
