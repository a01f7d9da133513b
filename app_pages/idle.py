"""低效与闲置用地: every finding of the idle-land rules, filtered by category, county and holder, beside a map."""

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

from ui import data
from ui.i18n import LANGS, current_lang, fmt_date, fmt_int, fmt_mu, t
from ui.maps import build_map
from zoning.policy import list_profiles

st.title(t("idle.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

lang = current_lang()
c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
as_of = c1.date_input(t("idle.as_of"), value=dt.date.today(), key="idle_as_of", format="YYYY-MM-DD")
policy = c2.selectbox(t("idle.policy"), [p.name for p in list_profiles()], key="idle_policy")
report = data.idle_report(as_of, policy)
codes = sorted(report["category"].unique())
labels = {c: t(f"cat.{c}") if f"cat.{c}" in LANGS["zh"] else c for c in codes}
chosen = c3.multiselect(t("idle.category"), codes, default=[c for c in codes if c != "insufficient_data"],
                        format_func=labels.get, key="idle_categories")
# Labels are worked out in the run: Streamlit may call format_func outside it, where the language is unknown.
county_labels = {"": t("map.whole_city"), **{c: c for c in sorted(report["county_code"].dropna().unique())}}
county = c4.selectbox(t("map.county"), list(county_labels), format_func=county_labels.get, key="idle_county")
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
table = table.rename(columns={"parcel_no": t("field.parcel_no"), "holder": t("field.holder"),
                              "county_code": t("field.county"), "category": t("col.category"),
                              "article": t("col.article"), "since": t("col.since"), "detail": t("col.detail")})
left, right = st.columns([3, 2])
left.dataframe(table, hide_index=True, width="stretch", height=520)
left.download_button(t("idle.download"), data=data.table_bytes(table, fmt="xlsx", sheet=t("idle.sheet")),
                     file_name=f"blockline-idle-{as_of.isoformat()}.xlsx", mime=data.XLSX_MIME, key="idle_xlsx",
                     on_click="ignore")
parcels = data.parcels(county or None)
on_map = parcels[parcels["parcel_no"].isin(flagged["parcel_no"])]
with right:
    m = build_map(counties=None, level1=None, level2=None, parcels=on_map, basemap="none", lang=lang,
                  leaflet_url=data.leaflet_url())
    st_folium(m, key="idle_map", returned_objects=[], height=520, use_container_width=True)
