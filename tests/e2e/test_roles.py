"""Signing in, in the browser: once the store has users, the app asks who you are, and a viewer may read but
not draw or record (the store refuses too: tests/zoning/test_roles_and_audit.py). The users are removed at
the end, so the other browser tests see the demo in setup mode again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from geo.auth import add_user
from tests.e2e.app_driver import assert_no_exception, open_page, screenshot, settle
from tests.e2e.conftest import back_to_setup_mode

PASSWORD = "correct horse battery"


@pytest.fixture
def users(e2e_engine: sa.Engine) -> Iterator[None]:
    add_user(e2e_engine, "admin", PASSWORD, roles=["admin"], by="e2e")
    add_user(e2e_engine, "reader", PASSWORD, roles=["viewer"], by="admin")
    try:
        yield
    finally:
        back_to_setup_mode(e2e_engine)  # for the other tests


def sign_in(page: Page, name: str, password: str) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    settle(page)
    assert_no_exception(page)


def test_a_viewer_signs_in_and_may_read_but_not_draw(users: None, page: Page, shots: Path) -> None:
    open_page(page, "balance")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_text("宗地（宗）")).to_have_count(0)  # nothing of the city before signing in
    sign_in(page, "reader", "not the password")
    expect(page.get_by_text("用户名或密码不对，或该用户已停用。")).to_be_visible()
    sign_in(page, "reader", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("概览")  # signed in, on the first page
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name="占补平衡").click()  # within the session (a reload signs out)
    settle(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("占补平衡")
    expect(page.get_by_text("你的角色不能进行此操作（需要：规划编制）。")).to_be_visible()
    expect(nav.get_by_role("link", name="审计")).to_have_count(0)  # the audit page is for admins
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("已登录：reader（viewer）")).to_be_visible()
    screenshot(page, shots / "signed-in-viewer.png")
