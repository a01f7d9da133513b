"""Candidate consolidation zones at city scale: ``detect_zones`` against PostGIS and buffer-and-dissolve.

For each size, the demo city is generated in the 12 real counties of 温州市 (``data/boundaries``), its
low-efficiency parcels are marked, and the same zones (groups of low-efficiency parcels within the gap of
each other, transitively, of at least ``min_mu`` 亩) are found three ways, in the same run:

(a) ``zoning.consolidation.detect_zones``: STRtree ``dwithin`` pairs and connected components;
(b) PostGIS: ``ST_ClusterDBSCAN(geom, eps := gap, minpoints := 1)`` over the same parcels in a throwaway
    embedded cluster, with the SQL that sums the areas per cluster and keeps those ≥ ``min_mu``;
(c) the naive geopandas way: buffer by gap/2, dissolve, explode, join the parcels back, sum the areas.

It reports the wall time (median of ``--runs``), the peak memory of the Python methods (``tracemalloc``,
and the growth of the process's resident memory, which also counts GEOS), the zones found and whether the
methods agree, prints a Markdown table and writes it to ``bench/README.md``.

Run::

    python -m bench.bench_zones --parcels 20000 200000
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from blockline.demo import BUNDLED_BOUNDARIES, DemoCity, generate_city
from geo.area import M2_PER_MU
from zoning.consolidation import EPSILON_MU, detect_zones, latest_grade
from zoning.policy import Profile, get_profile

__all__ = ["buffer_dissolve_zones", "main", "mark_low_efficiency", "postgis_zones", "wenzhou_counties"]

README = Path(__file__).resolve().parent / "README.md"
AS_OF = dt.date(2026, 11, 1)
Groups = set[frozenset[str]]


# ======================================================================================================
# data
# ======================================================================================================


def wenzhou_counties() -> gpd.GeoDataFrame:
    """The 12 counties of 温州市 (codes 3303xx) from the bundled boundaries, in EPSG:4549."""
    areas = gpd.read_file(BUNDLED_BOUNDARIES, layer="admin_areas", engine="pyogrio")
    counties = areas[(areas["level"] == "county") & areas["code"].str.startswith("3303")]
    return counties[["code", "name", "geometry"]].to_crs("EPSG:4549").reset_index(drop=True)


def mark_low_efficiency(city: DemoCity, *, as_of: dt.date, profile: Profile) -> tuple[gpd.GeoDataFrame, str]:
    """The demo parcels with a boolean ``low_efficiency``, and how it was decided.

    ``zoning.idle.low_efficiency`` when that module exists; otherwise a deterministic stand-in: the
    survey flag ``is_low_efficiency``, or the latest 亩均论英雄 grade among the profile's low grades.
    """
    parcels = city.parcels
    if importlib.util.find_spec("zoning.idle") is not None:
        from zoning.idle import low_efficiency  # type: ignore[import-not-found]

        try:
            flags = low_efficiency(parcels, city.ratings, as_of=as_of, profile=profile)
            return parcels.assign(low_efficiency=np.asarray(flags, dtype=bool)), "zoning.idle.low_efficiency"
        except Exception as exc:  # noqa: BLE001 - the bench must still run; say why in the report
            reason = f"zoning.idle.low_efficiency failed ({type(exc).__name__}: {exc}); "
    else:
        reason = "zoning.idle not present yet; "
    grades = profile.value("consolidation.low_efficiency_grades")
    rated_low = latest_grade(parcels, city.ratings, as_of=as_of).isin(grades).to_numpy()
    flags = parcels["is_low_efficiency"].to_numpy(dtype=bool) | rated_low
    how = reason + f"stand-in: survey flag is_low_efficiency, or latest grade in {grades}"
    return parcels.assign(low_efficiency=flags), how


# ======================================================================================================
# the three methods
# ======================================================================================================


def detect_groups(zones: gpd.GeoDataFrame) -> Groups:
    return {frozenset(p) for p in zones["parcels"]}


def postgis_load(engine: sa.Engine, low: gpd.GeoDataFrame) -> None:
    """COPY the low-efficiency parcels into a fresh table ``bench_low`` with a GiST index."""
    srid = low.crs.to_epsg()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_low"))
        conn.execute(
            sa.text(
                f"CREATE UNLOGGED TABLE bench_low (parcel_no text PRIMARY KEY, "
                f"geom geometry(Polygon, {srid}) NOT NULL)"
            )
        )
        raw = conn.connection.driver_connection
        wkb = shapely.to_wkb(shapely.set_srid(low.geometry.to_numpy(), srid), hex=True, include_srid=True)
        with raw.cursor() as cur, cur.copy("COPY bench_low (parcel_no, geom) FROM STDIN") as copy:
            for row in zip(low["parcel_no"].astype(str), wkb, strict=False):
                copy.write_row(row)
        conn.execute(sa.text("CREATE INDEX bench_low_geom ON bench_low USING gist (geom)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE bench_low"))


def postgis_zones(engine: sa.Engine, *, gap_m: float, min_mu: float) -> list[tuple[float, list[str]]]:
    """ST_ClusterDBSCAN over ``bench_low``, areas summed per cluster, clusters of at least ``min_mu``."""
    sql = sa.text("""
        WITH c AS (
            SELECT parcel_no, geom, ST_ClusterDBSCAN(geom, eps := :gap, minpoints := 1) OVER () AS cid
            FROM bench_low),
        s AS (
            SELECT sum(ST_Area(geom)) / :m2_per_mu AS area_mu, array_agg(parcel_no ORDER BY parcel_no) AS parcels
            FROM c GROUP BY cid)
        SELECT area_mu, parcels FROM s WHERE area_mu >= :min_mu - :eps ORDER BY area_mu DESC""")
    with engine.connect() as conn:
        rows = conn.execute(
            sql, {"gap": gap_m, "m2_per_mu": M2_PER_MU, "min_mu": min_mu, "eps": EPSILON_MU}
        ).all()
    return [(float(a), list(p)) for a, p in rows]


def buffer_dissolve_blobs(low: gpd.GeoDataFrame, *, gap_m: float) -> pd.DataFrame:
    """Each parcel's blob: buffered by gap/2 (geopandas' default 16 segments a quarter), dissolved, exploded."""
    blobs = (
        gpd.GeoDataFrame(geometry=low.geometry.buffer(gap_m / 2), crs=low.crs)
        .dissolve()
        .explode(index_parts=False)
        .reset_index(drop=True)
    )
    points = gpd.GeoDataFrame(
        {"parcel_no": low["parcel_no"].to_numpy(), "area_mu": low.geometry.area.to_numpy() / M2_PER_MU},
        geometry=low.geometry.representative_point().to_numpy(),
        crs=low.crs,
    )
    joined = gpd.sjoin(points, blobs, predicate="within", how="inner")
    return pd.DataFrame(
        {"parcel_no": joined["parcel_no"], "area_mu": joined["area_mu"], "blob": joined["index_right"]}
    )


def buffer_dissolve_zones(low: gpd.GeoDataFrame, *, gap_m: float, min_mu: float) -> pd.DataFrame:
    """The naive zones: parcels joined to their blob, areas summed per blob, blobs of at least ``min_mu``."""
    joined = buffer_dissolve_blobs(low, gap_m=gap_m)
    area = joined.groupby("blob")["area_mu"].transform("sum")
    return joined[area >= min_mu - EPSILON_MU]


# ======================================================================================================
# measuring
# ======================================================================================================


def timed(fn: Callable[[], Any], *, runs: int) -> tuple[float, list[float], float, Any]:
    """Median wall time of ``runs`` calls, every wall time, the median CPU time of this process, the last result."""
    times, cpu, result = [], [], None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), times, statistics.median(cpu), result


def _rss_anon_kib(pid: int | str = "self") -> int | None:
    """The anonymous resident memory of a process (heap, mmaps: what Python, numpy and GEOS allocate)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None  # a process that has exited (a zombie has no memory)


def _release_free_memory() -> None:
    """Give the heap's free pages back to the system, so that reusing them shows as growth (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_memory(fn: Callable[[], Any]) -> tuple[float | None, float | None]:
    """(tracemalloc peak MiB, resident-memory growth MiB) of one call of ``fn``, each in a forked child.

    ``tracemalloc`` sees the allocations of Python and numpy, not those of GEOS. The growth of the child's
    anonymous resident memory (RssAnon, sampled every millisecond by this process) sees everything, the
    shared libraries' pages that a forked child touches for the first time excepted; the heap's free pages
    are given back first (``malloc_trim``), so that memory freed by earlier runs does not hide the growth.
    """

    def with_tracemalloc() -> float:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak / 2**20

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running the parent's cleanup
        os.close(read)
        try:
            value: float | None = with_tracemalloc()
        except Exception:  # noqa: BLE001
            value = None
        os.write(write, json.dumps(value).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    traced = json.loads(data) if data else None

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _release_free_memory()
        os.write(write, f"{_rss_anon_kib() or 0}\n".encode())
        os.close(write)
        try:
            fn()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        baseline = int(fh.readline() or 0)
    peak = baseline
    while os.waitpid(pid, os.WNOHANG)[0] == 0:  # until the child has exited (and is reaped)
        now = _rss_anon_kib(pid)
        if now is not None:
            peak = max(peak, now)
        time.sleep(0.001)
    growth = (peak - baseline) / 1024 if baseline else None
    return traced, growth


# ======================================================================================================
# one size
# ======================================================================================================


@dataclass
class Row:
    method: str
    median_s: float
    times_s: list[float]
    cpu_s: float | None
    tracemalloc_mib: float | None
    rss_mib: float | None
    zones: int
    agrees: str


@dataclass
class SizeResult:
    parcels: int
    low: int
    low_how: str
    generate_s: float
    load_s: float
    postgis: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def explain_buffer_difference(low: gpd.GeoDataFrame, blobs: pd.DataFrame, *, gap_m: float) -> str:
    """Which parcel pairs the buffers split although their true distance is within the gap, and how far apart."""
    geoms = low.geometry.to_numpy()
    blob_of = (
        pd.Series(blobs["blob"].to_numpy(), index=blobs["parcel_no"].to_numpy())
        .reindex(low["parcel_no"].to_numpy())
        .to_numpy()
    )
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap_m)
    keep = left < right
    left, right = left[keep], right[keep]
    split = blob_of[left] != blob_of[right]
    if not split.any():
        return "no pair within the gap was split by the buffers"
    d = shapely.distance(geoms[left[split]], geoms[right[split]])
    pairs = f"{int(split.sum())} parcel pair{'s' if split.sum() > 1 else ''}"
    at = f"{d.min():.3f} m" if d.max() - d.min() < 5e-4 else f"{d.min():.3f}–{d.max():.3f} m"
    return (
        f"{pairs} within {gap_m:g} m of each other split by the buffers, at a true distance of {at} "
        "(the buffers' chords fall short of gap/2 between their vertices)"
    )


def run_size(
    n: int,
    *,
    counties: gpd.GeoDataFrame,
    profile: Profile,
    runs: int,
    seed: int,
    min_mu: float,
    gap_m: float,
    log: Callable[[str], None],
) -> SizeResult:
    from geo.settings import Settings
    from geo.store import cluster_for, open_store

    start = time.perf_counter()
    city = generate_city(counties, n_parcels=n, seed=seed, as_of=AS_OF)
    generate_s = time.perf_counter() - start
    parcels, how = mark_low_efficiency(city, as_of=AS_OF, profile=profile)
    low = parcels[parcels["low_efficiency"]].reset_index(drop=True)
    log(f"{n} parcels: generated in {generate_s:.1f} s; {len(low)} low-efficiency ({how})")

    # (a) detect_zones, on the whole city (it picks the low-efficiency parcels itself)
    a_s, a_times, a_cpu, zones = timed(lambda: detect_zones(parcels, min_mu=min_mu, gap_m=gap_m), runs=runs)
    a_mem = peak_memory(lambda: detect_zones(parcels, min_mu=min_mu, gap_m=gap_m))
    exact = detect_groups(zones)
    log(f"  detect_zones: {a_s:.3f} s, {len(exact)} zones")

    # (c) buffer, dissolve, explode, join back, sum
    c_s, c_times, c_cpu, naive = timed(
        lambda: buffer_dissolve_zones(low, gap_m=gap_m, min_mu=min_mu), runs=runs
    )
    c_mem = peak_memory(lambda: buffer_dissolve_zones(low, gap_m=gap_m, min_mu=min_mu))
    buffered = {frozenset(g) for g in naive.groupby("blob")["parcel_no"].agg(list)}
    log(f"  buffer-dissolve: {c_s:.3f} s, {len(buffered)} zones")

    # (b) PostGIS, in a throwaway embedded cluster
    home = Path(tempfile.mkdtemp(prefix="blb-", dir="/tmp"))
    settings = Settings(home=home, database_url=None)
    try:
        engine = open_store(settings)
        with engine.connect() as conn:
            versions = conn.execute(
                sa.text("SELECT postgis_lib_version(), current_setting('server_version')")
            ).one()
        start = time.perf_counter()
        postgis_load(engine, low)
        load_s = time.perf_counter() - start
        b_s, b_times, _, found = timed(lambda: postgis_zones(engine, gap_m=gap_m, min_mu=min_mu), runs=runs)
        clustered = {frozenset(p) for _, p in found}
        log(f"  PostGIS: loaded in {load_s:.1f} s; ST_ClusterDBSCAN {b_s:.3f} s, {len(clustered)} zones")
        engine.dispose()
    finally:
        cluster_for(settings).stop()
        shutil.rmtree(home, ignore_errors=True)

    result = SizeResult(
        parcels=n,
        low=len(low),
        low_how=how,
        generate_s=generate_s,
        load_s=load_s,
        postgis=f"PostGIS {versions[0]} on PostgreSQL {versions[1]}",
    )

    def agreement(other: Groups) -> str:
        if other == exact:
            return "yes"
        return (
            f"no: {len(exact - other)} of detect_zones' zones not found as such, "
            f"{len(other - exact)} found that detect_zones does not have"
        )

    result.rows = [
        Row(
            "(a) detect_zones (STRtree + exact dwithin + connected components)",
            a_s,
            a_times,
            a_cpu,
            *a_mem,
            len(exact),
            "—",
        ),
        Row(
            "(b) PostGIS ST_ClusterDBSCAN + SQL sums",
            b_s,
            b_times,
            None,
            None,
            None,
            len(clustered),
            agreement(clustered),
        ),
        Row(
            "(c) geopandas buffer(gap/2) + dissolve + explode + sjoin",
            c_s,
            c_times,
            c_cpu,
            *c_mem,
            len(buffered),
            agreement(buffered),
        ),
    ]
    if buffered != exact:
        blobs = buffer_dissolve_blobs(low, gap_m=gap_m)
        result.notes.append(
            f"buffer-dissolve at {n:,} parcels: " + explain_buffer_difference(low, blobs, gap_m=gap_m)
        )
    return result


# ======================================================================================================
# report
# ======================================================================================================


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": str(os.cpu_count()),
        "memory": f"{total_kib / 2**20:.1f} GiB",
        "cpu": model,
        "load": load,
        "python": platform.python_version(),
        "libraries": f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), geopandas "
        f"{gpd.__version__}, pandas {pd.__version__}, numpy {np.__version__}",
    }


def _mib(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.1f}"


def markdown(
    results: list[SizeResult],
    *,
    command: str,
    when: str,
    info: dict[str, str],
    runs: int,
    min_mu: float,
    gap_m: float,
    profile: Profile,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "## Candidate consolidation zones (`bench/bench_zones.py`)",
        "",
        "The demo city (`blockline.demo.generate_city`) in the 12 counties of 温州市 (`data/boundaries`, EPSG:4549);",
        f"zones of low-efficiency parcels within {gap_m:g} m of each other, transitively, of at least {min_mu:g} 亩",
        f"({profile.cite('consolidation.min_mu')}), found three ways in the same run.",
        "",
        f"- date: {when}",
        f"- command: `{command}`",
        (
            f"- machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} memory; load average at start "
            f"{info['load']} (other work shared the machine)"
        ),
        f"- Python {info['python']}; {info['libraries']}; {results[0].postgis if results else ''}",
        f"- low-efficiency parcels: {results[0].low_how if results else ''}",
        "",
        f"Wall time is the median of {runs} runs (each run listed), CPU time that of this process (less moved",
        "than wall time by other work on the machine, not immune to it); memory is the peak of one run in a forked",
        "child: `tracemalloc` (Python and numpy allocations) and the growth of the anonymous resident memory",
        "(RssAnon sampled every millisecond, which also counts GEOS). PostGIS is timed from the query to the rows in Python, on data already loaded;",  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line
        "it sums areas and lists parcels but builds no zone geometry, which detect_zones does (the union of",
        "each zone's parcels, for the map) and also counts holders and counties and makes stable zone ids.",
        "",
        (
            "| parcels | low-efficiency | method | wall s (median) | runs s | CPU s (median) | tracemalloc MiB "
            "| RSS growth MiB | zones | same zones as detect_zones |"
        ),
        "|---:|---:|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for row in r.rows:
            runs_s = ", ".join(f"{t:.2f}" for t in row.times_s)
            cpu = "— (server)" if row.cpu_s is None else f"{row.cpu_s:.3f}"
            lines.append(
                f"| {r.parcels:,} | {r.low:,} | {row.method} | {row.median_s:.3f} | {runs_s} | {cpu} | "
                f"{_mib(row.tracemalloc_mib)} | {_mib(row.rss_mib)} | {row.zones:,} | {row.agrees} |"
            )
    lines += [
        "",
        "Setup, not timed above:",
        "",
        "| parcels | generate the city s | load into PostGIS (COPY + GiST + ANALYZE) s |",
        "|---:|---:|---:|",
    ]
    lines += [f"| {r.parcels:,} | {r.generate_s:.1f} | {r.load_s:.1f} |" for r in results]
    notes = [n for r in results for n in r.notes]
    lines += [
        "",
        "### Why the buffer approach can differ",
        "",
        "Buffer-and-dissolve joins two parcels when their buffers of gap/2 overlap. A buffer's round corner is",
        "a polygon with 16 segments a quarter circle (geopandas' default; shapely's is 8): between two vertices",
        "its edge lies inside the circle, by gap/2 × (1 − cos(π/64)) ≈ 9 mm at a 15 m gap. Two parcels whose",
        "closest points are corners at a diagonal, up to ~18 mm less than the gap apart, are therefore left",
        "apart when their direction falls between vertices (at exactly 45° it falls on one, so a 14.9 m",
        "diagonal is joined). Straight edges are buffered exactly, so the buffers never join what is farther",
        "apart than the gap: the buffer approach can only miss joins. `detect_zones` and ST_ClusterDBSCAN both",
        "use the true minimum distance, `tests/zoning/test_consolidation.py` pins the 14.9 / 14.99 / 15.01 /",
        "15.1 m cases, and checks ST_ClusterDBSCAN against `detect_zones` on a grid in the real PostGIS.",
        "",
    ]
    lines += [f"- {n}" for n in notes] or ["- every method found the same zones at every size"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each ``--parcels`` size, print the table and write it to ``bench/README.md``."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_zones", description=__doc__.split("\n")[0])
    parser.add_argument("--parcels", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--policy", default="wenzhou-2020")
    parser.add_argument(
        "--readme", type=Path, default=README, help="where to write the table (default bench/README.md)"
    )
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    profile = get_profile(args.policy)
    min_mu = float(profile.value("consolidation.min_mu"))
    gap_m = float(profile.value("consolidation.gap_m"))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    info = machine()
    when = dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    counties = wenzhou_counties()
    results = [
        run_size(
            n,
            counties=counties,
            profile=profile,
            runs=args.runs,
            seed=args.seed,
            min_mu=min_mu,
            gap_m=gap_m,
            log=log,
        )
        for n in args.parcels
    ]
    command = "python -m bench.bench_zones " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(
        results,
        command=command,
        when=when,
        info=info,
        runs=args.runs,
        min_mu=min_mu,
        gap_m=gap_m,
        profile=profile,
    )
    print(text)
    if not args.no_readme:
        args.readme.write_text(text, encoding="utf-8")
        log(f"written to {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
