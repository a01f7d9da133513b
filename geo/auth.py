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

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from geo.actors import _ROLE_ZH, CONTRACT_READERS, ROLES, Actor, NotPermitted, name_of
from geo.audit import record
from geo.errors import InputError
from geo.sessions import (
    SESSION_COOKIE,
    Session,
    end_session,
    redeem_handoff,
    session_by_id,
    session_by_token,
    start_session,
)
from geo.settings import get_settings
from geo.store import transaction

if TYPE_CHECKING:  # list_users imports it: every command asks who is acting, and pandas is 0.5 s to import
    import pandas as pd

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

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MIN_PASSWORD = 10
_hasher = PasswordHasher()


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
    """Whether no user was ever added (anyone may write; see the module's notes).

    The flag the first user writes, once (migration 0008), so that deleting every user does not reopen setup
    mode.
    """
    return not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM setup_ended)")).scalar_one()


def actor_for(conn: Connection, name: str | Actor) -> Actor:
    """The actor named ``name`` as the store knows them.

    An ``Actor`` from an identity server passes as is; a built-in user's is read again, so a user disabled
    since signing in is refused.
    """
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
    import pandas as pd  # lazy: see the module's imports

    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("""SELECT name, display_name, array_to_string(roles, ',') AS roles,
                                             array_to_string(counties, ',') AS counties, disabled, created_at
                                      FROM users ORDER BY name"""),
            conn,
        )


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
