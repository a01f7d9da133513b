"""The map's far-out squares, uncoloured and coloured by each of ``geo.tiles.SQUARE_COLOR_BY``, at city scale.

Starts the app as a user does (``blockline app``) on the store of the current settings (or uses ``--url``),
waits for its warm-up, and asks its tile route for the 3 × 3 tiles of every layer (``/tiles/all/…``, what the
map asks for) around the densest square of the city at zoom 9 and 11, with the newest marks and each
colouring. The requests carry no data version, so the server cuts every one (its tile cache keeps only
versioned tiles): the whole request is timed, HTTP included. Beside it, the parcels layer alone cut by
``geo.tiles.tile`` in this process (the SQL and its encoding, no HTTP).

``--dump`` writes every decoded square (sorted) to a JSON file: two runs on the same store, before and after
a change, must dump the same squares. ``--per-parcel`` asks for the coloured squares as a map of a past
date does (``as_of`` tomorrow: today's parcels, summed one by one, as every coloured square was before
``geo.tiles_cells``), for a comparison at the same moment. Run::

    python -m bench.bench_squares --rounds 5 --dump /tmp/squares.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import time
import urllib.request
from pathlib import Path

import mapbox_vector_tile
import sqlalchemy as sa

from bench.bench_browser import densest_point
from blockline.ui.serving import free_port, start_app, stop_server, wait_warm
from geo import clock
from geo.store import open_store
from geo.tiles import SQUARE_COLOR_BY, tile

ZOOMS = (9, 11)


def around(z: int, lat: float, lon: float) -> list[tuple[int, int]]:
    """The 3 × 3 tiles of zoom ``z`` around (lat, lon)."""
    n = 1 << z
    cx = int((lon + 180) / 360 * n)
    cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return [(cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def newest_marks() -> str | None:
    """The mark set of the newest judgement (the one the map shows)."""
    with open_store().connect() as conn:
        return conn.execute(
            sa.text("SELECT mark_set FROM parcel_marks ORDER BY mark_set DESC LIMIT 1")
        ).scalar_one_or_none()


def squares(body: bytes) -> list[list[object]]:
    """The squares of a tile's parcels layer, each its properties and first vertex, sorted."""
    layer = mapbox_vector_tile.decode(body).get("parcels", {"features": []})
    return sorted(
        [
            [json.dumps(f["properties"], sort_keys=True), json.dumps(f["geometry"]["coordinates"][0][0])]
            for f in layer["features"]
        ]
    )


def measure(
    url: str, *, rounds: int, per_parcel: bool = False
) -> tuple[list[tuple[int, str, float, float, float, float]], dict]:
    """(zoom, colouring, HTTP median, worst, SQL median, worst ms) rows, and every square by tile."""
    engine = open_store()
    marks = newest_marks()
    as_of = clock.today() + dt.timedelta(days=1) if per_parcel else None
    lat, lon = densest_point()
    rows, dump = [], {}
    for z in ZOOMS:
        tiles = around(z, lat, lon)
        for color in (None, *SQUARE_COLOR_BY):
            asked = (
                ("marks", marks),
                ("color", color),
                ("as_of", as_of.isoformat() if as_of and color else None),
            )
            query = "&".join(f"{k}={v}" for k, v in asked if v)
            http, sql = [], []
            for _ in range(rounds):
                for x, y in tiles:
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(f"{url}/tiles/all/{z}/{x}/{y}.pbf?{query}", timeout=60) as r:
                        r.read()
                    http.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    past = as_of if color else None
                    body = tile(engine, "parcels", z, x, y, mark_set=marks, color_by=color, as_of=past)
                    sql.append((time.perf_counter() - t0) * 1000)
                    dump[f"{z}/{x}/{y}?{query}"] = squares(body)
            rows.append(
                (z, color or "—", statistics.median(http), max(http), statistics.median(sql), max(sql))
            )
            print(*rows[-1], flush=True)
    return rows, dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an app already running (else one is started)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dump", type=Path, help="write every decoded square here (JSON)")
    parser.add_argument("--per-parcel", action="store_true", help="coloured squares summed per parcel")
    args = parser.parse_args()
    proc, url = None, args.url
    if url is None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_app(port, timeout_s=180)
        wait_warm(url, timeout_s=600)
    try:
        load_before = os.getloadavg()
        rows, dump = measure(url, rounds=args.rounds, per_parcel=args.per_parcel)
        load_after = os.getloadavg()
    finally:
        if proc is not None:
            stop_server(proc)
    print(
        "load average at the start " + ", ".join(f"{v:.2f}" for v in load_before),
        "; at the end " + ", ".join(f"{v:.2f}" for v in load_after),
        f"; marks {newest_marks()}",
        sep="",
    )
    print("| zoom | colour by | whole request (`/tiles/all/…`): median ms | worst ms", end=" ")
    print("| SQL of the parcels layer: median ms | worst ms |")
    print("|---:|---|---:|---:|---:|---:|")
    for z, color, hm, hw, sm, sw in rows:
        print(f"| {z} | {color} | {hm:.1f} | {hw:.1f} | {sm:.1f} | {sw:.1f} |")
    if args.dump:
        args.dump.write_text(json.dumps(dump, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    main()
