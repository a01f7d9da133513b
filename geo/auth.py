"""Who may do what: the built-in user store, roles, counties, and the check made where a write happens.

Roles (a user has one or more):

- ``viewer`` reads maps and lists;
- ``planner`` checks balances, drafts adjustments and zones (and may do what a viewer does);
- ``approver`` records approved adjustments and transfers (and may do what a planner does);
- ``data_officer`` loads data (and reads);
- ``admin`` manages users (and reads).

A planner or approver may be limited to some counties: a write that touches another county is refused.
Every writing function of ``geo`` and ``zoning`` takes the acting user's name and calls :func:`authorize`
inside its transaction, so the rule holds for the app, the command and any script alike.

**Setup mode.** A store with no user at all (a fresh install, the demo, the test suite's own data) lets any
named actor write, and says so in the audit trail (``via setup``); the first ``blockline user add … --role
admin`` ends it. From then on every writer must be a known, enabled user with the role.

Passwords are hashed with Argon2id (``argon2-cffi``, its default parameters); a hash made with older
parameters is replaced at the next sign-in.

**Brakes.** Every failed sign-in is kept (``sign_in_failures``) and recorded in the audit trail
(``auth.sign_in_failed``). A name with ``BLOCKLINE_SIGN_IN_MAX_FAILURES`` (5) failures within the last
``BLOCKLINE_SIGN_IN_WINDOW_MINUTES`` (15, the bounds included) is locked (``auth.locked``): even the right
password is refused, with the same answer, until fewer than 5 of its failures are that recent (an attempt while
locked counts as a failure, so guessing on keeps it locked) or an admin runs ``blockline user unlock NAME``.
An unknown name, a wrong password, a disabled user and a locked name get the same answer after the same work
(one Argon2 hash, one failure written).

**Sessions.** A sign-in (built-in or through an identity server) starts a session in the store
(``sessions``): the page knows it by its id, the browser by an opaque token in an HttpOnly, SameSite=Strict
cookie that the app's server sets when the browser redeems the one-time code the page gave it. A session ends
after ``BLOCKLINE_SESSION_MINUTES`` (60) without activity, at sign-out, and when its user is disabled; the
roles and counties of a built-in user are read again on every check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from geo.audit import record
from geo.errors import BlocklineError, InputError
from geo.settings import get_settings
from geo.store import transaction

__all__ = [
    "CONTRACT_READERS",
    "ROLES",
    "SESSION_COOKIE",
    "Actor",
    "NotPermitted",
    "Session",
    "actor_for",
    "add_user",
    "authenticate",
    "authorize",
    "disable_user",
    "end_session",
    "is_locked",
    "list_users",
    "name_of",
    "redeem_handoff",
    "session_by_id",
    "session_by_token",
    "set_password",
    "setup_mode",
    "start_session",
    "unlock_user",
]

ROLES = ("viewer", "planner", "approver", "data_officer", "admin")
#: what each role may do besides its own name
_IMPLIES = {
    "viewer": {"viewer"},
    "planner": {"planner", "viewer"},
    "approver": {"approver", "planner", "viewer"},
    "data_officer": {"data_officer", "viewer"},
    "admin": {"admin", "viewer"},
}
_ROLE_ZH = {
    "viewer": "查看",
    "planner": "规划编制",
    "approver": "审批",
    "data_officer": "数据管理",
    "admin": "系统管理",
}
#: the roles that may read contract figures (the lifecycle warnings); a viewer reads the public list only
CONTRACT_READERS = ("planner", "approver", "data_officer", "admin")
SESSION_COOKIE = "blockline_session"
_HANDOFF_S = 60
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MIN_PASSWORD = 10
_hasher = PasswordHasher()


class NotPermitted(BlocklineError):
    """The acting user may not do this (exit code 4); nothing was written."""

    exit_code = 4


@dataclass(frozen=True)
class Actor:
    """A user as the checks see them: name, roles, the counties they are limited to (empty: all)."""

    name: str
    roles: frozenset[str]
    counties: frozenset[str] = frozenset()
    via: str = "store"  # "store", "oidc" or "setup"

    def can(self, role: str) -> bool:  # noqa: D102 issue 14: left by tools/house_move.py lint, fix and drop
        return any(role in _IMPLIES[r] for r in self.roles if r in _IMPLIES)

    def covers(self, county: str | None) -> bool:  # noqa: D102 issue 14: left by tools/house_move.py lint, fix and drop
        return not self.counties or county is None or county in self.counties

    @property
    def reads_contracts(self) -> bool:
        """Whether this user may read contract figures (any role but a bare viewer)."""
        return any(r in CONTRACT_READERS for r in self.roles)


def name_of(user: str | Actor) -> str:
    """The name to record for ``user`` (an ``Actor`` or a name)."""
    return user.name if isinstance(user, Actor) else str(user)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"用户名无效：{name!r}",
            f"not a user name: {name!r}",
            fix_zh="1–64 个字母、数字或 _ . @ -",
            fix_en="1–64 letters, digits or _ . @ -",
        )
    return name


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InputError(
            f"未知角色：{', '.join(unknown) or '（无）'}",
            f"unknown roles: {', '.join(unknown) or '(none)'}",
            fix_zh="可用：" + "、".join(ROLES),
            fix_en="known: " + ", ".join(ROLES),
        )
    return roles


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD:
        raise InputError(
            f"密码太短（至少 {_MIN_PASSWORD} 位）",
            f"the password is too short (at least {_MIN_PASSWORD})",
            fix_zh="换一个更长的密码",
            fix_en="choose a longer password",
        )


def setup_mode(conn: Connection) -> bool:
    """Whether no user was ever added (anyone may write; see the module's notes): the flag the first user
    writes, once (migration 0008), so that deleting every user does not reopen setup mode.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    return not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM setup_ended)")).scalar_one()


def actor_for(conn: Connection, name: str | Actor) -> Actor:
    """The actor named ``name`` as the store knows them (an ``Actor`` from an identity server passes as is; a
    built-in user's is read again, so a user disabled since signing in is refused).
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
    if isinstance(name, Actor):
        if name.via == "oidc":
            return name
        name = name.name
    if setup_mode(conn):
        return Actor(name=str(name), roles=frozenset(ROLES), via="setup")
    row = conn.execute(
        sa.text("SELECT roles, counties, disabled FROM users WHERE name = :n"), {"n": name}
    ).first()
    if row is None or row.disabled:
        raise NotPermitted(
            f"用户 {name} 不存在或已停用",
            f"user {name} does not exist or is disabled",
            fix_zh="由管理员用 blockline user add 建立，或以 BLOCKLINE_USER 指定已有用户",
            fix_en="ask an admin to run blockline user add, or set BLOCKLINE_USER to an existing user",
        )
    return Actor(name=name, roles=frozenset(row.roles), counties=frozenset(row.counties))


def authorize(
    conn: Connection, user: str | Actor, role: str, *, counties: Iterable[str | None] = ()
) -> Actor:
    """The acting user, if they may act as ``role`` on every county in ``counties``; else ``NotPermitted``."""
    actor = actor_for(conn, user)
    if not actor.can(role):
        raise NotPermitted(
            f"用户 {actor.name} 没有“{_ROLE_ZH[role]}”权限",
            f"user {actor.name} lacks the {role} role",
            fix_zh=f"请有“{_ROLE_ZH[role]}”权限的用户操作，或由管理员授予",
            fix_en=f"ask a user with the {role} role, or an admin to grant it",
        )
    outside = sorted({c for c in counties if c is not None and not actor.covers(c)})
    if outside:
        raise NotPermitted(
            f"用户 {actor.name} 无权处理 {'、'.join(outside)}",
            f"user {actor.name} may not act in {', '.join(outside)}",
            fix_zh="仅限其负责的区县：" + "、".join(sorted(actor.counties)),
            fix_en="limited to: " + ", ".join(sorted(actor.counties)),
        )
    return actor


def add_user(
    engine: Engine,
    name: str,
    password: str,
    *,
    roles: Iterable[str],
    counties: Iterable[str] = (),
    display_name: str | None = None,
    by: str,
) -> None:
    """Add a user (by an admin, or by anyone in setup mode, which the first user ends)."""
    name, roles = _check_name(name), _check_roles(roles)
    _check_password(password)
    counties = sorted(set(counties))
    with transaction(engine) as conn:
        if not setup_mode(conn):
            authorize(conn, by, "admin")
        if conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM users WHERE name = :n)"), {"n": name}
        ).scalar_one():
            raise InputError(
                f"用户 {name} 已存在",
                f"user {name} already exists",
                fix_zh="换一个名字，或用 blockline user passwd",
                fix_en="choose another name, or use blockline user passwd",
            )
        conn.execute(
            sa.text("""INSERT INTO users (name, display_name, password_hash, roles, counties)
                                VALUES (:n, :d, :h, :r, :c)"""),
            {"n": name, "d": display_name, "h": _hasher.hash(password), "r": roles, "c": counties},
        )
        record(
            conn,
            actor=name_of(by),
            action="user.add",
            target=name,
            after={"roles": roles, "counties": counties, "display_name": display_name},
        )


def set_password(engine: Engine, name: str, password: str, *, by: str) -> None:
    """Change a password (the user themself, or an admin)."""
    _check_password(password)
    with transaction(engine) as conn:
        if name_of(by) != name:
            authorize(conn, by, "admin")
        changed = conn.execute(
            sa.text("""UPDATE users SET password_hash = :h, password_changed_at = now()
                                          WHERE name = :n"""),
            {"h": _hasher.hash(password), "n": name},
        ).rowcount
        if not changed:
            raise InputError(
                f"用户 {name} 不存在",
                f"no user {name}",
                fix_zh="查看 blockline user list",
                fix_en="see blockline user list",
            )
        record(conn, actor=name_of(by), action="user.passwd", target=name)


def disable_user(engine: Engine, name: str, *, by: str, disabled: bool = True) -> None:
    """Stop (or allow again) a user's sign-in and writes; their past stays in the audit trail."""
    with transaction(engine) as conn:
        authorize(conn, by, "admin")
        before = conn.execute(
            sa.text("SELECT disabled FROM users WHERE name = :n"), {"n": name}
        ).scalar_one_or_none()
        if before is None:
            raise InputError(
                f"用户 {name} 不存在",
                f"no user {name}",
                fix_zh="查看 blockline user list",
                fix_en="see blockline user list",
            )
        conn.execute(sa.text("UPDATE users SET disabled = :d WHERE name = :n"), {"d": disabled, "n": name})
        if disabled:
            conn.execute(
                sa.text("UPDATE sessions SET ended_at = now() WHERE user_name = :n AND ended_at IS NULL"),
                {"n": name},
            )
        record(
            conn,
            actor=name_of(by),
            action="user.disable" if disabled else "user.enable",
            target=name,
            before={"disabled": before},
            after={"disabled": disabled},
        )


def list_users(engine: Engine) -> pd.DataFrame:
    """Users without their hashes: name, display_name, roles, counties, disabled, created_at."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("""SELECT name, display_name, array_to_string(roles, ',') AS roles,
                                             array_to_string(counties, ',') AS counties, disabled, created_at
                                      FROM users ORDER BY name"""),
            conn,
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _recent_failures(conn: Connection, name: str) -> int:
    return int(
        conn.execute(
            sa.text("""SELECT count(*) FROM sign_in_failures WHERE name = :n
                                       AND at >= now() - make_interval(secs => :s)"""),
            {"n": name, "s": get_settings().sign_in_window_minutes * 60},
        ).scalar_one()
    )


def is_locked(engine: Engine, name: str) -> bool:
    """Whether ``name`` has had too many failed sign-ins lately (see the module's notes on brakes)."""
    with engine.connect() as conn:
        return _recent_failures(conn, name) >= get_settings().sign_in_max_failures


def _failed(engine: Engine, name: str) -> None:
    """Keep and record a failed sign-in for ``name``; record the lockout when this failure starts one."""
    tried = name[:64]
    limit = get_settings().sign_in_max_failures
    with transaction(engine) as conn:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext('blockline.sign_in:' || :n))"), {"n": tried}
        )
        conn.execute(
            sa.text("""DELETE FROM sign_in_failures WHERE name = :n
                                AND at < now() - make_interval(secs => :s)"""),
            {"n": tried, "s": get_settings().sign_in_window_minutes * 60},
        )  # aged out: the audit keeps them
        conn.execute(sa.text("INSERT INTO sign_in_failures (name) VALUES (:n)"), {"n": tried})
        count = _recent_failures(conn, tried)
        record(
            conn,
            actor="anonymous",
            action="auth.sign_in_failed",
            target=tried,
            after={"recent_failures": count},
        )
        if count == limit:
            record(
                conn,
                actor="anonymous",
                action="auth.locked",
                target=tried,
                after={"failures": count, "window_minutes": get_settings().sign_in_window_minutes},
            )


def authenticate(engine: Engine, name: str, password: str) -> Actor | None:
    """The actor when ``name`` and ``password`` match an enabled user whose name is not locked; None otherwise.

    Never says which failed: an unknown name, a wrong password, a disabled user and a locked name get the same
    None after the same work (one Argon2 hash or check, one failure kept and recorded).
    """
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT password_hash, roles, counties, disabled FROM users WHERE name = :n"), {"n": name}
        ).first()
        locked = _recent_failures(conn, name[:64]) >= get_settings().sign_in_max_failures
    if row is None:
        _hasher.hash(password)  # the same work as a real check, so timing does not reveal names
        _failed(engine, name)
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _failed(engine, name)
        return None
    if row.disabled or locked:
        _failed(engine, name)
        return None
    with transaction(engine) as conn:
        conn.execute(sa.text("DELETE FROM sign_in_failures WHERE name = :n"), {"n": name})
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                sa.text("UPDATE users SET password_hash = :h WHERE name = :n"),
                {"h": _hasher.hash(password), "n": name},
            )
    return Actor(name=name, roles=frozenset(row.roles), counties=frozenset(row.counties))


def unlock_user(engine: Engine, name: str, *, by: str | Actor) -> int:
    """Forget the failed sign-ins of ``name`` (an admin's act, recorded); returns how many were forgotten."""
    with transaction(engine) as conn:
        authorize(conn, by, "admin")
        gone = conn.execute(sa.text("DELETE FROM sign_in_failures WHERE name = :n"), {"n": name}).rowcount
        record(conn, actor=name_of(by), action="user.unlock", target=name, before={"failures": gone})
    return int(gone)


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
    """The session matching ``match`` if live, its last use moved to now (one statement); a built-in user's
    roles and counties are read again, and a disabled (or deleted) user has no session.
    """  # noqa: D205 issue 14: left by tools/house_move.py lint, fix and drop
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
