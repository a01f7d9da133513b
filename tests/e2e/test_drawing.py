"""Drawing on the maps with the mouse, through the Leaflet.draw toolbar, and reading what the page makes of it.

Where to draw comes from the database (a spot deep inside a level-1 block line, a spot of the county far from
any); the map is dragged to bring the spot to its middle and zoomed in with the mouse wheel until the spot is a
few dozen pixels wide. What the drawing should measure is worked out from the pixels drawn: the ground points
the map shows there, projected to the storage CRS — not from anything the page computed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.app_driver import (
    assert_no_exception,
    choose,
    draw_polygon,
    draw_rectangle,
    drawn_mu,
    map_frame,
    map_point,
    map_zoom,
    metric_mu,
    open_page,
    pan_to_middle,
    screenshot,
    settle,
    wait_for_map,
    zoom_in_at,
)

MIN_RADIUS_PX = 36  # zoom in until the spot is this wide (in pixels, from its centre)
MAX_SIZE_PX = 60  # and draw no wider than this from the centre
MIN_ZOOM = 14  # and at least this close (about 8 m a pixel): drawings of a few hundred 亩, as planners draw
MAX_ZOOM = 18


def _mu_close(shown: float, expected: float) -> bool:
    # The page writes two decimals; the map's pixel grid and the projection agree to far better than 0.1 %.
    return shown == pytest.approx(expected, rel=1e-3, abs=0.011)


@dataclass(frozen=True)
class Spot:
    """A circle on the ground, all of it where we want to draw: centre and a point of its rim, lon/lat."""

    centre: tuple[float, float]
    rim: tuple[float, float]


def _spot(region: object, srid: int) -> Spot:
    line = shapely.maximum_inscribed_circle(region, tolerance=5.0)  # centre → nearest boundary point
    ends = gpd.GeoSeries(shapely.points(shapely.get_coordinates(line)), crs=srid).to_crs(4326)
    return Spot((ends.iloc[0].x, ends.iloc[0].y), (ends.iloc[1].x, ends.iloc[1].y))


@dataclass(frozen=True)
class Site:
    """Where to draw in the demo city: the county whose level-1 land holds the widest circle, a spot inside
    that level-1 land, and a spot of the county's land at least 200 m from every block line."""

    county: str
    name: str
    in_level1: Spot
    off_lines: Spot
    srid: int


def _current(conn: sa.Connection, sql: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(sa.text(sql), conn, geom_col="geom")


@pytest.fixture(scope="module")
def site(e2e_engine: sa.Engine) -> Site:
    with e2e_engine.connect() as conn:
        srid = int(
            conn.execute(sa.text("SELECT value FROM store_meta WHERE key = 'storage_srid'")).scalar_one()
        )
        level1 = _current(
            conn, "SELECT county_code, geom FROM block_lines WHERE level = 1 AND valid_to IS NULL"
        )
        lines = _current(conn, "SELECT geom FROM block_lines WHERE valid_to IS NULL")
        counties = _current(conn, "SELECT code, name, geom FROM admin_areas WHERE level = 'county'")
    parts = level1.explode(index_parts=False)
    radius = shapely.length(shapely.maximum_inscribed_circle(parts.geometry.values, tolerance=5.0))
    best = parts.iloc[int(radius.argmax())]
    county = counties[counties["code"] == best["county_code"]].iloc[0]
    free = shapely.difference(county["geom"], shapely.union_all(lines.geometry.values).buffer(200.0))
    return Site(str(county["code"]), str(county["name"]), _spot(best["geom"], srid), _spot(free, srid), srid)


def _zoom_to(page: Page, spot: Spot) -> tuple[int, int, float]:
    """Bring ``spot`` to the middle of the map and zoom in on it until it is MIN_RADIUS_PX wide (and the map at
    MIN_ZOOM at least): its centre on the page and its radius in pixels."""
    wait_for_map(page, draw=True)
    pan_to_middle(page, *map_point(page, *spot.centre))
    while True:
        x, y = map_point(page, *spot.centre)
        rx, ry = map_point(page, *spot.rim, on_map=False)
        radius = math.hypot(rx - x, ry - y)
        zoom = map_zoom(page)
        if (radius >= MIN_RADIUS_PX and zoom >= MIN_ZOOM) or zoom >= MAX_ZOOM:
            assert radius >= 12, f"the spot is only {radius:.0f} px wide at zoom {zoom}"
            return x, y, radius
        zoom_in_at(page, x, y)


def _wait_for_metric(page: Page, label: str, expected: float, *, timeout_s: float = 30) -> float:
    """Wait until the metric ``label`` shows ``expected`` 亩 (the page reruns after a drawing); its value."""
    shown = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        settle(page)
        assert_no_exception(page)
        if page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True).count():
            shown = metric_mu(page, label)
            if _mu_close(shown, expected):
                return shown
        page.wait_for_timeout(300)
    raise AssertionError(f"{label} shows {shown} 亩, expected {expected:.2f} 亩")


def _pick_role(page: Page, role: str) -> None:
    page.locator('[data-testid="stRadio"]').get_by_text(role, exact=True).click()
    settle(page)


def _rectangle(x: int, y: int, r: float) -> list[tuple[int, int]]:
    """A rectangle centred on (x, y) whose corners stay inside the circle of radius ``r`` (0.75 r away)."""
    hw, hh = int(min(r, MAX_SIZE_PX) * 0.6), int(min(r, MAX_SIZE_PX) * 0.45)
    return [(x - hw, y - hh), (x + hw, y - hh), (x + hw, y + hh), (x - hw, y + hh)]


def _pentagon(x: int, y: int, r: float) -> list[tuple[int, int]]:
    """A pentagon centred on (x, y), its corners 0.7 r away."""
    size = 0.7 * min(r, MAX_SIZE_PX)
    return [
        (round(x + size * math.sin(a)), round(y - size * math.cos(a)))
        for a in (2 * math.pi * k / 5 for k in range(5))
    ]


def draw_adjustment(page: Page, site: Site) -> tuple[float, float]:
    """On 占补平衡, the site's county chosen: draw a removal and an addition with the mouse, as a planner does.

    调出: a rectangle dragged inside a level-1 block line, all of it occupied. 补入: a pentagon clicked corner by
    corner on the county's land away from every block line. Returns the 占用一级线 and 补划一级线 亩 the page
    shows once each equals the area of the drawn pixels.
    """
    _pick_role(page, "调出范围")
    corners = _rectangle(*_zoom_to(page, site.in_level1))
    removal_mu = drawn_mu(page, corners, epsg=site.srid)
    draw_rectangle(page, corners[0], corners[2])
    occupied = _wait_for_metric(page, "占用一级线", removal_mu)

    _pick_role(page, "补入范围")
    wait_for_map(page, draw=True)
    _zoom_out_until_seen(page, site.off_lines)  # the map stays at the removal: find the addition's place
    points = _pentagon(*_zoom_to(page, site.off_lines))
    addition_mu = drawn_mu(page, points, epsg=site.srid)
    draw_polygon(page, points)
    replaced = _wait_for_metric(page, "补划一级线", addition_mu)
    return occupied, replaced


def test_balance_draw_removal_and_addition(page: Page, shots: Path, site: Site) -> None:
    open_page(page, "balance")
    choose(page, "县（市、区）", f"{site.county} {site.name}")

    occupied, replaced = draw_adjustment(page, site)
    assert occupied > 0
    assert replaced > 0

    # Both kept, and the balance is the standing balance less what is occupied plus what is replaced.
    expect(page.get_by_text("调出 1 块，补入 1 块")).to_be_visible()
    assert metric_mu(page, "占用一级线") == occupied
    standing, after = metric_mu(page, "调整前余额"), metric_mu(page, "调整后余额")
    assert after == pytest.approx(standing - occupied + replaced, abs=0.011)
    expect(page.get_by_role("heading", name=f"{site.county} {site.name} 占补核算")).to_be_visible()
    screenshot(page, shots / "balance-drawn.png")


def test_zones_draw_zone(page: Page, shots: Path, site: Site) -> None:
    open_page(page, "zones")
    corners = _rectangle(*_zoom_to(page, site.in_level1))  # industrial land: low-efficiency parcels are there
    zone_mu = drawn_mu(page, corners, epsg=site.srid)
    draw_rectangle(page, corners[0], corners[2])
    area = _wait_for_metric(page, "片区面积", zone_mu)
    assert area > 0
    expect(page.get_by_text("片区评估", exact=True)).to_be_visible()
    screenshot(page, shots / "zones-drawn.png")


def _zoom_out_until_seen(page: Page, spot: Spot) -> None:
    """Press the map's − button until ``spot`` is on the map (as a person finds a place out of sight)."""
    frame = map_frame(page)
    box = frame.locator(".leaflet-container").bounding_box()
    assert box is not None
    for _ in range(12):
        x, y = map_point(page, *spot.centre, on_map=False)
        if (
            box["x"] + 20 <= x <= box["x"] + box["width"] - 20
            and box["y"] + 20 <= y <= box["y"] + box["height"] - 20
        ):
            return
        zoom = map_zoom(page)
        frame.locator(".leaflet-control-zoom-out").click()
        frame.locator(".leaflet-container").evaluate(
            "async (el, z) => { for (let i = 0; i < 100 && window.map_div.getZoom() >= z; i++)"
            " await new Promise(r => setTimeout(r, 50)); }",
            zoom,
        )
        page.wait_for_timeout(400)
    raise AssertionError("the spot never came into sight")


def _zoom_in_to(page: Page, spot: Spot, zoom: int) -> tuple[int, int]:
    """Wheel in on ``spot`` (kept in the middle) until the map is at ``zoom``; where the spot is on the page."""
    x, y = pan_to_middle(page, *map_point(page, *spot.centre))
    while map_zoom(page) < zoom:
        zoom_in_at(page, x, y)
        x, y = pan_to_middle(page, *map_point(page, *spot.centre))
    return x, y


def _wait_zoom_settled(page: Page) -> int:
    wait_for_map(page, draw=True)
    map_frame(page).locator(".leaflet-container").evaluate(
        "async () => { await new Promise(r => setTimeout(r, 600)); }"
    )
    return map_zoom(page)


def test_balance_keeps_the_view_and_records_at_zoom_17(
    page: Page, shots: Path, site: Site, e2e_engine: sa.Engine
) -> None:
    """Issue 18 item 3, as a planner works: zoom to 17 with the mouse, draw a removal there, see it still at
    street scale after the page reruns, find the addition's place with the − button and the wheel, draw it
    at 17, record the adjustment with a document number, and find it in the ledger and in 审计."""
    open_page(page, "balance")
    choose(page, "县（市、区）", f"{site.county} {site.name}")
    _pick_role(page, "调出范围")
    wait_for_map(page, draw=True)
    x, y = _zoom_in_to(page, site.in_level1, 17)
    corners = _rectangle(x, y, 40)
    removal_mu = drawn_mu(page, corners, epsg=site.srid)
    draw_rectangle(page, corners[0], corners[2])
    _wait_for_metric(page, "占用一级线", removal_mu)
    assert _wait_zoom_settled(page) >= 16, "after the drawing the map went back to the whole county"
    map_point(page, *site.in_level1.centre)  # the removal is still in sight

    _pick_role(page, "补入范围")
    wait_for_map(page, draw=True)
    _zoom_out_until_seen(page, site.off_lines)
    x, y = _zoom_in_to(page, site.off_lines, 17)
    points = _pentagon(x, y, 40)
    addition_mu = drawn_mu(page, points, epsg=site.srid)
    draw_polygon(page, points)
    _wait_for_metric(page, "补划一级线", addition_mu)
    assert _wait_zoom_settled(page) >= 14, "after the drawing the map went back to the whole county"

    doc = "温政函〔2026〕18号"
    page.get_by_text("记录批准的调整", exact=True).click()
    page.get_by_label("批复文号（必填）").fill(doc)
    page.get_by_label("批复文号（必填）").press("Enter")
    settle(page)
    page.get_by_role("button", name="记录", exact=True).click()
    settle(page)
    expect(page.get_by_text("已记录调整")).to_be_visible(timeout=30_000)
    expect(
        page.locator("[role=gridcell]", has_text=doc).first
    ).to_be_attached()  # a cell of the ledger on this page
    with e2e_engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM adjustments WHERE approval_doc = :d"), {"d": doc}
        ).scalar_one()
    assert stored == 1
    open_page(page, "audit")
    expect(page.locator("[role=gridcell]", has_text=doc).first).to_be_attached(
        timeout=30_000
    )  # a cell of the trail
    screenshot(page, shots / "balance-recorded-audit.png")
