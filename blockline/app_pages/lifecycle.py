"""全生命周期: the contract warnings of every parcel, one parcel's timeline, and the lifecycle calculators."""

from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from blockline.ui import data
from blockline.ui import lifecycle_view as lv
from blockline.ui.i18n import LANGS, current_lang, fmt_date, fmt_int, t
from geo import clock
from zoning import lifecycle as zl
from zoning.policy import get_profile, list_profiles

_PICK_LIMIT = 500  # parcel numbers offered in the picker without a search (a search reaches every parcel)
_SEARCH_LIMIT = 200


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None or pd.isna(x) else f"{float(x):,.{digits}f}"


def _missing(fields: list[str], lang: str) -> str:
    """The fields a calculation lacks, by their names on the page (never the field's code)."""
    names = [t(f"lifecycle.missing.{f}") if f"lifecycle.missing.{f}" in LANGS[lang] else f for f in fields]
    return ("、" if lang == "zh" else ", ").join(names)


def _cat(code: str) -> str:
    key = f"lifecycle.cat.{code}"
    return t(key) if key in LANGS["zh"] else code


st.title(t("lifecycle.title"))
if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

lang = current_lang()
detail_col = "detail" if lang == "zh" else "detail_en"
c1, c2, c3 = st.columns(3)
as_of = c1.date_input(t("lifecycle.as_of"), value=clock.today(), key="lifecycle_as_of", format="YYYY-MM-DD")
policies = [p.name for p in list_profiles()]
# The profile of the settings first, as on the other pages (its work list is computed while the server starts).
policy = c2.selectbox(
    t("lifecycle.policy"), policies, key="lifecycle_policy", index=data.policy_index(policies)
)
city_standard = c3.number_input(
    t("lifecycle.city_standard"),
    min_value=0.0,
    value=None,
    step=1.0,
    key="lifecycle_city_standard",
    help=t("lifecycle.city_standard_help"),
)
profile = get_profile(policy)
report = data.lifecycle_report(as_of, policy, city_standard)
if (by_county := data.policy_caption(policy, lang)) is not None:
    st.caption(by_county)

# -- the work list ------------------------------------------------------------------------------------------
st.subheader(t("lifecycle.work_list"))
f1, f2 = st.columns([3, 1])
# format_func gets words computed now: it is also called outside the run, where the language is unknown
codes = list(lv.WORK_CATEGORIES)  # the same choices under every policy, so a switch keeps the selection
labels = {c: _cat(c) for c in codes}
chosen = f1.multiselect(
    t("lifecycle.category"),
    codes,
    default=codes,
    format_func=labels.__getitem__,
    key="lifecycle_categories",
    placeholder=t("widget.choose"),
)
counties = ["", *sorted(report["county_code"].dropna().unique())]
whole_city = t("map.whole_city")
county = f2.selectbox(
    t("map.county"), counties, format_func=lambda c: c or whole_city, key="lifecycle_county"
)
shown = report[report["category"].isin(chosen)]
if county:
    shown = shown[shown["county_code"] == county]
summary = lv.summarise(shown)
m1, m2, m3 = st.columns(3)
m1.metric(t("lifecycle.parcels"), fmt_int(summary["parcels"]))
m2.metric(t("lifecycle.penalty"), _num(summary["penalty_wan"]))
m3.metric(t("lifecycle.terminations"), fmt_int(summary["terminations"]))

if shown.empty:
    st.info(t("lifecycle.none"))
else:
    table = pd.DataFrame(
        {
            t("field.parcel_no"): shown["parcel_no"],
            t("field.holder"): shown["holder"],
            t("col.category"): shown["category"].map(_cat),
            t("col.article"): shown["article"],
            t("col.since"): shown["since"].map(lambda d: "" if d is None or pd.isna(d) else fmt_date(d)),
            t("lifecycle.col.penalty"): shown["penalty_wan"].map(_num),  # a dash where no penalty is due
            t("col.detail"): shown[detail_col],
        }
    )
    st.dataframe(table.head(data.TABLE_ROWS), hide_index=True, width="stretch", height=420)
    if len(table) > data.TABLE_ROWS:
        st.caption(t("table.cut", shown=fmt_int(data.TABLE_ROWS), total=fmt_int(len(table))))
    st.download_button(
        t("lifecycle.download"),
        data=partial(data.table_bytes, table, fmt="xlsx", sheet=t("lifecycle.sheet")),
        file_name=f"blockline-lifecycle-{as_of.isoformat()}.xlsx",
        mime=data.XLSX_MIME,
        key="lifecycle_xlsx",
        on_click="ignore",
    )

# -- one parcel's timeline ----------------------------------------------------------------------------------
st.subheader(t("lifecycle.timeline"))
s1, s2 = st.columns(2)
query = s1.text_input(t("lifecycle.search"), key="lifecycle_search", placeholder=t("map.search_placeholder"))
listed = list(dict.fromkeys(shown["parcel_no"]))
if query.strip():  # by the database: a search of the whole city reads only what it lists
    options = data.find_parcels(query.strip(), None, _SEARCH_LIMIT)[1]["parcel_no"].tolist()
else:
    options = listed[:_PICK_LIMIT]
parcel_no = s2.selectbox(t("lifecycle.parcel"), options, key="lifecycle_parcel", index=0 if options else None)
if not query.strip() and len(listed) > _PICK_LIMIT:
    s2.caption(t("lifecycle.pick_cut", limit=fmt_int(_PICK_LIMIT), n=fmt_int(len(listed))))
parcel = data.parcel_record(parcel_no) if parcel_no is not None else None
if parcel is None or parcel_no is None:
    st.info(t("map.no_match") if query.strip() else t("lifecycle.pick"))
else:
    holder = parcel["holder"] if pd.notna(parcel["holder"]) else "—"
    st.caption(t("lifecycle.parcel_caption", parcel=parcel_no, holder=holder, area=_num(parcel["area_mu"])))
    line = lv.timeline(parcel, as_of=as_of)
    line["label"] = line["event"].map(lambda e: t(f"lifecycle.event.{e}"))
    line["kind_label"] = line["kind"].map(lambda k: t(f"lifecycle.kind.{k}"))
    left, right = st.columns([2, 3])
    left.dataframe(
        pd.DataFrame(
            {
                t("lifecycle.col.event"): line["label"],
                t("lifecycle.col.date"): line["date"].map(fmt_date),
                t("lifecycle.col.kind"): line["kind_label"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    dated = line[line["date"].notna()].assign(day=lambda f: pd.to_datetime(f["date"]))
    dated["row"] = range(len(dated))
    base = alt.Chart(dated).encode(
        x=alt.X("day:T", title=t("lifecycle.col.date")),
        y=alt.Y("row:O", axis=None, sort="descending"),
        color=alt.Color("kind_label:N", title=t("lifecycle.col.kind")),
        tooltip=[
            alt.Tooltip("label:N", title=t("lifecycle.col.event")),
            alt.Tooltip("day:T", title=t("lifecycle.col.date"), format="%Y-%m-%d"),
        ],
    )
    chart = base.mark_circle(size=90) + base.mark_text(align="left", dx=8).encode(text="label:N")
    right.altair_chart(chart, width="stretch")

    figures = lv.contract_figures(parcel)
    st.dataframe(
        pd.DataFrame(
            {
                t("lifecycle.col.measure"): figures["measure"].map(lambda m: t(f"lifecycle.measure.{m}")),
                t("lifecycle.col.committed"): figures["committed_per_mu_wan"].map(_num),
                t("lifecycle.col.actual"): figures["actual_per_mu_wan"].map(_num),
                t("lifecycle.col.share"): figures["share"].map(lambda s: "—" if pd.isna(s) else f"{s:.0%}"),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    own = report[report["parcel_no"] == parcel_no]
    if own.empty:
        st.success(t("lifecycle.parcel_clear"))
    for row in own.itertuples():
        st.warning(
            t(
                "lifecycle.finding",
                category=_cat(str(row.category)),
                article=row.article,
                detail=getattr(row, detail_col),
            )
        )
    if {"tax_shortfall", "termination_possible", "rating_termination_possible"} & set(own["category"]):
        from blockline.reports.gather import contract_document  # issue 15: the 履约核查函 of this parcel
        from blockline.ui.papers import page_cover, paper_buttons

        paper_buttons(
            "contract",
            partial(
                contract_document,
                data.get_engine(),
                parcel_no=parcel_no,
                profile=profile,
                as_of=as_of,
                city_standard_tax_per_mu_wan=city_standard,
                cover=page_cover(),
            ),
            key="lifecycle_paper",
            file_stem=f"blockline-contract-{parcel_no}",
        )

# -- calculators --------------------------------------------------------------------------------------------
with st.expander(t("lifecycle.calculators")):
    tabs = st.tabs(
        [
            t("lifecycle.calc.lease"),
            t("lifecycle.calc.bid"),
            t("lifecycle.calc.split"),
            t("lifecycle.calc.transfer"),
            t("lifecycle.calc.mortgage"),
        ]
    )
    with tabs[0]:
        years = st.number_input(
            t("lifecycle.calc.term_years"), min_value=0.0, value=20.0, step=1.0, key="calc_term"
        )
        major = st.checkbox(t("lifecycle.calc.major"), key="calc_major")
        try:
            factor = zl.lease_price_correction(years, profile=profile, major=major)
            st.success(
                t(
                    "lifecycle.calc.lease_result",
                    factor=f"{factor:g}",
                    article=profile.cite("lease.legal_max_years"),
                    limit_article=profile.cite(
                        "lease.major_max_years" if major else "lease.ordinary_max_years"
                    ),
                )
            )
        except ValueError as exc:
            st.error(lv.split_message(str(exc), lang))
    with tabs[1]:
        start = st.number_input(
            t("lifecycle.calc.start_price"), min_value=0.0, value=1000.0, step=100.0, key="calc_start_price"
        )
        try:
            cap = zl.bid_price_cap(start, profile=profile)
            st.success(
                t(
                    "lifecycle.calc.bid_result",
                    cap=_num(cap),
                    article=profile.cite("bidding.price_cap_ratio"),
                    years=profile.value("bidding.tax_commitment_years"),
                )
            )
        except ValueError as exc:
            st.error(lv.split_message(str(exc), lang))
    with tabs[2]:
        e_tax = st.number_input(
            t("lifecycle.calc.enterprise_tax"), value=900.0, step=10.0, key="calc_split_tax"
        )
        p_mu = st.number_input(
            t("lifecycle.calc.parcel_mu"), min_value=0.0, value=15.0, step=1.0, key="calc_split_mu"
        )
        e_mu = st.number_input(
            t("lifecycle.calc.enterprise_mu"), min_value=0.0, value=45.0, step=1.0, key="calc_split_total"
        )
        try:
            share = zl.parcel_tax_share_wan(e_tax, parcel_mu=p_mu, enterprise_total_mu=e_mu)
            st.success(
                t(
                    "lifecycle.calc.split_result",
                    tax=_num(share),
                    per_mu=_num(share / p_mu),
                    article=profile.cite("transfer.make_up_tax_before_transfer"),
                )
            )
        except ValueError as exc:
            st.error(lv.split_message(str(exc), lang))
    with tabs[3]:
        if parcel is None:
            st.info(t("lifecycle.calc.transfer_pick"))
        else:
            st.caption(t("lifecycle.calc.transfer_of", parcel=parcel_no, date=fmt_date(as_of)))
            g1, g2, g3 = st.columns(3)
            unknown_grade = t("lifecycle.calc.grade_unknown")
            grade = g1.selectbox(
                t("lifecycle.calc.seller_grade"),
                ["", "A", "B", "C", "D"],
                key="calc_grade",
                format_func=lambda g: g or unknown_grade,
            )
            average = g2.number_input(
                t("lifecycle.calc.city_average"), min_value=0.0, value=None, step=1.0, key="calc_city_average"
            )
            standard = g3.number_input(
                t("lifecycle.calc.city_standard"),
                min_value=0.0,
                value=None,
                step=1.0,
                key="calc_city_standard_transfer",
            )
            h1, h2 = st.columns(2)
            t_tax = h1.number_input(
                t("lifecycle.calc.enterprise_tax_opt"), value=None, step=10.0, key="calc_tr_tax"
            )
            t_mu = h2.number_input(
                t("lifecycle.calc.enterprise_mu_opt"), min_value=0.0, value=None, step=1.0, key="calc_tr_mu"
            )
            try:
                req = zl.transfer_requirements(
                    parcel=parcel,
                    profile=profile,
                    as_of=as_of,
                    seller_grade_last_year=grade or None,
                    city_average_tax_per_mu_wan=average,
                    city_standard_tax_per_mu_wan=standard,
                    enterprise_tax_wan=t_tax,
                    enterprise_total_mu=t_mu,
                )
            except ValueError as exc:
                st.error(lv.split_message(str(exc), lang))
            else:
                std = req["tax_standard"]
                if std is None:
                    st.info(t("lifecycle.calc.no_standard"))
                else:
                    st.success(
                        t(
                            "lifecycle.calc.standard_result",
                            tax=_num(std["min_tax_per_mu_wan"]),
                            article=std["article"],
                            detail=std[detail_col],
                        )
                    )
                for p in req["preemption"]:
                    st.warning(t("lifecycle.calc.preempt", article=p["article"], detail=p[detail_col]))
                if not req["preemption"]:
                    st.success(t("lifecycle.calc.no_preempt"))
                for u in req["undetermined"]:
                    st.info(
                        t(
                            "lifecycle.calc.undetermined",
                            trigger=t(f"lifecycle.trigger.{u['trigger']}"),
                            article=u["article"],
                            missing=_missing(u["missing"], lang),
                        )
                    )
                if req["tax_to_make_up"] is not None:
                    st.info(
                        t(
                            "lifecycle.calc.make_up",
                            article=req["tax_to_make_up"]["article"],
                            detail=req["tax_to_make_up"][detail_col],
                        )
                    )
    with tabs[4]:
        accepted = st.checkbox(t("lifecycle.calc.accepted"), key="calc_accepted")
        k1, k2 = st.columns(2)
        sale = k1.number_input(
            t("lifecycle.calc.sale_price"), min_value=0.0, value=None, step=100.0, key="calc_sale"
        )
        standard_price = k2.number_input(
            t("lifecycle.calc.standard_price"),
            min_value=0.0,
            value=None,
            step=100.0,
            key="calc_standard_price",
        )
        try:
            mort = zl.mortgage_cap(
                accepted=accepted,
                sale_price_wan=sale,
                standard_land_price_wan=standard_price,
                profile=profile,
            )
            st.success(
                t(
                    "lifecycle.calc.mortgage_result",
                    cap=_num(mort["cap_wan"]),
                    article=mort["article"],
                    detail=mort[detail_col],
                )
            )
        except ValueError as exc:
            # Before anything is typed, what is missing is a prompt, not an error.
            untouched = sale is None and standard_price is None
            (st.info if untouched else st.error)(lv.split_message(str(exc), lang))
