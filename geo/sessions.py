"""Sessions in the store: a sign-in's session, the one-time code the browser redeems for its cookie, sign-out.

The page knows a session by its id, the browser by an opaque token in an HttpOnly cookie (its SHA-256 is
what the store keeps); a session ends after ``BLOCKLINE_SESSION_MINUTES`` without activity, at sign-out and
when its user is disabled (see ``geo.auth``, which re-exports every name).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.actors import Actor
from geo.audit import record
from geo.settings import get_settings
from geo.store import transaction

__all__ = [
    "SESSION_COOKIE",
    "Session",
    "end_session",
    "redeem_handoff",
    "session_by_id",
    "session_by_token",
    "start_session",
]

SESSION_COOKIE = "blockline_session"
_HANDOFF_S = 60


def _digest(secret: str) -> str:
    """What the store keeps of a one-time code or a cookie's token: its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: its id in the store and who it is."""

    id: int
    actor: Actor


def start_session(engine: Engine, actor: Actor, *, expires_at: dt.datetime | None = None) -> tuple[int, str]:
    """Start a session for ``actor``; returns its id and the one-time code the browser redeems for its cookie.

    ``expires_at``: when the identity server's token ends; the session ends then at the latest.
    """
    code = secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        sid = conn.execute(
            sa.text("""
            INSERT INTO sessions (user_name, roles, counties, via, handoff_hash, handoff_until, expires_at)
            VALUES (:n, :r, :c, :via, :h, now() + make_interval(secs => :s), :e) RETURNING id"""),
            {
                "n": actor.name,
                "r": sorted(actor.roles),
                "c": sorted(actor.counties),
                "via": "oidc" if actor.via == "oidc" else "store",
                "h": _digest(code),
                "s": _HANDOFF_S,
                "e": expires_at,
            },
        ).scalar_one()
        record(conn, actor=actor.name, action="auth.sign_in", target=actor.name, after={"via": actor.via})
    return int(sid), code


def redeem_handoff(engine: Engine, code: str) -> str | None:
    """The cookie's token for a one-time ``code`` still valid (used once: a second try gets None)."""
    token = secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        done = conn.execute(
            sa.text("""
            UPDATE sessions SET token_hash = :t, handoff_hash = NULL, handoff_until = NULL, last_seen = now()
            WHERE handoff_hash = :h AND handoff_until >= now() AND ended_at IS NULL AND token_hash IS NULL"""),
            {"t": _digest(token), "h": _digest(code)},
        ).rowcount
    return token if done else None


_LIVE = """
    WITH s AS (UPDATE sessions SET last_seen = now()
               WHERE {match} AND ended_at IS NULL AND last_seen >= now() - make_interval(secs => :idle)
                 AND (expires_at IS NULL OR expires_at > now())
               RETURNING id, user_name, via, roles, counties)
    SELECT s.id, s.user_name, s.via, s.roles AS s_roles, s.counties AS s_counties,
           u.roles AS u_roles, u.counties AS u_counties, u.disabled
    FROM s LEFT JOIN users u ON u.name = s.user_name"""


def _live_session(engine: Engine, match: str, params: dict[str, object]) -> Session | None:
    """The session matching ``match`` if live, its last use moved to now (one statement).

    A built-in user's roles and counties are read again, and a disabled (or deleted) user has no session.
    """
    with transaction(engine) as conn:
        row = conn.execute(
            sa.text(_LIVE.format(match=match)), {**params, "idle": get_settings().session_minutes * 60}
        ).first()
    if row is None or row.disabled or (row.via == "store" and row.u_roles is None):
        return None
    roles, counties = (row.u_roles, row.u_counties) if row.via == "store" else (row.s_roles, row.s_counties)
    return Session(
        id=int(row.id),
        actor=Actor(name=row.user_name, roles=frozenset(roles), counties=frozenset(counties), via=row.via),
    )


def session_by_id(engine: Engine, sid: int) -> Session | None:
    """The live session ``sid`` (the page's own), or None when it has ended or expired."""
    return _live_session(engine, "id = :i", {"i": int(sid)})


def session_by_token(engine: Engine, token: str | None) -> Session | None:
    """The live session of a cookie's ``token``, or None (no token, unknown, ended, expired, user disabled)."""
    if not token or len(token) > 200:
        return None
    return _live_session(engine, "token_hash = :t", {"t": _digest(token)})


def end_session(engine: Engine, sid: int) -> None:
    """End session ``sid`` (sign-out): its cookie is refused from now on, by every page and the tile route."""
    with transaction(engine) as conn:
        name = conn.execute(
            sa.text(
                "UPDATE sessions SET ended_at = now() WHERE id = :i AND ended_at IS NULL RETURNING user_name"
            ),
            {"i": int(sid)},
        ).scalar_one_or_none()
        if name is not None:
            record(conn, actor=name, action="auth.sign_out", target=name)
