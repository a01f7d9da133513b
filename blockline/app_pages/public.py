"""工业用地公开清单 (YW §17): the parcels under full-lifecycle management, publishable fields only, no sign-in."""

import streamlit as st

from blockline.ui import public
from blockline.ui.i18n import current_lang, fmt_int, t
from geo import clock
from geo.errors import BlocklineError
from geo.settings import get_settings
from zoning.public import public_table

lang = current_lang()
policy = get_settings().policy
today = clock.today()

st.title(t("public.title"))
st.caption(t("public.basis", policy=policy, date=today.isoformat()))
try:
    frame = public.public_frame(today, policy)
except BlocklineError:
    st.error(t("public.unavailable"))
    st.stop()

if frame.empty:
    st.info(t("public.empty"))
    st.stop()
st.caption(t("public.count", n=fmt_int(len(frame))))
table = public_table(frame, lang)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={table.columns[2]: st.column_config.NumberColumn(format="%.2f")},
)
files = public.downloads(frame, as_of=today, policy=policy)
cols = st.columns(3)
for col, (fmt, mime) in zip(
    cols,
    (
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "text/csv"),
        ("json", "application/json"),
    ),
    strict=False,
):
    col.download_button(
        t(f"public.{fmt}"),
        data=files[fmt],
        file_name=f"{t('public.file_name')}-{today.isoformat()}.{fmt}",
        mime=mime,
        key=f"public_{fmt}",
        on_click="ignore",
    )
