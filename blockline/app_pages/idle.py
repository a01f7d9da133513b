"""低效与闲置用地: every finding of the idle-land rules, filtered by category, county and holder, beside a map.

The map is the vector-tile map of 一张图 with every parcel coloured by its idle mark (``zoning.marks``) at the
page's date and profile, so no parcel is sent with the page; the parcel picked in the table (or by number)
is the only one fetched, to zoom to.
"""

from functools import partial

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from blockline.ui import data
from blockline.ui.i18n import LANGS, current_lang, fmt_date, fmt_int, fmt_mu, land_use_label, t
from blockline.ui.maps import PALETTE, TileSource, build_map
from geo import clock, queries
from zoning.idle import IDLE_CATEGORIES
from zoning.policy import get_profile, list_profiles

_FOCUS_LIMIT = 500  # parcel numbers offered in the picker (the table's row selection reaches every one)
_TTL_S = 300
_FOCUS_COLUMNS = ["parcel_no", "holder", "land_use", "county_code", "area_mu", "geometry"]


@st.cache_data(ttl=_TTL_S, show_spinner=False)
def _parcel(parcel_no: str, version: str) -> gpd.GeoDataFrame | None:
    """The current parcel ``parcel_no`` in EPSG:4326 (None when there is none), read by its number's index.

    ``version`` (the data version) is part of the cache key only.
    """
    del version
    found = queries.read_parcels(data.get_engine(), parcel_nos=[parcel_no])
    if not len(found):
        return None
    focus: gpd.GeoDataFrame = found[_FOCUS_COLUMNS]  # columns with the geometry: still a GeoDataFrame
    return focus.to_crs(epsg=4326)


st.title(t("idle.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

lang = current_lang()
c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
as_of = c1.date_input(t("idle.as_of"), value=clock.today(), key="idle_as_of", format="YYYY-MM-DD")
policies = [p.name for p in list_profiles()]
# The profile of the settings first: the same marks as 一张图's, computed once for both pages.
policy = c2.selectbox(t("idle.policy"), policies, key="idle_policy", index=data.policy_index(policies))
report = data.idle_report(as_of, policy)
if (by_county := data.policy_caption(policy, lang)) is not None:
    st.caption(by_county)
codes = sorted(report["category"].unique())
labels = {c: t(f"cat.{c}") if f"cat.{c}" in LANGS["zh"] else c for c in codes}
chosen = c3.multiselect(
    t("idle.category"),
    codes,
    default=[c for c in codes if c != "insufficient_data"],
    format_func=labels.__getitem__,
    key="idle_categories",
    placeholder=t("widget.choose"),
)
# Labels are worked out in the run: Streamlit may call format_func outside it, where the language is unknown.
county_labels = {"": t("map.whole_city"), **{c: c for c in sorted(report["county_code"].dropna().unique())}}
county = c4.selectbox(
    t("map.county"), list(county_labels), format_func=county_labels.__getitem__, key="idle_county"
)
holder = st.text_input(t("idle.holder"), key="idle_holder")

shown = report[report["category"].isin(chosen)]
if county:
    shown = shown[shown["county_code"] == county]
if holder.strip():
    shown = shown[shown["holder"].fillna("").str.contains(holder.strip(), regex=False)]
flagged = shown.drop_duplicates("parcel_no")
m1, m2, m3 = st.columns(3)
m1.metric(t("idle.flagged"), fmt_int(len(flagged)))
m2.metric(t("idle.flagged_mu"), fmt_mu(flagged["area_mu"].sum()))
m3.metric(t("idle.findings"), fmt_int(len(shown)))
if shown.empty:
    st.info(t("idle.none"))
    st.stop()

table = shown.assign(
    category=shown["category"].map(labels),
    detail=shown["detail" if lang == "zh" else "detail_en"],
    since=shown["since"].map(lambda d: fmt_date(d) if d is not None and d == d else ""),
)[["parcel_no", "holder", "county_code", "category", "article", "since", "detail"]]
table = table.rename(
    columns={
        "parcel_no": t("field.parcel_no"),
        "holder": t("field.holder"),
        "county_code": t("field.county"),
        "category": t("col.category"),
        "article": t("col.article"),
        "since": t("col.since"),
        "detail": t("col.detail"),
    }
)
# Picking: a row of the table (its callback sets the picker) or a number in the picker; "" is no parcel.
nos = list(flagged["parcel_no"])
table_nos = list(shown["parcel_no"])


def _pick_row() -> None:
    rows = st.session_state["idle_table"]["selection"]["rows"]
    if rows and rows[0] < len(table_nos):
        st.session_state["idle_focus"] = table_nos[rows[0]]


picked = st.session_state.get("idle_focus", "")
if picked and picked not in set(nos):  # filtered away since
    picked = st.session_state["idle_focus"] = ""
options = ["", *nos[:_FOCUS_LIMIT]]
if picked and picked not in options[1:]:
    options.append(picked)

left, right = st.columns([3, 2])
# A city's findings are too many to send (36 MB at 200,000 parcels): the first rows are listed, the Excel file
# (made only when asked for: 18 s for 130,000 rows) has them all.
left.dataframe(
    table.head(data.TABLE_ROWS),
    hide_index=True,
    width="stretch",
    height=520,
    key="idle_table",
    on_select=_pick_row,
    selection_mode="single-row",
)
if len(table) > data.TABLE_ROWS:
    left.caption(t("table.cut", shown=fmt_int(data.TABLE_ROWS), total=fmt_int(len(table))))
left.download_button(
    t("idle.download"),
    data=partial(data.table_bytes, table, fmt="xlsx", sheet=t("idle.sheet")),
    file_name=f"blockline-idle-{as_of.isoformat()}.xlsx",
    mime=data.XLSX_MIME,
    key="idle_xlsx",
    on_click="ignore",
)

version = data.tile_version()
with st.spinner(t("map.marks_busy")):
    marks = data.mark_set(as_of, policy, version)
counties = data.counties()
value_names = {
    "idle": {c: t(f"cat.{c}") for c in IDLE_CATEGORIES},
    "county_code": {c: f"{c} {n}" for c, n in zip(counties["code"], counties["name"], strict=False)},
    "land_use": {v: land_use_label(v, lang) for v in data.land_uses()},
}
tiles = TileSource(
    version=version,
    county=county or None,
    mark_set=marks,
    color_by="idle",
    colors=dict(zip(IDLE_CATEGORIES, PALETTE, strict=False)),
)  # the colours of 一张图

none_label = t("idle.focus_none")
chosen_no = right.selectbox(
    t("idle.focus"),
    options,
    format_func=lambda v: v or none_label,
    key="idle_focus",
    help=t("idle.focus_help"),
)
if len(nos) > _FOCUS_LIMIT:
    right.caption(t("idle.focus_cut", limit=fmt_int(_FOCUS_LIMIT), n=fmt_int(len(nos))))
focus = _parcel(chosen_no, version) if chosen_no else None
if focus is not None:
    holder = focus["holder"].iloc[0]  # data: shown as plain text, never as Markdown
    holder = holder if isinstance(holder, str) and holder else t("none")
    right.text(t("idle.focused", no=chosen_no, holder=holder, mu=fmt_mu(focus["area_mu"].iloc[0])))
    if {"idle", "idle_reclaimable"} & set(shown.loc[shown["parcel_no"] == chosen_no, "category"]):
        from blockline.reports.gather import (
            idle_document,  # issue 15: the 调查通知书 and 认定书 drafts of this parcel
        )
        from blockline.ui.papers import page_cover, paper_buttons

        for kind in ("notice", "decision"):
            with right:
                paper_buttons(
                    f"idle_{kind}",
                    partial(
                        idle_document,
                        data.get_engine(),
                        parcel_no=chosen_no,
                        kind=kind,
                        profile=get_profile(policy),
                        as_of=as_of,
                        cover=page_cover(),
                    ),
                    key=f"idle_paper_{kind}",
                    file_stem=f"blockline-idle-{kind}-{chosen_no}",
                )
if not data.tiles_served():
    right.warning(t("map.no_tiles"))
shown_counties = counties if not county else counties[counties["code"] == county]  # they fit the view
m = build_map(
    counties=shown_counties,
    level1=None,
    level2=None,
    parcels=None,
    basemap="none",
    lang=lang,
    leaflet_url=data.leaflet_url(),
    tiles=tiles,
    value_names=value_names,
    focus=focus,
)
with right:
    st_folium(m, key="idle_map", returned_objects=[], height=520, use_container_width=True)
right.caption(t("idle.map_hint"))
