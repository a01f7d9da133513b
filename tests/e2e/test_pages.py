"""Every page of the app in headless Chromium, on the demo city (2,000 parcels): it opens at its own address,
shows no exception, shows its title and key figures in Chinese, and is photographed (full page).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from geo.area import M2_PER_MU
from tests.e2e.app_driver import metric_mu, metric_text, open_page, screenshot, wait_for_map
from tests.e2e.conftest import DEMO_PARCELS


def _count(text: str) -> int:
    assert re.fullmatch(r"[\d,]+", text), f"{text!r} is not a count"
    return int(text.replace(",", ""))


def _heading(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


NAV = ("概览", "一张图", "占补平衡", "连片开发", "低效与闲置用地", "全生命周期", "数据")


def test_overview(page: Page, shots: Path, e2e_engine: sa.Engine) -> None:
    open_page(page, "")  # the default page lives at the app's root
    _heading(page, "概览")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title in NAV:
        expect(nav.get_by_role("link", name=title)).to_be_visible()
    with e2e_engine.connect() as conn:
        n1, mu1 = conn.execute(sa.text("SELECT count(*), sum(ST_Area(geom)) FROM block_lines "
                                       "WHERE level = 1 AND valid_to IS NULL")).one()
    assert _count(metric_text(page, "宗地（宗）")) == DEMO_PARCELS
    assert _count(metric_text(page, "县（市、区）")) > 0
    assert metric_mu(page, f"一级线（{n1:,} 块）") == pytest.approx(float(mu1) / M2_PER_MU, abs=0.006)
    expect(page.get_by_role("heading", name="分县统计")).to_be_visible()
    screenshot(page, shots / "overview.png")


def test_map(page: Page, shots: Path) -> None:
    open_page(page, "map")
    _heading(page, "一张图")
    wait_for_map(page)
    expect(page.get_by_text(f"图上：宗地 {DEMO_PARCELS:,} 宗")).to_be_visible()
    screenshot(page, shots / "map.png")


def test_balance(page: Page, shots: Path) -> None:
    open_page(page, "balance")
    _heading(page, "占补平衡")
    wait_for_map(page, draw=True)
    expect(page.get_by_text("新绘制的范围作为")).to_be_visible()
    expect(page.get_by_role("heading", name="占补平衡台账")).to_be_visible()
    metric_mu(page, "全市一级线面积")
    screenshot(page, shots / "balance.png")


def test_zones(page: Page, shots: Path) -> None:
    open_page(page, "zones")
    _heading(page, "连片开发片区")
    wait_for_map(page, draw=True)
    expect(page.get_by_role("heading", name="候选片区")).to_be_visible()
    _count(metric_text(page, "候选片区（个）"))
    screenshot(page, shots / "zones.png")


def test_idle(page: Page, shots: Path) -> None:
    open_page(page, "idle")
    _heading(page, "低效与闲置用地")
    assert _count(metric_text(page, "涉及宗地（宗）")) > 0
    assert metric_mu(page, "涉及面积") > 0
    wait_for_map(page)
    screenshot(page, shots / "idle.png")


def test_lifecycle(page: Page, shots: Path) -> None:
    open_page(page, "lifecycle")
    _heading(page, "全生命周期管理")
    assert _count(metric_text(page, "涉及宗地（宗）")) > 0
    expect(page.get_by_role("heading", name="预警清单")).to_be_visible()
    screenshot(page, shots / "lifecycle.png")


def test_data(page: Page, shots: Path) -> None:
    open_page(page, "data")
    _heading(page, "数据")
    expect(page.get_by_role("heading", name="导入文件")).to_be_visible()
    expect(page.get_by_text(f"当前宗地 {DEMO_PARCELS:,} 宗")).to_be_visible()
    screenshot(page, shots / "data.png")
