"""Loading into the store: boundaries, block lines, parcels, ratings. Each load is one transaction.

A load reads and checks the whole file first (``geo.io``), so that a file with problems writes nothing;
then it writes in one transaction, so that a failure half-way (a constraint, a lost connection) leaves the
database exactly as it was. Parcels are bulk-copied (``COPY``) into a staging table and moved with set-based
SQL, so 200,000 parcels load in seconds. Re-loading a parcel number closes its current version
(``valid_to``) and adds the new one: history is kept, never overwritten.

Each kind of load is its own module, re-exported here: ``geo.load_boundaries``, ``geo.load_lines`` (block
lines), ``geo.load_parcels`` (with ``geo.load_counties``), ``geo.load_attributes`` (a 台账 joined by number),
``geo.load_ratings``; what they share is ``geo.load_common``. The demo city follows below.

Examples
--------
>>> level_of_code("330302"), level_of_code("330300"), level_of_code("330000")
('county', 'city', 'province')
>>> parent_of_code("330302"), parent_of_code("330300")
('330300', '330000')
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.area import area_mu
from geo.auth import name_of
from geo.errors import InputError
from geo.fixes import fix
from geo.load_attributes import Attributes, load_parcel_attributes, prepare_attributes, write_attributes
from geo.load_boundaries import load_boundaries, write_boundaries
from geo.load_common import (
    LoadResult,
    Progress,
    _as_multi,
    _finish_load,
    _noop,
    level_of_code,
    parent_of_code,
    start_load,
)
from geo.load_lines import load_blocklines, write_blocklines
from geo.load_parcels import load_parcels, prepare_parcels, write_parcels
from geo.load_ratings import load_ratings, write_ratings
from geo.store import storage_srid, transaction

__all__ = [
    "Progress",
    "LoadResult",
    "level_of_code",
    "parent_of_code",
    "load_boundaries",
    "load_blocklines",
    "load_parcels",
    "load_parcel_attributes",
    "prepare_attributes",
    "write_attributes",
    "Attributes",
    "load_ratings",
    "prepare_parcels",
    "write_boundaries",
    "write_blocklines",
    "write_parcels",
    "write_ratings",
    "start_load",
    "load_demo",
    "BUNDLED_BOUNDARIES",
    "PROVINCE_BOUNDARIES",
    "DEMO_REGIONS",
]


# -- the demo city --------------------------------------------------------------------------------------
BUNDLED_BOUNDARIES = Path(__file__).resolve().parent.parent / "data" / "boundaries" / "boundaries.gpkg"
PROVINCE_BOUNDARIES = BUNDLED_BOUNDARIES.with_name("zhejiang.gpkg")

#: the demo's regions: which boundaries, and which of their counties get parks and parcels
DEMO_REGIONS: dict[str, tuple[Path, str]] = {
    "wenzhou": (
        BUNDLED_BOUNDARIES,
        "3303",
    ),  # 温州市's 12 county-level units (义乌's outline loaded, no parcels)
    "zhejiang": (PROVINCE_BOUNDARIES, "33"),  # 浙江省: 90 county-level units of 11 cities
}

#: counties whose demo contracts follow another profile than the default's (the profile's own terms)
DEMO_COUNTY_POLICIES = {"330782": "yiwu"}  # 义乌市: YW §5


def _demo_counties(areas: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """The counties that get parcels, with their city and each one's contract terms from its profile."""
    from zoning.policy import get_profile

    counties = areas[(areas["level"] == "county") & areas["code"].str.startswith(prefix)]
    counties = (
        counties[["code", "name", "parent_code", "city_name", "geometry"]]
        .rename(columns={"parent_code": "city_code"})
        .reset_index(drop=True)
    )
    for code, policy in DEMO_COUNTY_POLICIES.items():
        profile = get_profile(policy)
        at = counties["code"] == code
        counties.loc[at, "start_months"] = profile.value("construction.start_months")
        if profile.has("construction.completion_months_from_delivery"):
            counties.loc[at, "completion_months"] = profile.value(
                "construction.completion_months_from_delivery"
            )
        counties.loc[at, "major_lease_years"] = profile.value("lease.major_max_years")
    return counties


def load_demo(
    engine: Engine,
    *,
    user: str,
    n_parcels: int = 600,
    seed: int = 2020,
    city_prefix: str | None = None,
    region: str = "wenzhou",
    progress: Progress = _noop,
) -> LoadResult:
    """Build the demo city (real county boundaries, generated parks and parcels) and load it, in one transaction.

    The region's bundled boundaries (``DEMO_REGIONS``) are loaded first; the parcels, block lines and ratings
    of an earlier demo are closed (kept as history), so running it again is safe. ``region="zhejiang"`` is
    the province: 1,000,000 parcels over its 90 county-level units, generated and written one city at a time
    (memory stays that of the largest city), the map's squares counted once at the end. 义乌市's contracts
    follow the Yiwu profile's terms (``DEMO_COUNTY_POLICIES``); every other county the Wenzhou ones.
    ``city_prefix`` narrows the counties that get parcels (default: the region's).
    """
    from geo.demo import generate_region
    from geo.tiles import refresh_parcel_cells

    if region not in DEMO_REGIONS:
        raise InputError(
            f"没有示例区域“{region}”",
            f"no demo region '{region}'",
            fix_zh="可选：" + "、".join(DEMO_REGIONS),
            fix_en="one of: " + ", ".join(DEMO_REGIONS),
        )
    path, prefix = DEMO_REGIONS[region]
    with engine.connect() as conn:
        srid = storage_srid(conn)
    areas = gpd.read_file(path, layer="admin_areas", engine="pyogrio").to_crs(f"EPSG:{srid}")
    areas["geometry"] = _as_multi(areas.geometry)
    counties = _demo_counties(areas, city_prefix or prefix)
    result = LoadResult(
        "demo",
        f"demo seed={seed} parcels={n_parcels}" + ("" if region == "wenzhou" else f" region={region}"),
        0,
    )
    with transaction(engine) as conn:
        result.load_id = start_load(conn, kind="demo", source=result.file, user=user)
        user = name_of(user)  # the writes below record the name
        write_boundaries(
            conn, areas[["code", "name", "level", "parent_code", "geometry"]], load_id=result.load_id
        )
        result.closed = conn.execute(
            sa.text("""
            UPDATE parcels SET valid_to = now() WHERE valid_to IS NULL
            AND load_id IN (SELECT id FROM loads WHERE kind = 'demo')""")
        ).rowcount
        # into a store with no current parcel (or no rating), the cities' rows cannot replace any: skip looking
        fresh = {
            "parcels": not conn.execute(
                sa.text("SELECT EXISTS (SELECT 1 FROM parcels WHERE valid_to IS NULL)")
            ).scalar(),
            "ratings": not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM ratings)")).scalar(),
        }
        done = 0
        progress("生成/generating", 0, n_parcels)
        try:
            for city in _ahead(generate_region(counties, n_parcels=n_parcels, seed=seed)):
                _write_demo_city(conn, city, load_id=result.load_id, user=user, result=result, fresh=fresh)
                done += len(city.parcels)
                progress("生成/generating", done, n_parcels)
        except ValueError as exc:  # the counties cannot hold that many parcels: nothing is written
            raise InputError(
                f"示例区域“{region}”容纳不下 {n_parcels:,} 宗地",
                f"the demo region '{region}' cannot hold {n_parcels:,} parcels ({exc})",
                **fix("demo_parcels"),
            ) from None
        progress("地图汇总/map squares", 0, 1)
        refresh_parcel_cells(conn)  # the map's far-out squares, in the same transaction as the parcels
        progress("地图汇总/map squares", 1, 1)
        _finish_load(conn, result.load_id, result)
    return result


def _ahead(cities: Iterator[tuple[str, object]]) -> Iterator[object]:
    """The cities of ``cities``, the next one generated in a thread while the caller writes this one.

    The database works on one city's rows in its own process while Python makes the next city: on two
    cores the province loads in about the time of the slower of the two, not their sum. At most one city
    waits (memory: the city being written, the one waiting and the one being made).
    """
    import queue
    import threading

    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def make() -> None:
        try:
            for _, city in cities:
                while not stop.is_set():
                    try:
                        handoff.put(("city", city), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(("end", None))
        except BaseException as exc:  # handed to the caller, raised there
            handoff.put(("error", exc))

    worker = threading.Thread(target=make, name="demo-generator", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item
    finally:
        stop.set()
        worker.join()


def _write_demo_city(
    conn: Connection, city: object, *, load_id: int, user: str, result: LoadResult, fresh: dict[str, bool]
) -> None:
    """One generated city's block lines, parcels and ratings, inside the demo's transaction."""
    for level, lines in ((1, city.level1), (2, city.level2)):
        if len(lines):
            frame = lines.copy()
            frame["geometry"] = _as_multi(frame.geometry)
            write_blocklines(conn, frame, level=level, load_id=load_id, user=user, source="demo")
    parcels = city.parcels.copy()  # valid Polygons: written as MultiPolygons of one part (_hex_arrow)
    parcels["area_mu"] = area_mu(parcels).to_numpy()
    parcels["extra"] = "{}"
    inserted, updated, warnings = write_parcels(
        conn, parcels, load_id=load_id, user=user, cells=False, replace=not fresh["parcels"]
    )
    result.inserted += inserted
    result.updated += updated
    result.warnings.extend(warnings)
    write_ratings(conn, city.ratings, load_id=load_id, upsert=not fresh["ratings"])
