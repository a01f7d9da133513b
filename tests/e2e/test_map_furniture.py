"""Maps not hidden by their own furniture (issue 18 item 5): at 1440×900 and 1280×720 no legend or control
covers more than a fifth of any map on any page, measured from the elements' boxes in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.app_driver import map_frame, open_page, wait_for_map

PAGES = ("map", "balance", "zones", "idle")
_IFRAME = 'iframe[data-testid="stCustomComponentV1"]'


def _covered_shares(page: Page, index: int) -> dict[str, float]:
    """Each control's box as a share of its map's box (the part inside the map)."""
    return (
        map_frame(page, index)
        .locator(".leaflet-container")
        .evaluate("""(map) => {
        const m = map.getBoundingClientRect(), out = {};
        map.querySelectorAll('.leaflet-control-container .leaflet-control').forEach((el, i) => {
            const b = el.getBoundingClientRect();
            const w = Math.max(0, Math.min(b.right, m.right) - Math.max(b.left, m.left));
            const h = Math.max(0, Math.min(b.bottom, m.bottom) - Math.max(b.top, m.top));
            out[i + ' ' + el.className] = (w * h) / (m.width * m.height);
        });
        return out;
    }""")
    )


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)], ids=["1440x900", "1280x720"])
@pytest.mark.parametrize("path", PAGES)
def test_no_control_covers_more_than_a_fifth_of_a_map(page: Page, path: str, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, path)
    page.locator(_IFRAME).first.wait_for()  # counted once the first map is there
    n = page.locator(_IFRAME).count()
    for index in range(n):
        wait_for_map(page, index=index)
        shares = _covered_shares(page, index)
        worst = {k: round(v, 3) for k, v in shares.items() if v > 0.2}
        assert not worst, f"{path} map {index}: {worst}"


@pytest.mark.parametrize("path", ["map", "zones"])
def test_the_layer_control_opens_under_the_mouse_and_folds_away(page: Page, path: str) -> None:
    """Item 5: the layer control is an icon until a person points at it; it lists the layers then, and folds
    away when the mouse leaves, giving the map back."""
    page.set_viewport_size({"width": 1440, "height": 900})
    open_page(page, path)
    wait_for_map(page)
    frame = map_frame(page)
    control = frame.locator(".leaflet-control-layers")
    layers = control.get_by_text("宗地", exact=True)
    folded = control.bounding_box()
    assert folded is not None and folded["width"] * folded["height"] <= 50 * 50, folded
    assert not layers.is_visible()
    frame.locator(".leaflet-control-layers").hover()
    layers.wait_for(state="visible")
    opened = control.bounding_box()
    assert opened is not None and opened["width"] * opened["height"] > folded["width"] * folded["height"]
    box = frame.locator(".leaflet-container").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)  # away, over the map
    layers.wait_for(state="hidden")
