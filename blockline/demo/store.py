"""The demo city written to the store: ``load_demo``, the command ``blockline demo``.

The region's real county boundaries are loaded, then each generated city's block lines, parcels and ratings
through ``geo.load``'s writers, all in one transaction (a load of kind ``demo``). The province is generated
and written one city at a time, the next city made in a thread while the database takes this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from blockline.demo.city import DemoCity
from blockline.demo.region import generate_region
from geo.ahead import ahead
from geo.area import area_mu
from geo.auth import name_of
from geo.errors import InputError
from geo.fixes import fix
from geo.load import (
    LoadResult,
    Progress,
    start_load,
    write_blocklines,
    write_boundaries,
    write_ratings,
)
from geo.load_common import as_multi, finish_load
from geo.load_counties import AdminRows, admin_rows
from geo.load_parcels import ParcelRows, parcel_rows, write_parcel_rows
from geo.store import storage_srid, transaction
from geo.tiles_cells import clear_parcel_cells, refresh_mark_cells, refresh_parcel_cells
from zoning.policy import get_profile, governing_profiles

__all__ = ["BUNDLED_BOUNDARIES", "DEMO_POLICY", "DEMO_REGIONS", "PROVINCE_BOUNDARIES", "load_demo"]

BUNDLED_BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "boundaries.gpkg"
PROVINCE_BOUNDARIES = BUNDLED_BOUNDARIES.with_name("zhejiang.gpkg")

#: the demo's regions: which boundaries, and which of their counties get parks and parcels
DEMO_REGIONS: dict[str, tuple[Path, str]] = {
    "wenzhou": (
        BUNDLED_BOUNDARIES,
        "3303",
    ),  # 温州市's 12 county-level units (义乌's outline loaded, no parcels)
    "zhejiang": (PROVINCE_BOUNDARIES, "33"),  # 浙江省: 90 county-level units of 11 cities
}

#: the profile whose terms the demo's contracts follow (WZ §6); a county another city's text governs
#: (``zoning.policy.governing_profiles``: 义乌市, YW §5) gets that text's terms
DEMO_POLICY = "wenzhou-2020"


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _demo_counties(areas: gpd.GeoDataFrame, prefix: str) -> gpd.GeoDataFrame:
    """The counties that get parcels, with their city and each one's contract terms from its profile."""
    counties = areas[(areas["level"] == "county") & areas["code"].str.startswith(prefix)]
    counties = (
        counties[["code", "name", "parent_code", "city_name", "geometry"]]
        .rename(columns={"parent_code": "city_code"})
        .reset_index(drop=True)
    )
    for code, profile in governing_profiles(get_profile(DEMO_POLICY), counties["code"]).items():
        at = counties["code"] == code
        counties.loc[at, "start_months"] = profile.value("construction.start_months")
        if profile.has("construction.completion_months_from_delivery"):
            counties.loc[at, "completion_months"] = profile.value(
                "construction.completion_months_from_delivery"
            )
        counties.loc[at, "major_lease_years"] = profile.value("lease.major_max_years")
    return counties


def _region(region: str) -> tuple[Path, str]:
    """The region's boundaries file and county-code prefix, or an InputError naming the regions there are."""
    if region not in DEMO_REGIONS:
        raise InputError(
            f"没有示例区域“{region}”",
            f"no demo region '{region}'",
            fix_zh="可选：" + "、".join(DEMO_REGIONS),
            fix_en="one of: " + ", ".join(DEMO_REGIONS),
        )
    return DEMO_REGIONS[region]


def _close_and_look(conn: Connection) -> tuple[int, dict[str, bool]]:
    """Close an earlier demo's current parcels (kept as history); and whether parcels and ratings are empty."""
    closed = conn.execute(
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
    return closed, fresh


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
    (memory stays that of the largest city), the map's squares counted as each city's parcels go in. 义乌市's contracts
    follow the Yiwu profile's terms (``zoning.policy.governing_profiles``); every other county the Wenzhou ones
    (``DEMO_POLICY``).
    ``city_prefix`` narrows the counties that get parcels (default: the region's).
    """
    path, prefix = _region(region)
    with engine.connect() as conn:
        srid = storage_srid(conn)
    areas = gpd.read_file(path, layer="admin_areas", engine="pyogrio").to_crs(f"EPSG:{srid}")
    areas["geometry"] = as_multi(areas.geometry)
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
        result.closed, fresh = _close_and_look(conn)
        if fresh["parcels"]:  # each city's parcels are counted into the map's squares as they are inserted
            clear_parcel_cells(conn)
        done = 0
        progress("生成/generating", 0, n_parcels)
        made = _made(
            generate_region(counties, n_parcels=n_parcels, seed=seed),
            areas=admin_rows(conn),
            srid=srid,
            load_id=result.load_id,
            user=user,
            cells=fresh["parcels"],
        )
        try:
            for city, rows in ahead(made, name="demo-generator"):
                _write_demo_city(
                    conn, city, rows, load_id=result.load_id, user=user, result=result, fresh=fresh
                )
                done += rows.total
                progress("生成/generating", done, n_parcels)
        except ValueError as exc:  # the counties cannot hold that many parcels: nothing is written
            raise InputError(
                f"示例区域“{region}”容纳不下 {n_parcels:,} 宗地",
                f"the demo region '{region}' cannot hold {n_parcels:,} parcels ({exc})",
                **fix("demo_parcels"),
            ) from None
        progress("地图汇总/map squares", 0, 1)
        if fresh["parcels"]:
            refresh_mark_cells(conn, None)  # the stored marks' values, over the new parcels' cells
        else:  # the map's far-out squares, in the same transaction as the parcels
            refresh_parcel_cells(conn)
        progress("地图汇总/map squares", 1, 1)
        finish_load(conn, result.load_id, result)
    return result


def _made(
    cities: Iterator[tuple[str, DemoCity]],
    *,
    areas: AdminRows,
    srid: int,
    load_id: int,
    user: str,
    cells: bool,
) -> Iterator[tuple[DemoCity, ParcelRows]]:
    """Each generated city with its parcels made ready to write (``geo.load_parcels.parcel_rows``)."""
    for _, city in cities:
        parcels = city.parcels.copy()  # valid Polygons: written as MultiPolygons of one part (_hex_arrow)
        parcels["area_mu"] = area_mu(parcels).to_numpy()
        parcels["extra"] = "{}"
        yield (
            city,
            parcel_rows(
                parcels, areas=areas, srid=srid, load_id=load_id, user=user, cells=cells, render=True
            ),
        )


def _write_demo_city(
    conn: Connection,
    city: DemoCity,
    rows: ParcelRows,
    *,
    load_id: int,
    user: str,
    result: LoadResult,
    fresh: dict[str, bool],
) -> None:
    """One generated city's block lines, parcels (made ready: ``rows``) and ratings, in the demo's transaction."""
    for level, lines in ((1, city.level1), (2, city.level2)):
        if len(lines):
            frame = lines.copy()
            frame["geometry"] = as_multi(frame.geometry)
            write_blocklines(conn, frame, level=level, load_id=load_id, user=user, source="demo")
    inserted, updated, warnings = write_parcel_rows(
        conn, rows, cells="add" if fresh["parcels"] else "later", replace=not fresh["parcels"]
    )
    result.inserted += inserted
    result.updated += updated
    result.warnings.extend(warnings)
    write_ratings(conn, city.ratings, load_id=load_id, upsert=not fresh["ratings"])
