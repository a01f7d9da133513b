"""审计 (admins): the audit trail — who did what, when, before and after — and the users."""


import streamlit as st

from geo import clock
from geo.audit import as_text, read_audit
from geo.auth import list_users
from ui import data
from ui.auth import can
from ui.i18n import fmt_int, t

st.title(t("audit.title"))
if not can("admin"):
    st.error(t("auth.not_allowed", role="admin"))
    st.stop()

c1, c2, c3 = st.columns(3)
since = c1.date_input(t("audit.since"), value=None, format="YYYY-MM-DD", key="audit_since")
actor = c2.text_input(t("audit.actor"), key="audit_actor")
action = c3.text_input(t("audit.action"), placeholder="load.", key="audit_action")
trail = read_audit(data.get_engine(), since=since, actor=actor.strip() or None, action=action.strip() or None,
                   limit=5000)
st.caption(t("audit.count", n=fmt_int(len(trail))))
shown = as_text(trail).rename(columns={c: t(f"audit.col.{c}") for c in trail.columns})
st.dataframe(shown, hide_index=True, width="stretch", height=480)
st.download_button(t("audit.download"), data=data.table_bytes(shown, fmt="xlsx", sheet="audit"),
                   file_name=f"blockline-audit-{clock.today().isoformat()}.xlsx", mime=data.XLSX_MIME,
                   key="audit_xlsx", on_click="ignore")
st.caption(t("audit.append_only"))

st.subheader(t("audit.users"))
users = list_users(data.get_engine())
st.dataframe(users.rename(columns={c: t(f"audit.user.{c}") for c in users.columns}), hide_index=True, width="stretch")
st.caption(t("audit.users_help"))
