"""一张图 after a search (issue 18 items 1-2), as a planner does it: type a parcel number, press Enter, then
click a neighbouring parcel of the tiles and read its popup. No view is set by script: the map goes where the
search takes it. The neighbour and the point to click are chosen by PostGIS."""

from __future__ import annotations

import json
import subprocess

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.app_driver import map_frame, map_point, open_page, settle, wait_for_map
from tests.e2e.conftest import BLOCKLINE

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

#: a parcel with a neighbour within 60 m (edge to edge), the neighbour's point on surface
_PAIR = """
SELECT a.parcel_no, b.parcel_no, b.holder, ST_X(ST_Transform(ST_PointOnSurface(b.geom), 4326)),
       ST_Y(ST_Transform(ST_PointOnSurface(b.geom), 4326))
FROM parcels a JOIN parcels b ON b.id <> a.id AND ST_DWithin(a.geom, b.geom, 60)
WHERE a.valid_to IS NULL AND b.valid_to IS NULL AND b.holder IS NOT NULL
  AND NOT ST_Intersects(ST_Buffer(ST_PointOnSurface(b.geom), 3), a.geom)
ORDER BY a.area_mu DESC, ST_Distance(a.geom, b.geom) LIMIT 1"""


def test_after_a_search_another_parcel_opens_its_popup(page: Page, e2e_engine: sa.Engine) -> None:
    with e2e_engine.connect() as conn:
        found_no, other_no, other_holder, lon, lat = conn.execute(sa.text(_PAIR)).one()
    open_page(page, "map")
    wait_for_map(page)
    search = page.get_by_label("查找宗地（宗地编号或权利人）")
    search.fill(found_no)
    search.press("Enter")
    settle(page)
    container = wait_for_map(page)
    container.evaluate(_TILES_DRAWN)
    frame = map_frame(page)
    page.mouse.click(*map_point(page, lon, lat))
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(other_no)
    expect(popup).to_contain_text(other_holder)


def test_the_found_parcels_popup_tells_what_the_store_knows(
    page: Page, e2e_engine: sa.Engine, e2e_url: str
) -> None:
    """The found parcel's popup is its tile popup, and says what ``blockline parcels --format json`` says."""
    with e2e_engine.connect() as conn:
        found_no, _, _, _, _ = conn.execute(sa.text(_PAIR)).one()
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM parcels "
                "WHERE valid_to IS NULL AND parcel_no = :n) s"
            ),
            {"n": found_no},
        ).one()
    open_page(page, "map")
    wait_for_map(page)
    search = page.get_by_label("查找宗地（宗地编号或权利人）")
    search.fill(found_no)
    search.press("Enter")
    settle(page)
    container = wait_for_map(page)
    container.evaluate(_TILES_DRAWN)
    page.mouse.click(*map_point(page, lon, lat))
    popup = map_frame(page).locator(".leaflet-popup-content")
    expect(popup).to_contain_text(found_no)
    shown = dict(line.split("\t", 1) for line in popup.inner_text().splitlines() if "\t" in line)
    done = subprocess.run(
        [str(BLOCKLINE), "--db", e2e_url, "parcels", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    known = next(p for p in json.loads(done.stdout)["parcels"] if p["parcel_no"] == found_no)
    with e2e_engine.connect() as conn:
        county = conn.execute(
            sa.text("SELECT name FROM admin_areas WHERE code = :c"), {"c": known["county_code"]}
        ).scalar_one()
    assert shown["宗地编号"] == found_no and shown["权利人"] == known["holder"]
    assert shown["用途"].startswith(known["land_use"])
    assert shown["行政区"] == f"{known['county_code']} {county}"  # the county by its name, not a bare code
    assert shown["面积"].startswith(f"{known['area_mu']:,.2f} 亩")
    assert shown["低效用地"] == ("是" if known["is_low_efficiency"] else "否")
    assert not any(
        v.strip() in ("", "—", "None", "nan") for v in shown.values()
    )  # no blank standing for a value


def test_the_attribution_carries_no_flag(page: Page) -> None:
    """Issue 18 item 9: the map's attribution is text only (Leaflet's prefix brings an inline flag icon)."""
    open_page(page, "map")
    wait_for_map(page)
    attribution = map_frame(page).locator(".leaflet-control-attribution")
    expect(attribution).to_have_count(1)
    assert attribution.locator("svg, img").count() == 0
    assert "Leaflet" not in attribution.inner_text()
