"""What a planner does in the app, in Playwright terms: open a page, wait for it, pick, draw, read a number.

Streamlit marks the app root with ``data-test-script-state`` (``running`` / ``notRunning``) and every element
with ``data-stale``; a page is *settled* when the script has stopped and nothing is stale for a moment. The maps
are streamlit-folium components: an iframe whose Leaflet map is ``window.map_div``. Drawing goes through the
Leaflet.draw toolbar with the mouse, exactly as by hand; the map is only *read* (its zoom, and which ground
point a pixel shows) to know where to draw and what area the drawn pixels cover.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pyproj
import shapely
from playwright.sync_api import FrameLocator, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from shapely.geometry import Polygon

from geo.area import M2_PER_MU

__all__ = [
    "assert_no_exception",
    "choose",
    "draw_polygon",
    "draw_rectangle",
    "drawn_mu",
    "map_frame",
    "map_point",
    "map_zoom",
    "metric_mu",
    "metric_text",
    "open_page",
    "pan_to_middle",
    "screenshot",
    "settle",
    "wait_for_map",
    "zoom_in_at",
]

SETTLE_TIMEOUT_MS = 60_000
_SETTLED_JS = """(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app || app.dataset.testScriptState !== 'notRunning'
    || app.dataset.testConnectionState !== 'CONNECTED'
    || document.querySelector('[data-stale="true"]') !== null;
  const now = performance.now();
  if (busy) { window.__blQuietSince = undefined; return false; }
  if (window.__blQuietSince === undefined) window.__blQuietSince = now;
  return now - window.__blQuietSince >= quietMs;
}"""


def settle(page: Page, *, quiet_ms: int = 700, timeout_ms: int = SETTLE_TIMEOUT_MS) -> None:
    """Wait until the page's script has finished and stayed finished for ``quiet_ms``."""
    page.evaluate("() => { window.__blQuietSince = undefined; }")
    page.wait_for_function(_SETTLED_JS, arg=quiet_ms, timeout=timeout_ms, polling=100)


def assert_no_exception(page: Page) -> None:
    """No Streamlit exception box and no error dialog (such as "Page not found") on the page."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        raise AssertionError("the page shows an exception:\n" + "\n---\n".join(boxes.all_inner_texts()))
    dialogs = page.get_by_role("dialog")
    if dialogs.count():
        raise AssertionError("the page shows a dialog:\n" + "\n".join(dialogs.all_inner_texts()))


def open_page(page: Page, path: str) -> None:
    """Open the app at ``/path`` (relative to the app's address) and wait until the page has settled."""
    page.goto(f"/{path}")
    page.locator('[data-testid="stSidebar"]').wait_for()
    settle(page)
    assert_no_exception(page)


def screenshot(page: Page, path: Path, *, max_height: int = 6000) -> None:
    """A screenshot of the whole page. Streamlit scrolls its main pane, not the document, so the window is made
    as tall as the page for the picture (up to ``max_height``), then put back."""
    size = page.viewport_size
    assert size is not None
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return Math.ceil(main ? main.scrollHeight : document.documentElement.scrollHeight);
    }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    try:
        page.wait_for_timeout(400)  # the layout and the maps follow the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)


def metric_text(page: Page, label: str) -> str:
    """The value of the ``st.metric`` labelled exactly ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    )
    metric.first.wait_for()
    assert metric.count() == 1, f"{metric.count()} metrics labelled {label!r}"
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def metric_mu(page: Page, label: str) -> float:
    """The area in 亩 a metric shows (``1,234.56 亩``)."""
    text = metric_text(page, label)
    found = re.fullmatch(r"(-?[\d,]+(?:\.\d+)?)\s*亩", text)
    assert found, f"metric {label!r} shows {text!r}, not an area in 亩"
    return float(found.group(1).replace(",", ""))


def choose(page: Page, label: str, option: str | re.Pattern[str], *, typed: str | None = None) -> None:
    """Pick ``option`` (its visible text, or a pattern of it) in the selectbox labelled ``label``; with
    ``typed``, type that into the box first, as a person narrows a long list down."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
    )
    box.click()
    if typed is not None:
        page.keyboard.type(typed)
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


# -- the map ------------------------------------------------------------------------------------------------
_IFRAME = 'iframe[data-testid="stCustomComponentV1"]'


def map_frame(page: Page, index: int = 0) -> FrameLocator:
    """The streamlit-folium iframe (the ``index``-th map of the page)."""
    return page.locator(_IFRAME).nth(index).content_frame


def _container(page: Page, index: int) -> Locator:
    return map_frame(page, index).locator(".leaflet-container")


def wait_for_map(page: Page, *, index: int = 0, draw: bool = False) -> Locator:
    """Wait until the map is drawn (and, with ``draw``, its drawing toolbar); returns its container."""
    # Chromium does not render an iframe out of sight, and st_folium sizes its frame only once the map is
    # drawn: bring the frame into view first.
    page.locator(_IFRAME).nth(index).scroll_into_view_if_needed()
    container = _container(page, index)
    container.wait_for(state="attached")
    try:
        container.wait_for(timeout=15_000)
    except PlaywrightTimeoutError:
        errors = container.evaluate("() => window.__blErrors || []")
        raise AssertionError(f"the map never showed; its script errors: {errors}") from None
    # All of the map in sight: a mouse event outside the window reaches nothing.
    page.locator(_IFRAME).nth(index).evaluate("(el) => el.scrollIntoView({block: 'center'})")
    container.evaluate("""async (el) => {
        for (let i = 0; i < 200 && !(window.map_div && window.map_div._loaded); i++)
            await new Promise(r => setTimeout(r, 50));
        if (!(window.map_div && window.map_div._loaded)) throw new Error('the Leaflet map never loaded');
    }""")
    if draw:
        map_frame(page, index).locator(".leaflet-draw-draw-rectangle").wait_for()
    errors = container.evaluate("() => window.__blErrors || []")
    assert not errors, f"the map's script failed: {errors}"
    return container


def map_point(page: Page, lon: float, lat: float, *, index: int = 0, on_map: bool = True) -> tuple[int, int]:
    """Where on the page (whole pixels) the map shows ``lon``, ``lat``; with ``on_map``, it must be on the map."""
    container = _container(page, index)
    box = container.bounding_box()
    assert box is not None, "the map is not on the page"
    x, y = container.evaluate(
        "(el, ll) => { const p = window.map_div.latLngToContainerPoint([ll[1], ll[0]]); return [p.x, p.y]; }",
        [lon, lat],
    )
    assert not on_map or (0 <= x <= box["width"] and 0 <= y <= box["height"]), (
        f"({lon:.5f}, {lat:.5f}) is off the map ({x:.0f}, {y:.0f} in a {box['width']:.0f} × {box['height']:.0f} map)"
    )
    return round(box["x"] + x), round(box["y"] + y)


def map_zoom(page: Page, *, index: int = 0) -> int:
    """The map's zoom level."""
    return int(_container(page, index).evaluate("() => window.map_div.getZoom()"))


def _ground_points(page: Page, points: Sequence[tuple[int, int]], index: int) -> list[tuple[float, float]]:
    """The ground (lon, lat) the map shows at page pixels ``points``: what a mouse event there stands for."""
    container = _container(page, index)
    box = container.bounding_box()
    assert box is not None
    local = [[x - box["x"], y - box["y"]] for x, y in points]
    return [
        tuple(p)
        for p in container.evaluate(
            "(el, pts) => pts.map(p => { const ll = window.map_div.containerPointToLatLng(p); return [ll.lng, ll.lat]; })",  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
            local,
        )
    ]


def drawn_mu(page: Page, points: Sequence[tuple[int, int]], *, epsg: int, index: int = 0) -> float:
    """The area in 亩, on the ground in ``EPSG:epsg`` (the storage CRS), of the polygon with corners at page
    pixels ``points``."""
    lonlat = _ground_points(page, points, index)
    to_storage = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    xs, ys = to_storage.transform([p[0] for p in lonlat], [p[1] for p in lonlat])
    ring = Polygon(list(zip(xs, ys, strict=False)))
    # Leaflet.draw's rectangle and polygon have straight edges in lon/lat; densified, the area is exact.
    return shapely.segmentize(ring, 5.0).area / M2_PER_MU


def _wait_still(container: Locator) -> None:
    """Wait until the map has stopped moving (a pan's inertia, a zoom's animation)."""
    container.evaluate("""async () => {
        const m = window.map_div;
        let last = '';
        for (let i = 0; i < 100; i++) {
            const now = m.getCenter().toString() + m.getZoom();
            if (now === last && !m._animatingZoom) return;
            last = now;
            await new Promise(r => setTimeout(r, 120));
        }
        throw new Error('the map does not stop moving');
    }""")


def pan_to_middle(page: Page, x: int, y: int, *, index: int = 0) -> tuple[int, int]:
    """Drag the map so that what is at (x, y) comes to the middle of the map; returns where it came to rest."""
    container = _container(page, index)
    box = container.bounding_box()
    assert box is not None
    cx, cy = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    if abs(cx - x) < 10 and abs(cy - y) < 10:
        return x, y
    start = container.evaluate(
        "(el, p) => { const ll = window.map_div.containerPointToLatLng(p); return [ll.lng, ll.lat]; }",
        [x - box["x"], y - box["y"]],
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(cx, cy, steps=12)
    page.wait_for_timeout(200)  # a pause before letting go: no inertia
    page.mouse.up()
    _wait_still(container)
    return map_point(page, *start, index=index)


def zoom_in_at(page: Page, x: int, y: int, *, index: int = 0) -> int:
    """Turn the mouse wheel over (x, y): Leaflet zooms in with that point staying put. Returns the new zoom.

    (A double-click would zoom too, but its first click opens the popup of the block line under it.)
    """
    container = _container(page, index)
    before = container.evaluate("() => window.map_div.getZoom()")
    page.mouse.move(x, y)
    page.mouse.wheel(0, -120)
    container.evaluate(
        """async (el, before) => {
        for (let i = 0; i < 100; i++) {
            const m = window.map_div;
            if (m.getZoom() > before && !m._animatingZoom) return;
            await new Promise(r => setTimeout(r, 50));
        }
        throw new Error('the map did not zoom in');
    }""",
        before,
    )
    _wait_still(container)
    return int(container.evaluate("() => window.map_div.getZoom()"))


def _inside_map(page: Page, points: Sequence[tuple[int, int]], index: int, margin: int = 4) -> None:
    """Every point well inside the map and the window (a mouse event outside the window reaches nothing)."""
    box = _container(page, index).bounding_box()
    assert box is not None
    view = page.viewport_size
    assert view is not None
    left, top = max(box["x"], 0), max(box["y"], 0)
    right, bottom = min(box["x"] + box["width"], view["width"]), min(box["y"] + box["height"], view["height"])
    for x, y in points:
        assert left + margin <= x <= right - margin and top + margin <= y <= bottom - margin, (
            f"({x}, {y}) is not well inside the visible map {box}"
        )


def _tool(page: Page, name: str, index: int) -> None:
    map_frame(page, index).locator(f".leaflet-draw-draw-{name}").click()
    map_frame(page, index).locator(".leaflet-draw-tooltip").first.wait_for()


def draw_rectangle(
    page: Page, corner: tuple[int, int], opposite: tuple[int, int], *, index: int = 0
) -> list[tuple[int, int]]:
    """Draw a rectangle with the rectangle tool, dragging from ``corner`` to ``opposite``; returns its corners."""
    (x1, y1), (x2, y2) = corner, opposite
    _inside_map(page, [corner, opposite], index)
    _tool(page, "rectangle", index)
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) // 2, (y1 + y2) // 2, steps=4)
    page.mouse.move(x2, y2, steps=4)
    # The map takes mouse moves at most every few dozen milliseconds, and the rectangle ends where the last
    # move it took was: rest on the corner (and nudge it) before letting go, as a hand does.
    page.wait_for_timeout(150)
    page.mouse.move(x2 + 1, y2 + 1)
    page.wait_for_timeout(100)
    page.mouse.move(x2, y2)
    page.wait_for_timeout(150)
    page.mouse.up()
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def draw_polygon(page: Page, points: Sequence[tuple[int, int]], *, index: int = 0) -> list[tuple[int, int]]:
    """Draw a polygon with the polygon tool: click each corner, then the first again to close it."""
    _inside_map(page, points, index)
    _tool(page, "polygon", index)
    for x, y in points:
        page.mouse.click(x, y)
        page.wait_for_timeout(
            250
        )  # Leaflet.draw takes no new corner for 50 ms; a quick second click is a dblclick
    page.mouse.click(*points[0])
    return list(points)
