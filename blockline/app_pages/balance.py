"""占补平衡: check an adjustment of the level-1 lines before it is made, cover a shortfall, record it, keep the ledger.

Removal (调出) and addition (补入) come from drawings on the map and uploaded files, unioned per role. Each
drawing is written to the store (``geo.drafts``, purposes ``balance:removal`` and ``balance:addition``) as
soon as it is confirmed, and the page reads them back on every run: neither a rerun nor a reload of the same
address (``?sketch=``) loses them. The session keeps only the fingerprints of the drawings already taken, so
streamlit-folium's re-sent drawings are never taken twice, nor again after a clear. The logic is in
``zoning.balance``, ``blockline.services.suggest`` and ``blockline.ui.balance_view``.
"""

from collections.abc import Mapping

import shapely
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig
from streamlit_folium import st_folium

from blockline.services.balance import check_adjustment, ledger
from blockline.services.ledger_record import record_adjustment
from blockline.ui import balance_view as bv
from blockline.ui import data
from blockline.ui.auth import can
from blockline.ui.i18n import current_lang, error_text, fmt_int, fmt_mu, t
from blockline.ui.maps import build_map, layer_control_last
from geo.errors import BlocklineError, InputError
from geo.io import read_vector
from geo.settings import get_settings
from zoning.balance import Transfer
from zoning.policy import get_profile, list_profiles

PURPOSES = {
    role: f"balance:{role}" for role in bv.ROLES
}  # the drafts of each role (blockline.ui.data.drafts)
SEEN = "balance_seen"  # fingerprints of every drawing already taken, so a stale drawing is never re-added
REFUSED = "balance_refused"  # drawings refused in the run before a rerun, told in the next one
MU_FORMAT = "%,.2f"  # 亩 in tables: thousands separators, two decimals
SUGGESTION = "balance_suggestion"
RECORDED = "balance_recorded"
UPLOADS = "balance_upload_round"  # per role: bumped to empty the file uploader


@st.cache_data(max_entries=16, show_spinner=False)
def _read_upload(file_id: str, name: str, _content: bytes, epsg: int) -> tuple[list[bytes], dict | None]:
    """The polygons (WKB, storage CRS) of an uploaded file, or the error as plain data."""
    try:
        with data.saved_upload(name, _content) as path:
            gdf, _ = read_vector(path, storage_epsg=epsg, display_name=name)
    except BlocklineError as exc:
        return [], data.error_dict(exc)
    return [g.wkb for g in gdf.geometry if g is not None and not g.is_empty], None


def _mu_columns(*keys: str) -> dict[str, ColumnConfig]:
    """Column settings showing the 亩 columns ``balance.col.<key>`` as ``1,234.56``."""
    return {t(f"balance.col.{k}"): st.column_config.NumberColumn(format=MU_FORMAT) for k in keys}


def _keep(
    purpose: str, drawings: Mapping[str, dict], seen: list[str] | None = None
) -> tuple[int, list[dict]]:
    """Write each drawing (fingerprint → GeoJSON Feature) to the drafts at once: (new ones, errors of the rest).

    One by one, so a refused one costs no other; returns how many were new and the errors of those not kept.

    The fingerprints of the drawings taken, or refused for good (not a surface: ``InputError``), are added to
    ``seen``; a drawing the store could not take for another reason is tried again on the next run.
    """
    kept, refused = 0, []
    for key, feature in drawings.items():
        try:
            kept += data.keep_drafts(purpose, [feature])
        except InputError as exc:
            refused.append(exc.as_dict())
        except BlocklineError as exc:
            refused.append(exc.as_dict())
            continue
        if seen is not None:
            seen.append(key)
    return kept, refused


def _clear(*roles: str) -> None:
    """Delete a role's drafts and empty its file uploader (a new key is a new, empty widget)."""
    for r in roles:
        data.clear_drafts(PURPOSES[r])
        st.session_state[UPLOADS][r] += 1
    if "addition" in roles:
        st.session_state[SUGGESTION] = None


def _suggest(county: str, shortfall_mu: float, policy: str, epsg: int) -> None:
    """Run before the page (a button's callback), so the map of this very run shows the suggestion."""
    # lazy: the suggestion takes 0.3-0.7 s to import (-X importtime: scipy.optimize), paid only when asked
    from blockline.services.suggest import suggest_cover

    found = suggest_cover(
        data.get_engine(), county=county, shortfall_mu=shortfall_mu, profile=get_profile(policy)
    )
    st.session_state[SUGGESTION] = {
        "county": county,
        "covered": bool(found.status.get("feasible")),
        "rows": found.as_dict()["chosen"],
        "features": bv.to_features(list(found.chosen.geometry), epsg=found.chosen.crs.to_epsg() or epsg),
    }


def _take_suggestion() -> None:
    """Keep the suggested pieces as addition drafts (a button's callback)."""
    suggestion = st.session_state.get(SUGGESTION)
    if suggestion:
        pieces = {str(i): f for i, f in enumerate(suggestion["features"])}
        st.session_state[REFUSED] = _keep(PURPOSES["addition"], pieces)[1]
    st.session_state[SUGGESTION] = None


st.title(t("balance.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()
if not can("planner"):  # a viewer sees the balance and the ledger; drawing is a planner's work
    st.info(t("auth.not_allowed", role=t("role.planner")))

lang = current_lang()
epsg = get_settings().storage_epsg
engine = data.get_engine()
counties = data.counties()
if len(counties) == 0:
    st.info(t("balance.no_counties"))
    st.stop()
data.sketch_id()  # puts ?sketch= in the address before anything is drawn, so a reload finds the drafts
st.session_state.setdefault(SEEN, [])
st.session_state.setdefault(SUGGESTION, None)
st.session_state.setdefault(UPLOADS, {r: 0 for r in bv.ROLES})
if st.session_state.get(RECORDED) is not None:
    st.success(t("balance.recorded", id=st.session_state.pop(RECORDED)))
refused = st.session_state.pop(REFUSED, [])
shapes = {r: data.drafts(PURPOSES[r]) for r in bv.ROLES}  # what was drawn, as the store keeps it

# -- 1. county and policy --------------------------------------------------------------------------------
names = dict(zip(counties["code"], counties["name"], strict=False))
county_labels = {c: f"{c} {n}" for c, n in sorted(names.items())}
role_labels = {r: t(f"balance.role.{r}") for r in bv.ROLES}
c1, c2, c3 = st.columns([2, 1, 2])
county = c1.selectbox(
    t("balance.county"), list(county_labels), format_func=county_labels.__getitem__, key="balance_county"
)
policy = c2.selectbox(t("balance.policy"), [p.name for p in list_profiles()], key="balance_policy")
role = c3.radio(
    t("balance.draw_as"), bv.ROLES, format_func=role_labels.__getitem__, key="balance_role", horizontal=True
)
profile = get_profile(policy)

# -- 2. the shapes: uploaded files ------------------------------------------------------------------------
uploaded: dict[str, list] = {r: [] for r in bv.ROLES}
u1, u2 = st.columns(2)
for column, r in zip((u1, u2), bv.ROLES, strict=False):
    files = column.file_uploader(
        t(f"balance.upload.{r}"),
        type=["zip", "gpkg", "geojson", "json", "kml"],
        accept_multiple_files=True,
        help=t("balance.upload_help"),
        key=f"balance_file_{r}_{st.session_state[UPLOADS][r]}",
    )
    for f in files or []:
        wkbs, error = _read_upload(f.file_id, f.name, f.getvalue(), epsg)
        if error is not None:
            column.error(error_text(error, lang))
        else:
            uploaded[r] += [shapely.from_wkb(w) for w in wkbs]

# -- 3. the check ----------------------------------------------------------------------------------------
removal = bv.role_geometry(shapes["removal"], uploaded["removal"], epsg=epsg)
addition = bv.role_geometry(shapes["addition"], uploaded["addition"], epsg=epsg)
book = ledger(engine)
check = None
if removal is not None or addition is not None:
    try:
        check = check_adjustment(engine, county=county, removal=removal, addition=addition, profile=profile)
    except BlocklineError as exc:
        st.error(error_text(exc.as_dict(), lang))

# -- the map: block lines, what was drawn, what it does ------------------------------------------------
suggestion = st.session_state[SUGGESTION]
m = build_map(
    counties=counties[counties["code"] == county],
    level1=data.blocklines(1, county=county),
    level2=data.blocklines(2, county=county),
    parcels=None,
    basemap="none",
    lang=lang,
    leaflet_url=data.leaflet_url(),
)
bv.add_balance_layers(
    m,
    epsg=epsg,
    lang=lang,
    removal=shapes["removal"],
    addition=shapes["addition"],
    occupied=check.occupied_geometry if check else None,
    replaced=check.replaced_geometry if check else None,
    suggested=suggestion["features"] if suggestion and suggestion["county"] == county else (),
)
# Keep the view where the planner works: on what is drawn or uploaded for the role at hand (else the other).
working, other = (removal, addition) if role == "removal" else (addition, removal)
bv.fit_to_work(m, [working if working is not None else other], epsg=epsg)
bv.add_draw_control(m, asset_url=data.leaflet_draw_url())
layer_control_last(m)  # after the balance's own layers
st.caption(t("balance.draw_help", role=role_labels[role]))
drawn = st_folium(
    m, key="balance_map", returned_objects=["all_drawings"], height=560, use_container_width=True
)
fresh = bv.new_drawings((drawn or {}).get("all_drawings"), st.session_state[SEEN])
kept, newly_refused = _keep(PURPOSES[role], fresh, st.session_state[SEEN])
refused += newly_refused
if kept:
    st.session_state[REFUSED] = refused
    st.rerun()  # check again with the new drawing
for error in refused:
    st.error(t("balance.refused", error=error_text(error, lang)))

b1, b2, b3 = st.columns(3)
b1.caption(
    t("balance.drawn", removal=fmt_int(len(shapes["removal"])), addition=fmt_int(len(shapes["addition"])))
)
b2.button(t("balance.clear.removal"), key="balance_clear_removal", on_click=_clear, args=("removal",))
b3.button(t("balance.clear.addition"), key="balance_clear_addition", on_click=_clear, args=("addition",))

if check is None:
    st.info(t("balance.nothing"))
else:
    st.subheader(t("balance.result", county=county_labels[county]))
    result = check.as_dict()
    columns = st.columns(4) + st.columns(3)
    for column, (label, value) in zip(columns, bv.check_rows(result), strict=False):
        column.metric(t(label), t("yes" if value else "no") if isinstance(value, bool) else fmt_mu(value))
    st.caption(t("balance.article", article=check.article, policy=check.policy))
    for warning in result["warnings"]:
        st.warning(bv.warning_text(warning, lang))
    from functools import partial as _partial  # issue 15: the 论证材料 of this adjustment, as Word and PDF

    from blockline.reports.gather import balance_check_document
    from blockline.ui.papers import page_cover, paper_buttons

    paper_buttons(
        "balance",
        _partial(
            balance_check_document,
            engine,
            county=county,
            removal=removal,
            addition=addition,
            profile=profile,
            cover=page_cover(),
        ),
        key="balance_paper",
        file_stem=f"blockline-balance-{county}",
    )

    # -- 4. cover a shortfall ----------------------------------------------------------------------------
    if not check.county_balanced:
        shortfall = -check.balance_after_mu
        st.warning(t("balance.short", shortfall=fmt_mu(shortfall)))
        st.button(
            t("balance.suggest"),
            key="balance_suggest",
            on_click=_suggest,
            args=(county, shortfall, policy, epsg),
        )
    if suggestion and suggestion["county"] == county:
        if not suggestion["rows"]:
            st.info(t("balance.suggest_none"))
        else:
            if not suggestion["covered"]:
                st.warning(t("balance.suggest_partial"))
            table = bv.suggestion_frame(suggestion["rows"], lang)
            st.dataframe(table, hide_index=True, width="stretch", column_config=_mu_columns("area_mu"))
            st.caption(
                t("balance.suggest_total", total=fmt_mu(sum(r["area_mu"] for r in suggestion["rows"])))
            )
            st.button(t("balance.suggest_add"), key="balance_suggest_add", on_click=_take_suggestion)

    # -- 5. record the approved adjustment -------------------------------------------------------------
    # Only an approver sees the button enabled; the store checks the role and the county again when recording.
    balances = {c["county"]: float(c["balance_mu"]) for c in book["counties"]}
    may_record = can("approver")
    with st.expander(t("balance.record_title"), expanded=False):
        if not may_record:
            st.info(t("auth.not_allowed", role=t("role.approver")))
        doc = st.text_input(t("balance.doc"), key="balance_doc", placeholder=t("balance.doc_placeholder"))
        reason = st.text_area(t("balance.reason"), key="balance_reason")
        others = [c for c in county_labels if c != county]
        donors = st.multiselect(
            t("balance.transfer_from"),
            others,
            key="balance_transfer_from",
            placeholder=t("widget.choose"),
            format_func=lambda c: (
                f"{county_labels[c]}（{t('balance.surplus')} {fmt_mu(balances.get(c, 0.0))}）"
            ),
        )
        proposal = bv.allocate_transfers(max(-check.balance_after_mu, 0.0), balances, donors)
        transfers = []
        for code in donors:
            mu = st.number_input(
                t("balance.transfer_mu", county=county_labels[code]),
                min_value=0.0,
                step=0.5,
                value=float(proposal.get(code, 0.0)),
                format="%.2f",
                key=f"balance_transfer_mu_{code}",
            )
            if mu > 0:
                transfers.append(Transfer(code, float(mu)))
        if st.button(t("balance.record"), key="balance_record", type="primary", disabled=not may_record):
            try:
                adj_id, _ = record_adjustment(
                    engine,
                    county=county,
                    removal=removal,
                    addition=addition,
                    approval_doc=doc,
                    reason=reason.strip() or None,
                    transfers=transfers,
                    user=data.acting_user(),
                    profile=profile,
                )
            except BlocklineError as exc:  # Unbalanced or InputError: nothing was written
                st.error(error_text(exc.as_dict(), lang))
            else:
                _clear(*bv.ROLES)  # the sketch's drafts: what was drawn is now in the block lines
                data.clear_caches()
                st.session_state[RECORDED] = adj_id
                st.rerun()

# -- 6. the ledger ---------------------------------------------------------------------------------------
st.subheader(t("balance.ledger"))
l1, l2 = st.columns(2)
l1.metric(t("balance.city_balance"), fmt_mu(book["city_balance_mu"]))
l2.metric(t("balance.city_level1"), fmt_mu(book["city_level1_mu"]))
st.dataframe(
    bv.ledger_counties_frame(book, lang),
    hide_index=True,
    width="stretch",
    column_config=_mu_columns("balance_mu", "level1_mu"),
)
if book["level1_history"]:
    chart = bv.history_chart(book, lang)
    if chart is None:
        st.caption(t("balance.history_none", mu=fmt_mu(book["city_level1_mu"])))
    else:
        h1, h2 = st.columns([3, 2])
        h1.caption(t("balance.history"))
        h1.altair_chart(chart, use_container_width=True)
        h2.caption(t("balance.history_balances"))
        h2.altair_chart(bv.balances_chart(book, lang), use_container_width=True)
    falls = bv.falls_frame(book, lang)
    if len(falls):
        st.warning(t("balance.falls", n=fmt_int(len(falls))))
        st.dataframe(
            falls, hide_index=True, width="stretch", column_config=_mu_columns("level1_mu", "change_mu")
        )
    else:
        st.caption(t("balance.no_falls"))
entries = bv.ledger_entries_frame(book, lang)
if len(entries):
    st.dataframe(
        entries,
        hide_index=True,
        width="stretch",
        column_config=_mu_columns("occupied_mu", "replaced_mu", "balance_before_mu", "balance_after_mu"),
    )
else:
    st.caption(t("balance.no_entries"))
st.download_button(
    t("balance.download"),
    data=bv.ledger_xlsx_bytes(book),
    file_name="blockline-ledger.xlsx",
    mime=data.XLSX_MIME,
    key="balance_xlsx",
    on_click="ignore",
)
