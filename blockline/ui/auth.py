"""Signing in to the app: an identity server (OIDC) if configured, else the built-in user store (``geo.auth``).

In setup mode (a store with no user yet) nobody signs in at all.

- **OIDC**: when ``.streamlit/secrets.toml`` (or the environment) holds an ``[auth]`` section, the app uses
  ``st.login``/``st.user``; the roles come from the ID token's claim named by ``BLOCKLINE_OIDC_ROLES_CLAIM``
  (default ``roles``; a list or a comma-separated string) and the counties from
  ``BLOCKLINE_OIDC_COUNTIES_CLAIM`` (default ``counties``). Keycloak, MaxKey or a provincial 统一身份认证
  bridged to OIDC all fit.
- **Built-in**: a name and password form, checked against Argon2id hashes, with the brakes of ``geo.auth``
  (5 failures of a name in 15 minutes lock it).

Both end in a session kept in the store (``geo.auth.start_session``): the page holds its id; right after the
sign-in the page has the browser fetch, from the app's own server, an HttpOnly, SameSite=Strict cookie with the
session's token, so a reload, a second tab or a dropped connection finds the session again, and the tile route
knows who asks. A session ends after ``BLOCKLINE_SESSION_MINUTES`` (default 60) without activity, at "sign
out", and when the user is disabled; every run of a page checks it against the store first.

Pages ask :func:`can` to decide what to show; the store checks again on every write, whatever a page shows.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Iterable

import streamlit as st

from blockline.ui.engine import get_engine
from blockline.ui.i18n import t
from geo.auth import (
    ROLES,
    SESSION_COOKIE,
    Actor,
    authenticate,
    end_session,
    session_by_id,
    session_by_token,
    setup_mode,
    start_session,
)
from geo.settings import get_settings

__all__ = ["can", "current_actor", "oidc_configured", "session_minutes", "sign_in", "sign_out"]

_ACTOR = "_actor"  # the actor of this run, checked against the store at its start
_SID = "_session_id"  # the page's session in the store
_HANDOFF = "_session_handoff"  # the one-time code the browser is yet to redeem for its cookie
_SIGNED_OUT = "_signed_out"


def session_minutes() -> float:
    """How long a session lasts without activity (``BLOCKLINE_SESSION_MINUTES``)."""
    return get_settings().session_minutes


def oidc_configured() -> bool:
    """Whether an identity server is configured for ``st.login``."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all  # noqa: BLE001
        return False


def _claim_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):  # a JSON list
        return [str(v) for v in value]
    return [str(value)]


def _token_end() -> dt.datetime | None:
    """When the identity server's ID token ends (its ``exp``), if it says."""
    exp = st.user.to_dict().get("exp") if st.user.is_logged_in else None
    return dt.datetime.fromtimestamp(float(exp), dt.UTC) if isinstance(exp, (int, float)) else None


def _oidc_actor() -> Actor | None:
    """The identity server's user from the ID token's claims; None when signed out there or the token expired."""
    if not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and exp <= time.time():
        return None
    settings = get_settings()
    roles = [r for r in _claim_list(claims.get(settings.oidc_roles_claim)) if r in ROLES]
    counties = _claim_list(claims.get(settings.oidc_counties_claim))
    name = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub"))
    return Actor(name=name, roles=frozenset(roles or ["viewer"]), counties=frozenset(counties), via="oidc")


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser behind the page (AppTest)  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def _check_session() -> Actor | None:
    """The actor of the page's session (or of the browser's cookie), checked against the store now."""
    engine = get_engine()
    sid = st.session_state.get(_SID)
    if sid is not None:
        session = session_by_id(engine, sid)
        if session is None:  # ended elsewhere (the user disabled), or expired
            st.session_state.pop(_SID, None)
            st.session_state["_expired"] = True
    else:  # a reload, a second tab: the browser's cookie (an ended session's is refused)
        session = session_by_token(engine, _cookie())
        if session is not None:
            st.session_state[_SID] = session.id
    actor = session.actor if session is not None else None
    if actor is not None and oidc_configured() and actor.via == "oidc" and _oidc_actor() is None:
        actor = None
    st.session_state[_ACTOR] = actor
    return actor


def current_actor() -> Actor | None:
    """The signed-in user, or None (not signed in, session ended or expired, or setup mode)."""
    if _ACTOR not in st.session_state:
        return _check_session()
    return st.session_state[_ACTOR]


def _start(actor: Actor, *, expires_at: dt.datetime | None = None) -> None:
    sid, code = start_session(get_engine(), actor, expires_at=expires_at)
    st.session_state.update({_SID: sid, _HANDOFF: code, _ACTOR: actor})


def sign_out() -> None:
    """End the session: in the store (so the browser's cookie is refused from now on) and in the page."""
    sid = st.session_state.pop(_SID, None)
    if sid is not None:
        end_session(get_engine(), sid)
    st.session_state.pop(_ACTOR, None)
    st.session_state.pop(_HANDOFF, None)
    st.session_state[_SIGNED_OUT] = True


def _browser_cookie() -> None:
    """Have the browser fetch its session cookie (once, right after a sign-in) or drop it (after a sign-out).

    The app's server sets and clears the HttpOnly cookie (``/_blockline/session``, ``/_blockline/sign-out``); a
    page cannot. A hidden image is the request: same origin, no script.
    """
    code = st.session_state.pop(_HANDOFF, None)
    if code is not None:
        src = "/_blockline/session?code=" + html.escape(code)
    elif st.session_state.pop(_SIGNED_OUT, False) and _cookie():
        src = "/_blockline/sign-out"
    else:
        return
    st.html(f'<img src="{src}" alt="" width="1" height="1" style="display:none">')


def is_setup_mode() -> bool:
    """Whether the store has no user yet (then everyone acts as ``BLOCKLINE_USER``, as the command does)."""
    with get_engine().connect() as conn:
        return setup_mode(conn)


def _oidc_sign_in() -> Actor:
    actor = _check_session()
    if actor is None:
        claimed = _oidc_actor()
        if claimed is None:
            st.title(t("auth.title"))
            if st.button(t("auth.oidc"), key="auth_oidc"):
                st.login()
            st.stop()
        _start(claimed, expires_at=_token_end())
        actor = claimed
    _browser_cookie()
    return actor


def sign_in() -> Actor | None:
    """Show the sign-in and stop the page until someone signs in; the actor, or None in setup mode.

    Checks the session against the store at the start of every run: a session ended by a sign-out elsewhere, a
    disabled user or ``BLOCKLINE_SESSION_MINUTES`` without activity brings the sign-in back.
    """
    st.session_state.pop(_ACTOR, None)
    if oidc_configured():
        return _oidc_sign_in()
    if is_setup_mode():
        return None
    actor = _check_session()
    if actor is not None:
        _browser_cookie()
        return actor
    _browser_cookie()
    st.title(t("auth.title"))
    if st.session_state.pop("_expired", False):
        st.info(t("auth.expired"))
    with st.form("sign_in"):
        name = st.text_input(t("auth.name"), key="auth_name")
        password = st.text_input(t("auth.password"), type="password", key="auth_password")
        submitted = st.form_submit_button(t("auth.submit"))
    if submitted:
        actor = authenticate(get_engine(), name.strip(), password)
        if actor is None:
            st.error(t("auth.failed"))
        else:
            _start(actor)
            st.rerun()
    st.stop()
    return None  # not reached


def can(role: str) -> bool:
    """Whether the current user may act as ``role`` (everyone may in setup mode)."""
    actor = current_actor()
    if actor is None:
        return is_setup_mode()
    return actor.can(role)
