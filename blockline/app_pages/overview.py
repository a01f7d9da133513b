"""概览: what blockline is, and what the store holds, in total and per county (exportable to Excel).

Every figure is summed by the database (``data.county_summary``): no block line or parcel is read.
"""

import streamlit as st

from blockline.ui import data
from blockline.ui.i18n import fmt_int, fmt_mu, t

st.title(t("overview.title"))
st.markdown(t("overview.intro"))

if data.is_empty(data.store_counts()):
    st.info(t("store.empty"))
    st.stop()

summary = data.county_summary()
n_counties = int((summary["county"] != "").sum())

# The areas get the wider columns and the figures a size that follows the window: "19,477.61 亩" whole at 1280 px
# and up (issue 18, item 8; Streamlit cuts a metric's value that does not fit, unit first).
st.html("<style>[data-testid='stMetricValue']{font-size:clamp(1.25rem, 1.9vw, 2.25rem)}</style>")
cols = st.columns([1, 2, 2, 1, 2])
cols[0].metric(t("overview.counties"), fmt_int(n_counties))
cols[1].metric(
    t("overview.level1", n=fmt_int(summary["level1_lines"].sum())), fmt_mu(summary["level1_mu"].sum())
)
cols[2].metric(
    t("overview.level2", n=fmt_int(summary["level2_lines"].sum())), fmt_mu(summary["level2_mu"].sum())
)
cols[3].metric(t("overview.parcels"), fmt_int(summary["parcels"].sum()))
cols[4].metric(t("overview.parcels_mu"), fmt_mu(summary["parcels_mu"].sum()))

st.subheader(t("overview.by_county"))
headers = {c: t(f"col.{c}") for c in ("county", "name", "level1_mu", "level2_mu", "parcels", "parcels_mu")}
named = summary.assign(name=summary["name"].where(summary["county"] != "", t("col.unassigned")))
table = named[list(headers)].rename(columns=headers)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        **{
            headers[c]: st.column_config.NumberColumn(format="%,.2f")
            for c in ("level1_mu", "level2_mu", "parcels_mu")
        },
        headers["parcels"]: st.column_config.NumberColumn(format="%,d"),
    },
)
st.download_button(
    t("overview.download"),
    data=data.table_bytes(table, fmt="xlsx", sheet=t("overview.sheet")),
    file_name="blockline-counties.xlsx",
    mime=data.XLSX_MIME,
    key="overview_xlsx",
    on_click="ignore",
)
