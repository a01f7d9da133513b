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
from tests.e2e.app_driver import (
    map_frame,
    map_point,
    metric_mu,
    metric_text,
    open_page,
    screenshot,
    wait_for_map,
)
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
        n1, mu1 = conn.execute(
            sa.text(
                "SELECT count(*), sum(ST_Area(geom)) FROM block_lines WHERE level = 1 AND valid_to IS NULL"
            )
        ).one()
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


_TILES_DRAWN = """async () => {
    const grids = [];
    window.map_div.eachLayer((l) => { if (l instanceof L.VectorGrid) grids.push(l); });
    for (let i = 0; i < 300; i++) {
        const tiles = grids.flatMap((g) => Object.values(g._tiles));
        if (grids.length && tiles.length && tiles.every((t) => t.loaded)) return tiles.length;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the tiles were never drawn");
}"""


def test_map_parcel_popup_and_layer_switch(page: Page, e2e_engine: sa.Engine) -> None:
    """A click on a parcel of the tiles opens its facts (the largest parcel, at its point on surface, as
    PostGIS puts it); with 宗地 switched off in the layer control, the same click finds nothing."""
    with e2e_engine.connect() as conn:
        parcel_no, holder, lon, lat = conn.execute(
            sa.text(
                "SELECT parcel_no, holder, ST_X(p), ST_Y(p) FROM (SELECT parcel_no, holder, area_mu, "
                "ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM parcels WHERE valid_to IS NULL) s "
                "ORDER BY area_mu DESC LIMIT 1"
            )
        ).one()
    open_page(page, "map")
    container = wait_for_map(page)
    frame = map_frame(page)
    container.evaluate("(el, ll) => window.map_div.setView(ll, 17, {animate: false})", [lat, lon])
    container.evaluate(_TILES_DRAWN)
    page.mouse.click(*map_point(page, lon, lat))
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(parcel_no)
    expect(popup).to_contain_text(holder)
    errors = container.evaluate("() => window.__blErrors || []")
    assert not errors, f"the map's script failed: {errors}"
    frame.locator(".leaflet-popup-close-button").click()
    expect(popup).to_have_count(0)
    frame.locator(".leaflet-control-layers").hover()  # the layer control opens under the mouse
    frame.locator(".leaflet-control-layers").get_by_text("宗地", exact=True).click()
    container.evaluate(_TILES_DRAWN)
    page.mouse.click(*map_point(page, lon, lat))
    page.wait_for_timeout(500)
    expect(popup).to_have_count(0)


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
