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
    return map_frame(page, index).locator(".leaflet-container").evaluate("""(map) => {
        const m = map.getBoundingClientRect(), out = {};
        map.querySelectorAll('.leaflet-control-container .leaflet-control').forEach((el, i) => {
            const b = el.getBoundingClientRect();
            const w = Math.max(0, Math.min(b.right, m.right) - Math.max(b.left, m.left));
            const h = Math.max(0, Math.min(b.bottom, m.bottom) - Math.max(b.top, m.top));
            out[i + ' ' + el.className] = (w * h) / (m.width * m.height);
        });
        return out;
    }""")


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)], ids=["1440x900", "1280x720"])
@pytest.mark.parametrize("path", PAGES)
def test_no_control_covers_more_than_a_fifth_of_a_map(page: Page, path: str, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, path)
    n = page.locator(_IFRAME).count()
    assert n >= 1
    for index in range(n):
        wait_for_map(page, index=index)
        shares = _covered_shares(page, index)
        worst = {k: round(v, 3) for k, v in shares.items() if v > 0.2}
        assert not worst, f"{path} map {index}: {worst}"
