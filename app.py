"""blockline's web app: the frame. Page config, the shared sidebar, and the pages (``blockline/app_pages/``).

Run it with ``blockline app`` (or ``streamlit run app.py``); it uses the same database as the command line.
"""

from pathlib import Path

import streamlit as st

from blockline.ui import data, public, widget_text
from blockline.ui.auth import can, sign_in, sign_out
from blockline.ui.i18n import LANG_NAMES, current_lang, error_text, fmt_int, relabel, t
from geo.errors import BlocklineError

HERE = Path(__file__).parent

st.set_page_config(page_title=t("app.title"), page_icon=":material/factory:", layout="wide")

st.sidebar.radio(
    t("sidebar.lang"),
    list(LANG_NAMES),
    format_func=LANG_NAMES.get,
    key="lang",
    horizontal=True,
    on_change=relabel,
)  # the pickers show their choice in the new language (issue 18, item 9)
widget_text.inject(current_lang())  # Chinese captions on Streamlit's uploader (blockline/ui/widget_text.py)
# the public list (YW §17) needs no sign-in and shows nothing else: no navigation, no figures of the store
public_page = st.Page(
    HERE / "blockline" / "app_pages" / "public.py",
    title=t("nav.public"),
    icon=":material/list_alt:",
    url_path=public.URL_PATH,
)
if public.requested(public_page):
    st.navigation([public_page], position="hidden").run()
    st.stop()
try:
    counts = data.store_counts()
    actor = sign_in()  # stops the page until someone signs in (not in setup mode: no user yet)
except BlocklineError as exc:
    st.error(t("db.unavailable"))
    st.error(error_text(exc.as_dict(), current_lang()))
    st.stop()

admin_pages = (
    [
        st.Page(
            HERE / "blockline" / "app_pages" / "audit.py",
            title=t("nav.audit"),
            icon=":material/verified_user:",
            url_path="audit",
        )
    ]
    if can("admin")
    else []
)
overview = HERE / "blockline" / "app_pages" / "overview.py"
page = st.navigation(
    [
        st.Page(
            overview, title=t("nav.overview"), icon=":material/dashboard:", url_path="home", default=True
        ),
        # the default page answers at / only: /overview is the same page, not Streamlit's "Page not found" (issue 18)
        st.Page(
            overview,
            title=t("nav.overview"),
            icon=":material/dashboard:",
            url_path="overview",
            visibility="hidden",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "map.py",
            title=t("nav.map"),
            icon=":material/map:",
            url_path="map",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "balance.py",
            title=t("nav.balance"),
            icon=":material/balance:",
            url_path="balance",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "zones.py",
            title=t("nav.zones"),
            icon=":material/join:",
            url_path="zones",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "idle.py",
            title=t("nav.idle"),
            icon=":material/domain_disabled:",
            url_path="idle",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "lifecycle.py",
            title=t("nav.lifecycle"),
            icon=":material/event:",
            url_path="lifecycle",
        ),
        st.Page(
            HERE / "blockline" / "app_pages" / "data.py",
            title=t("nav.data"),
            icon=":material/folder_open:",
            url_path="data",
        ),
        *admin_pages,
    ]
)

if actor is not None:
    st.sidebar.caption(t("auth.signed_in", name=actor.name, roles=", ".join(sorted(actor.roles))))
    if actor.via != "oidc" and st.sidebar.button(t("auth.sign_out"), key="sign_out"):
        sign_out()
        st.rerun()
    elif actor.via == "oidc" and st.sidebar.button(t("auth.sign_out"), key="sign_out_oidc"):
        sign_out()
        st.logout()
else:
    st.sidebar.caption(t("auth.setup_mode"))

embedded, where = data.db_location()
st.sidebar.caption(t("sidebar.db_embedded", home=where) if embedded else t("sidebar.db_external", url=where))
st.sidebar.caption(
    t(
        "sidebar.counts",
        areas=fmt_int(counts["admin_areas"]),
        lines=fmt_int(counts["block_lines"]),
        parcels=fmt_int(counts["parcels"]),
        ratings=fmt_int(counts["ratings"]),
    )
)
if st.sidebar.button(t("sidebar.refresh"), key="refresh"):
    data.clear_caches()
    st.rerun()

page.run()
