"""Screenshots of every page of the app for the README, in headless Chromium (Debian's package).

Usage: ``.venv/bin/python docs/screenshots.py [--port 8597]`` — starts ``blockline app`` on the database of
the current settings (run ``blockline demo`` first), opens each page, writes ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blockline.ui.serving import start_app, stop_server, wait_warm  # noqa: E402 - the project root, whatever the working directory
from geo.store import open_store  # noqa: E402

#: the parcel at the heart of the densest estate: the most current parcels within 300 m
_HEART = """
SELECT a.parcel_no FROM parcels a JOIN parcels b ON b.valid_to IS NULL AND ST_DWithin(a.geom, b.geom, 300)
WHERE a.valid_to IS NULL GROUP BY a.parcel_no ORDER BY count(*) DESC, a.parcel_no LIMIT 1
"""

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "overview": "",
    "map": "map",
    "balance": "balance",
    "zones": "zones",
    "idle": "idle",
    "lifecycle": "lifecycle",
    "data": "data",
    "audit": "audit",
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8597)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = start_app(args.port, timeout_s=60)
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_warm(url, timeout_s=300)  # the pages as a planner finds them: the day's findings computed
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for name, path in PAGES.items():
                page.goto(f"{url}/{path}")
                page.wait_for_selector("[data-testid='stSidebar']", timeout=60_000)
                page.wait_for_timeout(6000)  # the map iframe draws after the page
                page.screenshot(path=str(args.out / f"{name}.png"), full_page=False)
                print(f"wrote {args.out / f'{name}.png'}")
            _estate(page, url, args.out / "estate.png")
            browser.close()
    finally:
        stop_server(app)


def _estate(page: Page, url: str, path: Path) -> None:
    """一张图 as a planner sees an estate: search its busiest parcel, zoom out once, picture the map."""
    with open_store().connect() as conn:
        parcel_no = conn.exec_driver_sql(_HEART).scalar_one()
    page.goto(f"{url}/map")
    page.wait_for_selector("[data-testid='stSidebar']", timeout=60_000)
    page.wait_for_timeout(4000)
    search = page.get_by_label("查找宗地（宗地编号或权利人）")
    search.fill(parcel_no)
    search.press("Enter")
    page.wait_for_timeout(6000)
    frame = page.locator('iframe[data-testid="stCustomComponentV1"]').first
    frame.scroll_into_view_if_needed()
    frame.content_frame.get_by_role("button", name="Zoom out").click()
    page.wait_for_timeout(4000)
    frame.screenshot(path=str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
