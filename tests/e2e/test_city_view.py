"""一张图 at city scale (issue 18, items 6 and 7), in the browser on the demo store.

The first view fits the deployment's own city (温州市: the demo loads 义乌市 of 金华 too, 130 km north); every
other loaded area is one pick away. Coloured by land use, the squares that stand for parcels at city scale say
which use covers most of their 亩. The map is only read (its bounds, where a point is), never moved by script.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.app_driver import choose, map_frame, map_point, map_zoom, open_page, settle, wait_for_map
from tests.e2e.test_pages import _TILES_DRAWN

_BOUNDS_JS = "() => { const b = window.map_div.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line


def _county_points(engine: sa.Engine) -> dict[str, tuple[float, float]]:
    """A point inside each county (PostGIS), by code."""
    with engine.connect() as conn:
        return {
            c: (x, y)
            for c, x, y in conn.execute(
                sa.text(
                    "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_Transform(ST_PointOnSurface(geom), 4326) AS p "
                    "FROM admin_areas WHERE level = 'county') s"
                )
            )
        }


def _inside(point: tuple[float, float], bounds: list[float]) -> bool:
    return bounds[0] <= point[0] <= bounds[2] and bounds[1] <= point[1] <= bounds[3]


def _type_and_choose(page: Page, label: str, option: str) -> None:
    """Type the start of ``option`` into the picker labelled ``label`` (its list is long) and click it."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
    )
    box.locator("input[role=combobox]").click()
    page.keyboard.type(option[:4])
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def _extent(engine: sa.Engine, where: str) -> list[float]:
    """West, south, east, north (degrees, PostGIS) of the counties ``where`` says."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(ST_Transform(geom, 4326)) "  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
                    f"AS e FROM admin_areas WHERE level = 'county' AND {where}) s"
                )
            ).one()
        )


def test_the_first_view_is_the_home_city_and_the_rest_one_pick_away(
    page: Page, e2e_engine: sa.Engine
) -> None:
    points = _county_points(e2e_engine)
    yiwu = points.pop("330782")
    home = _extent(e2e_engine, "code LIKE '3303%'")
    open_page(page, "map")
    container = wait_for_map(page)
    bounds = container.evaluate(_BOUNDS_JS)
    assert all(_inside(p, bounds) for p in points.values()), bounds  # every Wenzhou county in sight
    # centred on Wenzhou, not on Wenzhou and 义乌 (whose middle is 0.6° further north)
    assert (bounds[1] + bounds[3]) / 2 == pytest.approx((home[1] + home[3]) / 2, abs=0.1), (bounds, home)
    assert (bounds[0] + bounds[2]) / 2 == pytest.approx((home[0] + home[2]) / 2, abs=0.1), (bounds, home)
    _type_and_choose(page, "行政区", "全部已载入地区")
    container = wait_for_map(page)
    bounds = container.evaluate(_BOUNDS_JS)
    assert _inside(yiwu, bounds) and all(_inside(p, bounds) for p in points.values()), bounds
    every = _extent(e2e_engine, "true")
    assert (bounds[1] + bounds[3]) / 2 == pytest.approx((every[1] + every[3]) / 2, abs=0.1), (bounds, every)


def test_coloured_squares_say_which_use_dominates(page: Page, e2e_engine: sa.Engine) -> None:
    with e2e_engine.connect() as conn:  # the parcel with most parcels around it: a square surely stands there
        lon, lat = conn.execute(
            sa.text("""
            SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(a.geom), 4326) AS p,
                   (SELECT count(*) FROM parcels b WHERE b.valid_to IS NULL AND ST_DWithin(a.geom, b.geom, 500)) AS n
                   FROM parcels a WHERE a.valid_to IS NULL) s ORDER BY n DESC LIMIT 1""")
        ).one()
    open_page(page, "map")
    choose(page, "宗地着色", "用途")
    container = wait_for_map(page)
    assert map_zoom(page) < 13  # city scale: squares, not parcels
    container.evaluate(_TILES_DRAWN)
    frame = map_frame(page)
    expect(frame.locator(".blockline-legend")).to_contain_text("按面积最大的类别着色")
    page.mouse.move(*map_point(page, lon, lat))
    tip = frame.locator(".leaflet-tooltip")
    expect(tip).to_contain_text("面积最大的类别")
    assert re.search(r"其占比\s*\d{1,3}%", tip.inner_text()), tip.inner_text()
