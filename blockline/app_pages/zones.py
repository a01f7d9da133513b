"""连片开发: candidate consolidation zones, a zone drawn on the map with its assessment beside it, saved zones.

The drawn zone is kept in the store (``geo.drafts``, purpose ``zones:zone``) as soon as each drawing is
confirmed, under the sketch id of the page address, so a rerun or a reload never loses it. The logic is in
``zoning.consolidation``, ``blockline.services.zones_store`` and ``blockline.ui.zones_view``.
"""

import datetime as dt
from collections.abc import Mapping
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import streamlit as st
from streamlit_folium import st_folium

from blockline.reports.gather import zone_document
from blockline.services.zones_store import read_zones, save_candidates, save_zone
from blockline.ui import balance_view as bv
from blockline.ui import data
from blockline.ui import zones_view as zv
from blockline.ui.i18n import current_lang, error_text, fmt_int, fmt_mu, t, translate
from blockline.ui.maps import TileSource, build_map
from blockline.ui.papers import page_cover, paper_buttons
from geo import clock
from geo.drafts import fingerprint
from geo.errors import BlocklineError
from geo.settings import get_settings
from zoning.policy import get_profile, list_profiles

_TTL_S = 300
# A city has thousands of candidates (13,000 at 200,000 parcels: 9 s to draw as one layer and megabytes to send):
# the largest are listed, offered and drawn; the exports and "save all" take every one.
_PICK_LIMIT = 500
_MAP_ZONES = 300
SEEN = "zones_seen"  # fingerprints of every drawing already taken, so a stale drawing never comes back
ROUND = "zones_map_round"  # bumped to give the map a fresh, empty drawing layer
SKETCH = "zones_sketch"  # the sketch id, kept across pages of the session
SAVED = "zones_saved"
NOTICE = "zones_notice"


def _candidates_xlsx(as_of: dt.date, policy: str, min_mu: float, gap_m: float, lang: str) -> bytes:
    """The candidates as an Excel table (headers in ``lang``): made when the button is clicked (2 s for 13,000)."""
    candidates = data.zone_candidates(as_of, policy, min_mu, gap_m)
    return data.table_bytes(
        zv.candidates_frame(candidates, lang), fmt="xlsx", sheet=translate("zones.sheet.candidates", lang)
    )


def _candidates_gpkg(as_of: dt.date, policy: str, min_mu: float, gap_m: float) -> bytes:
    """The candidates as a GeoPackage: made when the button is clicked."""
    return zv.layer_bytes(
        zv.candidates_layer(data.zone_candidates(as_of, policy, min_mu, gap_m)), name="candidates"
    )


@st.cache_data(ttl=_TTL_S, max_entries=32, show_spinner=False)
def _assess(
    zone_wkb: bytes, as_of: dt.date, policy: str, min_mu: float
) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    """``zones_view.assess`` of a drawn zone (WKB, storage CRS), cached by the zone and the controls."""
    return zv.assess(
        data.get_engine(), shapely.from_wkb(zone_wkb), as_of=as_of, profile=get_profile(policy), min_mu=min_mu
    )


def _fresh_map() -> None:
    st.session_state[ROUND] += 1


def _clear_zone() -> None:
    data.clear_drafts(zv.PURPOSE)
    _fresh_map()


def _take(features: list, notice: str) -> None:
    """Make ``features`` (EPSG:4326) the drawn zone: kept in the store at once, replacing what was drawn."""
    data.clear_drafts(zv.PURPOSE)
    data.keep_drafts(zv.PURPOSE, features)
    _fresh_map()
    st.session_state[NOTICE] = notice


st.title(t("zones.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

lang = current_lang()
epsg = get_settings().storage_epsg
engine = data.get_engine()
# A sketch id survives a switch to another page and back (the address loses it there), and a reload.
if "sketch" not in st.query_params and st.session_state.get(SKETCH):
    st.query_params["sketch"] = st.session_state[SKETCH]
st.session_state[SKETCH] = data.sketch_id()
st.session_state.setdefault(SEEN, [])
st.session_state.setdefault(ROUND, 0)
if st.session_state.get(SAVED) is not None:
    st.success(t("zones.saved", id=st.session_state.pop(SAVED)))
# A slot that is always there: a notice shown once (and gone at the next rerun) does not move what is below it,
# so the naming form a planner has opened stays open when Enter or a click reruns the page.
notice_slot = st.empty()
if st.session_state.get(NOTICE):
    notice_slot.success(st.session_state.pop(NOTICE))

# -- 1. policy and parameters ----------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
policies = [p.name for p in list_profiles()]
# The profile of the settings first, as on the other pages (its candidates are found while the server starts).
policy = c1.selectbox(t("zones.policy"), policies, key="zones_policy", index=data.policy_index(policies))
profile = get_profile(policy)
if not profile.has("consolidation.min_mu"):  # a city whose text has no 连片开发 rule (Yiwu): say so and stop
    st.warning(
        profile.absent("consolidation.min_mu").zh
        if lang == "zh"
        else profile.absent("consolidation.min_mu").en
    )
    st.stop()
as_of = c2.date_input(t("zones.as_of"), value=clock.today(), key="zones_as_of", format="YYYY-MM-DD")
min_mu = float(
    c3.number_input(
        t("zones.min_mu"),
        min_value=0.01,
        step=5.0,
        format="%.2f",
        value=float(profile.value("consolidation.min_mu")),
        key=f"zones_min_mu_{policy}",
        help=t("zones.min_mu_help", article=profile.cite("consolidation.min_mu")),
    )
)
gap_m = float(
    c4.number_input(
        t("zones.gap_m"),
        min_value=0.0,
        step=1.0,
        format="%.1f",
        value=float(profile.value("consolidation.gap_m")),
        key=f"zones_gap_m_{policy}",
        help=t("zones.gap_m_help", article=profile.cite("consolidation.gap_m")),
    )
)
st.caption(
    t(
        "zones.rules",
        min_mu=fmt_mu(min_mu),
        min_article=profile.cite("consolidation.min_mu"),
        gap=f"{gap_m:,.1f}",
        gap_article=profile.cite("consolidation.gap_m"),
        low_article=profile.cite("consolidation.low_efficiency_grades"),
    )
)

# -- 2. candidate zones ----------------------------------------------------------------------------------
st.subheader(t("zones.candidates"))
with st.spinner(t("zones.detecting")):
    candidates = data.zone_candidates(as_of, policy, min_mu, gap_m)
k1, k2, k3 = st.columns(3)
k1.metric(t("zones.n_candidates"), fmt_int(len(candidates)))
k2.metric(t("zones.candidates_mu"), fmt_mu(candidates["area_mu"].sum() if len(candidates) else 0.0))
k3.metric(t("zones.candidates_parcels"), fmt_int(candidates["n_parcels"].sum() if len(candidates) else 0))
ranked = candidates.sort_values("area_mu", ascending=False, kind="stable")  # what is listed, offered, drawn
chosen = None
if len(candidates) == 0:
    st.info(t("zones.no_candidates", min_mu=fmt_mu(min_mu), gap=f"{gap_m:,.1f}"))
else:
    table = zv.candidates_frame(ranked.head(data.TABLE_ROWS), lang)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            t("zones.col.area_mu"): st.column_config.NumberColumn(format="%,.2f"),
            t("zones.col.n_parcels"): st.column_config.NumberColumn(format="%,d"),
            t("zones.col.holders"): st.column_config.NumberColumn(format="%,d"),
        },
    )
    st.caption(t("zones.candidates_article", article=profile.cite("consolidation.min_mu"), policy=policy))
    if len(candidates) > _MAP_ZONES:
        st.caption(
            t(
                "zones.shown_cut",
                table=fmt_int(min(data.TABLE_ROWS, len(candidates))),
                pick=fmt_int(min(_PICK_LIMIT, len(candidates))),
                map=fmt_int(_MAP_ZONES),
                n=fmt_int(len(candidates)),
            )
        )
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        t("zones.download_xlsx"),
        data=partial(_candidates_xlsx, as_of, policy, min_mu, gap_m, lang),
        file_name=f"blockline-zones-{as_of.isoformat()}.xlsx",
        mime=data.XLSX_MIME,
        key="zones_candidates_xlsx",
        on_click="ignore",
    )
    d2.download_button(
        t("zones.download_gpkg"),
        data=partial(_candidates_gpkg, as_of, policy, min_mu, gap_m),
        file_name=f"blockline-zones-{as_of.isoformat()}.gpkg",
        mime="application/geopackage+sqlite3",
        key="zones_candidates_gpkg",
        on_click="ignore",
    )
    if d3.button(t("zones.save_candidates"), key="zones_save_candidates"):
        try:
            n = save_candidates(
                engine, candidates, min_mu=min_mu, gap_m=gap_m, profile=profile, user=data.acting_user()
            )
        except BlocklineError as exc:
            st.error(error_text(exc.as_dict(), lang))
        else:
            st.session_state[NOTICE] = t("zones.candidates_saved", n=fmt_int(n))
            st.rerun()
    ids = [str(z) for z in ranked["zone_id"]]
    offered = ids[:_PICK_LIMIT]
    if st.session_state.get("zones_chosen") in ids and st.session_state["zones_chosen"] not in offered:
        offered.append(st.session_state["zones_chosen"])  # picked before the list was cut: still offered
    areas = dict(zip(ids, ranked["area_mu"], strict=False))
    labels = {
        "": t("zones.no_choice"),
        **{z: t("zones.choice", name=z, area=fmt_mu(areas[z])) for z in offered},
    }
    p1, p2 = st.columns([3, 1])
    chosen = (
        p1.selectbox(t("zones.choose"), list(labels), format_func=labels.__getitem__, key="zones_chosen")
        or None
    )
    if chosen is not None and chosen in ids:
        geometry = ranked.geometry.iloc[ids.index(chosen)]
        p2.button(
            t("zones.use_candidate"),
            key="zones_use_candidate",
            on_click=_take,
            args=(zv.features_of(geometry, epsg=epsg), t("zones.candidate_taken", id=chosen)),
        )

# -- 3. the drawn zone: the map and the assessment beside it ----------------------------------------------
st.subheader(t("zones.draw_title"))
drafts = data.drafts(zv.PURPOSE)
zone = zv.zone_from_features(drafts, epsg=epsg)
result, taken = None, None
if zone is not None:
    with st.spinner(t("zones.assessing")):
        try:
            result, taken = _assess(zone.wkb, as_of, policy, min_mu)
        except BlocklineError as exc:
            st.error(error_text(exc.as_dict(), lang))

saved_zones = read_zones(engine)
opened_id = st.session_state.get("zones_open")
opened = (
    saved_zones[saved_zones["id"] == opened_id]
    if opened_id is not None and len(saved_zones)
    else saved_zones.iloc[0:0]
)

left, right = st.columns([3, 2])
with left:
    # Block lines and every parcel (low-efficiency in red) come as vector tiles, whatever the city's size.
    tiles = (
        TileSource(
            version=data.tile_version(),
            color_by="is_low_efficiency",
            colors={"true": "#c0392b", "false": "#aab7b8"},
        )
        if data.tiles_served()
        else None
    )
    m = build_map(
        counties=data.counties(),
        level1=None,
        level2=None,
        parcels=None,
        basemap="none",
        lang=lang,
        leaflet_url=data.leaflet_url(),
        tiles=tiles,
        value_names={"is_low_efficiency": {"true": t("yes"), "false": t("no")}},
    )
    # The largest, and the one picked wherever it ranks.
    drawn = ranked[
        (np.arange(len(ranked)) < _MAP_ZONES) | (ranked["zone_id"].astype(str) == str(chosen)).to_numpy()
    ]
    zv.add_zone_layers(
        m,
        epsg=epsg,
        lang=lang,
        candidates=drawn,
        chosen=chosen,
        zone=zone,
        result=result,
        taken=taken,
        saved=opened.geometry.iloc[0] if len(opened) else None,
        saved_name=str(opened["name"].iloc[0]) if len(opened) else None,
    )
    bv.add_draw_control(m, asset_url=data.leaflet_draw_url())
    st.caption(t("zones.draw_help"))
    returned = st_folium(
        m,
        key=f"zones_map_{st.session_state[ROUND]}",
        returned_objects=["all_drawings"],
        height=560,
        use_container_width=True,
    )
    kept = [str(p.get("fingerprint")) for f in drafts if isinstance(p := f["properties"], Mapping)]
    known = kept + list(st.session_state[SEEN])
    new = zv.new_drawings((returned or {}).get("all_drawings"), known)
    if new:
        st.session_state[SEEN] = [*st.session_state[SEEN], *(fingerprint(f) for f in new)]
        try:
            data.keep_drafts(zv.PURPOSE, new)  # kept at once: a rerun or a reload finds it
        except BlocklineError as exc:
            st.error(error_text(exc.as_dict(), lang))
        else:
            st.rerun()  # assess again with the new drawing
    b1, b2 = st.columns(2)
    b1.caption(t("zones.drawn", n=fmt_int(len(drafts))))
    b2.button(t("zones.clear"), key="zones_clear", on_click=_clear_zone, disabled=not drafts)

with right:
    if result is None:
        st.info(t("zones.nothing_drawn"))
    else:
        st.markdown(f"**{t('zones.assessment')}**")
        for label, value in zv.assessment_rows(result, lang):
            st.metric(label, value)
        if result["meets_threshold"]:
            st.success(
                t(
                    "zones.meets_yes",
                    area=fmt_mu(result["area_mu"]),
                    min_mu=fmt_mu(min_mu),
                    article=result["article"],
                )
            )
        else:
            st.warning(
                t(
                    "zones.meets_no",
                    area=fmt_mu(result["area_mu"]),
                    min_mu=fmt_mu(min_mu),
                    short=fmt_mu(zv.shortfall_mu(result, min_mu)),
                    article=result["article"],
                )
            )
        st.caption(
            t(
                "zones.low_rule",
                article=profile.cite("consolidation.low_efficiency_grades"),
                share_article=profile.cite("consolidation.min_share_inside"),
                share=zv.share_text(profile.value("consolidation.min_share_inside")),
            )
        )

if zone is not None and result is not None and taken is not None:  # assessed: the zone and what it takes
    county_of = (
        dict(zip(taken["parcel_no"].astype(str), taken["county_code"], strict=False)) if len(taken) else {}
    )
    st.markdown(f"**{t('zones.parcels_title')}**")
    parcels_table = zv.assessment_frame(result, lang, county_of=county_of)
    if len(parcels_table):
        st.dataframe(
            parcels_table,
            hide_index=True,
            width="stretch",
            column_config={
                t("zones.col.area_in_zone_mu"): st.column_config.NumberColumn(format="%,.2f"),
                t("zones.col.share_pct"): st.column_config.NumberColumn(format="%.1f"),
            },
        )
    else:
        st.info(t("zones.no_parcels"))
    e1, e2 = st.columns(2)
    e1.download_button(
        t("zones.download_parcels_xlsx"),
        data=data.table_bytes(parcels_table, fmt="xlsx", sheet=t("zones.sheet.parcels")),
        file_name="blockline-zone-parcels.xlsx",
        mime=data.XLSX_MIME,
        key="zones_parcels_xlsx",
        on_click="ignore",
    )
    e2.download_button(
        t("zones.download_parcels_gpkg"),
        data=zv.layer_bytes(zv.assessment_layer(result, taken, zone), name="zone"),
        file_name="blockline-zone.gpkg",
        mime="application/geopackage+sqlite3",
        key="zones_parcels_gpkg",
        on_click="ignore",
    )

    # -- 4. name and save the zone with its requirements (WZ §12) ----------------------------------------
    with st.expander(t("zones.save_title"), expanded=False):
        name = st.text_input(t("zones.name"), key="zones_name", placeholder=t("zones.name_placeholder"))
        r1, r2 = st.columns(2)
        requirements = {
            "investment_per_mu_wan": r1.number_input(
                t("zones.req.investment_per_mu_wan"),
                min_value=0.0,
                value=None,
                step=10.0,
                format="%.2f",
                key="zones_req_investment",
            ),
            "tax_per_mu_wan": r2.number_input(
                t("zones.req.tax_per_mu_wan"),
                min_value=0.0,
                value=None,
                step=1.0,
                format="%.2f",
                key="zones_req_tax",
            ),
            "industry": st.text_input(t("zones.req.industry"), key="zones_req_industry"),
            "entry_conditions": st.text_area(t("zones.req.entry_conditions"), key="zones_req_entry"),
        }
        st.caption(t("zones.req_help", article=profile.cite("consolidation.min_mu")))
        if st.button(t("zones.save"), key="zones_save", type="primary"):
            try:
                zone_id = save_zone(
                    engine,
                    name=name,
                    geometry=zone,
                    assessment=result,
                    requirements=zv.requirements_of(requirements),
                    user=data.acting_user(),
                    county_code=zv.main_county(result, county_of),
                )
            except BlocklineError as exc:
                st.error(error_text(exc.as_dict(), lang))
            else:
                _clear_zone()
                st.session_state[SAVED] = zone_id
                st.rerun()

# -- 5. saved zones: list, open, export ---------------------------------------------------------------------
st.subheader(t("zones.saved_title"))
if len(saved_zones) == 0:
    st.info(t("zones.none_saved"))
else:
    st.dataframe(
        zv.saved_frame(saved_zones, lang),
        hide_index=True,
        width="stretch",
        column_config={t("zones.col.area_mu"): st.column_config.NumberColumn(format="%,.2f")},
    )
    names: dict[int | None, str] = {
        None: t("zones.no_choice"),
        **{
            int(i): t("zones.choice", name=f"#{int(i)} {n}", area=fmt_mu(a))
            for i, n, a in zip(saved_zones["id"], saved_zones["name"], saved_zones["area_mu"], strict=False)
        },
    }
    pick = st.selectbox(t("zones.open"), list(names), format_func=names.__getitem__, key="zones_open")
    if pick is not None and len(opened):
        row = opened.iloc[0]
        st.caption(t("zones.opened", name=str(row["name"]), area=fmt_mu(row["area_mu"])))
        o1, o2, o3 = st.columns(3)
        o1.download_button(
            t("zones.download_zone_gpkg"),
            data=zv.layer_bytes(zv.saved_layer(row, saved_zones.crs), name="zone"),
            file_name=f"blockline-zone-{int(row['id'])}.gpkg",
            mime="application/geopackage+sqlite3",
            key="zones_open_gpkg",
            on_click="ignore",
        )
        o2.download_button(
            t("zones.download_zone_xlsx"),
            data=zv.saved_zone_xlsx(row, lang),
            file_name=f"blockline-zone-{int(row['id'])}.xlsx",
            mime=data.XLSX_MIME,
            key="zones_open_xlsx",
            on_click="ignore",
        )
        o3.button(
            t("zones.reassess"),
            key="zones_reassess",
            on_click=_take,
            args=(zv.features_of(row.geometry, epsg=epsg), t("zones.reassess_taken", name=str(row["name"]))),
        )
        paper_buttons(  # issue 15: the 片区方案 of the opened zone, as Word and PDF
            "zone",
            partial(
                zone_document,
                engine,
                zone=str(int(row["id"])),
                profile=profile,
                as_of=as_of,
                min_mu=min_mu,
                cover=page_cover(),
            ),
            key="zones_paper",
            file_stem=f"blockline-zone-{int(row['id'])}-plan",
        )
