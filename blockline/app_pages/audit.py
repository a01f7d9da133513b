"""审计 (admins): the audit trail — who did what, when, before and after — and the users."""

import datetime as dt

import streamlit as st

from blockline.ui import data
from blockline.ui.audit_view import ACTIONS, action_label, readable_trail, readable_users
from blockline.ui.auth import can
from blockline.ui.i18n import current_lang, fmt_int, t
from geo import clock
from geo.audit import as_text, first_day, read_audit
from geo.auth import list_users

st.title(t("audit.title"))
if not can("admin"):
    st.error(t("auth.not_allowed", role="admin"))
    st.stop()

c1, c2, c3 = st.columns(3)
# From the oldest row's day: an empty picker would show yyyy/mm/dd (issue 18, item 8), and the day is the office's
first = min(first_day(data.get_engine()) or clock.today(), clock.today())
since = c1.date_input(
    t("audit.since"),
    value=first,
    min_value=first,
    max_value=clock.today(),
    format="YYYY-MM-DD",
    key="audit_since",
)
since = None if since is None else dt.datetime.combine(since, dt.time(), tzinfo=clock.office_zone())
actor = c2.text_input(t("audit.actor"), key="audit_actor")
action_names = {None: t("audit.all_actions")} | {a: action_label(a, current_lang()) for a in ACTIONS}
action = c3.selectbox(
    t("audit.action"), list(action_names), format_func=action_names.__getitem__, key="audit_action"
)
trail = read_audit(data.get_engine(), since=since, actor=actor.strip() or None, action=action, limit=5000)
st.caption(t("audit.count", n=fmt_int(len(trail))))
counties = data.counties()
names = dict(zip(counties["code"], counties["name"], strict=False))
# actions by name, targets and before/after as sentences, a dash for nothing (issue 18, item 8)
shown = readable_trail(as_text(trail), current_lang(), names).rename(
    columns={c: t(f"audit.col.{c}") for c in trail.columns}
)
st.dataframe(shown, hide_index=True, width="stretch", height=480)
st.download_button(
    t("audit.download"),
    data=data.table_bytes(shown, fmt="xlsx", sheet="audit"),
    file_name=f"blockline-audit-{clock.today().isoformat()}.xlsx",
    mime=data.XLSX_MIME,
    key="audit_xlsx",
    on_click="ignore",
)
st.caption(t("audit.append_only"))

st.subheader(t("audit.users"))
users = list_users(data.get_engine())
users = readable_users(users, current_lang(), names)
st.dataframe(
    users.rename(columns={c: t(f"audit.user.{c}") for c in users.columns}), hide_index=True, width="stretch"
)
st.caption(t("audit.users_help"))
