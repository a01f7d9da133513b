"""Signing in to the app: an identity server (OIDC, through ``st.login``) where one is configured, else the
built-in user store (``geo.auth``), and nothing at all in setup mode (a store with no user yet).

- **OIDC**: when ``.streamlit/secrets.toml`` (or the environment) holds an ``[auth]`` section, the app uses
  ``st.login``/``st.user``; the roles come from the ID token's claim named by ``BLOCKLINE_OIDC_ROLES_CLAIM``
  (default ``roles``; a list or a comma-separated string) and the counties from
  ``BLOCKLINE_OIDC_COUNTIES_CLAIM`` (default ``counties``). Keycloak, MaxKey or a provincial 统一身份认证
  bridged to OIDC all fit.
- **Built-in**: a name and password form, checked against Argon2id hashes; the session ends after
  ``BLOCKLINE_SESSION_MINUTES`` (default 60) without activity, or at "sign out".

Pages ask :func:`can` to decide what to show; the store checks again on every write, whatever a page shows.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from geo.auth import ROLES, Actor, authenticate, setup_mode
from ui import data
from ui.i18n import t

__all__ = ["can", "current_actor", "oidc_configured", "session_minutes", "sign_in", "sign_out"]

_ACTOR = "_actor"
_SEEN = "_actor_seen"


def session_minutes() -> float:
    """How long a built-in session lasts without activity."""
    try:
        return max(1.0, float(os.environ.get("BLOCKLINE_SESSION_MINUTES", "60")))
    except ValueError:
        return 60.0


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
    return [str(v) for v in value]  # type: ignore[union-attr]


def _oidc_actor() -> Actor | None:
    if not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    roles = [r for r in _claim_list(claims.get(os.environ.get("BLOCKLINE_OIDC_ROLES_CLAIM", "roles"))) if r in ROLES]
    counties = _claim_list(claims.get(os.environ.get("BLOCKLINE_OIDC_COUNTIES_CLAIM", "counties")))
    name = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub"))
    return Actor(name=name, roles=frozenset(roles or ["viewer"]), counties=frozenset(counties), via="oidc")


def current_actor() -> Actor | None:
    """The signed-in user, or None (not signed in, session expired, or setup mode)."""
    if oidc_configured():
        return _oidc_actor()
    actor = st.session_state.get(_ACTOR)
    if actor is None:
        return None
    if time.monotonic() - st.session_state.get(_SEEN, 0.0) > session_minutes() * 60:
        sign_out()
        st.session_state["_expired"] = True
        return None
    st.session_state[_SEEN] = time.monotonic()
    return actor


def sign_out() -> None:
    """End the session."""
    st.session_state.pop(_ACTOR, None)
    st.session_state.pop(_SEEN, None)


def is_setup_mode() -> bool:
    """Whether the store has no user yet (then everyone acts as ``BLOCKLINE_USER``, as the command does)."""
    with data.get_engine().connect() as conn:
        return setup_mode(conn)


def sign_in() -> Actor | None:
    """Show the sign-in and stop the page until someone signs in; the actor, or None in setup mode."""
    if oidc_configured():
        actor = _oidc_actor()
        if actor is None:
            st.title(t("auth.title"))
            if st.button(t("auth.oidc"), key="auth_oidc"):
                st.login()
            st.stop()
        return actor
    if is_setup_mode():
        return None
    actor = current_actor()
    if actor is not None:
        return actor
    st.title(t("auth.title"))
    if st.session_state.pop("_expired", False):
        st.info(t("auth.expired"))
    with st.form("sign_in"):
        name = st.text_input(t("auth.name"), key="auth_name")
        password = st.text_input(t("auth.password"), type="password", key="auth_password")
        submitted = st.form_submit_button(t("auth.submit"))
    if submitted:
        actor = authenticate(data.get_engine(), name.strip(), password)
        if actor is None:
            st.error(t("auth.failed"))
        else:
            st.session_state[_ACTOR] = actor
            st.session_state[_SEEN] = time.monotonic()
            st.rerun()
    st.stop()
    return None  # not reached


def can(role: str) -> bool:
    """Whether the current user may act as ``role`` (everyone may in setup mode)."""
    actor = st.session_state.get(_ACTOR) if not oidc_configured() else _oidc_actor()
    if actor is None:
        return is_setup_mode()
    return actor.can(role)
