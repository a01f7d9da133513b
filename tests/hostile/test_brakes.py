"""Brakes on guessing passwords (issue 12.4): 5 failed sign-ins of one name within 15 minutes lock it, the
right password included, until the failures age out or an admin unlocks it; every failure and lockout is in
the audit trail; an unknown name gets the same answer, after the same work, as a wrong password.

The boundaries: 4 failures (5 − 1) leave the name open, 5 lock it; a failure 15 minutes old (within 2 s,
either side) still counts or no longer does ("15 分钟以内" includes its bound).
"""

from __future__ import annotations

import statistics
import time

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from geo.auth import add_user, authenticate, is_locked
from tests.app.test_pages import APP, TIMEOUT, fill_small_city
from tests.test_cli_trust import run

PASSWORD = "correct horse battery"
FAILED = "用户名或密码不对，或该用户已停用。"


@pytest.fixture
def staffed(engine: sa.Engine) -> sa.Engine:
    add_user(engine, "admin", PASSWORD, roles=["admin"], by="installer")
    add_user(engine, "lc", PASSWORD, roles=["planner"], counties=["330302"], by="admin")
    return engine


def audit_since(engine: sa.Engine, start: int) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT actor, action, target FROM audit WHERE id > :s ORDER BY id"), {"s": start}
            )
        ]


def last_audit_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit")).scalar_one()


@pytest.mark.parametrize(("failures", "locked"), [(4, False), (5, True), (6, True)])
def test_five_failures_lock_the_name_even_against_the_right_password(staffed, failures, locked):
    start = last_audit_id(staffed)
    for _ in range(failures):
        assert authenticate(staffed, "lc", "wrong password!") is None
    signed_in = authenticate(staffed, "lc", PASSWORD)
    assert (signed_in is None) == locked and is_locked(staffed, "lc") == locked
    trail = audit_since(staffed, start)
    fails = [t for t in trail if t[1] == "auth.sign_in_failed"]
    assert len(fails) == failures + locked  # the refused right password counts as a failure too
    assert all(t == ("anonymous", "auth.sign_in_failed", "lc") for t in fails)
    assert [t for t in trail if t[1] == "auth.locked"] == (
        [("anonymous", "auth.locked", "lc")] if locked else []
    )
    assert not is_locked(staffed, "admin")  # one name's lock is that name's only


@pytest.mark.parametrize(("age_s", "locked"), [(15 * 60 - 2, True), (15 * 60 + 2, False)])
def test_a_failure_counts_for_fifteen_minutes(staffed, age_s, locked):
    for _ in range(5):
        authenticate(staffed, "lc", "wrong password!")
    with staffed.begin() as conn:  # the first of the five made age_s ago
        conn.execute(
            sa.text("""UPDATE sign_in_failures SET at = now() - make_interval(secs => :s)
                                WHERE id = (SELECT min(id) FROM sign_in_failures WHERE name = 'lc')"""),
            {"s": age_s},
        )
    assert is_locked(staffed, "lc") == locked
    assert (authenticate(staffed, "lc", PASSWORD) is None) == locked


def test_an_admin_unlocks_a_name_with_the_command(staffed):
    for _ in range(5):
        authenticate(staffed, "lc", "wrong password!")
    assert authenticate(staffed, "lc", PASSWORD) is None
    code, _, err = run("user", "unlock", "lc", user="lc")
    assert code == 4 and "admin" in err  # not one's own unlock
    assert is_locked(staffed, "lc")
    start = last_audit_id(staffed)
    code, _, err = run("user", "unlock", "lc", user="admin")
    assert code == 0 and "6" in err  # five failures and the refused right password
    assert audit_since(staffed, start) == [("admin", "user.unlock", "lc")]
    assert authenticate(staffed, "lc", PASSWORD) is not None


def test_an_unknown_name_is_braked_and_recorded_like_a_known_one(staffed):
    start = last_audit_id(staffed)
    for _ in range(5):
        assert authenticate(staffed, "nobody", "wrong password!") is None
    assert is_locked(staffed, "nobody")
    trail = audit_since(staffed, start)
    assert trail.count(("anonymous", "auth.sign_in_failed", "nobody")) == 5
    assert trail.count(("anonymous", "auth.locked", "nobody")) == 1


def test_an_unknown_name_takes_as_long_as_a_wrong_password(staffed):
    """Medians of 12 interleaved tries each (one Argon2 hash or check, one failure written, either way)."""
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(12):
        for kind, name in (("known", "lc"), ("unknown", f"ghost{i}")):
            if kind == "known" and i % 4 == 0:
                run(
                    "user", "unlock", "lc", user="admin"
                )  # stay under the lock: a locked name is a third case
            t0 = time.perf_counter()
            assert authenticate(staffed, name, "wrong password!") is None
            times[kind].append(time.perf_counter() - t0)
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert 0.75 < unknown / known < 1.33, (known, unknown)


def test_the_page_gives_one_answer_and_locks_after_five_wrong_passwords(staffed):
    """The issue's attack: wrong passwords in a row in one page, then the right one; and an unknown name."""
    fill_small_city(staffed)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    answers = []
    for name, password in [("lc", "guess number 1")] * 5 + [("lc", PASSWORD), ("nobody", "guess number 1")]:
        at.text_input(key="auth_name").set_value(name)
        at.text_input(key="auth_password").set_value(password)
        at.button[0].click().run()
        assert not at.exception
        answers.append([e.value for e in at.error])
    assert answers == [[FAILED]] * 7  # the right password after five wrong ones: refused, in the same words
    assert "登录" in [e.value for e in at.title]
