"""Signing in to the app, roles in the pages, the session's end, and the admins' audit page (AppTest, real store)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from geo.auth import add_user
from geo.settings import get_settings
from tests.app.test_pages import APP, TIMEOUT, fill_small_city, texts

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setenv("BLOCKLINE_TILES", "1")
    get_settings.cache_clear()  # the settings read BLOCKLINE_TILES


@pytest.fixture
def staffed(engine: Engine) -> Engine:
    fill_small_city(engine)
    add_user(engine, "admin", PASSWORD, roles=["admin"], by="installer")
    add_user(engine, "reader", PASSWORD, roles=["viewer"], by="admin")
    add_user(engine, "lc", PASSWORD, roles=["approver", "data_officer"], counties=["330302"], by="admin")
    return engine


def sign_in(name: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert "登录" in [e.value for e in at.title]
    at.text_input(key="auth_name").set_value(name)
    at.text_input(key="auth_password").set_value(password)
    at.button[0].click().run()
    return at


def test_setup_mode_needs_no_sign_in_and_says_so(engine: Engine) -> None:
    fill_small_city(engine)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "登录" not in [e.value for e in at.title]
    assert any("blockline user add" in c.value for c in at.sidebar.caption)


def test_a_wrong_password_stays_out_and_nothing_of_the_city_shows(staffed: Engine) -> None:
    at = sign_in("reader", "not the password")
    assert not at.exception
    assert "用户名或密码不对，或该用户已停用。" in [e.value for e in at.error]
    assert not any("45.00" in x for x in texts(at))  # no figure of the city before signing in


def test_a_viewer_reads_but_cannot_record_or_load(staffed: Engine) -> None:
    at = sign_in("reader")
    assert not at.exception
    assert any("reader" in c.value for c in at.sidebar.caption)
    at.switch_page("blockline/app_pages/balance.py").run()
    assert not at.exception
    assert any("规划编制" in i.value for i in at.info)
    at.switch_page("blockline/app_pages/data.py").run()
    assert not at.exception
    assert any("数据管理" in i.value for i in at.info)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(
            "blockline/app_pages/audit.py"
        )  # not registered at all for a viewer: no address reaches it


def test_an_admin_sees_the_audit_trail(staffed: Engine) -> None:
    at = sign_in("admin")
    at.switch_page("blockline/app_pages/audit.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert {"installer", "admin"} <= set(frame["操作人"])
    assert set(frame["操作"]) >= {"新建用户"}
    users = at.dataframe[1].value
    assert set(users["用户名"]) == {"admin", "reader", "lc"} and "password_hash" not in users.columns


@pytest.mark.parametrize(("idle_s", "ended"), [(5 * 60 - 2, False), (5 * 60 + 2, True)])
def test_the_session_ends_after_inactivity(
    staffed: Engine, monkeypatch: pytest.MonkeyPatch, idle_s: int, ended: bool
) -> None:

    monkeypatch.setenv("BLOCKLINE_SESSION_MINUTES", "5")
    get_settings.cache_clear()
    try:
        at = sign_in("lc")
        assert not at.exception and "登录" not in [e.value for e in at.title]
        with staffed.begin() as conn:  # the session last used idle_s ago, as the store keeps it
            conn.execute(
                sa.text("UPDATE sessions SET last_seen = now() - make_interval(secs => :s)"), {"s": idle_s}
            )
        at.run()
    finally:
        get_settings.cache_clear()
    if not ended:
        assert "登录" not in [e.value for e in at.title]
        return
    assert "登录" in [e.value for e in at.title]
    assert any("自动退出" in i.value for i in at.info)


def test_a_county_limited_approver_is_refused_by_the_store_in_another_county(staffed: Engine) -> None:
    """The page enables recording for an approver; the store still refuses a county outside their list."""
    from shapely.geometry import box

    from blockline.services.ledger_record import record_adjustment
    from geo.auth import NotPermitted, actor_for
    from tests.files import WENZHOU_X0 as X
    from tests.files import WENZHOU_Y0 as Y
    from zoning.policy import get_profile

    with staffed.connect() as conn:
        lc = actor_for(conn, "lc")
    with pytest.raises(NotPermitted, match="330304"):
        record_adjustment(
            staffed,
            county="330304",
            addition=box(X + 2100, Y + 1500, X + 2200, Y + 1600),
            approval_doc="瓯政〔2026〕7号",
            user=lc,
            profile=get_profile("wenzhou-2020"),
        )
    with staffed.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM adjustments")).scalar_one() == 0


def test_roles_and_counties_from_an_identity_servers_claims() -> None:
    """An ID token's claims may hold a list or a comma-separated string; unknown roles are ignored."""
    from blockline.ui.auth import _claim_list

    assert _claim_list(["approver", "planner"]) == ["approver", "planner"]
    assert _claim_list("approver, planner,") == ["approver", "planner"]
    assert _claim_list(None) == []
    assert _claim_list(("330302",)) == ["330302"]
