"""Benchmarks of the store and the policy engine at city scale, on the demo city.

Times, at each size: loading the parcels from a GeoPackage (read, checks, areas, counties, bulk COPY, one
transaction), reading them back, ``balance check`` of an adjustment, ``idle`` and ``lifecycle`` (with a
plain pandas row-by-row baseline for scale), each the median of three runs, with the peak Python memory
(tracemalloc) of the pure computations.

Usage::

    .venv/bin/python -m bench.bench_store --parcels 20000 200000

It starts a throwaway embedded cluster under a temporary folder and removes it afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from shapely import box

from geo import clock

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 1)


def timed(fn: Callable[[], Any], *, runs: int = 3, memory: bool = False) -> tuple[float, float | None, Any]:
    """Median wall time (s) of ``runs`` calls, the peak traced memory (MB) of the first, and its result."""
    times, peak, result = [], None, None
    for i in range(runs):
        if memory and i == 0:
            tracemalloc.start()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if memory and i == 0:
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    return statistics.median(times), peak, result


def markdown_table(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame`` (no extra dependency)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join(lines)


def counties_4549() -> gpd.GeoDataFrame:
    areas = gpd.read_file(
        ROOT / "data" / "boundaries" / "boundaries.gpkg", layer="admin_areas", engine="pyogrio"
    )
    wz = areas[(areas["level"] == "county") & areas["code"].str.startswith("3303")]
    return wz[["code", "name", "geometry"]].to_crs("EPSG:4549").reset_index(drop=True)


def run(n: int, workdir: Path) -> list[dict[str, Any]]:
    from blockline.demo import generate_city
    from blockline.services.balance import check_adjustment
    from geo.load import load_parcels, start_load, write_blocklines, write_boundaries
    from geo.queries import read_parcels, read_ratings
    from geo.settings import Settings
    from geo.store import open_store, transaction
    from zoning.idle import idle_findings
    from zoning.lifecycle import lifecycle_findings
    from zoning.policy import get_profile

    profile = get_profile("wenzhou-2020")
    home = workdir / f"h{n}"
    engine = open_store(Settings(home=home, database_url=None))
    counties = counties_4549()
    city = generate_city(counties, n_parcels=n, seed=2020)
    areas = gpd.read_file(
        ROOT / "data" / "boundaries" / "boundaries.gpkg", layer="admin_areas", engine="pyogrio"
    ).to_crs("EPSG:4549")
    from geo.load_common import as_multi

    areas["geometry"] = as_multi(areas.geometry)
    with transaction(engine) as conn:
        load_id = start_load(conn, kind="demo", source="bench", user="bench")
        write_boundaries(conn, areas[["code", "name", "level", "parent_code", "geometry"]], load_id=load_id)
        for level, lines in ((1, city.level1), (2, city.level2)):
            frame = lines.copy()
            frame["geometry"] = as_multi(frame.geometry)
            write_blocklines(conn, frame, level=level, load_id=load_id, user="bench", source="bench")
    gpkg = workdir / f"parcels_{n}.gpkg"
    city.parcels.drop(columns=["county_code"]).to_file(gpkg, engine="pyogrio")  # counties derived on load
    rows: list[dict[str, Any]] = []

    def fresh_load() -> Any:
        with engine.begin() as conn:  # each run loads into an empty parcels table, as a first load does
            conn.execute(sa.text("TRUNCATE parcels"))
            conn.execute(sa.text("CHECKPOINT"))
        return load_parcels(engine, gpkg, user="bench")

    t, _, result = timed(fresh_load)
    assert result.inserted == n, result.inserted
    rows.append(
        {
            "size": n,
            "step": "load parcels from GeoPackage (checks, areas, counties, COPY)",
            "seconds": t,
            "peak_mb": None,
            "note": f"{n} inserted",
        }
    )

    t, _, parcels = timed(lambda: read_parcels(engine))
    rows.append(
        {"size": n, "step": "read current parcels from PostGIS", "seconds": t, "peak_mb": None, "note": ""}
    )
    ratings = read_ratings(engine)

    # an adjustment inside the first level-1 line: take a 200 m square out, add one beside it
    line = city.level1.iloc[0]
    cx, cy = line.geometry.centroid.x, line.geometry.centroid.y
    removal = box(cx - 100, cy - 100, cx + 100, cy + 100)
    minx, miny, maxx, maxy = line.geometry.bounds
    addition = box(maxx + 10, cy - 100, maxx + 210, cy + 100)
    t, _, check = timed(
        lambda: check_adjustment(
            engine, county=line["county_code"], removal=removal, addition=addition, profile=profile
        )
    )
    rows.append(
        {
            "size": n,
            "step": "balance check",
            "seconds": t,
            "peak_mb": None,
            "note": f"occupied {check.occupied_mu:.2f} 亩, replaced {check.replaced_mu:.2f} 亩",
        }
    )

    t, peak, found = timed(lambda: idle_findings(parcels, as_of=AS_OF, profile=profile), memory=True)
    rows.append({"size": n, "step": "idle", "seconds": t, "peak_mb": peak, "note": f"{len(found)} findings"})
    t, peak, found = timed(
        lambda: lifecycle_findings(parcels, ratings, as_of=AS_OF, profile=profile), memory=True
    )
    rows.append(
        {"size": n, "step": "lifecycle", "seconds": t, "peak_mb": peak, "note": f"{len(found)} findings"}
    )

    from blockline.services.zones import detect_zones_in_store
    from zoning.idle import low_efficiency

    t, _, low = timed(lambda: low_efficiency(parcels, ratings, as_of=AS_OF, profile=profile))
    rows.append(
        {
            "size": n,
            "step": "low-efficiency flags (survey, idle categories, C/D ratings)",
            "seconds": t,
            "peak_mb": None,
            "note": f"{int(low.sum())} low-efficiency",
        }
    )
    nos = parcels.loc[low.to_numpy(), "parcel_no"]
    t, _, zones = timed(
        lambda: detect_zones_in_store(
            engine, low_efficiency_parcel_nos=nos, min_mu=50, gap_m=15, geometry=False
        )
    )
    rows.append(
        {
            "size": n,
            "step": "zones detect (PostGIS ST_ClusterDBSCAN + zone rows, as the command runs it)",
            "seconds": t,
            "peak_mb": None,
            "note": f"{len(zones)} zones",
        }
    )

    # a plain baseline: the same "not started a year after the agreed start" rule, row by row
    def row_by_row() -> int:
        hits = 0
        for r in parcels.itertuples():
            if (
                r.agreed_start_on is not None
                and r.started_on is None
                and (AS_OF - r.agreed_start_on).days >= 365
            ):
                hits += 1
        return hits

    t, _, hits = timed(row_by_row, runs=1)
    rows.append(
        {
            "size": n,
            "step": "baseline: one idle rule, Python loop over rows",
            "seconds": t,
            "peak_mb": None,
            "note": f"{hits} hits (one rule of seven)",
        }
    )
    from geo.store import cluster_for

    engine.dispose()
    cluster_for(Settings(home=home, database_url=None)).stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results_store.md")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bl-bench-", dir="/tmp"))
    rows: list[dict[str, Any]] = []
    try:
        for n in args.parcels:
            rows += run(n, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    frame = pd.DataFrame(rows)
    frame["seconds"] = frame["seconds"].map(lambda s: f"{s:.3f}")
    frame["peak_mb"] = frame["peak_mb"].map(lambda m: "" if m is None or pd.isna(m) else f"{m:.0f}")
    header = (
        f"Measured {clock.today().isoformat()} on {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"`python -m bench.bench_store --parcels {' '.join(map(str, args.parcels))}`; median of 3 runs "
        "(loads into an empty table after a checkpoint).\n\n"
    )
    table = markdown_table(frame)
    args.out.write_text(header + table + "\n", encoding="utf-8")
    print(header + table)


if __name__ == "__main__":
    main()
