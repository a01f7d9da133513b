"""A deterministic synthetic industrial city inside real county boundaries: "the demo city".

``generate_city`` lays out industrial parks (园区) inside the given counties, cuts each park into street
blocks separated by roads of two width classes (10–14 m and 20–40 m, so that a 15 m gap tolerance joins
some neighbouring parcels and not others), subdivides the blocks into parcels (宗地) of 5–150 亩, and gives
every parcel the canonical attributes of ``CLI.md``: right holder with a 统一社会信用代码, land-use code,
supply-contract dates and commitments, and yearly performance. It also draws 工业区块线 level-1 and level-2
lines around the parks and yearly 亩均论英雄 ratings for the enterprises.

The generator knows nothing of policy rules. It only makes sure that, relative to ``as_of``, the data holds
every situation a policy engine looks for: idle land, late starts and completions, land built but not in
production, production below the contract, under-used land, clusters of low-efficiency parcels across
narrow roads in the older parks, a few parcels with missing dates, and a healthy majority (about 60 %).

Everything is vectorised with numpy and shapely 2; the only Python loops run over counties and parks. The
steps, each a module of this package, draw from one random generator in a fixed order, so that the same
seed gives the same city byte for byte: :mod:`~blockline.demo.layout` (parks and streets),
:mod:`~blockline.demo.ground`, :mod:`~blockline.demo.parks`, :mod:`~blockline.demo.contracts`,
:mod:`~blockline.demo.people` (holders), :mod:`~blockline.demo.situations`,
:mod:`~blockline.demo.performance`, :mod:`~blockline.demo.register` and :mod:`~blockline.demo.ratings`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> counties = gpd.GeoDataFrame(
...     {"code": ["330302", "330304"], "name": ["鹿城区", "瓯海区"]},
...     geometry=[box(500_000, 3_100_000, 520_000, 3_120_000), box(520_000, 3_100_000, 540_000, 3_120_000)],
...     crs="EPSG:4549",
... )
>>> city = generate_city(counties, n_parcels=200, seed=7)
>>> len(city.parcels), city.parcels.crs == counties.crs
(200, True)
>>> sorted(city.parcels["county_code"].unique())
['330302', '330304']
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from blockline.demo._arrays import BoolArray
from blockline.demo.contracts import Contracts, Supply, contract_terms, draw_contracts, supply_dates
from blockline.demo.ground import Ground, lay_out
from blockline.demo.layout import place_parks, seats
from blockline.demo.parks import ParkPlan, park_frames, plan_parks
from blockline.demo.people import Holders, assign_holders
from blockline.demo.performance import perform
from blockline.demo.ratings import ratings
from blockline.demo.register import parcel_frame
from blockline.demo.situations import BELOW_TARGET, draw_situations, what_happened
from geo.area import assert_projected

__all__ = ["DemoCity", "check_counties", "check_n_parcels", "generate_city"]


@dataclass(frozen=True)
class DemoCity:
    """The demo city: parcels, block lines, parks and enterprise ratings, all in the counties' CRS.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame
        One row per parcel (宗地) with the canonical parcel fields of ``CLI.md`` and a Polygon geometry.
        Dates are ``datetime.date`` or ``None`` (not happened, or not recorded); money in 万元, intensities
        in 万元/亩, areas in m².
    level1 : geopandas.GeoDataFrame
        工业区块线一级线, one row per park under level 1: ``county_code``, ``name``, geometry.
    level2 : geopandas.GeoDataFrame
        工业区块线二级线: the parks kept at level 2 and rings of industrial land around some level-1
        parks; same columns. Level 1 and level 2 never overlap.
    parks : geopandas.GeoDataFrame
        Industrial parks (园区): ``park_id``, ``name``, ``county_code``, geometry (the rectangle that holds
        the park's blocks and inner roads).
    ratings : pandas.DataFrame
        亩均论英雄 grades: ``holder_id``, ``year`` (int), ``grade`` (``"A"``–``"D"``), for the last three
        years before ``as_of``, for the enterprises in production in that year.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> county = gpd.GeoDataFrame({"code": ["330303"], "name": ["龙湾区"]},
    ...                           geometry=[box(0, 0, 15_000, 15_000)], crs="EPSG:4549")
    >>> city = generate_city(county, n_parcels=100)
    >>> list(city.ratings.columns)
    ['holder_id', 'year', 'grade']
    """

    parcels: gpd.GeoDataFrame
    level1: gpd.GeoDataFrame
    level2: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    ratings: pd.DataFrame


def check_counties(counties: gpd.GeoDataFrame) -> None:
    """Refuse counties the demo cannot use (ValueError): no projected CRS, codes not 6 digits, no geometry."""
    if not isinstance(counties, gpd.GeoDataFrame):
        raise ValueError("counties must be a GeoDataFrame with columns code, name and a geometry")
    assert_projected(counties, what="counties")
    missing = [c for c in ("code", "name") if c not in counties.columns]
    if missing:
        raise ValueError(f"counties lacks the column(s) {', '.join(missing)}")
    if len(counties) == 0:
        raise ValueError("counties is empty")
    codes = counties["code"].astype(str)
    bad = ~codes.str.fullmatch(r"\d{6}")
    if bad.any():
        raise ValueError(f"county codes must be 6 digits; rows {list(counties.index[bad])[:10]} are not")
    if codes.duplicated().any():
        raise ValueError(f"county codes repeat: {sorted(set(codes[codes.duplicated()]))}")
    geoms = counties.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise ValueError(f"counties rows {list(counties.index[empty])[:10]} have no geometry")
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, (3, 6)).all():  # Polygon, MultiPolygon
        raise ValueError("county geometries must be Polygons or MultiPolygons")


def check_n_parcels(n_parcels: object) -> int:
    """``n_parcels`` as an int, or a ValueError when it is not a positive integer."""
    if isinstance(n_parcels, bool) or not isinstance(n_parcels, (int, np.integer)) or n_parcels < 1:
        raise ValueError(f"n_parcels must be a positive integer, not {n_parcels!r}")
    return int(n_parcels)


def _check_as_of(as_of: object) -> datetime.date:
    if not isinstance(as_of, datetime.date):
        raise ValueError(f"as_of must be a datetime.date, not {as_of!r}")
    if isinstance(as_of, datetime.datetime):
        return as_of.date()
    return as_of


@dataclass(frozen=True)
class _Land:
    """The city before anything happens on it: parcels on the ground, parks, holders and contracts."""

    ground: Ground
    plan: ParkPlan
    supply: Supply
    holders: Holders
    new_era: BoolArray  # by parcel: in a new park
    contracts: Contracts


def _draw_land(
    rng: np.random.Generator, counties: gpd.GeoDataFrame, *, n_parcels: int, as_of: datetime.date
) -> _Land:
    """Parks and parcels in the counties, the parks' eras and names, the supply dates, holders and contracts."""
    codes = counties["code"].astype(str).to_numpy()
    names = counties["name"].astype(str).to_numpy()
    geometries = [shapely.make_valid(g) if not g.is_valid else g for g in counties.geometry.to_numpy()]
    ground = lay_out(place_parks(rng, geometries, n_parcels, seats(codes, counties.crs)))
    plan = plan_parks(rng, ground, codes=codes, names=names)
    supply = supply_dates(rng, ground, old_park=plan.old, as_of=as_of)
    holders = assign_holders(rng, block=ground.block, county_of=ground.county_of, counties=counties)
    new_era = ~plan.old[ground.park_of]
    contracts = draw_contracts(
        rng,
        area_mu=ground.area_mu,
        county_of=ground.county_of,
        new_era=new_era,
        industrial=holders.industrial,
        category=holders.category,
        delivered=supply.delivered,
        terms=contract_terms(counties),
    )
    return _Land(
        ground=ground, plan=plan, supply=supply, holders=holders, new_era=new_era, contracts=contracts
    )


def _live(
    rng: np.random.Generator, land: _Land, counties: gpd.GeoDataFrame, *, as_of: datetime.date
) -> DemoCity:
    """What happened on the land by ``as_of``: the situations, dates, performance and ratings, as frames."""
    ground, holders, contracts, industrial = (
        land.ground,
        land.holders,
        land.contracts,
        land.holders.industrial,
    )
    s = draw_situations(
        rng,
        ground,
        contracts,
        old_park=land.plan.old,
        new_era=land.new_era,
        industrial=industrial,
        as_of=as_of,
    )
    events = what_happened(
        rng,
        contracts,
        situation=s.situation,
        delivered=land.supply.delivered,
        industrial=industrial,
        as_of=as_of,
    )
    performance = perform(
        rng,
        s,
        contracts,
        events=events,
        industrial=industrial,
        area_m2=ground.area_m2,
        area_mu=ground.area_mu,
        as_of=as_of,
    )
    codes = counties["code"].astype(str).to_numpy()
    parcels = parcel_frame(
        rng,
        ground,
        holders=holders,
        supply=land.supply,
        contracts=contracts,
        events=events,
        performance=performance,
        codes=codes,
        crs=counties.crs,
    )
    frames = park_frames(ground, land.plan, codes=codes, crs=counties.crs)
    grades = ratings(
        rng,
        year=as_of.year,
        holder_of=holders.holder_of,
        n_holders=holders.n_holders,
        holder_ids=holders.ids,
        holder_industrial=holders.holder_category <= 3,
        situation=s.situation,
        cluster=s.cluster,
        severe=performance.severe & (s.situation == BELOW_TARGET),
        operating=events.operating,
    )
    return DemoCity(
        parcels=parcels, level1=frames.level1, level2=frames.level2, parks=frames.parks, ratings=grades
    )


def generate_city(
    counties: gpd.GeoDataFrame,
    *,
    n_parcels: int = 600,
    seed: int = 2020,
    as_of: datetime.date = datetime.date(2026, 11, 1),
) -> DemoCity:
    """Generate a believable synthetic industrial city inside ``counties``.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        The counties (县、市、区): columns ``code`` (6-digit 行政区划代码) and ``name``, Polygon or
        MultiPolygon geometries, in a projected CRS in metres (e.g. EPSG:4549 for Wenzhou).
    n_parcels : int, default 600
        How many parcels to make (100 to 200,000 are the tested range); the result holds exactly this many.
    seed : int, default 2020
        Random seed: the same seed, counties and options give identical frames.
    as_of : datetime.date, default 2026-11-01
        The day the data describes: no actual date lies after it, and the supply years, deadlines and
        ratings are placed relative to it (older parks 21–11 years before, newer ones the last 8 years).

    Returns
    -------
    DemoCity
        Parcels, level-1 and level-2 block lines, parks and ratings, in the CRS of ``counties``.

    Raises
    ------
    ValueError
        When ``counties`` has no CRS or a geographic one, lacks ``code``/``name``, or is too small to hold
        ``n_parcels`` parcels; when ``n_parcels`` is below 1.

    Examples
    --------
    >>> import datetime
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> county = gpd.GeoDataFrame({"code": ["330304"], "name": ["瓯海区"]},
    ...                           geometry=[box(500_000, 3_100_000, 520_000, 3_120_000)], crs="EPSG:4549")
    >>> city = generate_city(county, n_parcels=150, seed=1, as_of=datetime.date(2026, 11, 1))
    >>> len(city.parcels)
    150
    >>> bool(city.parcels.within(county.geometry.iloc[0]).all())
    True
    >>> city.parcels[["parcel_no", "holder_id"]].map(len).max().tolist()
    [16, 18]
    """
    check_counties(counties)
    n_parcels = check_n_parcels(n_parcels)
    as_of = _check_as_of(as_of)
    rng = np.random.default_rng(seed)
    land = _draw_land(rng, counties, n_parcels=n_parcels, as_of=as_of)
    return _live(rng, land, counties, as_of=as_of)
