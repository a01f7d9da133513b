"""Screenshots of every page of the app for the README, in headless Chromium (Debian's package).

Usage: ``.venv/bin/python docs/screenshots.py [--port 8597]`` — starts ``blockline app`` on the database of
the current settings (run ``blockline demo`` first), opens each page, writes ``docs/screenshots/*.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from blockline.ui.serving import start_app, stop_server, wait_warm  # noqa: E402 - the project root, whatever the working directory

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
            browser.close()
    finally:
        stop_server(app)


if __name__ == "__main__":
    main()
