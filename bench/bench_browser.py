"""The 一张图 map in a real browser at city scale: first paint, pan and zoom steps, bytes per view, memory.

Starts the app as a user does (``blockline app``) on the store of the current settings, loads the demo
city first when it does not hold ``--parcels`` parcels, and drives Debian's headless Chromium with
Playwright. Measured:

- **first paint**: from the navigation to ``/map`` (the page's ``performance.timeOrigin``) to the frame in
  which every VectorGrid layer has drawn every tile of the first view. Both ends are clocked in the browser
  (a script in the map's frame checks on every animation frame), so the figure holds no Playwright polling.
  Four kinds of visit: the first after the app started and finished its warm-up (``/_blockline/ready``:
  nothing in the browser's cache, no session run yet); a first visit (a new browser profile: Streamlit's
  5 MB of JavaScript downloaded and compiled); a return visit (a new tab of a browser that has opened the
  app before); and a click on 一张图 in the sidebar of the app's overview (the page stays, only the map
  loads), clocked from the click;
- **for scale**: the same visits to an empty Streamlit page (one ``st.write``), timed to its text: what
  Streamlit itself takes on this machine at the moment (a shared 2-core machine varies by half from hour to
  hour);
- **pan / zoom step**: ``map.panBy`` by 40 % of the map's width (or one zoom step), until every layer has
  drawn its new tiles; ten of each at the city view (parcels summed into squares) and at zoom 14 (each
  parcel), over the densest part of the city;
- **no rerun**: WebSocket frames the page sends to Streamlit during the steps (a rerun needs one);
- **bytes per view**: encoded bytes of the tile responses of the first view and of each step (CDP
  ``Network.loadingFinished``), and the WebSocket bytes that carried the page (including the map's script);
- **memory**: the JavaScript heap of the page and the map's frame (CDP ``Performance.getMetrics``), and the
  proportional set size (PSS) of all Chromium processes, from ``/proc``.

Results go to ``bench/results_browser.md`` and the terminal. Run::

    python -m bench.bench_browser --parcels 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

from blockline.ui import serving
from blockline.ui.serving import NotServing, free_port, start_server, stop_server, wait_warm

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}

# In every frame from its start: every 4 ms, note when the map exists (its VectorGrid layers
# added) and when they have drawn every tile of the first view, as epoch ms (performance.timeOrigin + now,
# comparable with the top page's timeOrigin, the navigation's start).
_FIRST_PAINT_JS = """(() => {
    if (window.top === window) { return; }  // in the frames (the map's) only
    const epoch = () => performance.timeOrigin + performance.now();
    (function watch() {
        const map = window.map_div, L = window.L;  // map_div is the <div> until Leaflet's map takes the name
        if (map && map.eachLayer && L && L.VectorGrid) {
            const grids = [];
            map.eachLayer((l) => { if (l instanceof L.VectorGrid) grids.push(l); });
            const tiles = grids.flatMap((g) => Object.values(g._tiles));
            if (grids.length && !window.__mapReady) { window.__mapReady = epoch(); }
            if (grids.length && tiles.length && tiles.every((t) => t.loaded)) { window.__firstPaint = epoch(); return; }
        }
        setTimeout(watch, 4);  // not requestAnimationFrame: a frame not yet shown gets no animation frames
    })();
})();"""
# In the map's frame: resolve when every VectorGrid layer has drawn the tiles of the current view.
_WAIT_JS = """(timeoutMs) => new Promise((resolve) => {
    const map = window.map_div;
    const grids = [];
    map.eachLayer((l) => { if (l instanceof L.VectorGrid) grids.push(l); });
    const t0 = performance.now();
    const busy = () => grids.some((g) => Object.values(g._tiles).some((t) => !t.loaded));
    (function poll() {
        if (!busy() || performance.now() - t0 > timeoutMs) { resolve(performance.now() - t0); return; }
        requestAnimationFrame(poll);
    })();
})"""
_STEP_JS = """([kind, amount]) => new Promise((resolve) => {
    const map = window.map_div;
    const t0 = performance.now();
    if (kind === "pan") { map.panBy([amount * map.getSize().x, 0], {animate: false}); }
    else { map.setZoom(map.getZoom() + amount, {animate: false}); }
    const grids = [];
    map.eachLayer((l) => { if (l instanceof L.VectorGrid) grids.push(l); });
    const busy = () => grids.some((g) => Object.values(g._tiles).some((t) => !t.loaded));
    // The first frame painted after the call: the map has moved (the tiles it had, shifted or scaled).
    // Leaflet asks for the new tiles on that frame; then wait until they are drawn.
    requestAnimationFrame(() => {
        const moved = performance.now() - t0;
        (function poll() {
            if (!busy() || performance.now() - t0 > 10000) {
                requestAnimationFrame(() => resolve([moved, performance.now() - t0]));
                return;
            }
            requestAnimationFrame(poll);
        })();
    });
})"""


def ensure_demo(parcels: int) -> None:
    from geo.queries import store_counts
    from geo.store import open_store

    engine = open_store()
    if store_counts(engine)["parcels"] != parcels:
        print(f"loading the demo city with {parcels:,} parcels …", flush=True)
        subprocess.run(
            [sys.executable, "-m", "blockline.cli", "demo", "--parcels", str(parcels)], check=True, cwd=ROOT
        )


def start_app(port: int) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    """The app's server on ``port``, once it answers and has finished its warm-up (and what the warm-up did)."""
    try:
        proc = serving.start_app(port, cwd=ROOT, output=subprocess.DEVNULL)
    except NotServing as exc:
        raise SystemExit(str(exc)) from None
    try:
        return proc, wait_warm(f"http://127.0.0.1:{port}")
    except NotServing as exc:
        stop_server(proc)
        raise SystemExit(str(exc)) from None


def chromium_pss_mib(browser_pid: int | None) -> float:
    """Summed PSS of the Chromium processes started by this benchmark (MiB)."""
    total = 0
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if "chromium" in cmd and "--headless" in cmd or (browser_pid and p.pid == browser_pid):
                total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


def densest_point() -> tuple[float, float]:
    """lat, lon of the zoom-16 cell holding the most parcels (the busiest view to pan over)."""
    import sqlalchemy as sa
    from pyproj import Transformer

    from geo.store import open_store
    from geo.tiles import CELL_ZOOM

    with open_store().connect() as conn:
        i, j = conn.execute(sa.text("SELECT i, j FROM parcel_cells ORDER BY parcels DESC LIMIT 1")).one()
    half = 20037508.342789244
    size = 2 * half / (1 << CELL_ZOOM)
    lon, lat = Transformer.from_crs(3857, 4326, always_xy=True).transform(
        -half + (i + 0.5) * size, half - (j + 0.5) * size
    )
    return lat, lon


def tile_timings(zooms: range = range(8, 17)) -> list[tuple[int, str, float, float, float]]:
    """PostGIS alone: (zoom, layer, median ms, worst ms, median KiB) over the 3 × 3 tiles around the densest point."""
    import math

    from geo.store import open_store
    from geo.tiles import tile

    engine = open_store()
    lat, lon = densest_point()
    rows = []
    for z in zooms:
        n = 1 << z
        cx = int((lon + 180) / 360 * n)
        cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        for layer in ("parcels", "level1", "level2", "counties", "all"):
            times, sizes = [], []
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    t0 = time.perf_counter()
                    body = tile(engine, layer, z, cx + dx, cy + dy)
                    times.append((time.perf_counter() - t0) * 1000)
                    sizes.append(len(body) / 1024)
            rows.append((z, layer, statistics.median(times), max(times), statistics.median(sizes)))
    return rows


def _map_frame(page):  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('iframe')).some((f) => "
        "f.contentWindow && f.contentWindow.__firstPaint)",
        polling=50,
        timeout=60_000,
    )
    return next(f for f in page.frames if "st_folium" in f.url)


def first_paint(page, url: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Navigate to the map; (map ready, every tile of the first view drawn) in seconds from the navigation."""
    page.goto(f"{url}/map")
    frame = _map_frame(page)
    start = page.evaluate("() => performance.timeOrigin")
    ready, painted = frame.evaluate("() => [window.__mapReady, window.__firstPaint]")
    return (ready - start) / 1000, (painted - start) / 1000


# In the app's page: note the time (epoch ms) and click the sidebar's link to the map, as a planner does.
_SWITCH_JS = """() => {
    const link = Array.from(document.querySelectorAll('a[data-testid="stSidebarNavLink"]'))
        .find((a) => new URL(a.href).pathname.endsWith("/map"));
    const t0 = performance.timeOrigin + performance.now();
    link.click();
    return t0;
}"""


def page_switch(page, url: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Open the overview, then click 一张图 in the sidebar: (map ready, every tile of the first view drawn) in
    seconds from the click. The page stays Streamlit's: nothing is loaded again but the map and its tiles."""
    page.goto(f"{url}/")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    clicked = page.evaluate(_SWITCH_JS)
    frame = _map_frame(page)
    ready, painted = frame.evaluate("() => [window.__mapReady, window.__firstPaint]")
    return (ready - clicked) / 1000, (painted - clicked) / 1000


def streamlit_floor(visits: int) -> dict[str, list[float]]:
    """Seconds from the navigation to the text of an empty Streamlit page (one ``st.write``), first and return
    visits: what Streamlit itself takes on this machine at this moment, the floor under any page's first paint."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "empty.py"
        script.write_text('import streamlit as st\nst.write("blockline-empty-page")\n', encoding="utf-8")
        port = free_port()
        command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
        command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
        command += ["--server.fileWatcherType", "none"]
        try:
            proc = start_server(
                command, f"http://127.0.0.1:{port}", cwd=Path(folder), output=subprocess.DEVNULL
            )
        except NotServing as exc:
            raise SystemExit(str(exc)) from None
        try:
            shown = (
                "() => document.body && document.body.innerText.includes('blockline-empty-page') "
                "&& performance.now() / 1000"
            )
            out: dict[str, list[float]] = {"fresh": [], "return": []}
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for _ in range(visits):
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}/")
                    out["fresh"].append(page.wait_for_function(shown, polling="raf").json_value())
                    context.close()
                context = browser.new_context(viewport=VIEWPORT)
                context.new_page().goto(f"http://127.0.0.1:{port}/")
                for _ in range(visits):
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}/")
                    out["return"].append(page.wait_for_function(shown, polling="raf").json_value())
                    page.close()
                browser.close()
            return out
        finally:
            stop_server(proc)


def run(url: str, *, steps: int, visits: int) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium (./dev.sh test installs it)")
    out: dict[str, object] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def new_context():  # type: ignore[no-untyped-def]
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(_FIRST_PAINT_JS)
            return context

        # The first visit after the app started (and warmed up): no session run yet, nothing in the browser.
        context = new_context()
        out["cold"] = first_paint(context.new_page(), url)
        context.close()
        # First visits: each a new browser profile (Streamlit's JavaScript fetched and compiled again).
        fresh = []
        for _ in range(visits):
            context = new_context()
            fresh.append(first_paint(context.new_page(), url))
            context.close()
        out["fresh"] = fresh
        # Return visits: new tabs of one profile that has opened the app before.
        context = new_context()
        first_paint(context.new_page(), url)

        def in_new_tabs(visit):  # type: ignore[no-untyped-def]
            timings = []
            for _ in range(visits):
                tab = context.new_page()
                timings.append(visit(tab, url))
                tab.close()
            return timings

        out["return"] = in_new_tabs(first_paint)
        # Within the app: a planner on the overview clicks 一张图 (the way most visits reach the map).
        out["switch"] = in_new_tabs(page_switch)

        context.close()
        # Bytes and steps: a new profile, so that no tile is in the browser's cache yet.
        context = new_context()
        page = context.new_page()
        urls: dict[str, str] = {}
        tile_bytes: list[int] = []
        ws_sent: list[int] = []
        ws_received: list[int] = []

        def watch_network(page):  # type: ignore[no-untyped-def]
            """Count the tile bytes and the WebSocket frames of ``page`` into the lists above."""
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.on(
                "Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"])
            )
            cdp.on(
                "Network.loadingFinished",
                lambda e: (
                    tile_bytes.append(int(e["encodedDataLength"]))
                    if "/tiles/" in urls.get(e["requestId"], "")
                    else None
                ),
            )
            cdp.on("Network.webSocketFrameSent", lambda e: ws_sent.append(len(e["response"]["payloadData"])))
            cdp.on(
                "Network.webSocketFrameReceived",
                lambda e: ws_received.append(len(e["response"]["payloadData"])),
            )
            return cdp

        cdp = watch_network(page)
        cdp.send("Performance.enable")
        first_paint(page, url)
        map_frame = _map_frame(page)
        page.wait_for_timeout(300)
        out["first_view_tiles"] = len(tile_bytes)
        out["first_view_tile_kib"] = sum(tile_bytes) / 1024
        out["page_ws_kib"] = sum(ws_received) / 1024
        out["first_zoom"] = map_frame.evaluate("() => window.map_div.getZoom()")

        def steps_of(kind: str, amounts: list[float]) -> tuple[list[float], list[float], int, list[float]]:
            times, kib, moved = [], [], []
            sent_before = len(ws_sent)
            for amount in amounts:
                before = sum(tile_bytes)
                first_frame, done = map_frame.evaluate(_STEP_JS, [kind, amount])
                times.append(done / 1000)
                moved.append(first_frame / 1000)
                page.wait_for_timeout(150)
                kib.append((sum(tile_bytes) - before) / 1024)
            return times, kib, len(ws_sent) - sent_before, moved

        pans = [0.4, 0.4, -0.4, -0.4, 0.4, -0.4, 0.4, 0.4, -0.4, -0.4][:steps]
        out["city_pan"] = steps_of("pan", pans)
        lat, lon = densest_point()
        map_frame.evaluate(f"() => window.map_div.setView([{lat}, {lon}], 14, {{animate: false}})")
        map_frame.evaluate(_WAIT_JS, 30_000)
        page.wait_for_timeout(300)
        out["z14_pan"] = steps_of("pan", pans)
        out["zoom"] = steps_of("zoom", [1, 1, -1, -1, -1, -1, 1, 1][:steps])
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        frame_heap = map_frame.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : 0")
        out["js_heap_mib"] = metrics.get("JSHeapUsedSize", 0) / 2**20
        out["frame_js_heap_mib"] = frame_heap / 2**20
        out["chromium_pss_mib"] = chromium_pss_mib(None)
        page.screenshot(path=str(ROOT / "bench" / "browser_z14.png"))
        context.close()
        # A second planner (a new profile) makes the same zoom steps: the tiles come from the server's cache.
        context = new_context()
        page = context.new_page()
        watch_network(page)
        first_paint(page, url)
        map_frame = _map_frame(page)
        map_frame.evaluate(f"() => window.map_div.setView([{lat}, {lon}], 14, {{animate: false}})")
        map_frame.evaluate(_WAIT_JS, 30_000)
        page.wait_for_timeout(300)
        out["zoom_again"] = steps_of("zoom", [1, 1, -1, -1, -1, -1, 1, 1][:steps])
        browser.close()
    return out


def report(results: dict[str, object], *, parcels: int, command: str) -> str:
    def row(name: str, key: str) -> str:
        times, kib, sent, moved = results[key]  # type: ignore[misc]
        return (
            f"| {name} | {statistics.median(moved) * 1000:,.0f} | {max(moved) * 1000:,.0f} | "
            f"{statistics.median(times) * 1000:,.0f} | {max(times) * 1000:,.0f} | "
            f"{statistics.median(kib):,.1f} | {max(kib):,.1f} | {sent} |"
        )

    def paint(key: str, i: int) -> str:
        values = [r[i] for r in results[key]]  # type: ignore[attr-defined]
        return f"{statistics.median(values):.2f} s / {max(values):.2f} s"

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    warm = results.get("warm_up") or {}
    warm_up = (
        f"{warm.get('seconds')} s, {warm.get('tiles')} tiles of the city view cut"
        if warm
        else "not measured: an app already running"
    )
    lines = [
        "# The map in a browser at city scale (`bench/bench_browser.py`)",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{command}`",
        f"- demo city: {parcels:,} parcels in the 12 counties of 温州市",
        f"- machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.1f} GiB; load average at the end {load}",  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        f"- Python {platform.python_version()}; headless Chromium ({CHROMIUM}) through Playwright; viewport "
        f"{VIEWPORT['width']}×{VIEWPORT['height']}",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        "| first paint of the map (navigation → every tile of the first view drawn) | | ≤ 2 s |",
        (
            f"| · the first visit after the app started (its warm-up done: {warm_up}; nothing in the browser's cache) | "  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
            f"{results['cold'][1]:.2f} s | |"
        ),
        (
            f"| · a first visit (a new browser profile): median of {len(results['fresh'])} / worst | "
            f"{paint('fresh', 1)} | |"
        ),
        (
            f"| · a return visit (a new tab; Streamlit's JavaScript in the browser's cache): median / worst | "
            f"{paint('return', 1)} | |"
        ),
        (
            f"| · from the app's overview, a click on 一张图 in the sidebar (click → every tile drawn): median / worst | "  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
            f"{paint('switch', 1)} | |"
        ),
        (
            f"| for scale: an empty Streamlit page (one `st.write`) on this machine now, first / return visit "
            f"(median) | {statistics.median(results['floor']['fresh']):.2f} s / "
            f"{statistics.median(results['floor']['return']):.2f} s | |"
        ),
        (
            f"| of which the page and the map's frame ready, before any tile: first visit / return visit (median) | "
            f"{statistics.median(r[0] for r in results['fresh']):.2f} s / "
            f"{statistics.median(r[0] for r in results['return']):.2f} s | |"
        ),
        f"| tiles of the first view (zoom {results['first_zoom']}) | {results['first_view_tiles']} tiles, "
        f"{results['first_view_tile_kib']:,.0f} KiB | ≤ 2 MB per view |",
        f"| the page itself over the WebSocket (widgets and the map's script) | {results['page_ws_kib']:,.0f} KiB | |",
        f"| JavaScript heap: page / map frame | {results['js_heap_mib']:.0f} MiB / {results['frame_js_heap_mib']:.0f} MiB | |",  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        f"| all Chromium processes (PSS) | {results['chromium_pss_mib']:.0f} MiB | < 300 MB |",
        "",
        "| step | map moved: median ms | worst ms | every new tile drawn: median ms | worst ms | median KiB of tiles | worst KiB | frames sent to Streamlit (a rerun sends one) |",  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row("pan 40 % at the city view (squares)", "city_pan"),
        row("pan 40 % at zoom 14 (each parcel)", "z14_pan"),
        row("zoom in or out one step around zoom 14", "zoom"),
        row(
            "the same zoom steps by a second planner (a new profile; tiles from the server's cache)",
            "zoom_again",
        ),
        "",
        "Each step is timed from the call to the first frame painted after it (the map has moved, showing the "
        "tiles it had) and to the frame where every layer has drawn every tile of the new view.",
        "",
        "Tiles cut by PostGIS alone (`geo.tiles.tile`, 3 × 3 tiles around the densest square of the city):",
        "",
        "| zoom | layer | median ms | worst ms | median KiB |",
        "|---:|---|---:|---:|---:|",
        *[
            f"| {z} | {layer} | {med:,.1f} | {worst:,.1f} | {kib:,.1f} |"
            for z, layer, med, worst, kib in results["tiles"]
        ],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--visits", type=int, default=5, help="first and return visits timed")
    parser.add_argument(
        "--url", help="an app already running (else one is started, and the first visit is its first)"
    )
    args = parser.parse_args()
    ensure_demo(args.parcels)
    proc = None
    url = args.url
    warm: dict[str, object] = {}
    if url is None:
        port = free_port()
        proc, warm = start_app(port)
        url = f"http://127.0.0.1:{port}"
    try:
        results = run(url, steps=args.steps, visits=args.visits)
        results["warm_up"] = warm
        results["floor"] = streamlit_floor(args.visits)
        results["tiles"] = tile_timings()
    finally:
        if proc is not None:
            stop_server(proc)
    text = report(
        results, parcels=args.parcels, command="python -m bench.bench_browser " + " ".join(sys.argv[1:])
    )
    (ROOT / "bench" / "results_browser.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
